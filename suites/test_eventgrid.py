"""Microsoft.Communication.RecordingFileStatusUpdated through Event Grid: published once a
recording ends, in the Event Grid schema and the CloudEvents 1.0 schema, with PascalCase
enums and chunk locations that serve at once; the webhook handshakes before events; the
preview ``/result`` naming the same chunks.

Subscriptions come from the ``event_feed`` fixture (suites/conftest.py): on a callrec emulator
the suite subscribes itself; on the service the user subscribes the URLs the not-applicable
reason names. Each test picks its own events by the server call id in the subject.
"""
# ruff: noqa: PT018, PLR0917  (one assertion message for related facts; fixtures as positional
# arguments)

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import pytest

import callrec
from callrec.client import Client
from callrec.conformance import NotApplicable, NotObserved, ProvidedCall, Target
from callrec.specs import enum_values, fields
from suites.support import (
    CLOUD_EVENT_SCHEMA,
    EMULATOR_SUBSCRIPTIONS,
    EVENT_GRID_SCHEMA,
    FILE_EVENT_SCHEMAS,
    MEDIA_FIELDS,
    EventFeed,
    answer_date,
    applies,
    cheap_options,
    cheapest,
    content_request,
    event_type_of,
    excerpt,
    locator,
    media_combinations,
    media_options,
    operate,
    start_recording_with,
    wait_for_state,
)

GRACE: Final = 2.0  # seconds a refused webhook is watched after the proper ones got the event
# The quickest recordings to produce: mixed wav, and mp3 where a second format is needed.
WAV: Final = next(
    c for c in media_combinations() if (c["channel"], c["format"]) == ("mixed", "wav")
)
MP3: Final = next(c for c in media_combinations() if c["format"] == "mp3")
RECORD_SECONDS: Final = 0.2
PAUSED_SECONDS: Final = 0.3  # a pauseOnStart recording stays paused this long before its stop
# REC-EVENT-002 / REC-EVENT-003: the envelope each delivery schema gives the event.
EVENT_GRID_ENVELOPE: Final = ("id", "topic", "subject", "data", "eventType", "eventTime")
EVENT_GRID_VERSIONS: Final = {"dataVersion": "1.0", "metadataVersion": "1"}
CLOUD_EVENT_ENVELOPE: Final = ("id", "source", "subject", "type", "time", "specversion", "data")
# REC-EVENT-007: what the data carries besides the chunks and the three types.
RECORDING_FACTS: Final = ("recordingStartTime", "recordingDurationMs", "sessionEndReason")
# REC-EVENT-008: where the service keeps recordings (live observation).
STORAGE_HOST_SUFFIX: Final = ".asm.skype.com"
# the event enum (PascalCase) of each start field
EVENT_ENUMS: Final = {
    "recordingContentType": "AcsRecordingContentType",
    "recordingChannelType": "AcsRecordingChannelType",
    "recordingFormatType": "AcsRecordingFormatType",
}


def _shown(body: Any, limit: int = 400) -> str:
    text = json.dumps(body, separators=(",", ":"))
    return text if len(text) <= limit else text[:limit] + "…"


def event_spelling(field: str, value: str) -> str | None:
    """A start field's value as the event spells it (``audioVideo`` -> ``AudioVideo``)."""
    return next(
        (v for v in enum_values(EVENT_ENUMS[field]) if str(v).casefold() == value.casefold()), None
    )


@dataclass(frozen=True)
class Recorded:
    recording_id: str
    not_before: float | None  # no earlier recording of the call started after this
    stopped_at: float  # local time the stop was sent


def record(
    client: Client, call: ProvidedCall, options: dict[str, Any], seconds: float = RECORD_SECONDS
) -> Recorded:
    """Start, let it run ``seconds`` once active, stop."""
    answer, rid = start_recording_with(client, {"callLocator": locator(call), **options})
    date = answer_date(answer)
    wait_for_state(client, rid, "active")
    time.sleep(seconds)
    stopped_at = time.time()
    operate(client, "stop", rid)
    return Recorded(rid, None if date is None else date - 1.0, stopped_at)


def check_envelope(schema: str, body: Any, event: dict[str, Any], api_version: str) -> None:
    """REC-EVENT-002 (Event Grid schema) or REC-EVENT-003 (CloudEvents 1.0 schema)."""
    own = FILE_EVENT_SCHEMAS[schema]
    failures = callrec.validate(event, own, api_version=api_version)
    if schema == EVENT_GRID_SCHEMA:
        failures += callrec.validate(body, "EventGridEventBatch", api_version=api_version)
        assert isinstance(body, list), (
            f"REC-EVENT-002: the delivery is not a JSON array: {_shown(body)}"
        )
        missing = [name for name in EVENT_GRID_ENVELOPE if event.get(name) in (None, "")]
        versions = {name: event.get(name) for name in EVENT_GRID_VERSIONS}
        assert not missing and versions == EVENT_GRID_VERSIONS, (
            f"REC-EVENT-002: expected {list(EVENT_GRID_ENVELOPE)} and {EVENT_GRID_VERSIONS}; "
            f"missing {missing}, versions {versions}: {_shown(event)}"
        )
    else:
        missing = [name for name in CLOUD_EVENT_ENVELOPE if event.get(name) in (None, "")]
        assert not missing, f"REC-EVENT-003: the CloudEvent lacks {missing}: {_shown(event)}"
    rule = "REC-EVENT-002" if schema == EVENT_GRID_SCHEMA else "REC-EVENT-003"
    assert not failures, (
        f"{rule}: the {schema} delivery is not a valid {own} of {api_version}: "
        f"{'; '.join(map(str, failures[:3]))}; event {_shown(event)}"
    )


def check_data(
    target: Target, event: dict[str, Any], combination: dict[str, Any], server_call_id: str
) -> list[dict[str, Any]]:
    """REC-EVENT-004 to REC-EVENT-008 on one event; its chunks."""
    subject = str(event.get("subject"))
    form = "^/recording/call/[^/]+/serverCallId/" + re.escape(server_call_id) + "$"
    assert re.match(form, subject), (
        f"REC-EVENT-005: expected the subject /recording/call/{{callId}}/serverCallId/"
        f"{server_call_id}; got {subject!r}"
    )
    data = event["data"]
    missing = [name for name in RECORDING_FACTS if data.get(name) in (None, "")]
    assert not missing, f"REC-EVENT-007: the event data lacks {missing}: {_shown(data)}"
    for field, key in MEDIA_FIELDS.items():
        value = combination[key]
        expected = event_spelling(field, value)
        assert data.get(field) == expected, (
            f"REC-EVENT-004/007: the start asked for {field} {value!r}; the event should say "
            f"{expected!r} (PascalCase) and says {data.get(field)!r}"
        )
    chunks = data["recordingStorageInfo"]["recordingChunks"]
    assert chunks, f"REC-EVENT-006: the event lists no chunk: {_shown(data)}"
    wanted = fields("AcsRecordingChunkInfo")
    for chunk in chunks:
        missing = [name for name in wanted if chunk.get(name) in (None, "")]
        assert not missing, f"REC-EVENT-006: a chunk lacks {missing}: {_shown(chunk)}"
    indexes = [chunk["index"] for chunk in chunks]
    assert sorted(indexes) == list(range(len(chunks))), (
        f"REC-EVENT-006: chunk indexes count from 0 without gaps; got {indexes}"
    )
    reasons = [data["sessionEndReason"], *(chunk["endReason"] for chunk in chunks)]
    assert all(str(reason)[:1].isupper() for reason in reasons), (
        f"REC-EVENT-004: end reasons are PascalCase in events; got {reasons}"
    )
    for chunk in chunks:
        check_locations(target, chunk, combination)
    return list(chunks)


def check_locations(target: Target, chunk: dict[str, Any], combination: dict[str, Any]) -> None:
    """REC-EVENT-008: where the chunk's content, metadata and delete live."""
    document = chunk["documentId"]
    content, metadata, delete = (
        urlsplit(chunk[name]) for name in ("contentLocation", "metadataLocation", "deleteLocation")
    )
    expected = f"/v1/objects/{document}/content/{combination['contentKind']}"
    assert unquote(content.path).endswith(expected), (
        f"REC-EVENT-008: expected contentLocation to end in {expected}; "
        f"got {chunk['contentLocation']}"
    )
    prefix = f"/v1/objects/{document}/content/"
    assert prefix in unquote(metadata.path) and not unquote(metadata.path).endswith(prefix), (
        f"REC-EVENT-008: expected metadataLocation under {prefix}; got {chunk['metadataLocation']}"
    )
    assert unquote(delete.path).endswith(f"/v1/objects/{document}"), (
        f"REC-EVENT-008: expected deleteLocation to end in /v1/objects/{document}; "
        f"got {chunk['deleteLocation']}"
    )
    if target.is_emulator:
        return  # an emulator's content host is its own setting (callrec emulator --content-url)
    for part, name in (
        (content, "contentLocation"),
        (metadata, "metadataLocation"),
        (delete, "deleteLocation"),
    ):
        assert part.scheme == "https" and (part.hostname or "").endswith(STORAGE_HOST_SUFFIX), (
            f"REC-EVENT-008: {name} is not https on a host ending in {STORAGE_HOST_SUFFIX}: "
            f"{chunk[name]}"
        )


def locations(chunks: list[dict[str, Any]]) -> dict[str, tuple[str, str, str]]:
    return {
        str(c.get("documentId")): (
            str(c.get("contentLocation")),
            str(c.get("metadataLocation")),
            str(c.get("deleteLocation")),
        )
        for c in chunks
    }


@pytest.mark.requirement(
    "REC-EVENT-001",
    "REC-EVENT-002",
    "REC-EVENT-003",
    "REC-EVENT-004",
    "REC-EVENT-005",
    "REC-EVENT-006",
    "REC-EVENT-007",
    "REC-EVENT-008",
    "REC-EVENT-009",
    "REC-RESULT-001",
    "REC-RESULT-002",
    "REC-RESULT-003",
    "REC-RESULT-004",
)
def test_a_stopped_recording_publishes_file_status_updated_in_both_schemas(
    target: Target,
    target_client: Client,
    api_version: str,
    provided_call: ProvidedCall,
    event_feed: EventFeed,
    event_timeout: float,
) -> None:
    event_feed.require()
    scid = provided_call.server_call_id
    recorded = record(target_client, provided_call, cheap_options(api_version))
    got = {
        schema: event_feed.wait_for_file_event(
            schema, scid, timeout=event_timeout, not_before=recorded.not_before
        )
        for schema in FILE_EVENT_SCHEMAS
    }
    chunk_sets = []
    for schema, (delivery, event) in got.items():
        early = [
            d.at
            for d, _ in event_feed.file_events(schema, scid, not_before=recorded.not_before)
            if d.at < recorded.stopped_at
        ]
        assert not early, f"REC-EVENT-001: a {schema} event came before the stop was sent"
        check_envelope(schema, delivery.body, event, api_version)
        chunk_sets.append(check_data(target, event, cheapest(api_version), scid))
    assert locations(chunk_sets[0]) == locations(chunk_sets[1]), (
        "REC-EVENT-006: both schemas carry the same event, yet their chunks differ: "
        f"{_shown(chunk_sets)}"
    )
    for chunk in chunk_sets[0]:
        for name in ("contentLocation", "metadataLocation"):
            answer = content_request(target, target_client, "GET", chunk[name])
            assert answer.status_code == 200 and answer.content, (
                f"REC-EVENT-009: the {name} of a published event should download at once; "
                f"GET {chunk[name]} answered {excerpt(answer, 80)}"
            )

    result = target_client.result(recorded.recording_id, api_version=api_version)
    if applies("REC-RESULT-001", api_version):
        assert result.status_code == 200, (
            f"REC-RESULT-001/003: /result of a stopped recording on {api_version} should answer "
            f"200; got {excerpt(result)}"
        )
        body = result.json()
        failures = callrec.validate(body, "RecordingResultResponse", api_version=api_version)
        assert not failures, (
            f"REC-RESULT-001: not a RecordingResultResponse of {api_version}: "
            f"{'; '.join(map(str, failures[:3]))}; body {_shown(body)}"
        )
        listed = (body.get("recordingStorageInfo") or {}).get("recordingChunks") or []
        assert locations(listed) == locations(chunk_sets[0]), (
            "REC-RESULT-002: /result should name the chunk locations of the event; "
            f"/result: {_shown(locations(listed))}, event: {_shown(locations(chunk_sets[0]))}"
        )
    if applies("REC-RESULT-004", api_version):
        assert result.status_code != 200, (
            f"REC-RESULT-004: /result is a preview operation; on {api_version} it answered "
            f"{excerpt(result)}"
        )


@pytest.mark.requirement("REC-HOOK-001", "REC-HOOK-003")
def test_webhooks_get_their_handshake_before_any_event(
    target_client: Client,
    api_version: str,
    provided_call: ProvidedCall,
    event_feed: EventFeed,
    event_timeout: float,
) -> None:
    event_feed.require()
    recorded = record(
        target_client,
        provided_call,
        cheap_options(api_version),
        seconds=0.05,
    )
    for schema in FILE_EVENT_SCHEMAS:
        event_feed.wait_for_file_event(
            schema,
            provided_call.server_call_id,
            timeout=event_timeout,
            not_before=recorded.not_before,
        )
    hooks = event_feed.hooks
    for schema, channel in event_feed.channels.items():
        rule = "REC-HOOK-001" if schema == EVENT_GRID_SCHEMA else "REC-HOOK-003"
        handshakes = event_feed.handshakes(schema)
        if not handshakes and not event_feed.subscribed:
            raise NotApplicable(
                "the subscriptions were validated before this run, so the suite saw no "
                f"handshake: create them while the suite runs ({event_feed.instructions()})"
            )
        assert handshakes, f"{rule}: events reached the {schema} webhook without a handshake"
        first = handshakes[0]
        later = [d.at for d in hooks.received(channel) if d.at < first.at]
        assert not later, (
            f"{rule}: {len(later)} event(s) reached the {schema} webhook before its handshake"
        )
        if schema == EVENT_GRID_SCHEMA:
            failures = callrec.validate(first.body, "EventGridEventBatch", api_version=api_version)
            events = first.body if isinstance(first.body, list) else []
            data = (events[0].get("data") if events and isinstance(events[0], dict) else {}) or {}
            assert not failures and data.get("validationCode") and data.get("validationUrl"), (
                f"{rule}: expected a valid {event_type_of('SubscriptionValidationEventGridEvent')} "
                f"with validationCode and validationUrl; got {_shown(first.body)} "
                f"({'; '.join(map(str, failures[:3]))})"
            )
        else:
            headers = {name.lower(): value for name, value in first.headers.items()}
            assert first.method == "OPTIONS" and headers.get("webhook-request-origin"), (
                f"{rule}: expected OPTIONS with WebHook-Request-Origin; got {first.method} "
                f"with headers {sorted(headers)}"
            )


@pytest.mark.requirement("REC-EVENT-010")
def test_a_recording_never_resumed_publishes_no_event(
    target_client: Client,
    api_version: str,
    provided_call: ProvidedCall,
    event_feed: EventFeed,
    event_timeout: float,
) -> None:
    event_feed.require()
    scid = provided_call.server_call_id
    _, paused = start_recording_with(
        target_client,
        {
            "callLocator": locator(provided_call),
            "pauseOnStart": True,
            **media_options(WAV, api_version),
        },
    )
    time.sleep(PAUSED_SECONDS)
    operate(target_client, "stop", paused)
    # A second recording of the call, in another format: once its event is here, an event for
    # the first (sent earlier) would be here too.
    sentinel = record(target_client, provided_call, media_options(MP3, api_version), seconds=0.05)
    mp3 = event_spelling("recordingFormatType", MP3["format"])
    wav = event_spelling("recordingFormatType", WAV["format"])
    for schema in FILE_EVENT_SCHEMAS:
        event_feed.wait_for_file_event(
            schema,
            scid,
            timeout=event_timeout,
            not_before=sentinel.not_before,
            where=lambda data: data.get("recordingFormatType") == mp3,
        )
    for schema in (EVENT_GRID_SCHEMA, CLOUD_EVENT_SCHEMA):
        never = [
            event
            for _, event in event_feed.file_events(schema, scid)
            if event["data"].get("recordingFormatType") == wav
        ]
        assert not never, (
            "REC-EVENT-010: a recording started with pauseOnStart and stopped without a resume "
            f"published {_shown(never)} ({schema})"
        )


@pytest.mark.requirement("REC-HOOK-002", "REC-HOOK-004")
def test_a_webhook_that_fails_its_handshake_gets_no_events(
    target: Target,
    target_client: Client,
    session_client: Client,
    api_version: str,
    provided_call: ProvidedCall,
    event_feed: EventFeed,
    event_timeout: float,
) -> None:
    """Webhooks answering the handshake wrongly (a wrong validationResponse; no
    WebHook-Allowed-Origin) are not validated and receive nothing, while the suite's proper
    subscriptions get the recording's event."""
    event_feed.require()
    if not target.is_emulator:
        raise NotApplicable(
            "the suite can only create subscriptions (with a webhook that fails its handshake) "
            "on a callrec emulator"
        )
    hooks = event_feed.hooks
    refused = {schema: hooks.channel() for schema in FILE_EVENT_SCHEMAS}
    hooks.refuse_handshake.update(refused.values())
    created: list[str] = []
    try:
        for schema, channel in refused.items():
            answer = session_client.request(
                "POST",
                EMULATOR_SUBSCRIPTIONS,
                json={"endpointUrl": hooks.url(channel), "schema": schema},
            )
            assert answer.status_code == 201, answer.text
            created.append(str(answer.json()["id"]))
        recorded = record(
            target_client,
            provided_call,
            cheap_options(api_version),
            seconds=0.05,
        )
        for schema in FILE_EVENT_SCHEMAS:  # the proper subscriptions got it: so would these
            event_feed.wait_for_file_event(
                schema,
                provided_call.server_call_id,
                timeout=event_timeout,
                not_before=recorded.not_before,
            )
        for schema, channel in refused.items():
            rule = "REC-HOOK-002" if schema == EVENT_GRID_SCHEMA else "REC-HOOK-004"
            assert hooks.received(channel, "validation") or hooks.received(channel, "options"), (
                f"{rule}: the {schema} webhook got no handshake at all"
            )
            # the proper subscriptions have the event: give these a moment to get theirs
            with contextlib.suppress(NotObserved):
                hooks.wait(channel, until=bool, timeout=GRACE, what="no delivery (expected)")
            got = hooks.received(channel)
            assert not got, (
                f"{rule}: a {schema} webhook that failed its handshake received "
                f"{len(got)} delivery(ies): {_shown([d.body for d in got])}"
            )
    finally:
        for subscription in created:
            session_client.request("DELETE", f"{EMULATOR_SUBSCRIPTIONS}/{subscription}")
