"""Recorded content: every documented media combination is recorded with a pause, then its
media and metadata are downloaded from the locations the event names (or the preview
``/result``), parsed, and compared with each other and with what the test did; unmixed
channels follow channelAffinity and audioChannelParticipantOrdering; Range requests; delete.

The expected formats come from specs/media.yaml. What the test did is a timeline of the
recording's active and paused spans: the target's own, from the RecordingStateChanged
callbacks' times when they come, else this machine's clock around each request.
"""
# ruff: noqa: PT018, PLR0917  (one assertion message for related facts; fixtures as positional
# arguments)

from __future__ import annotations

import io
import json
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import av
import numpy as np
import pytest

import callrec
from callrec.client import Client
from callrec.conformance import NotObserved, ProvidedCall, Receiver, Target
from callrec.conformance.plugin import RunOptions, needs
from suites.support import (
    EVENT_GRID_SCHEMA,
    POLL_INTERVAL,
    EventFeed,
    answer_date,
    applies,
    cheap_options,
    content_request,
    content_type_of,
    emulator_tones,
    event_type_of,
    events_in,
    excerpt,
    hook_problem,
    locator,
    media_combinations,
    media_options,
    operate,
    parse_instant,
    require_fields,
    start_recording_with,
    wait_for_state,
)

COMBINATIONS: Final = media_combinations()
DEFAULT: Final = COMBINATIONS[0]  # specs/media.yaml: a start naming no type records the first
# What each combination's file must show beyond the common checks, by requirement.
FORMAT_RULES: Final = {
    ("audio", "mixed", "wav"): ("REC-MEDIA-001",),
    ("audio", "unmixed", "wav"): ("REC-MEDIA-002",),
    ("audio", "mixed", "mp3"): ("REC-MEDIA-003",),
    ("audioVideo", "mixed", "mp4"): ("REC-MEDIA-004",),
}
STATE_CHANGED: Final = event_type_of("RecordingStateChangedCloudEvent")
ACTIVE_SECONDS: Final = 0.2  # each active span
PAUSE_SECONDS: Final = 0.4  # the one pause: twice TOLERANCE, so it cannot hide in it
TOLERANCE: Final = 0.2  # seconds between the timeline and the media or metadata
FILE_SLACK_MS: Final = 100.0  # chunkDuration against the parsed file (codec frames, padding)
VOICED_RMS: Final = 300.0  # a channel louder than this (16-bit units) carries someone
TONE_SLACK_HZ: Final = 15.0


def _key(combination: dict[str, Any]) -> tuple[str, str, str]:
    return combination["content"], combination["channel"], combination["format"]


def _case(combination: dict[str, Any]) -> Any:
    name = "-".join(_key(combination))
    rules = FORMAT_RULES[_key(combination)]
    if combination is DEFAULT:
        name, rules = f"{name}-default", (*rules, "REC-MEDIA-005")
    return pytest.param(combination, id=name, marks=pytest.mark.requirement(*rules))


# ---------------------------------------------------------------- what the test did
@dataclass(frozen=True)
class Timeline:
    """A recording's active and paused spans (POSIX seconds); ``source`` says whose clock."""

    source: str  # "callbacks" (the target's times) or "local" (this machine, around requests)
    active: list[tuple[float, float]]
    pauses: list[tuple[float, float]] = field(default_factory=list)

    @property
    def recorded(self) -> float:
        return sum(end - start for start, end in self.active)


@dataclass(frozen=True)
class Recording:
    recording_id: str
    not_before: float | None
    local: Timeline
    channel: str | None  # the callback channel, when the target can reach the webhook

    def timeline(self, hooks: Receiver) -> Timeline:
        """The target's timeline from its callbacks when they all came, else the local one."""
        if self.channel is None:
            return self.local
        marks = [
            (event["data"].get("state"), parse_instant(event.get("time")))
            for delivery in hooks.received(self.channel)
            for event in events_in(delivery.body)
            if event.get("type") == STATE_CHANGED
            and isinstance(event.get("data"), dict)
            and event["data"].get("recordingId") == self.recording_id
        ]
        states = ["active", "inactive"] * len(self.local.active)
        times = [moment for _, moment in marks if moment is not None]
        if [state for state, _ in marks] != states or len(times) != len(marks):
            return self.local  # callbacks are test_callbacks' business: fall back quietly
        spans = [(times[n], times[n + 1]) for n in range(0, len(times), 2)]
        gaps = [(spans[n][1], spans[n + 1][0]) for n in range(len(spans) - 1)]
        return Timeline("callbacks", spans, gaps)


def _timed(client: Client, name: str, recording_id: str) -> float:
    """Send a pause, resume or stop; the local time halfway through the exchange."""
    sent = time.time()
    operate(client, name, recording_id)
    return (sent + time.time()) / 2


def record(
    target: Target,
    client: Client,
    hooks: Receiver,
    call: ProvidedCall,
    options: dict[str, Any],
    *,
    pause: bool,
    active_seconds: float = ACTIVE_SECONDS,
) -> Recording:
    """Record: active, (a pause, active again,) stop; with state callbacks when possible."""
    channel = None if hook_problem(target, hooks) else hooks.channel()
    body = {"callLocator": locator(call), **options}
    if channel is not None:
        body["recordingStateCallbackUri"] = hooks.url(channel)
    answer, rid = start_recording_with(client, body)
    date = answer_date(answer)
    wait_for_state(client, rid, "active")
    began = time.time()
    time.sleep(active_seconds)
    spans, pauses = [], []
    if pause:
        paused = _timed(client, "pause", rid)
        wait_for_state(client, rid, "inactive")
        time.sleep(PAUSE_SECONDS)
        resumed = _timed(client, "resume", rid)
        wait_for_state(client, rid, "active")
        spans.append((began, paused))
        pauses.append((paused, resumed))
        began = resumed
        time.sleep(active_seconds)
    spans.append((began, _timed(client, "stop", rid)))
    return Recording(
        rid, None if date is None else date - 1.0, Timeline("local", spans, pauses), channel
    )


def published_chunks(
    target: Target,
    client: Client,
    api_version: str,
    feed: EventFeed,
    call: ProvidedCall,
    recording: Recording,
    timeout: float,
) -> list[dict[str, Any]]:
    """The recording's chunks: from its RecordingFileStatusUpdated, or, on the preview with no
    Event Grid subscription to hear it, from ``/result`` once its files download."""
    if feed.unusable is None or not applies("REC-RESULT-001", api_version):
        _, event = feed.wait_for_file_event(
            EVENT_GRID_SCHEMA, call.server_call_id, timeout=timeout, not_before=recording.not_before
        )
        return list(event["data"]["recordingStorageInfo"]["recordingChunks"])
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        answer = client.result(recording.recording_id, api_version=api_version)
        last = excerpt(answer)
        body = answer.json() if answer.status_code == 200 else {}
        chunks = ((body or {}).get("recordingStorageInfo") or {}).get("recordingChunks") or []
        ready = chunks and all(
            content_request(target, client, "GET", c["metadataLocation"]).status_code == 200
            for c in chunks
        )
        if ready:
            return list(chunks)
        time.sleep(POLL_INTERVAL * 4)
    raise NotObserved(
        f"not observed within {timeout:g}s: chunk locations from /result (last: {last})"
    )


def require_chunk_source(feed: EventFeed, api_version: str) -> None:
    """Not applicable (before recording anything) when no chunk locations can be had: no
    Event Grid subscription, and no preview ``/result`` on this version."""
    if feed.broken or not applies("REC-RESULT-001", api_version):
        feed.require()


def download(target: Target, client: Client, location: str, rule: str) -> bytes:
    """GET a location: 200, application/octet-stream (or what the version documents), some
    bytes."""
    answer = content_request(target, client, "GET", location)
    kind = answer.headers.get("content-type", "")
    wanted = content_type_of(client.api_version, location)
    assert answer.status_code == 200 and kind.split(";")[0].strip() == wanted, (
        f"{rule}: GET {location} should answer 200 {wanted}; got {excerpt(answer, 80)} "
        f"of type {kind!r}"
    )
    assert answer.content, f"{rule}: GET {location} answered 200 with nothing"
    return answer.content


# ---------------------------------------------------------------- what the file holds
@dataclass
class Media:
    seconds: float
    sample_rate: int
    channels: int
    sample_bits: int | None = None
    samples: Any = None  # int16 array (frames, channels): wav only
    video: tuple[int, int, float] | None = None  # width, height, frames per second


def container_problem(form: str, data: bytes) -> str | None:
    """REC-MEDIA-007: the file starts as its container does."""
    well_formed = {
        "wav": data[:4] == b"RIFF" and data[8:12] == b"WAVE",
        "mp3": data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0),
        "mp4": data[4:8] == b"ftyp",
    }
    return None if well_formed.get(form, True) else f"a {form} file starting {data[:12]!r}"


def parse(form: str, data: bytes) -> Media:
    if form == "wav":
        with wave.open(io.BytesIO(data)) as parsed:
            rate, channels, width = (
                parsed.getframerate(),
                parsed.getnchannels(),
                parsed.getsampwidth(),
            )
            frames = parsed.readframes(parsed.getnframes())
        samples = (
            np.frombuffer(frames, "<i2").reshape(-1, channels) if width == 2 and channels else None
        )
        count = len(frames) // max(1, width * channels)
        return Media(count / rate, rate, channels, width * 8, samples)
    with av.open(io.BytesIO(data)) as container:
        audio = container.streams.audio[0]
        rate, channels = audio.codec_context.sample_rate, audio.codec_context.channels
        video = None
        if container.streams.video:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            video = (stream.codec_context.width, stream.codec_context.height, fps)
        count = sum(frame.samples for frame in container.decode(audio))
    return Media(count / rate, rate, channels, None, None, video)


def _close(value: float, expected: float, slack: float) -> bool:
    return abs(value - expected) <= slack


def check_metadata(metadata: Any, chunk: dict[str, Any], media: Media, api_version: str) -> None:
    """REC-META-001 to REC-META-003: the document, its chunk and its file agree."""
    failures = callrec.validate(metadata, "RecordingMetadata", api_version=api_version)
    assert not failures, (
        f"REC-META-001: not a RecordingMetadata document: {'; '.join(map(str, failures[:3]))}"
    )
    ids = (metadata["chunkDocumentId"], metadata["chunkIndex"])
    assert ids == (chunk["documentId"], chunk["index"]), (
        f"REC-META-002: the metadata names chunk {ids}; the event names "
        f"{(chunk['documentId'], chunk['index'])}"
    )
    assert _close(float(metadata["chunkDuration"]), media.seconds * 1000, FILE_SLACK_MS), (
        f"REC-META-003: chunkDuration is {metadata['chunkDuration']} ms; the file holds "
        f"{media.seconds * 1000:.0f} ms"
    )


def check_recording_info(
    metadata: dict[str, Any], combination: dict[str, Any], media: Media
) -> None:
    """REC-META-005 / REC-META-006: recordingInfo tells what was recorded and what the file is."""
    info = metadata["recordingInfo"]
    types = {str(info.get("contentType")).casefold(), str(info.get("channelType")).casefold()}
    # one real file swaps contentType and channelType (contract digest §6): either order
    asked = {combination["content"].casefold(), combination["channel"].casefold()}
    assert types == asked and str(info.get("format")).casefold() == combination["format"], (
        f"REC-META-005: recordingInfo should say {_key(combination)}; it says "
        f"{(info.get('contentType'), info.get('channelType'), info.get('format'))}"
    )
    audio = info.get("audioConfiguration") or {}
    assert str(audio.get("sampleRate")) == str(combination["audio"]["sampleRate"]), (
        f"REC-META-006: sampleRate should be {combination['audio']['sampleRate']}; "
        f"it is {audio.get('sampleRate')!r}"
    )
    assert audio.get("channels") == media.channels, (
        f"REC-META-005: audioConfiguration.channels is {audio.get('channels')}; the file has "
        f"{media.channels}"
    )
    video = info.get("videoConfiguration")
    assert (video is not None) == ("video" in combination), (
        f"REC-META-005: videoConfiguration belongs to mp4 alone; {combination['format']} "
        f"metadata {'has' if video else 'lacks'} it"
    )
    if video is not None and media.video is not None:
        width, height, fps = media.video
        shown = (video.get("longerSideLength"), video.get("shorterSideLength"))
        assert shown == (max(width, height), min(width, height)), (
            f"REC-META-005: videoConfiguration says {shown}; the file is {width}x{height}"
        )
        assert _close(float(video.get("framerate") or 0), fps, 0.5), (
            f"REC-META-005: videoConfiguration.framerate is {video.get('framerate')}; the file "
            f"runs at {fps:g} fps"
        )


def check_media(target: Target, combination: dict[str, Any], media: Media) -> None:
    """REC-MEDIA-001 to REC-MEDIA-004: the file is the documented format."""
    rules = "/".join(FORMAT_RULES[_key(combination)])
    audio = combination["audio"]
    assert media.sample_rate == audio["sampleRate"], (
        f"{rules}: audio sampled at {media.sample_rate} Hz, expected {audio['sampleRate']}"
    )
    if "bitsPerSample" in audio:
        assert media.sample_bits == audio["bitsPerSample"], (
            f"{rules}: {media.sample_bits}-bit samples, expected {audio['bitsPerSample']}"
        )
    if "channels" in audio:
        assert media.channels == audio["channels"], (
            f"{rules}: {media.channels} channels, expected {audio['channels']}"
        )
    if "maxChannels" in audio:
        assert 1 <= media.channels <= audio["maxChannels"], (
            f"{rules}: {media.channels} channels, expected 1 to {audio['maxChannels']}"
        )
    if "video" in combination:
        assert media.video is not None, f"{rules}: the {combination['format']} file has no video"
        if target.is_emulator:
            return  # an emulator's picture is its own setting (callrec emulator --video-size)
        documented = combination["video"]
        width, height, fps = media.video
        assert (width, height) == (
            documented["longerSideLength"],
            documented["shorterSideLength"],
        ) and _close(fps, documented["framerate"], 0.5), (
            f"{rules}: the video is {width}x{height} at {fps:g} fps, expected "
            f"{documented['longerSideLength']}x{documented['shorterSideLength']} at "
            f"{documented['framerate']} fps"
        )


def check_timeline(metadata: dict[str, Any], media: Media, timeline: Timeline) -> None:
    """REC-MEDIA-006 / REC-META-004: paused time is absent; the pause is listed as made."""
    assert _close(media.seconds, timeline.recorded, TOLERANCE), (
        f"REC-MEDIA-006: the file holds {media.seconds:.3f} s; the recording was active "
        f"{timeline.recorded:.3f} s ({timeline.source} timeline, paused "
        f"{sum(e - s for s, e in timeline.pauses):.3f} s)"
    )
    listed = metadata["pauseResumeIntervals"]
    assert len(listed) == len(timeline.pauses), (
        f"REC-META-004: {len(timeline.pauses)} pause(s) made, pauseResumeIntervals lists "
        f"{len(listed)}: {listed}"
    )
    for interval, (start, end) in zip(listed, timeline.pauses, strict=True):
        assert _close(float(interval["duration"]) / 1000, end - start, TOLERANCE), (
            f"REC-META-004: a {end - start:.3f} s pause is listed as {interval['duration']} ms "
            f"({timeline.source} timeline)"
        )
        began = parse_instant(interval["startTime"])
        if timeline.source == "callbacks":  # the same clock: the times compare
            assert began is not None and _close(began, start, TOLERANCE), (
                f"REC-META-004: the pause began at {start:.3f} (callback time); the metadata "
                f"says {interval['startTime']}"
            )


def check_participants(metadata: dict[str, Any], call: ProvidedCall, unmixed: bool) -> None:
    """REC-META-007: everyone recorded is listed, with a channel when unmixed."""
    listed = metadata["participants"]
    ids = [entry.get("participantId") for entry in listed]
    known = [person["rawId"] for person in call.participants]
    assert ids and set(known) <= set(ids), (
        f"REC-META-007: the call has {known}; participants lists {ids}"
    )
    if unmixed:
        channels = [entry.get("channel") for entry in listed]
        assert None not in channels and len(set(channels)) == len(channels), (
            f"REC-META-007: on an unmixed recording each participant has its own channel; got "
            f"{listed}"
        )


@pytest.fixture
def cleanup(target: Target, target_client: Client, run_options: RunOptions) -> Iterator[list[str]]:
    """Delete locations to remove after the test (the recorded files); with
    --no-destructive they stay (the user may want them)."""
    locations: list[str] = []
    yield locations
    if run_options.no_destructive:
        return
    for location in locations:
        content_request(target, target_client, "DELETE", location)


# ---------------------------------------------------------------- the tests
@pytest.mark.requirement(
    "REC-DOWNLOAD-001",
    "REC-DOWNLOAD-002",
    "REC-META-001",
    "REC-META-002",
    "REC-META-003",
    "REC-META-004",
    "REC-META-005",
    "REC-META-006",
    "REC-META-007",
    "REC-MEDIA-006",
    "REC-MEDIA-007",
)
@pytest.mark.parametrize("combination", [_case(c) for c in COMBINATIONS])
def test_recorded_media_agrees_with_its_metadata_and_the_pause(
    target: Target,
    target_client: Client,
    api_version: str,
    provided_call: ProvidedCall,
    hooks: Receiver,
    event_feed: EventFeed,
    event_timeout: float,
    cleanup: list[str],
    combination: dict[str, Any],
) -> None:
    require_chunk_source(event_feed, api_version)
    options = {} if combination is DEFAULT else media_options(combination, api_version)
    recording = record(target, target_client, hooks, provided_call, options, pause=True)
    chunks = published_chunks(
        target, target_client, api_version, event_feed, provided_call, recording, event_timeout
    )
    cleanup += [chunk["deleteLocation"] for chunk in chunks]
    assert len(chunks) == 1, (
        f"REC-MEDIA-006: a recording of about a second with one pause is one file; the event "
        f"lists {len(chunks)} chunks"
    )
    [chunk] = chunks
    data = download(target, target_client, chunk["contentLocation"], "REC-DOWNLOAD-001")
    problem = container_problem(combination["format"], data)
    assert problem is None, f"REC-MEDIA-007: not a well-formed {combination['format']}: {problem}"
    media = parse(combination["format"], data)
    raw = download(target, target_client, chunk["metadataLocation"], "REC-DOWNLOAD-002")
    try:
        metadata = json.loads(raw.decode("utf-8-sig"))
    except ValueError as exc:
        pytest.fail(f"REC-DOWNLOAD-002: the metadata is not JSON ({exc}): {raw[:200]!r}")
    check_metadata(metadata, chunk, media, api_version)
    check_recording_info(metadata, combination, media)
    check_media(target, combination, media)
    check_timeline(metadata, media, recording.timeline(hooks))
    check_participants(metadata, provided_call, combination["channel"] == "unmixed")


UNMIXED: Final = next(c for c in COMBINATIONS if c["channel"] == "unmixed")


@pytest.mark.requirement("REC-META-008", "REC-META-009", "REC-MEDIA-002")
def test_unmixed_channels_follow_ordering_and_affinity(
    target: Target,
    target_client: Client,
    api_version: str,
    call_provider: Any,
    provided_call: ProvidedCall,
    hooks: Receiver,
    event_feed: EventFeed,
    event_timeout: float,
    cleanup: list[str],
) -> None:
    require_fields(
        api_version,
        "StartCallRecordingRequest",
        "audioChannelParticipantOrdering",
        "channelAffinity",
    )
    needs(call_provider, "participants", "channelAffinity names participants of the call")
    require_chunk_source(event_feed, api_version)
    first, second, third = provided_call.participants[:3]
    options = {
        **media_options(UNMIXED, api_version),
        "audioChannelParticipantOrdering": [first],
        # pins past the channels the others would fill on their own (1 and 2, in the order
        # they first speak), so a target ignoring channelAffinity cannot match by chance
        "channelAffinity": [
            {"channel": 4, "participant": second},
            {"channel": 3, "participant": third},
        ],
    }
    expected = {first["rawId"]: 0, third["rawId"]: 3, second["rawId"]: 4}
    recording = record(target, target_client, hooks, provided_call, options, pause=False)
    [chunk, *_] = chunks = published_chunks(
        target, target_client, api_version, event_feed, provided_call, recording, event_timeout
    )
    cleanup += [c["deleteLocation"] for c in chunks]
    media = parse(
        "wav", download(target, target_client, chunk["contentLocation"], "REC-DOWNLOAD-001")
    )
    metadata = json.loads(
        download(target, target_client, chunk["metadataLocation"], "REC-DOWNLOAD-002").decode(
            "utf-8-sig"
        )
    )
    placed = {
        entry.get("participantId"): entry.get("channel")
        for entry in metadata.get("participants") or []
        if entry.get("participantId") in expected
    }
    assert placed == expected, (
        "REC-META-008/009: audioChannelParticipantOrdering puts its first participant on "
        f"channel 0 and channelAffinity pins the others; expected {expected}, the metadata "
        f"says {placed}"
    )
    assert media.channels >= len(expected) and media.channels <= UNMIXED["audio"]["maxChannels"], (
        f"REC-MEDIA-002: a channel per participant ({len(expected)}), at most "
        f"{UNMIXED['audio']['maxChannels']}; the file has {media.channels}"
    )
    if target.is_emulator:  # who is on each channel, from the emulator's documented tones
        check_emulator_voices(media, expected, [p["rawId"] for p in provided_call.participants])


def check_emulator_voices(media: Media, channels: dict[str, int], everyone: list[str]) -> None:
    """On a callrec emulator each participant speaks its own tone: every channel that carries
    sound carries the tone of the participant placed there."""
    tones = emulator_tones(everyone)
    on_channel = {channel: person for person, channel in channels.items()}
    samples = media.samples
    assert samples is not None, "REC-MEDIA-002: the unmixed file is not 16-bit PCM"
    voiced = []
    for channel in range(samples.shape[1]):
        signal = samples[:, channel].astype(np.float64)
        if signal.size == 0 or float(np.sqrt(np.mean(signal**2))) < VOICED_RMS:
            continue
        spectrum = np.abs(np.fft.rfft(signal))
        frequencies = np.fft.rfftfreq(signal.size, 1 / media.sample_rate)
        peak = float(frequencies[int(np.argmax(spectrum[1:])) + 1])
        person = on_channel.get(channel)
        heard = [p for p, hz in tones.items() if _close(peak, hz, TONE_SLACK_HZ)]
        assert person is not None and _close(peak, tones[person], TONE_SLACK_HZ), (
            f"REC-META-009: channel {channel} carries {peak:.0f} Hz, the tone of {heard or '?'}; "
            f"expected {person} ({tones.get(person or '', '?')} Hz)"
        )
        voiced.append(channel)
    assert voiced, "REC-MEDIA-002: no channel of the unmixed file carries any sound"


@pytest.mark.requirement(
    "REC-RANGE-001",
    "REC-RANGE-002",
    "REC-RANGE-003",
    "REC-RANGE-004",
    "REC-DELETE-001",
    "REC-DELETE-002",
    "REC-DELETE-003",
    "REC-DOWNLOAD-003",
    "REC-DOWNLOAD-004",
    "REC-DOWNLOAD-005",
)
@pytest.mark.destructive("deletes the content it recorded")
def test_ranges_and_delete(
    target: Target,
    target_client: Client,
    api_version: str,
    provided_call: ProvidedCall,
    hooks: Receiver,
    event_feed: EventFeed,
    event_timeout: float,
    cleanup: list[str],
) -> None:
    require_chunk_source(event_feed, api_version)
    recording = record(
        target,
        target_client,
        hooks,
        provided_call,
        cheap_options(api_version),
        pause=False,
        active_seconds=0.1,
    )
    [chunk, *_] = chunks = published_chunks(
        target, target_client, api_version, event_feed, provided_call, recording, event_timeout
    )
    cleanup += [c["deleteLocation"] for c in chunks]
    location = chunk["contentLocation"]
    whole = download(target, target_client, location, "REC-DOWNLOAD-001/005")
    size = len(whole)

    def get(rule: str, **headers: str) -> Any:
        answer = content_request(target, target_client, "GET", location, headers)
        status = answer.status_code
        assert not 200 <= status < 300 or status in (200, 206), (
            f"REC-DOWNLOAD-003: a download answered {status}, a 2xx other than 200 and 206 ({rule})"
        )
        return answer

    first, last = 10, min(size - 1, 99)
    part = get("REC-RANGE-001", Range=f"bytes={first}-{last}")
    span = f"bytes {first}-{last}/{size}"
    assert (part.status_code, part.headers.get("content-range"), part.content) == (
        206,
        span,
        whole[first : last + 1],
    ), (
        f"REC-RANGE-001: Range bytes={first}-{last} should answer 206 with those "
        f"{last - first + 1} bytes and Content-Range {span!r}; got {part.status_code}, "
        f"{part.headers.get('content-range')!r}, {len(part.content)} bytes"
    )
    everything = get("REC-RANGE-003", Range="bytes=0-")
    span = f"bytes 0-{size - 1}/{size}"
    assert (everything.status_code, everything.headers.get("content-range")) == (206, span) and (
        everything.content == whole
    ), (
        f"REC-RANGE-003: Range bytes=0- should answer 206 with the whole object and "
        f"Content-Range {span!r}; got {everything.status_code}, "
        f"{everything.headers.get('content-range')!r}, {len(everything.content)} of {size} bytes"
    )
    beyond = get("REC-RANGE-002", Range=f"bytes={size}-")
    assert (beyond.status_code, beyond.headers.get("content-range"), beyond.content) == (
        416,
        f"bytes */{size}",
        b"",
    ), (
        f"REC-RANGE-002: Range bytes={size}- (past the end) should answer 416 with "
        f"Content-Range 'bytes */{size}' and no body; got {excerpt(beyond, 80)}, "
        f"{beyond.headers.get('content-range')!r}"
    )
    garbled = get("REC-RANGE-004", Range="bytes=ten-twenty")
    assert (garbled.status_code, garbled.content) == (200, whole), (
        "REC-RANGE-004: an unparsable Range is ignored: expected 200 with the whole object; "
        f"got {garbled.status_code} with {len(garbled.content)} of {size} bytes"
    )
    if target.is_emulator:  # the request goes to the endpoint: name a storage host instead
        routed = get("REC-DOWNLOAD-004", Host="recordings.storage.callrec.invalid")
        assert (routed.status_code, routed.content) == (200, whole), (
            "REC-DOWNLOAD-004: content is served by path whatever the Host header says; with "
            f"Host naming a storage host the download answered {excerpt(routed, 80)}"
        )

    deleted = content_request(target, target_client, "DELETE", chunk["deleteLocation"])
    assert (deleted.status_code, deleted.content) == (200, b""), (
        f"REC-DELETE-001/002: DELETE {chunk['deleteLocation']} should answer 200 with no body; "
        f"got {excerpt(deleted)}"
    )
    for name in ("contentLocation", "metadataLocation"):
        gone = content_request(target, target_client, "GET", chunk[name])
        assert (gone.status_code, gone.content) == (404, b""), (
            f"REC-DELETE-003: after the delete, GET {chunk[name]} should answer 404 with no "
            f"body; got {excerpt(gone, 80)}"
        )
