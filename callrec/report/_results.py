"""Read a run's ``results.jsonl`` (``reports/results.schema.json``) into typed records.

Loading is defensive: a line that is not JSON, not an object, or lacks a field the schema
requires is a `ReportError` naming ``file:line``; fields and evidence kinds this reader does
not know are ignored, so a newer plugin's extras do not break an older report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from callrec.report._records import (
    Audio,
    Channel,
    Delivery,
    Evidence,
    Exchange,
    Footer,
    Header,
    Note,
    RequirementRecord,
    Run,
    TestRecord,
    Transition,
)
from callrec.report._status import STATUSES, worst

FORMAT: Final = 1
RESULTS_FILE: Final = "results.jsonl"


class ReportError(Exception):
    """A results file that cannot be read: missing, not JSON lines, or not the schema's shape."""


def results_path(run: str | Path) -> Path:
    """A run folder's ``results.jsonl``, or the file itself."""
    path = Path(run)
    if path.is_dir():
        path /= RESULTS_FILE
        if not path.is_file():
            raise ReportError(f"{run}: no {RESULTS_FILE} in this folder")
    elif not path.is_file():
        raise ReportError(f"{run}: no such run folder or results file")
    return path


def load(run: str | Path) -> Run:
    """Read a run folder (or its ``results.jsonl``); raises `ReportError` naming file:line."""
    path = results_path(run)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    header: Header | None = None
    footer: Footer | None = None
    tests: list[TestRecord] = []
    requirements: list[RequirementRecord] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        line = _Line(f"{path}:{number}", number, _parse(path, number, raw))
        kind = line.text("record")
        if header is None and kind != "header":
            raise line.error("the first record is not the header (is this a results.jsonl?)")
        if kind == "header":
            if header is not None:
                raise line.error("a second header record")
            header = _header(line)
        elif kind == "test":
            tests.append(_test(line))
        elif kind == "requirement":
            requirements.append(_requirement(line))
        elif kind == "footer":
            if footer is not None:
                raise line.error("a second footer record")
            footer = _footer(line)
        # other record kinds are a newer plugin's: ignored
    if header is None:
        raise ReportError(f"{path}: empty: no header record")
    derived = not requirements and bool(tests)
    if derived:
        requirements = _derive(tests)
    return Run(
        path=path,
        header=header,
        tests=tuple(tests),
        requirements=tuple(requirements),
        footer=footer,
        derived=derived,
        versions=_versions(header, requirements),
    )


def _parse(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    where = f"{path}:{number}"
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ReportError(f"{where}: not UTF-8 text (byte {exc.start + 1})") from exc
    except json.JSONDecodeError as exc:
        raise ReportError(f"{where}: not JSON: {exc.msg} (column {exc.colno})") from exc
    if not isinstance(value, dict):
        raise ReportError(f"{where}: a {type(value).__name__}, not a JSON object")
    return value


class _Line:
    """One record's fields, each read with its expected type; errors name file:line."""

    def __init__(self, where: str, number: int, value: dict[str, Any], what: str = "") -> None:
        self.where = where
        self.line_no = number
        self.value = value
        self.what = what

    def error(self, message: str) -> ReportError:
        return ReportError(f"{self.where}: {self.what}{message}")

    def _get(self, key: str, check: Callable[[Any], bool], kind: str, default: Any) -> Any:
        if key not in self.value:
            if default is _REQUIRED:
                raise self.error(f"lacks `{key}`")
            return default
        value = self.value[key]
        if not check(value):
            raise self.error(f"`{key}` is {_show(value)}, not {kind}")
        return value

    def text(self, key: str) -> str:
        value: str = self._get(key, _is_str, "a string", _REQUIRED)
        return value

    def text_or_none(self, key: str) -> str | None:
        value: str | None = self._get(key, _is_str_or_none, "a string", None)
        return value

    def number(self, key: str) -> float:
        return float(self._get(key, _is_number, "a number", _REQUIRED))

    def number_or_none(self, key: str) -> float | None:
        value = self._get(key, _is_number, "a number", None)
        return None if value is None else float(value)

    def integer(self, key: str) -> int:
        value: int = self._get(key, _is_int, "an integer", _REQUIRED)
        return value

    def boolean(self, key: str) -> bool:
        value: bool = self._get(key, _is_bool, "true or false", _REQUIRED)
        return value

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self._get(key, _is_str_list, "a list of strings", _REQUIRED if required else [])
        return tuple(value)

    def status(self) -> str:
        value = self.text("status")
        if value not in STATUSES:
            raise self.error(f"`status` is {_show(value)}, not one of {', '.join(STATUSES)}")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value: dict[str, Any] = self._get(key, _is_dict, "an object", {})
        return value

    def items(self, key: str) -> list[_Line]:
        value = self._get(key, _is_list, "a list", [])
        found: list[_Line] = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.error(f"`{key}[{index}]` is {_show(item)}, not an object")
            found.append(_Line(self.where, self.line_no, item, f"{self.what}{key}[{index}]: "))
        return found


_REQUIRED: Final = object()


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


def _header(line: _Line) -> Header:
    line.what = "header: "
    written = line.value.get("format")
    if written != FORMAT:
        found = "no `format`" if written is None else f"format {_show(written)}"
        raise line.error(
            f"{found}; this callrec reads format {FORMAT} (written by a different plugin version?)"
        )
    target = line.value.get("target")
    if target is not None and not isinstance(target, dict):
        raise line.error(f"`target` is {_show(target)}, not an object or null")
    found_target = _Line(line.where, line.line_no, target or {}, "header target: ")
    return Header(
        run_id=line.text("runId"),
        endpoint=found_target.text_or_none("endpoint"),
        kind=found_target.text_or_none("kind"),
        api_versions=line.texts("apiVersions"),
        selection=line.text_or_none("selection"),
        callrec_version=line.text("callrecVersion"),
        spec_profile=line.text_or_none("specProfile"),
        started=line.text("started"),
    )


def _test(line: _Line) -> TestRecord:
    line.what = "test record: "
    return TestRecord(
        line=line.line_no,
        test=line.text("test"),
        requirements=line.texts("requirements"),
        api_version=line.text_or_none("apiVersion"),
        status=line.status(),
        message=line.text("message"),
        pointer=line.text_or_none("pointer"),
        hint=line.text_or_none("hint"),
        duration=line.number("duration"),
        evidence=tuple(
            found for item in line.items("evidence") if (found := _evidence(item)) is not None
        ),
    )


def _evidence(item: _Line) -> Evidence | None:
    reader = _EVIDENCE.get(item.text("kind"))
    return None if reader is None else reader(item)


def _exchange(item: _Line) -> Exchange:
    return Exchange(
        method=item.text("method"),
        path=item.text("path"),
        operation=item.text_or_none("operation"),
        status=item.integer("status"),
        latency_ms=item.number("latencyMs"),
        request_body=item.value.get("requestBody"),
        response_body=item.value.get("responseBody"),
        at=item.number_or_none("at"),
    )


def _delivery(item: _Line) -> Delivery:
    return Delivery(
        source=item.text("source"),
        event_type=item.text("eventType"),
        schema=item.text_or_none("schema"),
        body=item.value.get("body"),
        at=item.number_or_none("at"),
    )


def _transition(item: _Line) -> Transition:
    return Transition(
        before=item.text("from"),
        operation=item.text("operation"),
        after=item.text("to"),
        ok=item.boolean("ok"),
        at=item.number_or_none("at"),
    )


def _audio(item: _Line) -> Audio:
    channels = []
    for channel in item.items("channels"):
        energy = channel._get("energy", _is_list, "a list", _REQUIRED)
        if not all(_is_number(value) and value >= 0 for value in energy):
            raise channel.error("`energy` holds something other than numbers >= 0")
        channels.append(
            Channel(channel.text_or_none("participant"), tuple(float(v) for v in energy))
        )
    return Audio(
        window_ms=item.number("windowMs"), channels=tuple(channels), at=item.number_or_none("at")
    )


def _note(item: _Line) -> Note:
    return Note(text=item.text("text"), at=item.number_or_none("at"))


_EVIDENCE: Final[dict[str, Callable[[_Line], Evidence]]] = {
    "exchange": _exchange,
    "delivery": _delivery,
    "transition": _transition,
    "audio": _audio,
    "note": _note,
}


def _requirement(line: _Line) -> RequirementRecord:
    line.what = "requirement record: "
    return RequirementRecord(
        line=line.line_no,
        id=line.text("id"),
        api_version=line.text("apiVersion"),
        status=line.status(),
        tests=line.texts("tests"),
        message=line.text_or_none("message") or "",
        level=line.text_or_none("level"),
        statement=line.text_or_none("statement"),
    )


def _footer(line: _Line) -> Footer:
    line.what = "footer: "
    totals = line.mapping("totals")
    if not all(_is_int(value) for value in totals.values()):
        raise line.error("`totals` holds something other than integers")
    return Footer(
        totals=dict(totals),
        exchanges=line.integer("exchanges"),
        seconds=line.number("seconds"),
        finished=line.text_or_none("finished"),
    )


def _derive(tests: list[TestRecord]) -> list[RequirementRecord]:
    """Requirement records from test records, for a file that has none (an older plugin)."""
    grouped: dict[tuple[str, str], list[TestRecord]] = {}
    for test in tests:
        for rid in test.requirements:
            grouped.setdefault((rid, test.api_version or ""), []).append(test)
    derived = []
    for (rid, version), checked in sorted(grouped.items()):
        status = worst([test.status for test in checked])
        deciding = next(test for test in checked if test.status == status)
        derived.append(
            RequirementRecord(
                line=deciding.line,
                id=rid,
                api_version=version,
                status=status,
                tests=tuple(test.test for test in checked),
                message=deciding.message,
                level=None,
                statement=None,
            )
        )
    return derived


def _versions(header: Header, requirements: list[RequirementRecord]) -> tuple[str, ...]:
    """The run's api-versions: the header's, then any other a record names, in file order."""
    found = dict.fromkeys(header.api_versions)
    found.update(dict.fromkeys(record.api_version for record in requirements))
    return tuple(found)
