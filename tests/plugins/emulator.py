"""Fixtures for tests that need a running emulator, a signed client, a call, a webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from callrec.client import Client
from callrec.emulator import Running, Settings, serve

PARTICIPANTS = [
    {"rawId": f"8:acs:emulator_{n:04d}", "communicationUser": {"id": f"8:acs:emulator_{n:04d}"}}
    for n in range(1, 4)
]


@pytest.fixture(scope="session")
def emulator() -> Iterator[Running]:
    """One emulator per test process (per xdist worker), fast activation."""
    with serve(Settings(activation_delay=0.05, callback_backoff=0.05)) as running:
        yield running


@pytest.fixture
def client(emulator: Running) -> Iterator[Client]:
    """A signed client; the emulator is reset after each test (faults, calls, clock)."""
    with Client(emulator) as signed:
        yield signed
        signed.reset()


@pytest.fixture
def call(client: Client) -> dict[str, Any]:
    """An established server call with three ACS users."""
    return client.create_call(PARTICIPANTS)


class Receiver:
    """A local webhook: collects JSON POST bodies and answers with ``status``; answers Event
    Grid's subscription validation event itself (not collected)."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.status = 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"null")
                first = (
                    body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
                )
                if first.get("eventType") == "Microsoft.EventGrid.SubscriptionValidationEvent":
                    answer = json.dumps(
                        {"validationResponse": first["data"]["validationCode"]}
                    ).encode()
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                with receiver.lock:
                    receiver.bodies.append(body)
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callbacks"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def wait_for(self, predicate: Callable[[list[Any]], bool], timeout: float = 5.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                seen = list(self.bodies)
            if predicate(seen):
                return seen
            time.sleep(0.01)
        raise AssertionError(
            f"not observed within {timeout}s; received {len(seen)} bodies: {seen!r}"
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.close()
