"""``callrec emulator``: run a local Call Recording endpoint in the foreground."""

from __future__ import annotations

import argparse
import base64
import binascii
import sys
from pathlib import Path

from callrec._specs import profile

HELP = "run the Call Recording emulator (prints CALLREC_CONNECTION_STRING=... when ready)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument(
        "--access-key", metavar="B64", help="base64 access key (default: the well-known key)"
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help="keep state, files and the local CA here across restarts (default: a temp folder)",
    )
    parser.add_argument("--public-url", metavar="URL", help="base URL clients use (behind a proxy)")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a generated local CA")
    parser.add_argument(
        "--api-versions", nargs="+", metavar="V", help="serve only these api-versions"
    )
    parser.add_argument(
        "--activation-delay",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="time from start to active (default 0.2; 0 allowed)",
    )
    parser.add_argument(
        "--async-start",
        action="store_true",
        help="answer starts 202 where the version allows, outcome by callback",
    )
    parser.add_argument(
        "--loose",
        action="store_true",
        help="skip HMAC checks and accept fields the requested version lacks",
    )
    parser.add_argument(
        "--event-grid-webhook", metavar="URL", help="deliver Event Grid events here"
    )
    parser.add_argument(
        "--content-url",
        metavar="URL",
        help="base of content locations (e.g. https://emulator.asm.skype.com with callrec.interop)",
    )
    parser.add_argument(
        "--file-delay",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="time from stop to files ready and the event (default 0.2)",
    )
    parser.add_argument(
        "--retention-hours", type=float, default=24.0, help="how long files stay (default 24)"
    )
    parser.add_argument(
        "--max-chunk-seconds",
        type=float,
        default=4 * 3600.0,
        help="split longer recordings into chunks (default 14400)",
    )
    parser.add_argument(
        "--blob-account-key",
        action="append",
        default=[],
        metavar="NAME=KEY",
        help="bring your own storage: sign uploads to storage account NAME with its base64 KEY "
        "when the container URL has no SAS (repeatable)",
    )
    parser.add_argument(
        "--blob-timeout",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="bring your own storage: connect and answer timeout of each blob request (default 20)",
    )
    parser.add_argument("--video-size", metavar="WxH", help="mp4 picture size (default 1920x1080)")
    parser.add_argument("--video-fps", type=int, metavar="N", help="mp4 frame rate (default 16)")
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )


def run(arguments: argparse.Namespace) -> int:
    try:  # the emulator's dependencies are an optional extra: import them only here
        from callrec.emulator._server import run_foreground  # noqa: PLC0415
        from callrec.emulator._state import WELL_KNOWN_KEY, Settings  # noqa: PLC0415
    except ImportError as exc:
        print(
            f"callrec: the emulator needs its extras: pip install 'callrec[emulator]' "
            f"({exc.name} is missing)",
            file=sys.stderr,
        )
        return 2
    key = arguments.access_key or WELL_KNOWN_KEY
    try:
        base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        print("callrec: --access-key is not valid base64", file=sys.stderr)
        return 2
    if arguments.activation_delay < 0:
        print("callrec: --activation-delay must be >= 0", file=sys.stderr)
        return 2
    if arguments.public_url and not arguments.public_url.startswith(("http://", "https://")):
        print("callrec: --public-url must be an http(s) URL", file=sys.stderr)
        return 2
    problem = _check_numbers(arguments)
    account_keys = _account_keys(arguments.blob_account_key)
    if account_keys is None:
        problem = "--blob-account-key must look like NAME=KEY, KEY the account's base64 key"
    if problem:
        print(f"callrec: {problem}", file=sys.stderr)
        return 2
    width = height = None
    if arguments.video_size:
        width, _, height = (
            int(part) if part.isdigit() else 0 for part in arguments.video_size.partition("x")
        )
    for version in arguments.api_versions or ():
        profile(version)  # unknown versions fail naming the supported ones
    settings = Settings(
        access_key=key,
        api_versions=tuple(arguments.api_versions or ()),
        activation_delay=arguments.activation_delay,
        loose=arguments.loose,
        async_start=arguments.async_start,
        public_url=arguments.public_url,
        event_grid_webhook=arguments.event_grid_webhook,
        content_url=arguments.content_url,
        file_delay=arguments.file_delay,
        retention=arguments.retention_hours * 3600,
        max_chunk_seconds=arguments.max_chunk_seconds,
        video_width=width,
        video_height=height,
        video_fps=arguments.video_fps,
        data_dir=arguments.data_dir,
        blob_account_keys=account_keys or (),
        blob_timeout=arguments.blob_timeout,
    )
    return run_foreground(
        settings,
        host=arguments.host,
        port=arguments.port,
        tls=arguments.tls,
        data_dir=arguments.data_dir,
        log_level=arguments.log_level,
    )


def _check_numbers(arguments: argparse.Namespace) -> str | None:
    """The first option whose value cannot work, in words."""
    size = arguments.video_size
    if size is not None:
        width, sep, height = size.partition("x")
        if not (
            sep and width.isdigit() and height.isdigit() and int(width) >= 16 and int(height) >= 16
        ):
            return "--video-size must look like 640x360 (each side >= 16)"
    checks = [
        (arguments.file_delay < 0, "--file-delay must be >= 0"),
        (arguments.retention_hours <= 0, "--retention-hours must be > 0"),
        (arguments.max_chunk_seconds < 1, "--max-chunk-seconds must be >= 1"),
        (arguments.video_fps is not None and arguments.video_fps < 1, "--video-fps must be >= 1"),
        (arguments.blob_timeout <= 0, "--blob-timeout must be > 0"),
        (
            arguments.event_grid_webhook is not None
            and not arguments.event_grid_webhook.startswith(("http://", "https://")),
            "--event-grid-webhook must be an http(s) URL",
        ),
    ]
    return next((message for failed, message in checks if failed), None)


def _account_keys(values: list[str]) -> tuple[tuple[str, str], ...] | None:
    """``NAME=KEY`` options as (name, key) pairs; None if one is malformed (never echoed: a key
    is a secret)."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        name, sep, key = value.partition("=")
        try:
            base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            return None
        if not (sep and name and key):
            return None
        pairs.append((name, key))
    return tuple(pairs)
