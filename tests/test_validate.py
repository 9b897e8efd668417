"""`callrec.validate`: the Failure it returns, its errors, its cache."""

from __future__ import annotations

import dataclasses

import pytest

import callrec
from callrec import Failure, UnknownApiVersionError, UnknownSchemaError
from callrec._validation import VALUE_LIMIT, compiled

GOOD = {"recordingId": "r1", "recordingState": "active"}


def test_valid_payload_has_no_failures() -> None:
    assert callrec.validate(GOOD, "RecordingStateResponse") == []
    assert callrec.is_valid(GOOD, "RecordingStateResponse")


def test_failure_carries_pointer_location_message_and_value() -> None:
    [failure] = callrec.validate({**GOOD, "recordingState": "paused"}, "RecordingStateResponse")
    assert failure == Failure(
        pointer="/recordingState",
        schema_location="https://callrec.dev/schemas/RecordingState.json#/enum",
        message='"paused" is not one of "active" or "inactive"',
        value='"paused"',
    )
    assert str(failure) == '/recordingState: "paused" is not one of "active" or "inactive"'
    assert not callrec.is_valid({**GOOD, "recordingState": "paused"}, "RecordingStateResponse")


def test_failure_is_immutable() -> None:
    [failure] = callrec.validate({}, "SubscriptionValidationResponse")
    with pytest.raises(dataclasses.FrozenInstanceError):
        failure.pointer = "/x"  # type: ignore[misc]


def test_root_failure_has_empty_pointer_and_prints_as_root() -> None:
    [failure] = callrec.validate({}, "SubscriptionValidationResponse")
    assert failure.pointer == ""
    assert str(failure).startswith("(root): ")
    assert "validationResponse" in failure.message


def test_long_values_are_truncated() -> None:
    [failure] = callrec.validate(
        {"validationResponse": ["x" * 500]}, "SubscriptionValidationResponse"
    )
    assert len(failure.value) == VALUE_LIMIT
    assert failure.value.endswith("…")


def test_pointers_escape_slash_and_tilde() -> None:
    document = {"a/b~c": 1}
    failures = callrec.validate(
        {"recordingId": "r", "recordingState": "x", **document}, "RecordingStateResponse"
    )
    assert [f.pointer for f in failures] == ["/recordingState"]
    event = {"id": "1", "source": "s", "specversion": "1.0", "type": "t", "data~/": 1, "time": "no"}
    [failure] = callrec.validate(event, "CloudEvent")
    assert failure.pointer == "/time"


def test_combinator_failures_use_the_schemas_plain_words() -> None:
    failures = callrec.validate(
        {"callLocator": {"kind": "serverCallLocator"}}, "StartCallRecordingRequest"
    )
    assert {f.pointer for f in failures} == {"/callLocator"}
    assert "a call locator needs one of `serverCallId`, `groupCallId` or `roomId`" in [
        f.message for f in failures
    ]
    assert '"serverCallId" is a required property' in [f.message for f in failures]
    [both] = callrec.validate(
        {"callLocator": {"serverCallId": "s"}, "callConnectionId": "c"}, "StartCallRecordingRequest"
    )
    assert both.message == "name the call with exactly one of `callLocator` and `callConnectionId`"


def test_a_keyword_reached_twice_is_reported_once() -> None:
    batch = [
        {
            "id": "1",
            "subject": "s",
            "data": {},
            "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
            "dataVersion": "1",
            "eventTime": "not a time",
        }
    ]
    failures = callrec.validate(batch, "EventGridEventBatch")
    times = [f for f in failures if f.pointer == "/0/eventTime"]
    assert len(times) == 1


def test_unknown_schema_names_the_known_ones() -> None:
    with pytest.raises(
        UnknownSchemaError, match="unknown schema 'Nope'; known schemas: AcsRecording"
    ):
        callrec.validate({}, "Nope")


def test_unknown_api_version_names_the_supported_ones() -> None:
    with pytest.raises(
        UnknownApiVersionError,
        match=r"unsupported api-version '2020-01-01'; supported: 2021-04-13-conversations, 2021-11-15-preview, ",
    ):
        callrec.validate({}, "RecordingStateResponse", api_version="2020-01-01")


def test_errors_are_spec_errors() -> None:
    assert issubclass(UnknownSchemaError, callrec.SpecError)
    assert issubclass(UnknownApiVersionError, callrec.SpecError)


def test_validators_are_compiled_once_per_schema_and_version() -> None:
    first = compiled("RecordingStateResponse", "2024-04-15")
    assert compiled("RecordingStateResponse", "2024-04-15") is first
    assert compiled("RecordingStateResponse", "2023-10-15") is not first


@pytest.mark.parametrize(
    "value", ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.1234567Z", "2024-05-01T10:00:00+02:00"]
)
def test_date_times_accept_service_precision(value: str) -> None:
    assert callrec.validate({"startTime": value, "duration": 1}, "PauseResumeInterval") == []


@pytest.mark.parametrize(
    ("schema", "payload", "pointer"),
    [
        ("PauseResumeInterval", {"startTime": "yesterday", "duration": 1}, "/startTime"),
        (
            "AcsRecordingChunkInfo",
            {
                "documentId": "d",
                "index": 0,
                "contentLocation": "not a uri",
                "metadataLocation": "https://s/m",
                "deleteLocation": "https://s/d",
            },
            "/contentLocation",
        ),
        (
            "RecordingStateChangedCloudEvent",
            {
                "id": "1",
                "source": "s",
                "specversion": "1.0",
                "type": "Microsoft.Communication.RecordingStateChanged",
                "data": {"recordingId": "r", "state": "Active"},
            },
            "/data/state",
        ),
    ],
)
def test_formats_and_enums_are_checked(schema: str, payload: object, pointer: str) -> None:
    assert pointer in [f.pointer for f in callrec.validate(payload, schema)]
