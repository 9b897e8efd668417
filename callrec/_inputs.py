"""Read payloads from JSON, JSON-array and NDJSON text, keeping line numbers.

A file that parses as one JSON document is one document. Anything else is read as NDJSON:
one document per non-blank line. A top-level array's elements can be placed on their
lines too (`element_lines`), so a failure inside element 3 points at element 3's line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import orjson

_TOKEN: Final = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.DOTALL)
_SPACE: Final = b" \t\r\n"
CHUNK_LINES: Final = 512


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


def _first_line(data: bytes) -> int:
    stripped = data.lstrip(_SPACE)
    return data.count(b"\n", 0, len(data) - len(stripped)) + 1


def read_documents(data: bytes) -> Iterator[Document | Unreadable]:
    """Yield the documents in ``data`` (JSON or NDJSON), or why a part is unreadable."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as whole_error:
        if not data.strip():
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
    for raw in data.splitlines():
        if raw.strip():
            try:
                orjson.loads(raw)
            except orjson.JSONDecodeError:
                return True
            return False
    return False


def _read_lines(data: bytes) -> Iterator[Document | Unreadable]:
    lines = data.split(b"\n")
    for start in range(0, len(lines), CHUNK_LINES):
        chunk = [
            (start + offset + 1, raw)
            for offset, raw in enumerate(lines[start : start + CHUNK_LINES])
        ]
        chunk = [(number, raw) for number, raw in chunk if raw.strip()]
        if not chunk:
            continue
        try:  # fast path: the whole chunk at once
            values = orjson.loads(b"[" + b",".join(raw for _, raw in chunk) + b"]")
        except orjson.JSONDecodeError:
            values = None
        if values is not None and len(values) == len(chunk):
            for (number, raw), value in zip(chunk, values, strict=True):
                yield Document(number, value, raw)
            continue
        for number, raw in chunk:
            try:
                yield Document(number, orjson.loads(raw), raw)
            except orjson.JSONDecodeError as exc:
                yield Unreadable(number, f"invalid JSON: {exc.msg}")


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
