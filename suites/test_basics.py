"""The basic operations, one outcome at a time: start, get, pause, resume and stop, their
answers, and the state changes a get shows after each.

Success statuses and bodies come from the version's profile (``success_statuses``), error
statuses and codes from the error catalog (``catalog_error``); nothing here restates them.
"""
# ruff: noqa: PLR0917  (fixtures arrive as positional arguments)

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

import httpx
import pytest

import callrec
from callrec.client import Client
from callrec.conformance import CallProvider, NotApplicable, ProvidedCall, Receiver, Target
from callrec.conformance.plugin import needs
from callrec.specs import fields
from suites.support import (
    POLL_INTERVAL,
    STATE_TIMEOUT,
    answers_with,
    await_state,
    check_already_recording,
    check_bodiless,
    check_not_found,
    events_in,
    excerpt,
    hook_problem,
    locator,
    require_event,
    started_id,
    success_statuses,
    wait_until_gone,
)

START: Final = "StartRecording"
GET: Final = "GetRecordingProperties"
PAUSE: Final = "PauseRecording"
RESUME: Final = "ResumeRecording"
STOP: Final = "StopRecording"
OPERATIONS: Final[dict[str, Callable[[Client, str], httpx.Response]]] = {
    "get": Client.get,
    "stop": Client.stop,
    "pause": Client.pause,
    "resume": Client.resume,
}


# ---------------------------------------------------------------- helpers
def _problems(body: Any, schema: str, api_version: str) -> str:
    """The schema failures of a body, in one line ('' when it is valid)."""
    failures = callrec.validate(body, schema, api_version=api_version)
    return "; ".join(f"{f.pointer or '(root)'}: {f.message}" for f in failures)


def _json_body(answer: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        body = None
    assert isinstance(body, dict), f"{what}: expected a JSON object body, got {excerpt(answer)}"
    return body


def _start(client: Client, call: ProvidedCall, **options: Any) -> tuple[httpx.Response, str]:
    """Start recording ``call``: the answer and the recording id (failing when there is none)."""
    answer = client.start({"callLocator": locator(call), **options})
    statuses = success_statuses(client.api_version, START)
    assert answer.status_code in statuses, (
        f"start of an established call: expected {sorted(statuses)}, got {excerpt(answer)}"
    )
    recording_id = started_id(_json_body(answer, "start"))
    assert isinstance(recording_id, str), f"start answered no recordingId: {excerpt(answer)}"
    return answer, recording_id


@contextmanager
def _recording(
    client: Client, call: ProvidedCall, **options: Any
) -> Iterator[tuple[httpx.Response, str]]:
    """A recording of ``call`` for the ``with`` block, stopped after it (the call may be lent
    to the next test)."""
    answer, recording_id = _start(client, call, **options)
    try:
        yield answer, recording_id
    finally:
        client.stop(recording_id)


@contextmanager
def _active(client: Client, call: ProvidedCall) -> Iterator[str]:
    """A recording of ``call`` that a get has shown active."""
    with _recording(client, call) as (_answer, recording_id):
        await_state(client, recording_id, "active")
        yield recording_id


def _stop_any(client: Client, answer: httpx.Response) -> None:
    """Stop the recording a start answer names, if it names one (cleanup)."""
    try:
        recording_id = started_id(answer.json())
    except ValueError:
        return
    if isinstance(recording_id, str) and recording_id:
        client.stop(recording_id)


def _state(client: Client, recording_id: str, what: str) -> str:
    """The state the next get reports (the get itself must succeed)."""
    answer = client.get(recording_id)
    assert answer.status_code in success_statuses(client.api_version, GET), (
        f"get {what}: expected {sorted(success_statuses(client.api_version, GET))}, "
        f"got {excerpt(answer)}"
    )
    return str(_json_body(answer, f"get {what}").get("recordingState"))


# ---------------------------------------------------------------- start and get
@pytest.mark.requirement(
    "REC-START-001", "REC-START-002", "REC-START-003", "REC-START-004", "REC-STATE-001"
)
def test_start_answers_success_with_an_inactive_recording(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    answer = target_client.start({"callLocator": locator(provided_call)})
    statuses = success_statuses(api_version, START)
    try:
        assert answer.status_code in statuses, (
            f"REC-START-004: start of an established call: expected "
            f"{' or '.join(map(str, sorted(statuses)))} (the only 2xx of api-version "
            f"{api_version}), got {excerpt(answer)}"
        )
        assert answer.headers.get("content-type", "").startswith("application/json"), (
            f"REC-START-001: start: expected a JSON body, got Content-Type "
            f"{answer.headers.get('content-type')!r}"
        )
        body = _json_body(answer, "REC-START-001: start")
        problems = _problems(body, str(statuses[answer.status_code]), api_version)
        assert not problems, f"REC-START-001: the start body breaks its schema: {problems}"
        if answers_with(api_version, START, "recordingState"):  # not CallingServer's
            assert body["recordingState"] == "inactive", (
                f"REC-STATE-001: start: expected recordingState 'inactive' (the live service "
                f"answers every start so), got {body['recordingState']!r}"
            )
    finally:
        _stop_any(target_client, answer)


@pytest.mark.requirement("REC-GET-001", "REC-GET-002", "REC-GET-003")
def test_get_answers_the_recording_as_json(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    with _recording(target_client, provided_call) as (_answer, recording_id):
        got = target_client.get(recording_id)
        statuses = success_statuses(api_version, GET)
        assert got.status_code in statuses, (
            f"REC-GET-003: get of a running recording: expected "
            f"{' or '.join(map(str, sorted(statuses)))}, got {excerpt(got)}"
        )
        assert got.headers.get("content-type", "").startswith("application/json"), (
            f"REC-GET-001: get: expected application/json, got {got.headers.get('content-type')!r}"
        )
        body = _json_body(got, "REC-GET-001: get")
        problems = _problems(body, str(statuses[got.status_code]), api_version)
        assert not problems, f"REC-GET-001/002: the get body breaks its schema: {problems}"
        if answers_with(api_version, GET, "recordingId"):  # CallingServer's names the state only
            assert body["recordingId"] == recording_id, (
                f"REC-GET-002: get: expected recordingId {recording_id!r} from the path, "
                f"got {body['recordingId']!r}"
            )


@pytest.mark.requirement("REC-GET-004")
def test_gets_leave_the_recording_as_it_was(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    del api_version
    with _active(target_client, provided_call) as recording_id:
        first = target_client.get(recording_id)
        for number in range(2, 6):
            again = target_client.get(recording_id)
            assert (again.status_code, again.json()) == (first.status_code, first.json()), (
                f"REC-GET-004: get #{number} of an active recording differs from the first: "
                f"first {excerpt(first)}, then {excerpt(again)}"
            )
        assert first.json().get("recordingState") == "active", (
            f"REC-GET-004: gets turned an active recording into {excerpt(first)}"
        )


@pytest.mark.requirement("REC-GET-004")
def test_gets_post_no_callback(
    target: Target,
    target_client: Client,
    api_version: str,
    provided_call: ProvidedCall,
    hooks: Receiver,
    event_timeout: float,
) -> None:
    require_event(api_version, "RecordingStateChangedCloudEvent")
    problem = hook_problem(target, hooks)
    if problem:
        raise NotApplicable(problem)
    channel = hooks.channel()
    options = {"recordingStateCallbackUri": hooks.url(channel)}
    with _recording(target_client, provided_call, **options) as (_answer, recording_id):
        await_state(target_client, recording_id, "active")
        hooks.wait(
            channel,
            until=lambda seen: any(
                (event.get("data") or {}).get("state") == "active"
                for delivery in seen
                for event in events_in(delivery.body)
            ),
            timeout=event_timeout,
            what="the RecordingStateChanged callback of the activation",
        )
        before = len(hooks.received(channel))
        for _ in range(3):
            target_client.get(recording_id)
        time.sleep(0.5 if target.is_emulator else 3.0)
        after = hooks.received(channel)
        assert len(after) == before, (
            f"REC-GET-004: 3 gets of an active recording posted {len(after) - before} "
            "callback(s): "
            f"{[d.body for d in after[before:]]!r}"[:500]
        )


# ---------------------------------------------------------------- pause, resume, stop answers
@pytest.mark.requirement("REC-PAUSE-001", "REC-PAUSE-002")
def test_pause_answers_accepted_with_no_body(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    with _active(target_client, provided_call) as recording_id:
        answer = target_client.pause(recording_id)
        check_bodiless(
            answer, api_version, PAUSE, "REC-PAUSE-001/002: pause of an active recording"
        )


@pytest.mark.requirement("REC-RESUME-001", "REC-RESUME-002")
def test_resume_answers_accepted_with_no_body(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    with _active(target_client, provided_call) as recording_id:
        target_client.pause(recording_id)
        answer = target_client.resume(recording_id)
        check_bodiless(
            answer, api_version, RESUME, "REC-RESUME-001/002: resume of a paused recording"
        )


@pytest.mark.parametrize("paused", [False, True], ids=["active", "paused"])
@pytest.mark.requirement("REC-STOP-001", "REC-STOP-002")
def test_stop_answers_no_content(
    target_client: Client, api_version: str, provided_call: ProvidedCall, paused: bool
) -> None:
    with _active(target_client, provided_call) as recording_id:
        if paused:
            target_client.pause(recording_id)
        answer = target_client.stop(recording_id)
        what = "REC-STOP-001/002: stop of " + ("a paused" if paused else "an active") + " recording"
        check_bodiless(answer, api_version, STOP, what)


# ---------------------------------------------------------------- state transitions
@pytest.mark.requirement("REC-STATE-002")
def test_a_started_recording_turns_active(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    with _recording(target_client, provided_call) as (_answer, recording_id):
        body = await_state(target_client, recording_id, "active")
        if answers_with(api_version, GET, "recordingId"):
            assert body["recordingId"] == recording_id, (
                f"REC-STATE-002: the get named another recording: {body!r}"
            )


@pytest.mark.requirement("REC-STATE-003")
def test_pause_on_start_keeps_the_recording_inactive_until_resumed(
    target_client: Client, api_version: str, call_provider: CallProvider
) -> None:
    if "pauseOnStart" not in fields("StartCallRecordingRequest", api_version):
        raise NotApplicable(f"api-version {api_version} has no pauseOnStart")
    options = {"pauseOnStart": True}
    with call_provider.call() as call, _recording(target_client, call, **options) as started:
        answer, recording_id = started
        assert answer.json().get("recordingState") == "inactive", (
            f"REC-STATE-003: start with pauseOnStart: expected recordingState 'inactive', "
            f"got {excerpt(answer)}"
        )
        seen = _watch_while_others_activate(target_client, recording_id, call_provider)
        assert seen == {"inactive"}, (
            f"REC-STATE-003: a recording started with pauseOnStart read {sorted(seen)} "
            "before any resume"
        )
        target_client.resume(recording_id)
        await_state(target_client, recording_id, "active")


def _watch_while_others_activate(
    client: Client, recording_id: str, provider: CallProvider
) -> set[str]:
    """The states gets of ``recording_id`` show until an ordinary recording would have turned
    active: a control recording on a fresh call where the provider has them, else the
    documented activation time."""
    seen = {_state(client, recording_id, "of a recording started paused")}
    if "fresh" in provider.capabilities:
        with provider.call() as other, _recording(client, other) as (_answer, control_id):
            await_state(client, control_id, "active")
            seen.add(_state(client, recording_id, "of a recording started paused"))
        return seen
    deadline = time.monotonic() + STATE_TIMEOUT
    while time.monotonic() < deadline:
        seen.add(_state(client, recording_id, "of a recording started paused"))
        time.sleep(POLL_INTERVAL * 10)
    return seen


@pytest.mark.requirement("REC-STATE-004")
def test_pause_turns_an_active_recording_inactive(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    del api_version
    with _active(target_client, provided_call) as recording_id:
        paused = target_client.pause(recording_id)
        state = _state(target_client, recording_id, "after a pause")
        assert state == "inactive", (
            f"REC-STATE-004: after a pause (answered {excerpt(paused)}) the next get shows "
            f"{state!r}, "
            f"expected 'inactive'"
        )


@pytest.mark.requirement("REC-STATE-005")
def test_resume_turns_a_paused_recording_active(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    del api_version
    with _active(target_client, provided_call) as recording_id:
        target_client.pause(recording_id)
        resumed = target_client.resume(recording_id)
        state = _state(target_client, recording_id, "after a resume")
        assert state == "active", (
            f"REC-STATE-005: after pause and resume (answered {excerpt(resumed)}) the next get "
            "shows "
            f"{state!r}, expected 'active'"
        )


@pytest.mark.requirement("REC-STATE-006")
def test_a_second_pause_changes_nothing(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    with _active(target_client, provided_call) as recording_id:
        target_client.pause(recording_id)
        again = target_client.pause(recording_id)
        check_bodiless(again, api_version, PAUSE, "REC-STATE-006: pause of a paused recording")
        state = _state(target_client, recording_id, "after a second pause")
        assert state == "inactive", f"REC-STATE-006: a second pause left the recording {state!r}"
        target_client.resume(recording_id)
        state = _state(target_client, recording_id, "after one resume of a twice-paused one")
        assert state == "active", (
            f"REC-STATE-006: one resume after two pauses left the recording {state!r}"
        )


@pytest.mark.requirement("REC-STATE-007")
def test_resuming_an_active_recording_changes_nothing(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    with _active(target_client, provided_call) as recording_id:
        answer = target_client.resume(recording_id)
        check_bodiless(answer, api_version, RESUME, "REC-STATE-007: resume of an active recording")
        state = _state(target_client, recording_id, "after resuming an active recording")
        assert state == "active", f"REC-STATE-007: resuming an active recording left it {state!r}"
        target_client.pause(recording_id)
        state = _state(target_client, recording_id, "after a pause following that resume")
        assert state == "inactive", (
            f"REC-STATE-007: a pause after that resume left the recording {state!r}"
        )


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.requirement("REC-STATE-008")
def test_a_stopped_recording_is_gone(
    target_client: Client, api_version: str, provided_call: ProvidedCall, operation: str
) -> None:
    del api_version
    with _active(target_client, provided_call) as recording_id:
        stopped = target_client.stop(recording_id)
        assert stopped.is_success, f"stop of an active recording: got {excerpt(stopped)}"
        answer = OPERATIONS[operation](target_client, recording_id)
        check_not_found(answer, f"REC-STATE-008: {operation} after stop", target_client.api_version)


@pytest.mark.requirement("REC-STATE-008")
def test_ending_the_call_stops_its_recording(
    target_client: Client, api_version: str, call_provider: CallProvider
) -> None:
    del api_version
    needs(call_provider, "end", "ending a recorded call")
    with call_provider.call() as call, _active(target_client, call) as recording_id:
        call_provider.end(call)
        answer = wait_until_gone(target_client, recording_id)
        check_not_found(
            answer, "REC-STATE-008: get after the call ended", target_client.api_version
        )
        check_not_found(
            target_client.pause(recording_id),
            "REC-STATE-008: pause after it",
            target_client.api_version,
        )


@pytest.mark.parametrize("paused", [False, True], ids=["active", "paused"])
@pytest.mark.requirement("REC-STATE-009", "REC-ERR-007")
def test_a_second_start_is_refused_and_changes_nothing(
    target_client: Client, api_version: str, provided_call: ProvidedCall, paused: bool
) -> None:
    with _active(target_client, provided_call) as recording_id:
        if paused:
            target_client.pause(recording_id)
        before = target_client.get(recording_id)
        second = target_client.start({"callLocator": locator(provided_call)})
        if second.is_success:  # clean up what should not exist before failing
            _stop_any(target_client, second)
        check_already_recording(
            second,
            "REC-ERR-007: a second start on a call already recorded",
            target_client.api_version,
        )
        after = target_client.get(recording_id)
        assert (after.status_code, after.json()) == (before.status_code, before.json()), (
            f"REC-STATE-009: the refused second start changed the first recording: "
            f"before {excerpt(before)}, after {excerpt(after)}"
        )
        stopped = target_client.stop(recording_id)
        assert stopped.is_success, (
            f"REC-STATE-009: the first recording cannot be stopped after a refused second "
            f"start: {excerpt(stopped)}"
        )
