"""Recorded content: the document store and the download/delete endpoints.

``GET /v1/objects/{documentId}/content/{kind}`` serves media (``kind`` as the event names it:
``audio``, ``video``, ``audiowavmultichannel``) or the metadata document (``acsmetadata``);
``DELETE /v1/objects/{documentId}`` removes both. Errors have empty bodies (contract digest §3:
the JS SDK mishandles JSON there). Bodies stream from a `Source` in blocks, with Range support,
so a large file is never held in memory.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

BLOCK: Final = 1 << 20
METADATA_KIND: Final = "acsmetadata"
_RANGE: Final = re.compile(r"^bytes=(\d*)-(\d*)$")


class Source(Protocol):
    """Bytes that can be read in any range without loading them whole."""

    @property
    def size(self) -> int: ...

    def blocks(self, start: int, stop: int) -> Iterator[bytes]:
        """The bytes [start, stop) in blocks of at most `BLOCK`."""
        ...


@dataclass(frozen=True)
class BytesSource:
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def blocks(self, start: int, stop: int) -> Iterator[bytes]:
        for offset in range(start, stop, BLOCK):
            yield self.data[offset : min(offset + BLOCK, stop)]


@dataclass(frozen=True)
class FileSource:
    path: Path

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def blocks(self, start: int, stop: int) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            handle.seek(start)
            left = stop - start
            while left > 0:
                block = handle.read(min(BLOCK, left))
                if not block:
                    return
                left -= len(block)
                yield block


@dataclass(frozen=True)
class Altered:
    """Another source with its first bytes replaced by ``head`` and its last ``cut`` bytes
    gone: what the media faults serve."""

    inner: Source
    head: bytes = b""
    cut: int = 0

    @property
    def size(self) -> int:
        return max(0, self.inner.size - self.cut)

    def blocks(self, start: int, stop: int) -> Iterator[bytes]:
        offset = start
        for original in self.inner.blocks(start, min(stop, self.size)):
            block = original
            if offset < len(self.head):
                covered = min(len(block), len(self.head) - offset)
                block = self.head[offset : offset + covered] + block[covered:]
            offset += len(block)
            yield block


@dataclass
class Document:
    """One chunk's files, as the event's locations name them."""

    document_id: str
    media_kind: str
    media: Source
    metadata: Source
    ready_at: float
    expires_at: float
    recording_id: str = ""
    extra_files: list[Path] = field(default_factory=list)
    # how to rebuild `media` after a restart: {"file": path} or {"wav": chunk index, ...}
    origin: dict[str, Any] = field(default_factory=dict)

    def source(self, kind: str) -> Source | None:
        if kind == METADATA_KIND:
            return self.metadata
        return self.media if kind == self.media_kind else None


class Store:
    """Documents by id; expired or deleted ones are gone."""

    def __init__(self) -> None:
        self.documents: dict[str, Document] = {}
        self.changed: set[str] = set()  # ids added or removed since persistence last looked

    def add(self, document: Document) -> None:
        self.documents[document.document_id] = document
        self.changed.add(document.document_id)

    def find(
        self, document_id: str, now: float, faults: Container[str] = frozenset()
    ) -> Document | None:
        document = self.documents.get(document_id)
        if document is None or now < document.ready_at:
            return None
        if now >= document.expires_at and "retention-not-applied" not in faults:
            self.remove(document_id)
            return None
        return document

    def remove(self, document_id: str) -> bool:
        document = self.documents.pop(document_id, None)
        if document is None:
            return False
        self.changed.add(document_id)
        for path in document.extra_files:
            path.unlink(missing_ok=True)
        return True


UNSATISFIABLE: Final = (-1, -1)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:  # noqa: PLR0911 (one return per RFC 9110 case)
    """[start, stop) for a single-range header; None: serve everything; `UNSATISFIABLE`.

    ``bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` are honoured; anything else (several
    ranges, another unit, garbage) is ignored, as RFC 9110 allows.
    """
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:  # suffix: the last n bytes
        length = int(last)
        if length == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - length), size
    start = int(first)
    if start >= size:
        return UNSATISFIABLE
    stop = size if not last else min(int(last) + 1, size)
    if stop <= start:
        return None  # a-b with b < a is invalid: ignore the header
    return start, stop


def _empty(status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(b"", status_code=status, headers=headers)


def download(
    store: Store,
    request: Request,
    document_id: str,
    kind: str,
    now: float,
    *,
    faults: Container[str] = frozenset(),
) -> Response:
    """``faults``: the emulator's faults switched on (a few act here)."""
    document = store.find(document_id, now, faults)
    source = document.source(kind) if document is not None else None
    if source is None:
        return _empty(404)
    size = source.size
    wanted = parse_range(request.headers.get("range"), size)
    if "range-ignored" in faults:  # fault: always the whole object
        wanted = None
    headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
    if "download-wrong-content-type" in faults and kind != METADATA_KIND:
        headers["Content-Type"] = "binary/octet-stream"
    if wanted == UNSATISFIABLE:
        return _empty(416, {"Content-Range": f"bytes */{size}"})
    if wanted is None:
        start, stop, status = 0, size, 200
    else:
        start, stop = wanted
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    headers["Content-Length"] = str(stop - start)
    if request.method == "HEAD":
        return Response(b"", status_code=status, headers=headers)
    return StreamingResponse(source.blocks(start, stop), status_code=status, headers=headers)


def delete(
    store: Store, document_id: str, now: float, *, faults: Container[str] = frozenset()
) -> Response:
    if store.find(document_id, now, faults) is None:
        return _empty(404)
    if "delete-not-deleting" not in faults:  # the fault answers 200 and keeps everything
        store.remove(document_id)
    return _empty(200)


def route(raw_path: str) -> tuple[str, str | None] | None:
    """(documentId, kind or None for the object itself) of a content path, else None."""
    parts = raw_path.split("/")
    # "", "v1", "objects", id[, "content", kind]
    if len(parts) == 4 and parts[:3] == ["", "v1", "objects"] and parts[3]:
        return unquote(parts[3]), None
    if (
        len(parts) == 6
        and parts[:3] == ["", "v1", "objects"]
        and parts[4] == "content"
        and all(parts[3::2])
    ):
        return unquote(parts[3]), unquote(parts[5])
    return None
