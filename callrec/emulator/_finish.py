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

from callrec.emulator import _ids
from callrec.emulator._content import METADATA_KIND, BytesSource, Document, FileSource, Source
from callrec.emulator._media import (
    metadata_bytes,
    metadata_document,
    plan_recording,
    video_settings,
)
from callrec.emulator._model import Recording

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
    if recording.activated_at is None:
        return
    plan = plan_recording(
        recording, active_from=recording.activated_at, max_chunk_seconds=settings.max_chunk_seconds
    )
    media = plan.media
    base = emulator.content_base_url()
    folder = emulator.media_folder()
    chunks: list[dict[str, Any]] = []
    for chunk in plan.chunks:
        document_id = _ids.document_id(chunk.index)
        files: list[Path] = []
        source: Source
        if media["format"] == "wav":
            stream = plan.wav(chunk)
            source, info = stream, stream.info
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
        document = metadata_document(
            plan,
            chunk,
            info,
            resource_id=settings.resource_id,
            call_id=recording.call.correlation_id,
            document_id=document_id,
        )
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
        emulator.timers.at(
            emulator.clock.now() + settings.file_delay, lambda: _announce(emulator, recording)
        )
        emulator.wake.set()


def _announce(emulator: Emulator, recording: Recording) -> None:
    media = recording.media
    if recording.activated_at is None:
        return
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
