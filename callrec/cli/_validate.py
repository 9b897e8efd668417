"""``callrec validate``: check JSON, JSON-array and NDJSON files against the schemas."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final, TextIO

import orjson

from callrec._detect import detect
from callrec._inputs import Batch, Document, Unreadable, element_lines, read_stream
from callrec._profiles import schema_document
from callrec._specs import check_schema_name, profile
from callrec._validation import Failure, compiled, compiled_batch

HELP = "validate payloads (events, callbacks, metadata, requests, responses) against the schemas"
SUFFIXES: Final = (".json", ".ndjson", ".jsonl")
EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="JSON, JSON-array or NDJSON file, a folder of them, or - for stdin",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--schema", metavar="NAME", help="validate every payload against NAME")
    which.add_argument(
        "--detect",
        action="store_true",
        help="name each payload's schema from its shape (the default)",
    )
    parser.add_argument("--api-version", metavar="V", help="validate as of this api-version")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: file:line: pointer: message per failure; json: one result object per payload",
    )
    parser.add_argument("--output", metavar="PATH", help="write results here instead of stdout")


class _Run:
    """Validates documents and writes the results; counts outcomes."""

    def __init__(self, arguments: argparse.Namespace, out: TextIO) -> None:
        self.schema: str | None = arguments.schema
        self.api_version: str | None = arguments.api_version
        self.as_json = arguments.format == "json"
        self.out = out
        self.counts: Counter[str] = Counter()
        if self.schema is not None:
            check_schema_name(self.schema)
        if self.api_version is not None:
            profile(self.api_version)

    def unreadable(self, source: str, line: int, reason: str) -> None:
        self.counts["unreadable"] += 1
        if self.as_json:
            self._json(source, line, None, [], error=reason)
        else:
            self.out.write(f"{source}:{line}: {reason}\n")

    def item(self, source: str, item: Batch | Document | Unreadable) -> None:
        if isinstance(item, Batch):
            self.batch(source, item)
        elif isinstance(item, Unreadable):
            self.unreadable(source, item.line, item.reason)
        else:
            self.document(source, item)

    def batch(self, source: str, batch: Batch) -> None:
        """NDJSON lines: one check for the whole batch when it is all valid (the usual case)."""
        values = batch.values
        schema = self.schema or detect(values[0])
        if (
            not self.as_json
            and schema is not None
            and not _is_array_schema(schema)
            and compiled_batch(schema, self.api_version).is_valid(values)
        ):
            self.counts["valid"] += len(values)
            return
        for document in batch.documents():
            self.document(source, document)

    def document(self, source: str, document: Document) -> None:
        value = document.value
        schema = self.schema or detect(value)
        if not isinstance(value, list):
            self._payload(source, document.line, value, schema, None)
            return
        lines = element_lines(document)
        if _is_array_schema(schema):  # one payload; failures map to their element's line
            self._payload(source, document.line, value, schema, lines)
            return
        for index, element in enumerate(value):  # a batch of separate payloads
            self._payload(source, lines[index], element, self.schema or detect(element), None)

    def _payload(
        self, source: str, line: int, value: Any, schema: str | None, lines: list[int] | None
    ) -> None:
        if schema is None:
            self.counts["invalid"] += 1
            reason = "cannot tell which schema this payload follows; name one with --schema"
            if self.as_json:
                self._json(source, line, None, [], error=reason)
            else:
                self.out.write(f"{source}:{line}: (root): {reason}\n")
            return
        validator = compiled(schema, self.api_version)
        if validator.is_valid(value):
            self.counts["valid"] += 1
            if self.as_json:
                self._json(source, line, schema, [])
            return
        self.counts["invalid"] += 1
        failures = validator.failures(value)
        if self.as_json:
            self._json(source, line, schema, failures)
            return
        for failure in failures:
            where = _line_of(failure.pointer, lines, line)
            self.out.write(f"{source}:{where}: {failure}\n")

    def _json(
        self,
        source: str,
        line: int,
        schema: str | None,
        failures: list[Failure],
        error: str | None = None,
    ) -> None:
        record: dict[str, Any] = {
            "file": source,
            "line": line,
            "schema": schema,
            "valid": error is None and not failures,
            "failures": [
                {
                    "pointer": f.pointer,
                    "message": f.message,
                    "schemaLocation": f.schema_location,
                    "value": f.value,
                }
                for f in failures
            ],
        }
        if error is not None:
            record["error"] = error
        self.out.write(orjson.dumps(record).decode() + "\n")


def _is_array_schema(schema: str | None) -> bool:
    return schema is not None and schema_document(schema).get("type") == "array"


def _line_of(pointer: str, lines: list[int] | None, default: int) -> int:
    """The line of the array element a pointer starts in (``/3/data`` -> element 3's line)."""
    first = pointer.split("/", 2)[1] if pointer.startswith("/") else ""
    if lines and first.isdigit() and int(first) < len(lines):
        return lines[int(first)]
    return default


def _sources(names: list[str]) -> Iterator[tuple[str, BinaryIO | str]]:
    """(display name, open binary file) per input, or (name, why it cannot be read)."""
    for name in names:
        if name == "-":
            yield "<stdin>", sys.stdin.buffer
            continue
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
            if not found:
                yield name, f"no {', '.join(SUFFIXES)} files in this folder"
            for child in found:
                yield from _open(str(child), child)
        else:
            yield from _open(name, path)


def _open(name: str, path: Path) -> Iterator[tuple[str, BinaryIO | str]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield name, f"cannot read: {exc.strerror or exc}"
        return
    with handle:
        yield name, handle


def run(arguments: argparse.Namespace) -> int:
    if arguments.output:
        try:
            with open(arguments.output, "w", encoding="utf-8") as out:
                return _run(arguments, out)
        except OSError as exc:
            print(
                f"callrec: cannot write {arguments.output}: {exc.strerror or exc}", file=sys.stderr
            )
            return EXIT_UNREADABLE
    return _run(arguments, sys.stdout)


def _run(arguments: argparse.Namespace, out: TextIO) -> int:
    checker = _Run(arguments, out)
    for source, contents in _sources(arguments.files):
        if isinstance(contents, str):
            checker.unreadable(source, 0, contents)
            continue
        try:
            for item in read_stream(contents):
                checker.item(source, item)
        except OSError as exc:  # e.g. a read error part way through a file
            checker.unreadable(source, 0, f"cannot read: {exc.strerror or exc}")
    counts = checker.counts
    total = counts["valid"] + counts["invalid"]
    summary = (
        f"callrec: {total} payloads checked: {counts['valid']} valid, {counts['invalid']} invalid"
    )
    if counts["unreadable"]:
        summary += f", {counts['unreadable']} unreadable inputs"
    print(summary, file=sys.stderr)
    if counts["unreadable"]:
        return EXIT_UNREADABLE
    return EXIT_INVALID if counts["invalid"] else EXIT_OK
