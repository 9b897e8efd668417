"""The cleanup journal: every recording a run starts, so that none outlives it.

``<report dir>/<run id>/journal.jsonl``, append-only, one JSON object a line, each append made
under an exclusive ``flock`` and ``fsync``-ed before the request goes on (all processes of a
run share the file):

- ``intent``: a start is about to be sent (request id, server call id, api-version, test);
  written *before* the request, so a run that dies while waiting for the answer still says
  which call it may have left recording;
- ``started``: its answer named a recording id;
- ``closed``: the item needs nothing more (stopped, already gone, the start was refused, the
  call ended, or the start's outcome is unknowable), with the reason.

Every process of a live run holds a shared lock on ``<run folder>/.alive``; the kernel drops it
when the process ends, however it ends. A later run (`dead_runs`) takes a journal whose
``.alive`` nobody holds for one left by a dead run, and stops what it left open. Recordings
the journal does not name (the user's own) are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from callrec.conformance import _locks

FILE: Final = "journal.jsonl"
ALIVE: Final = ".alive"


@dataclass(frozen=True)
class Item:
    """One start the journal knows of."""

    req: str  # the journal's request id
    run: str
    endpoint: str
    call: str | None  # server call id (or group call id, call connection id) the start named
    version: str | None  # the api-version the start was sent with
    test: str | None  # the test that sent it (None: outside any test)
    recording_id: str | None = None  # once the answer named one


@dataclass
class Journal:
    """One process's writer of its run's journal, and what it started that is still open."""

    folder: Path
    run: str
    endpoint: str
    test: str | None = None  # the test running in this process now (the plugin sets it)
    unanswered: list[Item] = field(default_factory=list)  # starts whose outcome is unknown
    _open: dict[str, Item] = field(default_factory=dict, init=False, repr=False)
    _fd: int | None = field(default=None, init=False, repr=False)
    _alive: int | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._alive = _locks.open_file(self.folder / ALIVE)
        _locks.acquire(self._alive, shared=True)

    @property
    def path(self) -> Path:
        return self.folder / FILE

    def close(self) -> None:
        for fd in (self._fd, self._alive):
            if fd is not None:
                os.close(fd)
        self._fd = self._alive = None

    # ------------------------------------------------------------ writing
    def _append(self, *entries: dict[str, Any]) -> None:
        if self._fd is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        append(self._fd, entries)

    def intend(self, call: str | None, version: str | None) -> Item:
        """Note a start about to be sent (before it is sent)."""
        item = Item(uuid.uuid4().hex[:16], self.run, self.endpoint, call, version, self.test)
        with self._lock:
            self._append(
                {
                    "e": "intent",
                    "req": item.req,
                    "run": item.run,
                    "pid": os.getpid(),
                    "endpoint": item.endpoint,
                    "call": item.call,
                    "v": item.version,
                    "test": item.test,
                    "at": time.time(),
                }
            )
        return item

    def started(self, item: Item, recording_id: str) -> None:
        with self._lock:
            self._append({"e": "started", "req": item.req, "id": recording_id, "at": time.time()})
            self._open[item.req] = replace(item, recording_id=recording_id)

    def closed(self, item: Item, why: str) -> None:
        """The start made nothing to stop (refused, never sent, or its outcome is unknown:
        ``unanswered``)."""
        with self._lock:
            self._append({"e": "closed", "req": item.req, "why": why, "at": time.time()})
            self._open.pop(item.req, None)
            if why.startswith("no answer"):
                self.unanswered.append(item)

    def _close_where(self, found: list[Item], why: str) -> int:
        if found:
            now = time.time()
            self._append(*({"e": "closed", "req": i.req, "why": why, "at": now} for i in found))
            for item in found:
                del self._open[item.req]
        return len(found)

    def stopped(self, recording_id: str, why: str) -> int:
        """A stop of ``recording_id`` succeeded (or found it gone)."""
        with self._lock:
            found = [i for i in self._open.values() if i.recording_id == recording_id]
            return self._close_where(found, why)

    def call_ended(self, server_call_id: str) -> int:
        """The call ended: its recordings stopped with it."""
        with self._lock:
            found = [i for i in self._open.values() if i.call == server_call_id]
            return self._close_where(found, "the call ended")

    # ------------------------------------------------------------ reading
    def is_open(self, recording_id: str) -> bool:
        with self._lock:
            return any(i.recording_id == recording_id for i in self._open.values())

    def open_items(self, *, test: str | bool | None = True) -> list[Item]:
        """Recordings this process started and has not seen stop (``test``: only those one
        test started; True: all)."""
        with self._lock:
            return [item for item in self._open.values() if test is True or item.test == test]


def append(fd: int, entries: Any) -> None:
    """Append JSON lines to an O_APPEND descriptor under its lock, durably."""
    data = "".join(json.dumps(entry) + "\n" for entry in entries).encode()
    with _locks.held(fd):
        os.write(fd, data)
        os.fsync(fd)


def unresolved(path: Path) -> list[Item]:
    """The items of a journal file that were never closed."""
    items: dict[str, Item] = {}
    with contextlib.suppress(OSError), path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:  # a line cut short by a crash: the rest is still good
                continue
            if not isinstance(entry, dict):
                continue
            req = str(entry.get("req"))
            kind = entry.get("e")
            if kind == "intent":
                items[req] = Item(
                    req,
                    str(entry.get("run")),
                    str(entry.get("endpoint")),
                    entry.get("call"),
                    entry.get("v"),
                    entry.get("test"),
                )
            elif kind == "started" and req in items:
                items[req] = replace(items[req], recording_id=str(entry.get("id")))
            elif kind == "closed":
                items.pop(req, None)
    return list(items.values())


@dataclass(frozen=True)
class Left:
    """A journal with open items whose run has ended; ``fd`` holds its ``.alive`` lock (so no
    other run cleans it at the same time) until `close`."""

    path: Path
    items: list[Item]
    fd: int | None

    def mark(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            append(fd, entries)
        finally:
            os.close(fd)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)


def dead_runs(report_dir: Path, own_run: str) -> Iterator[Left]:
    """Journals of other runs in ``report_dir`` with open items, whose run is over."""
    for path in sorted(report_dir.glob(f"*/{FILE}")):
        folder = path.parent
        if folder.name == own_run:
            continue
        items = unresolved(path)
        if not items:
            continue
        fd = _locks.try_hold(folder / ALIVE)
        if fd is None:  # a process of that run is still alive: its items are its own business
            continue
        yield Left(path, items, fd)


def own_leftovers(folder: Path) -> Left | None:
    """This run's own open items, once every process of it is done (the controller's session
    end: a worker that crashed left them)."""
    path = folder / FILE
    items = unresolved(path) if path.is_file() else []
    return Left(path, items, None) if items else None


@dataclass(frozen=True)
class Carried:
    """One journal `carry` copied (or left where it was, with the reason)."""

    run: str  # the run folder's name
    open_items: int
    skipped: str | None = None  # why it was not copied


def carry(source: Path, into: Path) -> list[Carried]:
    """Copy the journals under ``source`` (an earlier run's report folder, e.g. the previous
    nightly's artifact) that still name open items into ``into``, each under its run folder's
    name, so that a run with ``--report-dir into`` stops what they left. Closed journals stay
    behind (nothing to do, and they would pile up night after night); a folder of that name
    already in ``into`` is not overwritten."""
    found: list[Carried] = []
    for path in sorted(source.glob(f"*/{FILE}")):
        items = unresolved(path)
        if not items:
            continue
        name = path.parent.name
        target = into / name / FILE
        if target.exists():
            found.append(Carried(name, len(items), f"{into / name} already has a journal"))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        found.append(Carried(name, len(items)))
    return found
