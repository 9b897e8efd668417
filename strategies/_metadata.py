"""Recording metadata documents, consistent in themselves."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from strategies._values import acs_raw_ids, document_ids, later, timestamps, uuids

__all__ = ["recording_metadata"]

JSON = dict[str, Any]
# The documented media: (content, channel, format) -> audio channels rule and video.
_MEDIA = [
    ("audio", "mixed", "wav"),
    ("audio", "mixed", "mp3"),
    ("audio", "unmixed", "wav"),
    ("audioVideo", "mixed", "mp4"),
]


def recording_metadata() -> st.SearchStrategy[JSON]:
    """Metadata documents: unmixed ones give each participant a channel."""

    def build(parts: tuple[Any, ...]) -> JSON:
        (
            (content, channel, fmt),
            start,
            duration,
            people,
            pauses,
            doc,
            call,
            resource,
            index,
            as_text,
        ) = parts
        unmixed = channel == "unmixed"
        participants = [
            {"participantId": person, **({"channel": i} if unmixed else {})}
            for i, person in enumerate(people)
        ]
        sample_rate: Any = "16000" if as_text else 16000
        info: JSON = {
            "contentType": content,
            "channelType": channel,
            "format": fmt,
            "audioConfiguration": {
                "sampleRate": sample_rate,
                "bitRate": 256000 if fmt == "wav" else 128000,
                "channels": len(people) if unmixed else 1,
            },
        }
        if content == "audioVideo":
            info["videoConfiguration"] = {
                "longerSideLength": 1920,
                "shorterSideLength": 1080,
                "framerate": 16,
                "bitRate": 1000000,
            }
        intervals = [
            {"startTime": later(start, offset), "duration": float(length)}
            for offset, length in pauses
        ]
        return {
            "resourceId": resource,
            "callId": call,
            "chunkDocumentId": doc,
            "chunkIndex": index,
            "chunkStartTime": start,
            "chunkDuration": float(duration),
            "pauseResumeIntervals": intervals,
            "recordingInfo": info,
            "participants": participants,
        }

    return st.tuples(
        st.sampled_from(_MEDIA),
        timestamps(),
        st.integers(0, 4 * 3600 * 1000),
        st.lists(acs_raw_ids(), min_size=1, max_size=5, unique=True),
        st.lists(st.tuples(st.integers(0, 3600 * 1000), st.integers(1, 600 * 1000)), max_size=3),
        document_ids(),
        uuids(),
        uuids(),
        st.integers(0, 20),
        st.booleans(),
    ).map(build)
