"""``conformance.md``: the headline, the requirement x api-version matrix, the failures, what
changed between the run's api-versions.

Written for a GitHub job summary (which takes at most 1 MiB): every piece of text from the
results is escaped to one literal line, and long lists end with a count of what was left out.
"""

from __future__ import annotations

import re
from typing import Final

from callrec.report._records import Run
from callrec.report._status import STATUSES, UNTESTED, UNTESTED_LOOK, look
from callrec.report._summary import Row, Verdict, areas, failing
from callrec.report._text import duration, md, plural
from callrec.report._versions import compared

FAILURE_LINES: Final = 200  # failure lines listed before "... and N more"
CHANGE_ROWS: Final = 200  # rows of the "what changed" table before "... and N more"
# a name quoted in a change's text (escaped by `md`), shown as code again
_CODE: Final = re.compile(r"\\`([A-Za-z0-9.{}:/@+-]+)\\`")
STATEMENT_CHARS: Final = 90
MARKS: Final = {"conforming": "✅", "open": "⚠️", "not-conforming": "❌", "unchecked": "·"}


def render_markdown(run: Run, found: list[Row], verdict: Verdict) -> str:
    lines = [
        f"# ACS Call Recording conformance: {MARKS[verdict.key]} {verdict.title}",
        "",
        f"**{md(verdict.sentence)}** {verdict.passed} of "
        f"{plural(verdict.checked, 'requirement')} checked pass.",
        "",
        *_facts(run),
        "",
        f"Requirement \N{MULTIPLICATION SIGN} version records: {_counts(verdict.records)}  ",
        f"Tests: {_counts(verdict.tests)}",
        "",
        *_matrix(run, found),
        "",
        *_failures(found),
        "",
        *_changes(run),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _facts(run: Run) -> list[str]:
    header = run.header
    target = md(header.endpoint or "unknown", 200)
    if header.kind:
        target += f" ({md(header.kind)})"
    versions = ", ".join(md(version) for version in run.versions) or "none"
    if header.selection:
        versions += f" (asked: {md(header.selection)})"
    exchanges = f", {plural(run.footer.exchanges, 'HTTP exchange')}" if run.footer else ""
    length = duration(run.seconds)
    if run.footer is None:
        length += " (no footer: the run did not finish writing)"
    facts = [
        "| | |",
        "|---|---|",
        f"| Target | {target} |",
        f"| API versions | {versions} |",
        f"| Duration | {length} ({plural(len(run.tests), 'test')}{exchanges}) |",
        f"| Run | {md(header.run_id)}, started {md(header.started)}, "
        f"callrec {md(header.callrec_version)} |",
    ]
    if run.derived:
        facts.append("| Note | the file has no requirement records: derived from its tests |")
    return facts


def _counts(counts: dict[str, int]) -> str:
    order = [*STATUSES, UNTESTED]
    shown = [f"{look(s).emoji} {counts[s]} {look(s).label}" for s in order if counts.get(s)]
    return " · ".join(shown) or "none"


def _matrix(run: Run, found: list[Row]) -> list[str]:
    if not found:
        return ["## Requirements", "", "No requirement records in this run."]
    versions = list(run.versions)
    lines = [
        "## Requirements",
        "",
        "| Requirement | Level | " + " | ".join(md(v) for v in versions) + " | Statement |",
        "|---|---|" + ":-:|" * len(versions) + "---|",
    ]
    blank = " |" * (len(versions) + 2)
    for area, members in areas(found):
        lines.append(f"| **{md(area)}** |{blank}")
        for row in members:
            cells = " | ".join(look(row.status(version)).emoji for version in versions)
            lines.append(
                f"| {md(row.id)} | {md(row.level or '?')} | {cells} | "
                f"{md(row.statement, STATEMENT_CHARS)} |"
            )
    legend = " · ".join(f"{look(s).emoji} {look(s).label}" for s in STATUSES)
    lines += ["", f"{legend} · {UNTESTED_LOOK.emoji} not tested"]
    return lines


def _failures(found: list[Row]) -> list[str]:
    problems = failing(found)
    if not problems:
        return ["## Failures", "", "None."]
    lines = ["## Failures", ""]
    for row, record in problems[:FAILURE_LINES]:
        reason = md(record.message) if record.message else "no message"
        lines.append(
            f"- {look(record.status).emoji} **{md(row.id)}** {md(record.api_version)} "
            f"({md(row.level or '?')}): {reason}"
        )
    if len(problems) > FAILURE_LINES:
        lines.append(f"- … and {len(problems) - FAILURE_LINES} more (see index.html)")
    return lines


def _changes(run: Run) -> list[str]:
    found = compared(run)
    if found is None:
        return []
    lines = ["## What changed between api-versions", ""]
    if found.pairs:
        lines += ["| older → newer | change |", "|---|---|"]
    rows = [
        f"| {md(pair.older)} → {md(pair.newer)} | {text} |"
        for pair in found.pairs
        for text in [_spec_text(entry.text) for entry in pair.entries] or ["no changes"]
    ]
    lines += rows[:CHANGE_ROWS]
    if len(rows) > CHANGE_ROWS:
        lines += ["", f"… and {len(rows) - CHANGE_ROWS} more (see index.html)"]
    if found.unknown:
        names = ", ".join(md(version) for version in found.unknown)
        lines += ["", f"Not compared (no profile in this callrec): {names}"]
    return lines


def _spec_text(text: str) -> str:
    """A change's text (from the spec data) as one Markdown line, its quoted names as code."""
    return _CODE.sub(r"`\1`", md(text))
