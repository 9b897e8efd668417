"""The recording state machine as an SVG diagram, each transition coloured by what the run saw.

A transition is (from state, operation, to state), as the `transition` evidence names it. The
diagram draws the moves a recording can make (`MOVES`) and any other move the evidence shows;
a move is grey when no test exercised it, green when every time it was seen its test passed,
red when one of them failed. Moves that stay in their state are chips beside the state.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from callrec.report._records import Transition
from callrec.report._svg import (
    GREEN,
    GREEN_SOFT,
    GREY,
    GREY_SOFT,
    INK,
    MUTED,
    PAPER,
    RED,
    RED_SOFT,
    document,
    el,
    num,
    text_width,
)
from callrec.report._text import plural

WIDTH: Final = 1080
BOX_W, BOX_H = 112, 40
CHIP_H: Final = 18

# state -> (x, y, where its self-moves go: -1 above, +1 below)
STATES: Final[dict[str, tuple[float, float, int]]] = {
    "none": (110, 130, 1),
    "starting": (370, 130, 1),
    "active": (650, 130, -1),
    "paused": (950, 130, 1),
    "stopped": (650, 300, 1),
}
# the moves a recording can make: (from, operation, to)
MOVES: Final = (
    ("none", "start", "starting"),
    ("starting", "activate", "active"),
    ("starting", "pause", "paused"),
    ("starting", "stop", "stopped"),
    ("active", "pause", "paused"),
    ("paused", "resume", "active"),
    ("active", "stop", "stopped"),
    ("active", "call-end", "stopped"),
    ("paused", "stop", "stopped"),
    ("paused", "call-end", "stopped"),
    ("active", "resume", "active"),
    ("paused", "pause", "paused"),
    ("stopped", "get", "stopped"),
    ("stopped", "pause", "stopped"),
    ("stopped", "resume", "stopped"),
    ("stopped", "stop", "stopped"),
)
# how far the middle of an edge bows from the straight line (px, to its left), for room
BENDS: Final = {("starting", "paused"): 92.0}
REVERSE_BEND: Final = 22.0  # an edge whose reverse is drawn too bows away from it
COLOURS: Final = {
    "passed": (GREEN, GREEN_SOFT),
    "failed": (RED, RED_SOFT),
    "unseen": (GREY, GREY_SOFT),
}


# operation names as evidence may spell them -> the verb the diagram shows
ALIASES: Final = {
    "startrecording": "start",
    "getrecording": "get",
    "getrecordingproperties": "get",
    "pauserecording": "pause",
    "resumerecording": "resume",
    "stoprecording": "stop",
    "activation": "activate",
    "callend": "call-end",
    "callended": "call-end",
    "endcall": "call-end",
    "call_end": "call-end",
}


def verb(operation: str) -> str:
    """The diagram's name of an operation (``GetRecordingProperties`` and ``get`` are one)."""
    return ALIASES.get(operation.lower(), operation.lower())


@dataclass(frozen=True, slots=True)
class Seen:
    """How often a move was seen and how often its test failed."""

    times: int = 0
    failed: int = 0

    @property
    def outcome(self) -> str:
        if not self.times:
            return "unseen"
        return "failed" if self.failed else "passed"


def state_machine(transitions: Iterable[Transition]) -> str:
    """The diagram, for every transition of the run (an empty run draws it all grey)."""
    times: Counter[tuple[str, str, str]] = Counter()
    failed: Counter[tuple[str, str, str]] = Counter()
    for move in transitions:
        key = (move.before, verb(move.operation), move.after)
        times[key] += 1
        failed[key] += not move.ok
    moves = list(dict.fromkeys([*MOVES, *sorted(times)]))
    seen = {move: Seen(times[move], failed[move]) for move in moves}
    places = _places({state for move in moves for state in (move[0], move[2])})
    height = max(y for _, y, _ in places.values()) + 95
    body = [_markers()]
    pairs: dict[tuple[str, str], list[str]] = {}
    for before, operation, after in moves:
        pairs.setdefault((before, after), []).append(operation)
    chips: list[str] = []
    for (before, after), operations in pairs.items():
        outcomes = [seen[(before, op, after)] for op in operations]
        if before == after:
            chips += _self_moves(places[before], before, operations, outcomes)
        else:
            bend = BENDS.get((before, after), REVERSE_BEND if (after, before) in pairs else 0.0)
            moves_seen = list(zip(operations, outcomes, strict=True))
            body.append(
                _edge(f"{before} → {after}", places[before], places[after], moves_seen, bend)
            )
    body += [_state(name, place) for name, place in places.items()]
    body += chips
    body.append(_legend(height - 22))
    label = "Recording state machine: transitions exercised by this run"
    return document(WIDTH, height, label, body)


def _places(states: set[str]) -> dict[str, tuple[float, float, int]]:
    """Known states where `STATES` puts them; any other on a row below."""
    places = dict(STATES)
    others = sorted(states - set(STATES))
    for index, name in enumerate(others):
        places[name] = (90 + (index % 6) * 180, 400 + (index // 6) * 90, 1)
    return places


def _markers() -> str:
    heads = [
        el(
            "marker",
            {
                "id": f"sm-head-{outcome}",
                "viewBox": "0 0 10 10",
                "refX": "9",
                "refY": "5",
                "markerWidth": "7",
                "markerHeight": "7",
                "orient": "auto-start-reverse",
            },
            children=[el("path", {"d": "M0,0 L10,5 L0,10 z", "fill": colour})],
        )
        for outcome, (colour, _) in COLOURS.items()
    ]
    return el("defs", {}, children=heads)


def _state(name: str, place: tuple[float, float, int]) -> str:
    x, y, _ = place
    box = {
        "x": x - BOX_W / 2,
        "y": y - BOX_H / 2,
        "width": float(BOX_W),
        "height": float(BOX_H),
        "rx": "9",
        "fill": PAPER,
        "stroke": INK,
        "stroke-width": "1.4",
    }
    shapes = [el("rect", box)]
    if name == "none":  # the initial pseudo-state
        shapes = [el("rect", {**box, "stroke": MUTED, "stroke-dasharray": "4 3"})]
    if name == "stopped":  # terminal: a double border
        inner = {**box, "x": x - BOX_W / 2 + 3.5, "y": y - BOX_H / 2 + 3.5}
        shapes.append(el("rect", {**inner, "width": BOX_W - 7.0, "height": BOX_H - 7.0, "rx": "6"}))
    label = {"x": float(x), "y": y + 4.5, "text-anchor": "middle", "font-size": "13"}
    shapes.append(el("text", {**label, "font-weight": "600"}, name))
    return el("g", {"class": "state"}, children=shapes)


def _border(cx: float, cy: float, dx: float, dy: float) -> tuple[float, float]:
    """Where a ray from a box's centre along (dx, dy) leaves the box."""
    scale = min(
        (BOX_W / 2 + 3) / abs(dx) if dx else math.inf,
        (BOX_H / 2 + 3) / abs(dy) if dy else math.inf,
    )
    return cx + dx * scale, cy + dy * scale


def _edge(
    name: str,
    start: tuple[float, float, int],
    end: tuple[float, float, int],
    moves: list[tuple[str, Seen]],
    bend: float,
) -> str:
    """The arrow between two states, bowed ``bend`` px to its left, a chip per operation."""
    (x1, y1, _), (x2, y2, _) = start, end
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    normal = ((y2 - y1) / length, -(x2 - x1) / length)  # to the left of the direction
    cx = (x1 + x2) / 2 + normal[0] * bend * 2
    cy = (y1 + y2) / 2 + normal[1] * bend * 2
    sx, sy = _border(x1, y1, cx - x1 if bend else x2 - x1, cy - y1 if bend else y2 - y1)
    ex, ey = _border(x2, y2, cx - x2 if bend else x1 - x2, cy - y2 if bend else y1 - y2)
    outcome = _overall([seen for _, seen in moves])
    colour = COLOURS[outcome][0]
    path = {
        "d": f"M{num(sx)},{num(sy)} Q{num(cx)},{num(cy)} {num(ex)},{num(ey)}",
        "fill": "none",
        "stroke": colour,
        "stroke-width": "2" if outcome != "unseen" else "1.4",
        "marker-end": f"url(#sm-head-{outcome})",
    }
    if outcome == "unseen":
        path["stroke-dasharray"] = "5 4"
    mx, my = 0.25 * sx + 0.5 * cx + 0.25 * ex, 0.25 * sy + 0.5 * cy + 0.25 * ey
    first = my - (len(moves) - 1) * (CHIP_H + 3) / 2
    chips = [
        _chip(mx, first + index * (CHIP_H + 3), op, seen, move=name)
        for index, (op, seen) in enumerate(moves)
    ]
    return el("g", {"class": f"edge {outcome}"}, children=[el("path", path), *chips])


def _self_moves(
    place: tuple[float, float, int], state: str, operations: list[str], outcomes: list[Seen]
) -> list[str]:
    x, y, side = place
    labels = [f"↻ {op}" for op in operations]
    widths = [
        _chip_width(_chip_text(label, seen)) for label, seen in zip(labels, outcomes, strict=True)
    ]
    total = sum(widths) + 4 * (len(widths) - 1)
    left = x - total / 2
    row_y = y + side * (BOX_H / 2 + 6 + CHIP_H / 2)
    chips = []
    for op, label, width, seen in zip(operations, labels, widths, outcomes, strict=True):
        chips.append(
            _chip(left + width / 2, row_y, op, seen, move=f"{state} → {state}", label=label)
        )
        left += width + 4
    return chips


def _chip_text(label: str, seen: Seen) -> str:
    return f"{label} \N{MULTIPLICATION SIGN}{seen.times}" if seen.times else label


def _chip_width(label: str) -> float:
    return text_width(label) + 14


def _chip(
    x: float, y: float, operation: str, seen: Seen, *, move: str, label: str | None = None
) -> str:
    shown = _chip_text(label or operation, seen)
    width = _chip_width(shown)
    stroke, fill = COLOURS[seen.outcome]
    if seen.outcome == "unseen":
        tip = f"{move} by {operation}: not exercised in this run"
    else:
        tip = f"{move} by {operation}: seen {plural(seen.times, 'time')}, "
        tip += f"{seen.failed} in failing tests"
    return el(
        "g",
        {"class": f"move {seen.outcome}"},
        tip=tip,
        children=[
            el(
                "rect",
                {
                    "x": x - width / 2,
                    "y": y - CHIP_H / 2,
                    "width": width,
                    "height": float(CHIP_H),
                    "rx": "9",
                    "fill": fill,
                    "stroke": stroke,
                },
            ),
            el(
                "text",
                {"x": x, "y": y + 4.0, "text-anchor": "middle", "fill": INK},
                shown,
            ),
        ],
    )


def _overall(outcomes: list[Seen]) -> str:
    if any(seen.failed for seen in outcomes):
        return "failed"
    return "passed" if any(seen.times for seen in outcomes) else "unseen"


def _legend(y: float) -> str:
    items = (
        ("passed", "exercised, every test passed"),
        ("failed", "exercised, a test failed"),
        ("unseen", "not exercised"),
    )
    parts = []
    x = 20.0
    for outcome, text in items:
        stroke, fill = COLOURS[outcome]
        parts.append(
            el(
                "rect",
                {
                    "x": x,
                    "y": y - 6,
                    "width": 22.0,
                    "height": 12.0,
                    "rx": "6",
                    "fill": fill,
                    "stroke": stroke,
                },
            )
        )
        parts.append(el("text", {"x": x + 28, "y": y + 4.0, "fill": MUTED}, text))
        x += 40 + text_width(text)
    return el("g", {"class": "legend"}, children=parts)
