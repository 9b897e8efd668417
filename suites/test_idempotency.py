"""Repeated starts (contract §2): Repeatability-Request-ID and Repeatability-First-Sent, a
replayed request id that must start nothing, and a second start on a call already recorded."""

from __future__ import annotations

import uuid
from email.utils import formatdate
from typing import Final

import httpx
import pytest

from callrec.client import Client
from callrec.conformance import ProvidedCall
from suites.support import (
    check_error_answer,
    excerpt,
    locator,
    require,
    start_recording,
    started_id,
    wait_for_state,
)

# A second start while the call is being recorded: 400 with either documented code
# (REC-ERR-007; the docs give both and no status, the requirement gives 400).
ALREADY_RECORDING: Final = (400, ("8553", "8559"))


def repeatability() -> dict[str, str]:
    """Fresh repeatability headers, as the SDKs send them on every start."""
    return {
        "Repeatability-Request-ID": str(uuid.uuid4()),
        "Repeatability-First-Sent": formatdate(usegmt=True),
    }


def _recording_id(answer: httpx.Response) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    return started_id(body)


def _same_answer(first: httpx.Response, again: httpx.Response) -> bool:
    if first.status_code != again.status_code:
        return False
    try:
        return bool(first.json() == again.json())
    except ValueError:
        return False


@pytest.mark.requirement("REC-REPEAT-001", "REC-REPEAT-002")
def test_start_accepts_repeatability_headers(
    target_client: Client, provided_call: ProvidedCall
) -> None:
    answer, recording_id = start_recording(target_client, provided_call, headers=repeatability())
    try:
        require(
            answer.headers.get("Repeatability-Result", "").lower() == "accepted",
            "REC-REPEAT-002: a start with Repeatability-Request-ID and Repeatability-First-Sent: "
            "expected the header Repeatability-Result: accepted; got "
            f"{answer.headers.get('Repeatability-Result')!r} ({excerpt(answer)})",
        )
    finally:
        target_client.stop(recording_id)


@pytest.mark.requirement("REC-REPEAT-003", "REC-REPEAT-004")
def test_replayed_start_returns_the_first_answer(
    target_client: Client, provided_call: ProvidedCall
) -> None:
    headers = repeatability()
    first, recording_id = start_recording(target_client, provided_call, headers=headers)
    again = target_client.start({"callLocator": locator(provided_call)}, headers=headers)
    other = _recording_id(again)
    try:
        require(
            other in (None, recording_id) or target_client.get(other).status_code != 200,
            "REC-REPEAT-003: a start replaying the Repeatability-Request-ID of a running "
            f"recording {recording_id!r} started a second one: {excerpt(again)}",
        )
        require(
            _same_answer(first, again),
            "REC-REPEAT-004: a start replaying a Repeatability-Request-ID: expected the first "
            f"answer again; got {excerpt(again, 160)} (first: {excerpt(first, 160)})",
        )
        got = target_client.get(recording_id)
        require(
            got.status_code == 200,
            f"REC-REPEAT-003: after the replay, the first recording {recording_id!r} should still "
            f"be recording; a get answered {excerpt(got)}",
        )
    finally:
        target_client.stop(recording_id)
        if other not in (None, recording_id):
            target_client.stop(str(other))


@pytest.mark.requirement("REC-REPEAT-003", "REC-REPEAT-004")
def test_replay_after_stop_starts_nothing(
    target_client: Client, provided_call: ProvidedCall
) -> None:
    """A retry that comes after the recording was stopped is still the same request: it must
    not start recording the call again."""
    headers = repeatability()
    first, recording_id = start_recording(target_client, provided_call, headers=headers)
    target_client.stop(recording_id)
    again = target_client.start({"callLocator": locator(provided_call)}, headers=headers)
    other = _recording_id(again)
    try:
        started = other not in (None, recording_id) and target_client.get(other).status_code == 200
        require(
            not started,
            "REC-REPEAT-003: a start replaying the Repeatability-Request-ID of a stopped "
            f"recording started recording the call again: {excerpt(again)}",
        )
        require(
            _same_answer(first, again),
            "REC-REPEAT-004: a replayed Repeatability-Request-ID after a stop: expected the "
            f"first answer again; got {excerpt(again, 160)} (first: {excerpt(first, 160)})",
        )
    finally:
        if other not in (None, recording_id):
            target_client.stop(str(other))


@pytest.mark.requirement("REC-REPEAT-005", "REC-ERR-001")
def test_request_id_without_first_sent_is_refused(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    headers = {"Repeatability-Request-ID": str(uuid.uuid4())}
    answer = target_client.start({"callLocator": locator(provided_call)}, headers=headers)
    try:
        check_error_answer(
            answer,
            api_version,
            rule="REC-REPEAT-005",
            what="a start with Repeatability-Request-ID but no Repeatability-First-Sent",
            status=400,
        )
    finally:
        started = _recording_id(answer)
        if answer.status_code < 300 and started:
            target_client.stop(started)


SECOND_STARTS: Final = {
    "new-request-id": repeatability,
    "no-repeatability-headers": dict,
}


@pytest.mark.requirement("REC-ERR-007", "REC-STATE-009", "REC-ERR-001")
@pytest.mark.parametrize("headers", list(SECOND_STARTS))
def test_second_start_on_recorded_call_is_refused(
    target_client: Client, api_version: str, provided_call: ProvidedCall, headers: str
) -> None:
    _, recording_id = start_recording(target_client, provided_call, headers=repeatability())
    second: httpx.Response | None = None
    try:
        before = wait_for_state(target_client, recording_id, "active")
        second = target_client.start(
            {"callLocator": locator(provided_call)}, headers=SECOND_STARTS[headers]()
        )
        check_error_answer(
            second,
            api_version,
            rule="REC-ERR-007",
            what=f"a second start on a call being recorded ({headers})",
            status=ALREADY_RECORDING[0],
            codes=ALREADY_RECORDING[1],
        )
        after = target_client.get(recording_id)
        require(
            after.status_code == 200 and after.json() == before,
            f"REC-STATE-009: the refused second start changed the running recording: before "
            f"{before!r}, after {excerpt(after)}",
        )
    finally:
        target_client.stop(recording_id)
        other = _recording_id(second) if second is not None else None
        if other and other != recording_id:
            target_client.stop(other)
