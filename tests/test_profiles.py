"""Validation as of an api-version follows that version's profile. Each row is a fact from
the contract digest: (schema, payload, versions that accept it, versions that reject it and
the pointer the failure names)."""

from __future__ import annotations

from typing import Any

import pytest

import callrec

LOCATOR = {"kind": "serverCallLocator", "serverCallId": "aHR0cHM6Ly9leGFtcGxlLmNvbS9jb252LzE="}
OLD = ["2023-03-06", "2023-10-15"]
MID = ["2024-04-15", "2024-09-15"]
NEW = ["2025-05-15", "2025-06-15", "2025-08-15-preview", "2026-03-12"]
USER = {"rawId": "8:acs:r_1", "communicationUser": {"id": "8:acs:r_1"}}
STATE_CHANGED = {
    "id": "e1",
    "source": "calling/recordings/r",
    "specversion": "1.0",
    "type": "Microsoft.Communication.RecordingStateChanged",
}

CASES: list[tuple[str, str, Any, list[str], list[str], str]] = [
    (
        "pauseOnStart from 2024-04-15",
        "StartCallRecordingRequest",
        {"callLocator": LOCATOR, "pauseOnStart": True},
        MID + NEW,
        OLD,
        "/pauseOnStart",
    ),
    (
        "externalStorage from 2024-04-15",
        "StartCallRecordingRequest",
        {
            "callLocator": LOCATOR,
            "externalStorage": {"recordingStorageKind": "azureCommunicationServices"},
        },
        MID + NEW,
        OLD,
        "/externalStorage",
    ),
    (
        "callConnectionId from 2025-05-15",
        "StartCallRecordingRequest",
        {"callConnectionId": "c0ffee00-0000-4000-8000-000000000001"},
        NEW,
        OLD + MID,
        "/callConnectionId",
    ),
    (
        "callLocator required before 2025-05-15",
        "StartCallRecordingRequest",
        {"recordingStateCallbackUri": "https://example.com/cb"},
        [],
        OLD + MID + NEW,
        "",
    ),
    (
        "room locator from 2024-09-15",
        "CallLocator",
        {"kind": "roomCallLocator", "roomId": "99466898241024408"},
        ["2024-09-15", *NEW],
        [*OLD, "2024-04-15"],
        "/kind",
    ),
    (
        "unknown locator kind only in 2024-09-15",
        "CallLocator",
        {"kind": "unknown", "serverCallId": "abc"},
        ["2024-09-15"],
        [*OLD, "2024-04-15", *NEW],
        "/kind",
    ),
    (
        "recordingKind in responses from 2024-04-15",
        "RecordingStateResponse",
        {"recordingId": "r", "recordingState": "active", "recordingKind": "teams"},
        MID + NEW,
        OLD,
        "/recordingKind",
    ),
    (
        "Teams app identifier from 2024-04-15",
        "CommunicationIdentifierModel",
        {"kind": "microsoftTeamsApp", "microsoftTeamsApp": {"appId": "a"}},
        MID + NEW,
        OLD,
        "/microsoftTeamsApp",
    ),
    (
        "Teams extension user from 2025-05-15",
        "CommunicationIdentifierModel",
        {"teamsExtensionUser": {"userId": "u", "tenantId": "t"}},
        NEW,
        OLD + MID,
        "/teamsExtensionUser",
    ),
    (
        "anonymous phone numbers from 2025-05-15",
        "PhoneNumberIdentifierModel",
        {"value": "anonymous", "isAnonymous": True},
        NEW,
        OLD + MID,
        "/isAnonymous",
    ),
    (
        "resultInformation in RecordingStateChanged from 2024-09-15",
        "RecordingStateChangedCloudEvent",
        {
            **STATE_CHANGED,
            "data": {"recordingId": "r", "state": "active", "resultInformation": {"code": 200}},
        },
        ["2024-09-15", *NEW],
        [*OLD, "2024-04-15"],
        "/data/resultInformation",
    ),
    (
        "operationContext in RecordingStateChanged only in 2024-09-15",
        "RecordingStateChangedCloudEvent",
        {**STATE_CHANGED, "data": {"recordingId": "r", "state": "active", "operationContext": "x"}},
        ["2024-09-15"],
        [*OLD, "2024-04-15", *NEW],
        "/data/operationContext",
    ),
    (
        "StartRecordingFailed from 2025-05-15",
        "StartRecordingFailedCloudEvent",
        {
            **STATE_CHANGED,
            "type": "Microsoft.Communication.StartRecordingFailed",
            "data": {"recordingId": "r"},
        },
        NEW,
        OLD + MID,
        "",
    ),
    (
        "preview result only in the preview",
        "RecordingResultResponse",
        {"recordingId": "r"},
        ["2025-08-15-preview"],
        [*OLD, *MID, "2025-05-15", "2025-06-15", "2026-03-12"],
        "",
    ),
    (
        "2024 event version requires the type fields",
        "RecordingFileStatusUpdatedData",
        {
            "recordingStorageInfo": {
                "recordingChunks": [
                    {
                        "documentId": "d",
                        "index": 0,
                        "contentLocation": "https://s/a",
                        "metadataLocation": "https://s/m",
                        "deleteLocation": "https://s/d",
                    }
                ]
            }
        },
        OLD,
        MID + NEW,
        "",
    ),
]


@pytest.mark.parametrize(
    ("fact", "schema", "payload", "accepted", "rejected", "pointer"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_version_profile(
    fact: str, schema: str, payload: Any, accepted: list[str], rejected: list[str], pointer: str
) -> None:
    for version in accepted:
        assert callrec.validate(payload, schema, api_version=version) == [], (fact, version)
    for version in rejected:
        failures = callrec.validate(payload, schema, api_version=version)
        assert any(f.pointer == pointer for f in failures), (fact, version, failures)


def test_a_field_a_version_lacks_is_named_in_plain_words() -> None:
    [failure] = callrec.validate(
        {"callLocator": LOCATOR, "pauseOnStart": True},
        "StartCallRecordingRequest",
        api_version="2023-10-15",
    )
    assert (
        failure.message
        == "`pauseOnStart` is not part of StartCallRecordingRequest in api-version 2023-10-15"
    )


def test_a_schema_a_version_lacks_says_so() -> None:
    [failure] = callrec.validate(
        {"recordingId": "r"}, "RecordingResultResponse", api_version="2025-06-15"
    )
    assert failure.message == "RecordingResultResponse does not exist in api-version 2025-06-15"
    assert failure.pointer == ""


def test_without_a_version_the_union_of_all_versions_applies() -> None:
    assert (
        callrec.validate(
            {"callLocator": LOCATOR, "pauseOnStart": True, "callConnectionId": None},
            "StartCallRecordingRequest",
        )
        != []
    )  # both targets: never valid
    assert (
        callrec.validate(
            {"callConnectionId": "c", "pauseOnStart": True}, "StartCallRecordingRequest"
        )
        == []
    )


def test_user_identifiers_with_python_and_js_shapes_are_accepted_everywhere() -> None:
    for version in OLD + MID + NEW:
        assert callrec.validate(USER, "CommunicationIdentifierModel", api_version=version) == []
        assert (
            callrec.validate(
                {**USER, "kind": "communicationUser"},
                "CommunicationIdentifierModel",
                api_version=version,
            )
            == []
        )
