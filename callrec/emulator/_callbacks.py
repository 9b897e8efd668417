"""Deliver callbacks: in order per recording, with retries and back-off, every attempt logged."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

LOG = logging.getLogger("callrec.emulator")

Job = Callable[[], Awaitable[None]]


class Deliveries:
    """Per-key ordered delivery queues (a key is a recording id, or ``eventgrid/<subscription>``)
    and the log of attempts."""

    def __init__(
        self,
        attempts: int = 4,
        backoff: float = 0.25,
        timeout: float = 5.0,
        log_limit: int = 10_000,
    ) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.log: deque[dict[str, Any]] = deque(maxlen=log_limit)
        self._queues: dict[str, deque[Job]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        # deliveries not yet over, as plain records persistence keeps (sequence -> record)
        self.outbox: dict[int, dict[str, Any]] = {}
        self.outbox_changed = False
        self._sequence = itertools.count(1)
        self.on_change: Callable[[], None] | None = None  # called when a delivery is over

    def submit(self, key: str, url: str, body: Any, label: str) -> None:
        """Queue one POST of ``body`` (JSON) to ``url``; ``label`` names it in the log."""
        record = {"kind": "callback", "key": key, "url": url, "body": body, "label": label}
        self.run(key, lambda: self._deliver(key, url, body, label), record)

    def run(self, key: str, job: Job, record: dict[str, Any] | None = None) -> None:
        """Queue ``job`` behind the key's earlier jobs: one key's jobs run one at a time, in
        order (Event Grid deliveries use this with their own retry loop and the same log).

        ``record`` describes the job in plain JSON: it stays in `outbox` until the job is
        over (delivered, or given up), so a restarted emulator can queue it again."""
        if record is not None:
            sequence = next(self._sequence)
            self.outbox[sequence] = record
            self.outbox_changed = True
            job = self._tracked(sequence, job)
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(job)
            return
        self._queues[key] = deque([job])
        task = asyncio.get_running_loop().create_task(self._drain(key))
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)

    def _tracked(self, sequence: int, job: Job) -> Job:
        async def tracked() -> None:
            try:
                await job()
            except asyncio.CancelledError:  # shutting down: still owed after a restart
                raise
            except Exception:
                LOG.exception("emulator bug: a delivery failed")
            self.outbox.pop(sequence, None)
            self.outbox_changed = True
            if self.on_change is not None:
                self.on_change()

        return tracked

    def http(self) -> httpx.AsyncClient:
        """The shared outgoing HTTP client (closed by `close`)."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._client

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                await queue[0]()
                queue.popleft()
        finally:
            del self._queues[key]

    async def _deliver(self, key: str, url: str, body: Any, label: str) -> None:
        client = self.http()
        for attempt in range(1, self.attempts + 1):
            entry = log_entry(key, url, label, attempt, body)
            try:
                response = await client.post(url, json=body)
                entry["status"] = response.status_code
            except httpx.HTTPError as exc:
                entry["error"] = f"{type(exc).__name__}: {exc}"
            self.log.append(entry)
            if entry["status"] is not None and 200 <= entry["status"] < 300:
                return
            LOG.info(
                "callback %s to %s failed (attempt %d): %s",
                label,
                url,
                attempt,
                entry["error"] or entry["status"],
            )
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))

    async def idle(self) -> None:
        """Wait until every queued delivery has finished (for tests and shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers), return_exceptions=True)

    def reset(self) -> None:
        self.log.clear()
        self.outbox.clear()
        self.outbox_changed = True

    async def close(self) -> None:
        for task in list(self._workers):
            task.cancel()
        await asyncio.gather(*list(self._workers), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def log_entry(key: str, url: str, label: str, attempt: int, body: Any) -> dict[str, Any]:
    """One delivery attempt as `/emulator/deliveries` shows it (outcome fields filled later)."""
    return {
        "key": key,
        "url": url,
        "event": label,
        "attempt": attempt,
        "time": time.time(),
        "status": None,
        "error": None,
        "body": body,
    }
