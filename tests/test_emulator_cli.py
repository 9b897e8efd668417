"""`callrec emulator` from a shell: the connection-string line, then a working server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from callrec.client import Client
from callrec.emulator import WELL_KNOWN_KEY


@pytest.fixture
def launched(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "callrec",
            "emulator",
            "--port",
            "0",
            "--activation-delay",
            "0",
            "--tls",
            "--data-dir",
            str(tmp_path),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        yield process, line
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_prints_the_connection_string_and_serves_tls(
    launched: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    process, line = launched
    name, _, connection_string = line.partition("=")
    assert name == "CALLREC_CONNECTION_STRING"
    assert connection_string.startswith("endpoint=https://127.0.0.1:")
    assert connection_string.endswith(f";accesskey={WELL_KNOWN_KEY}")
    with Client(connection_string, verify=tmp_path / "ca.pem") as client:
        assert client.info()["name"] == "callrec-emulator"
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--access-key", "not base64!"], "--access-key is not valid base64"),
        (["--api-versions", "1999-01-01"], "unsupported api-version '1999-01-01'"),
        (["--activation-delay", "-1"], "--activation-delay must be >= 0"),
        (["--public-url", "ftp://x"], "--public-url must be an http(s) URL"),
        (["--video-size", "big"], "--video-size must look like 640x360"),
        (["--retention-hours", "0"], "--retention-hours must be > 0"),
        (["--event-grid-webhook", "mailto:x"], "--event-grid-webhook must be an http(s) URL"),
        (["--blob-account-key", "no-equals-sign"], "--blob-account-key must look like NAME=KEY"),
        (["--blob-account-key", "acct=s3cret!"], "--blob-account-key must look like NAME=KEY"),
        (["--blob-timeout", "0"], "--blob-timeout must be > 0"),
    ],
)
def test_bad_options_exit_two_with_a_message(argv: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "callrec", "emulator", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr  # a key is never echoed


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "callrec", "emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_sigterm_stops_gracefully(launched: tuple[subprocess.Popen[str], str]) -> None:
    process, line = launched
    assert line.startswith("CALLREC_CONNECTION_STRING=")
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
