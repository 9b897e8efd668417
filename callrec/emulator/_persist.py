"""Durable state: the emulator's calls, recordings, documents, subscriptions and owed deliveries.

Everything lives in one SQLite database in the data dir (``state.sqlite3``), one row per
object, each row the object's JSON. After every request (and every background change: an
activation, files produced, an event announced, a delivery over) the objects that changed are
written in one transaction, so a process killed at any moment leaves the state of the last
finished transaction: never half of a change. Encoded media files are written before the row
that names them; a file no row names (the process died while encoding) is removed at the
next start. WAV media is not stored: it is planned again from its recording.

SQLite runs in WAL mode with ``synchronous=OFF``: a commit survives the process being killed
(the operating system has the write; a test kills it with SIGKILL at random moments), not
the machine losing power, which an emulator need not (a commit costs ~30 µs instead of ~40).

Not kept: the delivery log (`/emulator/deliveries` starts empty) and the attempt count of a
delivery in progress (an owed delivery starts again from its first attempt).
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, TypeVar

import orjson

from callrec.emulator import _finish
from callrec.emulator._content import BytesSource, Document, FileSource, Source
from callrec.emulator._eventgrid import Subscription
from callrec.emulator._model import Call, Recording

if TYPE_CHECKING:
    from callrec.emulator._state import Emulator

LOG = logging.getLogger("callrec.emulator")
T = TypeVar("T")
FILENAME: Final = "state.sqlite3"
LOCKNAME: Final = "state.lock"
FORMAT: Final = 1  # bumped when rows change shape; an older store is refused with a message
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS outbox (sequence INTEGER PRIMARY KEY, body BLOB NOT NULL);
"""


_UPSERT: Final = "INSERT OR REPLACE INTO objects VALUES (?, ?, ?)"
_REMOVE: Final = "DELETE FROM objects WHERE kind = ? AND id = ?"


def _sync(
    cursor: sqlite3.Cursor,
    kind: str,
    changed: set[str],
    current: Mapping[str, T],
    row: Callable[[T], dict[str, Any]],
) -> None:
    """Write the rows of the changed objects of one kind; delete those that are gone."""
    for object_id in changed:
        found = current.get(object_id)
        if found is None:
            cursor.execute(_REMOVE, (kind, object_id))
        else:
            cursor.execute(_UPSERT, (kind, object_id, _dump(row(found))))


class StoreError(Exception):
    """The data dir's state cannot be used (in use, another format, or not a database)."""


def _lock(path: Path) -> IO[bytes]:
    """Hold an exclusive lock on ``path`` while the returned file is open: one emulator per
    data dir (two would overwrite each other's state)."""
    handle = path.open("a+b")
    try:
        import fcntl  # noqa: PLC0415 (POSIX only; elsewhere the data dir is not locked)
    except ImportError:
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise StoreError(
            f"another emulator is using the data dir {path.parent}: stop it or choose another"
        ) from None
    return handle


def _dump(value: Any) -> bytes:
    return orjson.dumps(value)


def _call_row(call: Call) -> dict[str, Any]:
    row = {f.name: getattr(call, f.name) for f in dataclasses.fields(call) if f.name != "running"}
    return row


def _recording_row(recording: Recording) -> dict[str, Any]:
    row = {
        f.name: getattr(recording, f.name)
        for f in dataclasses.fields(recording)
        if f.name != "call"
    }
    row["call"] = recording.call.server_call_id
    return row


def _document_row(document: Document) -> dict[str, Any]:
    metadata = b"".join(document.metadata.blocks(0, document.metadata.size))
    return {
        "documentId": document.document_id,
        "mediaKind": document.media_kind,
        "metadata": metadata.decode(),
        "readyAt": document.ready_at,
        "expiresAt": document.expires_at,
        "recordingId": document.recording_id,
        "extraFiles": [path.name for path in document.extra_files],
        "origin": document.origin,
    }


def _subscription_row(subscription: Subscription) -> dict[str, Any]:
    return dataclasses.asdict(subscription)


class Persistence:
    """Writes what changed; reads it all back at start."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / FILENAME
        self.generation = 0  # the emulator's reset count the store reflects
        self._clock_offset: float | None = None
        self._content_base: str | None = None
        self._faults: frozenset[str] | None = None
        self._repeated = 0
        self._subscriptions: dict[str, bytes] = {}
        self._outbox: set[int] = set()
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = _lock(folder / LOCKNAME)
        try:
            self._db = self._open()
        except BaseException:
            self._lock.close()
            raise

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT body FROM meta WHERE name = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not an emulator state database: {exc}") from exc
        found = None if row is None else orjson.loads(row[0])
        if found is None:
            db.execute("INSERT INTO meta VALUES ('format', ?)", (_dump(FORMAT),))
        elif found != FORMAT:
            db.close()
            raise StoreError(
                f"{self.path} holds emulator state of format {found}; this callrec writes "
                f"format {FORMAT}: use another --data-dir or remove the file"
            )
        return db

    def close(self) -> None:
        self._db.close()
        self._lock.close()  # releases the lock

    def _meta(self, name: str) -> Any:
        row = self._db.execute("SELECT body FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else orjson.loads(row[0])

    # ------------------------------------------------------------ writing
    def flush(self, emulator: Emulator) -> None:
        """Write every change since the last flush, in one transaction."""
        model, store, deliveries = emulator.model, emulator.store, emulator.deliveries
        wiped = emulator.generation != self.generation
        if wiped:
            self._forget()
        subscriptions = {
            subscription.id: _dump(_subscription_row(subscription))
            for subscription in emulator.eventgrid.subscriptions()
        }
        faults = frozenset(emulator.faults.active)
        if not (
            wiped
            or model.changed_calls
            or model.changed_recordings
            or store.changed
            or deliveries.outbox_changed
            or len(emulator.repeated) != self._repeated
            or emulator.clock.offset != self._clock_offset
            or faults != self._faults
            or subscriptions != self._subscriptions
        ):
            return
        with closing(self._db.cursor()) as cursor:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                if wiped:
                    cursor.execute("DELETE FROM objects")
                    cursor.execute("DELETE FROM outbox")
                self._write(cursor, emulator, subscriptions, faults)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")
        self.generation = emulator.generation

    def _forget(self) -> None:
        self._repeated = 0
        self._subscriptions = {}
        self._outbox = set()

    def _write(
        self,
        cursor: sqlite3.Cursor,
        emulator: Emulator,
        subscriptions: dict[str, bytes],
        faults: frozenset[str],
    ) -> None:
        model, store, deliveries = emulator.model, emulator.store, emulator.deliveries
        _sync(cursor, "call", model.changed_calls, model.calls, _call_row)
        _sync(cursor, "recording", model.changed_recordings, model.recordings, _recording_row)
        _sync(cursor, "document", store.changed, store.documents, _document_row)
        if len(emulator.repeated) != self._repeated:
            for request_id, (status, body) in list(emulator.repeated.items())[self._repeated :]:
                cursor.execute(_UPSERT, ("repeat", request_id, _dump([status, body])))
            self._repeated = len(emulator.repeated)
        if subscriptions != self._subscriptions:
            self._write_subscriptions(cursor, subscriptions)
        if deliveries.outbox_changed:
            self._write_outbox(cursor, deliveries.outbox)
        meta = "INSERT OR REPLACE INTO meta VALUES (?, ?)"
        base = emulator.content_base_url()
        if base != self._content_base:
            cursor.execute(meta, ("contentBase", _dump(base)))
            self._content_base = base
        if emulator.clock.offset != self._clock_offset:
            cursor.execute(meta, ("clockOffset", _dump(emulator.clock.offset)))
            self._clock_offset = emulator.clock.offset
        if faults != self._faults:
            cursor.execute(meta, ("faults", _dump(sorted(faults))))
            self._faults = faults
        model.changed_calls.clear()
        model.changed_recordings.clear()
        store.changed.clear()
        deliveries.outbox_changed = False

    def _write_subscriptions(self, cursor: sqlite3.Cursor, subscriptions: dict[str, bytes]) -> None:
        for gone in self._subscriptions.keys() - subscriptions.keys():
            cursor.execute(_REMOVE, ("subscription", gone))
        for subscription_id, body in subscriptions.items():
            if self._subscriptions.get(subscription_id) != body:
                cursor.execute(_UPSERT, ("subscription", subscription_id, body))
        self._subscriptions = subscriptions
        cursor.execute(
            "INSERT OR REPLACE INTO meta VALUES ('subscriptionsKept', ?)", (_dump(True),)
        )

    def _write_outbox(self, cursor: sqlite3.Cursor, outbox: dict[int, dict[str, Any]]) -> None:
        owed = set(outbox)
        for sequence in self._outbox - owed:
            cursor.execute("DELETE FROM outbox WHERE sequence = ?", (sequence,))
        for sequence in sorted(owed - self._outbox):
            cursor.execute("INSERT INTO outbox VALUES (?, ?)", (sequence, _dump(outbox[sequence])))
        self._outbox = owed

    # ------------------------------------------------------------ reading
    def _rows(self, kind: str) -> Iterator[tuple[str, Any]]:
        cursor = self._db.execute("SELECT id, body FROM objects WHERE kind = ?", (kind,))
        for object_id, body in cursor:
            yield object_id, orjson.loads(body)

    def load(self, emulator: Emulator) -> int:
        """Put the stored state into a fresh ``emulator``; the number of objects read."""
        offset = self._meta("clockOffset")
        emulator.clock.offset = self._clock_offset = float(offset or 0.0)
        faults = self._meta("faults") or []
        emulator.faults.active.update(faults)
        self._faults = frozenset(faults)
        calls = {
            call_id: Call(**{**row, "participants": dict(row["participants"])})
            for call_id, row in self._rows("call")
        }
        recordings = [
            Recording(**{**row, "call": calls[row["call"]]}) for _, row in self._rows("recording")
        ]
        _move_locations(recordings, self._meta("contentBase"), emulator.content_base_url())
        emulator.model.restore(list(calls.values()), recordings)
        by_id = {recording.id: recording for recording in recordings}
        documents = 0
        referenced: set[str] = set()
        for document_id, row in self._rows("document"):
            document = self._document(emulator, row, by_id.get(row["recordingId"]))
            if document is None:
                LOG.warning("dropping stored document %s: its media is gone", document_id)
                continue
            emulator.store.documents[document_id] = document
            referenced.update(path.name for path in document.extra_files)
            documents += 1
        for request_id, (status, body) in self._rows("repeat"):
            emulator.repeated[request_id] = (int(status), body)
        self._repeated = len(emulator.repeated)
        subscriptions = [Subscription(**row) for _, row in self._rows("subscription")]
        for subscription in subscriptions:
            if subscription.event_types is not None:
                subscription.event_types = tuple(subscription.event_types)
        if subscriptions or self._meta("subscriptionsKept"):
            emulator.eventgrid.restore(subscriptions)
        self._subscriptions = {s.id: _dump(_subscription_row(s)) for s in subscriptions}
        self._remove_orphans(emulator.media_folder(), referenced)
        self.generation = emulator.generation
        return len(calls) + len(recordings) + documents + len(subscriptions)

    def owed(self) -> list[dict[str, Any]]:
        """The deliveries the previous run did not finish, oldest first (and forgets them:
        queueing them again records them anew)."""
        rows = self._db.execute("SELECT body FROM outbox ORDER BY sequence").fetchall()
        self._db.execute("DELETE FROM outbox")
        return [orjson.loads(body) for (body,) in rows]

    def _document(
        self, emulator: Emulator, row: dict[str, Any], recording: Recording | None
    ) -> Document | None:
        origin = row["origin"]
        folder = emulator.media_folder()
        media: Source
        if "file" in origin:
            path = folder / str(origin["file"])
            if not path.is_file():
                return None
            media = FileSource(path)
        elif "wav" in origin and recording is not None:
            media = _finish.rebuild_wav(emulator, recording, origin)
        else:
            return None
        return Document(
            row["documentId"],
            row["mediaKind"],
            media,
            BytesSource(str(row["metadata"]).encode()),
            ready_at=float(row["readyAt"]),
            expires_at=float(row["expiresAt"]),
            recording_id=row["recordingId"],
            extra_files=[folder / name for name in row["extraFiles"]],
            origin=origin,
        )

    @staticmethod
    def _remove_orphans(folder: Path, referenced: set[str]) -> None:
        """Media files no document names: left by a process that died while encoding."""
        for path in folder.iterdir():
            if path.is_file() and path.name not in referenced:
                LOG.info("removing %s: no recording names it", path.name)
                path.unlink(missing_ok=True)


def _move_locations(recordings: list[Recording], old: str | None, new: str) -> None:
    """Chunk locations under the content URL of the previous run now point at this run's
    (the emulator restarted on another port or behind another public URL)."""
    if not old or old == new:
        return
    for recording in recordings:
        for chunk in recording.chunks:
            for name, value in chunk.items():
                if isinstance(value, str) and value.startswith(old + "/"):
                    chunk[name] = new + value[len(old) :]
