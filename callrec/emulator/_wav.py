"""WAV chunks as random-access byte streams, never held whole in memory.

A `WavStream` computes any byte range of its file on demand: the 44-byte header, then 16-bit
little-endian PCM frames. Since the speakers' signal repeats every `Speakers.cycle` samples, the
stream renders one cycle (plus a block of slack, so a block-sized read is one slice) once, and
every read is a copy out of it: memory stays a few MiB whatever the duration, and reads run at
memory-copy speed.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from callrec.emulator._audio import Int16Array, Int64Array, Speakers, render
from callrec.emulator._chunks import Chunk

BLOCK: Final = 1 << 20
HEADER_SIZE: Final = 44
MAX_CACHE: Final = 64 << 20  # refuse talk patterns whose cycle would take more memory
_PCM: Final = 1  # WAVE_FORMAT_PCM: plain PCM, readable by every WAV reader for any channel count


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    framerate: int
    bit_rate: int
    frames: int


@dataclass(frozen=True)
class MediaInfo:
    """What a chunk's media file is: the facts its metadata document states."""

    format: str
    sample_rate: int
    channels: int
    bit_rate: int  # audio bits per second
    samples: int  # audio samples per channel: the chunk's duration
    size: int  # bytes of the file
    video: VideoInfo | None = None

    @property
    def duration_ms(self) -> float:
        return self.samples * 1000 / self.sample_rate


def clock_samples(chunk: Chunk, first: int, count: int) -> Int64Array:
    """The clock sample index of each media sample [first, first + count) of a chunk."""
    stop = min(first + count, chunk.samples)
    runs = [
        np.arange(
            piece.clock + max(first, piece.offset) - piece.offset,
            piece.clock + min(stop, piece.offset + piece.length) - piece.offset,
            dtype=np.int64,
        )
        for piece in chunk.pieces
        if piece.offset < stop and piece.offset + piece.length > first
    ]
    return np.concatenate(runs) if runs else np.zeros(0, np.int64)


def wav_header(channels: int, sample_rate: int, bits: int, data_size: int) -> bytes:
    block_align = channels * bits // 8
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        HEADER_SIZE - 8 + data_size,
        b"WAVE",
        b"fmt ",
        16,
        _PCM,
        channels,
        sample_rate,
        sample_rate * block_align,
        block_align,
        bits,
        b"data",
        data_size,
    )


class WavStream:
    """One chunk's WAV file: `size`, `read(offset, length)` and `blocks(start, stop)`.

    ``channels`` names the participant on each channel (None: a silent channel) for an
    unmixed file; None makes one mixed channel carrying everyone.
    """

    def __init__(
        self,
        speakers: Speakers,
        chunk: Chunk,
        channels: Sequence[str | None] | None,
        *,
        bits_per_sample: int = 16,
    ) -> None:
        if bits_per_sample != 16:
            raise ValueError("only 16-bit PCM is produced")
        self.speakers = speakers
        self.chunk = chunk
        self.channels = None if channels is None else tuple(channels)
        count = 1 if channels is None else len(channels)
        if not 1 <= count <= 0xFFFF:
            raise ValueError("a WAV file has 1 to 65535 channels")
        self.block_align = count * 2
        data_size = chunk.samples * self.block_align
        if HEADER_SIZE - 8 + data_size > 0xFFFFFFFF:
            raise ValueError("a WAV file holds at most 4 GiB: use shorter chunks")
        self.size = HEADER_SIZE + data_size
        self.header = wav_header(count, chunk.sample_rate, 16, data_size)
        self.info = MediaInfo(
            format="wav",
            sample_rate=chunk.sample_rate,
            channels=count,
            bit_rate=chunk.sample_rate * 16 * count,
            samples=chunk.samples,
            size=self.size,
        )
        self._starts = [p.offset * self.block_align for p in chunk.pieces]
        self._cache: memoryview | None = None

    def _cycle(self) -> memoryview:
        """The interleaved PCM of one cycle from the anchor, plus a block of slack."""
        if self._cache is None:
            frames = self.speakers.cycle + -(-BLOCK // self.block_align)
            if frames * self.block_align > MAX_CACHE:
                raise ValueError("the talk pattern's cycle is too long to cache")
            clock = self.speakers.anchor + np.arange(frames, dtype=np.int64)
            pcm = render(self.speakers, clock, self.channels).astype("<i2")
            self._cache = memoryview(pcm.tobytes())
        return self._cache

    def frames(self, first: int, count: int) -> Int16Array:
        """PCM frames [first, first + count) computed from the definition, with no cache: the
        reference reads are checked against. Shape ``(count, channels)``."""
        return render(self.speakers, clock_samples(self.chunk, first, count), self.channels)

    def read(self, offset: int, length: int) -> bytes:
        """The bytes [offset, offset + length) of the file (fewer at its end)."""
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        stop = min(self.size, offset + length)
        if offset >= stop:
            return b""
        parts: list[bytes | memoryview] = []
        if offset < HEADER_SIZE:
            parts.append(self.header[offset : min(stop, HEADER_SIZE)])
            offset = HEADER_SIZE
        if offset < stop:
            self._data(offset - HEADER_SIZE, stop - HEADER_SIZE, parts)
        if len(parts) == 1:
            return bytes(parts[0])
        return b"".join(parts)

    def _data(self, start: int, stop: int, parts: list[bytes | memoryview]) -> None:
        cache = self._cycle()
        align = self.block_align
        cycle = self.speakers.cycle
        anchor = self.speakers.anchor
        index = bisect.bisect_right(self._starts, start) - 1
        while start < stop:
            piece = self.chunk.pieces[index]
            piece_end = (piece.offset + piece.length) * align
            if start >= piece_end:
                index += 1
                continue
            frame, within = divmod(start - piece.offset * align, align)
            source = ((piece.clock + frame - anchor) % cycle) * align + within
            size = min(stop - start, piece_end - start, len(cache) - source)
            parts.append(cache[source : source + size])
            start += size

    def blocks(self, start: int = 0, stop: int | None = None, size: int = BLOCK) -> Iterator[bytes]:
        """The bytes [start, stop) in blocks of at most ``size``."""
        stop = self.size if stop is None else min(stop, self.size)
        for offset in range(start, stop, size):
            yield self.read(offset, min(size, stop - offset))
