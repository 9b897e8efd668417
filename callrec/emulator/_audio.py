"""Deterministic speakers: who says what, when, and which unmixed channel carries whom.

Every participant "speaks" a pure tone whose frequency comes from its raw id. Speakers take
turns in a fixed order on the emulator clock, starting at the recording's first recorded
instant: turn ``k`` belongs to ``order[k % n]``, who talks for the first `TALK_SHARE` of the
turn (with short fades) and is silent for the rest. So with ``n`` participants each one speaks
``TALK_SHARE / n`` of any stretch of ``n`` turns, and the energy of each unmixed channel over
time shows whose turns it carries.

A sample is a function of its clock sample index ``c = round(t * sampleRate)`` alone, so
paused spans simply never appear and the pattern goes on where it is after a resume. Tone
frequencies are multiples of 100 Hz and turns a whole number of tone periods, so the signal
repeats exactly every ``n`` turns (`Speakers.cycle`): the WAV stream serves bytes from one
precomputed cycle instead of computing them again.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from callrec.emulator._model import raw_id

# Sixteen tones 200 Hz apart inside the telephone band (300-3400 Hz): a 0.1 s FFT window at
# 16 kHz resolves 10 Hz, so neighbours are twenty bins apart.
TONES: Final = tuple(range(300, 3400, 200))
MAX_CHANNELS: Final = 5  # unmixed WAV: at most five channels (contract digest §2)
TALK_SHARE: Final = 0.8  # the part of a turn its speaker talks
AMPLITUDE: Final = 12_000  # peak of one speaker's tone, in 16-bit units (about -8.7 dBFS)
FADE_SECONDS: Final = 0.005  # linear fade in and out of each utterance (no clicks)
DEFAULT_TURN_SECONDS: Final = 1.0

Int64Array = npt.NDArray[np.int64]
Int16Array = npt.NDArray[np.int16]


def _digest(salt: str, participant: str) -> int:
    """A stable hash (not Python's per-process `hash`)."""
    return int.from_bytes(hashlib.sha256(f"{salt}:{participant}".encode()).digest()[:8], "big")


def tone_slots(participants: Iterable[str]) -> dict[str, int]:
    """Raw id -> index into `TONES`: the slot its raw id hashes to, or the next free one.

    Distinct for up to ``len(TONES)`` participants of one call (collisions are resolved by
    probing, in hash order, so the result depends only on the set of raw ids); past that,
    tones repeat.
    """
    people = sorted(set(participants), key=lambda p: (_digest("tone", p), p))
    taken: set[int] = set()
    slots: dict[str, int] = {}
    for person in people:
        slot = _digest("tone", person) % len(TONES)
        for step in range(len(TONES)):
            candidate = (slot + step) % len(TONES)
            if candidate not in taken:
                slot = candidate
                break
        taken.add(slot)
        slots[person] = slot
    return slots


def talk_order(participants: Iterable[str]) -> tuple[str, ...]:
    """The order in which participants take turns: by a stable hash of the raw id.

    Not the order they joined the call, so "channel 0 goes to the first speaker" and "channel
    0 goes to the first participant listed" are told apart.
    """
    return tuple(sorted(set(participants), key=lambda p: (_digest("turn", p), p)))


def _tone_period(sample_rate: int, frequencies: Iterable[int]) -> int:
    """Samples after which every tone is back at the same phase."""
    period = 1
    for frequency in frequencies:
        period = math.lcm(period, sample_rate // math.gcd(sample_rate, frequency))
    return period


@dataclass(frozen=True)
class Speakers:
    """The talk pattern of one recording. Times are clock sample indices (``round(t * rate)``)."""

    order: tuple[str, ...]
    tones: Mapping[str, int]  # raw id -> Hz
    sample_rate: int
    turn: int  # samples per turn, a whole number of tone periods
    anchor: int  # clock sample where turn 0 begins: the first recorded instant

    @classmethod
    def for_call(
        cls,
        participants: Iterable[str],
        *,
        sample_rate: int,
        anchor: int,
        turn_seconds: float = DEFAULT_TURN_SECONDS,
    ) -> Speakers:
        people = list(participants)
        slots = tone_slots(people)
        tones = {person: TONES[slot] for person, slot in slots.items()}
        period = _tone_period(sample_rate, tones.values())
        turn = max(1, round(turn_seconds * sample_rate / period)) * period
        return cls(talk_order(people), tones, sample_rate, turn, anchor)

    @property
    def talk(self) -> int:
        """Samples of each turn during which its speaker talks."""
        return round(self.turn * TALK_SHARE)

    @property
    def cycle(self) -> int:
        """Samples after which the whole signal repeats (one turn each)."""
        return self.turn * max(1, len(self.order))

    def speaker_at(self, clock_sample: int) -> str | None:
        """Who is talking at a clock sample (None: a silent moment)."""
        if not self.order:
            return None
        rel = clock_sample - self.anchor
        if rel % self.turn >= self.talk:
            return None
        return self.order[(rel // self.turn) % len(self.order)]

    def first_speech(self, spans: Iterable[tuple[int, int]]) -> list[str]:
        """Participants in the order they are first heard in the recorded clock spans.

        A participant counts as heard once one sample of its talking part is recorded. Those
        never heard are left out.
        """
        heard: list[str] = []
        count = len(self.order)
        if not count:
            return heard
        for start, end in spans:
            first = (start - self.anchor) // self.turn
            # a span longer than count + 1 turns hears everyone: look no further
            last = min((end - 1 - self.anchor) // self.turn, first + count + 1)
            for k in range(first, last + 1):
                begin = self.anchor + k * self.turn
                if begin < end and begin + self.talk > start:
                    person = self.order[k % count]
                    if person not in heard:
                        heard.append(person)
            if len(heard) == count:
                break
        return heard

    @cached_property
    def _table(self) -> npt.NDArray[np.float64]:
        """One second of a unit sine, indexed by ``(f * c) % sample_rate``."""
        return np.sin(2 * np.pi * np.arange(self.sample_rate) / self.sample_rate)

    def voices(self, clock: Int64Array) -> tuple[npt.NDArray[np.intp], Int16Array]:
        """For each clock sample: the index in `order` of the speaker (-1: nobody) and the sample.

        Computed from the definition, with no cache: the reference the WAV stream is built on.
        """
        if not self.order:
            return np.full(clock.shape, -1, np.intp), np.zeros(clock.shape, np.int16)
        rel = clock - self.anchor
        position = rel % self.turn
        who = ((rel // self.turn) % len(self.order)).astype(np.intp)
        fade = max(1, round(FADE_SECONDS * self.sample_rate))
        envelope = np.clip(np.minimum(position, self.talk - position) / fade, 0.0, 1.0)
        frequencies = np.array([self.tones[p] for p in self.order], np.int64)[who]
        phase = (frequencies * (clock % self.sample_rate)) % self.sample_rate
        samples = np.rint(AMPLITUDE * envelope * self._table[phase]).astype(np.int16)
        who[position >= self.talk] = -1
        return who, samples


def render(
    speakers: Speakers, clock: Int64Array, channels: Sequence[str | None] | None
) -> Int16Array:
    """Samples for the given clock sample indices: shape ``(len(clock), channel count)``.

    ``channels`` lists the participant on each unmixed channel (None: a silent channel);
    ``None`` means one mixed channel carrying everyone.
    """
    who, samples = speakers.voices(clock)
    if channels is None:
        return samples.reshape(-1, 1)
    out = np.zeros((clock.size, len(channels)), np.int16)
    index = {person: i for i, person in enumerate(speakers.order)}
    for column, person in enumerate(channels):
        if person is not None and person in index:
            mask = who == index[person]
            out[mask, column] = samples[mask]
    return out


def _pin_channel(pin: Mapping[str, Any]) -> int | None:
    channel = pin.get("channel")
    return channel if isinstance(channel, int) and not isinstance(channel, bool) else None


def channel_assignment(
    participants: Sequence[str],
    first_speech: Sequence[str],
    options: Mapping[str, Any],
    *,
    max_channels: int = MAX_CHANNELS,
) -> dict[str, int]:
    """Raw id -> unmixed channel (0 .. max_channels - 1), by the documented rules (seeds 000-003).

    1. ``channelAffinity`` pins come first: each pinned participant of the call gets its
       channel (pins of people not in the call, or of a channel out of range, are ignored).
    2. The first identifier of ``audioChannelParticipantOrdering`` gets channel 0, or the
       lowest free channel when a pin already holds 0; only the first entry counts, "the rest
       of the participants are assigned to a channel as they speak".
    3. Everyone else in the order they are first heard (``first_speech``), each taking the
       lowest free channel; participants never heard follow in ``participants`` order.

    With more participants than channels the rest get none: a sixth participant (or whoever
    comes after the fifth channel is taken) is absent from the unmixed file and appears in the
    metadata without a ``channel``. Its audio is still in mixed recordings.
    """
    present = set(participants)
    assigned: dict[str, int] = {}
    taken: set[int] = set()

    def give(person: str, channel: int | None = None) -> None:
        if person in assigned or person not in present:
            return
        if channel is None:
            channel = next((c for c in range(max_channels) if c not in taken), None)
            if channel is None:
                return
        assigned[person] = channel
        taken.add(channel)

    for pin in options.get("channelAffinity") or ():
        channel = _pin_channel(pin)
        if channel is not None and 0 <= channel < max_channels and channel not in taken:
            give(raw_id(pin["participant"]), channel)
    ordering = options.get("audioChannelParticipantOrdering") or ()
    if ordering:
        give(raw_id(ordering[0]), None if 0 in taken else 0)
    for person in [*first_speech, *participants]:
        give(person)
    return assigned
