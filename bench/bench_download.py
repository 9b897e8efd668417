"""Emulator downloads: stream a one-hour five-channel WAV from a running emulator over loopback,
against reading the same bytes from a local file in the same run; peak RSS of both processes.

The emulator runs in its own process (``python -m callrec emulator --port 0``, as in
bench_emulator.py). The bench creates a call with five participants, starts an unmixed audio WAV
recording pinning one participant to each of the five channels, moves the emulator clock one
hour, stops, and reads the chunk locations from the preview ``/result``. Each chunk is then
downloaded with HMAC-signed GETs:

- **raw**: one socket, the request signed with ``callrec.auth.sign``, the body read with
  ``recv_into`` a reused buffer of ``--read-size`` bytes (1 MiB): the client costs next to
  nothing, so this is the emulator's serving rate. The targets are judged on it.
- **httpx**: ``callrec.client.HmacAuth`` on ``httpx.Client.stream`` and ``iter_raw(read size)``,
  what a Python caller would write; shown for information.

The reference: the first (untimed) raw download is written to a temporary file, which is then
read back with ``readinto`` the same reused buffer in the same read size. The file was just
written, so its pages are in the page cache (dropping the cache needs root): a warm-cache read,
the fastest a local file can be. A second reference shows what loopback TCP itself allows: a
bare HTTP/1.1 server process (this file with ``--serve-file``) answering the same GET with
``socket.sendfile`` of that file, read by the raw client. Rates are the best of several passes,
all four interleaved. The downloaded size is checked against the WAV header's declared sizes
(the RIFF size and the data chunk's size).

Peak RSS: the emulator's ``VmHWM`` from ``/proc/<pid>/status`` (after startup, after recording,
after the downloads) and this process's ``ru_maxrss``. Prints rates, the ratio and whether the
targets (>= 0.50 of the local file's rate, < 150 MB RSS) are met; it asserts nothing about speed.

    python bench/bench_download.py [--quick] [--pin] [--read-size BYTES]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import httpx
from bench_emulator import Target, cpu_seconds, server_process

from callrec.auth import ConnectionString, sign
from callrec.client import Client, HmacAuth
from callrec.emulator import WELL_KNOWN_KEY

MB = 1e6
MIB = 1 << 20
TARGET_RATIO = 0.50
TARGET_RSS_MB = 150.0
CHANNELS = 5
WAV_HEADER = 44
FILES_TIMEOUT = 120.0  # seconds for the emulator to plan the chunks after the stop
PEOPLE = [
    {"rawId": f"8:acs:bench_download_{n}", "communicationUser": {"id": f"8:acs:bench_download_{n}"}}
    for n in range(CHANNELS)
]


# ---------------------------------------------------------------- the emulator's process
def status_kib(pid: int, field: str) -> int | None:
    """A ``kB`` field of /proc/<pid>/status (VmHWM: peak RSS, VmRSS: current); None elsewhere."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def mb_of_kib(value: int | None) -> str:
    return "n/a" if value is None else f"{value * 1024 / MB:.1f} MB"


def own_peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux


# ---------------------------------------------------------------- the recording
def record(connection: ConnectionString, seconds: float) -> list[dict[str, Any]]:
    """An unmixed five-channel WAV recording of ``seconds`` (emulator clock): its chunks."""
    with Client(connection, timeout=FILES_TIMEOUT) as client:
        call = client.create_call(PEOPLE)
        started = client.start(
            {
                "callLocator": {"kind": "serverCallLocator", "serverCallId": call["serverCallId"]},
                "recordingContentType": "audio",
                "recordingChannelType": "unmixed",
                "recordingFormatType": "wav",
                "channelAffinity": [
                    {"channel": channel, "participant": person}
                    for channel, person in enumerate(PEOPLE)
                ],
            }
        )
        assert started.status_code == 200, started.text
        rid = started.json()["recordingId"]
        wait(lambda: client.get(rid).json()["recordingState"] == "active", "active", 10.0)
        client.advance_clock(seconds)
        stopped = client.stop(rid)
        assert stopped.status_code == 204, stopped.text
        chunks: list[dict[str, Any]] = []

        def produced() -> bool:
            chunks[:] = client.result(rid).json()["recordingStorageInfo"]["recordingChunks"]
            return bool(chunks)

        wait(produced, "the recording's files", FILES_TIMEOUT)
        return chunks


def wait(condition: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not reached within {timeout:g} s: {what}")
        time.sleep(0.02)


# ---------------------------------------------------------------- the clients
def raw_download(
    connection: ConnectionString, path: str, buffer: bytearray, sink: BinaryIO | None = None
) -> int:
    """GET ``path`` on one socket, body read into ``buffer`` (written to ``sink`` if given):
    the body's size. Fails on anything but a 200 with a Content-Length."""
    parts = urlsplit(connection.endpoint)
    assert parts.hostname is not None
    assert parts.port is not None
    headers = sign("GET", connection.endpoint + path, b"", connection.access_key)
    head = [f"GET {path} HTTP/1.1", f"host: {parts.netloc}", "connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        received = b""
        while b"\r\n\r\n" not in received:
            more = sock.recv(65536)
            if not more:
                raise RuntimeError(f"the emulator closed the connection: {received[:200]!r}")
            received += more
        raw_head, body_start = received.split(b"\r\n\r\n", 1)
        lines = raw_head.split(b"\r\n")
        if lines[0].split()[1] != b"200":
            raise RuntimeError(f"GET {path}: {lines[0]!r}")
        length = next(
            int(value)
            for name, _, value in (line.partition(b":") for line in lines[1:])
            if name.strip().lower() == b"content-length"
        )
        total = len(body_start)
        if sink is not None:
            sink.write(body_start)
        view = memoryview(buffer)
        while total < length:
            count = sock.recv_into(view)
            if count == 0:
                raise RuntimeError(f"GET {path}: the body ended at {total} of {length} bytes")
            if sink is not None:
                sink.write(view[:count])
            total += count
        return total


def httpx_download(connection: ConnectionString, path: str, read_size: int) -> int:
    total = 0
    with (
        httpx.Client(base_url=connection.endpoint, timeout=60.0) as http,
        http.stream("GET", path, auth=HmacAuth(connection.access_key)) as response,
    ):
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
        for block in response.iter_raw(read_size):
            total += len(block)
    return total


def file_read(path: Path, buffer: bytearray) -> int:
    total = 0
    with path.open("rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            total += count
    return total


def wav_declared_size(path: Path) -> tuple[int, int]:
    """(size the RIFF header declares, 44 + the data chunk's declared size)."""
    with path.open("rb") as handle:
        header = handle.read(WAV_HEADER)
    riff, riff_size, wave_, fmt, _, _, channels, _, _, _, bits, data, data_size = struct.unpack(
        "<4sI4s4sIHHIIHH4sI", header
    )
    assert (riff, wave_, fmt, data) == (b"RIFF", b"WAVE", b"fmt ", b"data"), header
    assert (channels, bits) == (CHANNELS, 16), (channels, bits)
    return riff_size + 8, WAV_HEADER + data_size


# ---------------------------------------------------------------- a server without Python
def serve_file(path: Path) -> None:
    """The least an HTTP server can do: answer every GET with ``path`` through ``sendfile``
    (the kernel copies page cache to socket; no Python touches the bytes). One at a time."""
    size = path.stat().st_size
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        print(
            f"CALLREC_CONNECTION_STRING=endpoint=http://127.0.0.1:{port}/;accesskey={WELL_KNOWN_KEY}",
            flush=True,
        )
        while True:
            connection, _ = listener.accept()
            with connection, path.open("rb") as handle:
                received = b""
                while b"\r\n\r\n" not in received:
                    more = connection.recv(65536)
                    if not more:
                        break
                    received += more
                else:
                    head = f"HTTP/1.1 200 OK\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n"
                    connection.sendall(head.encode())
                    connection.sendfile(handle)


# ---------------------------------------------------------------- the measurement
def interleaved(
    works: dict[str, Callable[[], int]], expected: int, repeats: int
) -> dict[str, float]:
    """The shortest of ``repeats`` runs of each work, one of each in turn (so all see the same
    neighbours); each run must return ``expected`` bytes."""
    fastest = dict.fromkeys(works, float("inf"))
    for _ in range(repeats):
        for name, work in works.items():
            began = time.perf_counter()
            size = work()
            fastest[name] = min(fastest[name], time.perf_counter() - began)
            assert size == expected, (name, size, expected)
    return fastest


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


LABELS = {
    "emulator": "emulator, raw client",
    "httpx": "emulator, httpx client",
    "sendfile": "sendfile server, no Python",
    "file": "local file (warm cache)",
}


def bench(target: Target, seconds: float, repeats: int, read_size: int, core: int | None) -> None:
    connection = target.connection
    hwm_started = status_kib(target.pid, "VmHWM")
    began = time.perf_counter()
    chunks = record(connection, seconds)
    planned = time.perf_counter() - began
    hwm_recorded = status_kib(target.pid, "VmHWM")
    buffer = bytearray(read_size)
    print(
        f"unmixed WAV, {CHANNELS} channels, {seconds / 60:g} min of emulator time, "
        f"{len(chunks)} chunk(s); recorded and planned in {planned:.2f} s"
    )
    print(f"reads of {read_size / MIB:g} MiB, best of {repeats} passes, loopback HTTP/1.1")
    totals = dict.fromkeys(LABELS, 0.0)
    size_all = 0
    cpu_used = [0.0]
    with tempfile.TemporaryDirectory() as folder:
        for chunk in chunks:
            path = urlsplit(chunk["contentLocation"]).path
            local = Path(folder) / f"{chunk['documentId']}.wav"
            with local.open("wb") as sink:  # the first download: the local file's bytes
                size = raw_download(connection, path, buffer, sink)
            declared = wav_declared_size(local)
            assert declared == (size, size), f"downloaded {size} bytes; the header says {declared}"
            print(
                f"  chunk {chunk['index']}: {size:,} bytes = the WAV header's RIFF and data sizes"
            )
            size_all += size

            def from_emulator(path: str = path) -> int:
                before = cpu_seconds(target.pid)
                count = raw_download(connection, path, buffer)
                after = cpu_seconds(target.pid)
                if before is not None and after is not None:
                    cpu_used[0] += (after - before) / repeats
                return count

            command = [sys.executable, os.path.abspath(__file__), "--serve-file", str(local)]
            with server_process(command, core) as bare:
                spent = interleaved(
                    {
                        "emulator": from_emulator,
                        "httpx": lambda path=path: httpx_download(connection, path, read_size),
                        "sendfile": lambda: raw_download(bare.connection, "/", buffer),
                        "file": lambda local=local: file_read(local, buffer),
                    },
                    size,
                    repeats,
                )
            for name, value in spent.items():
                totals[name] += value
    hwm_served = status_kib(target.pid, "VmHWM")
    rss_now = status_kib(target.pid, "VmRSS")
    rates = {name: size_all / MB / spent for name, spent in totals.items()}
    for name, label in LABELS.items():
        print(f"  {label:<26} {rates[name]:7,.0f} MB/s ({totals[name]:.3f} s)")
    ratio = rates["emulator"] / rates["file"]
    print(
        f"  ratio emulator / local file {ratio:.3f}: target >= {TARGET_RATIO:.2f}: "
        f"{verdict(ratio >= TARGET_RATIO)}"
    )
    print(
        f"  also: sendfile / local file {rates['sendfile'] / rates['file']:.3f} (a server whose "
        f"bytes only the kernel copies); emulator / sendfile "
        f"{rates['emulator'] / rates['sendfile']:.3f}; httpx / local file "
        f"{rates['httpx'] / rates['file']:.3f}"
    )
    if cpu_used[0]:
        cpu = cpu_used[0]
        print(
            f"  emulator CPU per download: {cpu:.3f} s ({size_all / MB / cpu:,.0f} MB per CPU "
            "second)"
        )
    served = None if hwm_served is None else hwm_served * 1024 / MB
    print(
        f"  emulator peak RSS (VmHWM): {mb_of_kib(hwm_served)} (after startup "
        f"{mb_of_kib(hwm_started)}, after recording {mb_of_kib(hwm_recorded)}; "
        f"VmRSS now {mb_of_kib(rss_now)}): target < {TARGET_RSS_MB:.0f} MB: "
        f"{'n/a' if served is None else verdict(served < TARGET_RSS_MB)}"
    )
    client_mb = own_peak_rss_kib() * 1024 / MB
    print(
        f"  client peak RSS (ru_maxrss): {client_mb:.1f} MB: target < {TARGET_RSS_MB:.0f} MB: "
        f"{verdict(client_mb < TARGET_RSS_MB)}"
    )


@contextlib.contextmanager
def pinned(pin: bool) -> Iterator[int | None]:
    """With ``pin``: this process on the first core; yields the core for the emulator."""
    if not pin or not hasattr(os, "sched_setaffinity"):
        yield None
        return
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        yield None
        return
    os.sched_setaffinity(0, {cores[0]})
    yield cores[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ten minutes instead of an hour")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="this process on the first core, the emulator on the second",
    )
    parser.add_argument("--repeats", type=int, default=None, help="passes per measurement")
    parser.add_argument("--read-size", type=int, default=MIB, help="bytes per read (1 MiB)")
    parser.add_argument("--serve-file", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_file:
        serve_file(arguments.serve_file)
        return
    seconds = 600.0 if arguments.quick else 3600.0
    repeats = arguments.repeats or (2 if arguments.quick else 5)
    command = [
        sys.executable,
        "-m",
        "callrec",
        "emulator",
        "--log-level",
        "warning",
        "--port",
        "0",
        "--activation-delay",
        "0",
        "--file-delay",
        "0",
        "--max-chunk-seconds",  # one chunk: the whole recording is one file
        str(seconds * 2),
    ]
    with pinned(arguments.pin) as emulator_core, server_process(command, emulator_core) as target:
        bench(target, seconds, repeats, arguments.read_size, emulator_core)


if __name__ == "__main__":
    main()
