"""The recording operations: a router built from the profiles' paths, and thin handlers.

Paths are matched on the raw (still percent-encoded) path, so an id holding an encoded ``/``
stays one segment; ids are decoded after matching.
"""

from __future__ import annotations

import contextlib
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
from callrec._specs import WRAPPED_ERROR_SCHEMA, error_schema, profiles, takes_api_version
from callrec.emulator import _content, _ids
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
    params: dict[str, str]  # every path parameter, decoded (conversationId, documentId, ...)


Handler = Callable[[Call], Awaitable[Response]]


def _compile(template: str) -> re.Pattern[str]:
    pattern = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
        for index, part in enumerate(_PARAMETER.split(template))
    )
    return re.compile(f"^{pattern}$")


@dataclass(frozen=True)
class Route:
    """One path template and method some profiles serve an operation at."""

    pattern: re.Pattern[str]
    template: str
    method: str
    operation_id: str
    versions: tuple[str, ...]  # the api-versions serving it there
    # the newest of them when none takes an api-version parameter (the 2021 conversations
    # API): such a request names its version by its path alone
    unversioned: str | None


def _routes() -> list[Route]:
    """A route for every (path template, method) of every profile. A version answers only at
    its own templates (`_serve` checks), so `/:pause` is 2021-11-15-preview's and `:pause`
    everyone else's."""
    seen: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for api_version, version_profile in profiles().items():
        for operation_id, operation in version_profile["operations"].items():
            key = (operation["path"], operation["method"])
            seen.setdefault(key, (operation_id, []))[1].append(api_version)
    return [
        Route(
            _compile(path),
            path,
            method,
            operation_id,
            tuple(versions),
            None if any(map(takes_api_version, versions)) else versions[-1],
        )
        for (path, method), (operation_id, versions) in seen.items()
    ]


ROUTES: Final = _routes()


def _state_body(
    recording: Recording, call: Call, status: int, *, starting: bool = False
) -> dict[str, Any]:
    """The recording as the body schema the version's profile names for ``status`` has it."""
    faults = call.emulator.faults
    state = "active" if starting and "start-answers-active" in faults else recording.state
    if "wrong-enum-case" in faults:
        state = state.capitalize()
    body = {
        "recordingId": recording.id,
        "recordingInstanceId": recording.id,  # the 2021 conversations API's name for it
        "recordingState": state,
        "recordingKind": recording.kind,
    }
    if "response-missing-state" in faults:
        del body["recordingState"]
    success = call.operation["success"]
    schema = success.get(str(status)) or next(s for s in success.values() if s)
    present = set(fields(schema, call.api_version))
    return {name: value for name, value in body.items() if name in present}


def _checked_start_request(call: Call) -> dict[str, Any]:
    request = parse_json(call.body, call.request)
    if "explicit-null-refused" in call.emulator.faults and isinstance(request, dict):
        nulls = [name for name, value in request.items() if value is None]
        if nulls:  # fault: a null is refused instead of read as "left out"
            raise EmulatorError("invalid-request", f"{nulls[0]} is null", nulls[0])
    schema = str(call.operation.get("request", "StartCallRecordingRequest"))
    failures = validate(request, schema, api_version=call.api_version)
    if not failures:
        return _canonical_start(call, dict(request))
    union = validate(request, schema)
    if not union:  # valid in some version, not this one
        if call.emulator.settings.loose:
            return _canonical_start(call, dict(request))
        first = failures[0]
        raise EmulatorError("field-not-in-version", first.message, first.pointer or None)
    first = union[0]
    raise EmulatorError(
        "invalid-request", f"{first.pointer or '(root)'}: {first.message}", first.pointer or None
    )


def _canonical_start(call: Call, request: dict[str, Any]) -> dict[str, Any]:
    """The start as the model reads it (StartCallRecordingRequest): a start that names its call
    in the path (the conversations API: a server call id or a group call id) gets the
    matching callLocator, and every start the media options its profile implies."""
    conversation = call.params.get("conversationId")
    if conversation is not None:
        known = call.emulator.model.calls
        by_group = conversation not in known and any(
            c.group_call_id == conversation for c in known.values()
        )
        request = {
            name: value
            for name, value in request.items()
            if name in fields("StartCallRecordingRequest")
        }
        request["callLocator"] = (
            {"kind": "groupCallLocator", "groupCallId": conversation}
            if by_group
            else {"kind": "serverCallLocator", "serverCallId": conversation}
        )
    defaults = profiles()[call.api_version].get("startDefaults", {})
    return {**defaults, **request}


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
    body = _state_body(recording, call, status, starting=True)
    if "start-wrong-status" in emulator.faults:
        status = 201
    if request_id is not None:
        emulator.repeated[request_id] = (status, body)
    return json_response(body, status, extra)


async def get(call: Call) -> Response:
    recording = call.emulator.model.live(call.recording_id or "", call.path)
    response = json_response(_state_body(recording, call, 200))
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


async def download(call: Call) -> Response:
    """The 2021 conversations API's /recording/download/{documentId} (the media) and its
    /metadata: the bytes the event's document holds, with Range, on the ACS endpoint itself."""
    emulator = call.emulator
    document_id = call.params.get("documentId", "")
    document = emulator.store.find(document_id, emulator.clock.now(), emulator.faults)
    if document is None:
        raise EmulatorError("document-not-found", target=call.path)
    media = bool(call.operation.get("media"))
    response = _content.download(
        emulator.store,
        call.request,
        document_id,
        document.media_kind if media else _content.METADATA_KIND,
        emulator.clock.now(),
        faults=emulator.faults,
    )
    documented = call.operation.get("contentType")
    if response.status_code < 300 and documented:
        response.headers["content-type"] = str(documented)
    return response


HANDLERS: Final[dict[str, Handler]] = {
    "StartRecording": start,
    "GetRecordingProperties": get,
    "PauseRecording": _transition(Model.pause, "pause-wrong-status"),
    "ResumeRecording": _transition(Model.resume, "resume-wrong-status"),
    "StopRecording": _transition(Model.stop, "stop-wrong-status"),
    "GetRecordingResult": result,
    "DownloadRecording": download,
    "DownloadRecordingMetadata": download,
}


def _route(raw_path: str, method: str) -> list[tuple[Route, dict[str, str]]]:
    """The routes a request matches (one per template that fits it), each with its decoded
    path parameters, or the routing error."""
    matched_path = False
    found: list[tuple[Route, dict[str, str]]] = []
    for route in ROUTES:
        match = route.pattern.match(raw_path)
        if match is None:
            continue
        matched_path = True
        if route.method == method:
            found.append((route, {k: unquote(v) for k, v in match.groupdict().items()}))
    if not found:
        raise EmulatorError(
            "method-not-allowed" if matched_path else "route-not-found", f"{method} {raw_path}"
        )
    return found


def _error_schema(raw_path: str, method: str, api_version: str | None) -> str:
    """The error body schema of the version a request is for (before its version is known:
    of the version its path alone names, if it does)."""
    if api_version is None:
        with contextlib.suppress(EmulatorError):
            api_version = next(
                (r.unversioned for r, _ in _route(raw_path, method) if r.unversioned), None
            )
    return error_schema(api_version) if api_version else WRAPPED_ERROR_SCHEMA


async def dispatch(emulator: Emulator, request: Request, raw_path: str) -> Response:
    started = time.perf_counter()
    query = request.scope.get("query_string", b"").decode("latin-1")
    served: list[str] = []  # the api-version, once known
    try:
        response = await _serve(emulator, request, raw_path, query, served)
    except EmulatorError as error:
        schema = _error_schema(raw_path, request.method, served[0] if served else None)
        response = error_response(error, emulator.faults, flat=schema != WRAPPED_ERROR_SCHEMA)
    LOG.info(
        "%s %s?%s %d %.1fms",
        request.method,
        raw_path[:LOGGED_PATH],
        query,
        response.status_code,
        (time.perf_counter() - started) * 1000,
    )
    return response


async def _serve(
    emulator: Emulator, request: Request, raw_path: str, query: str, served: list[str]
) -> Response:
    # read the body first: never answer while the client is still uploading
    body = await read_body(request, emulator.settings.max_body)
    routes = _route(raw_path, request.method)
    authenticate(emulator, request, raw_path, query, body)
    unversioned = [(r, p) for r, p in routes if r.unversioned is not None]
    if unversioned:  # the path names the version; an api-version parameter is ignored
        api_version = str(unversioned[0][0].unversioned)
        if api_version not in emulator.settings.supported():
            raise EmulatorError(
                "route-not-found", f"this emulator does not serve {api_version} (--api-version)"
            )
    else:
        api_version = _api_version(emulator, query)
    served.append(api_version)
    operations = profiles()[api_version]["operations"]
    chosen = next(
        ((r, p) for r, p in routes if operations.get(r.operation_id, {}).get("path") == r.template),
        None,
    )
    route, params = chosen if chosen is not None else (routes[0][0], routes[0][1])
    operation_id = route.operation_id
    recording_id = params.get("recordingId")
    operation = operations.get(operation_id) if chosen is not None else None
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
        known = operations.get(operation_id)
        where = f" (its path there is {known['path']})" if known else ""
        raise EmulatorError(
            "route-not-found",
            f"{request.method} {raw_path[:LOGGED_PATH]} is not an operation of api-version "
            f"{api_version}{where}",
        )
    call = Call(
        emulator,
        request,
        operation_id,
        operation,
        api_version,
        raw_path,
        recording_id,
        body,
        params,
    )
    _check_conversation(call)
    return await HANDLERS[operation_id](call)


def _check_conversation(call: Call) -> None:
    """A recording named under a conversation (the 2021 API) must be that call's: another
    conversation's path does not find it."""
    conversation = call.params.get("conversationId")
    if conversation is None or call.recording_id is None:
        return
    recording = call.emulator.model.recordings.get(call.recording_id)
    if recording is not None and conversation not in (
        recording.call.server_call_id,
        recording.call.group_call_id,
    ):
        raise EmulatorError("recording-not-found", target=call.path)


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
