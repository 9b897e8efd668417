"""Reports of conformance runs: render a run's ``results.jsonl``, compare two runs, stamp
the requirement catalog's "last verified live" dates from a run against the service.

    from callrec.report import diff, format_diff, load, stamp, write_report

    run = load("reports/20261122T000526Z-bd8f47")   # a run folder or its results.jsonl
    write_report(run)                                # conformance.md, badge.json, index.html
    print(format_diff(diff(load(earlier), run), "text"))
    stamp(run, "specs/requirements.yaml")            # lastVerified of each passed requirement

Everything in a results file is treated as untrusted text (it quotes the endpoint's answers).
"""

from callrec.report._diff import FORMATS as _DIFF_FORMATS
from callrec.report._diff import Diff, diff
from callrec.report._records import Run
from callrec.report._results import ReportError, load
from callrec.report._stamp import Stamping, stamp
from callrec.report._write import write_report

__all__ = [
    "Diff",
    "ReportError",
    "Run",
    "Stamping",
    "diff",
    "format_diff",
    "load",
    "stamp",
    "write_report",
]


def format_diff(found: Diff, style: str) -> str:
    """The diff as ``text``, ``markdown`` or ``json``."""
    return _DIFF_FORMATS[style](found)
