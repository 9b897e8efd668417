"""Schema and contract: schemathesis drives the api-version's OpenAPI document against the
target (specs/openapi/<api-version>.json, adjusted as suites/_schemathesis.py explains).

Generated valid data must be accepted and generated broken data refused with the documented
error; every answer must have a documented status, media type, body and headers; requests
without a valid signature must be refused; and the document's links, followed on real
recordings, must hold up (nothing answers for a stopped recording). Every exchange is signed
by the HMAC auth hook; starts name the call provider's real calls and the later operations
name recordings this test started.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from callrec.client import Client
from callrec.conformance import CallProvider, NotApplicable, ProvidedCall, Receiver, Target
from callrec.specs import takes_api_version
from suites._schemathesis import (
    ACCEPTED,
    AUTHENTICATED,
    NEGATIVE,
    POSITIVE,
    REJECTED,
    SIGNED,
    START,
    Contract,
    bind_broken_start,
    bind_call_path,
    bind_start_case,
    breaks_every_version,
    contract,
    error_code,
    hypothesis_settings,
    names_its_recording,
    recording_id_of,
    served_version,
    start_schema,
    workflow,
)
from suites.support import catalog_error, locator, start_recording

INVALID = catalog_error("invalid-request")  # documented: 400 8523
GONE = catalog_error("recording-not-found")  # observed: 404 8522


@pytest.fixture
def api(target: Target, api_version: str, target_client: Client) -> Iterator[Contract]:
    """The version's document on the target; recordings its starts make are stopped after
    each example (freeing the call) and at the end."""
    with contract(target, api_version, target_client.stop, target_client.conversations) as opened:
        yield opened


# ---------------------------------------------------------------- generated starts
@pytest.mark.requirement("REC-START-001", "REC-START-002", "REC-START-003", "REC-START-004")
def test_start_accepts_generated_bodies(
    api: Contract, provided_call: ProvidedCall, hooks: Receiver
) -> None:
    """Valid start bodies of every documented shape, naming the real call, are accepted with a
    documented success status and a RecordingStateResponse."""
    callback = hooks.url(hooks.channel())

    @hypothesis_settings(12)
    @given(case=api.cases(START, POSITIVE))
    def starts(case: Any) -> None:
        bind_start_case(case, provided_call, callback, api.api_version)
        try:
            api.send(case, ACCEPTED)
        finally:
            api.release()

    starts()


@pytest.mark.requirement("REC-ERR-006", "REC-ERR-001", "REC-ERR-002", "REC-ERR-013")
def test_start_refuses_broken_bodies(api: Contract, provided_call: ProvidedCall) -> None:
    """Start bodies no api-version's schema accepts (not JSON, wrong types, missing or extra
    fields, values outside the enums), naming the real call where they name one, answer 400
    with code 8523 and a CommunicationErrorResponse."""

    @hypothesis_settings(15)
    @given(
        case=api.cases(
            START,
            NEGATIVE,
            query={"api-version": api.api_version} if takes_api_version(api.api_version) else {},
            headers=SIGNED,
        )
    )
    def broken(case: Any) -> None:
        schema = start_schema(api.api_version)
        assume(breaks_every_version(case.body, schema))
        case.body = bind_broken_start(case.body, provided_call, schema)
        bind_call_path(case, provided_call, api.api_version)
        try:
            response = api.send(case, REJECTED, rule="REC-ERR-006/001")
        finally:
            api.release()  # accepted after all
        got = (response.status_code, error_code(response, api.api_version))
        assert got == INVALID, (
            f"REC-ERR-006: a start body that breaks the request schema: expected "
            f"{INVALID[0]} with code {INVALID[1]}; got {response.status_code} "
            f"{response.content[:200]!r} for body {str(case.body)[:200]}"
        )
        content_type = response.headers.get("content-type", [""])[0].replace(" ", "").lower()
        assert content_type == "application/json;charset=utf-8", (
            f"REC-ERR-001: an error answer of type {content_type!r}, expected "
            "'application/json; charset=utf-8'"
        )

    broken()


# ---------------------------------------------------------------- api-version
@pytest.mark.requirement("REC-VERSION-002", "REC-VERSION-003", "REC-ERR-013")
def test_api_version_is_checked(
    api: Contract, target_client: Client, provided_call: ProvidedCall
) -> None:
    """Every operation, with the api-version left out or replaced by something no endpoint
    serves (and everything else valid, on a real recording), answers 400 with a
    CommunicationErrorResponse."""
    if not takes_api_version(api.api_version):
        raise NotApplicable(f"api-version {api.api_version} takes no api-version parameter")
    _, recording_id = start_recording(target_client, provided_call)
    api.started.append(recording_id)  # stopped at the end
    valid = {
        operation: (
            {"body": {"callLocator": locator(provided_call)}}
            if operation == START
            else {"path_parameters": {"recordingId": recording_id}}
        )
        for operation in api.operation_ids()
    }
    strategies = [
        api.cases(operation, NEGATIVE, headers=SIGNED, **explicit)
        for operation, explicit in valid.items()
    ]

    @hypothesis_settings(15)
    @given(case=st.one_of(strategies))
    def unversioned(case: Any) -> None:
        assume(not served_version(case.query.get("api-version")))
        response = api.send(case, REJECTED, rule="REC-VERSION-002/003")
        assert response.status_code == INVALID[0], (
            f"REC-VERSION-002/003: {case.method.upper()} {case.formatted_path} with "
            f"api-version {case.query.get('api-version', '(none)')!r}: expected "
            f"{INVALID[0]}; got {response.status_code} {response.content[:200]!r}"
        )

    unversioned()


# ---------------------------------------------------------------- one recording, start to end
@pytest.mark.requirement(
    "REC-GET-001",
    "REC-GET-002",
    "REC-GET-003",
    "REC-PAUSE-002",
    "REC-RESUME-002",
    "REC-STOP-002",
    "REC-STATE-008",
    "REC-AUTH-001",
    "REC-AUTH-002",
    "REC-VERSION-001",
)
def test_recording_lifecycle_conforms(api: Contract, provided_call: ProvidedCall) -> None:
    """A generated start, then get, pause, get, resume, get, stop and get of the recording it
    made, at the api-version under test: every answer documented (status, media type, body,
    headers); every operation after the start refuses the same request unsigned or wrongly
    signed (schemathesis's ``ignored_auth`` probes); the last get, after the stop, answers
    404 8522."""
    steps = (
        "GetRecordingProperties",
        "PauseRecording",
        "GetRecordingProperties",
        "ResumeRecording",
        "GetRecordingProperties",
        "StopRecording",
        "GetRecordingProperties",
    )

    @hypothesis_settings(2)
    @given(data=st.data())
    def lifecycle(data: st.DataObject) -> None:
        start = data.draw(api.cases(START, POSITIVE), label="start")
        bind_start_case(start, provided_call, None, api.api_version)
        try:
            response = api.send(start, ACCEPTED)
            recording_id = recording_id_of(response)
            assert recording_id, (
                f"REC-START-001: the start answered no recordingId: {response.status_code} "
                f"{response.content[:200]!r}"
            )
            for step in steps:
                case = data.draw(
                    api.cases(
                        step, POSITIVE, path_parameters=api.path_parameters(step, recording_id)
                    ),
                    label=step,
                )
                response = api.send(case, AUTHENTICATED)
                names_its_recording(case, response, api.api_version)
        finally:
            api.release()
        got = (response.status_code, error_code(response, api.api_version))
        assert got == GONE, (
            f"REC-STATE-008: a get of a stopped recording: expected {GONE[0]} with code "
            f"{GONE[1]}; got {response.status_code} {response.content[:200]!r}"
        )

    lifecycle()


# ---------------------------------------------------------------- the links, stateful
@pytest.mark.requirement(
    "REC-START-001",
    "REC-GET-001",
    "REC-GET-002",
    "REC-PAUSE-002",
    "REC-RESUME-002",
    "REC-STOP-002",
    "REC-STATE-008",
)
def test_links_drive_real_recordings(
    api: Contract,
    provided_call: ProvidedCall,
    call_provider: CallProvider,
    hooks: Receiver,
) -> None:
    """Schemathesis's state machine follows the document's links (start -> get, pause, resume,
    stop; pause <-> resume; get -> ...) from generated starts on real calls: every answer is
    documented, and nothing but 404 8522 answers for a stopped recording. Bounded: a few short
    scenarios; each start gets a fresh call when the provider can make one, else the provided
    call (a second start on it is a documented 400)."""
    callback = hooks.url(hooks.channel())
    with contextlib.ExitStack() as calls:

        def next_call() -> ProvidedCall:
            if "fresh" in call_provider.capabilities:
                return calls.enter_context(call_provider.call())
            return provided_call

        machine = workflow(api, next_call, callback)
        try:
            machine.run(settings=hypothesis_settings(3, stateful_step_count=8))
        finally:
            api.release()  # before the calls end
