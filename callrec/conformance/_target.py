"""The endpoint under test: given by a connection string, or an emulator started for the run.

The embedded emulator is a separate process (``python -m callrec emulator``): the suites talk
to it over HTTP exactly as to any other endpoint and never share a process with it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import httpx

from callrec.auth import ConnectionString
from callrec.client import Client
from callrec.specs import api_versions

if TYPE_CHECKING:
    from callrec.conformance._guard import Guard

STARTUP_TIMEOUT: Final = 90.0  # a loaded CI machine can take long to import and bind
# a well-formed recording id no endpoint has (unpadded base64url of an all-zero pair)
PROBE_RECORDING_ID: Final = (
    "eyJQbGF0Zm9ybUVuZHBvaW50SWQiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLCJSZXNv"
    "dXJjZVNwZWNpZmljSWQiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAifQ"
)
# The embedded emulator's settings: fast enough for a one-minute run, still the real paths.
EMBEDDED_OPTIONS: Final = (
    "--activation-delay",
    "0.05",
    "--file-delay",
    "0.05",
    "--video-size",
    "320x180",
    "--video-fps",
    "8",
    "--log-level",
    "warning",
)


class TargetError(Exception):
    """The target cannot be used; the message names the option to fix."""


@dataclass(frozen=True)
class Target:
    """Where the suite sends requests, and what it learned about the endpoint there."""

    connection: ConnectionString
    kind: str  # "emulator" (a callrec emulator: it has a control API) or "service"
    api_versions: tuple[str, ...]  # what the endpoint serves (the catalog's, for a service)
    info: dict[str, object] = field(default_factory=dict)
    verify: bool | Path = True  # a CA file (PEM) to trust: --ca-file
    guard: Guard | None = field(default=None, compare=False)  # budget, rate, retries, journal

    @property
    def endpoint(self) -> str:
        return self.connection.endpoint

    @property
    def is_emulator(self) -> bool:
        return self.kind == "emulator"

    def client(self, api_version: str | None = None) -> Client:
        """A signed client at ``api_version`` (default: the newest the target serves); its
        requests go through the run's guard."""
        version = api_version or self.api_versions[-1]
        wrap = self.guard.transport if self.guard is not None else None
        return Client(self.connection, api_version=version, verify=self.verify, transport=wrap)

    def session(self) -> Any:
        """A ``requests.Session`` (schemathesis sends with one) that goes through the run's
        guard and trusts ``verify``, as `client` does."""
        session = importlib.import_module("requests").Session()
        if self.guard is not None:
            trust = str(self.verify) if isinstance(self.verify, Path) else True
            adapter = self.guard.adapter(trust)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        elif isinstance(self.verify, Path):
            session.verify = str(self.verify)
        return session

    def __repr__(self) -> str:  # the key stays out of every report and log
        return f"Target({self.endpoint!r}, kind={self.kind!r})"


def probe(
    connection: ConnectionString, *, verify: bool | Path = True, guard: Guard | None = None
) -> Target:
    """Reach the endpoint: a callrec emulator answers ``GET /emulator/info``; anything else
    that answers HTTP is taken for the service. A signed GET of a recording that cannot exist
    proves the key (401 means it is wrong). Unreachable or refused: `TargetError`."""
    newest = api_versions()[-1]
    wrap = guard.transport if guard is not None else None
    with Client(
        connection, timeout=10.0, api_version=newest, verify=verify, transport=wrap
    ) as client:
        try:
            answer = client.request("GET", "/emulator/info")
            checked = client.get(PROBE_RECORDING_ID)
        except httpx.HTTPError as exc:
            raise TargetError(
                f"--connection-string: cannot reach {connection.endpoint}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
    if checked.status_code == 401:
        raise TargetError(
            f"--connection-string: {connection.endpoint} refused the access key (401)"
        )
    info = _json(answer) if answer.status_code == 200 else {}
    if info.get("name") == "callrec-emulator":
        offered = info.get("apiVersions")
        served = (
            [str(v) for v in offered if v in api_versions()] if isinstance(offered, list) else []
        )
        served_versions = tuple(served) or tuple(api_versions())
        return Target(connection, "emulator", served_versions, info, verify, guard)
    return Target(connection, "service", tuple(api_versions()), {}, verify, guard)


def _json(answer: httpx.Response) -> dict[str, object]:
    with contextlib.suppress(ValueError):
        body = answer.json()
        if isinstance(body, dict):
            return body
    return {}


@contextlib.contextmanager
def embedded_emulator(extra: tuple[str, ...] = ()) -> Iterator[ConnectionString]:
    """Start ``callrec emulator`` on a free loopback port for the run; stop it at the end."""
    command = [sys.executable, "-m", "callrec", "emulator", "--port", "0", *EMBEDDED_OPTIONS]
    process = subprocess.Popen(  # noqa: S603 (this Python running callrec)
        [*command, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = _first_line(process, STARTUP_TIMEOUT)
        if not line.startswith("CALLREC_CONNECTION_STRING="):
            stderr = process.stderr.read() if process.stderr and process.poll() is not None else ""
            raise TargetError(
                f"the embedded emulator did not start: {line or stderr.strip() or 'no output'}"
            )
        # keep its stderr drained so it never blocks on a full pipe
        threading.Thread(target=_drain, args=(process.stderr,), daemon=True).start()
        yield ConnectionString.parse(line.split("=", 1)[1])
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    found: list[str] = []
    reader = threading.Thread(
        target=lambda: found.append(process.stdout.readline() if process.stdout else ""),
        daemon=True,
    )
    reader.start()
    reader.join(timeout)
    return found[0].strip() if found else ""


def _drain(stream: IO[str] | None) -> None:
    if stream is None:
        return
    with contextlib.suppress(ValueError, OSError):
        for _line in stream:
            pass
