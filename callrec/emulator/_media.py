"""Recorded media for the emulator: what a stopped recording's chunks contain, and their metadata.

`plan_media` (or `plan_recording`, from a model `Recording`) decides everything at once: the
speakers' talk pattern (`_audio`), the unmixed channel of each participant, and the chunks
(`_chunks`). The result hands out each chunk's media (`RecordingMedia.wav`, a random-access
`WavStream`; `RecordingMedia.encode`, an MP3 or MP4 file written in a folder) and the metadata
document that describes it (`metadata_document`, `metadata_bytes`). Format parameters (sample
rate, bits, channel limit, picture size and rate) come from the resolved combination of
``specs/media.yaml`` that the model stores as ``Recording.media``.

No HTTP and no I/O but the files `encode` writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from callrec.emulator._audio import DEFAULT_TURN_SECONDS, Speakers, channel_assignment
from callrec.emulator._chunks import Chunk, Interval, plan_chunks, recorded_pauses, recorded_spans
from callrec.emulator._clock import Clock
from callrec.emulator._encode import VideoSettings, encode_mp3, encode_mp4
from callrec.emulator._model import Recording
from callrec.emulator._wav import MediaInfo, WavStream

JSON = dict[str, Any]
SESSION_ENDED: Final = "SessionEnded"  # a recording stopped by the API (the model's end reason)


@dataclass(frozen=True)
class EncodedFile:
    path: Path
    info: MediaInfo


def video_settings(
    media: Mapping[str, Any],
    *,
    width: int | None = None,
    height: int | None = None,
    fps: int | None = None,
) -> VideoSettings:
    """The combination's picture (landscape: width is the longer side), each part overridable."""
    video = media.get("video")
    if video is None:
        raise ValueError(f"{media.get('format')} recordings have no video")
    return VideoSettings(
        width if width is not None else int(video["longerSideLength"]),
        height if height is not None else int(video["shorterSideLength"]),
        fps if fps is not None else int(video["framerate"]),
    )


@dataclass(frozen=True)
class RecordingMedia:
    """Everything decided about one recording's media."""

    media: Mapping[str, Any]  # the combination from specs/media.yaml
    participants: tuple[str, ...]  # raw ids, in the call's order
    speakers: Speakers
    channels: Mapping[str, int] | None  # raw id -> channel, unmixed only
    chunks: tuple[Chunk, ...]

    @property
    def sample_rate(self) -> int:
        return int(self.media["audio"]["sampleRate"])

    @property
    def layout(self) -> list[str | None] | None:
        """The participant on each unmixed channel (None: silent); None for mixed media.

        As many channels as the highest assigned channel + 1 (at least one), so a pin to
        channel 3 makes a four-channel file even with two participants.
        """
        if self.channels is None:
            return None
        count = max(self.channels.values(), default=0) + 1
        slots: list[str | None] = [None] * count
        for person, channel in self.channels.items():
            slots[channel] = person
        return slots

    def wav(self, chunk: Chunk) -> WavStream:
        """A chunk's WAV file as a random-access stream (wav recordings)."""
        bits = int(self.media["audio"].get("bitsPerSample", 16))
        return WavStream(self.speakers, chunk, self.layout, bits_per_sample=bits)

    def encode(
        self,
        chunk: Chunk,
        folder: Path,
        *,
        name: str | None = None,
        video: VideoSettings | None = None,
    ) -> EncodedFile:
        """Encode a chunk of an mp3 or mp4 recording into ``folder`` (``name`` defaults to
        ``chunk-<index>.<format>``). ``video`` overrides the mp4 picture (for speed)."""
        form = str(self.media["format"])
        encoder = ENCODERS.get(form)
        if encoder is None:
            raise ValueError(f"{form} chunks are served as streams, not encoded: use wav()")
        path = folder / (name or f"chunk-{chunk.index}.{form}")
        mixed = WavStream(self.speakers, chunk, None)
        return EncodedFile(path, encoder(self, mixed, path, video))


def _mp3(_: RecordingMedia, stream: WavStream, path: Path, __: VideoSettings | None) -> MediaInfo:
    return encode_mp3(stream, path)


def _mp4(
    plan: RecordingMedia, stream: WavStream, path: Path, video: VideoSettings | None
) -> MediaInfo:
    return encode_mp4(stream, path, video or video_settings(plan.media))


ENCODERS: Final[
    dict[str, Callable[[RecordingMedia, WavStream, Path, VideoSettings | None], MediaInfo]]
] = {"mp3": _mp3, "mp4": _mp4}


def plan_media(
    *,
    media: Mapping[str, Any],
    participants: Sequence[str],
    options: Mapping[str, Any],
    spans: Iterable[Interval],
    end_reason: str,
    max_chunk_seconds: float,
    pauses: Iterable[Interval] | None = None,
    turn_seconds: float = DEFAULT_TURN_SECONDS,
) -> RecordingMedia:
    """Plan a recording's media from plain values.

    ``spans`` are the recorded clock spans (POSIX seconds), ``pauses`` the pauses to list in
    the metadata (default: the gaps between spans), ``options`` the start request (for
    ``channelAffinity`` and ``audioChannelParticipantOrdering``).
    """
    rate = int(media["audio"]["sampleRate"])
    spans = sorted(spans)
    chunks = plan_chunks(
        spans, max_chunk_seconds, sample_rate=rate, end_reason=end_reason, pauses=pauses
    )
    anchor = chunks[0].pieces[0].clock if chunks else 0
    speakers = Speakers.for_call(
        participants, sample_rate=rate, anchor=anchor, turn_seconds=turn_seconds
    )
    channels: dict[str, int] | None = None
    if media["channel"] == "unmixed":
        heard = speakers.first_speech(span for chunk in chunks for span in chunk.clock_spans)
        limit = int(media["audio"].get("maxChannels", 1))
        channels = channel_assignment(participants, heard, options, max_channels=limit)
    return RecordingMedia(media, tuple(participants), speakers, channels, tuple(chunks))


def plan_recording(
    recording: Recording,
    *,
    active_from: float,
    max_chunk_seconds: float,
    turn_seconds: float = DEFAULT_TURN_SECONDS,
    options: Mapping[str, Any] | None = None,
) -> RecordingMedia:
    """Plan a stopped recording's media. ``active_from`` is when it first turned active (the
    model does not keep it); pauses are clipped to [active_from, stop] and all listed.
    ``options`` replaces the start request the recording keeps."""
    if recording.stopped_at is None:
        raise ValueError("only a stopped recording has media")
    stopped = recording.stopped_at
    return plan_media(
        media=recording.media,
        participants=list(recording.call.participants),
        options=recording.options if options is None else options,
        spans=recorded_spans(active_from, stopped, recording.pauses),
        pauses=recorded_pauses(active_from, stopped, recording.pauses),
        end_reason=recording.end_reason or SESSION_ENDED,
        max_chunk_seconds=max_chunk_seconds,
        turn_seconds=turn_seconds,
    )


def metadata_document(
    plan: RecordingMedia,
    chunk: Chunk,
    info: MediaInfo,
    *,
    resource_id: str,
    call_id: str,
    document_id: str,
) -> JSON:
    """The chunk's metadata document (schema ``RecordingMetadata``), stating what ``info``
    says of its file: duration, sample rate, channels, bit rates, picture."""
    audio: JSON = {
        "sampleRate": info.sample_rate,
        "bitRate": info.bit_rate,
        "channels": info.channels,
    }
    recording_info: JSON = {
        "contentType": plan.media["content"],
        "channelType": plan.media["channel"],
        "format": plan.media["format"],
        "audioConfiguration": audio,
    }
    if info.video is not None:
        video = info.video
        recording_info["videoConfiguration"] = {
            "longerSideLength": max(video.width, video.height),
            "shorterSideLength": min(video.width, video.height),
            "framerate": video.framerate,
            "bitRate": video.bit_rate,
        }
    return {
        "resourceId": resource_id,
        "callId": call_id,
        "chunkDocumentId": document_id,
        "chunkIndex": chunk.index,
        "chunkStartTime": Clock.iso(chunk.clock_start),
        "chunkDuration": info.duration_ms,
        "pauseResumeIntervals": [
            {"startTime": Clock.iso(start), "duration": round((end - start) * 1000, 3)}
            for start, end in chunk.pauses
        ],
        "recordingInfo": recording_info,
        "participants": _participants(plan),
    }


def _participants(plan: RecordingMedia) -> list[JSON]:
    """Everyone in the call; for unmixed media by channel, then those left without one."""
    if plan.channels is None:
        return [{"participantId": person} for person in plan.participants]
    channels = plan.channels
    placed = sorted(channels, key=channels.__getitem__)
    unplaced = [person for person in plan.participants if person not in channels]
    return [{"participantId": p, "channel": channels[p]} for p in placed] + [
        {"participantId": p} for p in unplaced
    ]


def metadata_bytes(document: Mapping[str, Any]) -> bytes:
    """The document as real metadata files look: pretty-printed (2 spaces), CRLF line ends."""
    return json.dumps(document, indent=2, ensure_ascii=False).replace("\n", "\r\n").encode()
