"""Every registered fault really breaks what it says (so the suites' mutation runs mean
something), is off by default, and goes away when cleared."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import pytest

from callrec.client import Client
from callrec.emulator import FAULTS
from callrec.specs import requirements
from tests.plugins.emulator import Receiver


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


def pause_status(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    return client.pause(_active(client, call)).status_code == 200


def resume_status(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    rid = _active(client, call)
    client.pause(rid)
    return client.resume(rid).status_code == 200


def stop_status(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    return client.stop(_start(client, call)).status_code == 200


def missing_state(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    return "recordingState" not in client.get(_start(client, call)).json()


def enum_case(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    return client.get(_active(client, call)).json()["recordingState"] == "Active"


def pause_ignored(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    rid = _active(client, call)
    return (
        client.pause(rid).status_code == 202
        and client.get(rid).json()["recordingState"] == "active"
    )


def auth_unchecked(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    return client.request("GET", "/emulator/info", signed=False).status_code == 200


def stop_not_terminal(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    rid = _start(client, call)
    client.stop(rid)
    return client.get(rid).status_code == 200


def duplicate_start(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    _start(client, call)
    return client.start({"callLocator": {"serverCallId": call["serverCallId"]}}).status_code == 200


def no_callbacks(client: Client, call: dict[str, Any], receiver: Receiver) -> bool:
    _active(client, call, recordingStateCallbackUri=receiver.url)
    time.sleep(0.2)
    return receiver.bodies == []


def repeatability_ignored(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    headers = {
        "Repeatability-Request-ID": str(uuid.uuid4()),
        "Repeatability-First-Sent": formatdate(usegmt=True),
    }
    body = {"callLocator": {"serverCallId": call["serverCallId"]}}
    first = client.start(body, headers=headers).json()
    return client.start(body, headers=headers).json() != first


def version_unchecked(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    return client.request("GET", "/calling/recordings/x", params={}).status_code == 404


def flat_errors(client: Client, _call: dict[str, Any], _r: Receiver) -> bool:
    body = client.get("unknown").json()
    return "error" not in body and body.get("code") == "8522"


def start_active(client: Client, call: dict[str, Any], _r: Receiver) -> bool:
    response = client.start({"callLocator": {"serverCallId": call["serverCallId"]}})
    return response.json()["recordingState"] == "active"


SHOWS: dict[str, Callable[[Client, dict[str, Any], Receiver], bool]] = {
    "pause-wrong-status": pause_status,
    "resume-wrong-status": resume_status,
    "stop-wrong-status": stop_status,
    "response-missing-state": missing_state,
    "wrong-enum-case": enum_case,
    "pause-no-state-change": pause_ignored,
    "auth-not-checked": auth_unchecked,
    "stop-not-terminal": stop_not_terminal,
    "duplicate-start-allowed": duplicate_start,
    "callbacks-not-sent": no_callbacks,
    "repeatability-ignored": repeatability_ignored,
    "api-version-not-checked": version_unchecked,
    "flat-error-body": flat_errors,
    "start-answers-active": start_active,
}


def test_every_fault_has_a_check_and_at_least_ten_exist() -> None:
    assert set(SHOWS) == set(FAULTS)
    assert len(FAULTS) >= 10


def test_faults_name_existing_requirements() -> None:
    known = {entry["id"] for entry in requirements()}
    for name, fault in FAULTS.items():
        assert fault.breaks, name
        assert set(fault.breaks) <= known, name


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
