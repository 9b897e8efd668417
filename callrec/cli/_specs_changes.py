"""``callrec specs changes``: what changed between consecutive api-versions, from the profiles."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Final

from callrec.specs import VersionChanges, api_versions, consecutive, profile

HELP = "list what changed between consecutive api-versions (from the version profiles)"
DESCRIPTION = (
    "List what changed between each pair of consecutive api-versions, in release order: "
    "operations added or removed, methods, paths, success codes and bodies, request headers, "
    "event types, and per schema its presence, properties, required fields and enum values. "
    "--from and --to narrow the range (both ends included). Exit 2 for an unknown api-version."
)
EXIT_OK, EXIT_USAGE = 0, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="older", metavar="V", help="the first api-version (default: the oldest)"
    )
    parser.add_argument(
        "--to", dest="newer", metavar="V", help="the last api-version (default: the newest)"
    )
    parser.add_argument("--format", choices=tuple(FORMATS), default="text", help="default: text")
    parser.set_defaults(action_run=run)


def run(arguments: argparse.Namespace) -> int:
    known = api_versions()
    for version in (arguments.older, arguments.newer):
        if version is not None:
            profile(version)  # an unknown one fails (exit 2) naming the supported ones
    first = known.index(arguments.older) if arguments.older else 0
    last = known.index(arguments.newer) if arguments.newer else len(known) - 1
    if first >= last:
        print(
            f"callrec: --from {known[first]} is not older than --to {known[last]}; "
            f"api-versions in order: {', '.join(known)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    sys.stdout.write(FORMATS[arguments.format](consecutive(known[first : last + 1])))
    return EXIT_OK


def as_text(pairs: list[VersionChanges]) -> str:
    blocks = []
    for pair in pairs:
        count = len(pair.entries)
        title = f"{pair.older} -> {pair.newer}: "
        title += "no changes" if not count else f"{count} change{'' if count == 1 else 's'}"
        blocks.append("\n".join([title, *(f"  {entry.text}" for entry in pair.entries)]))
    return "\n\n".join(blocks) + "\n"


def as_markdown(pairs: list[VersionChanges]) -> str:
    lines = ["| older → newer | change |", "|---|---|"]
    for pair in pairs:
        versions = f"{pair.older} → {pair.newer}"
        texts = [entry.text for entry in pair.entries] or ["no changes"]
        lines += [f"| {versions} | {_cell(text)} |" for text in texts]
    return "\n".join(lines) + "\n"


def as_json(pairs: list[VersionChanges]) -> str:
    document = {"pairs": [pair.as_dict() for pair in pairs]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


FORMATS: Final[dict[str, Callable[[list[VersionChanges]], str]]] = {
    "text": as_text,
    "markdown": as_markdown,
    "json": as_json,
}
