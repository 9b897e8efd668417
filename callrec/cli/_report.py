"""``callrec report``: render a conformance run (``render``), compare two runs (``diff``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from callrec.report import ReportError, diff, format_diff, load, write_report

HELP = "render a conformance run's results (Markdown, badge, HTML) or compare two runs"
EXIT_OK, EXIT_REGRESSED, EXIT_INPUT = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    render = actions.add_parser(
        "render",
        help="write conformance.md, badge.json and index.html for a run",
        description="Write conformance.md (a GitHub job summary), badge.json (a shields.io "
        "endpoint) and index.html (one self-contained page) for a run.",
    )
    render.add_argument(
        "results", metavar="RUN", help="a run folder (reports/<run id>) or its results.jsonl"
    )
    render.add_argument(
        "--output", metavar="DIR", help="where to write the files (default: the run folder)"
    )
    render.set_defaults(action_run=_render)
    compare = actions.add_parser(
        "diff",
        help="list the requirement records whose status changed between two runs",
        description="List the requirement x api-version records whose status changed: new "
        "failures first, then fixes, then other changes. Exit 1 when something regressed "
        "(anything -> fail, pass -> not-observed), 0 otherwise, 2 on bad input.",
    )
    compare.add_argument("old", metavar="OLD", help="the earlier run (folder or results.jsonl)")
    compare.add_argument("new", metavar="NEW", help="the later run (folder or results.jsonl)")
    compare.add_argument(
        "--format", choices=("text", "markdown", "json"), default="text", help="default: text"
    )
    compare.set_defaults(action_run=_diff)


def run(arguments: argparse.Namespace) -> int:
    action: Callable[[argparse.Namespace], int] = arguments.action_run
    try:
        return action(arguments)
    except ReportError as exc:
        print(f"callrec: {exc}", file=sys.stderr)
        return EXIT_INPUT


def _render(arguments: argparse.Namespace) -> int:
    found = load(arguments.results)
    written = write_report(found, arguments.output)
    for path in written.values():
        print(path)
    return EXIT_OK


def _diff(arguments: argparse.Namespace) -> int:
    found = diff(load(arguments.old), load(arguments.new))
    sys.stdout.write(format_diff(found, arguments.format))
    return EXIT_REGRESSED if found.regressed else EXIT_OK
