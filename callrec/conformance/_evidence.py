"""What a test saw, kept as evidence in the run's results: HTTP exchanges with the target,
deliveries to the webhook, recording state transitions, notes.

Nothing secret is kept: no request headers at all (Authorization, x-ms-date...), query values
named like credentials are blanked, bodies are truncated.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlencode

import httpx
import orjson

from callrec.conformance._receiver import Delivery

BODY_LIMIT: Final = 2048  # characters of a body kept
EXCHANGE_LIMIT: Final = 200  # exchanges kept per test (the count is exact regardless)
SECRET_QUERY: Final = frozenset({"sig", "signature", "se", "sv", "skoid", "sktid", "code", "key"})
_OPERATIONS: Final = (
    ("POST", re.compile(r"^/calling/recordings/?$"), "StartRecording"),
    ("GET", re.compile(r"^/calling/recordings/[^/]+/result$"), "GetRecordingResult"),
    ("POST", re.compile(r"^/calling/recordings/[^/]+:pause$"), "PauseRecording"),
    ("POST", re.compile(r"^/calling/recordings/[^/]+:resume$"), "ResumeRecording"),
    ("POST", re.compile(r"^/calling/recordings/[^/]+/:pause$"), "PauseRecording"),  # 2021-11
    ("POST", re.compile(r"^/calling/recordings/[^/]+/:resume$"), "ResumeRecording"),
    ("GET", re.compile(r"^/calling/recordings/[^/:]+$"), "GetRecordingProperties"),
    ("DELETE", re.compile(r"^/calling/recordings/[^/:]+$"), "StopRecording"),
    ("GET", re.compile(r"^/v1/objects/[^/]+/content/[^/]+$"), "DownloadContent"),
    ("HEAD", re.compile(r"^/v1/objects/[^/]+/content/[^/]+$"), "DownloadContent"),
    ("DELETE", re.compile(r"^/v1/objects/[^/]+$"), "DeleteContent"),
)
_RECORDING: Final = re.compile(r"^/calling/recordings/([^/:]+)")


def operation(method: str, path: str) -> str | None:
    """The recording operation a request is, by method and path (None: anything else)."""
    bare = path.split("?", 1)[0]
    for wanted, pattern, name in _OPERATIONS:
        if method == wanted and pattern.match(bare):
            return name
    return None


def clean_query(query: str) -> str:
    """The query with credential-like values blanked (SAS tokens, codes)."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() in SECRET_QUERY else v) for k, v in pairs])


def _body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if "json" in content_type or raw[:1] in (b"{", b"["):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            text = orjson.dumps(value).decode()
            return value if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…"
    if "octet-stream" in content_type or not raw.isascii():
        return f"<{len(raw)} bytes>"
    text = raw.decode("ascii")
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…"


class Exchanges:
    """httpx event hooks that keep each exchange of a client as evidence."""

    def __init__(self) -> None:
        self.kept: list[dict[str, Any]] = []
        self.count = 0

    def on_request(self, request: httpx.Request) -> None:
        request.extensions["callrec_started"] = time.perf_counter()

    def on_response(self, response: httpx.Response) -> None:
        self.count += 1
        if len(self.kept) >= EXCHANGE_LIMIT:
            return
        request = response.request
        started = request.extensions.get("callrec_started", time.perf_counter())
        latency = (time.perf_counter() - started) * 1000
        response.read()
        path = request.url.raw_path.decode("ascii", "replace")
        bare, _, query = path.partition("?")
        self.kept.append(
            {
                "kind": "exchange",
                "at": time.time(),
                "method": request.method,
                "path": bare + (f"?{clean_query(query)}" if query else ""),
                "operation": operation(request.method, path),
                "status": response.status_code,
                "latencyMs": round(latency, 3),
                "requestBody": _body(request.content, request.headers.get("content-type", "")),
                "responseBody": _body(response.content, response.headers.get("content-type", "")),
            }
        )


def deliveries(received: Iterable[Delivery]) -> list[dict[str, Any]]:
    """Webhook deliveries as evidence: what came, when, in which schema."""
    kept: list[dict[str, Any]] = []
    for delivery in received:
        if delivery.kind != "delivery":
            continue
        items = delivery.body if isinstance(delivery.body, list) else [delivery.body]
        for item in items:
            if not isinstance(item, dict):
                continue
            if "eventType" in item:
                source, schema, event_type = "eventgrid", "EventGridSchema", item["eventType"]
            else:
                event_type = str(item.get("type", "?"))
                # RecordingFileStatusUpdated comes from Event Grid; the rest are callbacks
                source = "eventgrid" if "FileStatus" in event_type else "callback"
                schema = "CloudEventSchemaV1_0"
            text = orjson.dumps(item).decode()
            kept.append(
                {
                    "kind": "delivery",
                    "at": delivery.at,
                    "source": source,
                    "eventType": str(event_type),
                    "schema": schema,
                    "body": item if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…",
                }
            )
    return kept


VERBS: Final = {
    "GetRecordingProperties": "get",
    "PauseRecording": "pause",
    "ResumeRecording": "resume",
    "StopRecording": "stop",
    "GetRecordingResult": "result",
    "DownloadContent": "download",
    "DeleteContent": "delete",
}
_AFTER: Final = {
    "StartRecording": "starting",
    "PauseRecording": "paused",
    "ResumeRecording": "active",
    "StopRecording": "stopped",
}


def transitions(exchanges: list[dict[str, Any]], passed: bool) -> list[dict[str, Any]]:
    """The state transitions a test exercised, read off its exchanges per recording id: a
    start makes a recording starting, a get reading ``active`` makes it active, pause, resume
    and stop move it; operations on a stopped recording are the stopped -> stopped moves.
    ``ok`` is whether the test passed."""
    state: dict[str, str] = {}
    found: list[dict[str, Any]] = []
    for exchange in exchanges:
        name = exchange.get("operation")
        ok_status = 200 <= int(exchange["status"]) < 300
        body = exchange.get("responseBody")
        if name == "StartRecording":
            rid = body.get("recordingId") if isinstance(body, dict) and ok_status else None
            if rid:
                state[str(rid)] = "starting"
                found.append(_move("none", "start", "starting", passed))
            continue
        rid = _recording_of(exchange)
        if name is None or rid is None or rid not in state:
            continue
        before = state[rid]
        verb = VERBS.get(str(name), str(name))
        if before == "stopped":
            found.append(_move("stopped", verb, "stopped", passed))
        elif not ok_status:
            continue
        elif name == "GetRecordingProperties":
            reading = body.get("recordingState") if isinstance(body, dict) else None
            if before == "starting" and reading == "active":
                state[rid] = "active"
                found.append(_move("starting", "activate", "active", passed))
        elif name in _AFTER:
            state[rid] = _AFTER[name]
            found.append(_move(before, verb, _AFTER[name], passed))
    return found


def _move(before: str, verb: str, after: str, ok: bool) -> dict[str, Any]:
    return {"kind": "transition", "from": before, "operation": verb, "to": after, "ok": ok}


def _recording_of(exchange: dict[str, Any]) -> str | None:
    match = _RECORDING.match(str(exchange["path"]).split("?", 1)[0])
    return unquote(match.group(1)) if match else None
