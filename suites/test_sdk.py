"""The official Python SDK (azure-communication-callautomation) as a client of the target:
start, get, pause, resume and stop go through it, and it accepts every answer.

The SDK checks each status itself (200 or 202 for a start, 200 for a get, 202 for pause and
resume, 204 for a stop) and raises on anything else, so an endpoint that answers 200 to a
pause works with curl but breaks every application built on the SDK. On a callrec emulator
the client comes from `callrec.interop.emulator_client`; elsewhere it is built from the
endpoint and key, as an application would.
"""
# ruff: noqa: PT018  (one assertion message for related facts)

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

import pytest
from azure.communication.callautomation import CallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import DecodeError, HttpResponseError

from callrec.conformance import NotApplicable, NotObserved, ProvidedCall, Target
from callrec.interop import emulator_client
from callrec.specs import profile
from suites.support import POLL_INTERVAL, STATE_TIMEOUT, catalog_error

SDK_NAME: Final = "azure-communication-callautomation"
SDK: Final = f"{SDK_NAME} {importlib.metadata.version(SDK_NAME)}"
SDK_GENERATION: Final = "call-automation"  # the profiles' generation this SDK speaks
Result = TypeVar("Result")


def sdk_client(target: Target, api_version: str) -> CallAutomationClient:
    """The SDK's client for the target at ``api_version``, without retries (a retried 5xx
    would only slow the failure down)."""
    options: dict[str, Any] = {"api_version": api_version, "retry_total": 0}
    if target.is_emulator:
        return emulator_client(target.connection, **options)
    key = AzureKeyCredential(target.connection.access_key)
    return CallAutomationClient(target.endpoint, key, **options)


def through_sdk(rule: str, step: str, call: Callable[[], Result]) -> Result:
    """Run one SDK call; an exception the SDK raises on the target's answer fails ``rule``."""
    try:
        return call()
    except (HttpResponseError, DecodeError) as exc:
        status = getattr(exc, "status_code", None)
        detail = (str(getattr(exc, "message", exc)).splitlines() or [""])[0][:200]
        pytest.fail(f"{rule}: {SDK} refused the answer to {step} (status {status}): {detail}")


def read_state(client: CallAutomationClient, recording_id: str) -> Any:
    return client.get_recording_properties(recording_id).recording_state


def wait_for(client: CallAutomationClient, recording_id: str, state: str) -> None:
    deadline = time.monotonic() + STATE_TIMEOUT
    seen = None
    while time.monotonic() < deadline:
        seen = through_sdk("REC-GET-003", "a get", lambda: read_state(client, recording_id))
        if seen == state:
            return
        time.sleep(POLL_INTERVAL)
    raise NotObserved(
        f"not observed within {STATE_TIMEOUT:g}s: {SDK} reading the recording {state!r} "
        f"(last {seen!r})"
    )


@pytest.mark.requirement(
    "REC-START-001",
    "REC-START-004",
    "REC-STATE-001",
    "REC-GET-001",
    "REC-GET-003",
    "REC-PAUSE-002",
    "REC-RESUME-002",
    "REC-STOP-002",
    "REC-STATE-004",
    "REC-STATE-005",
    "REC-STATE-008",
)
def test_the_official_python_sdk_drives_a_recording(
    target: Target, api_version: str, provided_call: ProvidedCall
) -> None:
    generation = profile(api_version)["generation"]
    if generation != SDK_GENERATION:
        raise NotApplicable(
            f"{SDK} speaks Call Automation; api-version {api_version} is {generation}"
        )
    with sdk_client(target, api_version) as client:
        started = through_sdk(
            "REC-START-001/004",
            "a start",
            lambda: client.start_recording(server_call_id=provided_call.server_call_id),
        )
        rid = started.recording_id
        assert rid and started.recording_state == "inactive", (
            f"REC-START-001/REC-STATE-001: {SDK} should read a recordingId and recordingState "
            f"'inactive' from the start answer; it read {started.recording_state!r} "
            f"(recordingId {rid!r})"
        )
        wait_for(client, rid, "active")
        got = through_sdk("REC-GET-001", "a get", lambda: client.get_recording_properties(rid))
        assert got.recording_id == rid, (
            f"REC-GET-001: {SDK} read recordingId {got.recording_id!r} from a get of {rid!r}"
        )

        through_sdk("REC-PAUSE-002", "a pause", lambda: client.pause_recording(rid))
        state = through_sdk("REC-GET-003", "a get", lambda: read_state(client, rid))
        assert state == "inactive", f"REC-STATE-004: after a pause {SDK} reads {state!r}"
        through_sdk("REC-RESUME-002", "a resume", lambda: client.resume_recording(rid))
        state = through_sdk("REC-GET-003", "a get", lambda: read_state(client, rid))
        assert state == "active", f"REC-STATE-005: after a resume {SDK} reads {state!r}"
        through_sdk("REC-STOP-002", "a stop", lambda: client.stop_recording(rid))

        status, code = catalog_error("recording-not-found")
        try:
            after = client.get_recording_properties(rid)
        except HttpResponseError as exc:
            seen = (exc.status_code, getattr(exc.error, "code", None))
        else:
            seen = (200, f"recordingState {after.recording_state!r}")
        assert seen == (status, code), (
            f"REC-STATE-008: a get after the stop should give {SDK} {status} with code {code}; "
            f"it saw {seen[0]} with {seen[1]!r}"
        )
