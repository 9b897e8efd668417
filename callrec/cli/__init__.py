"""The ``callrec`` command line: one sub-command per module, listed in `COMMANDS`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Final

from callrec._errors import SpecError
from callrec._version import __version__
from callrec.cli import _emulator, _report, _schemas, _specs_build, _validate

__all__ = ["main"]

EXIT_USAGE: Final = 2

# name -> (help, add its arguments, run it and return the exit status)
COMMANDS: Final[
    dict[
        str,
        tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]],
    ]
] = {
    "validate": (_validate.HELP, _validate.add_arguments, _validate.run),
    "schemas": (_schemas.HELP, _schemas.add_arguments, _schemas.run),
    "specs": (_specs_build.HELP, _specs_build.add_arguments, _specs_build.run),
    "emulator": (_emulator.HELP, _emulator.add_arguments, _emulator.run),
    "report": (_report.HELP, _report.add_arguments, _report.run),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callrec", description="Conformance tooling for the ACS Call Recording API."
    )
    parser.add_argument("--version", action="version", version=f"callrec {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 invalid, 2 usage/input)."""
    arguments = _parser().parse_args(argv)
    try:
        status: int = arguments.run(arguments)
    except SpecError as exc:
        print(f"callrec: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `callrec schemas | head -1`: the reader left, not an error
        _silence_stdout()
        return 0
    return status


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
