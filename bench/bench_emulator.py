"""Emulator throughput: authenticated recording lifecycles per second over loopback at 1, 16 and
64 concurrent clients, against a bare uvicorn "hello" ASGI endpoint measured in the same run
(same uvicorn settings, same client, same requests).

Each server runs in its own process (``python -m callrec emulator``; the hello endpoint is this
file with ``--serve-hello``), so client and server never share a GIL. The load client is one
asyncio loop speaking keep-alive HTTP/1.1 over raw streams and signing every request with HMAC
(callrec.auth.sign): httpx's connection pool costs more per request than the emulator does, so
with httpx the bench would mostly measure httpx. One lifecycle is seven requests: create a call
(control API), start, get, pause, resume, stop, get (404). Each figure is the best of several
runs, emulator and hello interleaved. Prints rates, latencies and ratios; it asserts nothing
about speed (it does check the status of every emulator answer).

    python bench/bench_emulator.py [--quick] [--pin]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from callrec.auth import ConnectionString, sign
from callrec.client import Client
from callrec.emulator import WELL_KNOWN_KEY
from callrec.emulator._server import _bind, _config, _Server

VERSION = "2025-06-15"
LEVELS = (1, 16, 64)
STARTUP_TIMEOUT = 30.0
# (operation name, expected status from the emulator)
LIFECYCLE = (
    ("create call", 201),
    ("start", 200),
    ("get", 200),
    ("pause", 202),
    ("resume", 202),
    ("stop", 204),
    ("get stopped", 404),
)
PARTICIPANT = {"rawId": "8:acs:bench_0001", "communicationUser": {"id": "8:acs:bench_0001"}}


# ---------------------------------------------------------------- the reference server
async def hello_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The least an ASGI endpoint can do: read the body, answer a small JSON document."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = b'{"hello":"world"}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def serve_hello() -> None:
    """Run `hello_app` with the emulator's own uvicorn settings; print its connection string."""
    sock = _bind("127.0.0.1", 0)
    server = _Server(_config(hello_app, None, "warning"))  # type: ignore[arg-type]
    port = sock.getsockname()[1]

    def announce() -> None:
        if server.ready.wait(STARTUP_TIMEOUT) and server.started:
            print(
                f"CALLREC_CONNECTION_STRING=endpoint=http://127.0.0.1:{port}/;"
                f"accesskey={WELL_KNOWN_KEY}",
                flush=True,
            )

    threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=[sock])


@dataclass(frozen=True)
class Target:
    connection: ConnectionString
    pid: int


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (Linux /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def server_process(command: list[str], cpu: int | None) -> Iterator[Target]:
    """Start a server process; yield the connection string it prints (and its pid); stop it."""
    # our own interpreter running our own code: no untrusted input
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        if cpu is not None:
            with contextlib.suppress(AttributeError, OSError):
                os.sched_setaffinity(process.pid, {cpu})
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("CALLREC_CONNECTION_STRING="):
                yield Target(ConnectionString.parse(line.split("=", 1)[1].strip()), process.pid)
                break
        else:
            raise RuntimeError(f"{command} exited with {process.wait()} before it was ready")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


# ---------------------------------------------------------------- the load client
class Connection:
    """One keep-alive HTTP/1.1 connection; every request HMAC-signed."""

    def __init__(self, target: ConnectionString) -> None:
        self.target = target
        self.netloc = target.endpoint.split("://", 1)[1]
        host, port = self.netloc.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        assert self.reader is not None
        assert self.writer is not None
        headers = sign(method, self.target.endpoint + path, body, self.target.access_key)
        head = [f"{method} {path} HTTP/1.1", f"host: {self.netloc}"]
        if body:
            head += ["content-type: application/json", f"content-length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise RuntimeError("chunked answers are not expected here")
        return status, (await self.reader.readexactly(length) if length else b"")


@dataclass
class Run:
    requests: int = 0
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    server_cpu: float | None = None  # CPU seconds the server used during the timed part

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_per_request(self) -> float | None:
        return None if self.server_cpu is None else self.server_cpu / self.requests

    def all_latencies(self) -> list[float]:
        return sorted(value for values in self.latencies.values() for value in values)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def lifecycle(connection: Connection, run: Run, check: bool) -> None:
    query = f"?api-version={VERSION}"

    async def step(index: int, method: str, path: str, body: Any = None) -> dict[str, Any]:
        name, expected = LIFECYCLE[index]
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        began = time.perf_counter()
        status, answer = await connection.request(method, path, payload)
        run.latencies.setdefault(name, []).append(time.perf_counter() - began)
        run.requests += 1
        if check and status != expected:
            run.unexpected.append(f"{name}: {status} {answer[:200]!r}")
        with contextlib.suppress(ValueError):
            document = json.loads(answer) if answer else {}
            return document if isinstance(document, dict) else {}
        return {}

    call = await step(0, "POST", "/emulator/calls", {"participants": [PARTICIPANT]})
    locator = {"kind": "serverCallLocator", "serverCallId": call.get("serverCallId", "x")}
    # WAV: the file is streamed on demand, so a stop costs no encoding (the default, a
    # 1920x1080 MP4, would make this a benchmark of the H.264 encoder)
    options = {
        "callLocator": locator,
        "recordingContentType": "audio",
        "recordingChannelType": "mixed",
        "recordingFormatType": "wav",
    }
    started = await step(1, "POST", "/calling/recordings" + query, options)
    recording = f"/calling/recordings/{started.get('recordingId', 'x')}"
    await step(2, "GET", recording + query)
    await step(3, "POST", recording + ":pause" + query)
    await step(4, "POST", recording + ":resume" + query)
    await step(5, "DELETE", recording + query)
    await step(6, "GET", recording + query)


async def load(target: Target, clients: int, seconds: float, check: bool) -> Run:
    """``clients`` connections each doing lifecycles back to back for ``seconds``."""
    connections = [Connection(target.connection) for _ in range(clients)]
    await asyncio.gather(*(connection.open() for connection in connections))
    try:
        warm = Run()
        await asyncio.gather(*(lifecycle(c, warm, check) for c in connections))
        run = Run(unexpected=warm.unexpected)
        cpu_before = cpu_seconds(target.pid)
        began = time.perf_counter()
        deadline = began + seconds

        async def user(connection: Connection) -> None:
            while time.perf_counter() < deadline:
                await lifecycle(connection, run, check)

        await asyncio.gather(*(user(connection) for connection in connections))
        run.seconds = time.perf_counter() - began
        cpu_after = cpu_seconds(target.pid)
        if cpu_before is not None and cpu_after is not None:
            run.server_cpu = cpu_after - cpu_before
        return run
    finally:
        await asyncio.gather(*(connection.close() for connection in connections))


def measure(
    target: Target, clients: int, seconds: float, *, emulator: bool, reset: bool = True
) -> Run:
    if emulator and reset:
        with Client(target.connection) as control:
            control.reset()
    run = asyncio.run(load(target, clients, seconds, check=emulator))
    if run.unexpected:
        raise AssertionError(f"{len(run.unexpected)} unexpected answers, e.g. {run.unexpected[:3]}")
    return run


# ---------------------------------------------------------------- the report
def micros(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1e6:,.0f}"


def bench_levels(emulator: Target, hello: Target, seconds: float, repeats: int) -> dict[int, Run]:
    print(
        f"{len(LIFECYCLE)}-request lifecycles over loopback, {seconds:g} s per run, "
        f"best of {repeats}, api-version {VERSION}"
    )
    print(
        f"{'clients':>7} | {'emulator req/s':>14} {'lifecycles/s':>12} {'p50 ms':>6} {'p99 ms':>6}"
        f" {'cpu us/req':>10} | {'hello req/s':>11} {'p50 ms':>6} {'p99 ms':>6} {'cpu us/req':>10}"
        f" | {'ratio':>5} {'cpu ratio':>9}"
    )
    best_runs: dict[int, Run] = {}
    for clients in LEVELS:
        ours: Run | None = None
        reference: Run | None = None
        for _ in range(repeats):  # interleaved, so both see the same neighbours
            run = measure(emulator, clients, seconds, emulator=True)
            ours = run if ours is None or run.rate > ours.rate else ours
            run = measure(hello, clients, seconds, emulator=False)
            reference = run if reference is None or run.rate > reference.rate else reference
        assert ours is not None
        assert reference is not None
        best_runs[clients] = ours
        mine, theirs = ours.all_latencies(), reference.all_latencies()
        cpu_ratio = (
            f"{reference.cpu_per_request / ours.cpu_per_request:9.2f}"
            if ours.cpu_per_request and reference.cpu_per_request
            else f"{'n/a':>9}"
        )
        print(
            f"{clients:7d} | {ours.rate:14,.0f} {ours.rate / len(LIFECYCLE):12,.0f}"
            f" {percentile(mine, 0.5) * 1e3:6.2f} {percentile(mine, 0.99) * 1e3:6.2f}"
            f" {micros(ours.cpu_per_request):>10} | {reference.rate:11,.0f}"
            f" {percentile(theirs, 0.5) * 1e3:6.2f} {percentile(theirs, 0.99) * 1e3:6.2f}"
            f" {micros(reference.cpu_per_request):>10} | {ours.rate / reference.rate:5.2f} {cpu_ratio}"
        )
    print(
        "ratio: emulator req/s over hello req/s (what the brief's target is about); cpu ratio:\n"
        "hello's server CPU per request over the emulator's (the ratio of server capacities, free\n"
        "of the client's own cost, which caps the hello figures)\n"
        "targets: ratio >= 0.40; p99 < 20 ms at 16 clients\n"
    )
    return best_runs


def bench_operations(run: Run, clients: int) -> None:
    print(f"per operation at {clients} clients (the emulator's best run above)")
    print(f"{'operation':>12} {'p50 ms':>7} {'p99 ms':>7}")
    for name, _ in LIFECYCLE:
        values = run.latencies[name]
        print(
            f"{name:>12} {percentile(values, 0.5) * 1e3:7.2f} {percentile(values, 0.99) * 1e3:7.2f}"
        )
    print()


def bench_growth(emulator: Target, windows: int, seconds: float) -> None:
    """Cost per request as stopped recordings pile up (the emulator keeps every recording)."""
    clients = 16
    print(f"state growth: {clients} clients, {windows} runs of {seconds:g} s, no reset between")
    print(f"{'run':>3} {'recordings before':>18} {'req/s':>8} {'p99 ms':>7} {'cpu us/req':>10}")
    with Client(emulator.connection) as control:
        control.reset()
    recordings = 0
    first: Run | None = None
    run = Run()
    for window in range(1, windows + 1):
        run = measure(emulator, clients, seconds, emulator=True, reset=False)
        print(
            f"{window:3d} {recordings:18,d} {run.rate:8,.0f}"
            f" {percentile(run.all_latencies(), 0.99) * 1e3:7.2f} {micros(run.cpu_per_request):>10}"
        )
        first = first or run
        recordings += len(run.latencies["start"]) + clients  # plus the warm-up lifecycles
    assert first is not None
    if first.cpu_per_request and run.cpu_per_request:
        growth = run.cpu_per_request / first.cpu_per_request
        print(f"server CPU per request, last run / first run: {growth:.2f}")
    print(f"req/s, last run / first run: {run.rate / first.rate:.2f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, for a smoke run")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin the client to the first core and the servers to the second",
    )
    parser.add_argument("--serve-hello", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_hello:
        serve_hello()
        return
    seconds, repeats, windows = (0.5, 2, 3) if arguments.quick else (2.0, 3, 6)
    server_cpu: int | None = None
    if arguments.pin:
        with contextlib.suppress(AttributeError, OSError):
            cores = sorted(os.sched_getaffinity(0))
            if len(cores) >= 2:
                os.sched_setaffinity(0, {cores[0]})
                server_cpu = cores[1]
    emulator_command = [
        sys.executable,
        "-m",
        "callrec",
        "emulator",
        "--log-level",
        "warning",
        "--port",
        "0",
    ]
    hello_command = [sys.executable, os.path.abspath(__file__), "--serve-hello"]
    with (
        server_process(emulator_command, server_cpu) as emulator,
        server_process(hello_command, server_cpu) as hello,
    ):
        runs = bench_levels(emulator, hello, seconds, repeats)
        bench_operations(runs[16], 16)
        bench_growth(emulator, windows, seconds * 2)


if __name__ == "__main__":
    main()
