"""The statuses of a results file and how each is shown: one table, read by every renderer.

The status names are those of ``reports/results.schema.json`` (a test pins the two together).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Look:
    """How a status is shown: an emoji for Markdown, a font-safe glyph and a CSS class for HTML."""

    emoji: str
    glyph: str
    label: str


# worst first: how records of one requirement combine, and the order lists are shown in
LOOKS: Final[dict[str, Look]] = {
    "fail": Look("❌", "✗", "fail"),
    "not-observed": Look("⏳", "…", "not observed"),
    "known-deviation": Look("⚠️", "!", "known deviation"),
    "pass": Look("✅", "✓", "pass"),
    "skipped": Look("⏭️", "↷", "skipped"),
    "not-applicable": Look("\N{HEAVY MINUS SIGN}", "\N{EN DASH}", "not applicable"),
}
STATUSES: Final = tuple(LOOKS)
UNTESTED: Final = "untested"  # a cell no test checked: no record, or a record with no tests
UNTESTED_LOOK: Final = Look("·", "·", "not tested")
CHECKED: Final = frozenset({"pass", "fail", "not-observed", "known-deviation"})
PROBLEMS: Final = ("fail", "not-observed")  # what a failure list shows, in this order


def look(status: str) -> Look:
    return LOOKS.get(status, UNTESTED_LOOK)


def worst(statuses: list[str]) -> str:
    """The status that decides for a group of records (`STATUSES` order), or `UNTESTED`."""
    present = set(statuses)
    return next((status for status in STATUSES if status in present), UNTESTED)
