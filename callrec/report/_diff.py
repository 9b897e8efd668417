"""Compare two runs: which requirement x api-version records changed status.

A change is a *regression* when the new status is ``fail`` (from anything else) or a pass
became ``not-observed``; a *fix* when a ``fail`` or ``not-observed`` became ``pass``; anything
else is an *other* change (a record only one run has, a pass now not-applicable, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from callrec.report._records import RequirementRecord, Run
from callrec.report._status import look
from callrec.report._text import md, one_line, plural

ABSENT: Final = "absent"  # the run has no record for this requirement and version
KINDS: Final = ("regressions", "fixes", "other")
TITLES: Final = {"regressions": "New failures", "fixes": "Fixed", "other": "Other changes"}


@dataclass(frozen=True, slots=True)
class Change:
    requirement: str
    api_version: str
    level: str | None
    old: str
    new: str
    message: str  # the new record's message (the old one's for a fix)

    @property
    def kind(self) -> str:
        if self.new == "fail" or (self.old == "pass" and self.new == "not-observed"):
            return "regressions"
        if self.old in ("fail", "not-observed") and self.new == "pass":
            return "fixes"
        return "other"


@dataclass(frozen=True, slots=True)
class Diff:
    old: Run
    new: Run
    compared: int
    changes: tuple[Change, ...]  # regressions, then fixes, then other; by id within each

    def of(self, kind: str) -> list[Change]:
        return [change for change in self.changes if change.kind == kind]

    @property
    def regressed(self) -> bool:
        return any(change.kind == "regressions" for change in self.changes)

    def notes(self) -> list[str]:
        """Differences between the runs themselves that explain many changes at once."""
        old, new = self.old.header, self.new.header
        found = []
        if (old.endpoint, old.kind) != (new.endpoint, new.kind):
            found.append(
                f"the targets differ: {old.endpoint} ({old.kind}) then {new.endpoint} ({new.kind})"
            )
        if self.old.versions != self.new.versions:
            found.append(
                f"the api-versions differ: {', '.join(self.old.versions) or 'none'} then "
                f"{', '.join(self.new.versions) or 'none'}"
            )
        if old.spec_profile and new.spec_profile and old.spec_profile != new.spec_profile:
            found.append("the spec data differs (specProfile)")
        return found


def diff(old: Run, new: Run) -> Diff:
    before = _records(old)
    after = _records(new)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key), after.get(key)
        old_status, new_status = _status(was), _status(now)
        if old_status == new_status:
            continue
        # the message that explains the change: the old one for a fix or a record now gone
        fixed = new_status == "pass" and old_status in ("fail", "not-observed", "known-deviation")
        deciding = was if fixed or now is None else now
        latest = now or was
        changes.append(
            Change(
                requirement=key[0],
                api_version=key[1],
                level=latest.level if latest is not None else None,
                old=old_status,
                new=new_status,
                message=deciding.message if deciding is not None else "",
            )
        )
    order = {kind: index for index, kind in enumerate(KINDS)}
    changes.sort(key=lambda c: (order[c.kind], c.requirement, c.api_version))
    return Diff(
        old=old, new=new, compared=len(before.keys() | after.keys()), changes=tuple(changes)
    )


def _records(run: Run) -> dict[tuple[str, str], RequirementRecord]:
    return {(record.id, record.api_version): record for record in run.requirements}


def _status(record: RequirementRecord | None) -> str:
    if record is None:
        return ABSENT
    return record.status if record.tested else "untested"


# ----------------------------------------------------------------------------- output


def _summary(found: Diff) -> str:
    counts = [
        plural(len(found.of("regressions")), "new failure"),
        plural(len(found.of("fixes")), "fix", "fixes"),
        plural(len(found.of("other")), "other change"),
    ]
    return f"{', '.join(counts)} in {plural(found.compared, 'requirement record')}"


def as_text(found: Diff) -> str:
    lines = [
        f"callrec report diff: {one_line(found.old.header.run_id, 80)} -> "
        f"{one_line(found.new.header.run_id, 80)}",
        ("REGRESSED: " if found.regressed else "no regressions: ") + _summary(found),
    ]
    lines += [f"note: {one_line(note, 300)}" for note in found.notes()]
    ids = max((len(c.requirement) for c in found.changes), default=0)
    versions = max((len(c.api_version) for c in found.changes), default=0)
    for kind in KINDS:
        changes = found.of(kind)
        if not changes:
            continue
        lines += ["", f"{TITLES[kind]} ({len(changes)})"]
        for change in changes:
            columns = (
                change.requirement.ljust(ids),
                change.api_version.ljust(versions),
                (change.level or "?").ljust(6),
                f"{_label(change.old)} -> {_label(change.new)}".ljust(32),
                one_line(change.message, 160),
            )
            lines.append(("  " + "  ".join(columns)).rstrip())
    return "\n".join(lines) + "\n"


def as_markdown(found: Diff) -> str:
    mark = "❌" if found.regressed else "✅"
    lines = [
        f"## {mark} Conformance diff: {md(found.old.header.run_id)} → "
        f"{md(found.new.header.run_id)}",
        "",
        f"**{_summary(found)}**",
    ]
    lines += [f"- note: {md(note)}" for note in found.notes()]
    for kind in KINDS:
        changes = found.of(kind)
        if not changes:
            continue
        lines += [
            "",
            f"### {TITLES[kind]} ({len(changes)})",
            "",
            "| Requirement | Version | Level | Was | Now | Message |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {md(c.requirement)} | {md(c.api_version)} | {md(c.level or '?')} | "
            f"{_emoji(c.old)} {md(_label(c.old))} | {_emoji(c.new)} {md(_label(c.new))} | "
            f"{md(c.message, 200)} |"
            for c in changes
        ]
    return "\n".join(lines) + "\n"


def as_json(found: Diff) -> str:
    document = {
        "old": {"runId": found.old.header.run_id, "path": str(found.old.path)},
        "new": {"runId": found.new.header.run_id, "path": str(found.new.path)},
        "regressed": found.regressed,
        "compared": found.compared,
        "notes": found.notes(),
        **{
            kind: [
                {
                    "id": c.requirement,
                    "apiVersion": c.api_version,
                    "level": c.level,
                    "old": None if c.old == ABSENT else c.old,
                    "new": None if c.new == ABSENT else c.new,
                    "message": c.message,
                }
                for c in found.of(kind)
            ]
            for kind in KINDS
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _label(status: str) -> str:
    return "absent" if status == ABSENT else look(status).label


def _emoji(status: str) -> str:
    return "" if status == ABSENT else look(status).emoji


FORMATS: Final = {"text": as_text, "markdown": as_markdown, "json": as_json}
