"""A few SVG primitives: elements with escaped text and attributes, scales, nice ticks, colours.

Every picture is built from `el` so no text reaches the document unescaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from callrec.report._text import esc

# calm colours shared with the page's CSS
INK: Final = "#24292f"
MUTED: Final = "#6b7280"
GRID: Final = "#e5e7eb"
PAPER: Final = "#ffffff"
GREEN: Final = "#3f8f5a"
GREEN_SOFT: Final = "#e3f1e7"
RED: Final = "#c4453c"
RED_SOFT: Final = "#f8e1df"
GREY: Final = "#b8bcc4"
GREY_SOFT: Final = "#f3f4f6"
BLUE: Final = "#3b6ea8"
BLUE_SOFT: Final = "#dbe7f3"
TEAL: Final = "#2f8f8a"
FONT: Final = "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif"
CHAR_WIDTH: Final = 6.4  # average width of an 11 px character, to size labels


def num(value: float) -> str:
    """A coordinate: at most one decimal, no trailing zeros."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def el(
    tag: str,
    attrs: Mapping[str, object],
    text: str | None = None,
    *,
    tip: str | None = None,
    children: Sequence[str] = (),
) -> str:
    """One element: floats become coordinates; every value, the text and the tooltip (an SVG
    ``<title>`` child) are escaped; ``children`` are elements made by this function."""
    parts = [tag]
    for name, value in attrs.items():
        shown = num(value) if isinstance(value, float) else str(value)
        parts.append(f'{name}="{esc(shown)}"')
    opening = " ".join(parts)
    inner = "" if tip is None else f"<title>{esc(tip)}</title>"
    inner += "" if text is None else esc(text)
    inner += "".join(children)
    return f"<{opening}/>" if not inner else f"<{opening}>{inner}</{tag}>"


def document(width: float, height: float, label: str, body: Sequence[str]) -> str:
    """A standalone, well-formed SVG document that scales down to its container."""
    attrs = {
        "xmlns": "http://www.w3.org/2000/svg",
        "viewBox": f"0 0 {num(width)} {num(height)}",
        "width": num(width),
        "height": num(height),
        "role": "img",
        "aria-label": label,
        "font-family": FONT,
        "font-size": "11",
        "fill": INK,
    }
    return el("svg", attrs, tip=label, children=body)


def text_width(text: str, size: float = 11) -> float:
    return len(text) * CHAR_WIDTH * size / 11


@dataclass(frozen=True, slots=True)
class Scale:
    """Maps values in [low, high] to pixels in [left, right], linearly or on a log scale."""

    low: float
    high: float
    left: float
    right: float
    log: bool = False

    def __call__(self, value: float) -> float:
        if self.log:
            value = max(value, self.low)
            share = (math.log10(value) - math.log10(self.low)) / (
                math.log10(self.high) - math.log10(self.low)
            )
        else:
            share = (value - self.low) / (self.high - self.low)
        return self.left + min(max(share, 0.0), 1.0) * (self.right - self.left)

    def ticks(self) -> list[float]:
        if self.log:
            return log_ticks(self.low, self.high)
        return nice_ticks(self.low, self.high)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 5 times a power of ten apart)."""
    span = high - low
    if span <= 0:
        return [low]
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(f * power for f in (1, 2, 5, 10) if f * power >= raw)
    first = math.ceil(low / step) * step
    ticks: list[float] = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def log_ticks(low: float, high: float) -> list[float]:
    """1, 2 and 5 times the powers of ten within [low, high] (only powers when many)."""
    ticks: list[float] = []
    exponent = math.floor(math.log10(low))
    decades = math.ceil(math.log10(high)) - exponent
    factors = (1,) if decades > 4 else (1, 2, 5)
    while 10**exponent <= high:
        ticks += [f * 10**exponent for f in factors if low <= f * 10**exponent <= high]
        exponent += 1
    return ticks


def mix(soft: str, strong: str, share: float) -> str:
    """The colour ``share`` of the way from ``soft`` to ``strong`` (#rrggbb)."""
    share = min(max(share, 0.0), 1.0)
    a = [int(soft[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(strong[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(a, b, strict=True))
