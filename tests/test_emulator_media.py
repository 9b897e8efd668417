"""The emulator's recorded media: speakers, channel assignment, chunks, WAV streams, MP3/MP4 files
and their metadata documents.

Media is parsed back with independent readers (the stdlib `wave` module, PyAV/FFmpeg) and who
is on which channel is found by listening: each participant speaks its own tone, so an FFT of a
window tells who is talking. Channel rules come from seeds 000-003 (channelAffinity pins;
audioChannelParticipantOrdering puts its first participant on channel 0; the rest in the order
they first speak; with no ordering channel 0 goes to the first participant speaking); media
parameters from specs/media.yaml (contract digest §2); the metadata from §6.
"""

from __future__ import annotations

import io
import itertools
import json
import wave
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

import callrec
from callrec._specs import read_spec_yaml
from callrec.emulator._audio import (
    MAX_CHANNELS,
    TALK_SHARE,
    TONES,
    Speakers,
    channel_assignment,
    tone_slots,
)
from callrec.emulator._chunks import CHUNK_FULL, plan_chunks, recorded_pauses, recorded_spans
from callrec.emulator._encode import Pictures, VideoSettings
from callrec.emulator._faults import Faults
from callrec.emulator._media import (
    RecordingMedia,
    metadata_bytes,
    metadata_document,
    plan_media,
    plan_recording,
    video_settings,
)
from callrec.emulator._model import Model
from callrec.emulator._wav import HEADER_SIZE, WavStream

RATE = 16_000
T0 = 1_700_000_000.25  # a realistic emulator clock reading (POSIX seconds)
TURN = 0.1  # short turns keep recordings short
WINDOW = 0.02  # seconds per analysis window (320 samples: tones 200 Hz apart are 4 bins apart)
PEOPLE = [f"8:acs:29bd5ea9-e0fc-4d00-8f6f-339b1f0ee2e2_0000002{n}-aaaa" for n in range(6)]
IDS = {"resource_id": "29bd5ea9", "call_id": "a3f6c1d2", "document_id": "0-eus-d19-c0fe"}


def combination(fmt: str, channel: str = "mixed") -> dict[str, Any]:
    combos: list[dict[str, Any]] = read_spec_yaml("media.yaml")["combinations"]
    return next(c for c in combos if c["format"] == fmt and c["channel"] == channel)


def ident(raw: str) -> dict[str, Any]:
    return {"rawId": raw, "communicationUser": {"id": raw}}


def plan(
    fmt: str,
    channel: str = "mixed",
    *,
    people: Sequence[str] = PEOPLE[:3],
    options: dict[str, Any] | None = None,
    spans: Sequence[tuple[float, float]] = ((T0, T0 + 1.2),),
    max_chunk: float = 60.0,
    end_reason: str = "SessionEnded",
) -> RecordingMedia:
    return plan_media(
        media=combination(fmt, channel),
        participants=list(people),
        options=options or {},
        spans=spans,
        end_reason=end_reason,
        max_chunk_seconds=max_chunk,
        turn_seconds=TURN,
    )


# ------------------------------------------------------------------ listening
def parse_wav(data: bytes) -> tuple[Any, np.ndarray]:
    with wave.open(io.BytesIO(data)) as reader:
        params = reader.getparams()
        frames = reader.readframes(params.nframes)
    return params, np.frombuffer(frames, "<i2").reshape(-1, params.nchannels)


def dominant_tone(samples: np.ndarray, rate: int = RATE) -> int | None:
    """The tone of `TONES` that a window carries, or None for silence."""
    signal = samples.astype(np.float64)
    if np.sqrt(np.mean(signal**2)) < 500:
        return None
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size)))
    peak = float(np.fft.rfftfreq(signal.size, 1 / rate)[int(np.argmax(spectrum))])
    tone = min(TONES, key=lambda t: abs(t - peak))
    assert abs(tone - peak) < 60, f"a peak at {peak} Hz is no participant's tone"
    return tone


def who_speaks(samples: np.ndarray, tones: dict[str, int], rate: int = RATE) -> list[str | None]:
    """The participant heard in each window (None: silence), by its tone."""
    owner = {tone: person for person, tone in tones.items()}
    size = round(WINDOW * rate)
    return [
        None if (tone := dominant_tone(samples[i : i + size], rate)) is None else owner[tone]
        for i in range(0, samples.size - size + 1, size)
    ]


def first_heard(samples: np.ndarray, tones: dict[str, int]) -> list[str]:
    heard: list[str] = []
    for person in who_speaks(samples, tones):
        if person is not None and person not in heard:
            heard.append(person)
    return heard


def channel_owners(frames: np.ndarray, tones: dict[str, int]) -> list[str | None]:
    """Whom each channel carries (None: silent), checking it carries nobody else."""
    owners: list[str | None] = []
    for column in range(frames.shape[1]):
        heard = {p for p in who_speaks(frames[:, column], tones) if p is not None}
        assert len(heard) <= 1, f"channel {column} carries {sorted(heard)}"
        owners.append(next(iter(heard), None))
    return owners


# ------------------------------------------------------------------ speakers
def test_tones_are_stable_distinct_and_well_separated() -> None:
    people = PEOPLE[:5]
    slots = tone_slots(people)
    assert slots == tone_slots(reversed(people)), "the tones depend on the join order"
    tones = sorted(TONES[s] for s in slots.values())
    assert len(set(tones)) == 5
    assert min(b - a for a, b in itertools.pairwise(tones)) >= 200
    assert all(300 <= t <= 3400 for t in tones)
    # the tone comes from the raw id: alone in a call, or sharing its hashed slot with nobody,
    # a participant has the tone its id hashes to
    alone = {p: tone_slots([p])[p] for p in PEOPLE}
    unshared = [p for p in people if [alone[q] for q in people].count(alone[p]) == 1]
    assert unshared, "the test's ids all collide"
    assert all(slots[p] == alone[p] for p in unshared)


def test_each_participant_speaks_its_share_of_a_cycle() -> None:
    speakers = Speakers.for_call(PEOPLE[:5], sample_rate=RATE, anchor=123, turn_seconds=TURN)
    clock = speakers.anchor + np.arange(speakers.cycle, dtype=np.int64)
    who, samples = speakers.voices(clock)
    for index in range(5):
        share = np.count_nonzero(who == index) / speakers.cycle
        assert share == pytest.approx(TALK_SHARE / 5, abs=1e-3)
    assert np.count_nonzero(samples[who == -1]) == 0, "sound while nobody speaks"
    # the pattern repeats exactly after one cycle
    _, again = speakers.voices(clock + speakers.cycle)
    assert np.array_equal(samples, again)


def test_first_speech_skips_turns_hidden_by_a_pause() -> None:
    speakers = Speakers.for_call(PEOPLE[:3], sample_rate=RATE, anchor=0, turn_seconds=TURN)
    turn, order = speakers.turn, speakers.order
    # turn 0 recorded, turn 1 paused, turns 2-3 recorded: order[1] is never heard
    assert speakers.first_speech([(0, turn), (2 * turn, 4 * turn)]) == [order[0], order[2]]
    assert speakers.first_speech([(turn, 10 * turn)]) == [order[1], order[2], order[0]]
    # the silent tail of a turn does not count
    assert speakers.first_speech([(speakers.talk, turn)]) == []


# ------------------------------------------------------------------ channel rules
A, B, C, D, E, F = PEOPLE
ASSIGNMENT_CASES = [
    # (id, options, first speech, expected channels)
    ("first speech", {}, [C, A, B], {C: 0, A: 1, B: 2}),
    (
        "ordering puts its first on 0",
        {"audioChannelParticipantOrdering": [ident(B), ident(A)]},
        [C, A, B],
        {B: 0, C: 1, A: 2},
    ),
    (
        "affinity pins",
        {"channelAffinity": [{"channel": 2, "participant": ident(A)}]},
        [A, B, C],
        {A: 2, B: 0, C: 1},
    ),
    (
        "affinity before ordering",
        {
            "channelAffinity": [{"channel": 0, "participant": ident(C)}],
            "audioChannelParticipantOrdering": [ident(B)],
        },
        [A, B, C],
        {C: 0, B: 1, A: 2},
    ),
    (
        "pin and ordering together",
        {
            "channelAffinity": [{"channel": 3, "participant": ident(A)}],
            "audioChannelParticipantOrdering": [ident(C)],
        },
        [A, B, C],
        {A: 3, C: 0, B: 1},
    ),
    ("never heard come last", {}, [B], {B: 0, A: 1, C: 2}),
    (
        "pins of strangers are ignored",
        {"channelAffinity": [{"channel": 0, "participant": ident(F)}]},
        [A, B, C],
        {A: 0, B: 1, C: 2},
    ),
]


@pytest.mark.parametrize(
    ("options", "heard", "expected"),
    [case[1:] for case in ASSIGNMENT_CASES],
    ids=[case[0] for case in ASSIGNMENT_CASES],
)
def test_channel_assignment_rules(
    options: dict[str, Any], heard: list[str], expected: dict[str, int]
) -> None:
    assert channel_assignment([A, B, C], heard, options) == expected


def test_a_sixth_participant_gets_no_channel() -> None:
    got = channel_assignment(PEOPLE, PEOPLE[::-1], {})
    assert got == {F: 0, E: 1, D: 2, C: 3, B: 4}
    assert len(set(got.values())) == MAX_CHANNELS


# ------------------------------------------------------------------ unmixed WAV, end to end
def heard_in_mixed(people: Sequence[str], spans: Sequence[tuple[float, float]]) -> list[str]:
    """First-speech order as heard in the mixed recording of the same call and spans."""
    mixed = plan("wav", people=people, spans=spans)
    stream = mixed.wav(mixed.chunks[0])
    _, frames = parse_wav(stream.read(0, stream.size))
    return first_heard(frames[:, 0], dict(mixed.speakers.tones))


def expect_first_speech(people: list[str], heard: list[str]) -> dict[str, int]:
    return {p: i for i, p in enumerate(heard)}


def expect_ordering(people: list[str], heard: list[str]) -> dict[str, int]:
    # order the last speaker first: ordering must beat first speech
    first = heard[-1]
    return {first: 0} | {p: i + 1 for i, p in enumerate(h for h in heard if h != first)}


def expect_affinity(people: list[str], heard: list[str]) -> dict[str, int]:
    pinned = heard[0]  # pin the first speaker away from channel 0
    rest = [p for p in heard if p != pinned]
    return {pinned: 2, rest[0]: 0, rest[1]: 1}


Expectation = Callable[[list[str], list[str]], dict[str, int]]


WHOLE = [(T0, T0 + 1.2)]
# turn 0 recorded, turn 1 paused, turns 2-11 recorded: the second in the talk order is heard last
HIDDEN = [(T0, T0 + TURN), (T0 + 2 * TURN, T0 + 1.2)]


@pytest.mark.parametrize(
    ("rule", "expect", "spans"),
    [
        ("first speech", expect_first_speech, WHOLE),
        ("first speech", expect_first_speech, HIDDEN),
        ("ordering", expect_ordering, WHOLE),
        ("ordering", expect_ordering, HIDDEN),
        ("affinity", expect_affinity, WHOLE),
    ],
    ids=["first-speech", "first-speech-pause", "ordering", "ordering-pause", "affinity"],
)
def test_unmixed_wav_puts_each_participant_on_its_channel(
    rule: str, expect: Expectation, spans: list[tuple[float, float]]
) -> None:
    people = PEOPLE[:3]
    heard = heard_in_mixed(people, spans)
    assert sorted(heard) == sorted(people), "everyone speaks in 1.2 s of 0.1 s turns"
    talk_order = Speakers.for_call(people, sample_rate=RATE, anchor=0).order
    assert (heard == list(talk_order)) == (spans is WHOLE), "the pause should change who is first"
    expected = expect(people, heard)
    options: dict[str, Any] = {}
    if rule == "ordering":
        options["audioChannelParticipantOrdering"] = [ident(heard[-1]), ident(heard[0])]
    if rule == "affinity":
        options["channelAffinity"] = [{"channel": 2, "participant": ident(heard[0])}]
    media = plan("wav", "unmixed", people=people, options=options, spans=spans)
    stream = media.wav(media.chunks[0])
    params, frames = parse_wav(stream.read(0, stream.size))
    assert (params.nchannels, params.framerate, params.sampwidth) == (3, RATE, 2)
    owners = channel_owners(frames, dict(media.speakers.tones))
    assert {p: owners.index(p) for p in people} == expected
    # one speaker at a time: never two loud channels in the same window
    size = round(WINDOW * RATE)
    loud = [
        sum(dominant_tone(frames[i : i + size, c]) is not None for c in range(3))
        for i in range(0, len(frames) - size + 1, size)
    ]
    assert max(loud) == 1
    assert sum(loud) > 0.5 * len(loud), "the channels are silent most of the time"


def test_unmixed_channel_count_follows_the_highest_pin() -> None:
    people = PEOPLE[:2]
    options = {"channelAffinity": [{"channel": 3, "participant": ident(people[0])}]}
    media = plan("wav", "unmixed", people=people, options=options)
    stream = media.wav(media.chunks[0])
    params, frames = parse_wav(stream.read(0, stream.size))
    assert params.nchannels == 4
    assert channel_owners(frames, dict(media.speakers.tones)) == [people[1], None, None, people[0]]


def test_unmixed_sixth_participant_is_in_no_channel_but_in_the_metadata() -> None:
    media = plan("wav", "unmixed", people=PEOPLE, spans=[(T0, T0 + 1.5)])
    stream = media.wav(media.chunks[0])
    params, frames = parse_wav(stream.read(0, stream.size))
    assert params.nchannels == MAX_CHANNELS
    owners = channel_owners(frames, dict(media.speakers.tones))
    left_out = set(PEOPLE) - set(owners)
    assert len(left_out) == 1
    document = metadata_document(media, media.chunks[0], stream.info, **IDS)
    assert callrec.validate(document, "RecordingMetadata") == []
    listed = {p["participantId"]: p.get("channel") for p in document["participants"]}
    assert set(listed) == set(PEOPLE)
    assert listed[left_out.pop()] is None
    assert all(listed[p] == owners.index(p) for p in owners)
    # listed by channel, the one without a channel last
    assert [p.get("channel") for p in document["participants"]] == [0, 1, 2, 3, 4, None]


# ------------------------------------------------------------------ pauses and chunks
def test_paused_time_is_absent_from_the_media() -> None:
    """The recording with a pause equals the unpaused one with the paused span cut out."""
    full = plan("wav", "unmixed", spans=[(T0, T0 + 1.0)])
    cut = plan("wav", "unmixed", spans=[(T0, T0 + 0.35), (T0 + 0.62, T0 + 1.0)])
    full_stream, cut_stream = full.wav(full.chunks[0]), cut.wav(cut.chunks[0])
    _, whole = parse_wav(full_stream.read(0, full_stream.size))
    params, kept = parse_wav(cut_stream.read(0, cut_stream.size))
    assert params.nframes == round((0.35 + 0.38) * RATE)
    # first speech is the same, so channels agree; the cut frames are exactly the kept spans
    assert full.channels == cut.channels
    a, b = round(0.35 * RATE), round(0.62 * RATE)
    assert np.array_equal(kept, np.concatenate([whole[:a], whole[b:]]))
    assert cut.chunks[0].pauses == ((T0 + 0.35, T0 + 0.62),)


def test_chunks_tile_the_recorded_time() -> None:
    pauses = [[T0 + 1.0, T0 + 1.5], [T0 + 5.0, T0 + 6.0], [T0 + 9.0, None]]
    spans = recorded_spans(T0, T0 + 10.0, pauses)
    assert spans == [(T0, T0 + 1.0), (T0 + 1.5, T0 + 5.0), (T0 + 6.0, T0 + 9.0)]
    listed = recorded_pauses(T0, T0 + 10.0, pauses)
    chunks = plan_chunks(spans, 3.0, sample_rate=RATE, end_reason="CallEnded", pauses=listed)
    assert [c.duration for c in chunks] == [3.0, 3.0, 1.5]
    assert [c.start for c in chunks] == [0.0, 3.0, 6.0]
    assert [c.end_reason for c in chunks] == [CHUNK_FULL, CHUNK_FULL, "CallEnded"]
    # media position of each pause: 1.0 s (chunk 0), 4.5 s (chunk 1), 7.5 s = the end (last)
    assert [c.pauses for c in chunks] == [
        ((T0 + 1.0, T0 + 1.5),),
        ((T0 + 5.0, T0 + 6.0),),
        ((T0 + 9.0, T0 + 10.0),),
    ]
    assert chunks[0].clock_start == pytest.approx(T0)
    assert chunks[1].clock_start == pytest.approx(T0 + 3.5)  # 1 s, pause, then 2 s more
    assert chunks[2].clock_start == pytest.approx(T0 + 7.0)
    # every recorded sample is in exactly one chunk
    samples = [s for c in chunks for p in c.pieces for s in range(p.clock, p.clock + p.length)]
    assert len(samples) == len(set(samples)) == round(7.5 * RATE)


def test_a_pause_at_a_chunk_boundary_goes_to_the_later_chunk() -> None:
    spans = [(T0, T0 + 2.0), (T0 + 3.0, T0 + 4.0)]
    chunks = plan_chunks(spans, 2.0, sample_rate=RATE, end_reason="SessionEnded")
    assert [c.pauses for c in chunks] == [(), ((T0 + 2.0, T0 + 3.0),)]
    assert chunks[1].clock_start == pytest.approx(T0 + 3.0)


def test_nothing_recorded_makes_no_chunk() -> None:
    spans = recorded_spans(T0, T0 + 5.0, [[T0, None]])  # paused on start, never resumed
    assert spans == []
    assert plan_chunks(spans, 60, sample_rate=RATE, end_reason="SessionEnded") == []


def test_plan_recording_reads_the_model() -> None:
    model = Model(Faults(), read_spec_yaml("media.yaml")["combinations"])
    call = model.create_call([ident(p) for p in PEOPLE[:3]], group=False)
    request = {
        "callLocator": {"kind": "serverCallLocator", "serverCallId": call.server_call_id},
        "recordingContentType": "audio",
        "recordingChannelType": "unmixed",
        "recordingFormatType": "wav",
        "audioChannelParticipantOrdering": [ident(PEOPLE[2])],
    }
    recording = model.start(request, "2025-06-15", T0, 0.5)
    model.activate_due(T0 + 0.5)
    model.pause(recording.id, T0 + 1.0)
    model.resume(recording.id, T0 + 1.25)
    model.end_call(call.server_call_id, T0 + 2.0)
    media = plan_recording(recording, active_from=T0 + 0.5, max_chunk_seconds=1.0)
    assert [c.duration for c in media.chunks] == [1.0, 0.25]
    assert [c.end_reason for c in media.chunks] == [CHUNK_FULL, "CallEnded"]
    assert media.chunks[0].pauses == ((T0 + 1.0, T0 + 1.25),)
    assert media.channels is not None
    assert media.channels[PEOPLE[2]] == 0


# ------------------------------------------------------------------ random access
@pytest.mark.parametrize("channel", ["mixed", "unmixed"])
def test_reads_equal_slices_of_a_full_render(channel: str) -> None:
    spans = [(T0, T0 + 0.3), (T0 + 0.55, T0 + 0.81), (T0 + 1.0, T0 + 1.4)]
    media = plan("wav", channel, spans=spans, max_chunk=0.7)
    for chunk in media.chunks:
        stream = media.wav(chunk)
        channels = 1 if channel == "mixed" else 3
        assert stream.size == HEADER_SIZE + chunk.samples * channels * 2
        # the reference: the stdlib writes a WAV of frames synthesised from the definition
        reference = io.BytesIO()
        with wave.open(reference, "wb") as writer:
            writer.setnchannels(channels)
            writer.setsampwidth(2)
            writer.setframerate(RATE)
            writer.writeframes(stream.frames(0, chunk.samples).astype("<i2").tobytes())
        full = reference.getvalue()
        assert stream.read(0, stream.size + 100) == full
        rng = np.random.default_rng(chunk.index)
        offsets = [0, 1, 43, 44, 45, stream.size - 1, stream.size, stream.size + 5]
        offsets += [int(rng.integers(stream.size)) for _ in range(40)]
        for offset in offsets:
            length = int(rng.choice([0, 1, 3, 1000, 7919, stream.size]))
            assert stream.read(offset, length) == full[offset : offset + length], (offset, length)
        assert b"".join(stream.blocks(7, stream.size - 3, size=4099)) == full[7:-3]


def test_reads_reject_negative_ranges() -> None:
    media = plan("wav")
    stream = media.wav(media.chunks[0])
    with pytest.raises(ValueError, match="negative"):
        stream.read(-1, 10)


# ------------------------------------------------------------------ metadata
def test_wav_metadata_agrees_with_the_file() -> None:
    spans = [(T0, T0 + 0.5), (T0 + 0.75, T0 + 1.25)]
    media = plan("wav", "unmixed", spans=spans, max_chunk=0.6)
    for chunk in media.chunks:
        stream = media.wav(chunk)
        params, frames = parse_wav(stream.read(0, stream.size))
        document = metadata_document(media, chunk, stream.info, **IDS)
        assert callrec.validate(document, "RecordingMetadata") == []
        assert document["chunkIndex"] == chunk.index
        assert document["chunkDuration"] == params.nframes / params.framerate * 1000
        audio = document["recordingInfo"]["audioConfiguration"]
        assert audio == {
            "sampleRate": params.framerate,
            "bitRate": params.framerate * params.sampwidth * 8 * params.nchannels,
            "channels": params.nchannels,
        }
        owners = channel_owners(frames, dict(media.speakers.tones))
        for entry in document["participants"]:
            assert owners[entry["channel"]] in (entry["participantId"], None)
        assert {p["participantId"] for p in document["participants"]} == set(PEOPLE[:3])
    first, second = (metadata_document(media, c, media.wav(c).info, **IDS) for c in media.chunks)
    # the pause happens 0.5 s into the media: in chunk 0, whose duration is 0.6 s
    assert first["pauseResumeIntervals"] == [
        {"startTime": "2023-11-14T22:13:20.7500000Z", "duration": 250.0}
    ]
    assert second["pauseResumeIntervals"] == []
    assert first["chunkStartTime"] == "2023-11-14T22:13:20.2500000Z"
    # chunk 1 starts 0.6 s of media in: 0.5 s, the pause, then 0.1 s more
    assert second["chunkStartTime"] == "2023-11-14T22:13:21.1000000Z"
    assert [first["chunkDuration"], second["chunkDuration"]] == [600.0, 400.0]


def test_metadata_bytes_look_like_real_files() -> None:
    media = plan("wav")
    document = metadata_document(media, media.chunks[0], media.wav(media.chunks[0]).info, **IDS)
    data = metadata_bytes(document)
    text = data.decode()
    assert "\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    assert text.startswith('{\r\n  "resourceId": ')
    assert '"chunkDuration": 1200.0,' in text
    assert json.loads(data) == document


# ------------------------------------------------------------------ mp3 and mp4
def test_mp3_holds_the_mixed_audio(tmp_path: Path) -> None:
    media = plan("mp3", spans=[(T0, T0 + 0.7), (T0 + 0.9, T0 + 1.5)])
    chunk = media.chunks[0]
    encoded = media.encode(chunk, tmp_path, name="chunk.mp3")
    assert encoded.path == tmp_path / "chunk.mp3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunk.mp3"]
    with av.open(str(encoded.path)) as container:
        stream = container.streams.audio[0]
        assert container.format.name == "mp3"
        assert (stream.codec_context.codec.canonical_name, stream.sample_rate, stream.channels) == (
            "mp3",
            RATE,
            1,
        )
        bit_rate = stream.bit_rate
        decoded = np.concatenate(
            [frame.to_ndarray().reshape(-1) for frame in container.decode(stream)]
        )
    # gapless: the LAME header lets the decoder drop the encoder's delay and padding
    assert abs(decoded.size - chunk.samples) <= 1152
    reference = WavStream(media.speakers, chunk, None).frames(0, chunk.samples)[:, 0]
    tones = dict(media.speakers.tones)
    expected = who_speaks(reference, tones)
    got = who_speaks(np.clip(decoded[: reference.size] * 32768, -32768, 32767), tones)
    agree = sum(a == b for a, b in zip(expected, got, strict=False)) / len(expected)
    assert agree > 0.9, f"mp3 speakers match the reference in {agree:.0%} of windows"
    assert {p for p in got if p} == set(PEOPLE[:3])
    document = metadata_document(media, chunk, encoded.info, **IDS)
    assert callrec.validate(document, "RecordingMetadata") == []
    assert document["recordingInfo"]["audioConfiguration"] == {
        "sampleRate": RATE,
        "bitRate": bit_rate,
        "channels": 1,
    }
    assert document["chunkDuration"] == pytest.approx(decoded.size / RATE * 1000, abs=72)
    assert document["recordingInfo"]["format"] == "mp3"


def tile_lit(frame: np.ndarray, pictures: Pictures) -> int | None:
    """Index of the brightest tile if one is much brighter than the others."""
    means = []
    for index in range(len(pictures.order)):
        top, left, bottom, right = pictures.tile(index)
        means.append(float(frame[top:bottom, left:right].mean()))
    ranked = sorted(means)
    return int(np.argmax(means)) if ranked[-1] > 2 * ranked[-2] else None


def test_mp4_shows_and_plays_who_speaks(tmp_path: Path) -> None:
    # a 0.25 s pause: not a whole cycle of turns, so the pattern shifts
    media = plan("mp4", spans=[(T0, T0 + 1.0), (T0 + 1.25, T0 + 1.8)])
    settings = video_settings(media.media, width=320, height=176, fps=8)
    chunk = media.chunks[0]
    encoded = media.encode(chunk, tmp_path, video=settings)
    assert encoded.path.name == "chunk-0.mp4"
    pictures = Pictures(media.speakers, settings)
    tones = dict(media.speakers.tones)
    reference = WavStream(media.speakers, chunk, None).frames(0, chunk.samples)[:, 0]
    frame_samples = RATE // settings.fps
    with av.open(str(encoded.path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.codec.canonical_name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == (320, 176)
        assert video.average_rate == settings.fps
        assert (audio.codec_context.codec.canonical_name, audio.sample_rate, audio.channels) == (
            "aac",
            RATE,
            1,
        )
        rates = {"video": video.bit_rate, "audio": audio.bit_rate}
        duration = container.duration / 1_000_000 if container.duration else 0.0
        shown = []
        for index, frame in enumerate(container.decode(video)):
            luma = frame.to_ndarray(format="gray")
            lit = tile_lit(luma, pictures)
            # what the audio says at the frame's first sample
            window = reference[index * frame_samples : index * frame_samples + 320]
            tone = dominant_tone(window)
            speaking = next((p for p, t in tones.items() if t == tone), None)
            shown.append((lit, None if speaking is None else media.speakers.order.index(speaking)))
    assert len(shown) == -(-chunk.samples * settings.fps // RATE)
    agree = sum(lit == speaking for lit, speaking in shown) / len(shown)
    assert agree > 0.8, f"the lit tile matches the audio in {agree:.0%} of frames: {shown}"
    assert {lit for lit, _ in shown} >= {0, 1, 2}
    assert duration == pytest.approx(chunk.duration, abs=0.15)
    document = metadata_document(media, chunk, encoded.info, **IDS)
    assert callrec.validate(document, "RecordingMetadata") == []
    info = document["recordingInfo"]
    assert (info["contentType"], info["channelType"], info["format"]) == (
        "audioVideo",
        "mixed",
        "mp4",
    )
    assert info["videoConfiguration"]["longerSideLength"] == 320
    assert info["videoConfiguration"]["shorterSideLength"] == 176
    assert info["videoConfiguration"]["framerate"] == 8
    assert info["videoConfiguration"]["bitRate"] == pytest.approx(rates["video"], rel=0.05)
    assert info["audioConfiguration"]["bitRate"] == pytest.approx(rates["audio"], rel=0.05)
    assert info["audioConfiguration"]["sampleRate"] == RATE
    assert document["chunkDuration"] == chunk.duration * 1000
    assert document["pauseResumeIntervals"] == [
        {"startTime": "2023-11-14T22:13:21.2500000Z", "duration": 250.0}
    ]


def test_mp4_defaults_to_the_documented_picture() -> None:
    settings = video_settings(combination("mp4"))
    assert settings == VideoSettings(1920, 1080, 16)
    with pytest.raises(ValueError, match="no video"):
        video_settings(combination("mp3"))


def test_wav_is_served_as_a_stream_not_encoded(tmp_path: Path) -> None:
    media = plan("wav")
    with pytest.raises(ValueError, match="stream"):
        media.encode(media.chunks[0], tmp_path)
