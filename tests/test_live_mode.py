"""Live mode (callrec/conformance: _options, _guard, _ledger, _journal, _safety, _redact): the
suites run safely against a real resource. The emulator stands in for the service: behind a
proxy that hides its control API (and speaks TLS with a private CA), with calls made
beforehand, throttling and failing through its chaos control, killed mid-run.

The runs are ``python -m pytest suites/...`` subprocesses, as in test_conformance.py; the
parts (budget, bucket, retries, journal, redaction) are also checked in-process.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import trustme

from callrec.cli import main
from callrec.client import Client
from callrec.conformance._guard import Guard, Policy, retry_after
from callrec.conformance._journal import Journal, dead_runs, unresolved
from callrec.conformance._ledger import BudgetSpent, Ledger, Limits
from callrec.conformance._redact import Redactor
from callrec.emulator import Running, Settings, serve
from tests.test_conformance import ROOT, results, run_suites

SUBSET = ("suites/test_basics.py", "suites/test_errors.py")
PEOPLE = [
    {"rawId": f"8:acs:live-{n}", "communicationUser": {"id": f"8:acs:live-{n}"}} for n in range(3)
]
# a value after Signature= or sig= that is not the mask: a leaked credential
LEAKS = re.compile(r"(?i)(signature|sig)=(?!\*\*\*)[A-Za-z0-9%+/]")


def fresh_key() -> str:
    return base64.b64encode(os.urandom(48)).decode()


# ---------------------------------------------------------------- a stand-in for the service
Misbehave = Callable[[int, str, str], tuple[int, dict[str, str], float] | None]


class ServiceProxy:
    """A reverse proxy that makes an emulator look like the service: its control API answers
    404; optionally TLS (``certificate``: the proxy's own, from a private CA) in front of a
    TLS emulator (``upstream_ca``). Counts every request it receives (``times``) and the
    429/5xx answers it passed on; ``misbehave(n, method, path)`` may answer instead of the
    emulator: (status, headers, delay), or a delay only (status 0)."""

    def __init__(
        self,
        upstream: str,
        *,
        hide_control: bool = True,
        certificate: trustme.LeafCert | None = None,
        upstream_ca: Path | None = None,
        misbehave: Misbehave | None = None,
    ) -> None:
        self.times: list[float] = []
        self.refused = 0
        self.lock = threading.Lock()
        where = urlsplit(upstream)
        proxy = self

        def connect() -> http.client.HTTPConnection:
            host, port = where.hostname or "127.0.0.1", where.port
            if where.scheme == "https":
                trust = ssl.create_default_context(cafile=str(upstream_ca))
                return http.client.HTTPSConnection(host, port, timeout=30, context=trust)
            return http.client.HTTPConnection(host, port, timeout=30)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                if status == 429 or status >= 500:
                    with proxy.lock:
                        proxy.refused += 1

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy.lock:
                    proxy.times.append(time.monotonic())
                    number = len(proxy.times)
                if hide_control and self.path.startswith("/emulator"):
                    self._answer(404, {}, b"")
                    return
                instead = misbehave(number, self.command, self.path) if misbehave else None
                if instead is not None:
                    status, headers, delay = instead
                    time.sleep(delay)
                    if status:
                        self._answer(status, headers, b"")
                        return
                upstream = connect()
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body, headers)
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
                self._answer(answer.status, dict(answer.getheaders()), data)

            do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = _forward  # noqa: N815

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            certificate.configure_cert(context)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def received(self) -> int:
        return len(self.times)

    def busiest_second(self) -> int:
        """The most requests received within any one second."""
        times = sorted(self.times)
        most, first = 0, 0
        for last, moment in enumerate(times):
            while moment - times[first] >= 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def running_recordings(running: Running) -> dict[str, str]:
    """Recording id -> server call id of every recording the emulator has not stopped."""
    for _ in range(20):
        try:
            recordings = list(running.app.emulator.model.recordings.values())
        except RuntimeError:  # changed while copied: look again
            continue
        return {r.id: r.call.server_call_id for r in recordings if r.phase != "stopped"}
    raise AssertionError("the emulator's recordings kept changing")


def records(done: subprocess.CompletedProcess[str], report_dir: Path) -> list[dict[str, Any]]:
    assert "Traceback" not in done.stderr, done.stderr
    return results(report_dir)


def scan_for_secrets(key: str, texts: dict[str, str]) -> None:
    """No access key, signature or SAS token in any of ``texts`` (name -> content)."""
    for name, text in texts.items():
        assert key not in text, f"the access key is in {name}"
        leak = LEAKS.search(text)
        assert leak is None, (
            f"a credential is in {name}: {text[leak.start() - 40 : leak.end() + 20]!r}"
        )


def artifacts(report_dir: Path) -> dict[str, str]:
    return {
        str(path): path.read_text("utf-8", "replace")
        for path in report_dir.rglob("*")
        if path.is_file()
    }


# ---------------------------------------------------------------- (a) refusals
@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--live"], "CALLREC_CONNECTION_STRING"),
        (
            ["--live", "--connection-string", "endpoint=http://example.com/;accesskey=aGVsbG8="],
            "plain http",
        ),
        (["--max-requests", "0"], "--max-requests"),
        (["--rate", "fast"], "--rate"),
        (["--ca-file", "no-such.pem"], "--ca-file"),
    ],
)
def test_a_live_run_refuses_to_start_without_what_it_needs(
    args: list[str], named: str, tmp_path: Path
) -> None:
    done = run_suites("suites", *args, report_dir=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, done.stderr
    assert named in errors[0]
    assert "passed" not in done.stdout
    assert not any(tmp_path.iterdir())  # nothing was written, nothing was sent


def test_the_budget_variable_is_named_when_it_is_wrong(tmp_path: Path) -> None:
    done = run_suites(
        "suites/test_basics.py", report_dir=tmp_path, env={"CALLREC_MAX_REQUESTS": "lots"}
    )
    assert done.returncode == 4
    assert "--max-requests (from $CALLREC_MAX_REQUESTS): 'lots' is not a whole number" in (
        done.stderr
    )


# ---------------------------------------------------------------- (b) TLS, private CA, calls
@pytest.fixture
def tls_service(tmp_path: Path) -> Iterator[tuple[Running, ServiceProxy, Path]]:
    """A TLS emulator with its own key, behind a TLS proxy whose certificate a private CA
    (``ca.pem``) signed: to the suite, a service with a private CA."""
    authority = trustme.CA(organization_name="callrec test private CA")
    ca_file = tmp_path / "private-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    settings = Settings(access_key=fresh_key(), activation_delay=0.05, file_delay=0.05)
    with serve(settings, tls=True) as running:
        proxy = ServiceProxy(
            running.endpoint,
            certificate=authority.issue_cert("127.0.0.1", "localhost"),
            upstream_ca=running.ca_file,
        )
        try:
            yield running, proxy, ca_file
        finally:
            proxy.close()


def make_calls(running: Running, count: int) -> list[str]:
    with Client(running, verify=running.ca_file or True) as client:
        return [client.create_call(PEOPLE)["serverCallId"] for _ in range(count)]


def test_a_live_run_against_a_tls_service_with_a_private_ca(
    tls_service: tuple[Running, ServiceProxy, Path], tmp_path: Path
) -> None:
    running, proxy, ca_file = tls_service
    calls = make_calls(running, 3)
    reports = tmp_path / "reports"
    done = run_suites(
        *SUBSET,
        "--live",
        "-n",
        "2",
        "--ca-file",
        str(ca_file),
        "--rate",
        "10",
        *(arg for call in calls for arg in ("--server-call-id", call)),
        report_dir=reports,
        env={"CALLREC_CONNECTION_STRING": f"endpoint={proxy.url}/;accesskey={running.access_key}"},
        timeout=400,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = records(done, reports)
    header, footer = lines[0], lines[-1]
    assert header["target"] == {"endpoint": proxy.url, "kind": "service"}
    assert set(footer["tests"]) <= {"pass", "not-applicable"}
    assert footer["tests"]["pass"] >= 20
    # every request went through the guard, and the bucket the workers share held 10 a second
    # (11 in a second at most, and some slack for arrival jitter; unpaced, this run sends 25+)
    assert footer["requests"] == proxy.received
    assert proxy.busiest_second() <= 13
    assert footer["cleanup"]["failed"] == 0
    assert running_recordings(running) == {}  # nothing left recording on the user's calls
    assert "request budget" not in done.stdout
    scan_for_secrets(running.access_key, {"stdout": done.stdout, "stderr": done.stderr})
    scan_for_secrets(running.access_key, artifacts(reports))


# ---------------------------------------------------------------- (c) the request budget
def test_the_request_budget_is_never_exceeded(tmp_path: Path) -> None:
    with serve(Settings(activation_delay=0.05)) as running:
        calls = make_calls(running, 2)
        proxy = ServiceProxy(running.endpoint)
        try:
            done = run_suites(
                *SUBSET,
                "--live",
                "--rate",
                "0",
                "-n",
                "2",
                report_dir=tmp_path,
                env={
                    "CALLREC_CONNECTION_STRING": f"endpoint={proxy.url}/;accesskey={running.access_key}",
                    "CALLREC_SERVER_CALL_IDS": " ,".join(calls),
                    "CALLREC_MAX_REQUESTS": "30",
                },
            )
        finally:
            proxy.close()
        left = running_recordings(running)
    assert done.returncode == 0, done.stdout + done.stderr
    assert proxy.received <= 30
    lines = records(done, tmp_path)
    footer = lines[-1]
    assert footer["requests"] == proxy.received
    outcomes = [line for line in lines if line["record"] == "test"]
    assert {o["status"] for o in outcomes} == {"pass", "not-applicable"}
    spent = [o for o in outcomes if o["message"] == "request budget of 30 spent"]
    assert len(spent) > len(outcomes) / 2
    assert all(
        o["apiVersion"] for o in outcomes
    )  # skipped before their fixtures, named all the same
    assert left == {}  # the stops were held back for: none was refused by the budget
    assert "budget 30" in done.stdout


def test_a_budget_too_small_for_the_startup_checks_is_named(tmp_path: Path) -> None:
    with serve(Settings(activation_delay=0.05)) as running:
        done = run_suites(
            "suites/test_basics.py",
            "--max-requests",
            "1",
            report_dir=tmp_path,
            env={"CALLREC_CONNECTION_STRING": str(running)},
        )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "ERROR: --max-requests: request budget of 1 spent before the first test" in done.stderr
    assert not any(tmp_path.iterdir())  # the run's bookkeeping went with it


# ---------------------------------------------------------------- (d) a run killed mid-way
def interrupt_while_recording(
    running: Running, theirs: str, report_dir: Path, how: signal.Signals
) -> str:
    """Start a run (one process) and send it ``how`` once one of its recordings has been
    active for a while (so its start's answer is journaled); its output."""
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--report-dir",
            str(report_dir),
            "suites/test_basics.py::test_gets_post_no_callback",
        ],
        cwd=ROOT,
        env={**os.environ, "CALLREC_CONNECTION_STRING": str(running), "HYPOTHESIS_PROFILE": "ci"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    clock, model = running.app.emulator.clock, running.app.emulator.model
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and first.poll() is None:
            if any(
                call != theirs and clock.now() - model.recordings[rid].started_at > 0.15
                for rid, call in running_recordings(running).items()
            ):
                first.send_signal(how)
                break
            time.sleep(0.01)
        output, _ = first.communicate(timeout=60)
    finally:
        first.kill()
    return output


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=str)
def test_a_run_stopped_mid_recording_leaves_nothing_recording(
    tmp_path: Path, how: signal.Signals
) -> None:
    """Killed, the run leaves recordings that the next run's startup stops; interrupted
    (Ctrl-C, a CI job cancelled), it stops them itself on the way out. A recording someone
    else started is never touched."""
    with serve(Settings(activation_delay=0.05)) as running, Client(running) as client:
        [theirs] = make_calls(running, 1)
        locator = {"kind": "serverCallLocator", "serverCallId": theirs}
        their_recording = client.start({"callLocator": locator}).json()["recordingId"]
        output = interrupt_while_recording(running, theirs, tmp_path, how)
        left = {rid: call for rid, call in running_recordings(running).items() if call != theirs}
        journals = list(tmp_path.glob("*/journal.jsonl"))
        if how != signal.SIGKILL:
            assert left == {}, output  # the test's own cleanup, or the run's on its way out
            assert journals == []  # nothing open: its journal went with the run
        else:
            assert left, "the first run was not killed while it recorded"
            [journal] = journals
            entries = [json.loads(line) for line in journal.read_text().splitlines()]
            assert set(left) <= {e["id"] for e in entries if "id" in e}

        second = run_suites(
            "suites/test_basics.py::test_stop_answers_no_content",
            report_dir=tmp_path,
            env={"CALLREC_CONNECTION_STRING": str(running)},
        )
        assert second.returncode == 0, second.stdout + second.stderr
        if how == signal.SIGKILL:
            assert (
                f"stopped {len(left)} recording(s) left running by a run that died "
                f"({journal.parent.name})" in second.stdout
            )
            assert unresolved(journal) == []  # nothing left for a third run
            for rid in left:
                assert client.get(rid).status_code == 404
        else:
            assert "a run that died" not in second.stdout
        assert running_recordings(running) == {their_recording: theirs}  # theirs: untouched
        assert client.get(their_recording).json()["recordingState"] == "active"


ABANDONING_PLUGIN = """
import pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    outcome = yield
    if item.name == "test_stop_answers_no_content[newest-active]":
        call = item.funcargs["provided_call"]
        locator = {"kind": "serverCallLocator", "serverCallId": call.server_call_id}
        item.funcargs["target_client"].start({"callLocator": locator})
        raise AssertionError("failed while recording")
    return outcome
"""


def test_a_failed_test_has_its_recording_stopped_before_its_call_is_lent_again(
    tmp_path: Path,
) -> None:
    (tmp_path / "abandoning.py").write_text(ABANDONING_PLUGIN, encoding="utf-8")
    with serve(Settings(activation_delay=0.05)) as running:
        [call] = make_calls(running, 1)
        done = run_suites(
            "suites/test_basics.py",
            "-p",
            "abandoning",
            "--server-call-id",
            call,
            report_dir=tmp_path / "reports",
            env={
                "CALLREC_CONNECTION_STRING": str(running),
                "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            },
        )
        left = running_recordings(running)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout  # the next tests on the same call could record it
    assert "stopped 1 recording(s) the tests left running" in done.stdout
    assert left == {}
    footer = results(tmp_path / "reports")[-1]
    assert footer["cleanup"]["afterTests"] == 1


# ---------------------------------------------------------------- (e) throttling, outages
CHAOS_GAP = 2.5  # seconds between bursts: more than the back-off before a third attempt (2)


def test_throttling_outages_and_slow_answers_are_retried_not_failed(tmp_path: Path) -> None:
    """The emulator's chaos control throttles (429, Retry-After), answers 503 without one,
    and holds answers back, over and over during the run: the run passes, and every refused
    answer was retried and is counted."""
    with serve(Settings(activation_delay=0.05)) as running, Client(running) as control:
        proxy = ServiceProxy(running.endpoint, hide_control=False)  # counts the refusals
        stop = threading.Event()

        def chaos() -> None:
            """A burst at a time, the next one GAP seconds after the last was used up: a
            request is refused at most twice in a row (its retries outlast a burst, and the
            back-off before its third attempt is shorter than the gap)."""
            kinds = [
                {"name": "throttle-burst", "count": 1, "retryAfter": 1},
                {"name": "unavailable-burst", "count": 2, "retryAfter": None},
                {"name": "slow-responses", "delay": 0.2},
            ]
            turn, quiet_since = 0, time.monotonic()
            while not stop.wait(0.05):
                active = control.request("GET", "/emulator/chaos").json()["active"]
                if any("remaining" in entry for entry in active):
                    quiet_since = time.monotonic()
                    continue
                if time.monotonic() - quiet_since < CHAOS_GAP:
                    continue
                if any(entry["name"] == "slow-responses" for entry in active):
                    control.request("DELETE", "/emulator/chaos/slow-responses")
                control.request("POST", "/emulator/chaos", json=kinds[turn % len(kinds)])
                turn, quiet_since = turn + 1, time.monotonic()

        worker = threading.Thread(target=chaos, daemon=True)
        try:
            assert control.request("GET", "/emulator/chaos").status_code == 200
            worker.start()
            done = run_suites(
                "suites/test_basics.py",
                "--live",
                "--rate",
                "0",
                "-n",
                "2",
                report_dir=tmp_path,
                env={
                    "CALLREC_CONNECTION_STRING": f"endpoint={proxy.url}/;accesskey={running.access_key}"
                },
            )
        finally:
            stop.set()
            worker.join(10)
            proxy.close()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = records(done, tmp_path)
    footer = lines[-1]
    assert proxy.refused >= 3
    assert footer["retries"] == proxy.refused  # each refusal was sent again, once
    assert re.search(rf"; {proxy.refused} retried \(", done.stdout), done.stdout
    notes = [
        e["text"]
        for line in lines
        if line["record"] == "test"
        for e in line["evidence"]
        if e["kind"] == "note" and "sent again" in e["text"]
    ]
    assert notes


# ---------------------------------------------------------------- --no-destructive
def test_no_destructive_deletes_no_recorded_content(tmp_path: Path) -> None:
    with serve(Settings(activation_delay=0.05, file_delay=0.05)) as running:
        done = run_suites(
            "suites/test_content.py",
            "-k",
            "ranges_and_delete or default",
            "--no-destructive",
            report_dir=tmp_path,
            env={"CALLREC_CONNECTION_STRING": str(running)},
        )
        kept = len(running.app.emulator.store.documents)
    assert done.returncode == 0, done.stdout + done.stderr
    outcomes = {line["test"].split("::")[1]: line for line in results(tmp_path) if "test" in line}
    deleting = next(o for name, o in outcomes.items() if name.startswith("test_ranges_and_delete"))
    assert deleting["status"] == "not-applicable"
    assert deleting["message"] == "--no-destructive: the test deletes the content it recorded"
    assert deleting["evidence"] == []  # it sent nothing
    assert any(o["status"] == "pass" for o in outcomes.values())
    assert kept == 1  # the passing test's files stay (its cleanup would delete them)


# ---------------------------------------------------------------- (f) secrets
LEAKY_PLUGIN = """
import logging, os, pytest

KEY = os.environ["CALLREC_CONNECTION_STRING"].split("accesskey=", 1)[1]

@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    logging.getLogger("httpx").warning("GET https://x.blob.core.windows.net/c?sv=1&sig=SASSIGNATURE1")
    logging.getLogger("elsewhere").warning("key %s", KEY)
    print(f"Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host&Signature=HMACSIGNATURE1")
    outcome = yield
    if "stop_answers" in item.name:
        raise AssertionError(f"leaked {KEY} https://h/p?sv=1&sig=SASSIGNATURE2 Signature=HMAC2")
    return outcome
"""


def test_no_secret_in_anything_a_run_writes(tmp_path: Path) -> None:
    """A test that puts the key, a signature and SAS tokens in its failure, its output and
    its logs: none of them reaches the terminal, the results or the report."""
    (tmp_path / "leaky.py").write_text(LEAKY_PLUGIN, encoding="utf-8")
    reports = tmp_path / "reports"
    key = fresh_key()
    with serve(Settings(access_key=key, activation_delay=0.05)) as running:
        done = run_suites(
            "suites/test_basics.py",
            "-p",
            "leaky",
            "-rA",
            "--live",
            "--rate",
            "0",
            "--log-level",
            "DEBUG",
            report_dir=reports,
            env={
                "CALLREC_CONNECTION_STRING": str(running),
                "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            },
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "leaked ***" in done.stdout  # the failure is shown, redacted
    assert "2 failed" in done.stdout  # the stop test, paused and not
    scan_for_secrets(key, {"stdout": done.stdout, "stderr": done.stderr, **artifacts(reports)})
    for marker in ("SASSIGNATURE", "HMACSIGNATURE", "HMAC2"):
        assert marker not in done.stdout + done.stderr
        assert all(marker not in text for text in artifacts(reports).values())


# ---------------------------------------------------------------- the parts, in-process
def test_redaction_keeps_json_json() -> None:
    redact = Redactor(["c2VjcmV0LWtleS0xMjM0NQ=="])
    document = {
        "url": "https://a.blob.core.windows.net/c?sv=2024&se=1&sig=abc%2Bdef&sp=rw",
        "auth": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=A+b/c=",
        "cs": "endpoint=https://x/;accesskey=c2VjcmV0LWtleS0xMjM0NQ==",
        "quoted": 'he said "sig=zzz\\"',
        "plain": "error.code 8522, key=value in prose, Bearer eyJ0eXAi.abc",
    }
    text = redact(json.dumps(document))
    cleaned = json.loads(text)
    assert cleaned["url"] == "https://a.blob.core.windows.net/c?sv=2024&se=1&sig=***&sp=rw"
    assert cleaned["auth"].endswith("&Signature=***")
    assert cleaned["cs"] == "endpoint=https://x/;accesskey=***"
    assert "c2VjcmV0" not in text
    assert cleaned["plain"] == "error.code 8522, key=value in prose, Bearer ***"


def test_retry_after_in_its_three_spellings() -> None:
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after({"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, now=90.0) == 10.0
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None


def test_the_budget_holds_back_a_stop_for_every_start(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, Limits(rate=None, budget=4))
    ledger.take()
    ledger.take(reserve=True)  # a start: 2 sent or held of 4
    with pytest.raises(BudgetSpent):
        ledger.take(reserve=True)  # another start would leave no room for its stop
    ledger.take()  # an ordinary request still fits
    assert ledger.spent()
    with pytest.raises(BudgetSpent, match="request budget of 4 spent"):
        ledger.take()
    ledger.take(reserved=True)  # the start's stop: held back for it
    assert ledger.sent() == 4


def test_the_bucket_paces_every_process_of_the_run(tmp_path: Path) -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limits = Limits(rate=10.0, budget=None)
    one = Ledger(tmp_path, limits, clock=lambda: now[0], sleep=sleep)
    two = Ledger(tmp_path, limits, clock=lambda: now[0], sleep=sleep)  # another worker
    for ledger in (one, two, one, two, one):
        ledger.take()
    assert now[0] == pytest.approx(100.4)  # 5 requests at 10/s: the first at once
    assert one.sent() == 5


def guarded(handler: Callable[[httpx.Request], httpx.Response], guard: Guard) -> httpx.Client:
    return httpx.Client(
        base_url="https://target.example", transport=guard.transport(httpx.MockTransport(handler))
    )


def test_throttled_answers_are_sent_again_after_retry_after(tmp_path: Path) -> None:
    slept: list[float] = []
    guard = Guard(Policy(retries=3), sleep=slept.append, jitter=lambda: 0.0)
    answers = iter([429, 503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        headers = {"retry-after": "2"} if status == 429 else {}
        return httpx.Response(status, headers=headers, json={"ok": status == 200})

    with guarded(handler, guard) as client:
        assert client.get("/calling/recordings/x").status_code == 200
    assert slept == [2.0, 0.5]  # Retry-After, then the back-off (0.5-1 s before a 2nd retry)
    assert guard.retried == {"429": 1, "503": 1}
    assert guard.sent == 3


def test_a_start_is_not_sent_again_after_a_500(tmp_path: Path) -> None:
    guard = Guard(Policy(retries=3), sleep=lambda _s: None)
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        return httpx.Response(500)

    with guarded(handler, guard) as client:
        assert client.post("/calling/recordings", json={}).status_code == 500  # may have started
        assert client.get("/calling/recordings/x").status_code == 500  # a get may be repeated
    assert sent == ["POST", "GET", "GET", "GET", "GET"]


def test_the_journal_has_the_start_before_it_is_sent(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "run-1", "https://target.example")
    guard = Guard(Policy(), journal=journal)
    seen_before: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            seen_before.append([item.call or "" for item in unresolved(journal.path)])
            return httpx.Response(200, json={"recordingId": "rec-1"})
        return httpx.Response(204)

    body = {"callLocator": {"kind": "serverCallLocator", "serverCallId": "call-1"}}
    with guarded(handler, guard) as client:
        client.post("/calling/recordings?api-version=2025-06-15", json=body)
        assert seen_before == [["call-1"]]
        assert [i.recording_id for i in unresolved(journal.path)] == ["rec-1"]
        assert journal.is_open("rec-1")
        client.delete("/calling/recordings/rec-1")
    assert unresolved(journal.path) == []
    journal.close()


def test_a_journal_is_left_alone_while_its_run_lives(tmp_path: Path) -> None:
    folder = tmp_path / "run-1"
    journal = Journal(folder, "run-1", "https://target.example")
    item = journal.intend("call-1", None)
    journal.started(item, "rec-1")
    assert list(dead_runs(tmp_path, "run-2")) == []  # run-1 is alive (this process)
    journal.close()  # as if the process died
    [left] = dead_runs(tmp_path, "run-2")
    assert [i.recording_id for i in left.items] == ["rec-1"]
    left.close()
    assert list(dead_runs(tmp_path, "run-1")) == []  # a run never cleans itself up this way


def test_report_carry_brings_only_open_journals_to_the_next_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact, reports = tmp_path / "artifact", tmp_path / "reports"
    dead = Journal(artifact / "run-dead", "run-dead", "https://target.example")
    dead.started(dead.intend("call-1", None), "rec-1")
    dead.close()
    tidy = Journal(artifact / "run-tidy", "run-tidy", "https://target.example")
    item = tidy.intend("call-2", None)
    tidy.started(item, "rec-2")
    tidy.closed(item, "stopped")
    tidy.close()

    assert main(["report", "carry", str(artifact), "--into", str(reports)]) == 0
    out = capsys.readouterr().out
    assert "carried run-dead/journal.jsonl: 1 open into" in out
    assert out.rstrip().endswith(f"1 journal with open recordings carried into {reports}")
    assert sorted(p.relative_to(reports).as_posix() for p in reports.rglob("*")) == [
        "run-dead",
        "run-dead/journal.jsonl",
    ]
    [left] = dead_runs(reports, "run-tonight")  # what the next run's startup stops
    assert [i.recording_id for i in left.items] == ["rec-1"]
    left.close()

    assert main(["report", "carry", str(artifact), "--into", str(reports)]) == 0
    captured = capsys.readouterr()
    assert "not carried, run-dead/journal.jsonl: 1 open" in captured.err  # never overwritten
    assert "0 journals with open recordings carried" in captured.out
    assert main(["report", "carry", str(tmp_path / "gone"), "--into", str(reports)]) == 2
    assert "gone: not a folder" in capsys.readouterr().err


def test_no_destructive_refuses_content_deletes(tmp_path: Path) -> None:
    guard = Guard(Policy(no_destructive=True))
    with (
        guarded(lambda _r: httpx.Response(200), guard) as client,
        pytest.raises(pytest.skip.Exception, match="--no-destructive"),
    ):
        client.delete("/v1/objects/0-eus-d1-abc")
