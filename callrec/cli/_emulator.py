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
        "--data-dir", metavar="DIR", type=Path, help="where state and the local CA live"
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
    for version in arguments.api_versions or ():
        profile(version)  # unknown versions fail naming the supported ones
    settings = Settings(
        access_key=key,
        api_versions=tuple(arguments.api_versions or ()),
        activation_delay=arguments.activation_delay,
        loose=arguments.loose,
        async_start=arguments.async_start,
        public_url=arguments.public_url,
    )
    return run_foreground(
        settings,
        host=arguments.host,
        port=arguments.port,
        tls=arguments.tls,
        data_dir=arguments.data_dir,
        log_level=arguments.log_level,
    )
