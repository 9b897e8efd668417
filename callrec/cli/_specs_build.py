"""``callrec specs``: generate the OpenAPI documents from the schemas and profiles (``build``),
list what changed between api-versions (``changes``, in `_specs_changes`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from callrec._openapi import render_all
from callrec.cli import _specs_changes

BUILD_HELP = "generate specs/openapi/<api-version>.json from the schemas and profiles"
HELP = f"{BUILD_HELP}, or list what changed between consecutive api-versions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help=BUILD_HELP, description=BUILD_HELP)
    build.add_argument(
        "--out",
        metavar="DIR",
        default="specs/openapi",
        help="folder to write the documents to (default: specs/openapi)",
    )
    build.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when a document in DIR is missing or out of date",
    )
    build.set_defaults(action_run=_build)
    changes = actions.add_parser(
        "changes", help=_specs_changes.HELP, description=_specs_changes.DESCRIPTION
    )
    _specs_changes.add_arguments(changes)


def run(arguments: argparse.Namespace) -> int:
    action: Callable[[argparse.Namespace], int] = arguments.action_run
    return action(arguments)


def _build(arguments: argparse.Namespace) -> int:
    out = Path(arguments.out)
    documents = render_all()
    stale = [name for name, text in documents.items() if _current(out / name) != text]
    if arguments.check:
        for name in stale:
            print(
                f"callrec: {out / name} is missing or out of date; run `callrec specs build`",
                file=sys.stderr,
            )
        return 1 if stale else 0
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in stale:
            (out / name).write_text(documents[name], encoding="utf-8")
    except OSError as exc:
        print(f"callrec: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(
        f"callrec: {len(documents)} OpenAPI documents in {out} ({len(stale)} updated)",
        file=sys.stderr,
    )
    return 0


def _current(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
