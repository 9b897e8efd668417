"""Interop: the official JS SDK, @azure/communication-call-automation 1.6.0, downloads and deletes
recorded files on the emulator.

Python records (start, the emulator clock moves, stop) and reads the chunk's locations from the
preview ``/result``; ``tests/interop/js/content.mjs`` then runs the SDK's ``downloadToPath``,
``downloadStreaming`` with ``{offset, length}``, ``delete``, and a download and a delete after
the delete, printing one JSON line per step with the requests it sent. Each download must equal
what the Python ``Client`` gets for the same location, and the file must parse as its format.

SDK 1.6.0 accepts only ``https://`` locations on recording-storage hosts (contract digest §5),
so this emulator hands out ``https://us-storage.asm.skype.com/...`` locations and the script's
httpClient sends those requests to the emulator.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import time
import uuid
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import av
import pytest

from callrec._specs import read_spec_yaml
from callrec.client import Client
from callrec.emulator import Running, Settings, serve
from tests.test_interop_js import JS_DIR, NODE, NPM, node_with_sdk

SCRIPT = JS_DIR / "content.mjs"
# a recording-storage host SDK 1.6.0 accepts, as the live service names them (contract digest §6)
STORAGE = "https://us-storage.asm.skype.com"
RECORDED_SECONDS = 3.0
RANGE = (1001, 4096)  # offset, length: past the WAV header, across the first frames
RUN_TIMEOUT = 60.0
VIDEO = {"video_width": 320, "video_height": 180, "video_fps": 8}  # small pictures: fast encodes
MEDIA = {
    (combination["content"], combination["channel"], combination["format"]): combination
    for combination in read_spec_yaml("media.yaml")["combinations"]
}

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="the JS SDK interop test needs node and npm on PATH",
)


# ------------------------------------------------------------------ checks of each format
def check_wav(media: bytes, combination: dict[str, Any], channels: int) -> None:
    """A WAV file as documented (16 kHz, 16-bit), its header's sizes agreeing with its length."""
    with wave.open(io.BytesIO(media)) as parsed:
        audio = combination["audio"]
        assert parsed.getframerate() == audio["sampleRate"]
        assert parsed.getsampwidth() * 8 == audio["bitsPerSample"]
        assert parsed.getnchannels() == channels
        frames = parsed.getnframes()
    assert len(media) == 44 + frames * channels * parsed.getsampwidth()
    assert abs(frames / parsed.getframerate() - RECORDED_SECONDS) < 0.3


def check_compressed(media: bytes, combination: dict[str, Any], channels: int) -> None:
    """An MP3 or MP4 file PyAV opens, with the documented streams, sample rate and picture."""
    with av.open(io.BytesIO(media)) as container:
        kinds = sorted(stream.type for stream in container.streams)
        [audio] = container.streams.audio
        assert audio.codec_context.sample_rate == combination["audio"]["sampleRate"]
        assert audio.codec_context.channels == channels
        if "video" in combination:
            [video] = container.streams.video
            picture = (video.codec_context.width, video.codec_context.height)
            assert picture == (VIDEO["video_width"], VIDEO["video_height"])
        assert container.duration is not None
        assert abs(container.duration / av.time_base - RECORDED_SECONDS) < 0.5
    assert kinds == (["audio", "video"] if "video" in combination else ["audio"])


@dataclass(frozen=True)
class Case:
    """One recording: its media, who is in the call, and how its file is checked."""

    name: str
    media: tuple[str, str, str]  # content, channel, format
    check: Callable[[bytes, dict[str, Any], int], None]
    participants: int = 2
    pins: tuple[tuple[int, int], ...] = ()  # (participant index, channel)

    def channels(self) -> int:
        """Mixed: the documented channel count; unmixed: one per participant (up to the max)."""
        audio = MEDIA[self.media]["audio"]
        if "channels" in audio:
            return int(audio["channels"])
        return min(self.participants, int(audio["maxChannels"]))


CASES = [
    Case("mixed-audio-wav", ("audio", "mixed", "wav"), check_wav),
    # pins out of call order: the last participant on channel 0, the first on channel 2
    Case("unmixed-audio-wav", ("audio", "unmixed", "wav"), check_wav, 4, ((3, 0), (0, 2))),
    Case("mixed-audio-mp3", ("audio", "mixed", "mp3"), check_compressed),
    Case("mixed-audioVideo-mp4", ("audioVideo", "mixed", "mp4"), check_compressed),
]


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def node() -> str:
    return node_with_sdk()


@pytest.fixture(scope="module")
def storage_emulator() -> Iterator[Running]:
    """Active at once, files ready at stop, locations on a storage host the SDK accepts."""
    settings = Settings(activation_delay=0, file_delay=0, content_url=STORAGE, **VIDEO)
    with serve(settings) as running:
        yield running


@pytest.fixture
def signed(storage_emulator: Running) -> Iterator[Client]:
    with Client(storage_emulator) as client:
        yield client


# ------------------------------------------------------------------ helpers
def participants(count: int) -> list[dict[str, Any]]:
    """ACS users unique to this run (xdist workers share nothing, but ids stay distinct)."""
    ids = [f"8:acs:jscontent_{uuid.uuid4().hex}" for _ in range(count)]
    return [{"rawId": raw, "communicationUser": {"id": raw}} for raw in ids]


def record(client: Client, case: Case) -> dict[str, Any]:
    """Start, let the emulator clock run while active, stop: the one chunk of its files (with
    ``pinned``: raw id -> channel of each ``channelAffinity`` pin)."""
    people = participants(case.participants)
    call = client.create_call(people)
    content, channel, format_ = case.media
    body: dict[str, Any] = {
        "callLocator": {"kind": "serverCallLocator", "serverCallId": call["serverCallId"]},
        "recordingContentType": content,
        "recordingChannelType": channel,
        "recordingFormatType": format_,
    }
    if case.pins:
        body["channelAffinity"] = [
            {"channel": channel_, "participant": people[index]} for index, channel_ in case.pins
        ]
    started = client.start(body)
    assert started.status_code == 200, started.text
    rid = started.json()["recordingId"]
    _wait(lambda: client.get(rid).json()["recordingState"] == "active", f"{rid} active")
    client.advance_clock(RECORDED_SECONDS)
    stopped = client.stop(rid)
    assert stopped.status_code == 204, stopped.text
    chunks: list[dict[str, Any]] = []

    def produced() -> bool:
        chunks[:] = client.result(rid).json()["recordingStorageInfo"]["recordingChunks"]
        return bool(chunks)

    _wait(produced, f"the files of {rid}", timeout=30.0)
    [chunk] = chunks
    return {**chunk, "pinned": {people[index]["rawId"]: channel_ for index, channel_ in case.pins}}


def _wait(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not reached within {timeout}s: {what}")
        time.sleep(0.01)


def path_of(location: str) -> str:
    """The path of a storage location: what the Python client asks the emulator for."""
    return urlsplit(location).path


def python_download(client: Client, location: str) -> bytes:
    response = client.request("GET", path_of(location))
    assert response.status_code == 200, (location, response.status_code)
    return response.content


def run_content(
    node: str, connection_string: str, chunk: dict[str, Any], out: Path, **env: str
) -> tuple[int, list[dict[str, Any]], str]:
    """content.mjs for one chunk: (exit status, its JSON lines, its stderr)."""
    args = [connection_string, chunk["contentLocation"], chunk["deleteLocation"], str(out)]
    clean = {key: value for key, value in os.environ.items() if not key.startswith("CALLREC_")}
    try:
        done = subprocess.run(
            [node, str(SCRIPT), *args],
            cwd=JS_DIR,
            env={**clean, "CALLREC_RANGE": "{},{}".format(*RANGE), **env},
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"content.mjs did not finish within {RUN_TIMEOUT}s")
    lines = []
    for raw in done.stdout.splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            pytest.fail(f"content.mjs printed a line that is not JSON: {raw!r}\n{done.stderr}")
    return done.returncode, lines, done.stderr


def check_requests(line: dict[str, Any], running: Running, method: str, status: int) -> None:
    """The SDK addressed the storage location, signed for the endpoint (x-ms-host), kept the
    storage host in Host; the script's httpClient sent it to the emulator, path unchanged."""
    [request] = line["requests"]
    asked = urlsplit(request["url"])
    assert (request["method"], request["status"]) == (method, status), request
    assert f"{asked.scheme}://{asked.netloc}" == STORAGE
    assert request["sentTo"] == running.endpoint + asked.path
    assert request["host"] == asked.netloc
    assert request["xMsHost"] == urlsplit(running.endpoint).netloc


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_download_range_and_delete(
    case: Case, node: str, storage_emulator: Running, signed: Client, tmp_path: Path
) -> None:
    chunk = record(signed, case)
    combination = MEDIA[case.media]
    assert chunk["contentLocation"] == (
        f"{STORAGE}/v1/objects/{chunk['documentId']}/content/{combination['contentKind']}"
    )
    ours = python_download(signed, chunk["contentLocation"])
    metadata = json.loads(python_download(signed, chunk["metadataLocation"]))
    placed = {entry["participantId"]: entry.get("channel") for entry in metadata["participants"]}
    assert chunk["pinned"].items() <= placed.items(), (chunk["pinned"], placed)
    out = tmp_path / f"{case.name}.{case.media[2]}"

    status, lines, stderr = run_content(node, str(storage_emulator), chunk, out)
    assert status == 0, f"content.mjs failed ({status}):\n{stderr}\n{lines}"
    steps = [line["step"] for line in lines]
    assert steps == [
        "downloadToPath",
        "downloadStreaming",
        "delete",
        "downloadAfterDelete",
        "deleteAfterDelete",
        "done",
    ]
    whole, ranged, deleted, download_gone, delete_gone, _done = lines

    # downloadToPath: the file on disk is the emulator's file, byte for byte, and parses
    media = out.read_bytes()
    assert whole["bytes"] == len(media) == len(ours)
    assert whole["sha256"] == hashlib.sha256(media).hexdigest() == hashlib.sha256(ours).hexdigest()
    case.check(media, combination, case.channels())
    check_requests(whole, storage_emulator, "GET", 200)
    assert whole["requests"][0]["range"] is None

    # downloadStreaming {offset, length}: Range bytes=offset-(offset+length-1), a 206, the slice
    offset, length = RANGE
    check_requests(ranged, storage_emulator, "GET", 206)
    assert ranged["requests"][0]["range"] == f"bytes={offset}-{offset + length - 1}"
    assert base64.b64decode(ranged["base64"]) == ours[offset : offset + length]
    assert ranged["bytes"] == min(length, len(ours) - offset)

    # delete: a 200, then the document is gone for Python too (media and metadata)
    check_requests(deleted, storage_emulator, "DELETE", 200)
    assert deleted["requests"][0]["sentTo"] == storage_emulator.endpoint + path_of(
        chunk["deleteLocation"]
    )
    for location in (chunk["contentLocation"], chunk["metadataLocation"]):
        gone = signed.request("GET", path_of(location))
        assert (gone.status_code, gone.content) == (404, b""), location

    # after the delete the SDK's own download and delete fail on the 404. SDK 1.6.0
    # (contentDownloader.js) throws a plain object for a non-2xx content response: {status} when
    # the body is empty, as the emulator's error bodies are; not a RestError, no statusCode.
    for line, method in ((download_gone, "GET"), (delete_gone, "DELETE")):
        check_requests(line, storage_emulator, method, 404)
        error = line["error"]
        assert (error["type"], error["status"], error["statusCode"]) == ("object", 404, None)
        assert error["keys"] == ["status"], error
    assert not Path(f"{out}.after-delete").exists()


def test_the_sdk_refuses_a_location_off_the_storage_hosts(
    node: str, storage_emulator: Running, signed: Client, tmp_path: Path
) -> None:
    """The emulator's own http URL is not a location SDK 1.6.0 will send credentials to: the
    script fails loudly before any request, and the document stays."""
    chunk = record(signed, CASES[0])
    local = {
        key: storage_emulator.endpoint + path_of(chunk[key])
        for key in ("contentLocation", "deleteLocation")
    }
    status, lines, stderr = run_content(
        node, str(storage_emulator), local, tmp_path / "refused.wav"
    )
    assert status == 1
    [line] = lines
    assert (line["step"], line["failedStep"], line["requests"]) == ("error", "downloadToPath", [])
    assert line["error"]["type"] == "Error"
    assert "must use HTTPS scheme" in line["error"]["message"]
    assert stderr.startswith("content.mjs: downloadToPath: Error")
    assert python_download(signed, chunk["contentLocation"])


def test_a_wrong_access_key_is_refused(
    node: str, storage_emulator: Running, signed: Client, tmp_path: Path
) -> None:
    """The signature the SDK makes for the endpoint (x-ms-host) is checked, not skipped: with
    another key the download is a 401, which the SDK throws as {status}; the document stays."""
    chunk = record(signed, CASES[0])
    wrong = str(storage_emulator).replace(
        storage_emulator.access_key, "A" * len(storage_emulator.access_key)
    )
    status, lines, stderr = run_content(node, wrong, chunk, tmp_path / "refused.wav")
    assert status == 1, stderr
    [line] = lines
    assert (line["step"], line["failedStep"]) == ("error", "downloadToPath")
    assert (line["error"]["type"], line["error"]["status"]) == ("object", 401)
    assert [request["status"] for request in line["requests"]] == [401]
    assert python_download(signed, chunk["contentLocation"])
