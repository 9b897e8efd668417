"""Read payloads from JSON, JSON-array and NDJSON text, keeping line numbers.

A file that parses as one JSON document is one document. Anything else is read as NDJSON:
one document per non-blank line. A top-level array's elements can be placed on their
lines too (`element_lines`), so a failure inside element 3 points at element 3's line.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

import orjson

_TOKEN: Final = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.DOTALL)
_SPACE: Final = b" \t\r\n"
REGION_BYTES: Final = 64 << 10  # small enough to stay in cache between parse and check
WHOLE_LIMIT: Final = 64 << 20  # inputs smaller than this are read at once


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed JSON document and where it starts (1-based line)."""

    line: int
    value: Any
    text: bytes  # the document's own bytes, for locating array elements


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Text that is not JSON, and why."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Batch:
    """Consecutive NDJSON lines that all parsed: element ``i`` is on line ``line + i``."""

    line: int
    values: list[Any]
    text: bytes  # the lines, newline-separated, for locating array elements on demand

    def documents(self) -> Iterator[Document]:
        for offset, (value, raw) in enumerate(
            zip(self.values, self.text.split(b"\n"), strict=True)
        ):
            yield Document(self.line + offset, value, raw)


def _first_line(data: bytes) -> int:
    stripped = data.lstrip(_SPACE)
    return data.count(b"\n", 0, len(data) - len(stripped)) + 1


def read_documents(data: bytes) -> Iterator[Document | Batch | Unreadable]:
    """Yield what ``data`` holds: one document, or NDJSON batches, or why a part is unreadable."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as whole_error:
        if not data or data.isspace():  # isspace stops at the first other byte; strip would copy
            yield Unreadable(1, "empty input: no JSON document")
            return
        if _looks_like_one_document(data):
            yield Unreadable(whole_error.lineno, f"invalid JSON: {whole_error.msg}")
            return
        yield from _read_lines(data)
    else:
        yield Document(_first_line(data), value, data)


def _looks_like_one_document(data: bytes) -> bool:
    """True when the first non-blank line is not a complete document on its own."""
    position = 0
    while position < len(data):
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end
        line = data[position:end]
        if line.strip():
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                return True
            return False
        position = end + 1
    return False


def read_stream(handle: BinaryIO) -> Iterator[Document | Batch | Unreadable]:
    """Like `read_documents`, for a file: large NDJSON input is read a region at a time, so
    memory stays flat whatever the file's size. A large input whose first line is not a
    complete document is one big JSON document and is read whole."""
    head = handle.read(WHOLE_LIMIT)
    if len(head) < WHOLE_LIMIT:
        yield from read_documents(head)
        return
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if _looks_like_one_document(head):
        yield from read_documents(head + handle.read())
        return
    line, pending = 1, head
    while True:
        more = handle.read(REGION_BYTES)
        if not more:
            yield from _read_lines(pending, line)
            return
        pending += more
        cut = pending.rfind(b"\n") + 1
        if cut:
            line = yield from _read_lines(pending[:cut], line)
            pending = pending[cut:]


def _read_lines(data: bytes, line: int = 1) -> Generator[Batch | Document | Unreadable, None, int]:
    """NDJSON, a region of about REGION_BYTES at a time (regions end at a line end);
    returns the number of the line after ``data``."""
    position, size = 0, len(data)
    while position < size:
        end = data.find(b"\n", min(position + REGION_BYTES, size - 1))
        end = size if end < 0 else end + 1
        region = data[position:end]
        line = yield from _read_region(region, line)
        position = end
    return line


def _read_region(
    region: bytes, first_line: int
) -> Generator[Batch | Document | Unreadable, None, int]:
    """Yield the region's contents; return the line number after it."""
    body = region.rstrip(b"\r\n")
    newlines = body.count(b"\n")
    next_line = first_line + newlines + region.count(b"\n", len(body))
    if body:
        # Fast path: the region's lines as one JSON array. A blank line, a line that is not
        # one JSON value, or a parse error anywhere sends the region down the slow path.
        try:
            values = orjson.loads(b"[" + body.replace(b"\n", b",") + b"]")
        except orjson.JSONDecodeError:
            values = None
        if values is not None and len(values) == newlines + 1:
            yield Batch(first_line, values, body)
            return next_line
    for offset, raw in enumerate(region.split(b"\n")):
        if not raw.strip():
            continue
        try:
            yield Document(first_line + offset, orjson.loads(raw), raw)
        except orjson.JSONDecodeError as exc:
            yield Unreadable(first_line + offset, f"invalid JSON: {exc.msg}")
    return next_line


def element_lines(document: Document) -> list[int]:
    """The line each element of a top-level JSON array starts on."""
    text = document.text
    origin = len(text) - len(text.lstrip(_SPACE))
    starts: list[int] = []
    depth = 0
    expecting = False
    position = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if expecting and depth == 1:
            gap_start = _skip(text, position)
            if gap_start < match.start():  # a number, true, false or null
                starts.append(gap_start)
            elif token not in (b"]", b","):
                starts.append(match.start())
            expecting = False
        if token in (b"[", b"{"):
            depth += 1
            expecting = depth == 1
        elif token in (b"]", b"}"):
            depth -= 1
        elif token == b"," and depth == 1:
            expecting = True
        position = match.end()
    return [document.line + text.count(b"\n", origin, start) for start in starts]


def _skip(text: bytes, position: int) -> int:
    while position < len(text) and text[position] in _SPACE:
        position += 1
    return position
