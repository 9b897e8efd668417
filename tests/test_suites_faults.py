"""The suites catch broken servers: for every fault in the emulator's registry, the tests that
check the requirements the fault breaks fail against an emulator with that fault switched on.

Each case starts its own emulator (faults are emulator-wide), switches the fault on through
the control API and runs ``python -m pytest suites --requirement <id> ...`` against it, as a
user would run the suite against a broken endpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callrec.client import Client
from callrec.emulator import Settings, serve
from callrec.emulator._faults import REGISTRY
from tests.test_conformance import results, run_suites

FAILED = {"fail", "not-observed"}
SUITES = Path(__file__).resolve().parents[1] / "suites"


def _files_naming(requirements: tuple[str, ...]) -> list[str]:
    """The suite files whose tests can check ``requirements`` (their marks name them), so
    the run collects only those (`--requirement` still picks the tests)."""
    found = [
        f"suites/{path.name}"
        for path in sorted(SUITES.glob("test_*.py"))
        if any(rid in path.read_text(encoding="utf-8") for rid in requirements)
    ]
    assert found, f"no suite file names {requirements}"
    return found


@pytest.mark.parametrize("fault", sorted(REGISTRY))
def test_the_suite_fails_against_the_fault(fault: str, tmp_path: Path) -> None:
    breaks = REGISTRY[fault].breaks
    settings = Settings(activation_delay=0.05, file_delay=0.05, callback_backoff=0.05)
    with serve(settings) as running:
        with Client(running) as client:
            client.set_fault(fault)
        requirement_args = [arg for rid in breaks for arg in ("--requirement", rid)]
        done = run_suites(
            *_files_naming(breaks),
            "--event-timeout",
            "3",
            "--exclusive-target",  # one process, its own emulator: it may move the clock
            "--exitfirst",  # one caught failure is the verdict: the rest would only take time
            *requirement_args,
            report_dir=tmp_path,
            env={"CALLREC_CONNECTION_STRING": str(running)},
        )
    assert done.returncode == 1, (
        f"with fault {fault!r} ({REGISTRY[fault].description}) the suite for "
        f"{', '.join(breaks)} did not fail (exit {done.returncode}):\n{done.stdout[-3000:]}"
    )
    failed = [
        record
        for record in results(tmp_path)
        if record["record"] == "test" and record["status"] in FAILED
    ]
    caught = {rid for record in failed for rid in record["requirements"]}
    assert caught & set(breaks), json.dumps(failed, indent=1)[:3000]
