"""The ASGI application: control API under /emulator, everything else is the recording API.

A plain ASGI callable rather than a routed Starlette app: routing happens on the raw path in
`_api` and `_control` (so any method and any path get the documented error shape), and each
request costs no middleware. Starlette's `Request` and `Response` do the HTTP parsing. Chaos
(`_chaos`) acts on every request outside /emulator before it is routed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from starlette.datastructures import State
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from callrec.emulator import _api, _content, _control
from callrec.emulator._chaos import Burst
from callrec.emulator._http import (
    catalog,
    empty_response,
    error_response,
    json_response,
    read_body,
)
from callrec.emulator._model import EmulatorError
from callrec.emulator._state import Emulator, Settings

CONTROL_PREFIX = "/emulator"
CONTENT_PREFIX = "/v1/objects/"
LOG = logging.getLogger("callrec.emulator")


class EmulatorApp:
    """The emulator as an ASGI app; ``state.emulator`` holds its state."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.emulator = Emulator(settings or Settings())
        self.state = State({"emulator": self.emulator})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            try:
                response = await self._endpoint(request)
            except ClientDisconnect:  # the client left mid-request: nobody to answer
                return
            self.emulator.save()  # durable before the client hears of it
            await response(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _endpoint(self, request: Request) -> Response:
        raw_path = (request.scope.get("raw_path") or request.scope["path"].encode()).decode(
            "latin-1"
        )
        if raw_path == CONTROL_PREFIX or raw_path.startswith(CONTROL_PREFIX + "/"):
            return await _control_endpoint(self.emulator, request, raw_path[len(CONTROL_PREFIX) :])
        content = raw_path.startswith(CONTENT_PREFIX)
        burst = self.emulator.chaos.take()  # before any await: concurrent requests count right
        if burst is not None:
            response = await _burst_response(self.emulator, request, raw_path, burst, content)
        elif content:
            response = await _content_endpoint(self.emulator, request, raw_path)
        else:
            response = await _api.dispatch(self.emulator, request, raw_path)
        delay = self.emulator.chaos.delay()
        if delay > 0:  # chaos slow-responses: handled already, the answer comes late
            await asyncio.sleep(delay)
        return response

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        scheduler: asyncio.Task[Any] | None = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.emulator.eventgrid.attach()
                self.emulator.resume()
                scheduler = asyncio.create_task(self.emulator.run_scheduler())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if scheduler is not None:
                    scheduler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await scheduler
                await self.emulator.deliveries.close()
                self.emulator.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def build_app(settings: Settings | None = None) -> EmulatorApp:
    """The emulator as an ASGI app (``app.state.emulator`` holds its state)."""
    return EmulatorApp(settings)


async def _control_endpoint(emulator: Emulator, request: Request, raw_path: str) -> Response:
    query = request.scope.get("query_string", b"").decode("latin-1")
    try:
        # read the body first: never answer while the client is still uploading
        body = await read_body(request, emulator.settings.max_body)
        handler, params = _control.match(request.method, raw_path)
        _api.authenticate(emulator, request, CONTROL_PREFIX + raw_path, query, body)
        return await handler(emulator, request, params, body)
    except EmulatorError as error:
        return error_response(error, emulator.faults)


async def _burst_response(
    emulator: Emulator, request: Request, raw_path: str, burst: Burst, content: bool
) -> Response:
    """Chaos throttle-burst or unavailable-burst: the request is not handled. Content endpoints
    answer errors with an empty body; the recording operations with CommunicationErrorResponse."""
    with contextlib.suppress(EmulatorError):  # too large: answer the burst all the same
        await read_body(request, emulator.settings.max_body)  # never answer mid-upload
    answer = burst.answer
    headers = {} if burst.retry_after is None else {"Retry-After": str(burst.retry_after)}
    LOG.info("%s %s %d (chaos)", request.method, raw_path[: _api.LOGGED_PATH], answer.status)
    if content:
        return empty_response(answer.status, headers)
    error = {"code": answer.code, "message": answer.message}
    return json_response({"error": error}, answer.status, headers)


async def _content_endpoint(emulator: Emulator, request: Request, raw_path: str) -> Response:
    """Download and delete: errors are bare statuses with empty bodies (contract digest §3)."""
    started = time.perf_counter()
    query = request.scope.get("query_string", b"").decode("latin-1")
    response = await _content_response(emulator, request, raw_path, query)
    LOG.info(
        "%s %s?%s %d %.1fms",
        request.method,
        raw_path[: _api.LOGGED_PATH],
        query,
        response.status_code,
        (time.perf_counter() - started) * 1000,
    )
    return response


async def _content_response(
    emulator: Emulator, request: Request, raw_path: str, query: str
) -> Response:
    try:
        body = await read_body(request, emulator.settings.max_body)
        _api.authenticate(emulator, request, raw_path, query, body)
    except EmulatorError as error:
        return Response(b"", status_code=catalog()[error.name]["status"])
    target = _content.route(raw_path)
    now = emulator.clock.now()
    if target is None:
        return Response(b"", status_code=404)
    document_id, kind = target
    if kind is not None and request.method in ("GET", "HEAD"):
        return _content.download(
            emulator.store, request, document_id, kind, now, faults=emulator.faults
        )
    if kind is None and request.method == "DELETE":
        return _content.delete(emulator.store, document_id, now, faults=emulator.faults)
    return Response(b"", status_code=405)
