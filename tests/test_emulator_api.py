"""The emulator's recording API over HTTP: lifecycle per api-version, errors, repeatability,
async start and the version-specific shapes. Facts cite the requirement ids they check."""

from __future__ import annotations

import time
import uuid
from email.utils import formatdate
from typing import Any

import httpx
import pytest

import callrec
from callrec._specs import WRAPPED_ERROR_SCHEMA
from callrec.client import Client
from callrec.emulator import Running, Settings, serve
from callrec.specs import api_versions, error_schema, fields, profile
from tests.plugins.emulator import PARTICIPANTS

VERSIONS = api_versions()


def wait_state(client: Client, recording_id: str, state: str, version: str | None = None) -> None:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if client.get(recording_id, api_version=version).json()["recordingState"] == state:
            return
        time.sleep(0.01)
    raise AssertionError(f"{recording_id} never became {state}")


def start(
    client: Client, call: dict[str, Any], version: str | None = None, **options: Any
) -> httpx.Response:
    body = {
        "callLocator": {"kind": "serverCallLocator", "serverCallId": call["serverCallId"]},
        **options,
    }
    return client.start(body, api_version=version)


def error_code(response: httpx.Response, version: str | None = None) -> str:
    """The error code of an answer, in the error body shape of the version (the 2021
    conversations API answers the error object bare)."""
    schema = error_schema(version) if version else WRAPPED_ERROR_SCHEMA
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert callrec.validate(response.json(), schema, api_version=version) == []
    error = response.json() if schema != WRAPPED_ERROR_SCHEMA else response.json()["error"]
    code: str = error["code"]
    return code


def answers(version: str, operation: str) -> dict[int, str | None]:
    """Success status -> body schema of the operation in the version's profile."""
    success = profile(version)["operations"][operation]["success"]
    return {int(status): body for status, body in success.items()}


@pytest.mark.parametrize("version", VERSIONS)
def test_lifecycle_for_every_api_version(
    client: Client, call: dict[str, Any], version: str
) -> None:
    """Every generation's lifecycle, with its own success codes and bodies (CallingServer's
    200s and bare bodies, the conversations API's recordingInstanceId and flat errors)."""
    started = start(client, call, version)
    schema = answers(version, "StartRecording")[200]  # a start answered at once
    assert started.status_code == 200  # REC-START-001/002
    body = started.json()
    assert schema is not None
    assert callrec.validate(body, schema, api_version=version) == []
    if "recordingState" in fields(schema, version):
        assert body["recordingState"] == "inactive"  # REC-STATE-001
    assert ("recordingKind" in body) == ("recordingKind" in fields(schema, version))  # VERSION-004
    rid = body.get("recordingId") or body["recordingInstanceId"]
    assert set(rid) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )  # REC-ID-002
    wait_state(client, rid, "active", version)  # REC-STATE-002
    paused = client.pause(rid, api_version=version)
    assert (paused.status_code, paused.content, paused.headers["content-length"]) == (
        *answers(version, "PauseRecording"),
        b"",
        "0",
    )  # REC-PAUSE-001
    assert (
        client.get(rid, api_version=version).json()["recordingState"] == "inactive"
    )  # REC-STATE-004
    resumed = client.resume(rid, api_version=version)
    assert (resumed.status_code, resumed.content) == (
        *answers(version, "ResumeRecording"),
        b"",
    )  # REC-RESUME-001
    assert (
        client.get(rid, api_version=version).json()["recordingState"] == "active"
    )  # REC-STATE-005
    stopped = client.stop(rid, api_version=version)
    assert (stopped.status_code, stopped.content) == (
        *answers(version, "StopRecording"),
        b"",
    )  # REC-STOP-001
    for after in (client.get, client.pause, client.resume, client.stop):  # REC-STATE-008
        response = after(rid, api_version=version)
        assert (response.status_code, error_code(response, version)) == (404, "8522")


def test_pause_on_start_stays_inactive_until_resumed(client: Client, call: dict[str, Any]) -> None:
    rid = start(client, call, pauseOnStart=True).json()["recordingId"]
    time.sleep(0.2)  # well past the 0.05 s activation delay
    assert client.get(rid).json()["recordingState"] == "inactive"  # REC-STATE-003
    assert client.resume(rid).status_code == 202
    assert client.get(rid).json()["recordingState"] == "active"


def test_repeated_pause_and_resume_change_nothing(client: Client, call: dict[str, Any]) -> None:
    rid = start(client, call).json()["recordingId"]
    wait_state(client, rid, "active")
    assert client.resume(rid).status_code == 202  # REC-STATE-007
    assert client.get(rid).json()["recordingState"] == "active"
    assert client.pause(rid).status_code == 202
    assert client.pause(rid).status_code == 202  # REC-STATE-006
    assert client.get(rid).json()["recordingState"] == "inactive"


def test_percent_encoded_ids_name_the_same_recording(client: Client, call: dict[str, Any]) -> None:
    rid = start(client, call).json()["recordingId"]
    encoded = "".join(f"%{byte:02X}" for byte in rid.encode())
    response = client.request(
        "GET", f"/calling/recordings/{encoded}", params={"api-version": "2025-06-15"}
    )
    assert response.status_code == 200  # REC-ID-003
    assert response.json()["recordingId"] == rid
    odd = client.request(
        "GET", "/calling/recordings/a%2Fb%2Bc%3D", params={"api-version": "2025-06-15"}
    )
    assert (odd.status_code, error_code(odd)) == (404, "8522")  # REC-ID-004


def test_unknown_recording_names_the_path_as_target(client: Client) -> None:
    response = client.get("nope")
    assert (response.status_code, error_code(response)) == (404, "8522")  # REC-ERR-003
    assert response.json()["error"]["target"] == "/calling/recordings/nope"  # REC-ERR-004


def _ended_call(client: Client, call: dict[str, Any]) -> dict[str, Any]:
    client.end_call(call["serverCallId"])
    return call


@pytest.mark.parametrize(
    ("case", "version", "body", "status", "code"),
    [
        (
            "unknown call",
            None,
            {"callLocator": {"serverCallId": "dW5rbm93bg=="}},
            400,
            "8501",
        ),  # REC-ERR-005
        (
            "unknown group call",
            None,
            {"callLocator": {"kind": "groupCallLocator", "groupCallId": "x"}},
            400,
            "8501",
        ),
        (
            "room locator",
            "2024-09-15",
            {"callLocator": {"kind": "roomCallLocator", "roomId": "1"}},
            400,
            "8523",
        ),
        (
            "both targets",
            "2025-06-15",
            {"callLocator": {"serverCallId": "a"}, "callConnectionId": "b"},
            400,
            "8523",
        ),
        ("no target", "2025-06-15", {"pauseOnStart": True}, 400, "8523"),  # REC-VERSION-008
        (
            "no locator before 2025-05-15",
            "2024-09-15",
            {"pauseOnStart": True},
            400,
            "8523",
        ),  # REC-VERSION-009
        (
            "bad enum",
            None,
            {"callLocator": {"serverCallId": "a"}, "recordingFormatType": "ogg"},
            400,
            "8523",
        ),
        (
            "channel 5",
            None,
            {
                "callLocator": {"serverCallId": "a"},
                "channelAffinity": [{"channel": 5, "participant": PARTICIPANTS[0]}],
            },
            400,
            "8523",
        ),
        (
            "misspelled storage url",
            "2024-04-15",
            {
                "callLocator": {"serverCallId": "a"},
                "externalStorage": {
                    "recordingStorageKind": "azureBlobStorage",
                    "recordingDesintationContainerUrl": "https://x.blob/c",
                },
            },
            400,
            "8523",
        ),
    ],
)
def test_start_errors(
    client: Client, case: str, version: str | None, body: dict[str, Any], status: int, code: str
) -> None:
    response = client.start(body, api_version=version)
    assert (response.status_code, error_code(response)) == (status, code), (case, response.text)


@pytest.mark.parametrize(
    ("case", "options"),
    [
        (
            "unmixed video",
            {"recordingContentType": "audioVideo", "recordingChannelType": "unmixed"},
        ),
        ("audio mp4", {"recordingContentType": "audio", "recordingFormatType": "mp4"}),
        (
            "mixed pins",
            {
                "recordingChannelType": "mixed",
                "channelAffinity": [{"channel": 0, "participant": PARTICIPANTS[0]}],
            },
        ),
        (
            "pinned twice",
            {
                "recordingContentType": "audio",
                "recordingChannelType": "unmixed",
                "channelAffinity": [
                    {"channel": 0, "participant": PARTICIPANTS[0]},
                    {"channel": 1, "participant": PARTICIPANTS[0]},
                ],
            },
        ),
        (
            "channel twice",
            {
                "recordingContentType": "audio",
                "recordingChannelType": "unmixed",
                "channelAffinity": [
                    {"channel": 1, "participant": PARTICIPANTS[0]},
                    {"channel": 1, "participant": PARTICIPANTS[1]},
                ],
            },
        ),
        (
            "stranger",
            {
                "recordingContentType": "audio",
                "recordingChannelType": "unmixed",
                "channelAffinity": [
                    {"channel": 0, "participant": {"communicationUser": {"id": "8:acs:stranger"}}}
                ],
            },
        ),
    ],
)
def test_option_combinations_outside_the_documented_ones_are_refused(
    client: Client, call: dict[str, Any], case: str, options: dict[str, Any]
) -> None:
    response = start(client, call, **options)
    assert (response.status_code, error_code(response)) == (400, "8523"), case  # REC-OPTS-003/006


@pytest.mark.parametrize(
    "options",
    [
        {},
        {
            "recordingContentType": None,
            "recordingChannelType": None,
            "recordingFormatType": None,
        },  # REC-OPTS-004
        {
            "recordingContentType": "audio",
            "recordingChannelType": "mixed",
            "recordingFormatType": "mp3",
        },
        {
            "recordingContentType": "audio",
            "recordingChannelType": "unmixed",
            "recordingFormatType": "wav",
            "channelAffinity": [{"channel": 4, "participant": PARTICIPANTS[1]}],
            "audioChannelParticipantOrdering": [PARTICIPANTS[0]],
        },
        {"channelAffinity": []},  # REC-OPTS-007
    ],
)
def test_documented_options_are_accepted(
    client: Client, call: dict[str, Any], options: dict[str, Any]
) -> None:
    assert start(client, call, **options).status_code == 200


def test_start_on_an_ended_call_is_8501(client: Client, call: dict[str, Any]) -> None:
    response = start(client, _ended_call(client, call))
    assert (response.status_code, error_code(response)) == (400, "8501")


def test_second_start_on_a_recorded_call_is_refused_and_changes_nothing(
    client: Client, call: dict[str, Any]
) -> None:
    first = start(client, call).json()["recordingId"]
    second = start(client, call)
    assert (second.status_code, error_code(second)) == (400, "8553")  # REC-ERR-007
    assert client.get(first).status_code == 200  # REC-STATE-009


def test_start_by_call_connection_and_group_call(client: Client) -> None:
    group = client.create_call(PARTICIPANTS, kind="groupCall")
    by_group = client.start(
        {"callLocator": {"kind": "groupCallLocator", "groupCallId": group["groupCallId"]}}
    )
    assert by_group.status_code == 200
    other = client.create_call(PARTICIPANTS)
    by_connection = client.start(
        {"callConnectionId": other["callConnectionId"]}, api_version="2025-05-15"
    )
    assert by_connection.status_code == 200  # REC-VERSION-007


def test_a_field_the_version_lacks_is_refused_unless_loose(
    client: Client, call: dict[str, Any]
) -> None:
    strict = start(client, call, "2023-10-15", pauseOnStart=True)
    assert (strict.status_code, error_code(strict)) == (400, "8523")
    assert "pauseOnStart" in strict.json()["error"]["message"]
    with serve(Settings(loose=True)) as loose, Client(loose) as other:
        loose_call = other.create_call(PARTICIPANTS)
        assert start(other, loose_call, "2023-10-15", pauseOnStart=True).status_code == 200


@pytest.mark.parametrize(
    ("params", "code"),
    [({}, "MissingApiVersionParameter"), ({"api-version": "2020-01-01"}, "UnsupportedApiVersion")],
)
def test_api_version_is_required_and_checked(
    client: Client, params: dict[str, str], code: str
) -> None:
    response = client.request("GET", "/calling/recordings/x", params=params)
    assert (response.status_code, error_code(response)) == (400, code)  # REC-VERSION-002/003
    assert "2025-06-15" in response.json()["error"]["message"]


def test_preview_result_exists_only_in_the_preview(client: Client, call: dict[str, Any]) -> None:
    rid = start(client, call).json()["recordingId"]
    on_ga = client.result(rid, api_version="2025-06-15")
    assert (on_ga.status_code, error_code(on_ga)) == (404, "NotFound")
    client.stop(rid)
    result = client.result(rid)
    assert result.status_code == 200  # answers after stop too
    assert (
        callrec.validate(result.json(), "RecordingResultResponse", api_version="2025-08-15-preview")
        == []
    )


def test_wrong_key_is_401_with_code_401(emulator: Running, call: dict[str, Any]) -> None:
    wrong = f"endpoint={emulator.endpoint}/;accesskey=" + "QUJD" * 16
    with Client(wrong) as stranger:
        response = stranger.get("x")
    assert (response.status_code, error_code(response)) == (401, "401")  # REC-AUTH-002
    assert response.json()["error"]["message"] == "HMAC-SHA256 validation failed"


# ------------------------------------------------------------------------ repeatability
def _repeatable(request_id: str) -> dict[str, str]:
    return {
        "Repeatability-Request-ID": request_id,
        "Repeatability-First-Sent": formatdate(usegmt=True),
    }


def test_repeated_request_id_returns_the_first_answer(client: Client, call: dict[str, Any]) -> None:
    body = {"callLocator": {"serverCallId": call["serverCallId"]}}
    headers = _repeatable(str(uuid.uuid4()))
    first = client.start(body, headers=headers)
    again = client.start(body, headers=headers)
    assert first.headers["Repeatability-Result"] == "accepted"  # REC-REPEAT-002
    assert (again.status_code, again.json()) == (first.status_code, first.json())  # REC-REPEAT-004
    fresh = client.start(body, headers=_repeatable(str(uuid.uuid4())))
    assert (fresh.status_code, error_code(fresh)) == (
        400,
        "8553",
    )  # only one recording exists (REC-REPEAT-003)


@pytest.mark.parametrize(
    "headers",
    [
        {"Repeatability-Request-ID": str(uuid.uuid4())},
        {"Repeatability-Request-ID": "not-a-uuid", "Repeatability-First-Sent": "x"},
    ],
)
def test_incomplete_or_bad_repeatability_headers_are_400(
    client: Client, call: dict[str, Any], headers: dict[str, str]
) -> None:
    response = client.start(
        {"callLocator": {"serverCallId": call["serverCallId"]}}, headers=headers
    )
    assert (response.status_code, error_code(response)) == (400, "8523")  # REC-REPEAT-005


# ------------------------------------------------------------------------ async start
def test_async_start_answers_202_only_where_the_version_allows() -> None:
    with (
        serve(Settings(async_start=True, activation_delay=0)) as running,
        Client(running) as client,
    ):
        call = client.create_call(PARTICIPANTS)
        old = start(client, call, "2024-09-15")
        assert old.status_code == 200  # REC-START-002
        client.stop(old.json()["recordingId"], api_version="2024-09-15")
        new = start(client, call, "2025-06-15")
        assert new.status_code == 202  # REC-START-003
        assert (
            callrec.validate(new.json(), "RecordingStateResponse", api_version="2025-06-15") == []
        )
