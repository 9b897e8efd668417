"""When a recording stops: produce its files, register them, and announce them.

A stopped recording that was ever active gets one document per chunk in the content store
(WAV streamed on demand; MP3/MP4 encoded off the event loop into the data dir), a metadata
document per chunk, chunk locations for the preview ``/result``, and, once the files are
ready (a short configurable delay on the emulator clock), one
``Microsoft.Communication.RecordingFileStatusUpdated`` through Event Grid. A recording that
never turned active (``pauseOnStart`` never resumed) produces no file, as the seeds say.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from callrec.emulator import _byos, _ids
from callrec.emulator._content import (
    METADATA_KIND,
    Altered,
    BytesSource,
    Document,
    FileSource,
    Source,
)
from callrec.emulator._media import (
    metadata_bytes,
    metadata_document,
    plan_recording,
    video_settings,
)
from callrec.emulator._model import Recording
from callrec.emulator._wav import HEADER_SIZE, wav_header

if TYPE_CHECKING:
    from callrec.emulator._state import Emulator

LOG = logging.getLogger("callrec.emulator")
CHUNK_LIMIT_REASONS: Final = ("ChunkMaximumTimeExceeded", "ChunkMaximumSizeExceeded")


def schedule(emulator: Emulator, recording: Recording) -> None:
    """Start producing a stopped recording's files (on the running event loop)."""
    if recording.activated_at is None:
        return
    task = asyncio.get_running_loop().create_task(_produce(emulator, recording))
    emulator.background.add(task)
    task.add_done_callback(emulator.background.discard)


async def _produce(emulator: Emulator, recording: Recording) -> None:
    settings = emulator.settings
    faults = emulator.faults
    if recording.activated_at is None:
        return
    options = recording.options
    if "channel-affinity-ignored" in faults:  # fault: channels as if no pin were asked for
        options = {name: value for name, value in options.items() if name != "channelAffinity"}
    plan = plan_recording(
        recording,
        active_from=recording.activated_at,
        max_chunk_seconds=settings.max_chunk_seconds,
        options=options,
    )
    media = plan.media
    base = emulator.content_base_url()
    folder = emulator.media_folder()
    chunks: list[dict[str, Any]] = []
    for chunk in plan.chunks:
        document_id = _ids.document_id(chunk.index)
        files: list[Path] = []
        source: Source
        origin: dict[str, Any]
        if media["format"] == "wav":
            stream = plan.wav(chunk)
            source, info = stream, stream.info
            origin = {"wav": chunk.index, "maxChunkSeconds": settings.max_chunk_seconds}
        else:
            video = None
            if "video" in media:
                video = video_settings(
                    media,
                    width=settings.video_width,
                    height=settings.video_height,
                    fps=settings.video_fps,
                )
            encoded = await asyncio.to_thread(
                plan.encode, chunk, folder, name=document_id, video=video
            )
            source, info = FileSource(encoded.path), encoded.info
            files.append(encoded.path)
            origin = {"file": encoded.path.name}
        if "wav-wrong-sample-rate" in faults and media["format"] == "wav":
            data_size = source.size - HEADER_SIZE  # fault: the header says 8000 Hz
            source = Altered(source, head=wav_header(info.channels, 8000, 16, data_size))
        if "media-truncated" in faults:  # fault: the last quarter of the file is lost
            source = Altered(source, cut=source.size // 4)
        document = metadata_document(
            plan,
            chunk,
            info,
            resource_id=settings.resource_id,
            call_id=recording.call.correlation_id,
            document_id=document_id,
        )
        if "metadata-duration-wrong" in faults:
            document["chunkDuration"] *= 2
        if "metadata-pauses-missing" in faults:
            document["pauseResumeIntervals"] = []
        ready = emulator.clock.now() + settings.file_delay
        emulator.store.add(
            Document(
                document_id,
                str(media["contentKind"]),
                source,
                BytesSource(metadata_bytes(document)),
                ready_at=ready,
                expires_at=ready + settings.retention,
                recording_id=recording.id,
                extra_files=files,
                origin=origin,
            )
        )
        location = f"{base}/v1/objects/{document_id}"
        end_reason = chunk.end_reason if chunk.end_reason in CHUNK_LIMIT_REASONS else "SessionEnded"
        chunks.append(
            {
                "documentId": document_id,
                "index": chunk.index,
                "endReason": end_reason,
                "contentLocation": f"{location}/content/{media['contentKind']}",
                "metadataLocation": f"{location}/content/{METADATA_KIND}",
                "deleteLocation": location,
                "durationMs": round(chunk.duration * 1000),
            }
        )
    recording.chunks = chunks
    if chunks:
        await _byos.export(emulator, recording)  # bring your own storage: before the event
        recording.files_ready_at = emulator.clock.now() + settings.file_delay
        arm(emulator, recording)
    emulator.model.touch(recording)
    emulator.save()


def arm(emulator: Emulator, recording: Recording) -> None:
    """Announce a recording's files when they are ready (again after a restart)."""
    if recording.files_ready_at is None or recording.announced:
        return
    emulator.timers.at(recording.files_ready_at, lambda: _announce(emulator, recording))
    emulator.wake.set()


def rebuild_wav(emulator: Emulator, recording: Recording, origin: dict[str, Any]) -> Source:
    """A wav chunk's stream, planned again from the recording (after a restart)."""
    if recording.activated_at is None:
        raise ValueError(f"recording {recording.id} never turned active: it has no media")
    plan = plan_recording(
        recording,
        active_from=recording.activated_at,
        max_chunk_seconds=float(origin["maxChunkSeconds"]),
    )
    index = int(origin["wav"])
    return plan.wav(next(chunk for chunk in plan.chunks if chunk.index == index))


def _announce(emulator: Emulator, recording: Recording) -> None:
    media = recording.media
    if recording.activated_at is None or recording.announced:
        return
    recording.announced = True
    emulator.model.touch(recording)
    emulator.eventgrid.publish_recording_file_status_updated(
        call_id=recording.call.correlation_id,
        server_call_id=recording.call.server_call_id,
        chunks=recording.chunks,
        start_time=recording.activated_at,
        duration_ms=sum(int(chunk["durationMs"]) for chunk in recording.chunks),
        content_type=str(media["content"]),
        channel_type=str(media["channel"]),
        format_type=str(media["format"]),
        session_end_reason=recording.end_reason,
    )
