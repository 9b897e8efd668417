"""Write a run's report files: ``conformance.md``, ``badge.json`` and ``index.html``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from callrec.report._records import Run
from callrec.report._render_html import render_html
from callrec.report._render_md import render_markdown
from callrec.report._results import ReportError
from callrec.report._summary import badge, rows, verdict

OUTPUTS: Final = ("conformance.md", "badge.json", "index.html")


def write_report(run: Run, directory: str | Path | None = None) -> dict[str, Path]:
    """Render the run into ``directory`` (default: the run's folder); the paths by name."""
    out = run.folder if directory is None else Path(directory)
    found = rows(run)
    judged = verdict(run, found)
    texts = {
        "conformance.md": render_markdown(run, found, judged),
        "badge.json": json.dumps(badge(judged), indent=2) + "\n",
        "index.html": render_html(run, found, judged),
    }
    written = {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUTS:
            path = out / name
            path.write_text(texts[name], encoding="utf-8")
            written[name] = path
    except OSError as exc:
        raise ReportError(f"{out}: cannot write the report: {exc.strerror or exc}") from exc
    return written
