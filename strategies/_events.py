"""Callback events and Event Grid events."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from callrec.specs import enum_values, has_schema, schema_document
from strategies._objects import objects
from strategies._values import document_ids, recording_ids, server_call_ids, timestamps, uuids

__all__ = [
    "callback_batches",
    "event_grid_batches",
    "recording_file_status_updated_cloud_events",
    "recording_file_status_updated_data",
    "recording_file_status_updated_events",
    "recording_state_changed_events",
    "start_recording_failed_events",
    "subscription_validation_events",
]

JSON = dict[str, Any]
STORAGE = "https://us-storage.asm.skype.com/v1/objects"
TOPIC = (
    "/subscriptions/5a1d9f3e-2c7b-4e8a-b6d0-9f1e2a3b4c5d/resourceGroups/calls/providers/"
    "Microsoft.Communication/communicationServices/contoso"
)


def _event_type(schema: str, field: str) -> str:
    """The event type a schema pins (`type` or `eventType` const), read from the schema."""
    value: str = schema_document(schema)["properties"][field]["const"]
    return value


def _result_informations() -> st.SearchStrategy[JSON]:
    return st.fixed_dictionaries(
        {},
        optional={
            "code": st.sampled_from([200, 400, 403, 500]),
            "subCode": st.integers(0, 9999),
            "message": st.text(max_size=40),
        },
    )


def _cloud_event(schema: str, data: st.SearchStrategy[JSON]) -> st.SearchStrategy[JSON]:
    event_type = _event_type(schema, "type")
    return st.builds(
        lambda event_id, rid, time, body: {
            "id": event_id,
            "source": f"calling/recordings/{rid}",
            "type": event_type,
            "specversion": "1.0",
            "time": time,
            "datacontenttype": "application/json",
            "subject": f"calling/recordings/{rid}",
            "data": body,
        },
        uuids(),
        recording_ids(),
        timestamps(),
        data,
    )


def _callback_data(
    schema: str, event_schema: str, api_version: str | None
) -> st.SearchStrategy[JSON]:
    """`data` of a Call Automation callback: the fields both recording callbacks share."""
    event_type = _event_type(event_schema, "type")
    return objects(
        schema,
        api_version,
        {
            "recordingId": recording_ids(),
            "state": st.sampled_from(enum_values("RecordingState", api_version)),
            "startDateTime": timestamps(),
            "recordingKind": st.sampled_from(enum_values("RecordingKind", api_version)),
            "callConnectionId": uuids(),
            "serverCallId": server_call_ids(),
            "correlationId": uuids(),
            "operationContext": st.text(max_size=20),
            "resultInformation": _result_informations(),
            "version": st.just(api_version or "2025-06-15"),
            "publicEventType": st.just(event_type),
        },
    )


def recording_state_changed_events(api_version: str | None = None) -> st.SearchStrategy[JSON]:
    """One RecordingStateChanged CloudEvent with the data fields the version has."""
    data = _callback_data(
        "RecordingStateChangedData", "RecordingStateChangedCloudEvent", api_version
    )
    return _cloud_event("RecordingStateChangedCloudEvent", data)


def start_recording_failed_events(api_version: str | None = None) -> st.SearchStrategy[JSON]:
    """One StartRecordingFailed CloudEvent (only for versions that have it)."""
    if not has_schema("StartRecordingFailedCloudEvent", api_version):
        raise LookupError(f"api-version {api_version} has no StartRecordingFailed event")
    data = _callback_data("StartRecordingFailedData", "StartRecordingFailedCloudEvent", api_version)
    return _cloud_event("StartRecordingFailedCloudEvent", data)


def callback_batches(api_version: str | None = None) -> st.SearchStrategy[list[JSON]]:
    """What one callback POST carries: an array with one event (rarely more)."""
    events = [recording_state_changed_events(api_version)]
    if has_schema("StartRecordingFailedCloudEvent", api_version):
        events.append(start_recording_failed_events(api_version))
    return st.lists(st.one_of(events), min_size=1, max_size=3)


def _chunks(content: str) -> st.SearchStrategy[list[JSON]]:
    def chunk(index: int, document: str, last: bool) -> JSON:
        return {
            "documentId": document,
            "index": index,
            "endReason": "SessionEnded" if last else "ChunkMaximumSizeExceeded",
            "contentLocation": f"{STORAGE}/{document}/content/{content}",
            "metadataLocation": f"{STORAGE}/{document}/content/acsmetadata",
            "deleteLocation": f"{STORAGE}/{document}",
        }

    return st.lists(document_ids(), min_size=1, max_size=3, unique=True).map(
        lambda docs: [chunk(i, d, i == len(docs) - 1) for i, d in enumerate(docs)]
    )


# Event Grid spells the media kinds in PascalCase; the content path names them.
_CONTENT_PATH = {
    ("Audio", "Mixed", "Wav"): "audio",
    ("Audio", "Mixed", "Mp3"): "audio",
    ("Audio", "Unmixed", "Wav"): "audiowavmultichannel",
    ("AudioVideo", "Mixed", "Mp4"): "video",
}


def recording_file_status_updated_data(api_version: str | None = None) -> st.SearchStrategy[JSON]:
    """`data` of RecordingFileStatusUpdated, for one documented media combination."""
    combos = [
        c for c in _CONTENT_PATH if c[0] in enum_values("AcsRecordingContentType", api_version)
    ]

    def build(combo: tuple[str, str, str]) -> st.SearchStrategy[JSON]:
        return st.builds(
            lambda chunks, start, duration, reason: {
                "recordingStorageInfo": {"recordingChunks": chunks},
                "recordingStartTime": start,
                "recordingDurationMs": duration,
                "recordingContentType": combo[0],
                "recordingChannelType": combo[1],
                "recordingFormatType": combo[2],
                "sessionEndReason": reason,
            },
            _chunks(_CONTENT_PATH[combo]),
            timestamps(),
            st.integers(0, 4 * 3600 * 1000),
            st.sampled_from(["CallEnded", "SessionEnded", "InitiatorLeft"]),
        )

    return st.sampled_from(combos).flatmap(build)


def _subjects() -> st.SearchStrategy[str]:
    return st.tuples(uuids(), server_call_ids()).map(
        lambda p: f"/recording/call/{p[0]}/serverCallId/{p[1]}"
    )


def recording_file_status_updated_events(api_version: str | None = None) -> st.SearchStrategy[JSON]:
    """The event in the Event Grid schema."""
    event_type = _event_type("RecordingFileStatusUpdatedEventGridEvent", "eventType")
    return st.builds(
        lambda event_id, subject, data, time: {
            "id": event_id,
            "topic": TOPIC,
            "subject": subject,
            "data": data,
            "eventType": event_type,
            "dataVersion": "1.0",
            "metadataVersion": "1",
            "eventTime": time,
        },
        uuids(),
        _subjects(),
        recording_file_status_updated_data(api_version),
        timestamps(),
    )


def recording_file_status_updated_cloud_events(
    api_version: str | None = None,
) -> st.SearchStrategy[JSON]:
    """The event through a CloudEvents-schema subscription."""
    event_type = _event_type("RecordingFileStatusUpdatedCloudEvent", "type")
    return st.builds(
        lambda event_id, subject, data, time: {
            "id": event_id,
            "source": TOPIC,
            "subject": subject,
            "type": event_type,
            "time": time,
            "specversion": "1.0",
            "data": data,
        },
        uuids(),
        _subjects(),
        recording_file_status_updated_data(api_version),
        timestamps(),
    )


def subscription_validation_events() -> st.SearchStrategy[JSON]:
    """Event Grid's handshake event."""
    event_type = _event_type("SubscriptionValidationEventGridEvent", "eventType")
    return st.builds(
        lambda event_id, code, time: {
            "id": event_id,
            "topic": TOPIC,
            "subject": "",
            "eventType": event_type,
            "eventTime": time,
            "metadataVersion": "1",
            "dataVersion": "2",
            "data": {
                "validationCode": code,
                "validationUrl": f"https://rp.eventgrid.azure.net/validate?id={code}",
            },
        },
        uuids(),
        uuids(),
        timestamps(),
    )


def event_grid_batches(api_version: str | None = None) -> st.SearchStrategy[list[JSON]]:
    """An Event Grid delivery: an array of events."""
    return st.lists(
        st.one_of(
            recording_file_status_updated_events(api_version), subscription_validation_events()
        ),
        min_size=1,
        max_size=3,
    )
