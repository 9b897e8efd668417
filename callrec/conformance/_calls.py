"""Call providers: where the calls to record come from.

A recording needs an established call. On a callrec emulator the control API creates one per
test (with participants, and can end it). On any other endpoint the user keeps calls alive
and names them (``--server-call-id``); those calls can be recorded but not created, ended or
joined, so the tests needing that are "not applicable" there. Users with their own way of
making calls (a bot that dials in, say) implement `CallProvider` and return it from the
``pytest_callrec_call_provider`` hook in their ``conftest.py``.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from callrec.client import Client
from callrec.conformance import _locks

NOT_APPLICABLE: Final = "not applicable: "  # how a skip reason says the outcome
LEND_WAIT: Final = 600.0  # seconds a test waits for a supplied call to be free


class NotApplicable(Exception):  # noqa: N818 (an outcome, not an error)
    """What a test needs cannot be had from this target or provider; the message says why."""


@dataclass(frozen=True)
class ProvidedCall:
    """A call the suite may record: its server call id and who is in it (identifiers in the
    wire shape, ``rawId`` and the typed part)."""

    server_call_id: str
    participants: tuple[dict[str, Any], ...] = ()
    call_connection_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class CallProvider(Protocol):
    """Gives calls to tests. ``capabilities`` names what else it can do with them:
    ``"end"`` (end a call: recordings stop with CallEnded), ``"participants"`` (known, typed
    participants, e.g. for channelAffinity), ``"fresh"`` (a new call per test)."""

    capabilities: frozenset[str]

    def call(self, participants: int = 3) -> AbstractContextManager[ProvidedCall]:
        """A call to use for the duration of the ``with`` block."""
        ...

    def end(self, call: ProvidedCall) -> None:
        """End the call (only with the ``"end"`` capability)."""
        ...


def _person(run: str, number: int) -> dict[str, Any]:
    raw = f"8:acs:callrec-{run}_{number:04d}"
    return {"rawId": raw, "kind": "communicationUser", "communicationUser": {"id": raw}}


class EmulatorCalls:
    """Calls made through a callrec emulator's control API, one per use, ended after."""

    capabilities = frozenset({"end", "participants", "fresh"})

    def __init__(self, client: Client) -> None:
        self.client = client
        self.run = uuid.uuid4().hex[:12]  # unique participant ids per run and worker
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    @contextmanager
    def call(self, participants: int = 3) -> Iterator[ProvidedCall]:
        with self._lock:
            people = [_person(self.run, next(self._numbers)) for _ in range(participants)]
        made = self.client.create_call(people)
        call = ProvidedCall(
            made["serverCallId"],
            tuple(people),
            made.get("callConnectionId"),
            {"groupCallId": made.get("groupCallId")},
        )
        try:
            yield call
        finally:
            self.end(call)

    def end(self, call: ProvidedCall) -> None:
        answer = self.client.request(
            "GET", f"/emulator/calls/{_quote(call.server_call_id)}", params=None
        )
        if answer.status_code == 200 and not answer.json().get("ended"):
            self.client.end_call(call.server_call_id)


class SuppliedCalls:
    """Calls the user keeps alive and names with ``--server-call-id``. Each is lent to one
    test at a time (a call holds one recording at a time); a test waits for a free one. With
    ``lock_dir`` (the run's folder) the lending holds across processes too: a call is lent
    under an exclusive lock on ``<lock_dir>/<hash of its id>.lock``, so xdist workers never
    record the same call at once."""

    capabilities: frozenset[str] = frozenset()

    def __init__(self, server_call_ids: tuple[str, ...], lock_dir: Path | None = None) -> None:
        self._free = list(server_call_ids)
        self._condition = threading.Condition()
        self._lock_dir = lock_dir

    def _hold(self, server_call_id: str) -> int | None:
        """-1 (no cross-process lending), a descriptor holding the call's lock, or None."""
        if self._lock_dir is None:
            return -1
        name = hashlib.sha256(server_call_id.encode()).hexdigest()[:24]
        return _locks.try_hold(self._lock_dir / f"{name}.lock")

    def _borrow(self) -> tuple[str, int]:
        deadline = time.monotonic() + LEND_WAIT
        with self._condition:
            while True:
                for server_call_id in list(self._free):
                    fd = self._hold(server_call_id)
                    if fd is not None:
                        self._free.remove(server_call_id)
                        return server_call_id, fd
                left = deadline - time.monotonic()
                if left <= 0:
                    raise NotApplicable(
                        f"every --server-call-id stayed in use for {LEND_WAIT / 60:g} minutes"
                    )
                # another process may free one without notifying this one: look again soon
                self._condition.wait(min(left, 0.05 if self._free else left))

    @contextmanager
    def call(self, participants: int = 3) -> Iterator[ProvidedCall]:
        del participants  # the user's calls have whoever is in them
        server_call_id, fd = self._borrow()
        try:
            yield ProvidedCall(server_call_id)
        finally:
            if fd >= 0:
                os.close(fd)
            with self._condition:
                self._free.append(server_call_id)
                self._condition.notify()

    def end(self, call: ProvidedCall) -> None:
        raise NotApplicable(f"the suite cannot end the supplied call {call.server_call_id[:12]}…")


class NoCalls:
    """A target with no way to get calls: every test needing a call is not applicable."""

    capabilities: frozenset[str] = frozenset()

    def call(self, participants: int = 3) -> AbstractContextManager[ProvidedCall]:
        del participants
        raise NotApplicable(
            "no calls to record: this endpoint has no callrec control API; keep a call alive "
            "and pass --server-call-id (or provide calls with the pytest_callrec_call_provider "
            "hook)"
        )

    def end(self, call: ProvidedCall) -> None:
        raise NotApplicable("no call provider")


def _quote(value: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415

    return quote(value, safe="")
