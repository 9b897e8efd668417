"""Hypothesis strategies for Call Recording payloads, derived from callrec's schemas.

Every strategy takes an optional api-version and produces payloads valid as of that version
(fields, enum values and required fields come from the versioned schemas, never restated
here). `mutations` breaks a valid payload in one targeted way. `PAYLOADS` maps each schema
name to its strategy, so a test or a benchmark can cover every payload kind from one table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from strategies._events import (
    callback_batches,
    event_grid_batches,
    recording_file_status_updated_cloud_events,
    recording_file_status_updated_data,
    recording_file_status_updated_events,
    recording_state_changed_events,
    start_recording_failed_events,
    subscription_validation_events,
)
from strategies._metadata import recording_metadata
from strategies._mutations import KINDS as MUTATION_KINDS
from strategies._mutations import Mutation, mutations
from strategies._requests import (
    call_locators,
    channel_affinities,
    identifiers,
    start_recording_requests,
)
from strategies._responses import (
    error_responses,
    recording_result_responses,
    recording_state_responses,
)

__all__ = [
    "MUTATION_KINDS",
    "PAYLOADS",
    "Mutation",
    "call_locators",
    "callback_batches",
    "channel_affinities",
    "error_responses",
    "event_grid_batches",
    "identifiers",
    "mutations",
    "recording_file_status_updated_cloud_events",
    "recording_file_status_updated_data",
    "recording_file_status_updated_events",
    "recording_metadata",
    "recording_result_responses",
    "recording_state_changed_events",
    "recording_state_responses",
    "start_recording_failed_events",
    "start_recording_requests",
    "subscription_validation_events",
]

# schema name -> strategy factory taking the api-version (None: the unversioned union)
PAYLOADS: dict[str, Callable[[str | None], st.SearchStrategy[Any]]] = {
    "StartCallRecordingRequest": start_recording_requests,
    "CallLocator": call_locators,
    "CommunicationIdentifierModel": identifiers,
    "RecordingStateResponse": recording_state_responses,
    "CommunicationErrorResponse": error_responses,
    "RecordingResultResponse": recording_result_responses,
    "RecordingStateChangedCloudEvent": recording_state_changed_events,
    "StartRecordingFailedCloudEvent": start_recording_failed_events,
    "RecordingCallbackBatch": callback_batches,
    "RecordingFileStatusUpdatedData": recording_file_status_updated_data,
    "RecordingFileStatusUpdatedEventGridEvent": recording_file_status_updated_events,
    "RecordingFileStatusUpdatedCloudEvent": recording_file_status_updated_cloud_events,
    "SubscriptionValidationEventGridEvent": lambda _version: subscription_validation_events(),
    "EventGridEventBatch": event_grid_batches,
    "RecordingMetadata": lambda _version: recording_metadata(),
}
