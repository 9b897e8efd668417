"""`callrec.detect` names payloads by shape; examples cover the documented ones."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import callrec
import strategies

# Schemas a receiver can be handed on its own; detect must name each one from its shape.
DETECTABLE = [
    "RecordingFileStatusUpdatedEventGridEvent",
    "RecordingFileStatusUpdatedCloudEvent",
    "RecordingStateChangedCloudEvent",
    "StartRecordingFailedCloudEvent",
    "RecordingCallbackBatch",
    "EventGridEventBatch",
    "SubscriptionValidationEventGridEvent",
    "RecordingMetadata",
    "RecordingStateResponse",
    "CommunicationErrorResponse",
    "RecordingFileStatusUpdatedData",
]


@pytest.mark.parametrize("schema", DETECTABLE)
@given(data=st.data())
def test_generated_payloads_are_detected_as_their_schema(schema: str, data: st.DataObject) -> None:
    payload = data.draw(strategies.PAYLOADS[schema]("2025-06-15"))
    assert callrec.detect(payload) == schema


@pytest.mark.parametrize(
    "payload", [None, 3, "x", [], {}, {"type": "Other.Event"}, [{"x": 1}], {"eventType": 1}]
)
def test_unrecognised_payloads_detect_as_none(payload: Any) -> None:
    assert callrec.detect(payload) is None


def test_detection_only_looks_at_shape_not_validity() -> None:
    broken = {"eventType": "Microsoft.Communication.RecordingFileStatusUpdated"}
    assert callrec.detect(broken) == "RecordingFileStatusUpdatedEventGridEvent"
    assert callrec.validate(broken, "RecordingFileStatusUpdatedEventGridEvent") != []
