"""The conformance plugin (callrec/conformance): startup errors, targets started apart from
the run (behind a reverse proxy too), a target that is not an emulator, the results file.

Each test runs the suites as a user would: ``python -m pytest suites/...`` in a subprocess.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from callrec.client import Client
from callrec.emulator import Running, Settings, serve

ROOT = Path(__file__).resolve().parent.parent
BASICS = "suites/test_basics.py"


def run_suites(
    *args: str, report_dir: Path, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if key != "CALLREC_CONNECTION_STRING"
    }
    environment.update(env or {})
    environment.setdefault("HYPOTHESIS_PROFILE", "ci")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--report-dir",
            str(report_dir),
            *args,
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def results(report_dir: Path) -> list[dict[str, Any]]:
    [run] = [path for path in report_dir.iterdir() if path.is_dir()]
    lines = (run / "results.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def separate() -> Iterator[Running]:
    """An emulator started apart from the suite run (as `callrec emulator` in a terminal)."""
    with serve(Settings(activation_delay=0.05, file_delay=0.05)) as running:
        yield running


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (["--connection-string", "garbage"], "--connection-string", "has no '='"),
        (
            ["--connection-string", "endpoint=http://127.0.0.1:9/;accesskey=aGVsbG8="],
            "--connection-string",
            "cannot reach http://127.0.0.1:9",
        ),
        (["--api-version", "2020-01-01"], "--api-version", "is not one of newest, all"),
        (["--server-call-ids-from", "no-such-file.txt"], "--server-call-ids-from", "cannot read"),
        (["--event-timeout", "0"], "--event-timeout", "above 0"),
        (["--requirement", "REC-NOPE"], "--requirement", "no catalog id matches"),
    ],
)
def test_bad_input_is_one_clear_line(
    args: list[str], option: str, message: str, tmp_path: Path
) -> None:
    done = run_suites(BASICS, *args, report_dir=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, done.stderr
    assert option in errors[0]
    assert message in errors[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert "passed" not in done.stdout


def test_a_wrong_key_and_an_unknown_call_are_named(separate: Running, tmp_path: Path) -> None:
    wrong = f"endpoint={separate.endpoint}/;accesskey=aGVsbG8gd29ybGQ="
    done = run_suites(BASICS, "--connection-string", wrong, report_dir=tmp_path)
    assert done.returncode == 4
    assert "refused the access key" in done.stderr
    assert "aGVsbG8gd29ybGQ=" not in done.stdout + done.stderr  # the key is never shown
    done = run_suites(
        BASICS,
        "--server-call-id",
        "aHR0cHM6Ly9uby1zdWNoLWNhbGw=",
        report_dir=tmp_path,
        env={"CALLREC_CONNECTION_STRING": str(separate)},
    )
    assert done.returncode == 4
    assert "--server-call-id: the emulator has no call" in done.stderr


class Proxy:
    """An HTTP reverse proxy in front of ``upstream`` (set once known); ``hide_control``
    answers 404 for the emulator's control API, so the target looks like the service."""

    def __init__(self, *, hide_control: bool) -> None:
        self.upstream = ""
        self.forwarded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                if hide_control and self.path.startswith("/emulator"):
                    self.send_response(404)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                where = urlsplit(proxy.upstream)
                upstream = http.client.HTTPConnection(
                    where.hostname or "127.0.0.1", where.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body, headers)
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                proxy.forwarded += 1

            do_GET = do_POST = do_DELETE = do_PUT = _forward  # noqa: N815

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_an_emulator_behind_a_reverse_proxy(tmp_path: Path) -> None:
    """Started apart, with --public-url the proxy's address: the suite sees only the proxy."""
    proxy = Proxy(hide_control=False)
    try:
        port = _free_port()
        proxy.upstream = f"http://127.0.0.1:{port}"
        with serve(Settings(activation_delay=0.05, public_url=proxy.url), port=port) as running:
            assert running.endpoint == proxy.url
            done = run_suites(
                BASICS, report_dir=tmp_path, env={"CALLREC_CONNECTION_STRING": str(running)}
            )
    finally:
        proxy.close()
    assert done.returncode == 0, done.stdout + done.stderr
    assert proxy.forwarded > 0
    [header, *_rest] = results(tmp_path)
    assert header["target"] == {"endpoint": proxy.url, "kind": "emulator"}


def test_a_target_without_a_control_api_has_no_calls_to_record(
    separate: Running, tmp_path: Path
) -> None:
    proxy = Proxy(hide_control=True)
    proxy.upstream = separate.endpoint
    try:
        service = f"endpoint={proxy.url}/;accesskey={separate.access_key}"
        done = run_suites(BASICS, report_dir=tmp_path, env={"CALLREC_CONNECTION_STRING": service})
    finally:
        proxy.close()
    assert done.returncode == 0, done.stdout + done.stderr
    records = results(tmp_path)
    assert records[0]["target"]["kind"] == "service"
    outcomes = [r for r in records if r["record"] == "test"]
    assert outcomes
    assert {outcome["status"] for outcome in outcomes} == {"not-applicable"}
    assert any("--server-call-id" in outcome["message"] for outcome in outcomes)


def test_the_results_file_and_no_secret_in_it(separate: Running, tmp_path: Path) -> None:
    done = run_suites(
        BASICS,
        "-n",
        "2",
        "--api-version",
        "all",
        "-k",  # a few tests, every version: what matters here is the file, not the count
        "start_answers_success or pause_turns_an_active or a_stopped_recording_is_gone",
        report_dir=tmp_path,
        env={"CALLREC_CONNECTION_STRING": str(separate)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "HTTP exchanges checked" in done.stdout
    records = results(tmp_path)
    header, footer = records[0], records[-1]
    assert header["record"] == "header"
    assert header["target"]["endpoint"] == separate.endpoint
    assert footer["record"] == "footer"
    outcomes = [r for r in records if r["record"] == "test"]
    assert set(footer["tests"]) <= {"pass", "not-applicable"}
    assert sum(footer["tests"].values()) == len(outcomes)
    assert footer["tests"]["pass"] > len(outcomes) / 2
    assert footer["exchanges"] > 0
    assert {r["apiVersion"] for r in outcomes} == set(separate_versions(separate))
    assert header["apiVersions"] == sorted(separate_versions(separate))
    schema = json.loads((ROOT / "reports" / "results.schema.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for record in records:
        assert list(validator.iter_errors(record)) == [], record["record"]
    # every requirement a passing test names is a passing requirement record
    checked = {(r["id"], r["apiVersion"]): r for r in records if r["record"] == "requirement"}
    for outcome in outcomes:
        for rid in outcome["requirements"]:
            key = (rid, outcome["apiVersion"])
            if outcome["status"] == "pass" and key in checked:  # absent: not of that version
                assert checked[key]["status"] == "pass"
    kinds = {e["kind"] for outcome in outcomes for e in outcome["evidence"]}
    assert {"exchange", "transition"} <= kinds
    junit = (tmp_path / header["runId"] / "junit.xml").read_text("utf-8")
    assert "REC-STATE-001" in junit
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_text("utf-8")
            assert separate.access_key not in text
            assert "Signature=" not in text  # no Authorization header was kept


def separate_versions(running: Running) -> list[str]:
    from callrec.specs import api_versions

    del running
    return api_versions()


def test_report_diff_between_two_real_runs(tmp_path: Path) -> None:
    """Last night's run passed; tonight the endpoint answers pause with 200: the diff names the
    regression first and exits 1; the other way round it is a fix and exits 0."""
    runs: list[Path] = []
    for fault in (None, "pause-wrong-status"):
        with serve(Settings(activation_delay=0.05)) as running:
            if fault:
                with Client(running) as client:
                    client.set_fault(fault)
            folder = tmp_path / (fault or "clean")
            run_suites(BASICS, report_dir=folder, env={"CALLREC_CONNECTION_STRING": str(running)})
        [run] = [path for path in folder.iterdir() if path.is_dir()]
        assert {p.name for p in run.iterdir()} >= {
            "results.jsonl",
            "junit.xml",
            "conformance.md",
            "badge.json",
            "index.html",
        }
        runs.append(run)
    diff = subprocess.run(
        [sys.executable, "-m", "callrec", "report", "diff", str(runs[0]), str(runs[1])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "REC-PAUSE-002" in diff.stdout
    back = subprocess.run(
        [sys.executable, "-m", "callrec", "report", "diff", str(runs[1]), str(runs[0])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert back.returncode == 0, back.stdout + back.stderr
    assert "REC-PAUSE-002" in back.stdout
