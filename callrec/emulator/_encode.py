"""MP3 and MP4 chunks, encoded with PyAV (FFmpeg) into a file, frame by frame.

Audio comes from the chunk's mixed `WavStream` one block at a time; video frames are drawn from
the talk pattern (a tile per participant, lit while it speaks) and the few distinct pictures
are built once and reused, so memory does not grow with the duration. A file is written under a
``.part`` name and renamed when complete, so nobody reads half a file.

The bit rates are the emulator's encoder settings, not documented facts. The metadata reports
what the file holds: mp3 is constant bit rate; for mp4 the audio and video rates are measured
from the encoded packets (the encoders spend far less than their target on pure tones and still
pictures), as a reader of the file computes them.
"""

from __future__ import annotations

import colorsys
import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.stream import Stream
from av.video.stream import VideoStream

from callrec.emulator._audio import Speakers
from callrec.emulator._wav import HEADER_SIZE, MediaInfo, VideoInfo, WavStream

MP3_BIT_RATE: Final = 48_000
AAC_BIT_RATE: Final = 64_000
H264_BIT_RATE: Final = 1_000_000  # a ceiling for x264's rate control, as the 2021 example names
H264_OPTIONS: Final = {"preset": "ultrafast", "tune": "stillimage"}
AUDIO_BLOCK_SECONDS: Final = 1  # mp3: samples handed to the encoder per frame
_BACKGROUND: Final = (16, 128, 128)  # Y, U, V: black
_DIM: Final = 0.25  # a silent participant's tile, as a share of its lit brightness

Plane = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class VideoSettings:
    """Picture size and rate; the documented 1920x1080 at 16 fps unless made smaller for speed."""

    width: int
    height: int
    fps: int

    def __post_init__(self) -> None:
        if self.width < 2 or self.height < 2 or self.width % 2 or self.height % 2:
            raise ValueError("width and height must be even and at least 2 (yuv420p)")
        if self.fps < 1:
            raise ValueError("fps must be positive")


def _audio_frame(stream: WavStream, first: int, stop: int) -> av.AudioFrame:
    """Mono samples [first, stop) of a mixed stream as an audio frame."""
    rate = stream.chunk.sample_rate
    data = stream.read(HEADER_SIZE + first * 2, (stop - first) * 2)
    samples = np.frombuffer(data, "<i2").reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
    frame.sample_rate = rate
    frame.pts = first
    frame.time_base = Fraction(1, rate)
    return frame


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[Path]:
    """A ``.part`` name to write to: renamed to ``path`` when done, removed on failure."""
    part = path.with_name(path.name + ".part")
    try:
        yield part
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, path)


def _check_mixed(stream: WavStream) -> None:
    if stream.channels is not None:
        raise ValueError("mp3 and mp4 carry the mixed audio: pass a mixed WavStream")


def encode_mp3(stream: WavStream, path: Path) -> MediaInfo:
    """Write the chunk of a mixed stream as constant-bit-rate mono MP3 at ``path``."""
    _check_mixed(stream)
    rate, samples = stream.chunk.sample_rate, stream.chunk.samples
    with _writing(path) as part, av.open(str(part), "w", format="mp3") as container:
        audio = container.add_stream("libmp3lame", rate=rate, layout="mono")
        audio.bit_rate = MP3_BIT_RATE
        step = AUDIO_BLOCK_SECONDS * rate
        for first in range(0, samples, step):
            container.mux(audio.encode(_audio_frame(stream, first, min(first + step, samples))))
        container.mux(audio.encode(None))
    size = path.stat().st_size
    return MediaInfo("mp3", rate, 1, MP3_BIT_RATE, samples, size)


class Pictures:
    """One picture per speaking state (nobody, or one participant), built when first needed."""

    def __init__(self, speakers: Speakers, settings: VideoSettings) -> None:
        self.settings = settings
        self.order = speakers.order
        count = max(1, len(self.order))
        self.columns = math.ceil(math.sqrt(count))
        self.rows = math.ceil(count / self.columns)
        self.frames: dict[str | None, av.VideoFrame] = {}

    def tile(self, index: int) -> tuple[int, int, int, int]:
        """Pixel box (top, left, bottom, right) of the participant at ``index`` of the order.

        Even coordinates, so chroma planes line up with the luma plane.
        """
        width, height = self.settings.width, self.settings.height
        row, column = divmod(index, self.columns)
        cell_w, cell_h = width // self.columns, height // self.rows
        margin_w, margin_h = cell_w // 10, cell_h // 10
        top = (row * cell_h + margin_h) // 2 * 2
        left = (column * cell_w + margin_w) // 2 * 2
        bottom = ((row + 1) * cell_h - margin_h) // 2 * 2
        right = ((column + 1) * cell_w - margin_w) // 2 * 2
        return top, left, bottom, right

    def colour(self, index: int, lit: bool) -> tuple[int, int, int]:
        """A Y, U, V triple: a hue per participant, bright while speaking, dim otherwise."""
        red, green, blue = colorsys.hsv_to_rgb(index / max(1, len(self.order)), 0.7, 1.0)
        scale = 1.0 if lit else _DIM
        red, green, blue = red * scale, green * scale, blue * scale
        luma = 0.299 * red + 0.587 * green + 0.114 * blue
        return (
            round(16 + 219 * luma),
            round(128 + 224 * 0.564 * (blue - luma)),
            round(128 + 224 * 0.713 * (red - luma)),
        )

    def picture(self, speaker: str | None) -> av.VideoFrame:
        frame = self.frames.get(speaker)
        if frame is None:
            width, height = self.settings.width, self.settings.height
            planes: list[Plane] = [
                np.full((height, width), _BACKGROUND[0], np.uint8),
                np.full((height // 2, width // 2), _BACKGROUND[1], np.uint8),
                np.full((height // 2, width // 2), _BACKGROUND[2], np.uint8),
            ]
            for index, person in enumerate(self.order):
                top, left, bottom, right = self.tile(index)
                y, u, v = self.colour(index, person == speaker)
                planes[0][top:bottom, left:right] = y
                planes[1][top // 2 : bottom // 2, left // 2 : right // 2] = u
                planes[2][top // 2 : bottom // 2, left // 2 : right // 2] = v
            packed = np.concatenate([plane.ravel() for plane in planes])
            frame = av.VideoFrame.from_ndarray(
                packed.reshape(height * 3 // 2, width), format="yuv420p"
            )
            self.frames[speaker] = frame
        return frame


def _mux(
    container: OutputContainer, packets: Sequence[av.Packet[Stream]], counter: list[int]
) -> None:
    counter[0] += sum(packet.size for packet in packets)
    container.mux(packets)


def encode_mp4(stream: WavStream, path: Path, settings: VideoSettings) -> MediaInfo:
    """Write the chunk as MP4 (H.264 video + AAC mono audio) at ``path``, frame by frame.

    Video frame ``i`` shows who speaks at media sample ``i * rate / fps`` (a participant's tile
    lit); the audio between two frames is encoded right after the first of them.
    """
    _check_mixed(stream)
    chunk, speakers = stream.chunk, stream.speakers
    rate, samples, fps = chunk.sample_rate, chunk.samples, settings.fps
    frames = -(-samples * fps // rate)
    pictures = Pictures(speakers, settings)
    audio_bytes, video_bytes = [0], [0]
    with (
        _writing(path) as part,
        av.open(str(part), "w", format="mp4", options={"movflags": "+faststart"}) as container,
    ):
        video: VideoStream = container.add_stream("libx264", rate=fps, options=dict(H264_OPTIONS))
        video.width, video.height, video.pix_fmt = settings.width, settings.height, "yuv420p"
        video.bit_rate = H264_BIT_RATE
        audio: AudioStream = container.add_stream("aac", rate=rate, layout="mono")
        audio.bit_rate = AAC_BIT_RATE
        for index in range(frames):
            first = index * rate // fps
            stop = min(samples, (index + 1) * rate // fps)
            picture = pictures.picture(speakers.speaker_at(chunk.clock_of(first)))
            picture.pts = index
            picture.time_base = Fraction(1, fps)
            _mux(container, video.encode(picture), video_bytes)
            if stop > first:
                _mux(container, audio.encode(_audio_frame(stream, first, stop)), audio_bytes)
        _mux(container, video.encode(None), video_bytes)
        _mux(container, audio.encode(None), audio_bytes)
    size = path.stat().st_size
    seconds = samples / rate
    video_info = VideoInfo(
        settings.width,
        settings.height,
        fps,
        round(video_bytes[0] * 8 / seconds),
        frames,
    )
    return MediaInfo("mp4", rate, 1, round(audio_bytes[0] * 8 / seconds), samples, size, video_info)
