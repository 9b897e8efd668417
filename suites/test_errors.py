"""Error answers (contract §3): unknown and stopped recordings, calls that cannot be recorded,
bad bodies and options, bad api-versions, percent-encoded ids. Every error is a compact
CommunicationErrorResponse and never a status the SDKs retry (checked by
`suites.support.check_error_answer` on each answer)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pytest

from callrec.auth import path_quote
from callrec.client import Client
from callrec.conformance import CallProvider, NotApplicable, ProvidedCall
from callrec.conformance.plugin import needs
from callrec.specs import (
    api_versions,
    enum_values,
    fields,
    profile,
    requirements,
    takes_api_version,
)
from suites.support import (
    RETRIED_STATUSES,
    answers_with,
    catalog_error,
    check_error_answer,
    excerpt,
    locator,
    names_call_in_path,
    require,
    start_recording,
    started_id,
    success_statuses,
    unknown_recording_id,
)

# Catalog rows with an observed or documented source (specs/errors.yaml), as (status, code).
NOT_FOUND: Final = catalog_error("recording-not-found")  # observed: 404 8522
NOT_ESTABLISHED: Final = catalog_error("call-not-established")  # observed: 400 8501
INVALID: Final = catalog_error("invalid-request")  # documented: 400 8523
ROUTE_NOT_FOUND: Final = catalog_error("route-not-found")  # a callrec decision: 404

# The operations that name a recording in their path: Client method names.
RECORDING_OPERATIONS: Final = ("get", "stop", "pause", "resume")
BASE64URL: Final = re.compile(r"^[A-Za-z0-9_-]+$")


def _operate(client: Client, operation: str, recording_id: str) -> Any:
    return getattr(client, operation)(recording_id)


def _unknown_server_call_id() -> str:
    """Standard base64 of a conversation URL, shaped like real server call ids."""
    url = f"https://callrec.invalid/conv/{uuid.uuid4()}?i=7&e=1"
    return base64.b64encode(url.encode()).decode()


# ---------------------------------------------------------------- unknown and stopped recordings
@pytest.mark.requirement("REC-ERR-003", "REC-ERR-001", "REC-ERR-002", "REC-ERR-013")
@pytest.mark.parametrize("operation", RECORDING_OPERATIONS)
def test_unknown_recording_is_not_found(
    target_client: Client, api_version: str, operation: str
) -> None:
    answer = _operate(target_client, operation, unknown_recording_id())
    check_error_answer(
        answer,
        api_version,
        rule="REC-ERR-003",
        what=f"{operation} of an unknown recording id",
        status=NOT_FOUND[0],
        codes=[NOT_FOUND[1]],
    )


@pytest.mark.requirement("REC-ERR-004")
@pytest.mark.parametrize("operation", RECORDING_OPERATIONS)
def test_not_found_names_the_path(target_client: Client, api_version: str, operation: str) -> None:
    answer = _operate(target_client, operation, unknown_recording_id())
    error = check_error_answer(
        answer,
        api_version,
        rule="REC-ERR-003",
        what=f"{operation} of an unknown recording id",
        status=NOT_FOUND[0],
        codes=[NOT_FOUND[1]],
    )
    url = answer.request.url
    path = url.raw_path.decode("ascii").split("?", 1)[0]
    accepted = {path, url.path, url.raw_path.decode("ascii")}
    require(
        error.get("target") in accepted,
        f"REC-ERR-004: {operation} of an unknown recording id: expected error.target to be the "
        f"request path {path!r}; got {error.get('target')!r}",
    )


@pytest.mark.requirement("REC-STATE-008", "REC-ERR-003", "REC-ERR-001")
def test_stopped_recording_is_gone(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    _, recording_id = start_recording(target_client, provided_call)
    stopped = target_client.stop(recording_id)
    require(
        stopped.status_code in success_statuses(api_version, "StopRecording"),
        f"REC-STOP-001: the first stop of a recording: expected 204; got {excerpt(stopped)}",
    )
    for operation in RECORDING_OPERATIONS:
        check_error_answer(
            _operate(target_client, operation, recording_id),
            api_version,
            rule="REC-STATE-008",
            what=f"{operation} of a stopped recording",
            status=NOT_FOUND[0],
            codes=[NOT_FOUND[1]],
        )


# ---------------------------------------------------------------- recording ids in paths
@pytest.mark.requirement("REC-ID-004", "REC-ERR-001")
def test_encoded_unknown_id_is_not_found(target_client: Client, api_version: str) -> None:
    plain = unknown_recording_id()
    for recording_id in (f"{plain}==", f"{plain[:24]}+/{plain[24:]}="):
        for operation in RECORDING_OPERATIONS:
            check_error_answer(
                _operate(target_client, operation, recording_id),  # sent percent-encoded
                api_version,
                rule="REC-ID-004",
                what=f"{operation} of the unknown id {recording_id!r} (percent-encoded)",
                status=NOT_FOUND[0],
                codes=[NOT_FOUND[1]],
            )


@pytest.mark.requirement("REC-ID-003")
def test_encoded_id_names_the_same_recording(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    _, recording_id = start_recording(target_client, provided_call)
    encoded = "".join(f"%{byte:02X}" for byte in recording_id.encode())
    path = target_client.operation_path(
        "GetRecordingProperties",
        recording_id="{id}",
        conversation=target_client.conversations.get(recording_id),
    ).replace("%7Bid%7D", encoded)
    version = target_client.api_version_query()
    try:
        got = target_client.request("GET", path, params=version)
        body = got.json() if got.status_code == 200 else {}
        named = answers_with(api_version, "GetRecordingProperties", "recordingId")
        require(
            body.get("recordingId") == recording_id if named else got.status_code == 200,
            "REC-ID-003: a get naming the recording with every character of its id "
            f"percent-encoded: expected 200 for {recording_id!r}; got {excerpt(got)}",
        )
        stopped = target_client.request("DELETE", path, params=version)
        require(
            stopped.status_code in success_statuses(api_version, "StopRecording"),
            f"REC-ID-003: a stop through the percent-encoded id: expected 204; "
            f"got {excerpt(stopped)}",
        )
    finally:
        target_client.stop(recording_id)
    check_error_answer(
        target_client.get(recording_id),
        api_version,
        rule="REC-ID-003",
        what="a get with the plain id after a stop through the percent-encoded id",
        status=NOT_FOUND[0],
        codes=[NOT_FOUND[1]],
    )


def _id_problems(recording_id: str) -> list[str]:
    """Why a recording id is not unpadded base64url of {PlatformEndpointId, ResourceSpecificId}."""
    if not BASE64URL.match(recording_id):
        return [f"REC-ID-002: {recording_id!r} holds characters outside A-Z a-z 0-9 - _"]
    try:
        decoded = json.loads(
            base64.urlsafe_b64decode(recording_id + "=" * (-len(recording_id) % 4))
        )
    except (binascii.Error, ValueError):
        return [f"REC-ID-001: {recording_id!r} is not base64url of JSON"]
    problems = []
    for name in ("PlatformEndpointId", "ResourceSpecificId"):
        value = decoded.get(name) if isinstance(decoded, dict) else None
        try:
            uuid.UUID(str(value))
        except ValueError:
            problems.append(f"REC-ID-001: {recording_id!r} decodes to {decoded!r}: no UUID {name}")
    return problems


@pytest.mark.requirement("REC-ID-001", "REC-ID-002", "REC-ID-005")
def test_recording_ids_are_base64url_json(
    target_client: Client, provided_call: ProvidedCall
) -> None:
    seen: list[str] = []
    for _ in range(2):  # two recordings of one call, one after the other
        _, recording_id = start_recording(target_client, provided_call)
        target_client.stop(recording_id)
        seen.append(recording_id)
    problems = [problem for recording_id in seen for problem in _id_problems(recording_id)]
    require(not problems, "; ".join(problems))
    require(
        seen[0] != seen[1],
        f"REC-ID-005: two starts handed out the same recordingId {seen[0]!r}",
    )


# ---------------------------------------------------------------- calls that cannot be recorded
def _check_not_established(answer: Any, api_version: str, what: str) -> None:
    if answer.status_code == 202 and 202 in success_statuses(api_version, "StartRecording"):
        raise NotApplicable(
            f"{what}: the target accepted the start for later (202) and reports the failure by "
            "callback (REC-CALLBACK-008)"
        )
    check_error_answer(
        answer,
        api_version,
        rule="REC-ERR-005",
        what=what,
        status=NOT_ESTABLISHED[0],
        codes=[NOT_ESTABLISHED[1]],
    )


UNKNOWN_CALLS: Final[dict[str, Callable[[], dict[str, Any]]]] = {
    "serverCallLocator": lambda: {
        "callLocator": {"kind": "serverCallLocator", "serverCallId": _unknown_server_call_id()}
    },
    "groupCallLocator": lambda: {
        "callLocator": {"kind": "groupCallLocator", "groupCallId": str(uuid.uuid4())}
    },
    "callConnectionId": lambda: {"callConnectionId": str(uuid.uuid4())},
}


@pytest.mark.requirement("REC-ERR-005", "REC-ERR-001")
@pytest.mark.parametrize("named_by", list(UNKNOWN_CALLS))
def test_start_on_unknown_call(target_client: Client, api_version: str, named_by: str) -> None:
    body = UNKNOWN_CALLS[named_by]()
    field = next(iter(body))
    if field not in fields("StartCallRecordingRequest", api_version):
        raise NotApplicable(f"api-version {api_version} has no {field}")
    answer = target_client.start(body)
    _check_not_established(answer, api_version, f"a start naming an unknown call by {named_by}")


@pytest.mark.requirement("REC-ERR-005", "REC-ERR-001")
def test_start_on_ended_call(
    target_client: Client,
    api_version: str,
    call_provider: CallProvider,
    provided_call: ProvidedCall,
) -> None:
    needs(call_provider, "end", "a start on an ended call needs a call to end")
    call_provider.end(provided_call)
    answer = target_client.start({"callLocator": locator(provided_call)})
    _check_not_established(answer, api_version, "a start on a call that has ended")


# ---------------------------------------------------------------- bad bodies and options
Body = Callable[[ProvidedCall], Any]  # JSON, or bytes sent as they are


def _unmixed(call: ProvidedCall, **more: Any) -> dict[str, Any]:
    return {
        "callLocator": locator(call),
        "recordingContentType": "audio",
        "recordingChannelType": "unmixed",
        "recordingFormatType": "wav",
        **more,
    }


def _pin(call: ProvidedCall, **pin: Any) -> dict[str, Any]:
    if not call.participants:
        raise NotApplicable("channelAffinity needs a call with known participants")
    return _unmixed(call, channelAffinity=[{"participant": call.participants[0], **pin}])


@dataclass(frozen=True)
class BadStart:
    """A start the endpoint must refuse with 400 8523. ``requirements``: what the case checks
    (the first that applies to the version names a failure); ``call``: the body names a real
    call, so the only thing wrong with it is what the case is about."""

    requirements: tuple[str, ...]
    body: Body
    call: bool = True


BAD_STARTS: Final[dict[str, BadStart]] = {
    "truncated-json": BadStart(
        ("REC-ERR-006",), lambda _: b'{"callLocator": {"kind": "serverCallLocator", ', call=False
    ),
    "not-json": BadStart(("REC-ERR-006",), lambda _: b"record this call, please", call=False),
    "empty-body": BadStart(("REC-ERR-006",), lambda _: b"", call=False),
    "not-utf8": BadStart(("REC-ERR-006",), lambda _: b'{"callLocator": "\xff\xfe"}', call=False),
    "deeply-nested": BadStart(("REC-ERR-006",), lambda _: b"[" * 5000 + b"]" * 5000, call=False),
    "json-string": BadStart(("REC-ERR-006",), lambda _: b'"serverCallLocator"', call=False),
    "json-array": BadStart(("REC-ERR-006",), lambda c: [{"callLocator": locator(c)}]),
    "callLocator-string": BadStart(
        ("REC-ERR-006",), lambda _: {"callLocator": "serverCallLocator"}, call=False
    ),
    "serverCallId-number": BadStart(
        ("REC-ERR-006",),
        lambda _: {"callLocator": {"kind": "serverCallLocator", "serverCallId": 12345}},
        call=False,
    ),
    "channelType-number": BadStart(
        ("REC-ERR-006",), lambda c: {"callLocator": locator(c), "recordingChannelType": 1}
    ),
    "callbackUri-number": BadStart(
        ("REC-ERR-006",), lambda c: {"callLocator": locator(c), "recordingStateCallbackUri": 42}
    ),
    "ordering-string": BadStart(
        ("REC-ERR-006",),
        lambda c: {"callLocator": locator(c), "audioChannelParticipantOrdering": "8:acs:x"},
    ),
    "affinity-object": BadStart(
        ("REC-ERR-006",), lambda c: _unmixed(c, channelAffinity={"channel": 0})
    ),
    "no-call-named": BadStart(
        ("REC-VERSION-008", "REC-VERSION-009", "REC-ERR-006"),
        lambda _: {"recordingContentType": "audio", "recordingFormatType": "wav"},
        call=False,
    ),
    "both-call-names": BadStart(
        ("REC-VERSION-008",),
        lambda c: {
            "callLocator": locator(c),
            "callConnectionId": c.call_connection_id or str(uuid.uuid4()),
        },
    ),
    "unmixed-mp3": BadStart(("REC-OPTS-003",), lambda c: _unmixed(c, recordingFormatType="mp3")),
    "unmixed-video": BadStart(
        ("REC-OPTS-003",),
        lambda c: _unmixed(c, recordingContentType="audioVideo", recordingFormatType="mp4"),
    ),
    "affinity-channel-5": BadStart(("REC-OPTS-006",), lambda c: _pin(c, channel=5)),
    "affinity-channel-negative": BadStart(("REC-OPTS-006",), lambda c: _pin(c, channel=-1)),
    "affinity-without-participant": BadStart(
        ("REC-OPTS-006",),
        lambda c: _unmixed(c, channelAffinity=[{"channel": 0}]),
    ),
}


# the cases about how a start body names its call (callLocator, callConnectionId)
NAMING_THE_CALL: Final = frozenset({"serverCallId-number", "no-call-named", "both-call-names"})


def _applying(rules: tuple[str, ...], api_version: str) -> str:
    """The first of ``rules`` that applies to the version; `NotApplicable` when none does."""
    versions = {entry["id"]: entry["versions"] for entry in requirements()}
    for rule in rules:
        if versions[rule] == "all" or api_version in versions[rule]:
            return rule
    raise NotApplicable(f"{', '.join(rules)}: not a requirement of api-version {api_version}")


def _stop_if_started(client: Client, answer: Any) -> None:
    """Stop what a start that should have been refused started anyway (calls are shared)."""
    if answer.status_code < 300 and answer.content:
        recording_id = started_id(answer.json())
        if recording_id is not None:
            client.stop(recording_id)


# The marks are per case; the one on the function lets the plugin parametrize the versions.
@pytest.mark.requirement("REC-ERR-001")
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(name, marks=pytest.mark.requirement(*bad.requirements), id=name)
        for name, bad in BAD_STARTS.items()
    ],
)
def test_bad_start_is_refused(
    target_client: Client, api_version: str, request: pytest.FixtureRequest, case: str
) -> None:
    bad = BAD_STARTS[case]
    rule = _applying(bad.requirements, api_version)
    if case in NAMING_THE_CALL and names_call_in_path(api_version):
        raise NotApplicable(f"api-version {api_version} names the call in the path, not the body")
    call: ProvidedCall = (
        request.getfixturevalue("provided_call") if bad.call else ProvidedCall("(none)")
    )
    body = bad.body(call)
    if isinstance(body, bytes):
        answer = target_client.request(
            "POST",
            target_client.operation_path("StartRecording", conversation=call.server_call_id),
            content=body,
            headers={"content-type": "application/json"},
            params={"api-version": api_version},
        )
    else:
        answer = target_client.start(body)
    try:
        check_error_answer(
            answer,
            api_version,
            rule=rule,
            what=f"a start with a bad body ({case})",
            status=INVALID[0],
            codes=[INVALID[1]],
        )
    finally:
        _stop_if_started(target_client, answer)


# ---------------------------------------------------------------- api-version
API_VERSION_CASES: Final = {
    "missing": ("REC-VERSION-002", None),
    "unknown": ("REC-VERSION-003", "2099-01-01"),
    "malformed": ("REC-VERSION-003", "latest"),
}


@pytest.mark.requirement("REC-ERR-001")
@pytest.mark.parametrize("operation", ["get", "start"])
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(name, marks=pytest.mark.requirement(rule), id=name)
        for name, (rule, _) in API_VERSION_CASES.items()
    ],
)
def test_bad_api_version_is_refused(
    target_client: Client,
    api_version: str,
    request: pytest.FixtureRequest,
    case: str,
    operation: str,
) -> None:
    rule, value = API_VERSION_CASES[case]
    if not target_client.api_version_query():
        raise NotApplicable(f"{rule}: api-version {api_version} takes no api-version parameter")
    params = {} if value is None else {"api-version": value}
    if operation == "get":
        answer = target_client.request(
            "GET", f"/calling/recordings/{unknown_recording_id()}", params=params
        )
    else:
        call: ProvidedCall = request.getfixturevalue("provided_call")
        answer = target_client.request(
            "POST", "/calling/recordings", json={"callLocator": locator(call)}, params=params
        )
    try:
        check_error_answer(
            answer,
            api_version,
            rule=rule,
            what=f"a {operation} with the api-version {case} ({value!r})",
            status=400,
        )
    finally:
        _stop_if_started(target_client, answer)


# ---------------------------------------------------------------- other client mistakes
# Requests that are wrong however often they are sent: any 4xx but 408 or 429 will do.
MISTAKES: Final[dict[str, tuple[str, str, bytes | None, dict[str, str]]]] = {
    "wrong-method": ("PUT", "/calling/recordings/{id}", None, {}),
    "unknown-action": ("POST", "/calling/recordings/{id}:explode", None, {}),
    "text-body": (
        "POST",
        "/calling/recordings",
        b"callLocator=serverCallLocator",
        {"content-type": "text/plain"},
    ),
    "very-long-id": ("GET", "/calling/recordings/" + "A" * 6000, None, {}),
    "json-null": ("POST", "/calling/recordings", b"null", {"content-type": "application/json"}),
}


@pytest.mark.requirement("REC-ERR-013")
@pytest.mark.parametrize("case", list(MISTAKES))
def test_client_mistake_gets_no_retryable_status(
    target_client: Client, api_version: str, case: str
) -> None:
    method, template, content, headers = MISTAKES[case]
    path = template.replace("{id}", unknown_recording_id())
    answer = target_client.request(
        method, path, content=content, headers=headers, params={"api-version": api_version}
    )
    got = answer.status_code
    require(
        400 <= got < 500 and got not in RETRIED_STATUSES,
        f"REC-ERR-013: {method} {template} ({case}): expected a 4xx other than 408 and 429; "
        f"got {excerpt(answer)}",
    )


def _foreign_paths(api_version: str, operation: str) -> list[str]:
    """The path templates other api-versions serve ``operation`` at, that this one does not."""
    own = profile(api_version)["operations"].get(operation, {}).get("path")
    return sorted(
        {
            str(p["operations"][operation]["path"])
            for p in map(profile, api_versions())
            if operation in p["operations"]
            and p["operations"][operation]["path"] != own
            and takes_api_version(p["apiVersion"])  # a path of its own API, not a version's
        }
    )


@pytest.mark.requirement("REC-VERSION-012")
@pytest.mark.parametrize("operation", ["PauseRecording", "ResumeRecording"])
def test_another_generations_path_form_is_not_an_operation(
    target_client: Client, api_version: str, provided_call: ProvidedCall, operation: str
) -> None:
    if not target_client.api_version_query():
        raise NotApplicable(f"api-version {api_version} is named by its paths alone")
    foreign = _foreign_paths(api_version, operation)
    if not foreign:
        raise NotApplicable(f"every api-version serves {operation} where {api_version} does")
    _, recording_id = start_recording(target_client, provided_call)
    try:
        before = target_client.get(recording_id)
        for template in foreign:
            path = template.format(recordingId=path_quote(recording_id))
            answer = target_client.request("POST", path, params={"api-version": api_version})
            check_error_answer(
                answer,
                api_version,
                rule="REC-VERSION-012",
                what=f"{operation} at {template} (another api-version's path form)",
                status=ROUTE_NOT_FOUND[0],
            )
        after = target_client.get(recording_id)
        require(
            after.status_code == before.status_code
            and after.json().get("recordingState") == before.json().get("recordingState"),
            f"REC-VERSION-012: the refused {operation} changed the recording: "
            f"{excerpt(before)} before, {excerpt(after)} after",
        )
    finally:
        target_client.stop(recording_id)


@pytest.mark.requirement("REC-VERSION-013")
def test_external_storage_of_another_generation_is_refused(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    present = set(fields("ExternalStorage", api_version))
    # each shape's storage-naming field, sent with its first value (the service's own storage)
    shapes = {
        "recordingStorageKind": enum_values("RecordingStorageKind")[0],
        "storageType": enum_values("RecordingStorageType")[0],
    }
    foreign = {name: value for name, value in shapes.items() if name not in present}
    if not foreign or "externalStorage" not in fields("StartCallRecordingRequest", api_version):
        raise NotApplicable(f"api-version {api_version} has no externalStorage of its own")
    for name, value in foreign.items():
        body = {"callLocator": locator(provided_call), "externalStorage": {name: value}}
        answer = target_client.start(body)
        try:
            check_error_answer(
                answer,
                api_version,
                rule="REC-VERSION-013",
                what=f"a start whose externalStorage names {name} (another api-version's shape)",
                status=INVALID[0],
                codes=[INVALID[1]],
            )
        finally:
            _stop_if_started(target_client, answer)


# a valid value of each start field a later version adds, sent to a version without it
LATER_FIELD_VALUES: Final[dict[str, Any]] = {
    "audioChannelParticipantOrdering": [],
    "channelAffinity": [],
    "pauseOnStart": False,
    "callConnectionId": "6a50d377-e9b5-44ee-b749-caf0394c022d",
}


def _later_fields(api_version: str) -> list[str]:
    """Start fields later api-versions have and this one lacks."""
    versions = api_versions()
    own = set(fields("StartCallRecordingRequest", api_version))
    later = {
        name
        for version in versions[versions.index(api_version) + 1 :]
        for name in fields("StartCallRecordingRequest", version)
    }
    return sorted(later - own)


def _later_value(name: str) -> Any:
    if name == "externalStorage":  # the GA shape: the service's own storage
        return {"recordingStorageKind": enum_values("RecordingStorageKind")[0]}
    return LATER_FIELD_VALUES[name]


@pytest.mark.requirement("REC-VERSION-014")
def test_a_later_versions_start_field_is_refused(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    if names_call_in_path(api_version):
        raise NotApplicable(f"api-version {api_version} has a start request of its own")
    later = _later_fields(api_version)
    if not later:
        raise NotApplicable(f"no later api-version adds a start field to {api_version}")
    for name in later:
        answer = target_client.start(
            {"callLocator": locator(provided_call), name: _later_value(name)}
        )
        try:
            check_error_answer(
                answer,
                api_version,
                rule="REC-VERSION-014",
                what=f"a start carrying {name}, which only later api-versions have",
                status=INVALID[0],
                codes=[INVALID[1]],
            )
        finally:
            _stop_if_started(target_client, answer)


@pytest.mark.requirement("REC-VERSION-004")
def test_recording_kind_is_there_exactly_where_the_version_has_it(
    target_client: Client, api_version: str, provided_call: ProvidedCall
) -> None:
    started, recording_id = start_recording(target_client, provided_call)
    try:
        for what, answer, operation in (
            ("start", started, "StartRecording"),
            ("get", target_client.get(recording_id), "GetRecordingProperties"),
        ):
            has = answers_with(api_version, operation, "recordingKind")
            body = answer.json()
            require(
                ("recordingKind" in body) == has,
                f"REC-VERSION-004: the {what} answer of api-version {api_version} should "
                f"{'carry' if has else 'not carry'} recordingKind; got {excerpt(answer)}",
            )
    finally:
        target_client.stop(recording_id)
