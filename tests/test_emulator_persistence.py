"""Persistence: with a data dir, calls, recordings, files, subscriptions and owed deliveries
survive a restart, a graceful one (in-process `serve`) and a SIGKILL (`callrec emulator` in a
subprocess)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path
from typing import Any

import callrec
from callrec.client import Client
from callrec.emulator import Settings, serve
from tests.plugins.emulator import PARTICIPANTS, Receiver

WAV = {
    "recordingContentType": "audio",
    "recordingChannelType": "mixed",
    "recordingFormatType": "wav",
}
MP3 = {**WAV, "recordingFormatType": "mp3"}
FAST = Settings(activation_delay=0, file_delay=0.05, callback_backoff=0.05)


def _path(location: str) -> str:
    return "/" + location.split("://", 1)[1].split("/", 1)[1]


def _wait_active(client: Client, recording_id: str) -> None:
    deadline = time.monotonic() + 5
    while client.get(recording_id).json()["recordingState"] != "active":
        assert time.monotonic() < deadline, "the recording never turned active"
        time.sleep(0.01)


def _chunks(client: Client, recording_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        result = client.result(recording_id)
        assert result.status_code == 200, result.text
        chunks: list[dict[str, Any]] = result.json()["recordingStorageInfo"]["recordingChunks"]
        if chunks:
            return chunks
        assert time.monotonic() < deadline, "no files were produced"
        time.sleep(0.02)


def _download(client: Client, location: str) -> bytes:
    deadline = time.monotonic() + 5
    while True:
        response = client.request("GET", _path(location))
        if response.status_code == 200:
            return response.content
        assert response.status_code == 404, response.status_code
        assert time.monotonic() < deadline, f"{location} never became downloadable"
        time.sleep(0.02)


def _start(client: Client, options: dict[str, Any] | None = None) -> tuple[str, str]:
    call = client.create_call(PARTICIPANTS)
    started = client.start(
        {"callLocator": {"serverCallId": call["serverCallId"]}, **(options or WAV)}
    )
    assert started.status_code == 200, started.text
    return call["serverCallId"], started.json()["recordingId"]


def test_a_recording_carries_on_after_a_restart_mid_lifecycle(tmp_path: Path) -> None:
    with serve(FAST, data_dir=tmp_path) as running, Client(running) as client:
        call_id, rid = _start(client)
        _wait_active(client, rid)
        client.advance_clock(2)
        assert client.pause(rid).status_code == 202
        client.advance_clock(1)
    with serve(FAST, data_dir=tmp_path) as running, Client(running) as client:
        state = client.get(rid)
        assert state.status_code == 200, state.text
        assert state.json()["recordingState"] == "inactive"  # still paused
        assert client.request("GET", f"/emulator/calls/{_quote(call_id)}").status_code == 200
        assert client.resume(rid).status_code == 202
        assert client.get(rid).json()["recordingState"] == "active"
        client.advance_clock(2)
        assert client.stop(rid).status_code == 204
        [chunk] = _chunks(client, rid)
        media = _download(client, chunk["contentLocation"])
        metadata = json.loads(_download(client, chunk["metadataLocation"]))
    with wave.open(io.BytesIO(media)) as parsed:
        seconds = parsed.getnframes() / parsed.getframerate()
    # 2 s before the pause + 2 s after the resume (plus request latency): the pause is absent
    assert 4.0 <= seconds < 4.5
    assert callrec.validate(metadata, "RecordingMetadata") == []
    [pause] = metadata["pauseResumeIntervals"]
    assert 1000 <= pause["duration"] < 1500  # milliseconds


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def test_files_survive_a_restart_byte_for_byte_at_the_new_address(tmp_path: Path) -> None:
    with serve(FAST, data_dir=tmp_path) as running, Client(running) as client:
        _, wav_id = _start(client)
        _, mp3_id = _start(client, MP3)
        _wait_active(client, wav_id)
        _wait_active(client, mp3_id)
        client.advance_clock(3)
        assert client.stop(wav_id).status_code == 204
        assert client.stop(mp3_id).status_code == 204
        before = {
            rid: {k: _download(client, c[k]) for k in ("contentLocation", "metadataLocation")}
            for rid in (wav_id, mp3_id)
            for c in _chunks(client, rid)
        }
        old_endpoint = running.endpoint
    orphan = tmp_path / "media" / "left-by-a-killed-encoder"
    orphan.write_bytes(b"half a file")
    with serve(FAST, data_dir=tmp_path) as running, Client(running) as client:
        assert running.endpoint != old_endpoint
        for rid, files in before.items():
            [chunk] = _chunks(client, rid)
            assert chunk["contentLocation"].startswith(running.endpoint)
            for key, data in files.items():
                after = _download(client, chunk[key])
                assert hashlib.sha256(after).digest() == hashlib.sha256(data).digest(), key
    assert not orphan.exists()


def test_an_event_due_after_a_restart_is_delivered_to_the_kept_subscription(
    tmp_path: Path, receiver: Receiver
) -> None:
    slow_files = Settings(activation_delay=0, file_delay=60)
    with serve(slow_files, data_dir=tmp_path) as running, Client(running) as client:
        created = client.request(
            "POST",
            "/emulator/eventgrid/subscriptions",
            json={"endpointUrl": receiver.url, "schema": "EventGridSchema"},
        )
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "active"
        _, rid = _start(client)
        _wait_active(client, rid)
        client.advance_clock(2)
        assert client.stop(rid).status_code == 204
        _chunks(client, rid)  # produced, not yet announced
    assert receiver.bodies == []
    with serve(slow_files, data_dir=tmp_path) as running, Client(running) as client:
        [subscription] = client.request("GET", "/emulator/eventgrid/subscriptions").json()[
            "subscriptions"
        ]
        assert subscription["status"] == "active", subscription
        client.advance_clock(60)
        [[event]] = receiver.wait_for(lambda seen: len(seen) >= 1, timeout=10)
        assert event["eventType"] == "Microsoft.Communication.RecordingFileStatusUpdated"
        [chunk] = event["data"]["recordingStorageInfo"]["recordingChunks"]
        assert chunk["contentLocation"].startswith(running.endpoint)
        assert len(_download(client, chunk["contentLocation"])) > 44
        time.sleep(0.2)
    assert len(receiver.bodies) == 1  # announced once, not again by a later restart


def test_an_owed_callback_is_delivered_after_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    patient = Settings(activation_delay=0, callback_attempts=50, callback_backoff=0.05)
    receiver.status = 503
    with serve(patient, data_dir=tmp_path) as running, Client(running) as client:
        _, rid = _start(client, {**WAV, "recordingStateCallbackUri": receiver.url})
        _wait_active(client, rid)
        receiver.wait_for(lambda seen: len(seen) >= 2)  # refused at least twice
    receiver.status = 200
    refused = len(receiver.bodies)
    with serve(patient, data_dir=tmp_path):
        seen = receiver.wait_for(lambda seen: len(seen) > refused)
    [event] = seen[refused]
    assert event["data"]["recordingId"] == rid
    assert event["data"]["state"] == "active"


def test_reset_repeatability_and_clock_are_durable(tmp_path: Path) -> None:
    request_id = "a7b2b6c0-3f43-4a51-9a4c-7b8f5c1f7d10"
    headers = {
        "Repeatability-Request-ID": request_id,
        "Repeatability-First-Sent": "Fri, 20 Nov 2026 10:00:00 GMT",
    }
    with serve(FAST, data_dir=tmp_path) as running, Client(running) as client:
        _, gone = _start(client)
        client.reset()
        call = client.create_call(PARTICIPANTS)
        body = {"callLocator": {"serverCallId": call["serverCallId"]}, **WAV}
        first = client.request(
            "POST",
            "/calling/recordings",
            params={"api-version": "2025-06-15"},
            json=body,
            headers=headers,
        )
        assert first.status_code == 200, first.text
        now = client.advance_clock(3600)
    with serve(FAST, data_dir=tmp_path) as running, Client(running) as client:
        assert client.get(gone).status_code == 404
        again = client.request(
            "POST",
            "/calling/recordings",
            params={"api-version": "2025-06-15"},
            json=body,
            headers=headers,
        )
        assert again.status_code == 200
        assert again.json() == first.json()
        assert client.advance_clock(0) >= now  # the hour moved ahead is kept


def test_one_emulator_per_data_dir(tmp_path: Path) -> None:
    with serve(FAST, data_dir=tmp_path):
        result = subprocess.run(
            [sys.executable, "-m", "callrec", "emulator", "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 2
    assert "another emulator is using the data dir" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_damaged_state_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "state.sqlite3").write_bytes(b"this is not a database" * 100)
    result = subprocess.run(
        [sys.executable, "-m", "callrec", "emulator", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "state.sqlite3 is not an emulator state database" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- SIGKILL


class Launched:
    """``callrec emulator --data-dir D`` in a subprocess."""

    def __init__(self, data_dir: Path) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "callrec",
                "emulator",
                "--data-dir",
                str(data_dir),
                "--activation-delay",
                "0",
                "--file-delay",
                "0",
                "--log-level",
                "warning",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        assert line.startswith("CALLREC_CONNECTION_STRING="), line
        self.connection_string = line.split("=", 1)[1]

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


# what a recording's state may be after each step the client saw acknowledged; the step in
# flight when the process died may or may not have landed
STEPS = ("start", "pause", "resume", "stop")
STATE_AFTER = {"start": "active", "pause": "inactive", "resume": "active", "stop": None}


def _lifecycles(client: Client, acknowledged: dict[str, str], stop: threading.Event) -> None:
    """Run lifecycles until told to stop or the server dies; record the last acknowledged
    step of each recording."""
    try:
        while not stop.is_set():
            _, rid = _start(client)
            acknowledged[rid] = "start"
            _wait_active(client, rid)
            for step in STEPS[1:]:
                answer = getattr(client, step)(rid)
                assert answer.status_code in (202, 204), answer.text
                acknowledged[rid] = step
    except Exception:
        return


def test_sigkill_at_any_moment_leaves_a_consistent_store(tmp_path: Path) -> None:
    kill_dir = tmp_path
    rng = random.Random(20261121)  # noqa: S311 (timing, not secrets)
    acknowledged: dict[str, str] = {}
    for _round in range(3):
        launched = Launched(kill_dir)
        try:
            with Client(launched.connection_string) as client:
                stop = threading.Event()
                worker = threading.Thread(target=_lifecycles, args=(client, acknowledged, stop))
                worker.start()
                time.sleep(rng.uniform(0.3, 0.8))
                launched.kill()
                stop.set()
                worker.join(30)
        finally:
            if launched.process.poll() is None:
                launched.kill()
    with sqlite3.connect(kill_dir / "state.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    launched = Launched(kill_dir)
    try:
        with Client(launched.connection_string) as client:
            assert acknowledged, "no lifecycle got anywhere before the kills"
            for rid, step in acknowledged.items():
                allowed = {STATE_AFTER[step], STATE_AFTER[STEPS[min(STEPS.index(step) + 1, 3)]]}
                answer = client.get(rid)
                state = answer.json()["recordingState"] if answer.status_code == 200 else None
                assert answer.status_code in (200, 404), answer.text
                assert state in allowed, (rid, step, state)
                if state is None:  # stopped: its files are there and complete
                    [chunk] = _chunks(client, rid)
                    media = _download(client, chunk["contentLocation"])
                    with wave.open(io.BytesIO(media)) as parsed:
                        assert parsed.getnframes() > 0
    finally:
        launched.kill()
