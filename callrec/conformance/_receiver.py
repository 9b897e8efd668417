"""The suite's webhook: a local HTTP server that collects callbacks and Event Grid deliveries.

Each test asks for its own channel (``/hook/<token>``), so parallel tests never see each
other's deliveries. Both Event Grid handshakes are answered: a POSTed
``SubscriptionValidationEvent`` gets ``{"validationResponse": code}``, a CloudEvents ``OPTIONS``
gets ``WebHook-Allowed-Origin``; handshakes are recorded apart from deliveries. The server
listens on loopback; when the target is remote, ``--callback-url`` is the public URL that
forwards to it (a tunnel), and the URLs handed to the target are built on it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

VALIDATION_EVENT: Final = "Microsoft.EventGrid.SubscriptionValidationEvent"
MAX_BODY: Final = 16 << 20


class NotObserved(AssertionError):  # noqa: N818 (an outcome, reported apart from failures)
    """What a test waited for did not arrive in time (as opposed to arriving wrong)."""


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got: ``kind`` is "delivery", "validation" or "options"."""

    channel: str
    kind: str
    method: str
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.time)


class Receiver:
    def __init__(self, public_url: str | None = None, host: str = "127.0.0.1") -> None:
        self._deliveries: list[Delivery] = []
        self._condition = threading.Condition()
        self.status_for: dict[str, int] = {}  # channel -> status to answer deliveries with
        # channels whose handshakes are answered wrongly (a wrong validationResponse; an
        # OPTIONS answer without WebHook-Allowed-Origin), to see that the target then sends
        # them nothing
        self.refuse_handshake: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _channel(self) -> str | None:
                parts = self.path.split("?", 1)[0].strip("/").split("/")
                return parts[1] if len(parts) == 2 and parts[0] == "hook" else None

            def _answer(self, status: int, body: bytes = b"", **headers: str) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_OPTIONS(self) -> None:
                channel = self._channel()
                origin = self.headers.get("webhook-request-origin")
                if channel is None or origin is None:
                    self._answer(404)
                    return
                receiver._add(Delivery(channel, "options", "OPTIONS", dict(self.headers), None))
                if channel in receiver.refuse_handshake:
                    self._answer(200, Allow="POST, OPTIONS")
                    return
                self._answer(200, WebHook_Allowed_Origin=origin, Allow="POST, OPTIONS")

            def do_POST(self) -> None:
                channel = self._channel()
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(min(length, MAX_BODY))
                if channel is None:
                    self._answer(404)
                    return
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                first = body[0] if isinstance(body, list) and body else None
                if isinstance(first, dict) and first.get("eventType") == VALIDATION_EVENT:
                    receiver._add(Delivery(channel, "validation", "POST", dict(self.headers), body))
                    code = (first.get("data") or {}).get("validationCode", "")
                    if channel in receiver.refuse_handshake:
                        code = f"not-{code}"
                    answer = json.dumps({"validationResponse": code}).encode()
                    self._answer(200, answer, Content_Type="application/json")
                    return
                receiver._add(Delivery(channel, "delivery", "POST", dict(self.headers), body))
                self._answer(receiver.status_for.get(channel, 200))

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.local_url = f"http://{host}:{port}"
        self.public_url = (public_url or self.local_url).rstrip("/")
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="callrec-receiver",
            daemon=True,
        )
        self._thread.start()

    def _add(self, delivery: Delivery) -> None:
        with self._condition:
            self._deliveries.append(delivery)
            self._condition.notify_all()

    def channel(self) -> str:
        """A fresh channel token."""
        return uuid.uuid4().hex

    def url(self, channel: str) -> str:
        """The URL to give the target for ``channel``."""
        return f"{self.public_url}/hook/{channel}"

    def all_received(self) -> list[Delivery]:
        """Everything received so far, on every channel."""
        with self._condition:
            return list(self._deliveries)

    def received(self, channel: str, kind: str = "delivery") -> list[Delivery]:
        with self._condition:
            return [d for d in self._deliveries if d.channel == channel and d.kind == kind]

    def wait(
        self,
        channel: str,
        until: Callable[[list[Delivery]], bool],
        timeout: float,
        what: str,
        kind: str = "delivery",
    ) -> list[Delivery]:
        """The channel's deliveries once ``until`` holds for them; `NotObserved` naming
        ``what`` when it does not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                seen = [d for d in self._deliveries if d.channel == channel and d.kind == kind]
                if until(seen):
                    return seen
                left = deadline - time.monotonic()
                if left <= 0:
                    raise NotObserved(
                        f"not observed within {timeout:g}s: {what} "
                        f"({len(seen)} {kind} request(s) arrived on the channel)"
                    )
                self._condition.wait(left)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
