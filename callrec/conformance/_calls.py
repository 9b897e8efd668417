"""Call providers: where the calls to record come from.

A recording needs an established call. On a callrec emulator the control API creates one per
test (with participants, and can end it). On any other endpoint the user keeps calls alive
and names them (``--server-call-id``); those calls can be recorded but not created, ended or
joined, so the tests needing that are "not applicable" there. Users with their own way of
making calls (a bot that dials in, say) implement `CallProvider` and return it from the
``pytest_callrec_call_provider`` hook in their ``conftest.py``.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from callrec.client import Client


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
    test at a time (a call holds one recording at a time); a test waits for a free one."""

    capabilities: frozenset[str] = frozenset()

    def __init__(self, server_call_ids: tuple[str, ...]) -> None:
        self._free = list(server_call_ids)
        self._condition = threading.Condition()

    @contextmanager
    def call(self, participants: int = 3) -> Iterator[ProvidedCall]:
        del participants  # the user's calls have whoever is in them
        with self._condition:
            if not self._condition.wait_for(lambda: bool(self._free), timeout=600):
                raise NotApplicable("every --server-call-id stayed in use for 10 minutes")
            server_call_id = self._free.pop(0)
        try:
            yield ProvidedCall(server_call_id)
        finally:
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
