"""Pictures of a run's evidence as SVG: latency per operation, audio energy per channel,
delivery timelines. Each returns None when the run holds no evidence of its kind."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from callrec.report._records import Audio, Delivery, Exchange
from callrec.report._svg import (
    BLUE,
    BLUE_SOFT,
    GRID,
    INK,
    MUTED,
    RED,
    TEAL,
    Scale,
    document,
    el,
    mix,
    num,
)
from callrec.report._text import middle, milliseconds, one_line, plural

WIDTH: Final = 1080
DOTS_PER_ROW: Final = 300  # latencies drawn as dots per operation (the box uses them all)
MARKS_PER_LANE: Final = 2000  # deliveries drawn per lane (the count is exact)
HEAT_CELLS: Final = 240  # energy windows drawn per channel (longer audio is averaged)
PERCENTILES: Final = (50, 90, 99)


def percentile(ordered: Sequence[float], p: float) -> float:
    """The p-th percentile of sorted values, interpolated between the closest ranks."""
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# ----------------------------------------------------------------------------- latency


def latency(exchanges: Sequence[Exchange]) -> str | None:
    """Per operation: a strip of latencies, the interquartile box, p50/p90/p99 marks."""
    grouped: dict[str, list[float]] = {}
    for exchange in exchanges:
        name = exchange.operation or f"other {exchange.method}"
        grouped.setdefault(name, []).append(max(exchange.latency_ms, 0.0))
    if not grouped:
        return None
    rows = sorted((name, sorted(values)) for name, values in grouped.items())
    everything = [v for _, values in rows for v in values]
    low, high = min(everything), max(everything)
    label_w, stats_w, row_h, top = 190.0, 230.0, 34.0, 30.0
    log = low > 0 and high / low > 30
    if log:
        scale = Scale(10 ** math.floor(math.log10(low)), high, label_w, WIDTH - stats_w, log=True)
    else:
        scale = Scale(0.0, max(high * 1.05, 1.0), label_w, WIDTH - stats_w)
    bottom = top + row_h * len(rows)
    body = _axis(scale, top, bottom, milliseconds)
    for index, (name, values) in enumerate(rows):
        body.append(_latency_row(name, values, scale, top + row_h * index + row_h / 2))
    caption = "latency, log scale" if log else "latency"
    body.append(
        el("text", {"x": WIDTH - stats_w + 12, "y": top - 12, "fill": MUTED}, "p50 · p90 · p99")
    )
    body.append(el("text", {"x": label_w, "y": top - 12, "fill": MUTED}, caption))
    label = f"Latency per operation over {plural(len(everything), 'HTTP exchange')}"
    return document(WIDTH, bottom + 28, label, body)


def _latency_row(name: str, values: list[float], scale: Scale, y: float) -> str:
    p25, p50, p75 = (percentile(values, p) for p in (25, 50, 75))
    marks = {p: percentile(values, p) for p in PERCENTILES}
    step = max(1, math.ceil(len(values) / DOTS_PER_ROW))
    dots = [
        el(
            "circle",
            {"cx": scale(value), "cy": y + ((i * 0.6180339887) % 1 - 0.5) * 16, "r": "1.8"},
        )
        for i, value in enumerate(values[::step])
    ]
    parts = [
        el("text", {"x": 12.0, "y": y + 4}, one_line(name, 26)),
        el("text", {"x": 12.0, "y": y + 16, "fill": MUTED, "font-size": "9"}, f"n = {len(values)}"),
        el(
            "line",
            {"x1": scale(values[0]), "x2": scale(values[-1]), "y1": y, "y2": y, "stroke": GRID},
        ),
        el("g", {"fill": BLUE, "fill-opacity": "0.35"}, children=dots),
        el(
            "rect",
            {
                "x": scale(p25),
                "y": y - 8,
                "width": max(scale(p75) - scale(p25), 1.5),
                "height": 16.0,
                "fill": BLUE_SOFT,
                "fill-opacity": "0.6",
                "stroke": BLUE,
            },
            tip=f"{name}: interquartile {milliseconds(p25)} to {milliseconds(p75)}",
        ),
        el(
            "line",
            {
                "x1": scale(p50),
                "x2": scale(p50),
                "y1": y - 10,
                "y2": y + 10,
                "stroke": INK,
                "stroke-width": "2.5",
            },
        ),
    ]
    for p in PERCENTILES[1:]:
        x = scale(marks[p])
        parts.append(
            el(
                "path",
                {
                    "d": f"M{num(x - 4)},{num(y - 13)} L{num(x + 4)},{num(y - 13)} "
                    f"L{num(x)},{num(y - 7)} z",
                    "fill": INK if p == 90 else RED,
                },
                tip=f"{name}: p{p} {milliseconds(marks[p])}",
            )
        )
    stats = " · ".join(milliseconds(marks[p]) for p in PERCENTILES)
    x_stats = scale.right + 12
    parts.append(
        el("text", {"x": x_stats, "y": y + 4, "font-variant-numeric": "tabular-nums"}, stats)
    )
    return el("g", {"class": "operation"}, tip=f"{name}: p50 {milliseconds(p50)}", children=parts)


def _axis(
    scale: Scale,
    top: float,
    bottom: float,
    format_tick: Callable[[float], str],
    ticks: Sequence[float] | None = None,
) -> list[str]:
    parts = []
    for tick in scale.ticks() if ticks is None else ticks:
        x = scale(tick)
        parts.append(el("line", {"x1": x, "x2": x, "y1": top, "y2": bottom, "stroke": GRID}))
        parts.append(
            el(
                "text",
                {
                    "x": x,
                    "y": bottom + 14,
                    "text-anchor": "middle",
                    "fill": MUTED,
                    "font-size": "10",
                },
                format_tick(tick),
            )
        )
    return parts


# ----------------------------------------------------------------------------- audio


def audio(found: Audio, title: str) -> str:
    """One recording's channels as heat strips: darker is louder (relative to its loudest)."""
    label_w, strip_h, top = 230.0, 22.0, 34.0
    channels = found.channels
    longest = max((len(channel.energy) for channel in channels), default=0)
    seconds = longest * found.window_ms / 1000
    scale = Scale(0.0, max(seconds, 1e-3), label_w, WIDTH - 20)
    loudest = max((max(channel.energy, default=0.0) for channel in channels), default=0.0)
    bottom = top + (strip_h + 6) * len(channels)
    mixing = "unmixed, " if len(channels) > 1 else ""
    body = [
        el("text", {"x": 12.0, "y": 18.0, "font-weight": "600"}, one_line(title, 110)),
        el(
            "text",
            {"x": WIDTH - 20.0, "y": 18.0, "text-anchor": "end", "fill": MUTED},
            f"{mixing}{plural(len(channels), 'channel')}, {found.window_ms:g} ms windows",
        ),
        *_axis(scale, top - 4, bottom, lambda s: f"{s:g} s"),
    ]
    for index, channel in enumerate(channels):
        y = top + (strip_h + 6) * index
        name = channel.participant or f"channel {index + 1}"
        body.append(
            el("text", {"x": 12.0, "y": y + 15}, f"{index + 1}  {middle(name, 30)}", tip=name)
        )
        body.append(
            _heat(channel.energy, loudest, scale, y=y, h=strip_h, window_ms=found.window_ms)
        )
    return document(WIDTH, bottom + 28, f"Audio energy per channel: {one_line(title, 200)}", body)


def _heat(
    energy: tuple[float, ...], loudest: float, scale: Scale, *, y: float, h: float, window_ms: float
) -> str:
    per_cell = max(1, math.ceil(len(energy) / HEAT_CELLS))
    cells = [
        el(
            "rect",
            {
                "x": scale.left,
                "y": y,
                "width": scale.right - scale.left,
                "height": h,
                "fill": "#f5f7fa",
            },
        )
    ]
    for start in range(0, len(energy), per_cell):
        chunk = energy[start : start + per_cell]
        level = sum(chunk) / len(chunk) / loudest if loudest else 0.0
        if level <= 0.05:
            continue
        x0 = scale(start * window_ms / 1000)
        x1 = scale((start + len(chunk)) * window_ms / 1000)
        cells.append(
            el(
                "rect",
                {
                    "x": x0,
                    "y": y,
                    "width": max(x1 - x0, 0.5) + 0.3,
                    "height": h,
                    "fill": mix("#eef3f9", "#1f4e79", level**0.6),
                },
            )
        )
    return el("g", {"class": "channel"}, children=cells)


# ----------------------------------------------------------------------------- deliveries


@dataclass(frozen=True, slots=True)
class Mark:
    delivery: Delivery
    failing: bool  # its test failed or did not observe what it waited for


def deliveries(marks: Sequence[Mark], start: float | None) -> str | None:
    """One lane per source and event type, a tick per delivery at its time in the run."""
    timed = [mark for mark in marks if mark.delivery.at is not None]
    if not timed:
        return None
    times = [mark.delivery.at or 0.0 for mark in timed]
    origin = min(times) if start is None else min(start, *times)
    lanes: dict[tuple[str, str], list[Mark]] = {}
    for mark in sorted(timed, key=lambda m: (m.delivery.source, m.delivery.event_type)):
        lanes.setdefault((mark.delivery.source, mark.delivery.event_type), []).append(mark)
    label_w, lane_h, top = 430.0, 26.0, 20.0
    span = max(max(times) - origin, 1.0)
    scale = Scale(0.0, span * 1.02, label_w, WIDTH - 20)
    bottom = top + lane_h * len(lanes)
    body = _axis(scale, top, bottom, clock(span), time_ticks(span * 1.02))
    for index, ((source, event_type), members) in enumerate(lanes.items()):
        y = top + lane_h * index
        colour = TEAL if source == "eventgrid" else BLUE
        label = middle(event_type, 54)
        body.append(
            el(
                "rect",
                {
                    "x": 12.0,
                    "y": y + 6,
                    "width": 62.0,
                    "height": 14.0,
                    "rx": "7",
                    "fill": colour,
                    "fill-opacity": "0.14",
                },
            )
        )
        body.append(
            el(
                "text",
                {
                    "x": 43.0,
                    "y": y + 16.5,
                    "text-anchor": "middle",
                    "fill": colour,
                    "font-size": "9.5",
                },
                source,
            )
        )
        failing = sum(mark.failing for mark in members)
        note = f" ({failing} in failing tests)" if failing else ""
        body.append(
            el(
                "text",
                {"x": 82.0, "y": y + 17},
                label,
                tip=f"{source} {event_type}: {plural(len(members), 'delivery', 'deliveries')}"
                + note,
            )
        )
        step = max(1, math.ceil(len(members) / MARKS_PER_LANE))
        ticks = [
            el(
                "rect",
                {
                    "x": scale((mark.delivery.at or origin) - origin) - 1,
                    "y": y + 5,
                    "width": 2.0,
                    "height": 16.0,
                    "fill": RED if mark.failing else colour,
                },
            )
            for mark in members[::step]
        ]
        body.append(el("g", {"class": "lane", "fill-opacity": "0.8"}, children=ticks))
    body.append(
        el(
            "text",
            {"x": label_w, "y": bottom + 28, "fill": MUTED, "font-size": "10"},
            "time since the run started · red: delivery seen by a failing test",
        )
    )
    label = f"Deliveries over time: {plural(len(timed), 'delivery', 'deliveries')}"
    return document(WIDTH, bottom + 38, label, body)


TIME_STEPS: Final = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)


def time_ticks(span: float, count: int = 6) -> list[float]:
    """Ticks at whole seconds, minutes or hours, about ``count`` of them over [0, span]."""
    step = next((s for s in TIME_STEPS if span / s <= count), TIME_STEPS[-1])
    return [float(step * i) for i in range(int(span // step) + 1)]


def clock(span: float) -> Callable[[float], str]:
    """Tick labels in one unit for the whole axis: seconds, minutes or hours."""
    unit, name = (1, "s") if span <= 180 else (60, "min") if span <= 3 * 3600 else (3600, "h")
    return lambda seconds: f"{seconds / unit:g} {name}"
