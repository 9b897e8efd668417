"""The run's request ledger, shared by all its processes: a token bucket for the request rate
and the request budget (``--rate``, ``--max-requests``).

One small JSON file in the run's folder, read and rewritten under an exclusive ``flock`` for
every request: ``sent`` (every request, retries too), ``reserved`` (stops owed to the
recordings the run started and has not stopped: a start is only sent when the budget still
holds it *and* its stop, so cleanup never finds the budget spent), and the bucket.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from callrec.conformance import _locks

FILE: Final = ".ledger.json"
MAX_SLEEP: Final = 1.0  # seconds between looks at the bucket while waiting for a token


class BudgetSpent(Exception):  # noqa: N818 (an outcome: the run may send no more)
    """The request budget cannot hold this request."""

    def __init__(self, budget: int) -> None:
        super().__init__(f"request budget of {budget} spent")
        self.budget = budget


@dataclass(frozen=True)
class Limits:
    rate: float | None  # requests per second over the whole run; None: unlimited
    budget: int | None  # requests in the whole run; None: unlimited

    @property
    def any(self) -> bool:
        return self.rate is not None or self.budget is not None


class Ledger:
    """One process's handle on the run's ledger file (``<run folder>/.ledger.json``)."""

    def __init__(
        self,
        folder: Path,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = folder / FILE
        self.limits = limits
        self._clock, self._sleep = clock, sleep
        self._fd = _locks.open_file(self.path)

    def close(self) -> None:
        os.close(self._fd)

    # ------------------------------------------------------------ the file
    def _read(self) -> dict[str, Any]:
        os.lseek(self._fd, 0, os.SEEK_SET)
        raw = os.read(self._fd, 4096)
        try:
            state = json.loads(raw) if raw else {}
        except ValueError:  # never written completely: start over (counts are best effort)
            state = {}
        state.setdefault("sent", 0)
        state.setdefault("reserved", 0)
        state.setdefault("tokens", 1.0)
        state.setdefault("at", None)
        return state

    def _write(self, state: dict[str, Any]) -> None:
        data = json.dumps(state).encode()
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, data)
        os.ftruncate(self._fd, len(data))

    # ------------------------------------------------------------ requests
    def take(self, *, reserve: bool = False, reserved: bool = False) -> None:
        """Wait for the rate, then count one request; `BudgetSpent` when the budget cannot
        hold it. ``reserve``: a start, which also holds one request back for its stop;
        ``reserved``: a stop that uses the request held back for it."""
        while True:
            with _locks.held(self._fd):
                state = self._read()
                uses_reservation = self._check(state, reserve=reserve, reserved=reserved)
                wait = self._refill(state)
                if wait <= 0:
                    if uses_reservation:
                        state["reserved"] -= 1
                    state["reserved"] += 1 if reserve else 0
                    state["sent"] += 1
                    state["tokens"] -= 1.0
                    self._write(state)
                    return
                self._write(state)
            self._sleep(min(wait, MAX_SLEEP))

    def _refill(self, state: dict[str, Any]) -> float:
        """Top up the bucket; seconds until it holds a token (<= 0: now)."""
        rate = self.limits.rate
        if rate is None:
            state["tokens"] = 1.0
            return 0.0
        now = self._clock()
        last = state["at"]
        if last is None or now < last:  # first use, or another boot's clock
            state["tokens"] = 1.0
        else:
            state["tokens"] = min(1.0, state["tokens"] + (now - last) * rate)
        state["at"] = now
        wait = float((1.0 - state["tokens"]) / rate)
        return wait if wait > 1e-6 else 0.0  # rounding: a token is there

    def _check(self, state: dict[str, Any], *, reserve: bool, reserved: bool) -> bool:
        """`BudgetSpent` unless the budget holds the request; whether it uses a reservation."""
        if reserved and state["reserved"] > 0:
            return True
        budget = self.limits.budget
        if budget is not None and budget - state["sent"] - state["reserved"] < 1 + reserve:
            raise BudgetSpent(budget)
        return False

    def unreserve(self) -> None:
        """A start made no recording: its stop will not be sent."""
        with _locks.held(self._fd):
            state = self._read()
            state["reserved"] = max(0, state["reserved"] - 1)
            self._write(state)

    def spent(self) -> bool:
        """Whether the budget holds no further request."""
        budget = self.limits.budget
        if budget is None:
            return False
        with _locks.held(self._fd):
            state = self._read()
        return bool(budget - state["sent"] - state["reserved"] < 1)

    def sent(self) -> int:
        with _locks.held(self._fd):
            return int(self._read()["sent"])
