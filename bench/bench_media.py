"""Emulator media: streaming a one-hour five-channel WAV through random-access reads, against
reading the same bytes from a local file in the same run; encoding a one-minute 1080p MP4 and a
one-hour MP3.

Pinned to one core. The WAV and file rates are the best of several passes; peak RSS comes from
``resource.getrusage`` (the process's high-water mark), read after imports and again after the
WAV passes, so the difference is what streaming 576 MB cost. The local file is the WAV itself,
written from the stream's blocks (which also checks that the blocks add up to ``size``) and then
read back from the page cache in 1 MiB ``read()`` calls. Prints rates and ratios; it asserts
nothing about speed.

    python bench/bench_media.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from callrec._specs import read_spec_yaml
from callrec.emulator._media import RecordingMedia, plan_media, video_settings
from callrec.emulator._wav import BLOCK

T0 = 1_700_000_000.0
PEOPLE = [f"8:acs:29bd5ea9-e0fc-4d00-8f6f-339b1f0ee2e2_00000021-{n:04d}" for n in range(5)]


def combination(fmt: str, channel: str = "mixed") -> dict[str, Any]:
    combos: list[dict[str, Any]] = read_spec_yaml("media.yaml")["combinations"]
    return next(c for c in combos if c["format"] == fmt and c["channel"] == channel)


def plan(fmt: str, channel: str, seconds: float) -> RecordingMedia:
    return plan_media(
        media=combination(fmt, channel),
        participants=PEOPLE,
        options={},
        spans=[(T0, T0 + seconds)],
        end_reason="SessionEnded",
        max_chunk_seconds=seconds,
    )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_seconds(work: Any, repeats: int) -> float:
    fastest = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def bench_wav(seconds: float, repeats: int, folder: Path) -> None:
    rss_before = peak_rss_mib()
    media = plan("wav", "unmixed", seconds)
    stream = media.wav(media.chunks[0])
    size = stream.size

    def through_read() -> None:
        total = 0
        for offset in range(0, size, BLOCK):
            total += len(stream.read(offset, BLOCK))
        assert total == size

    cold_s = best_seconds(through_read, 1)  # the first pass renders the cycle
    stream_s = best_seconds(through_read, repeats)
    offsets = [(n * 7_919_993_111) % (size - BLOCK) for n in range(1000)]

    def random_reads() -> None:
        for offset in offsets:
            assert len(stream.read(offset, BLOCK)) == BLOCK

    random_s = best_seconds(random_reads, repeats)
    rss_after = peak_rss_mib()

    path = folder / "hour.wav"
    with path.open("wb") as handle:
        for block in stream.blocks():
            handle.write(block)
    assert path.stat().st_size == size

    def through_file() -> None:
        total = 0
        with path.open("rb", buffering=0) as handle:
            while block := handle.read(BLOCK):
                total += len(block)
        assert total == size

    through_file()  # warm the page cache
    file_s = best_seconds(through_file, repeats)
    path.unlink()

    mb = size / 1e6
    channels = stream.info.channels
    print(f"WAV, {seconds / 60:.0f} min, {channels} channels, {mb:.0f} MB, 1 MiB reads")
    print(f"  WavStream.read   {mb / stream_s:9,.0f} MB/s  ({stream_s:.3f} s)")
    print(f"  first pass       {mb / cold_s:9,.0f} MB/s  ({cold_s:.3f} s, renders the cycle)")
    print(f"  random offsets   {1000 * BLOCK / 1e6 / random_s:9,.0f} MB/s  (1000 reads of 1 MiB)")
    print(f"  local file read  {mb / file_s:9,.0f} MB/s  ({file_s:.3f} s)")
    print(f"  ratio            {file_s / stream_s:9.2f}   (target >= 0.50)")
    print(
        f"  peak RSS         {rss_after:9.1f} MiB (after imports {rss_before:.1f} MiB, "
        f"+{rss_after - rss_before:.1f}; target < 150)"
    )


def bench_encode(fmt: str, seconds: float, folder: Path) -> None:
    media = plan(fmt, "mixed", seconds)
    settings = video_settings(media.media) if fmt == "mp4" else None
    start = time.perf_counter()
    encoded = media.encode(media.chunks[0], folder, video=settings)
    elapsed = time.perf_counter() - start
    info = encoded.info
    picture = f", {settings.width}x{settings.height} at {settings.fps} fps" if settings else ""
    print(
        f"{fmt.upper()}, {seconds / 60:.0f} min{picture}: {elapsed:.1f} s "
        f"({seconds / elapsed:.0f}x real time), {info.size / 1e6:.1f} MB, "
        f"peak RSS {peak_rss_mib():.1f} MiB"
    )
    encoded.path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter media, fewer repeats")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    hour = 600.0 if args.quick else 3600.0
    with tempfile.TemporaryDirectory() as folder:
        bench_wav(hour, 2 if args.quick else 5, Path(folder))
        bench_encode("mp4", 10.0 if args.quick else 60.0, Path(folder))
        bench_encode("mp3", hour, Path(folder))


if __name__ == "__main__":
    main()
