"""Callbacks: one CloudEvent per POST, one per transition, in order, shaped by the start's
api-version; retries on failure; StartRecordingFailed for a failed accepted start."""

from __future__ import annotations

import time
from typing import Any

import pytest

import callrec
from callrec.client import Client
from callrec.emulator import Settings, serve
from callrec.specs import fields
from tests.plugins.emulator import PARTICIPANTS, Receiver


def states(bodies: list[Any]) -> list[str]:
    return [body[0]["data"]["state"] for body in bodies]


@pytest.mark.parametrize("version", ["2023-03-06", "2024-04-15", "2024-09-15", "2025-06-15"])
def test_each_transition_posts_one_event_shaped_by_the_version(
    client: Client, call: dict[str, Any], receiver: Receiver, version: str
) -> None:
    body = {
        "callLocator": {"serverCallId": call["serverCallId"]},
        "recordingStateCallbackUri": receiver.url,
    }
    rid = client.start(body, api_version=version).json()["recordingId"]
    receiver.wait_for(lambda seen: len(seen) >= 1)
    client.pause(rid, api_version=version)
    client.pause(rid, api_version=version)  # no change: no callback (REC-CALLBACK-004)
    client.resume(rid, api_version=version)
    client.stop(rid, api_version=version)
    seen = receiver.wait_for(lambda seen: len(seen) >= 4)
    time.sleep(0.1)
    assert states(receiver.bodies) == [
        "active",
        "inactive",
        "active",
        "inactive",
    ]  # REC-CALLBACK-003/005
    present = set(fields("RecordingStateChangedData", version))
    for delivered in seen:
        assert len(delivered) == 1  # REC-CALLBACK-002
        assert (
            callrec.validate(delivered, "RecordingCallbackBatch", api_version=version) == []
        )  # REC-CALLBACK-001
        data = delivered[0]["data"]
        assert data["recordingId"] == rid
        assert data["serverCallId"] == call["serverCallId"]  # REC-CALLBACK-006
        assert set(data) <= present  # REC-CALLBACK-007
    assert ("resultInformation" in seen[0][0]["data"]) == (version in ("2024-09-15", "2025-06-15"))


def test_no_callback_uri_means_no_delivery(client: Client, call: dict[str, Any]) -> None:
    rid = client.start({"callLocator": {"serverCallId": call["serverCallId"]}}).json()[
        "recordingId"
    ]
    time.sleep(0.15)
    client.stop(rid)
    assert client.deliveries() == []


def test_failed_deliveries_are_retried_and_logged(
    client: Client, call: dict[str, Any], receiver: Receiver
) -> None:
    receiver.status = 503
    client.start(
        {
            "callLocator": {"serverCallId": call["serverCallId"]},
            "recordingStateCallbackUri": receiver.url,
        }
    )
    receiver.wait_for(lambda seen: len(seen) >= 4)
    deadline = time.monotonic() + 3
    while len(client.deliveries()) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    attempts = client.deliveries()
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4]
    assert {a["status"] for a in attempts} == {503}
    time.sleep(0.2)
    assert len(receiver.bodies) == 4  # bounded: no fifth attempt


def test_unreachable_callback_is_logged_not_fatal(client: Client, call: dict[str, Any]) -> None:
    body = {
        "callLocator": {"serverCallId": call["serverCallId"]},
        "recordingStateCallbackUri": "http://127.0.0.1:9/x",
    }
    rid = client.start(body).json()["recordingId"]
    deadline = time.monotonic() + 3
    while not client.deliveries() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.deliveries()[0]["error"]
    assert client.get(rid).status_code == 200


def test_failed_async_start_posts_start_recording_failed(receiver: Receiver) -> None:
    with (
        serve(Settings(async_start=True, activation_delay=0)) as running,
        Client(running) as client,
    ):
        body = {
            "callLocator": {"serverCallId": "bm8gc3VjaCBjYWxs"},
            "recordingStateCallbackUri": receiver.url,
        }
        accepted = client.start(body, api_version="2025-06-15")
        assert accepted.status_code == 202
        [delivery] = receiver.wait_for(lambda seen: len(seen) >= 1)
        time.sleep(0.1)
        assert len(receiver.bodies) == 1  # and no RecordingStateChanged (REC-CALLBACK-009)
        assert callrec.validate(delivery, "RecordingCallbackBatch", api_version="2025-06-15") == []
        event = delivery[0]
        assert event["type"] == "Microsoft.Communication.StartRecordingFailed"  # REC-CALLBACK-008
        assert event["data"]["recordingId"] == accepted.json()["recordingId"]
        assert event["data"]["resultInformation"]["subCode"] == 8501


def test_call_end_stops_its_recordings(client: Client, receiver: Receiver) -> None:
    call = client.create_call(PARTICIPANTS)
    body = {
        "callLocator": {"serverCallId": call["serverCallId"]},
        "recordingStateCallbackUri": receiver.url,
    }
    rid = client.start(body).json()["recordingId"]
    receiver.wait_for(lambda seen: states(seen) == ["active"])
    client.end_call(call["serverCallId"])
    receiver.wait_for(lambda seen: states(seen) == ["active", "inactive"])
    assert client.get(rid).status_code == 404
    assert client.result(rid).json()["sessionEndReason"] == "callEnded"
