"""What every handler shares: the error catalog as responses, bodies, JSON in and out."""

from __future__ import annotations

import functools
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response

from callrec._specs import read_spec_yaml
from callrec.emulator._faults import Faults
from callrec.emulator._model import EmulatorError

JSON_TYPE: Final = "application/json; charset=utf-8"
DRAIN_LIMIT: Final = 64 << 20  # read (and drop) at most this much of an oversized body


@functools.cache
def catalog() -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = read_spec_yaml("errors.yaml")["errors"]
    return entries


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON_TYPE, headers=headers)


def empty_response(status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(b"", status_code=status, headers=headers)


def error_response(error: EmulatorError, faults: Faults, *, flat: bool = False) -> Response:
    """The catalog's answer to ``error``: CommunicationErrorResponse ({"error": {...}}), or the
    bare error object when ``flat`` (the 2021 conversations API) or the flat-error-body fault."""
    entry = catalog()[error.name]
    message = str(entry["message"])
    if error.detail is not None:
        message = f"{message.rstrip('.')}: {error.detail}"
    body: dict[str, Any] = {"code": entry["code"], "message": message}
    if error.target is not None:
        body["target"] = error.target
    flat = flat or "flat-error-body" in faults
    return json_response(body if flat else {"error": body}, entry["status"])


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or `EmulatorError` body-too-large (after draining it, so the client
    is not cut off mid-upload)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif size > DRAIN_LIMIT:
            break
    if size > limit:
        raise EmulatorError("body-too-large", f"the limit is {limit} bytes")
    return b"".join(chunks)


def parse_json(body: bytes, request: Request) -> Any:
    """The JSON body; wrong content type, bad UTF-8 and bad JSON are client errors."""
    content_type = request.headers.get("content-type", "")
    if body and content_type.split(";")[0].strip().lower() not in (
        "application/json",
        "text/json",
        "",
    ):
        raise EmulatorError("unsupported-media-type", f"got {content_type!r}")
    if not body:
        raise EmulatorError("invalid-request", "the request needs a JSON body")
    try:
        body.decode("utf-8")
        return orjson.loads(body)
    except UnicodeDecodeError:
        raise EmulatorError("invalid-request", "the body is not UTF-8") from None
    except orjson.JSONDecodeError as exc:
        raise EmulatorError("invalid-request", f"the body is not JSON: {exc.msg}") from None
