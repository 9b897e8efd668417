"""Stamp "last verified live" into the requirement catalog from a run against the service.

Each requirement a run passed gets ``lastVerified: {date, apiVersion, callrecVersion}``: the
run's start date (UTC), the newest api-version it passed in, the callrec that ran it. The
catalog is hand-written (comments, anchors, one flow-style ``versions:`` per entry), so it is
edited as text, never dumped: the entry's ``lastVerified:`` line is replaced, or a new one goes
right after its ``versions:`` value. The edited text is parsed again and must differ from the
original in ``lastVerified`` values only, or nothing is written.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import yaml

from callrec.report._records import Run
from callrec.report._results import ReportError
from callrec.report._text import one_line
from callrec.specs import api_versions

LIVE: Final = "service"  # the header's target kind for the live service (results.schema.json)
FIELD: Final = "lastVerified"
CATALOG_NAME: Final = "callrec-requirements"  # the catalog's `catalog:` value
_ENTRY: Final = re.compile(
    r"^(?P<dash> *)- +id: *(?P<quote>[\"']?)(?P<id>REC-[A-Z]+-[0-9]{3})(?P=quote) *(?:#.*)?$"
)
_KEY: Final = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_]*) *:(?:\s|$)")
_VERSION: Final = re.compile(r"[!-~]{1,64}")  # a version string: printable ASCII, no blanks


@dataclass(frozen=True, slots=True)
class Verified:
    """What ``lastVerified`` says: when, in which api-version, by which callrec."""

    date: str
    api_version: str
    callrec_version: str

    def as_dict(self) -> dict[str, str]:
        return {
            "date": self.date,
            "apiVersion": self.api_version,
            "callrecVersion": self.callrec_version,
        }

    def as_yaml(self) -> str:
        """One flow mapping; every value a double-quoted (JSON) string, so a date stays text."""
        pairs = (f"{key}: {json.dumps(value)}" for key, value in self.as_dict().items())
        return "{" + ", ".join(pairs) + "}"


@dataclass(frozen=True, slots=True)
class Change:
    requirement: str
    old: Any  # the entry's lastVerified before, None when it had none
    new: Verified


@dataclass(frozen=True, slots=True)
class Stamping:
    """The outcome of stamping one run into a catalog (written unless it was a dry run)."""

    catalog: Path
    changes: tuple[Change, ...]  # in catalog order
    unchanged: tuple[str, ...]  # already stamped with the same values
    kept: tuple[str, ...]  # stamped by a later run than this one: left alone
    unknown: tuple[str, ...]  # passed in the run, but not in this catalog
    written: bool


def verified(run: Run) -> dict[str, Verified]:
    """Each requirement the run passed, with the newest api-version it passed in."""
    order = {version: index for index, version in enumerate(api_versions())}
    passed: dict[str, str] = {}
    for record in run.requirements:
        if record.status != "pass" or not record.tested or record.api_version not in order:
            continue
        best = passed.get(record.id)
        if best is None or order[record.api_version] > order[best]:
            passed[record.id] = record.api_version
    day = run_date(run)
    by = run.header.callrec_version
    if not _VERSION.fullmatch(by):
        raise ReportError(f"{run.path}: header: `callrecVersion` {by[:70]!r} is not a version")
    return {rid: Verified(day, version, by) for rid, version in passed.items()}


def run_date(run: Run) -> str:
    """The day the run started, in UTC (the header's ``started``)."""
    try:
        started = datetime.fromisoformat(run.header.started)
    except ValueError:
        raise ReportError(
            f"{run.path}: header: `started` is {run.header.started!r}, not an ISO date-time"
        ) from None
    if started.tzinfo is not None:
        started = started.astimezone(UTC)
    return started.date().isoformat()


def stamp(
    run: Run, catalog: str | Path, *, allow_emulator: bool = False, dry_run: bool = False
) -> Stamping:
    """Set ``lastVerified`` of every requirement ``run`` passed; raises `ReportError`."""
    path = Path(catalog)
    _check_target(run, allow_emulator=allow_emulator)
    found = verified(run)
    original = _read(path)
    document = _parse(path, original)
    entries = {str(entry.get("id")): entry for entry in document["requirements"]}
    changes: list[Change] = []
    unchanged: list[str] = []
    kept: list[str] = []
    for rid, entry in entries.items():
        new = found.get(rid)
        if new is None:
            continue
        old = entry.get(FIELD)
        if old == new.as_dict():
            unchanged.append(rid)
        elif isinstance(old, dict) and str(old.get("date", "")) > new.date:
            kept.append(rid)
        else:
            changes.append(Change(rid, old, new))
    edited = _edit(path, original, {change.requirement: change.new for change in changes})
    _check_edit(path, document, _parse(path, edited), changes)
    written = bool(changes) and not dry_run
    if written:
        _write(path, edited)
    return Stamping(
        catalog=path,
        changes=tuple(changes),
        unchanged=tuple(unchanged),
        kept=tuple(kept),
        unknown=tuple(sorted(found.keys() - entries.keys())),
        written=written,
    )


def _check_target(run: Run, *, allow_emulator: bool) -> None:
    kind, endpoint = run.header.kind, run.header.endpoint
    if kind == LIVE or allow_emulator:
        return
    shown = one_line(f"{kind} {endpoint or ''}", 120).strip()  # both from the file: untrusted
    what = f"was {shown}" if kind else "is not named in its header"
    raise ReportError(
        f"{run.path}: the run's target {what}; only a run against the live service "
        f"(target kind {LIVE!r}) verifies requirements (--allow-emulator stamps anyway, "
        "for testing)"
    )


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: no such catalog (pass --catalog)") from None
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not UTF-8 text (byte {exc.start + 1})") from exc


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError as exc:
        raise ReportError(f"{path}: not YAML: {exc}") from exc
    if not (
        isinstance(document, dict)
        and document.get("catalog") == CATALOG_NAME
        and isinstance(document.get("requirements"), list)
        and all(isinstance(entry, dict) for entry in document["requirements"])
    ):
        raise ReportError(f"{path}: not a requirement catalog (`catalog: {CATALOG_NAME}`)")
    return document


def _edit(path: Path, text: str, stamps: dict[str, Verified]) -> str:
    """The catalog text with each stamped entry's ``lastVerified:`` line set."""
    lines = text.splitlines(keepends=True)
    done: set[str] = set()
    index = 0
    while index < len(lines):
        match = _ENTRY.match(lines[index].rstrip("\r\n"))
        index += 1
        if match is None or match["id"] not in stamps:
            continue
        rid = match["id"]
        column = len(match["dash"]) + 2
        end = _block_end(lines, index, len(match["dash"]))
        lines[index:end] = _stamped(path, rid, lines[index:end], column, stamps[rid])
        done.add(rid)
    if missing := sorted(stamps.keys() - done):
        raise ReportError(f"{path}: no `- id: {missing[0]}` line to stamp (nothing written)")
    return "".join(lines)


def _block_end(lines: list[str], start: int, dash: int) -> int:
    """The first line after an entry: the next one indented no deeper than its dash."""
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if stripped and _indent(lines[index]) <= dash:
            return index
    return len(lines)


def _stamped(path: Path, rid: str, block: list[str], column: int, new: Verified) -> list[str]:
    """An entry's lines after its ``- id:`` line, with lastVerified replaced or inserted."""
    spans = _keys(block, column)
    if "versions" not in spans:
        raise ReportError(f"{path}: {rid} has no `versions:` line to stamp after")
    ending = "\r\n" if block[spans["versions"][0]].endswith("\r\n") else "\n"
    line = f"{' ' * column}{FIELD}: {new.as_yaml()}{ending}"
    start, end = spans.get(FIELD) or (spans["versions"][1], spans["versions"][1])
    return [*block[:start], line, *block[end:]]


def _keys(block: list[str], column: int) -> dict[str, tuple[int, int]]:
    """Each key of the entry at ``column``: its first line and the line after its value."""
    spans: dict[str, tuple[int, int]] = {}
    index = 0
    while index < len(block):
        match = _KEY.match(block[index])
        if match is None or len(match["indent"]) != column:
            index += 1
            continue
        end = index + 1
        while end < len(block) and block[end].strip() and _indent(block[end]) > column:
            end += 1
        spans[match["key"]] = (index, end)
        index = end
    return spans


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _check_edit(
    path: Path, before: dict[str, Any], after: dict[str, Any], changes: list[Change]
) -> None:
    """The edited catalog equals the original but for the changed lastVerified values."""
    expected = {
        **before,
        "requirements": [dict(entry) for entry in before["requirements"]],
    }
    stamped = {change.requirement: change.new.as_dict() for change in changes}
    for entry in expected["requirements"]:
        if entry.get("id") in stamped:
            entry[FIELD] = stamped[entry["id"]]
    if after != expected:
        raise ReportError(
            f"{path}: stamping as text would change more than {FIELD} (is each entry a "
            "`- id:` line followed by its keys, `versions:` among them?); nothing written"
        )


def _write(path: Path, text: str) -> None:
    """Replace the catalog in one step (a temporary file beside it, then a rename)."""
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            "wb", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            temporary = Path(handle.name)
            handle.write(text.encode("utf-8"))
        shutil.copymode(path, temporary)
        temporary.replace(path)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise ReportError(f"{path}: cannot write: {exc.strerror or exc}") from exc
