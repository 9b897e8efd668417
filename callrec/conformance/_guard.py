"""What every request of a careful run goes through, whichever client sends it: the shared
request budget and rate (`Ledger`), retries of throttled and failed answers, the cleanup
journal (`Journal`), and ``--no-destructive``.

`Guard.exchange` is the one place this happens; `GuardedTransport` (httpx: the `Client`s the
plugin hands out and those `Target.client` builds) and `GuardedAdapter` (requests: the
schemathesis sessions `Target.session` builds) put it under their clients, so the suites need
no change and send exactly what they mean to: a retry sends the same request again.

Retries: 429 and 5xx answers (and connection failures before anything was sent) are sent
again, at most ``retries`` times, after the ``Retry-After`` the answer names (``retry-after-ms``
too), or an exponential back-off with jitter when it names none; a start (not idempotent) only
after 429 and 503, which say it was not served. A wait longer than ``max_wait`` is not waited
out: the answer stands. Every retry is counted and, when the budget could not hold it, not sent.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Final, NoReturn, Protocol, TypeVar
from urllib.parse import parse_qs, unquote

import httpx
import pytest

from callrec.conformance._calls import NOT_APPLICABLE
from callrec.conformance._journal import Item, Journal
from callrec.conformance._ledger import BudgetSpent, Ledger

START: Final = "start"
STOP: Final = "stop"
DELETE_CONTENT: Final = "delete-content"
END_CALL: Final = "end-call"
_ROUTES: Final = (
    ("POST", re.compile(r"/calling/recordings/?$"), START),
    ("DELETE", re.compile(r"/calling/recordings/([^/:]+)$"), STOP),
    ("DELETE", re.compile(r"/v1/objects/[^/]+$"), DELETE_CONTENT),
    ("DELETE", re.compile(r"/emulator/calls/([^/]+)$"), END_CALL),
)
RETRIED: Final = frozenset({429, 500, 502, 503, 504})
NOT_SERVED: Final = frozenset({429, 503})  # a start answered so was not served: safe to resend
RETRY_AFTER_MS: Final = ("retry-after-ms", "x-ms-retry-after-ms")


@dataclass(frozen=True)
class Policy:
    retries: int = 0  # attempts after the first
    backoff: float = 0.5  # seconds before the first retry without Retry-After; doubles
    max_wait: float = 60.0  # the longest wait a retry waits out
    no_destructive: bool = False


class Answer(Protocol):
    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...


R = TypeVar("R", bound=Answer)


def classify(method: str, path: str) -> tuple[str | None, str | None]:
    """(what a request is, the id in its path) for the requests the guard watches."""
    for wanted, pattern, kind in _ROUTES:
        if method == wanted:
            found = pattern.search(path)
            if found:
                return kind, unquote(found.group(1)) if found.groups() else None
    return None, None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):  # broken or absurd bodies are the suites' to send
        return None


def call_named(body: bytes) -> str | None:
    """The call a start body names (server call id, group call id or call connection id)."""
    found = _json(body)
    if not isinstance(found, dict):
        return None
    locator = found.get("callLocator")
    if isinstance(locator, dict):
        for name in ("serverCallId", "groupCallId"):
            if isinstance(locator.get(name), str):
                return str(locator[name])
    connection = found.get("callConnectionId")
    return connection if isinstance(connection, str) else None


def recording_named(body: bytes) -> str | None:
    found = _json(body)
    rid = found.get("recordingId") if isinstance(found, dict) else None
    return rid if isinstance(rid, str) and rid else None


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds an answer asks to wait before sending again, None when it does not say."""
    for name in RETRY_AFTER_MS:
        value = headers.get(name)
        if value:
            with contextlib.suppress(ValueError):
                return max(0.0, float(value) / 1000)
    value = headers.get("retry-after")
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _not_applicable(why: str) -> NoReturn:
    pytest.skip(NOT_APPLICABLE + why)


class Guard:
    """One process's guard; counts what it sent and retried."""

    def __init__(
        self,
        policy: Policy,
        *,
        ledger: Ledger | None = None,
        journal: Journal | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.policy, self.ledger, self.journal = policy, ledger, journal
        self._sleep, self._jitter = sleep, jitter
        self._lock = threading.Lock()
        self.sent = 0  # requests sent by this process, retries included
        self.retried: Counter[str] = Counter()  # "429", "503", "connection" -> retries
        self.waited = 0.0  # seconds spent waiting to retry
        self.test_retried: Counter[str] = Counter()  # the same, for the test running now

    def __repr__(self) -> str:
        return f"Guard({self.policy})"

    @property
    def retries(self) -> int:
        return sum(self.retried.values())

    def begin_test(self, test: str | None) -> None:
        self.test_retried = Counter()
        if self.journal is not None:
            self.journal.test = test

    # ------------------------------------------------------------ the one path
    def exchange(
        self,
        method: str,
        raw_path: str,
        body: bytes,
        send: Callable[[], R],
        *,
        body_of: Callable[[R], bytes],
        close: Callable[[R], None],
        unsent: Callable[[Exception], bool],
    ) -> R:
        """Send a request (``send``, again for each retry) as the module docstring says.
        ``unsent``: whether a failure of ``send`` means nothing reached the target."""
        path, _, query = raw_path.partition("?")
        kind, subject = classify(method, path)
        if kind == DELETE_CONTENT and self.policy.no_destructive:
            _not_applicable(f"--no-destructive: the test deletes recorded content ({path})")
        journal = self.journal
        item = reserved = None
        if kind == START and journal is not None:
            versions = parse_qs(query).get("api-version")
            item = journal.intend(call_named(body), versions[0] if versions else None)
        elif kind == STOP and journal is not None and subject is not None:
            reserved = journal.is_open(subject)
        attempt, answer, state = 0, None, "unsent"
        try:
            while True:
                self._take(reserve=item is not None and attempt == 0, reserved=bool(reserved))
                reserved, state = False, "sent"
                try:
                    answer = send()
                except Exception as exc:
                    if attempt < self.policy.retries and unsent(exc):
                        self._retry("connection", self._backoff(attempt))
                        attempt += 1
                        continue
                    raise
                wait = self._retry_wait(kind, answer, attempt)
                if wait is None or (self.ledger is not None and self.ledger.spent()):
                    break
                close(answer)
                self._retry(str(answer.status_code), wait)
                attempt += 1
        except BaseException as exc:
            if item is not None:
                self._unstarted(item, state, answer, exc)
            raise
        self._note(kind, subject, item, answer, body_of)
        return answer

    def _take(self, *, reserve: bool, reserved: bool) -> None:
        if self.ledger is not None:
            try:
                self.ledger.take(reserve=reserve and self.journal is not None, reserved=reserved)
            except BudgetSpent as exc:
                _not_applicable(str(exc))
        with self._lock:
            self.sent += 1

    def _retry_wait(self, kind: str | None, answer: Answer, attempt: int) -> float | None:
        status = answer.status_code
        if attempt >= self.policy.retries or status not in RETRIED:
            return None
        if kind == START and status not in NOT_SERVED:
            return None
        told = retry_after(answer.headers)
        if told is None:
            return self._backoff(attempt)
        if told > self.policy.max_wait:
            return None
        return told * (1 + 0.2 * self._jitter())  # never sooner; workers do not stampede

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.policy.max_wait, self.policy.backoff * 2.0**attempt)
        return ceiling * (0.5 + 0.5 * self._jitter())

    def _retry(self, why: str, wait: float) -> None:
        with self._lock:
            self.retried[why] += 1
            self.test_retried[why] += 1
            self.waited += wait
        self._sleep(wait)

    def _unstarted(self, item: Item, state: str, answer: Any, exc: BaseException) -> None:
        """A start that did not get through: say why in the journal."""
        if self.journal is None:
            return
        if state == "unsent":
            why = "not sent"
        elif answer is not None:  # refused, and its retry was not sent
            why = f"refused ({answer.status_code})"
        else:
            why = f"no answer ({type(exc).__name__})"
        self.journal.closed(item, why)
        if state != "unsent" and self.ledger is not None:
            self.ledger.unreserve()

    def _note(
        self,
        kind: str | None,
        subject: str | None,
        item: Item | None,
        answer: R,
        body_of: Callable[[R], bytes],
    ) -> None:
        journal = self.journal
        if journal is None:
            return
        status = answer.status_code
        if item is not None:
            rid = recording_named(body_of(answer)) if 200 <= status < 300 else None
            if rid is not None:
                journal.started(item, rid)
                return
            journal.closed(item, f"refused ({status})")
            if self.ledger is not None:
                self.ledger.unreserve()
        elif kind == STOP and subject is not None and (200 <= status < 300 or status == 404):
            journal.stopped(subject, "stopped" if status < 300 else "gone")
        elif kind == END_CALL and subject is not None and 200 <= status < 300:
            journal.call_ended(subject)

    # ------------------------------------------------------------ the clients' side
    def transport(self, inner: httpx.BaseTransport) -> httpx.BaseTransport:
        return GuardedTransport(inner, self)

    def adapter(self, verify: Any = True) -> Any:
        return GuardedAdapter(self, verify)


def _unsent_httpx(exc: Exception) -> bool:
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport sending through a `Guard`."""

    def __init__(self, inner: httpx.BaseTransport, guard: Guard) -> None:
        self.inner, self.guard = inner, guard

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.guard.exchange(
            request.method,
            request.url.raw_path.decode("ascii"),
            request.read(),
            lambda: self.inner.handle_request(request),
            body_of=lambda response: response.read(),
            close=lambda response: response.close(),
            unsent=_unsent_httpx,
        )

    def close(self) -> None:
        self.inner.close()


class GuardedAdapter:
    """A requests transport adapter sending through a `Guard` (with the run's CA file when
    the caller asks for the default verification); requests is loaded only when one is
    made, as only the schemathesis suites use it."""

    def __init__(self, guard: Guard, verify: Any = True) -> None:
        self.guard, self.verify = guard, verify
        adapters = importlib.import_module("requests.adapters")
        self.inner = adapters.HTTPAdapter()
        self._unsent = importlib.import_module("requests.exceptions").ConnectTimeout

    def send(self, request: Any, **kwargs: Any) -> Any:
        if kwargs.get("verify", True) is True:
            kwargs["verify"] = self.verify
        body = request.body or b""
        return self.guard.exchange(
            str(request.method),
            str(request.path_url),
            body.encode("utf-8") if isinstance(body, str) else bytes(body),
            lambda: self.inner.send(request, **kwargs),
            body_of=lambda response: bytes(response.content or b""),
            close=lambda response: response.close(),
            unsent=lambda exc: isinstance(exc, self._unsent),
        )

    def close(self) -> None:
        self.inner.close()
