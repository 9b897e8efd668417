"""Chunk planning: which recorded clock spans go into which media file.

A recording's media is its recorded spans (activation to stop, minus pauses) laid end to end;
paused time is absent. The media is cut into chunks of at most a maximum duration. Everything
is counted in samples of the clock (``round(t * sampleRate)``), so a chunk's duration is
exactly its sample count and chunks tile the media with no gap or overlap.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Final

# Event Grid's PascalCase end reasons (AcsRecordingChunkInfo): every chunk but the last ends
# because it is full; the last ends with the recording (SessionEnded, or CallEnded).
CHUNK_FULL: Final = "ChunkMaximumTimeExceeded"

Interval = tuple[float, float]


@dataclass(frozen=True)
class Piece:
    """A run of consecutive clock samples inside one chunk."""

    offset: int  # first media sample of the piece, counted from the chunk's start
    clock: int  # clock sample index of that sample
    length: int


@dataclass(frozen=True)
class Chunk:
    index: int
    first_sample: int  # media sample offset of the chunk within the whole recording
    samples: int
    sample_rate: int
    pieces: tuple[Piece, ...]
    pauses: tuple[Interval, ...]  # clock seconds (start, end) of the pauses listed in it
    end_reason: str

    @property
    def start(self) -> float:
        """Seconds of media before this chunk."""
        return self.first_sample / self.sample_rate

    @property
    def duration(self) -> float:
        """Seconds of media in this chunk."""
        return self.samples / self.sample_rate

    @property
    def clock_start(self) -> float:
        """Clock time (POSIX seconds) of the chunk's first sample."""
        return self.pieces[0].clock / self.sample_rate

    @property
    def clock_spans(self) -> list[tuple[int, int]]:
        """The chunk's recorded spans as [start, end) clock samples."""
        return [(p.clock, p.clock + p.length) for p in self.pieces]

    @cached_property
    def _offsets(self) -> list[int]:
        return [p.offset for p in self.pieces]

    def clock_of(self, offset: int) -> int:
        """The clock sample index of a media sample of the chunk (0 <= offset < samples)."""
        piece = self.pieces[bisect.bisect_right(self._offsets, offset) - 1]
        return piece.clock + offset - piece.offset


def recorded_spans(
    active_from: float, stopped_at: float, pauses: Iterable[Sequence[float | None]]
) -> list[Interval]:
    """[active_from, stopped_at] minus the pauses (an open pause runs to stopped_at)."""
    spans: list[Interval] = [(active_from, stopped_at)] if stopped_at > active_from else []
    for pause in pauses:
        p0 = pause[0] if pause[0] is not None else active_from
        p1 = pause[1] if pause[1] is not None else stopped_at
        kept: list[Interval] = []
        for start, end in spans:
            if p1 <= start or p0 >= end:
                kept.append((start, end))
                continue
            if p0 > start:
                kept.append((start, p0))
            if p1 < end:
                kept.append((p1, end))
        spans = kept
    return spans


def recorded_pauses(
    active_from: float, stopped_at: float, pauses: Iterable[Sequence[float | None]]
) -> list[Interval]:
    """The pauses clipped to [active_from, stopped_at], empty ones dropped."""
    clipped: list[Interval] = []
    for pause in pauses:
        p0 = max(active_from, pause[0] if pause[0] is not None else active_from)
        p1 = min(stopped_at, pause[1] if pause[1] is not None else stopped_at)
        if p1 > p0:
            clipped.append((p0, p1))
    return sorted(clipped)


def _to_samples(spans: Iterable[Interval], rate: int) -> list[tuple[int, int]]:
    samples = [(round(s * rate), round(e * rate)) for s, e in spans]
    samples = [(s, e) for s, e in samples if e > s]
    samples.sort()
    for (_, end), (start, _) in itertools.pairwise(samples):
        if start < end:
            raise ValueError("recorded spans overlap")
    return samples


def plan_chunks(
    spans: Iterable[Interval],
    max_chunk_seconds: float,
    *,
    sample_rate: int,
    end_reason: str,
    pauses: Iterable[Interval] | None = None,
) -> list[Chunk]:
    """Cut the recorded clock spans (POSIX seconds) into chunks of at most max_chunk_seconds.

    Every chunk but the last ends with `CHUNK_FULL`; the last with ``end_reason``. A recording
    with nothing recorded (stopped while paused from the start) has no chunk.

    Each pause is listed in exactly one chunk: the one holding the media position where it
    happens (at a chunk boundary: the later chunk; at the very end: the last one). ``pauses``
    defaults to the gaps between the spans; pass `recorded_pauses` to also list a pause at
    the start or end of the recording.
    """
    if max_chunk_seconds <= 0:
        raise ValueError("the maximum chunk duration must be positive")
    runs = _to_samples(spans, sample_rate)
    if pauses is None:
        pauses = [
            (a[1] / sample_rate, b[0] / sample_rate)
            for a, b in itertools.pairwise(runs)
            if b[0] > a[1]
        ]
    total = sum(e - s for s, e in runs)
    if total == 0:
        return []
    limit = max(1, round(max_chunk_seconds * sample_rate))
    count = -(-total // limit)
    listed: list[list[Interval]] = [[] for _ in range(count)]
    for p0, p1 in sorted(pauses):
        at = round(p0 * sample_rate)
        position = sum(min(e, at) - s for s, e in runs if s < at)
        listed[min(position // limit, count - 1)].append((p0, p1))

    chunks: list[Chunk] = []
    run, used = 0, 0  # current run and samples of it already placed
    for index in range(count):
        first = index * limit
        size = min(limit, total - first)
        pieces: list[Piece] = []
        filled = 0
        while filled < size:
            start, end = runs[run]
            take = min(end - start - used, size - filled)
            pieces.append(Piece(filled, start + used, take))
            filled += take
            used += take
            if used == end - start:
                run, used = run + 1, 0
        reason = end_reason if index == count - 1 else CHUNK_FULL
        chunks.append(
            Chunk(index, first, size, sample_rate, tuple(pieces), tuple(listed[index]), reason)
        )
    return chunks
