"""Run the emulator: in a background thread (`serve`) or in the foreground (the CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from callrec.emulator._app import EmulatorApp, build_app
from callrec.emulator._persist import StoreError
from callrec.emulator._state import Settings
from callrec.emulator._tls import ensure_certificates

STARTUP_TIMEOUT = 15.0
ABORT_AFTER = 0.3  # seconds into shutdown


class Running(str):
    """The connection string of a running emulator, with its parts as attributes."""

    endpoint: str
    access_key: str
    ca_file: Path | None
    app: EmulatorApp

    def __new__(
        cls, endpoint: str, access_key: str, ca_file: Path | None, app: EmulatorApp
    ) -> Running:
        running = super().__new__(cls, f"endpoint={endpoint}/;accesskey={access_key}")
        running.endpoint, running.access_key, running.ca_file, running.app = (
            endpoint,
            access_key,
            ca_file,
            app,
        )
        return running


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn, telling us when it is ready."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # An idle TLS keep-alive connection whose client went quiet never completes the TLS
        # close handshake: uvicorn would wait out its graceful timeout and then leak the
        # transport. Abort whatever is still open shortly after shutdown begins.
        abort = asyncio.get_running_loop().call_later(ABORT_AFTER, self._abort_connections)
        try:
            await super().shutdown(sockets)
        finally:
            abort.cancel()
            self._abort_connections()

    def _abort_connections(self) -> None:
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()


def _config(
    app: EmulatorApp, tls_files: tuple[Path, Path] | None, log_level: str
) -> uvicorn.Config:
    options: dict[str, Any] = {
        "log_level": log_level,
        "access_log": False,
        "lifespan": "on",
        "timeout_graceful_shutdown": 2,
    }
    if tls_files is not None:
        options["ssl_certfile"] = str(tls_files[1])
    return uvicorn.Config(app, **options)


def _prepare(
    host: str, port: int, settings: Settings, tls: bool, data_dir: Path
) -> tuple[socket.socket, EmulatorApp, tuple[Path, Path] | None, str]:
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    tls_files = ensure_certificates(data_dir, [host, "localhost", "127.0.0.1"]) if tls else None
    shown_host = f"[{host}]" if ":" in host else host
    endpoint = (
        settings.public_url.rstrip("/")
        if settings.public_url
        else (f"{'https' if tls else 'http'}://{shown_host}:{bound_port}")
    )
    # The app hands out URLs under its endpoint and keeps files in the data dir.
    settings = dataclasses.replace(
        settings, public_url=endpoint, data_dir=settings.data_dir or data_dir
    )
    return sock, build_app(settings), tls_files, endpoint


@contextlib.contextmanager
def serve(
    settings: Settings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = False,
    data_dir: str | Path | None = None,
    log_level: str = "warning",
) -> Iterator[Running]:
    """Run an emulator on a loopback port in a background thread; yield its connection string.

    The yielded string also carries ``.endpoint``, ``.access_key``, ``.ca_file`` (with
    ``tls=True``: the CA certificate to trust) and ``.app``.
    """
    settings = settings or Settings()
    with contextlib.ExitStack() as stack:
        folder = (
            Path(data_dir) if data_dir else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        )
        sock, app, tls_files, endpoint = _prepare(host, port, settings, tls, folder)
        stack.callback(sock.close)
        server = _Server(_config(app, tls_files, log_level))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="callrec-emulator", daemon=True
        )
        thread.start()
        if not server.ready.wait(STARTUP_TIMEOUT) or not server.started:
            server.should_exit = True
            raise RuntimeError("the emulator did not start; see the log above")
        try:
            yield Running(endpoint, settings.access_key, tls_files[0] if tls_files else None, app)
        finally:
            server.should_exit = True
            thread.join(STARTUP_TIMEOUT)


def run_foreground(
    settings: Settings, *, host: str, port: int, tls: bool, data_dir: Path | None, log_level: str
) -> int:
    """The ``callrec emulator`` command: print the connection string once ready, then serve."""
    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    with contextlib.ExitStack() as stack:
        folder = data_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        try:
            sock, app, tls_files, endpoint = _prepare(host, port, settings, tls, folder)
        except StoreError as exc:
            print(f"callrec: --data-dir: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(
                f"callrec: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr
            )
            return 2
        server = _Server(_config(app, tls_files, log_level))

        def announce() -> None:
            if server.ready.wait(STARTUP_TIMEOUT) and server.started:
                if tls_files is not None:
                    print(
                        f"callrec: TLS with a local CA; trust {tls_files[0]}",
                        file=sys.stderr,
                        flush=True,
                    )
                print(
                    f"CALLREC_CONNECTION_STRING=endpoint={endpoint}/;accesskey={settings.access_key}",
                    flush=True,
                )

        threading.Thread(target=announce, daemon=True).start()
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal: make
        # both end the process with status 0 once the shutdown is done.
        signal.signal(signal.SIGTERM, _exit_quietly)
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
    return 0


def _exit_quietly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)
