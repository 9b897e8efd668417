"""The whole post-call path on the emulator: stop -> files -> RecordingFileStatusUpdated ->
download media and metadata from the event's locations -> parse them -> delete."""

from __future__ import annotations

import io
import json
import time
import wave
from collections.abc import Iterator
from typing import Any

import av
import pytest

import callrec
from callrec.client import Client
from callrec.emulator import Running, Settings, serve
from tests.plugins.emulator import PARTICIPANTS, Receiver


@pytest.fixture(scope="module")
def fast() -> Iterator[Running]:
    settings = Settings(
        activation_delay=0,
        file_delay=0.05,
        video_width=320,
        video_height=180,
        video_fps=8,
        max_chunk_seconds=3.0,
    )
    with serve(settings) as running:
        yield running


@pytest.fixture
def fast_client(fast: Running) -> Iterator[Client]:
    with Client(fast) as client:
        yield client
        client.reset()  # forget subscriptions to this test's receiver


def record(
    client: Client, receiver: Receiver, options: dict[str, Any], seconds: float = 2.0
) -> list[Any]:
    """Subscribe, record for `seconds` of emulator time, stop; the delivered event batch."""
    created = client.request(
        "POST",
        "/emulator/eventgrid/subscriptions",
        json={"endpointUrl": receiver.url, "schema": "EventGridSchema"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active"
    call = client.create_call(PARTICIPANTS)
    started = client.start({"callLocator": {"serverCallId": call["serverCallId"]}, **options})
    assert started.status_code == 200, started.text
    rid = started.json()["recordingId"]
    deadline = time.monotonic() + 3
    while client.get(rid).json()["recordingState"] != "active":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    client.advance_clock(seconds)
    assert client.stop(rid).status_code == 204
    [batch] = receiver.wait_for(lambda seen: len(seen) >= 1, timeout=20)
    assert callrec.validate(batch, "EventGridEventBatch", api_version="2025-06-15") == []
    return [rid, call, batch[0]]


def download(client: Client, location: str, **headers: str) -> bytes:
    path = location.split("://", 1)[1].split("/", 1)[1]
    response = client.request("GET", "/" + path, headers=headers)
    assert response.status_code in (200, 206), response.status_code
    return response.content


def test_unmixed_wav_end_to_end(fast: Running, fast_client: Client, receiver: Receiver) -> None:
    client = fast_client
    options = {
        "recordingContentType": "audio",
        "recordingChannelType": "unmixed",
        "recordingFormatType": "wav",
        "channelAffinity": [{"channel": 1, "participant": PARTICIPANTS[2]}],
    }
    rid, call, event = record(client, receiver, options)
    data = event["data"]
    assert (
        data["recordingContentType"],
        data["recordingChannelType"],
        data["recordingFormatType"],
    ) == ("Audio", "Unmixed", "Wav")
    assert event["subject"].endswith(f"/serverCallId/{call['serverCallId']}")
    [chunk] = data["recordingStorageInfo"]["recordingChunks"]
    assert chunk["endReason"] == "SessionEnded"
    assert chunk["contentLocation"].startswith(fast.endpoint)
    media = download(client, chunk["contentLocation"])
    metadata = json.loads(download(client, chunk["metadataLocation"]))
    assert callrec.validate(metadata, "RecordingMetadata") == []
    with wave.open(io.BytesIO(media)) as parsed:
        assert parsed.getframerate() == 16000
        assert parsed.getsampwidth() == 2
        assert (
            parsed.getnchannels()
            == metadata["recordingInfo"]["audioConfiguration"]["channels"]
            >= 2
        )
        seconds = parsed.getnframes() / parsed.getframerate()
    assert abs(seconds * 1000 - metadata["chunkDuration"]) < 1
    assert abs(seconds - 2.0) < 0.3  # the emulator clock moved 2 s while active
    assert {p["participantId"]: p.get("channel") for p in metadata["participants"]}[
        PARTICIPANTS[2]["rawId"]
    ] == 1
    ranged = download(client, chunk["contentLocation"], Range="bytes=44-99")
    assert ranged == media[44:100]
    result = client.result(rid)
    assert (
        callrec.validate(result.json(), "RecordingResultResponse", api_version="2025-08-15-preview")
        == []
    )
    assert (
        result.json()["recordingStorageInfo"]["recordingChunks"][0]["endReason"] == "sessionEnded"
    )
    # /result tells the recording's times as the event does (from activation; media length)
    assert result.json()["recordingStartTime"] == event["data"]["recordingStartTime"]
    assert result.json()["recordingDurationMs"] == event["data"]["recordingDurationMs"]
    assert (
        client.request("DELETE", "/" + chunk["deleteLocation"].split("/", 3)[3]).status_code == 200
    )
    gone = client.request("GET", "/" + chunk["contentLocation"].split("/", 3)[3])
    assert (gone.status_code, gone.content) == (404, b"")


def test_long_recording_is_chunked_and_paused_time_is_absent(
    fast: Running, receiver: Receiver
) -> None:
    with Client(fast) as client:
        options = {
            "recordingContentType": "audio",
            "recordingChannelType": "mixed",
            "recordingFormatType": "wav",
        }
        _rid, _call, event = record(client, receiver, options, seconds=7.0)
        chunks = event["data"]["recordingStorageInfo"]["recordingChunks"]
        assert [c["index"] for c in chunks] == [0, 1, 2]
        assert [c["endReason"] for c in chunks] == ["ChunkMaximumTimeExceeded"] * 2 + [
            "SessionEnded"
        ]
        total = sum(
            json.loads(download(client, c["metadataLocation"]))["chunkDuration"] for c in chunks
        )
        assert abs(total - event["data"]["recordingDurationMs"]) < 5


def test_mixed_mp4_has_video_and_audio(
    fast: Running, fast_client: Client, receiver: Receiver
) -> None:
    client = fast_client
    _rid, _call, event = record(
        client, receiver, {}, seconds=1.5
    )  # the default: mixed audioVideo mp4
    [chunk] = event["data"]["recordingStorageInfo"]["recordingChunks"]
    assert chunk["contentLocation"].endswith("/content/video")
    media = download(client, chunk["contentLocation"])
    with av.open(io.BytesIO(media)) as container:
        kinds = sorted(stream.type for stream in container.streams)
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (320, 180)
    assert kinds == ["audio", "video"]


def test_a_recording_never_active_produces_no_file(client: Client, receiver: Receiver) -> None:
    call = client.create_call(PARTICIPANTS)
    rid = client.start(
        {"callLocator": {"serverCallId": call["serverCallId"]}, "pauseOnStart": True},
        api_version="2025-06-15",
    ).json()["recordingId"]
    client.stop(rid)
    time.sleep(0.3)
    assert client.result(rid).json()["recordingStorageInfo"]["recordingChunks"] == []


def test_retention_expires_files(fast: Running, fast_client: Client, receiver: Receiver) -> None:
    client = fast_client
    options = {"recordingContentType": "audio", "recordingFormatType": "mp3"}
    _rid, _call, event = record(client, receiver, options, seconds=1.0)
    [chunk] = event["data"]["recordingStorageInfo"]["recordingChunks"]
    assert download(client, chunk["contentLocation"])[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    client.advance_clock(24 * 3600 + 1)
    path = "/" + chunk["contentLocation"].split("/", 3)[3]
    assert client.request("GET", path).status_code == 404
