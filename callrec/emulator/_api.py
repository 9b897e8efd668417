"""The recording operations: a router built from the profiles' paths, and thin handlers.

Paths are matched on the raw (still percent-encoded) path, so an id holding an encoded ``/``
stays one segment; ids are decoded after matching.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.responses import Response

from callrec import validate
from callrec._specs import profiles
from callrec.emulator import _ids
from callrec.emulator._auth import verify
from callrec.emulator._http import (
    empty_response,
    error_response,
    json_response,
    parse_json,
    read_body,
)
from callrec.emulator._model import EmulatorError, Model, Recording, StateChanged
from callrec.emulator._state import LOG, Emulator
from callrec.specs import fields

_PARAMETER: Final = re.compile(r"\{([A-Za-z]+)\}")
LOGGED_PATH: Final = 200  # characters of a path that make it into a log line


@dataclass(frozen=True)
class Call:
    """One request to a recording operation, after routing, auth and version checks."""

    emulator: Emulator
    request: Request
    operation_id: str
    operation: dict[str, Any]
    api_version: str
    path: str
    recording_id: str | None
    body: bytes


Handler = Callable[[Call], Awaitable[Response]]


def _compile(template: str) -> re.Pattern[str]:
    pattern = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
        for index, part in enumerate(_PARAMETER.split(template))
    )
    return re.compile(f"^{pattern}$")


def _routes() -> list[tuple[re.Pattern[str], str, str]]:
    """(path regex, method, operationId) for every operation of every profile."""
    seen: dict[tuple[str, str], str] = {}
    for version_profile in profiles().values():
        for operation_id, operation in version_profile["operations"].items():
            seen[(operation["path"], operation["method"])] = operation_id
    return [(_compile(path), method, operation_id) for (path, method), operation_id in seen.items()]


ROUTES: Final = _routes()


def _state_body(recording: Recording, call: Call, *, starting: bool = False) -> dict[str, Any]:
    faults = call.emulator.faults
    state = "active" if starting and "start-answers-active" in faults else recording.state
    if "wrong-enum-case" in faults:
        state = state.capitalize()
    body = {"recordingId": recording.id, "recordingState": state, "recordingKind": recording.kind}
    if "response-missing-state" in faults:
        del body["recordingState"]
    present = set(fields("RecordingStateResponse", call.api_version))
    return {name: value for name, value in body.items() if name in present}


def _checked_start_request(call: Call) -> dict[str, Any]:
    request = parse_json(call.body, call.request)
    if "explicit-null-refused" in call.emulator.faults and isinstance(request, dict):
        nulls = [name for name, value in request.items() if value is None]
        if nulls:  # fault: a null is refused instead of read as "left out"
            raise EmulatorError("invalid-request", f"{nulls[0]} is null", nulls[0])
    failures = validate(request, "StartCallRecordingRequest", api_version=call.api_version)
    if not failures:
        return dict(request)
    union = validate(request, "StartCallRecordingRequest")
    if not union:  # valid in some version, not this one
        if call.emulator.settings.loose:
            return dict(request)
        first = failures[0]
        raise EmulatorError("field-not-in-version", first.message, first.pointer or None)
    first = union[0]
    raise EmulatorError(
        "invalid-request", f"{first.pointer or '(root)'}: {first.message}", first.pointer or None
    )


async def start(call: Call) -> Response:
    emulator = call.emulator
    headers = call.request.headers
    request_id = headers.get("repeatability-request-id")
    first_sent = headers.get("repeatability-first-sent")
    extra: dict[str, str] = {}
    if request_id is not None:
        if not first_sent:
            raise EmulatorError("repeatability-incomplete")
        try:
            uuid.UUID(request_id)
        except ValueError:
            raise EmulatorError(
                "invalid-request", "Repeatability-Request-ID must be a UUID"
            ) from None
        extra["Repeatability-Result"] = "accepted"
        if request_id in emulator.repeated and "repeatability-ignored" not in emulator.faults:
            status, body = emulator.repeated[request_id]
            return json_response(body, status, extra)
    try:
        request = _checked_start_request(call)
    except EmulatorError as error:
        if error.name == "invalid-request" and "server-error-on-bad-body" in emulator.faults:
            failure = {"code": "InternalServerError", "message": "Something went wrong."}
            return json_response({"error": failure}, 500)
        raise
    accepted = emulator.settings.async_start and "202" in call.operation["success"]
    try:
        recording = emulator.model.start(
            request, call.api_version, emulator.clock.now(), emulator.settings.activation_delay
        )
    except EmulatorError as error:
        if not (accepted and error.name == "call-not-established"):
            raise
        failed_id = _ids.recording_id()
        emulator.report_failed_start(
            failed_id, request, call.api_version, error.detail or error.name
        )
        body = {"recordingId": failed_id, "recordingState": "inactive"}
        return json_response(body, 202, extra)
    emulator.wake.set()
    status = 202 if accepted else 200
    if "start-wrong-status" in emulator.faults:
        status = 201
    body = _state_body(recording, call, starting=True)
    if request_id is not None:
        emulator.repeated[request_id] = (status, body)
    return json_response(body, status, extra)


async def get(call: Call) -> Response:
    recording = call.emulator.model.live(call.recording_id or "", call.path)
    response = json_response(_state_body(recording, call))
    if "get-wrong-content-type" in call.emulator.faults:
        response.headers["content-type"] = "text/plain; charset=utf-8"
    return response


Change = Callable[[Model, str, float, str | None], list[StateChanged]]


def _transition(change: Change, wrong_status_fault: str) -> Handler:
    """Pause, resume or stop: apply the change, report it, answer the profile's success code."""

    async def handler(call: Call) -> Response:
        emulator = call.emulator
        emulator.report(
            change(emulator.model, call.recording_id or "", emulator.clock.now(), call.path)
        )
        [status] = call.operation["success"]  # one bodiless success code per version
        return empty_response(200 if wrong_status_fault in emulator.faults else int(status))

    return handler


async def result(call: Call) -> Response:
    emulator = call.emulator
    recording = emulator.model.recordings.get(call.recording_id or "")
    if recording is None:
        raise EmulatorError("recording-not-found", target=call.path)
    # as the event says it: recorded from the moment it first turned active, and as long as
    # its media (paused time excluded)
    began = recording.activated_at if recording.activated_at is not None else recording.started_at
    if recording.chunks:
        duration = sum(int(chunk["durationMs"]) for chunk in recording.chunks)
    else:
        end = recording.stopped_at if recording.stopped_at is not None else emulator.clock.now()
        paused = sum(
            (stop_at or end) - max(start_at, began)
            for start_at, stop_at in recording.pauses
            if start_at is not None and (stop_at or end) > began
        )
        duration = max(0, round((end - began - paused) * 1000))
    body: dict[str, Any] = {
        "recordingId": recording.id,
        "recordingStorageInfo": {
            "recordingChunks": [_result_chunk(chunk) for chunk in recording.chunks]
        },
        "recordingStartTime": emulator.clock.iso(began),
        "recordingDurationMs": duration,
    }
    if recording.upload_errors:  # a failed export to external storage (see _byos)
        body["errors"] = [dict(error) for error in recording.upload_errors]
    if recording.stopped_at is None:
        body["sessionEndReason"] = "sessionStillOngoing"
    elif recording.end_reason == "CallEnded":
        body["sessionEndReason"] = "callEnded"
    return json_response(body)


def _result_chunk(chunk: dict[str, Any]) -> dict[str, Any]:
    """A chunk as the preview result spells it (camelCase endReason, its own field list)."""
    shaped = {name: chunk[name] for name in fields("RecordingChunkStorageInfo") if name in chunk}
    reason = str(shaped.get("endReason", ""))
    shaped["endReason"] = reason[:1].lower() + reason[1:]
    return shaped


HANDLERS: Final[dict[str, Handler]] = {
    "StartRecording": start,
    "GetRecordingProperties": get,
    "PauseRecording": _transition(Model.pause, "pause-wrong-status"),
    "ResumeRecording": _transition(Model.resume, "resume-wrong-status"),
    "StopRecording": _transition(Model.stop, "stop-wrong-status"),
    "GetRecordingResult": result,
}


def _route(raw_path: str, method: str) -> tuple[str, str | None]:
    """(operationId, decoded recording id) for a request, or the routing error."""
    matched_path = False
    for pattern, route_method, operation_id in ROUTES:
        match = pattern.match(raw_path)
        if match is None:
            continue
        matched_path = True
        if route_method == method:
            encoded = match.groupdict().get("recordingId")
            return operation_id, None if encoded is None else unquote(encoded)
    raise EmulatorError(
        "method-not-allowed" if matched_path else "route-not-found", f"{method} {raw_path}"
    )


async def dispatch(emulator: Emulator, request: Request, raw_path: str) -> Response:
    started = time.perf_counter()
    query = request.scope.get("query_string", b"").decode("latin-1")
    try:
        response = await _serve(emulator, request, raw_path, query)
    except EmulatorError as error:
        response = error_response(error, emulator.faults)
    LOG.info(
        "%s %s?%s %d %.1fms",
        request.method,
        raw_path[:LOGGED_PATH],
        query,
        response.status_code,
        (time.perf_counter() - started) * 1000,
    )
    return response


async def _serve(emulator: Emulator, request: Request, raw_path: str, query: str) -> Response:
    # read the body first: never answer while the client is still uploading
    body = await read_body(request, emulator.settings.max_body)
    operation_id, recording_id = _route(raw_path, request.method)
    authenticate(emulator, request, raw_path, query, body)
    api_version = _api_version(emulator, query)
    operation = profiles()[api_version]["operations"].get(operation_id)
    if operation is None and "result-on-ga" in emulator.faults:  # fault: any version's operation
        operation = next(
            (
                p["operations"][operation_id]
                for p in profiles().values()
                if operation_id in p["operations"]
            ),
            None,
        )
    if operation is None:
        raise EmulatorError(
            "route-not-found", f"{operation_id} does not exist in api-version {api_version}"
        )
    call = Call(
        emulator, request, operation_id, operation, api_version, raw_path, recording_id, body
    )
    return await HANDLERS[operation_id](call)


def authenticate(
    emulator: Emulator, request: Request, raw_path: str, query: str, body: bytes
) -> None:
    if emulator.settings.loose or "auth-not-checked" in emulator.faults:
        return
    public = emulator.settings.public_url
    extra = [public.split("://", 1)[-1].rstrip("/")] if public else []
    faults = emulator.faults
    problem = verify(
        emulator.settings.access_key,
        request.method,
        raw_path=raw_path,
        query=query,
        headers=request.headers,
        body=body,
        extra_hosts=extra,
        content=raw_path.startswith("/v1/objects/"),
        check_body_hash="body-hash-not-checked" not in faults,
        check_date="date-not-checked" not in faults,
        portless_hosts="host-port-ignored" in faults,
    )
    if problem is not None:
        LOG.warning("401 for %s %s: %s", request.method, raw_path[:LOGGED_PATH], problem)
        raise EmulatorError("auth-failed")


def _api_version(emulator: Emulator, query: str) -> str:
    values = parse_qs(query).get("api-version", [])
    supported = emulator.settings.supported()
    if "api-version-not-checked" in emulator.faults and (not values or values[0] not in supported):
        return supported[-1]
    if not values:
        raise EmulatorError("api-version-missing", f"Supported: {', '.join(supported)}.")
    if values[0] not in supported:
        raise EmulatorError(
            "api-version-unsupported", f"{values[0]!r}; supported: {', '.join(supported)}."
        )
    return values[0]
