"""The suite's power to catch broken servers: run the default conformance suite once per fault
of the emulator's registry and write the kill matrix.

    python tools/mutants.py [--jobs N] [--output reports/mutants] [--fault NAME ...]

For each fault: an emulator of its own (``callrec emulator`` in a subprocess) with the fault
switched on through the control API, then ``python -m pytest suites --exclusive-target``
against it. A fault is *killed* when the run fails (exit 1) with at least one failing or
not-observed requirement. Writes ``<output>/kill-matrix.json`` and ``kill-matrix.md`` (fault ->
the requirements that failed), prints the kill rate and the mean time to kill (from the run's
start to its first failing test), and exits 1 when a fault survives.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from callrec.client import Client
from callrec.conformance._target import embedded_emulator
from callrec.emulator._faults import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
FAILED = {"fail", "not-observed"}


def run_one(fault: str, output: Path) -> dict[str, Any]:
    """The suite against an emulator with ``fault`` on: what failed, and how soon."""
    report_dir = output / "runs" / fault
    started = time.time()
    with embedded_emulator() as connection:
        with Client(connection) as client:
            client.set_fault(fault)
        environment = {**os.environ, "CALLREC_CONNECTION_STRING": str(connection)}
        environment.setdefault("HYPOTHESIS_PROFILE", "ci")
        done = subprocess.run(  # noqa: S603 (this Python running pytest)
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-q",
                "suites",
                "--exclusive-target",
                "--event-timeout",
                "5",
                "--report-dir",
                str(report_dir),
            ],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    seconds = time.time() - started
    runs = sorted(path for path in report_dir.iterdir() if path.is_dir())
    lines = [json.loads(line) for line in (runs[-1] / "results.jsonl").read_text().splitlines()]
    header = lines[0]
    tests = [line for line in lines if line["record"] == "test"]
    failing = [test for test in tests if test["status"] in FAILED]
    requirements = sorted(
        {
            line["id"]
            for line in lines
            if line["record"] == "requirement" and line["status"] in FAILED
        }
    )
    began = _posix(header["started"])
    first = min((test["started"] for test in failing if "started" in test), default=None)
    return {
        "fault": fault,
        "breaks": list(REGISTRY[fault].breaks),
        "killed": done.returncode == 1 and bool(requirements),
        "exit": done.returncode,
        "failedRequirements": requirements,
        "failedTests": len(failing),
        "expectedCaught": sorted(set(REGISTRY[fault].breaks) & set(requirements)),
        "secondsToKill": None if first is None else round(first - began, 2),
        "seconds": round(seconds, 1),
    }


def _posix(stamp: str) -> float:
    from datetime import datetime  # noqa: PLC0415

    return datetime.fromisoformat(stamp).timestamp()


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| fault | breaks | killed | requirements that failed | time to kill (s) |",
        "|---|---|---|---|---:|",
    ]
    for result in results:
        failed = ", ".join(result["failedRequirements"][:8])
        more = len(result["failedRequirements"]) - 8
        if more > 0:
            failed += f" (+{more})"
        killed = "yes" if result["killed"] else "**no**"
        to_kill = "-" if result["secondsToKill"] is None else result["secondsToKill"]
        lines.append(
            f"| {result['fault']} | {', '.join(result['breaks'])} | {killed} | {failed} | "
            f"{to_kill} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "mutants")
    parser.add_argument("--fault", action="append", choices=sorted(REGISTRY), default=[])
    arguments = parser.parse_args()
    faults = arguments.fault or sorted(REGISTRY)
    output: Path = arguments.output
    output.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with ThreadPoolExecutor(arguments.jobs) as pool:
        results = list(pool.map(lambda fault: run_one(fault, output), faults))
    (output / "kill-matrix.json").write_text(json.dumps(results, indent=1) + "\n")
    (output / "kill-matrix.md").write_text(markdown(results))
    killed = [result for result in results if result["killed"]]
    times = [r["secondsToKill"] for r in killed if r["secondsToKill"] is not None]
    print(markdown(results))
    print(
        f"mutants: {len(killed)}/{len(results)} faults killed "
        f"({100 * len(killed) / max(1, len(results)):.0f}%), mean time to kill "
        f"{sum(times) / max(1, len(times)):.1f} s, {time.time() - started:.0f} s in all; "
        f"matrix in {output / 'kill-matrix.md'}"
    )
    survivors = [result["fault"] for result in results if not result["killed"]]
    if survivors:
        print(f"mutants: not killed: {', '.join(survivors)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
