"""What a run amounts to: requirement rows in catalog order, the verdict, the badge.

Rules (also in reports/README.md): a requirement is *checked* when a test of the run observed
it (pass, fail, not-observed or known-deviation) in at least one api-version, and *passed*
when it is checked and every checked version passed. The verdict and the badge colour:

- red, not conforming: a MUST requirement fails (a requirement of unknown level counts as MUST);
- yellow, open points: no MUST failure, but a checked requirement did not pass (a SHOULD or
  MAY failure, something not observed in time, a known deviation);
- green, conforming: every checked requirement passed;
- lightgrey: nothing was checked.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Final

from callrec.report._records import RequirementRecord, Run
from callrec.report._status import CHECKED, PROBLEMS, UNTESTED, worst
from callrec.specs import requirements as catalog

BADGE_LABEL: Final = "ACS recording conformance"
_AREA: Final = re.compile(r"^REC-([A-Z]+)-")


@dataclass(frozen=True, slots=True)
class Row:
    """One requirement across the run's api-versions."""

    id: str
    area: str
    level: str | None
    statement: str
    cells: dict[str, RequirementRecord]

    def status(self, version: str) -> str:
        record = self.cells.get(version)
        return record.status if record is not None and record.tested else UNTESTED

    def statuses(self) -> list[str]:
        return [self.status(version) for version in self.cells]

    @property
    def worst(self) -> str:
        return worst(self.statuses())

    @property
    def checked(self) -> bool:
        return any(status in CHECKED for status in self.statuses())

    @property
    def must(self) -> bool:
        return self.level in (None, "MUST")


@dataclass(frozen=True, slots=True)
class Verdict:
    key: str  # conforming, open, not-conforming, unchecked
    title: str
    sentence: str
    colour: str  # a shields.io colour name
    passed: int
    checked: int
    records: Counter[str]  # requirement x version records by shown status (UNTESTED included)
    tests: Counter[str]


_TITLES: Final = {
    "not-conforming": ("Not conforming", "red"),
    "open": ("Conforming, with open points", "yellow"),
    "conforming": ("Conforming", "green"),
    "unchecked": ("Nothing checked", "lightgrey"),
}


def failing(found: list[Row]) -> list[tuple[Row, RequirementRecord]]:
    """The failing, then not observed, requirement records of the rows (what the reports
    list first)."""
    return [
        (row, record)
        for status in PROBLEMS
        for row in found
        for record in row.cells.values()
        if record.tested and record.status == status
    ]


def rows(run: Run) -> list[Row]:
    """The run's requirements in catalog order (others after, by id), versions as columns."""
    known = {str(entry["id"]): entry for entry in catalog()}
    order = {rid: index for index, rid in enumerate(known)}
    grouped: dict[str, dict[str, RequirementRecord]] = {}
    for record in run.requirements:
        grouped.setdefault(record.id, {})[record.api_version] = record
    found = []
    for rid, cells in grouped.items():
        entry = known.get(rid, {})
        match = _AREA.match(rid)
        records = list(cells.values())
        found.append(
            Row(
                id=rid,
                area=str(entry.get("area") or (match.group(1) if match else "OTHER")),
                level=next((r.level for r in records if r.level), None) or entry.get("level"),
                statement=next((r.statement for r in records if r.statement), None)
                or str(entry.get("statement", "")),
                cells={version: cells[version] for version in run.versions if version in cells},
            )
        )
    found.sort(key=lambda row: (order.get(row.id, len(order)), row.area, row.id))
    return found


def areas(found: list[Row]) -> list[tuple[str, list[Row]]]:
    """Rows grouped by area, areas in the order their first row comes."""
    grouped: dict[str, list[Row]] = {}
    for row in found:
        grouped.setdefault(row.area, []).append(row)
    return list(grouped.items())


def verdict(run: Run, found: list[Row]) -> Verdict:
    checked = [row for row in found if row.checked]
    passed = [row for row in checked if row.worst == "pass"]
    must_failing = [row for row in checked if row.must and row.worst == "fail"]
    open_rows = [row for row in checked if row.worst != "pass" and row not in must_failing]
    if must_failing:
        key = "not-conforming"
        sentence = f"{_count(len(must_failing), 'MUST requirement')} fail"
        if len(must_failing) == 1:
            sentence += "s"
        if open_rows:
            sentence += f"; {len(open_rows)} more open"
    elif open_rows:
        key = "open"
        reasons = Counter(_reason(row) for row in open_rows)
        sentence = "No MUST requirement fails, but " + ", ".join(
            f"{n} {reason}" for reason, n in reasons.items()
        )
    elif checked:
        key = "conforming"
        sentence = f"All {_count(len(checked), 'requirement')} checked pass"
    else:
        key = "unchecked"
        sentence = "No test of this run checked a requirement"
    title, colour = _TITLES[key]
    cells = Counter(row.status(version) for row in found for version in row.cells)
    return Verdict(
        key=key,
        title=title,
        sentence=sentence + ".",
        colour=colour,
        passed=len(passed),
        checked=len(checked),
        records=cells,
        tests=Counter(test.status for test in run.tests),
    )


def _reason(row: Row) -> str:
    if row.worst == "fail":
        return f"{row.level} failing"
    return {"not-observed": "not observed", "known-deviation": "known deviations"}.get(
        row.worst, row.worst
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def badge(found: Verdict) -> dict[str, object]:
    """A shields.io endpoint document (https://shields.io/badges/endpoint-badge)."""
    return {
        "schemaVersion": 1,
        "label": BADGE_LABEL,
        "message": f"{found.passed}/{found.checked} requirements",
        "color": found.colour,
    }
