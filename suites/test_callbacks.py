"""Callbacks to ``recordingStateCallbackUri``: one RecordingStateChanged per state transition,
in order, each a valid batch for the api-version of the start; StartRecordingFailed when a
start accepted with 202 fails later.

The suite's webhook (``hooks``) must be reachable from the target: on a remote endpoint that
takes ``--callback-url``. When the target has reached the webhook before (its Event Grid
handshakes arrived), callbacks that never come are the target's failure, not "not observed".
"""
# ruff: noqa: PT018, PLR0917  (one assertion message for related facts; fixtures as positional
# arguments)

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any, Final

import pytest

import callrec
from callrec.client import Client
from callrec.conformance import NotApplicable, ProvidedCall, Receiver, Target
from callrec.specs import fields
from suites.support import (
    EventFeed,
    event_type_of,
    excerpt,
    hook_problem,
    locator,
    operate,
    parse_instant,
    require_event,
    start_recording_with,
    wait_for_posts,
    wait_for_state,
)

STATE_CHANGED: Final = event_type_of("RecordingStateChangedCloudEvent")
START_FAILED: Final = event_type_of("StartRecordingFailedCloudEvent")
# The states a recording goes through here: it turns active, a pause, a resume, a stop.
TRANSITIONS: Final = ("active", "inactive", "active", "inactive")
# REC-CALLBACK-001 names every CloudEvents attribute the batch schema leaves optional.
ENVELOPE: Final = ("id", "source", "type", "specversion", "time", "datacontenttype", "subject")
# REC-CALLBACK-006: what RecordingStateChanged data carries besides recordingId and state.
STATE_DATA: Final = ("startDateTime", "serverCallId", "correlationId")
# REC-CALLBACK-008: what StartRecordingFailed data carries.
FAILED_DATA: Final = ("recordingId", "serverCallId", "correlationId", "resultInformation")
QUIET_SECONDS: Final = 0.3  # after StartRecordingFailed: time for a wrong state change to come


def _shown(body: Any, limit: int = 400) -> str:
    text = json.dumps(body, separators=(",", ":"))
    return text if len(text) <= limit else text[:limit] + "…"


def _check_batch(body: Any, api_version: str, number: int) -> dict[str, Any]:
    """A callback body as REC-CALLBACK-001/002/007 want it; its one event."""
    failures = callrec.validate(body, "RecordingCallbackBatch", api_version=api_version)
    assert not failures, (
        f"REC-CALLBACK-001/007: callback {number} is not a RecordingCallbackBatch of "
        f"{api_version}: {'; '.join(map(str, failures[:3]))}; body {_shown(body)}"
    )
    assert isinstance(body, list) and len(body) == 1, (
        f"REC-CALLBACK-002: callback {number} carries {len(body)} events, expected exactly one; "
        f"body {_shown(body)}"
    )
    event: dict[str, Any] = body[0]
    missing = [name for name in (*ENVELOPE, "data") if event.get(name) in (None, "")]
    assert not missing, (
        f"REC-CALLBACK-001: callback {number} lacks the CloudEvents attributes {missing}; "
        f"event {_shown(event)}"
    )
    return event


@pytest.mark.requirement(
    "REC-CALLBACK-001",
    "REC-CALLBACK-002",
    "REC-CALLBACK-003",
    "REC-CALLBACK-004",
    "REC-CALLBACK-005",
    "REC-CALLBACK-006",
    "REC-CALLBACK-007",
    "REC-CALLBACK-009",
)
def test_each_transition_posts_one_state_changed_callback_in_order(
    target: Target,
    target_client: Client,
    api_version: str,
    provided_call: ProvidedCall,
    hooks: Receiver,
    event_feed: EventFeed,
    event_timeout: float,
) -> None:
    require_event(api_version, "RecordingStateChangedCloudEvent")
    unreachable = hook_problem(target, hooks)
    if unreachable:
        raise NotApplicable(unreachable)
    channel = hooks.channel()
    _, rid = start_recording_with(
        target_client,
        {"callLocator": locator(provided_call), "recordingStateCallbackUri": hooks.url(channel)},
    )
    wait_for_state(target_client, rid, "active")
    target_client.get(rid)  # a read changes nothing: no callback (REC-CALLBACK-004)
    operate(target_client, "pause", rid)
    wait_for_state(target_client, rid, "inactive")
    target_client.pause(rid)  # already paused: no transition, no callback (REC-CALLBACK-004)
    operate(target_client, "resume", rid)
    wait_for_state(target_client, rid, "active")
    operate(target_client, "stop", rid)

    deliveries = wait_for_posts(
        hooks,
        channel,
        lambda seen: len(seen) >= len(TRANSITIONS),
        timeout=event_timeout,
        what=f"REC-CALLBACK-003: {len(TRANSITIONS)} RecordingStateChanged callbacks (turned "
        "active, pause, resume, stop)",
        reachable=event_feed.reaches_us(),
    )
    events = [_check_batch(d.body, api_version, n) for n, d in enumerate(deliveries, 1)]
    kinds = [event.get("type") for event in events]
    assert kinds == [STATE_CHANGED] * len(events), (
        f"REC-CALLBACK-003/009: a recording that started well gets only {STATE_CHANGED}; "
        f"got {kinds}"
    )
    datas = [event["data"] for event in events]
    ids = {data.get("recordingId") for data in datas}
    assert ids == {rid}, f"REC-CALLBACK-003: callbacks name recordingIds {ids}, expected {rid}"
    states = [data.get("state") for data in datas]
    assert states == list(TRANSITIONS), (
        f"REC-CALLBACK-003/004/005: expected states {list(TRANSITIONS)} in this order (turned "
        f"active, pause, resume, stop; a get and a second pause change nothing); got {states}"
    )
    times = [parse_instant(event.get("time")) for event in events]
    assert None not in times and times == sorted(times), (
        "REC-CALLBACK-005: callbacks arrive in the order of their transitions; their times are "
        f"{[event.get('time') for event in events]}"
    )

    wanted = [
        name for name in STATE_DATA if name in fields("RecordingStateChangedData", api_version)
    ]
    for number, data in enumerate(datas, 1):
        missing = [name for name in wanted if not data.get(name)]
        assert not missing, f"REC-CALLBACK-006: callback {number} lacks {missing}: {_shown(data)}"
        assert data["serverCallId"] == provided_call.server_call_id, (
            f"REC-CALLBACK-006: callback {number} names serverCallId {data['serverCallId']!r}, "
            f"expected {provided_call.server_call_id!r}"
        )
        if provided_call.call_connection_id and "callConnectionId" in fields(
            "RecordingStateChangedData", api_version
        ):
            assert data.get("callConnectionId") == provided_call.call_connection_id, (
                f"REC-CALLBACK-006: the call has callConnectionId "
                f"{provided_call.call_connection_id!r}; callback {number} names "
                f"{data.get('callConnectionId')!r}"
            )


def _unknown_server_call_id() -> str:
    """A server call id no target knows (base64 of a conversation URL, as live ids are)."""
    url = f"https://callrec.invalid/conv/{uuid.uuid4()}?i=0"
    return base64.b64encode(url.encode()).decode()


@pytest.mark.requirement("REC-CALLBACK-008", "REC-CALLBACK-009")
def test_a_start_accepted_then_failing_posts_start_recording_failed(
    target: Target,
    target_client: Client,
    api_version: str,
    hooks: Receiver,
    event_feed: EventFeed,
    event_timeout: float,
) -> None:
    features = target.info.get("features")
    if target.is_emulator and isinstance(features, dict) and not features.get("asyncStart"):
        raise NotApplicable(
            "the emulator answers every start at once (200 or an error); only with "
            "--async-start does it accept starts with 202 and report failures by callback"
        )
    unreachable = hook_problem(target, hooks)
    if unreachable:
        raise NotApplicable(unreachable)
    channel = hooks.channel()
    server_call_id = _unknown_server_call_id()
    answer = target_client.start(
        {
            "callLocator": {"kind": "serverCallLocator", "serverCallId": server_call_id},
            "recordingStateCallbackUri": hooks.url(channel),
        }
    )
    if answer.status_code != 202:
        raise NotApplicable(
            f"the target answered a start on an unknown call {answer.status_code}, not 202: "
            "it fails such starts at once, so no StartRecordingFailed follows"
        )
    rid = answer.json().get("recordingId")
    assert isinstance(rid, str) and rid, (
        f"REC-START-001: a 202 start without a recordingId: {excerpt(answer)}"
    )

    deliveries = wait_for_posts(
        hooks,
        channel,
        bool,
        timeout=event_timeout,
        what="REC-CALLBACK-008: a StartRecordingFailed callback after a 202 start on an unknown "
        "call",
        reachable=event_feed.reaches_us(),
    )
    time.sleep(QUIET_SECONDS)
    deliveries = hooks.received(channel)
    events = [_check_batch(d.body, api_version, n) for n, d in enumerate(deliveries, 1)]
    kinds = [event.get("type") for event in events]
    assert kinds == [START_FAILED], (
        f"REC-CALLBACK-008/009: a failed start posts exactly one {START_FAILED} and no "
        f"{STATE_CHANGED}; got {kinds}"
    )
    data = events[0]["data"]
    missing = [name for name in FAILED_DATA if not data.get(name)]
    assert not missing, (
        f"REC-CALLBACK-008: StartRecordingFailed data lacks {missing}: {_shown(data)}"
    )
    assert (data["recordingId"], data["serverCallId"]) == (rid, server_call_id), (
        f"REC-CALLBACK-008: expected recordingId {rid!r} and serverCallId {server_call_id!r}; "
        f"got {_shown(data)}"
    )
