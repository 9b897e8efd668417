"""Assemble the ASGI application: control API under /emulator, everything else is the API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callrec.emulator import _api, _control
from callrec.emulator._http import error_response, read_body
from callrec.emulator._model import EmulatorError
from callrec.emulator._state import Emulator, Settings

CONTROL_PREFIX = "/emulator"


def build_app(settings: Settings | None = None) -> Starlette:
    """The emulator as an ASGI app (``app.state.emulator`` holds its state)."""
    emulator = Emulator(settings or Settings())

    async def endpoint(request: Request) -> Response:
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if raw_path == CONTROL_PREFIX or raw_path.startswith(CONTROL_PREFIX + "/"):
            return await _control_endpoint(emulator, request, raw_path[len(CONTROL_PREFIX) :])
        return await _api.dispatch(emulator, request)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        scheduler = asyncio.create_task(emulator.run_scheduler())
        try:
            yield
        finally:
            scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler
            await emulator.deliveries.close()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)], lifespan=lifespan)
    app.state.emulator = emulator
    return app


async def _control_endpoint(emulator: Emulator, request: Request, raw_path: str) -> Response:
    query = request.scope.get("query_string", b"").decode("latin-1")
    try:
        body = await read_body(
            request, emulator.settings.max_body
        )  # first: never answer mid-upload
        handler, params = _control.match(request.method, raw_path)
        _api.authenticate(emulator, request, CONTROL_PREFIX + raw_path, query, body)
        return await handler(emulator, request, params, body)
    except EmulatorError as error:
        return error_response(error, emulator.faults)
