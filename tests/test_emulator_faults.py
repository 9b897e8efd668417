"""Every registered fault really breaks what it says (so the suites' mutation runs mean
something), is off by default, and goes away when cleared.

Each fault has a check below that observes, over HTTP only, whether the emulator shows the
fault's effect: false with the fault off (the emulator keeps the documented fact), true with it
on."""

from __future__ import annotations

import io
import json
import re
import struct
import time
import uuid
import wave
from collections.abc import Callable
from email.utils import formatdate
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import pytest

from callrec._specs import read_spec_yaml
from callrec.auth import sign
from callrec.client import Client
from callrec.emulator import FAULTS, WELL_KNOWN_KEY
from callrec.specs import requirements
from tests.plugins.emulator import PARTICIPANTS, Receiver

NOT_FOUND_CODE: Final = read_spec_yaml("errors.yaml")["errors"]["recording-not-found"]["code"]
BASE64URL: Final = re.compile(r"^[A-Za-z0-9_-]+$")
STATES: Final = ["active", "inactive", "active", "inactive"]  # turned active, pause, resume, stop
WAV: Final = {
    "recordingContentType": "audio",
    "recordingChannelType": "mixed",
    "recordingFormatType": "wav",
}
UNMIXED_WAV: Final = {**WAV, "recordingChannelType": "unmixed"}
PINNED_CHANNEL: Final = 4  # three participants never reach channel 4 unless pinned there

Check = Callable[[Client, dict[str, Any], Receiver], bool]


# ---------------------------------------------------------------- helpers
def _start(client: Client, call: dict[str, Any], **extra: Any) -> str:
    response = client.start({"callLocator": {"serverCallId": call["serverCallId"]}, **extra})
    assert response.status_code == 200, response.text
    return str(response.json()["recordingId"])


def _active(client: Client, call: dict[str, Any], **extra: Any) -> str:
    rid = _start(client, call, **extra)
    deadline = time.monotonic() + 3
    while client.get(rid).json().get("recordingState", "").lower() != "active":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return rid


def _path(location: str) -> str:
    """The path (and query) of a content location, sent to the emulator under test."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _fetch(client: Client, location: str, **headers: str) -> httpx.Response:
    """GET a content location once its files are ready."""
    deadline = time.monotonic() + 5
    while (response := client.request("GET", _path(location), headers=headers)).status_code == 404:
        assert time.monotonic() < deadline, f"{location} never became downloadable"
        time.sleep(0.02)
    return response


def _chunk(client: Client, options: dict[str, Any], *, pause: bool = False) -> dict[str, Any]:
    """Record 2 s of emulator time (with a 1 s pause in the middle when ``pause``), stop; the
    first chunk once its files can be downloaded."""
    rid = _active(client, client.create_call(PARTICIPANTS), **options)
    client.advance_clock(1)
    if pause:
        client.pause(rid)
        client.advance_clock(1)
        client.resume(rid)
    client.advance_clock(1)
    assert client.stop(rid).status_code == 204
    deadline = time.monotonic() + 5
    while not (chunks := client.result(rid).json()["recordingStorageInfo"]["recordingChunks"]):
        assert time.monotonic() < deadline, "the recording produced no files"
        time.sleep(0.02)
    _fetch(client, chunks[0]["metadataLocation"])
    return dict(chunks[0])


def _files(
    client: Client, options: dict[str, Any], *, pause: bool = False
) -> tuple[bytes, dict[str, Any]]:
    """A recording's first media file and its metadata document."""
    chunk = _chunk(client, options, pause=pause)
    media = _fetch(client, chunk["contentLocation"]).content
    return media, json.loads(_fetch(client, chunk["metadataLocation"]).content)


def _event(
    client: Client, receiver: Receiver, options: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(call, RecordingFileStatusUpdated) of a short recording, delivered to ``receiver``."""
    created = client.request(
        "POST",
        "/emulator/eventgrid/subscriptions",
        json={"endpointUrl": receiver.url, "schema": "EventGridSchema"},
    )
    assert created.status_code == 201, created.text
    call = client.create_call(PARTICIPANTS)
    rid = _active(client, call, **options)
    client.advance_clock(1)
    assert client.stop(rid).status_code == 204
    [batch] = receiver.wait_for(lambda seen: len(seen) >= 1, timeout=10)
    return call, batch[0]


def _cloud_events_subscription(client: Client, receiver: Receiver) -> dict[str, Any]:
    """A CloudEvents subscription to ``receiver``, which does not answer OPTIONS (501)."""
    created = client.request(
        "POST",
        "/emulator/eventgrid/subscriptions",
        json={"endpointUrl": receiver.url, "schema": "CloudEventSchemaV1_0"},
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _forged(client: Client, method: str, path: str, body: bytes = b"", **bend: Any) -> int:
    """The status of a request to ``path`` whose signature `callrec.auth.sign` makes with
    ``bend`` (``host``, ``date``, or ``signed_body``: sign that body's hash instead)."""
    signed_body = bend.pop("signed_body", body)
    headers = sign(method, client.endpoint + path, signed_body, WELL_KNOWN_KEY, **bend)
    if body:
        headers["content-type"] = "application/json"
    return client.request(method, path, content=body, headers=headers, signed=False).status_code


def _states(receiver: Receiver, count: int) -> list[str]:
    seen = receiver.wait_for(lambda bodies: len(bodies) >= count)
    return [body[0]["data"]["state"] for body in seen]


# ---------------------------------------------------------------- operations
def start_status(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    return client.start({"callLocator": {"serverCallId": call["serverCallId"]}}).status_code == 201


def missing_state(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    return "recordingState" not in client.get(_start(client, call)).json()


def get_content_type(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    answer = client.get(_start(client, call))
    return not answer.headers["content-type"].startswith("application/json")


def enum_case(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    return bool(client.get(_active(client, call)).json()["recordingState"] == "Active")


def pause_status(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    return client.pause(_active(client, call)).status_code == 200


def resume_status(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    rid = _active(client, call)
    client.pause(rid)
    return client.resume(rid).status_code == 200


def stop_status(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    return client.stop(_start(client, call)).status_code == 200


# ---------------------------------------------------------------- state machine
def start_active(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    response = client.start({"callLocator": {"serverCallId": call["serverCallId"]}})
    return bool(response.json()["recordingState"] == "active")


def pause_ignored(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    rid = _active(client, call)
    return (
        client.pause(rid).status_code == 202
        and client.get(rid).json()["recordingState"] == "active"
    )


def resume_ignored(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    rid = _active(client, call)
    assert client.pause(rid).status_code == 202
    return (
        client.resume(rid).status_code == 202
        and client.get(rid).json()["recordingState"] == "inactive"
    )


def stop_not_terminal(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    rid = _start(client, call)
    client.stop(rid)
    return client.get(rid).status_code == 200


def resume_after_stop(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    rid = _start(client, call)
    assert client.stop(rid).status_code == 204
    assert client.get(rid).status_code == 404  # only resume is affected
    return client.resume(rid).status_code == 202


# ---------------------------------------------------------------- ids, versions, options
def id_padded(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    return not BASE64URL.match(_start(client, call))


def version_unchecked(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    return client.request("GET", "/calling/recordings/x", params={}).status_code == 404


def null_refused(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    body = {
        "callLocator": {"serverCallId": call["serverCallId"]},
        **dict.fromkeys(WAV),
    }
    return client.start(body).status_code == 400


# ---------------------------------------------------------------- errors
def flat_errors(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    body = client.get("unknown").json()
    return "error" not in body and body.get("code") == NOT_FOUND_CODE


def not_found_code(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    answer = client.get("unknown")
    assert answer.status_code == 404
    return bool(answer.json()["error"]["code"] != NOT_FOUND_CODE)


def bad_body_server_error(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    answer = client.request(
        "POST",
        "/calling/recordings",
        content=b'{"callLocator": ',
        headers={"content-type": "application/json"},
        params={"api-version": client.api_version},
    )
    return answer.status_code >= 500


def duplicate_start(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    _start(client, call)
    return client.start({"callLocator": {"serverCallId": call["serverCallId"]}}).status_code == 200


# ---------------------------------------------------------------- authentication
def auth_unchecked(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    return client.request("GET", "/emulator/info", signed=False).status_code == 200


def body_hash_unchecked(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    body = b'{"participants": []}'
    return _forged(client, "POST", "/emulator/calls", body, signed_body=b"{}") == 201


def date_unchecked(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    stale = formatdate(time.time() - 3600, usegmt=True)
    return _forged(client, "GET", "/emulator/info", date=stale) == 200


def host_port_ignored(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    host = urlsplit(client.endpoint).hostname or ""
    assert urlsplit(client.endpoint).port  # the emulator listens on a non-default port
    return _forged(client, "GET", "/emulator/info", host=host) == 200


# ---------------------------------------------------------------- repeatability
def repeatability_ignored(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    headers = {
        "Repeatability-Request-ID": str(uuid.uuid4()),
        "Repeatability-First-Sent": formatdate(usegmt=True),
    }
    body = {"callLocator": {"serverCallId": call["serverCallId"]}}
    first = client.start(body, headers=headers).json()
    return bool(client.start(body, headers=headers).json() != first)


# ---------------------------------------------------------------- callbacks
def no_callbacks(client: Client, call: dict[str, Any], receiver: Receiver) -> bool:
    _active(client, call, recordingStateCallbackUri=receiver.url)
    time.sleep(0.2)
    return receiver.bodies == []


def callback_wrong_state(client: Client, call: dict[str, Any], receiver: Receiver) -> bool:
    _active(client, call, recordingStateCallbackUri=receiver.url)
    return _states(receiver, 1) != ["active"]


def callback_on_no_change(client: Client, call: dict[str, Any], receiver: Receiver) -> bool:
    rid = _active(client, call, recordingStateCallbackUri=receiver.url)
    client.pause(rid)
    client.pause(rid)  # already paused: no transition
    _states(receiver, 2)
    time.sleep(0.3)
    return len(receiver.bodies) > 2


def callbacks_out_of_order(client: Client, call: dict[str, Any], receiver: Receiver) -> bool:
    rid = _active(client, call, recordingStateCallbackUri=receiver.url)
    client.pause(rid)
    client.resume(rid)
    client.stop(rid)
    return _states(receiver, len(STATES)) != STATES


# ---------------------------------------------------------------- Event Grid
def handshake_skipped(client: Client, _call: dict[str, Any], receiver: Receiver) -> bool:
    subscription = _cloud_events_subscription(client, receiver)
    handshakes = [entry for entry in client.deliveries() if entry.get("method") == "OPTIONS"]
    return subscription["status"] == "active" and not handshakes


def handshake_not_enforced(client: Client, _call: dict[str, Any], receiver: Receiver) -> bool:
    subscription = _cloud_events_subscription(client, receiver)
    handshakes = [entry for entry in client.deliveries() if entry.get("method") == "OPTIONS"]
    assert [entry["outcome"] for entry in handshakes] == ["ValidationFailed"]
    return bool(subscription["status"] == "active")


def event_camel_case(client: Client, _call: dict[str, Any], receiver: Receiver) -> bool:
    _, event = _event(client, receiver, WAV)
    return bool(event["data"]["recordingFormatType"] == "wav")


def event_wrong_subject(client: Client, _call: dict[str, Any], receiver: Receiver) -> bool:
    call, event = _event(client, receiver, WAV)
    form = "^/recording/call/[^/]+/serverCallId/" + re.escape(call["serverCallId"]) + "$"
    return not re.match(form, event["subject"])


# ---------------------------------------------------------------- media and metadata
def media_truncated(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    media, _ = _files(client, WAV)
    (riff_size,) = struct.unpack_from("<I", media, 4)
    return bool(len(media) < 8 + riff_size)


def wav_sample_rate(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    media, _ = _files(client, WAV)
    with wave.open(io.BytesIO(media)) as parsed:
        return bool(parsed.getframerate() != 16000)


def metadata_duration(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    media, metadata = _files(client, WAV)
    with wave.open(io.BytesIO(media)) as parsed:
        length_ms = parsed.getnframes() * 1000 / parsed.getframerate()
    return bool(abs(metadata["chunkDuration"] - length_ms) > 1)


def metadata_pauses(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    _, metadata = _files(client, WAV, pause=True)
    return bool(metadata["pauseResumeIntervals"] == [])


def affinity_ignored(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    pinned = PARTICIPANTS[0]
    pin = [{"channel": PINNED_CHANNEL, "participant": pinned}]
    media, metadata = _files(client, {**UNMIXED_WAV, "channelAffinity": pin})
    channels = {entry["participantId"]: entry.get("channel") for entry in metadata["participants"]}
    with wave.open(io.BytesIO(media)) as parsed:
        count = parsed.getnchannels()
    # a channel per slot up to the pinned one: the pin makes five, three without it
    return bool(channels[pinned["rawId"]] != PINNED_CHANNEL and count < PINNED_CHANNEL + 1)


# ---------------------------------------------------------------- content endpoints
def download_content_type(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    chunk = _chunk(client, WAV)
    return _fetch(client, chunk["contentLocation"]).headers["content-type"] != (
        "application/octet-stream"
    )


def range_ignored(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    chunk = _chunk(client, WAV)
    return _fetch(client, chunk["contentLocation"], Range="bytes=0-9").status_code == 200


def delete_not_deleting(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    chunk = _chunk(client, WAV)
    assert client.request("DELETE", _path(chunk["deleteLocation"])).status_code == 200
    return client.request("GET", _path(chunk["contentLocation"])).status_code == 200


def retention_not_applied(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    chunk = _chunk(client, WAV)
    client.advance_clock(24 * 3600 + 1)
    return client.request("GET", _path(chunk["contentLocation"])).status_code == 200


def result_on_ga(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    rid = _start(client, call)
    return client.result(rid, api_version=client.api_version).status_code == 200


SHOWS: dict[str, Check] = {
    "start-wrong-status": start_status,
    "response-missing-state": missing_state,
    "get-wrong-content-type": get_content_type,
    "wrong-enum-case": enum_case,
    "pause-wrong-status": pause_status,
    "resume-wrong-status": resume_status,
    "stop-wrong-status": stop_status,
    "start-answers-active": start_active,
    "pause-no-state-change": pause_ignored,
    "resume-ignored": resume_ignored,
    "stop-not-terminal": stop_not_terminal,
    "resume-after-stop-accepted": resume_after_stop,
    "recording-id-padded": id_padded,
    "api-version-not-checked": version_unchecked,
    "explicit-null-refused": null_refused,
    "flat-error-body": flat_errors,
    "not-found-wrong-code": not_found_code,
    "server-error-on-bad-body": bad_body_server_error,
    "duplicate-start-allowed": duplicate_start,
    "auth-not-checked": auth_unchecked,
    "body-hash-not-checked": body_hash_unchecked,
    "date-not-checked": date_unchecked,
    "host-port-ignored": host_port_ignored,
    "repeatability-ignored": repeatability_ignored,
    "callbacks-not-sent": no_callbacks,
    "callback-wrong-state": callback_wrong_state,
    "callback-on-no-change": callback_on_no_change,
    "callbacks-out-of-order": callbacks_out_of_order,
    "handshake-skipped": handshake_skipped,
    "handshake-not-enforced": handshake_not_enforced,
    "event-camel-case": event_camel_case,
    "event-wrong-subject": event_wrong_subject,
    "media-truncated": media_truncated,
    "wav-wrong-sample-rate": wav_sample_rate,
    "metadata-duration-wrong": metadata_duration,
    "metadata-pauses-missing": metadata_pauses,
    "channel-affinity-ignored": affinity_ignored,
    "download-wrong-content-type": download_content_type,
    "range-ignored": range_ignored,
    "delete-not-deleting": delete_not_deleting,
    "retention-not-applied": retention_not_applied,
    "result-on-ga": result_on_ga,
}


def test_every_fault_has_a_check_and_at_least_thirty_two_exist() -> None:
    assert set(SHOWS) == set(FAULTS)
    assert len(FAULTS) >= 32


def test_faults_name_existing_requirements() -> None:
    known = {entry["id"] for entry in requirements()}
    for name, fault in FAULTS.items():
        assert fault.breaks, name
        assert set(fault.breaks) <= known, name


def test_every_requirement_area_has_a_fault() -> None:
    areas = {entry["area"] for entry in requirements()}
    broken = {
        entry["area"]
        for entry in requirements()
        if any(entry["id"] in fault.breaks for fault in FAULTS.values())
    }
    assert broken == areas, f"areas without a fault: {sorted(areas - broken)}"


def test_the_control_api_lists_every_fault_with_what_it_breaks(client: Client) -> None:
    listed = client.request("GET", "/emulator/faults").json()["faults"]
    assert {entry["name"]: tuple(entry["breaks"]) for entry in listed} == {
        name: fault.breaks for name, fault in FAULTS.items()
    }
    assert not any(entry["active"] for entry in listed)


@pytest.mark.parametrize("name", sorted(SHOWS))
def test_fault_breaks_what_it_says_only_when_on(
    client: Client, receiver: Receiver, name: str
) -> None:
    assert not SHOWS[name](client, client.create_call([]), receiver), "behaves faultily while off"
    client.reset()
    with receiver.lock:
        receiver.bodies.clear()
    client.set_fault(name)
    assert client.info()["activeFaults"] == [name]
    assert SHOWS[name](client, client.create_call([]), receiver), "the fault shows no effect"
    client.clear_faults()
    assert client.info()["activeFaults"] == []
