"""A run's care for the target and for the user's data, in one process: the guard every
client sends through (`_guard`), the cleanup journal (`_journal`) and the stops it calls for,
the secrets kept out of everything written (`_redact`).

Recordings the run started are stopped at the end of the test that started them (when the
test did not), at the end of each process, by the controller for workers that died, and by the
next run for a run that died altogether (`recover_dead_runs`). Only recordings a journal names
are ever stopped.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from callrec.auth import ConnectionString
from callrec.client import Client
from callrec.conformance._guard import Guard, Policy
from callrec.conformance._journal import Item, Journal, Left, dead_runs, own_leftovers
from callrec.conformance._ledger import Ledger, Limits
from callrec.conformance._redact import Redactor
from callrec.conformance._target import Target

LOG = logging.getLogger("callrec.conformance")


@dataclass
class Tally:
    """What cleanup did (summed over a run's processes for the summary and the footer)."""

    afterTests: int = 0  # noqa: N815 (the footer's JSON names)
    atEnd: int = 0  # noqa: N815
    deadRuns: int = 0  # noqa: N815
    gone: int = 0
    failed: int = 0
    unanswered: int = 0
    elsewhere: int = 0
    runs: list[str] = field(default_factory=list)  # dead runs whose recordings were stopped

    def add(self, other: dict[str, Any]) -> None:
        for name, value in other.items():
            if name == "runs":
                self.runs += [run for run in value if run not in self.runs]
            elif isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


class Safety:
    """One process's guard, journal and redactor (``guard`` and ``journal`` are None when the
    run asks for nothing they do: the default run against the embedded emulator)."""

    def __init__(
        self,
        *,
        folder: Path,
        run_id: str,
        connection: ConnectionString | None,
        limits: Limits,
        policy: Policy,
    ) -> None:
        self.folder = folder  # <report dir>/<run id>
        self.redact = Redactor([connection.access_key] if connection else [])
        self.journal = (
            Journal(folder, run_id, connection.endpoint) if connection is not None else None
        )
        self.ledger = Ledger(folder, limits) if limits.any else None
        careful = self.journal or self.ledger or policy.retries or policy.no_destructive
        self.guard = Guard(policy, ledger=self.ledger, journal=self.journal) if careful else None
        self.target: Target | None = None
        self.tally = Tally()
        self._client: Client | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        for part in (self.journal, self.ledger):
            if part is not None:
                part.close()

    # ------------------------------------------------------------ stopping
    def _cleanup_client(self) -> Client | None:
        if self._client is None and self.target is not None:
            self._client = self.target.client()
        return self._client

    def _stop(self, item: Item) -> int | None:
        """Stop one journaled recording: the answer's status, None when none came."""
        client = self._cleanup_client()
        if client is None or self.target is None or item.recording_id is None:
            return None
        version = item.version if item.version in self.target.api_versions else None
        try:
            return client.stop(item.recording_id, api_version=version).status_code
        except (httpx.HTTPError, pytest.skip.Exception) as exc:
            LOG.warning("callrec: could not stop recording %s: %s", item.recording_id[:16], exc)
            return None

    def _stop_all(self, items: Iterable[Item], counter: str) -> list[dict[str, Any]]:
        """Stop ``items``; the journal entries that close them (for another run's journal)."""
        closed: list[dict[str, Any]] = []
        for item in items:
            if item.recording_id is None:
                self.tally.unanswered += 1
                closed.append({"e": "closed", "req": item.req, "why": "no answer (run died)"})
                continue
            status = self._stop(item)
            if status is not None and 200 <= status < 300:
                setattr(self.tally, counter, getattr(self.tally, counter) + 1)
                closed.append({"e": "closed", "req": item.req, "why": "stopped by cleanup"})
            elif status == 404:
                self.tally.gone += 1
                closed.append({"e": "closed", "req": item.req, "why": "gone"})
            else:
                self.tally.failed += 1
        return closed

    def after_test(self, test: str) -> None:
        """Stop what the test started and left running (it failed, or never stopped it)."""
        if self.journal is not None:
            self._stop_all(self.journal.open_items(test=test), "afterTests")
            if self.guard is not None:
                self.guard.begin_test(None)

    def end_of_process(self) -> None:
        """Stop everything this process started and left running."""
        if self.journal is not None:
            self.tally.unanswered += len(self.journal.unanswered)
            self.journal.unanswered.clear()
            self._stop_all(self.journal.open_items(), "atEnd")

    def recover(self, left: Left, counter: str) -> None:
        mine = [i for i in left.items if self.journal and i.endpoint == self.journal.endpoint]
        self.tally.elsewhere += len(left.items) - len(mine)
        try:
            closed = self._stop_all(mine, counter)
            left.mark(closed)
        finally:
            left.close()
        if counter == "deadRuns" and closed:
            self.tally.runs.append(left.path.parent.name)

    def recover_dead_runs(self, report_dir: Path) -> None:
        """At a run's start: stop what runs that died left running against this endpoint."""
        if self.journal is None:
            return
        for left in dead_runs(report_dir, self.journal.run):
            self.recover(left, "deadRuns")

    def recover_own_run(self) -> None:
        """At a run's end, every process of it done: what died workers left running."""
        left = own_leftovers(self.folder) if self.journal is not None else None
        if left is not None:
            self.recover(left, "atEnd")

    def retire(self) -> None:
        """The run is over: drop the bookkeeping files; a journal with nothing open goes too."""
        self.close()
        for name in (".ledger.json", ".alive"):
            with contextlib.suppress(OSError):
                (self.folder / name).unlink()
        journal = self.folder / "journal.jsonl"
        if journal.is_file() and own_leftovers(self.folder) is None:
            journal.unlink()
        calls = self.folder / ".calls"
        if calls.is_dir():
            for lock in calls.glob("*.lock"):
                lock.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                calls.rmdir()
        with contextlib.suppress(OSError):
            self.folder.rmdir()  # only when empty: a run that wrote nothing
