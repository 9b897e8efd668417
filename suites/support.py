"""What several suites share: request bodies from provided calls, bounded polling."""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import json
import re
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

import callrec
from callrec._specs import WRAPPED_ERROR_SCHEMA
from callrec.client import Client, HmacAuth
from callrec.conformance import (
    Delivery,
    NotApplicable,
    NotObserved,
    ProvidedCall,
    Receiver,
    Target,
)
from callrec.specs import (
    error_schema,
    fields,
    profile,
    requirements,
    schema_document,
    specs_root,
)

POLL_INTERVAL = 0.05
STATE_TIMEOUT = 15.0  # the live service turns a recording active 5-10 s after a start


def locator(call: ProvidedCall) -> dict[str, Any]:
    """A serverCallLocator for the call."""
    return {"kind": "serverCallLocator", "serverCallId": call.server_call_id}


def wait_for_state(
    client: Client, recording_id: str, state: str, timeout: float = STATE_TIMEOUT
) -> dict[str, Any]:
    """Poll the recording until it reads ``state``; `NotObserved` if it does not in time."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while True:
        answer = client.get(recording_id)
        if answer.status_code == 200:
            body: dict[str, Any] = answer.json()
            if body.get("recordingState") == state:
                return body
            seen.append(str(body.get("recordingState")))
        else:
            seen.append(str(answer.status_code))
        if time.monotonic() >= deadline:
            raise NotObserved(
                f"not observed within {timeout:g}s: recording state {state!r} "
                f"(last answers: {', '.join(seen[-3:])})"
            )
        time.sleep(POLL_INTERVAL)


# ---------------------------------------------------------------- spec data (lifecycle suites)
@functools.cache
def _spec_table(name: str) -> Any:
    """A YAML file under specs/ (read once; treat as read-only)."""
    with (specs_root() / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def catalog_error(name: str) -> tuple[int, str]:
    """(status, error.code) of a row of the error catalog, specs/errors.yaml."""
    row = _spec_table("errors.yaml")["errors"][name]
    return int(row["status"]), str(row["code"])


def media_combinations() -> list[dict[str, Any]]:
    """The documented content/channel/format combinations, specs/media.yaml."""
    combinations: list[dict[str, Any]] = _spec_table("media.yaml")["combinations"]
    return combinations


MEDIA_FIELDS: Final = {
    "recordingContentType": "content",
    "recordingChannelType": "channel",
    "recordingFormatType": "format",
}
RECORDING_ID_FIELDS: Final = ("recordingId", "recordingInstanceId")  # the latter: 2021's name


def asks_for_media(api_version: str) -> bool:
    """Whether a start of the version names its media (the 2021 conversations API cannot:
    it records what its profile's startDefaults say)."""
    start = profile(api_version)["operations"]["StartRecording"].get("request")
    return bool(start) and set(MEDIA_FIELDS) <= set(fields(str(start), api_version))


def requestable(api_version: str) -> list[dict[str, Any]]:
    """The media combinations a start of the version can get: all of specs/media.yaml, or
    only the one a version that names no media records."""
    if asks_for_media(api_version):
        return media_combinations()
    defaults = profile(api_version).get("startDefaults", {})
    return [
        c
        for c in media_combinations()
        if all(c[key] == defaults.get(name) for name, key in MEDIA_FIELDS.items())
    ]


def media_options(combination: Mapping[str, Any], api_version: str) -> dict[str, Any]:
    """The start fields asking for a combination of specs/media.yaml in the version: none in
    a version whose starts name no media (when the combination is the one it records);
    `NotApplicable` when the version cannot record it."""
    if not asks_for_media(api_version):
        if combination not in requestable(api_version):
            wanted = "/".join(str(combination[key]) for key in MEDIA_FIELDS.values())
            raise NotApplicable(f"api-version {api_version} cannot record {wanted}")
        return {}
    return {name: combination[key] for name, key in MEDIA_FIELDS.items()}


def cheapest(api_version: str) -> dict[str, Any]:
    """The quickest combination to record in the version (mixed WAV where it can be asked
    for, else the one the version records)."""
    found = requestable(api_version)
    return next((c for c in found if (c["channel"], c["format"]) == ("mixed", "wav")), found[0])


def cheap_options(api_version: str) -> dict[str, Any]:
    """The start fields asking for `cheapest` in the version."""
    return media_options(cheapest(api_version), api_version)


def started_id(body: Any) -> str | None:
    """The recording id a start answer names (the 2021 conversations API calls it
    recordingInstanceId), None when it names none."""
    if isinstance(body, dict):
        for name in RECORDING_ID_FIELDS:
            if isinstance(body.get(name), str):
                return str(body[name])
    return None


def names_call_in_path(api_version: str) -> bool:
    """Whether the version's start names its call in the path (the 2021 conversations API's
    conversationId) rather than in the body."""
    return "{conversationId}" in str(profile(api_version)["operations"]["StartRecording"]["path"])


def error_object(body: Any, api_version: str | None = None) -> Any:
    """The error object of an error body: ``error`` of a CommunicationErrorResponse, or the
    body itself in a version whose errors are bare."""
    if api_version is not None and error_schema(api_version) != WRAPPED_ERROR_SCHEMA:
        return body
    return body.get("error") if isinstance(body, dict) else None


def success_statuses(api_version: str, operation: str) -> dict[int, str | None]:
    """Success status -> body schema (None: no body) of an operation in the version's profile."""
    answers = profile(api_version)["operations"][operation]["success"]
    return {int(status): schema for status, schema in answers.items()}


def answers_with(api_version: str, operation: str, field: str) -> bool:
    """Whether the operation's success bodies in the version have ``field`` (CallingServer's
    start answers only the recordingId and its get only the recordingState)."""
    return any(
        schema is not None and field in fields(schema, api_version)
        for schema in success_statuses(api_version, operation).values()
    )


def require_event(api_version: str, schema: str) -> None:
    """Not applicable unless the version's profile lists the event ``schema`` describes."""
    wanted = event_type_of(schema)
    if wanted not in profile(api_version)["events"]:
        raise NotApplicable(f"api-version {api_version} documents no {wanted.rsplit('.', 1)[-1]}")


def require_fields(api_version: str, schema: str, *names: str) -> None:
    """Not applicable unless ``schema`` has every one of ``names`` in the version."""
    missing = [name for name in names if name not in fields(schema, api_version)]
    if missing:
        raise NotApplicable(f"api-version {api_version} has no {', '.join(missing)} in {schema}")


def excerpt(answer: httpx.Response, limit: int = 300) -> str:
    """An answer in a few words for assertion messages: status and the start of the body."""
    body = answer.text
    shown = body if len(body) <= limit else body[:limit] + "…"
    return f"{answer.status_code} {shown!r}" if body else f"{answer.status_code} (no body)"


def error_code(answer: httpx.Response, api_version: str | None = None) -> str | None:
    """``error.code`` of an error answer (in the version's error shape), None when there is
    none."""
    try:
        body = answer.json()
    except ValueError:
        return None
    error = error_object(body, api_version)
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def wait_until_gone(
    client: Client, recording_id: str, timeout: float = STATE_TIMEOUT
) -> httpx.Response:
    """Poll a get until it stops answering 200 (the recording is over); `NotObserved` if it
    still answers 200 after ``timeout``. Returns the first non-200 answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(recording_id)
        if answer.status_code != 200:
            return answer
        if time.monotonic() >= deadline:
            raise NotObserved(
                f"not observed within {timeout:g}s: the recording going away "
                f"(a get still answers {excerpt(answer)})"
            )
        time.sleep(POLL_INTERVAL)


# ---------------------------------------------------------------- error answers (errors, auth)
# The SDKs retry these and every 5xx (REC-ERR-013): a deterministic client error never gets one.
RETRIED_STATUSES = frozenset({408, 429})
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def require(condition: object, message: str) -> None:
    """Fail the test with ``message`` (the requirement, what was expected, what came) unless
    ``condition`` holds."""
    if not condition:
        pytest.fail(message)


def unknown_recording_id() -> str:
    """A well-formed recording id no target has: unpadded base64url of the live JSON shape,
    fresh UUIDs each time."""
    pair = {"PlatformEndpointId": str(uuid.uuid4()), "ResourceSpecificId": str(uuid.uuid4())}
    text = json.dumps(pair, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def error_body_problems(answer: httpx.Response, api_version: str) -> list[str]:
    """What keeps an answer from being compact JSON of type ``application/json;
    charset=utf-8`` holding the version's error body (REC-ERR-001, REC-ERR-002)."""
    problems: list[str] = []
    content_type = answer.headers.get("content-type", "")
    media, *parameters = (part.strip() for part in content_type.split(";"))
    charsets = [p.split("=", 1)[1].strip('" ').lower() for p in parameters if "=" in p]
    if media.lower() != "application/json" or "utf-8" not in charsets:
        problems.append(f"Content-Type is {content_type!r}, not 'application/json; charset=utf-8'")
    try:
        body = answer.json()
    except ValueError:
        return [*problems, "the body is not JSON"]
    if re.search(r"\s", _JSON_STRING.sub('""', answer.text)):
        problems.append("the JSON is not compact (whitespace between tokens)")
    problems += [
        str(failure)
        for failure in callrec.validate(body, error_schema(api_version), api_version=api_version)
    ]
    return problems


def check_error_answer(
    answer: httpx.Response,
    api_version: str,
    *,
    rule: str,
    what: str,
    status: int,
    codes: Collection[str] = (),
) -> dict[str, Any]:
    """Require an error answer: never 408, 429 or 5xx (REC-ERR-013), then ``status``, the
    documented body (REC-ERR-001/002) and, when ``codes`` are given, an error.code among them
    (``rule`` names the requirement they come from). Returns the error object."""
    wanted = f"{status}" + (f" with error.code {' or '.join(codes)}" if codes else "")
    got = answer.status_code
    require(
        got < 500 and got not in RETRIED_STATUSES,
        f"REC-ERR-013: {what}: a deterministic client error answered {got}, a status the SDKs "
        f"retry; expected {wanted}; got {excerpt(answer)}",
    )
    require(got == status, f"{rule}: {what}: expected {wanted}; got {excerpt(answer)}")
    problems = error_body_problems(answer, api_version)
    require(
        not problems,
        f"REC-ERR-001: {what}: the {got} answer is not a documented error body: "
        f"{'; '.join(problems)}; got {excerpt(answer)}",
    )
    error: dict[str, Any] = error_object(answer.json(), api_version)
    require(
        not codes or error["code"] in codes,
        f"{rule}: {what}: expected {wanted}; got error.code {error['code']!r} ({excerpt(answer)})",
    )
    return error


def start_recording(
    client: Client, call: ProvidedCall, *, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, str]:
    """Start recording ``call`` (serverCallLocator, no options); fails the test unless the
    version's success status and a recordingId come back. (answer, recordingId)."""
    answer = client.start({"callLocator": locator(call)}, headers=headers)
    allowed = success_statuses(client.api_version, "StartRecording")
    body = answer.json() if answer.status_code in allowed else None
    recording_id = started_id(body)
    require(
        isinstance(recording_id, str) and recording_id,
        f"REC-START-001: a start on a provided call: expected "
        f"{' or '.join(map(str, allowed))} with a recordingId; got {excerpt(answer)}",
    )
    return answer, str(recording_id)


# ---------------------------------------------------------------- callbacks, Event Grid, content
# (test_callbacks, test_eventgrid, test_content, test_sdk; the session fixture in conftest.py)
EVENT_GRID_SCHEMA: Final = "EventGridSchema"  # Event Grid's names for its delivery schemas
CLOUD_EVENT_SCHEMA: Final = "CloudEventSchemaV1_0"
# callrec's schema of RecordingFileStatusUpdated as each delivery schema carries it
FILE_EVENT_SCHEMAS: Final = {
    EVENT_GRID_SCHEMA: "RecordingFileStatusUpdatedEventGridEvent",
    CLOUD_EVENT_SCHEMA: "RecordingFileStatusUpdatedCloudEvent",
}
# how the receiver records each schema's subscription handshake
HANDSHAKE_KINDS: Final = {EVENT_GRID_SCHEMA: "validation", CLOUD_EVENT_SCHEMA: "options"}
EMULATOR_SUBSCRIPTIONS: Final = "/emulator/eventgrid/subscriptions"
# callrec/emulator/_audio.py: sixteen tones 200 Hz apart, 300-3300 Hz
EMULATOR_TONES: Final = tuple(range(300, 3400, 200))


EventTest = Callable[[dict[str, Any]], bool]  # a test of an event's data


def event_type_of(schema: str) -> str:
    """The event type a callrec event schema describes (its ``x-callrec-event``)."""
    return str(schema_document(schema)["x-callrec-event"])


def applies(requirement_id: str, api_version: str) -> bool:
    """Whether a catalog requirement covers ``api_version``."""
    entry = next(e for e in requirements() if e["id"] == requirement_id)
    return entry["versions"] == "all" or api_version in entry["versions"]


def events_in(body: Any) -> list[dict[str, Any]]:
    """The events of a delivery body: an array (Event Grid schema, callbacks, CloudEvents
    batches) or a single CloudEvent."""
    items = body if isinstance(body, list) else [body]
    return [item for item in items if isinstance(item, dict)]


def parse_instant(text: Any) -> float | None:
    """POSIX seconds of an RFC 3339 time, None when ``text`` is not one."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def answer_date(answer: httpx.Response) -> float | None:
    """The target's clock when it answered (its Date header, whole seconds), if it said."""
    try:
        return parsedate_to_datetime(answer.headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None


def start_recording_with(client: Client, body: dict[str, Any]) -> tuple[httpx.Response, str]:
    """Start a recording with ``body`` as a step towards what a test checks: fails the test
    unless a 2xx with a recordingId comes back (the exact status is the lifecycle suites'
    business). (answer, recordingId)."""
    answer = client.start(body)
    try:
        started = answer.json() if answer.is_success else None
    except ValueError:
        started = None
    recording_id = started_id(started)
    require(
        isinstance(recording_id, str) and recording_id,
        f"REC-START-001: a start with {sorted(body)}, a step of this test: expected a "
        f"recordingId; got {excerpt(answer)}",
    )
    return answer, str(recording_id)


def operate(client: Client, name: str, recording_id: str) -> httpx.Response:
    """Pause, resume or stop (``name``: the client method) as a step towards what a test
    checks: fails the test unless the operation succeeded (any 2xx: the exact status is the
    lifecycle suites' business)."""
    answer: httpx.Response = getattr(client, name)(recording_id)
    require(
        answer.is_success,
        f"a {name} of an ongoing recording, a step of this test, failed: {excerpt(answer)}",
    )
    return answer


def _loopback(host: str | None) -> bool:
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


NO_CALLBACK_URL: Final = "no public callback URL"


def hook_problem(target: Target, hooks: Receiver) -> str | None:
    """Why the target cannot reach the suite's webhook (loopback only, target elsewhere);
    tests raise it as `NotApplicable`, so it reads "not applicable: no public callback URL:
    ..." wherever it shows."""
    if _loopback(urlsplit(hooks.public_url).hostname) and not _loopback(
        urlsplit(target.endpoint).hostname
    ):
        return (
            f"{NO_CALLBACK_URL}: the suite's webhook listens on {hooks.public_url}, which "
            f"{target.endpoint} cannot reach; pass --callback-url (or set CALLREC_CALLBACK_URL) "
            "with a public URL forwarding to it"
        )
    return None


def wait_for_posts(
    hooks: Receiver,
    channel: str,
    until: Callable[[list[Delivery]], bool],
    *,
    timeout: float,
    what: str,
    reachable: bool,
) -> list[Delivery]:
    """`Receiver.wait`, except that when the target is known to reach the webhook (another
    channel got its requests) silence is the target's failure, not `NotObserved`."""
    try:
        return hooks.wait(channel, until=until, timeout=timeout, what=what)
    except NotObserved as exc:
        if not reachable:
            raise
        pytest.fail(f"{exc}; the target does reach the suite's webhook (it answered there before)")


@dataclass(frozen=True)
class EventFeed:
    """Where the target's RecordingFileStatusUpdated deliveries arrive: a receiver channel
    per Event Grid delivery schema. The subscriptions serve every test of the process, so a
    test picks its own events by server call id (and recording start time)."""

    hooks: Receiver
    channels: Mapping[str, str]  # delivery schema -> receiver channel
    subscribed: bool  # the suite subscribed itself (a callrec emulator); else the user must
    unusable: str | None = None  # why no event can come (tests: not applicable)
    broken: str | None = None  # why the target refused a subscription (tests: fail)

    def url(self, schema: str) -> str:
        return self.hooks.url(self.channels[schema])

    def instructions(self) -> str:
        """What to subscribe on the resource for the suite to hear its events."""
        public = self.hooks.public_url
        base = "<--callback-url>" if _loopback(urlsplit(public).hostname) else public
        event_grid, cloud = (
            self.url(schema).replace(public, base, 1)
            for schema in (EVENT_GRID_SCHEMA, CLOUD_EVENT_SCHEMA)
        )
        event = event_type_of(FILE_EVENT_SCHEMAS[EVENT_GRID_SCHEMA])
        return (
            f"subscribe the resource's {event} events to {event_grid} (Event Grid schema) and "
            f"to {cloud} (CloudEvents 1.0 schema), keep --callback-url forwarding to this "
            "run's webhook, and allow for the 1-2 minutes the service takes (--event-timeout)"
        )

    def require(self) -> None:
        """Fail (refused subscriptions) or not applicable (no way to get events) unless
        events can come."""
        if self.broken:
            pytest.fail(self.broken)
        if self.unusable:
            raise NotApplicable(self.unusable)

    def handshakes(self, schema: str) -> list[Delivery]:
        return self.hooks.received(self.channels[schema], HANDSHAKE_KINDS[schema])

    def reaches_us(self) -> bool:
        """The target has sent something to one of the feed's channels."""
        return any(
            self.handshakes(schema) or self.hooks.received(channel)
            for schema, channel in self.channels.items()
        )

    def file_events(
        self,
        schema: str,
        server_call_id: str,
        *,
        not_before: float | None = None,
        where: EventTest | None = None,
    ) -> list[tuple[Delivery, dict[str, Any]]]:
        """(delivery, event) of each RecordingFileStatusUpdated so far for the call whose
        recording started no earlier than ``not_before`` (POSIX seconds) and whose data
        passes ``where``."""
        found = self.hooks.received(self.channels[schema])
        return _file_events(found, schema, server_call_id, not_before, where)

    def wait_for_file_event(
        self,
        schema: str,
        server_call_id: str,
        *,
        timeout: float,
        not_before: float | None = None,
        where: EventTest | None = None,
    ) -> tuple[Delivery, dict[str, Any]]:
        """The first RecordingFileStatusUpdated for the call (see `file_events`)."""
        self.require()
        channel = self.channels[schema]
        try:
            self.hooks.wait(
                channel,
                until=lambda seen: bool(
                    _file_events(seen, schema, server_call_id, not_before, where)
                ),
                timeout=timeout,
                what=f"REC-EVENT-001: a RecordingFileStatusUpdated ({schema}) for the "
                f"recording of server call {server_call_id[:40]}",
            )
        except NotObserved:
            if not self.subscribed and not self.reaches_us():
                raise NotApplicable(
                    f"no Event Grid delivery reached the suite: {self.instructions()}"
                ) from None
            raise
        return self.file_events(schema, server_call_id, not_before=not_before, where=where)[0]


def _file_events(
    deliveries: list[Delivery],
    schema: str,
    server_call_id: str,
    not_before: float | None,
    where: EventTest | None,
) -> list[tuple[Delivery, dict[str, Any]]]:
    wanted = event_type_of(FILE_EVENT_SCHEMAS[schema])
    found = []
    for delivery in deliveries:
        for event in events_in(delivery.body):
            subject = event.get("subject")
            if event.get("eventType", event.get("type")) != wanted:
                continue
            if not isinstance(subject, str) or server_call_id not in subject:
                continue
            data = event.get("data")
            if not isinstance(data, dict) or (where is not None and not where(data)):
                continue
            started = parse_instant(data.get("recordingStartTime"))
            if not_before is not None and started is not None and started < not_before:
                continue
            found.append((delivery, event))
    return found


def emulator_event_feed(client: Client, hooks: Receiver) -> tuple[EventFeed, list[str]]:
    """Subscribe a fresh channel per delivery schema on a callrec emulator (its control API:
    ``POST /emulator/eventgrid/subscriptions``); the feed and the subscription ids."""
    channels = {schema: hooks.channel() for schema in FILE_EVENT_SCHEMAS}
    created: list[str] = []
    problems: list[str] = []
    for schema, channel in channels.items():
        answer = client.request(
            "POST",
            EMULATOR_SUBSCRIPTIONS,
            json={
                "endpointUrl": hooks.url(channel),
                "schema": schema,
                "eventTypes": [event_type_of(FILE_EVENT_SCHEMAS[schema])],
            },
        )
        body = answer.json() if answer.status_code == 201 else None
        if not isinstance(body, dict) or "id" not in body:
            problems.append(f"{schema}: the emulator answered {excerpt(answer)}")
            continue
        created.append(str(body["id"]))
        if body.get("status") == "failed":
            problems.append(f"{schema}: the subscription failed: {body.get('reason')}")
    broken = (
        "the emulator would not subscribe the suite's webhook: " + "; ".join(problems)
        if problems
        else None
    )
    return EventFeed(hooks, channels, subscribed=True, broken=broken), created


def service_event_feed(hooks: Receiver, problem: str | None) -> EventFeed:
    """The fixed channels a user subscribes on a live resource (the suite cannot)."""
    channels = {
        EVENT_GRID_SCHEMA: "recording-files-eventgrid",
        CLOUD_EVENT_SCHEMA: "recording-files-cloudevents",
    }
    feed = EventFeed(hooks, channels, subscribed=False)
    if problem is None:
        return feed
    return EventFeed(
        hooks, channels, subscribed=False, unusable=f"{problem}; then {feed.instructions()}"
    )


def content_request(
    target: Target,
    client: Client,
    method: str,
    location: str,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """A signed download or delete of a location from an event, sent as the SDKs send it: no
    api-version, ``x-ms-host`` naming the resource endpoint's host and the signature computed
    for that host (contract digest §4). A callrec emulator serves a location's path itself
    (its locations may name a storage host it stands in for, see `callrec.interop`); any
    other target gets the location as it is."""
    documented = _documented_download(client.api_version, method, location)
    if documented is not None:  # the 2021 conversations API: its own download paths
        return client.request(method, documented, headers=headers)
    host = urlsplit(target.endpoint).netloc
    url = location
    if target.is_emulator:
        parts = urlsplit(location)
        url = target.endpoint + parts.path + (f"?{parts.query}" if parts.query else "")
    return client.request(
        method,
        url,
        headers={"x-ms-host": host, **(headers or {})},
        auth=HmacAuth(target.connection.access_key, host=host),
    )


_LOCATION: Final = re.compile(r"/v1/objects/(?P<document>[^/]+)(?:/content/(?P<kind>[^/?]+))?")
METADATA_KIND: Final = "acsmetadata"  # the content kind of a chunk's metadata document


OCTET_STREAM: Final = "application/octet-stream"


def own_downloads(api_version: str) -> bool:
    """Whether the version downloads content at its own documented paths (the 2021
    conversations API's /recording/download/{documentId}) rather than at the event's
    locations; such a version documents no delete and answers errors there in its own shape."""
    return "DownloadRecording" in profile(api_version)["operations"]


def content_type_of(api_version: str, location: str) -> str:
    """The media type a download of an event location answers with in the version: what its
    download operation documents, else application/octet-stream (media and metadata alike)."""
    if not own_downloads(api_version):
        return OCTET_STREAM
    match = _LOCATION.search(urlsplit(location).path)
    metadata = match is not None and match["kind"] == METADATA_KIND
    operation = "DownloadRecordingMetadata" if metadata else "DownloadRecording"
    return str(profile(api_version)["operations"][operation].get("contentType", OCTET_STREAM))


def _documented_download(api_version: str, method: str, location: str) -> str | None:
    """The path on the resource endpoint where a version with its own download operations
    (the 2021 conversations API: /recording/download/{documentId} and its /metadata) serves
    an event location's document; None for every other version. Such a version documents no
    delete: `NotApplicable`."""
    if not own_downloads(api_version):
        return None
    operations = profile(api_version)["operations"]
    match = _LOCATION.search(urlsplit(location).path)
    if method == "DELETE" or match is None or match["kind"] is None:
        raise NotApplicable(f"api-version {api_version} documents no delete of recorded content")
    operation = (
        "DownloadRecordingMetadata" if match["kind"] == METADATA_KIND else "DownloadRecording"
    )
    return str(operations[operation]["path"]).format(documentId=match["document"])


def _tone_hash(raw_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"tone:{raw_id}".encode()).digest()[:8], "big")


def emulator_tones(raw_ids: Iterable[str]) -> dict[str, int]:
    """Raw id -> the tone (Hz) each participant of a call speaks on a callrec emulator, by the
    rule its audio module documents (callrec/emulator/_audio.py, ``tone_slots``): a
    participant's slot among `EMULATOR_TONES` is the first 8 bytes of sha256("tone:<raw id>")
    (big-endian) modulo 16; participants, in the order of that number, take their slot or
    the next free one."""
    people = sorted(set(raw_ids), key=lambda person: (_tone_hash(person), person))
    count = len(EMULATOR_TONES)
    taken: set[int] = set()
    tones: dict[str, int] = {}
    for person in people:
        first = _tone_hash(person) % count
        slot = next(
            (
                (first + step) % count
                for step in range(count)
                if (first + step) % count not in taken
            ),
            first,
        )
        taken.add(slot)
        tones[person] = EMULATOR_TONES[slot]
    return tones


# ---------------------------------------------------- lifecycle (test_basics, test_lifecycle)
def await_state(
    client: Client, recording_id: str, state: str, timeout: float = STATE_TIMEOUT
) -> dict[str, Any]:
    """`wait_for_state`, except that every get on the way must already be right: the
    version's success status with a valid RecordingStateResponse naming the recording (else
    the test fails at once, with no waiting out a state the answers can never show)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(recording_id)
        body = check_success(
            answer,
            client.api_version,
            "GetRecordingProperties",
            f"a get while waiting for recordingState {state!r}",
            ("REC-GET-003", "REC-GET-002"),
        )
        if answers_with(client.api_version, "GetRecordingProperties", "recordingId"):
            assert body["recordingId"] == recording_id, (
                f"REC-GET-002: a get: expected recordingId {recording_id!r} from the path, "
                f"got {excerpt(answer)}"
            )
        if body["recordingState"] == state:
            return dict(body)
        if time.monotonic() >= deadline:
            raise NotObserved(
                f"not observed within {timeout:g}s: recording state {state!r} "
                f"(the last get answered {excerpt(answer)})"
            )
        time.sleep(POLL_INTERVAL)


def check_success(
    answer: httpx.Response, api_version: str, operation: str, what: str, rules: tuple[str, str]
) -> dict[str, Any]:
    """A success answer: one of the operation's success statuses in the version's profile
    (``rules[0]`` otherwise) with a body valid against that status's schema (``rules[1]``
    otherwise). Returns the body."""
    status_rule, body_rule = rules
    statuses = success_statuses(api_version, operation)
    assert answer.status_code in statuses, (
        f"{status_rule}: {what}: expected {' or '.join(map(str, sorted(statuses)))} "
        f"(api-version {api_version}), got {excerpt(answer)}"
    )
    try:
        body = answer.json()
    except ValueError:
        body = None
    schema = str(statuses[answer.status_code])
    failures = callrec.validate(body, schema, api_version=api_version)
    assert not failures, (
        f"{body_rule}: {what}: the body breaks {schema}: "
        + "; ".join(f"{f.pointer or '(root)'}: {f.message}" for f in failures)
        + f" ({excerpt(answer)})"
    )
    return dict(body)


def check_bodiless(answer: httpx.Response, api_version: str, operation: str, what: str) -> None:
    """A success of a bodiless operation (pause, resume, stop): one of the version's success
    statuses, an empty body, and Content-Length 0 unless the status is 204 (which carries no
    Content-Length at all)."""
    statuses = success_statuses(api_version, operation)
    assert answer.status_code in statuses, (
        f"{what}: expected {' or '.join(map(str, sorted(statuses)))} (the only 2xx of "
        f"api-version {api_version}), got {excerpt(answer)}"
    )
    assert answer.content == b"", f"{what}: expected an empty body, got {excerpt(answer)}"
    if answer.status_code != HTTPStatus.NO_CONTENT:
        length = answer.headers.get("content-length")
        assert length == "0", f"{what}: expected Content-Length 0, got {length!r}"


def check_not_found(answer: httpx.Response, what: str, api_version: str) -> None:
    """The catalog's answer for a recording that does not exist (any more): 404 with 8522."""
    status, code = catalog_error("recording-not-found")
    expected = f"{what}: expected {status} with error code {code}, got {excerpt(answer)}"
    assert answer.status_code == status, expected
    assert error_code(answer, api_version) == code, expected


def check_already_recording(answer: httpx.Response, what: str, api_version: str) -> None:
    """A second start on a call already recorded: refused with the catalog's status and
    8553, or 8559, the other code the docs give (REC-ERR-007; the catalog row holds one)."""
    status, code = catalog_error("already-recording")
    codes = (code, "8559")
    expected = f"{what}: expected {status} with code {' or '.join(codes)}, got {excerpt(answer)}"
    assert answer.status_code == status, expected
    assert error_code(answer, api_version) in codes, expected
