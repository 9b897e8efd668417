"""Response bodies: recording state, errors, the preview result."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from callrec.specs import enum_values
from strategies._objects import objects
from strategies._values import document_ids, recording_ids, timestamps

__all__ = ["error_responses", "recording_result_responses", "recording_state_responses"]

JSON = dict[str, Any]
# Codes the contract digest's error table names.
ERROR_CODES = ["8522", "8501", "8523", "401", "8559", "8553", "8519", "8571", "8573"]


def recording_state_responses(api_version: str | None = None) -> st.SearchStrategy[JSON]:
    """RecordingStateResponse bodies."""
    return objects(
        "RecordingStateResponse",
        api_version,
        {
            "recordingId": recording_ids(),
            "recordingState": st.sampled_from(enum_values("RecordingState", api_version)),
            "recordingKind": st.sampled_from(enum_values("RecordingKind", api_version)),
        },
    )


def _errors(depth: int) -> st.SearchStrategy[JSON]:
    nested: dict[str, st.SearchStrategy[Any]] = {"target": st.text(max_size=40)}
    if depth:
        nested["details"] = st.lists(_errors(depth - 1), max_size=2)
        nested["innererror"] = _errors(depth - 1)
    return st.fixed_dictionaries(
        {"code": st.sampled_from(ERROR_CODES), "message": st.text(min_size=1, max_size=60)},
        optional=nested,
    )


def error_responses(api_version: str | None = None) -> st.SearchStrategy[JSON]:
    """CommunicationErrorResponse bodies (the same in every version)."""
    return _errors(2).map(lambda error: {"error": error})


def recording_result_responses(api_version: str | None = None) -> st.SearchStrategy[JSON]:
    """Preview RecordingResultResponse bodies."""

    def chunk(document: str, index: int, reason: str) -> JSON:
        base = f"https://us-storage.asm.skype.com/v1/objects/{document}"
        return {
            "documentId": document,
            "index": index,
            "endReason": reason,
            "contentLocation": f"{base}/content/audio",
            "metadataLocation": f"{base}/content/acsmetadata",
            "deleteLocation": base,
        }

    chunks = st.lists(
        st.tuples(document_ids(), st.sampled_from(enum_values("ChunkEndReason", api_version))),
        max_size=3,
    ).map(lambda items: [chunk(doc, i, reason) for i, (doc, reason) in enumerate(items)])
    return objects(
        "RecordingResultResponse",
        api_version,
        {
            "recordingId": recording_ids(),
            "recordingStorageInfo": chunks.map(lambda c: {"recordingChunks": c}),
            "errors": st.lists(_errors(1), max_size=2),
            "recordingStartTime": timestamps(),
            "recordingDurationMs": st.integers(0, 10**8),
            "sessionEndReason": st.sampled_from(enum_values("CallSessionEndReason", api_version)),
            "recordingExpirationTime": timestamps(),
        },
    )
