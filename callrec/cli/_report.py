"""``callrec report``: render a conformance run (``render``), compare two runs (``diff``),
stamp the requirement catalog from a run against the live service (``stamp``), carry an
earlier run's open cleanup journals into a report folder (``carry``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from callrec.report import ReportError, Stamping, diff, format_diff, load, stamp, write_report

HELP = (
    "render a conformance run's results (Markdown, badge, HTML), compare two runs, or stamp "
    "the requirement catalog's lastVerified from a live run, or carry a dead run's cleanup "
    "journal into the next run's report folder"
)
EXIT_OK, EXIT_REGRESSED, EXIT_INPUT = 0, 1, 2
CATALOG: Final = "specs/requirements.yaml"  # relative to the checkout being stamped


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
    stamping = actions.add_parser(
        "stamp",
        help="set lastVerified in the requirement catalog from a run against the live service",
        description="Set lastVerified {date, apiVersion, callrecVersion} of every requirement "
        "the run passed: the run's date (UTC), the newest api-version it passed in, the "
        "callrec that ran it. Only the changed lines of the catalog are rewritten; comments "
        "and anchors stay. A run against the emulator is refused (exit 2). A stamp from a "
        "later run is kept.",
    )
    stamping.add_argument(
        "results", metavar="RUN", help="a run folder (reports/<run id>) or its results.jsonl"
    )
    stamping.add_argument(
        "--catalog",
        metavar="FILE",
        default=CATALOG,
        help=f"the catalog to stamp (default: {CATALOG})",
    )
    stamping.add_argument(
        "--dry-run", action="store_true", help="print what would change; write nothing"
    )
    stamping.add_argument(
        "--allow-emulator",
        action="store_true",
        help="stamp from a run whose target was not the live service (for testing)",
    )
    stamping.set_defaults(action_run=_stamp)
    carrying = actions.add_parser(
        "carry",
        help="copy an earlier run's open cleanup journals into a report folder",
        description="Copy every <run id>/journal.jsonl under SOURCE that still names "
        "recordings its run started and never stopped into DIR, so that the next live run "
        "with --report-dir DIR stops them first (the nightly carries the previous night's "
        "artifact this way). Journals with nothing open are left behind; a run folder "
        "already in DIR is not overwritten. Exit 2 when SOURCE is not a folder.",
    )
    carrying.add_argument(
        "source", metavar="SOURCE", help="an earlier report folder (e.g. a downloaded artifact)"
    )
    carrying.add_argument(
        "--into", metavar="DIR", default="reports", help="the report folder (default: reports)"
    )
    carrying.set_defaults(action_run=_carry)


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


def _stamp(arguments: argparse.Namespace) -> int:
    found = stamp(
        load(arguments.results),
        arguments.catalog,
        allow_emulator=arguments.allow_emulator,
        dry_run=arguments.dry_run,
    )
    for rid in found.unknown:
        print(f"callrec: {rid} passed but is not in {found.catalog}: not stamped", file=sys.stderr)
    for change in found.changes:
        new = change.new
        print(
            f"{change.requirement}: lastVerified {_shown(change.old)} -> {new.date} in "
            f"{new.api_version} (callrec {new.callrec_version})"
        )
    print(_summary(found, dry_run=arguments.dry_run))
    return EXIT_OK


def _carry(arguments: argparse.Namespace) -> int:
    from callrec.conformance._journal import carry  # noqa: PLC0415 (the suite's plugin: only here)

    source, into = Path(arguments.source), Path(arguments.into)
    if not source.is_dir():
        raise ReportError(f"{source}: not a folder (the earlier run's report folder)")
    found = carry(source, into)
    for each in found:
        what = f"{each.run}/journal.jsonl: {each.open_items} open"
        if each.skipped:
            print(f"callrec: not carried, {what}: {each.skipped}", file=sys.stderr)
        else:
            print(f"carried {what} into {into}")
    moved = sum(1 for each in found if each.skipped is None)
    print(f"{moved} journal{'' if moved == 1 else 's'} with open recordings carried into {into}")
    return EXIT_OK


def _shown(old: Any) -> str:
    if old is None:
        return "none"
    if isinstance(old, dict):
        return f"{old.get('date')} in {old.get('apiVersion')}"
    return repr(old)[:60]


def _summary(found: Stamping, *, dry_run: bool) -> str:
    verb = "would stamp" if dry_run else "stamped"
    count = len(found.changes)
    text = f"{verb} {count} requirement{'' if count == 1 else 's'} in {found.catalog}"
    notes = []
    if found.unchanged:
        notes.append(f"{len(found.unchanged)} already so")
    if found.kept:
        notes.append(f"{len(found.kept)} kept: stamped by a later run")
    if dry_run:
        notes.append("nothing written")
    return text + (f" ({'; '.join(notes)})" if notes else "")
