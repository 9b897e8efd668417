"""Interop: the official JS SDK, @azure/communication-call-automation 1.6.0, drives the emulator.

``tests/interop/js/lifecycle.mjs`` runs under node and takes recordings through start, getState,
pause, resume and stop, printing one JSON line per step. Here the script runs step by step
(``CALLREC_INTERACTIVE=1``): at each line the test checks what the SDK saw against what the
emulator says through the Python ``Client``, and moves the emulator clock to make the recording
active, so no step depends on timing. A second run goes through all scenarios unattended, and
two runs check that the script fails loudly.

The node dependencies are installed on first use (``npm ci``) into ``tests/interop/js/node_modules``.
Skipped only when ``node`` or ``npm`` is not on PATH.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import pytest

import callrec
from callrec.client import Client
from callrec.emulator import Running, Settings, serve
from tests.plugins.npm import install_lock

JS_DIR = Path(__file__).parent / "interop" / "js"
SCRIPT = JS_DIR / "lifecycle.mjs"
PACKAGE = "@azure/communication-call-automation"
PINNED = "1.6.0"
SDK_API_VERSION = "2026-03-12"  # 1.6.0's default api-version (contract digest, section 1)
NPM_REGISTRY = "https://registry.npmjs.org/"
NODE = shutil.which("node")
NPM = shutil.which("npm")
INSTALL_TIMEOUT = 300.0
RUN_TIMEOUT = 30.0
# The emulator's clock only reaches a recording's activation when the test moves it.
ACTIVATION_DELAY = 3600.0
# The unattended run uses real time: activation after 0.5 s, polled for up to 2 s (the
# pause-on-start scenario never turns active, so it waits the whole settle time).
UNATTENDED_ACTIVATION = 0.5
UNATTENDED_SETTLE_MS = "2000"

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="the JS SDK interop test needs node and npm on PATH",
)

# scenario -> (media the emulator must resolve the start to, SDK states at each getState label)
NORMAL_STATES = {
    "start": "inactive",
    "started": "inactive",
    "activated": "active",
    "paused": "inactive",
    "resumed": "active",
}
SCENARIOS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "default": ({"content": "audioVideo", "channel": "mixed", "format": "mp4"}, NORMAL_STATES),
    "mixed-audio-wav": ({"content": "audio", "channel": "mixed", "format": "wav"}, NORMAL_STATES),
    "unmixed-audio-wav-affinity": (
        {"content": "audio", "channel": "unmixed", "format": "wav"},
        NORMAL_STATES,
    ),
    "pause-on-start": (
        {"content": "audio", "channel": "mixed", "format": "mp3"},
        # paused from the start: reaching the activation time must not make it active
        {**NORMAL_STATES, "activated": "inactive"},
    ),
}
# the order of the lines of one scenario: (step, label)
STEPS = [
    ("start", None),
    ("getState", "started"),
    ("getState", "activated"),
    ("pause", None),
    ("getState", "paused"),
    ("resume", None),
    ("getState", "resumed"),
    ("stop", None),
    ("getState", "stopped"),
    ("stop", "again"),
]
OPERATION_STATUS = {"start": 200, "getState": 200, "pause": 202, "resume": 202, "stop": 204}


# ------------------------------------------------------------------ node, npm and the SDK
def _installed_version() -> str | None:
    manifest = JS_DIR / "node_modules" / PACKAGE / "package.json"
    try:
        version: str = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return None
    return version


def _pinned_version() -> str:
    manifest = json.loads((JS_DIR / "package.json").read_text(encoding="utf-8"))
    pinned: str = manifest["dependencies"][PACKAGE]
    return pinned


def _npm_env() -> dict[str, str]:
    return {
        **os.environ,
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
    }


def node_with_sdk() -> str:
    """The node executable, with the pinned SDK installed next to the scripts (``npm ci`` once)."""
    assert NODE is not None
    assert NPM is not None
    version = subprocess.run(
        [NODE, "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.fail(f"{PACKAGE} {PINNED} needs node >= 20; {NODE} is {version}")
    with install_lock(JS_DIR):
        if _installed_version() != _pinned_version():
            lockfile = (JS_DIR / "package-lock.json").exists()
            command = [NPM, "ci" if lockfile else "install", "--no-audit", "--no-fund"]
            try:
                done = subprocess.run(
                    command,
                    cwd=JS_DIR,
                    env=_npm_env(),
                    capture_output=True,
                    text=True,
                    timeout=INSTALL_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                pytest.fail(f"`{' '.join(command)}` in {JS_DIR} took over {INSTALL_TIMEOUT:.0f}s")
            if done.returncode != 0:
                pytest.fail(
                    f"`{' '.join(command)}` in {JS_DIR} failed ({done.returncode}):\n"
                    f"{done.stdout}\n{done.stderr}"
                )
        installed = _installed_version()
    assert installed == _pinned_version(), f"installed {PACKAGE} is {installed}"
    return NODE


@pytest.fixture(scope="module")
def node() -> str:
    """The node executable, with the pinned SDK installed next to the scripts."""
    return node_with_sdk()


# ------------------------------------------------------------------ the emulator
@pytest.fixture(scope="module")
def emulator() -> Iterator[Running]:
    """This module's emulator (used by ``client`` and ``call``): activation only on clock moves."""
    with serve(Settings(activation_delay=ACTIVATION_DELAY, callback_backoff=0.05)) as running:
        yield running


def _raw_ids(call: dict[str, Any]) -> list[str]:
    return [str(person["rawId"]) for person in call["participants"]]


def _media(running: Running, recording_id: str) -> dict[str, str]:
    """What the emulator made of the start: its resolved content, channel and format."""
    recording = running.app.state.emulator.model.recordings[recording_id]
    return {key: recording.media[key] for key in ("content", "channel", "format")}


def _wait_for_state(client: Client, recording_id: str, state: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        seen = client.get(recording_id).json().get("recordingState")
        if seen == state:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the emulator still says {seen!r} for {recording_id}, not {state!r}")
        time.sleep(0.01)


# ------------------------------------------------------------------ running the script
class Script:
    """lifecycle.mjs under node: JSON lines out (with a deadline), a go-ahead line in."""

    def __init__(
        self, node: str, args: list[str], env: dict[str, str], stderr: Path, timeout: float
    ) -> None:
        self._stderr_path = stderr
        self._stderr: IO[str] = stderr.open("w", encoding="utf-8")
        clean = {key: value for key, value in os.environ.items() if not key.startswith("CALLREC_")}
        try:
            self.proc = subprocess.Popen(
                [node, str(SCRIPT), *args],
                cwd=JS_DIR,
                env={**clean, **env},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                encoding="utf-8",
            )
        except OSError:
            self._stderr.close()
            raise
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._deadline = time.monotonic() + timeout
        self.timeout = timeout

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self._lines.put(raw)
        self._lines.put(None)

    def stderr(self) -> str:
        self._stderr.flush()
        return self._stderr_path.read_text(encoding="utf-8")

    def next(self, *, allow_error: bool = False) -> dict[str, Any]:
        """The next line, parsed; fails the test on a timeout, an early exit or an error line."""
        try:
            raw = self._lines.get(timeout=max(0.0, self._deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"lifecycle.mjs printed nothing within {self.timeout}s:\n{self.stderr()}")
        if raw is None:
            code = self.proc.wait(5)
            pytest.fail(f"lifecycle.mjs ended early (exit {code}):\n{self.stderr()}")
        try:
            line: dict[str, Any] = json.loads(raw)
        except ValueError:
            pytest.fail(f"lifecycle.mjs printed a line that is not JSON: {raw!r}")
        if line.get("step") == "error" and not allow_error:
            pytest.fail(f"lifecycle.mjs failed: {line}\n{self.stderr()}")
        return line

    def proceed(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write("go\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pytest.fail(f"lifecycle.mjs is gone (exit {self.proc.poll()}):\n{self.stderr()}")

    def finish(self) -> int:
        try:
            return self.proc.wait(max(0.1, self._deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pytest.fail(f"lifecycle.mjs did not exit within {self.timeout}s:\n{self.stderr()}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._reader.join(10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._stderr.close()


@contextlib.contextmanager
def run_script(
    node: str,
    tmp_path: Path,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = RUN_TIMEOUT,
) -> Iterator[Script]:
    script = Script(node, args or [], env or {}, tmp_path / "node-stderr.txt", timeout)
    try:
        yield script
    finally:
        script.close()


# ------------------------------------------------------------------ checks
def check_start_request(line: dict[str, Any], scenario: str, call: dict[str, Any]) -> None:
    """What the SDK put on the wire for a start."""
    request = line["request"]
    assert parse_qs(urlsplit(request["url"]).query) == {"api-version": [SDK_API_VERSION]}
    body = request["body"]
    assert callrec.validate(body, "StartCallRecordingRequest", api_version=SDK_API_VERSION) == []
    assert body["callLocator"] == {
        "kind": "serverCallLocator",
        "serverCallId": call["serverCallId"],
    }
    uuid.UUID(request["repeatabilityRequestId"])
    assert request["repeatabilityFirstSent"].endswith(" GMT")
    assert line["repeatabilityResult"] == "accepted"
    raw_ids = _raw_ids(call)
    if scenario == "unmixed-audio-wav-affinity":
        pins = [(pin["channel"], pin["participant"]["rawId"]) for pin in body["channelAffinity"]]
        assert pins == [(2, raw_ids[0]), (0, raw_ids[-1])]
    else:
        assert "channelAffinity" not in body
    assert body.get("pauseOnStart", False) is (scenario == "pause-on-start")


def check_same_state(client: Client, line: dict[str, Any]) -> None:
    """The SDK's view of a recording equals the emulator's (read with the Python client)."""
    response = client.get(line["recordingId"])
    assert response.status_code == 200, response.text
    ours = response.json()
    sdk = {key: line[key] for key in ("recordingId", "recordingState", "recordingKind")}
    assert sdk == {key: ours.get(key) for key in sdk}


def check_gone(client: Client, line: dict[str, Any], recording_id: str) -> None:
    """After stop the SDK gets a RestError 404 8522, like the Python client."""
    assert line["status"] == 404
    assert line["error"]["name"] == "RestError"
    assert (line["error"]["statusCode"], line["error"]["code"]) == (404, "8522")
    response = client.get(recording_id)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == line["error"]["code"]


def expected_callbacks(scenario: str) -> list[str]:
    # every transition of the reported state, in order: pause-on-start never was active before
    # its resume, so its pause and activation change nothing
    if scenario == "pause-on-start":
        return ["active", "inactive"]
    return ["active", "inactive", "active", "inactive"]


# ------------------------------------------------------------------ tests
def test_package_pins_the_sdk(node: str) -> None:
    manifest = json.loads((JS_DIR / "package.json").read_text(encoding="utf-8"))
    assert manifest["dependencies"][PACKAGE] == PINNED
    assert _installed_version() == PINNED
    lock = json.loads((JS_DIR / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"][f"node_modules/{PACKAGE}"]["version"] == PINNED
    foreign = {
        name: entry["resolved"]
        for name, entry in lock["packages"].items()
        if "resolved" in entry and not entry["resolved"].startswith(NPM_REGISTRY)
    }
    assert foreign == {}, "package-lock.json records tarballs from another registry"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_lifecycle_step_by_step(
    scenario: str,
    node: str,
    emulator: Running,
    client: Client,
    call: dict[str, Any],
    receiver: Any,
    tmp_path: Path,
) -> None:
    media, states = SCENARIOS[scenario]
    env = {
        "CALLREC_CONNECTION_STRING": str(emulator),
        "CALLREC_SERVER_CALL_ID": call["serverCallId"],
        "CALLREC_PARTICIPANTS": ",".join(_raw_ids(call)),
        "CALLREC_SCENARIOS": scenario,
        "CALLREC_CALLBACK_URL": receiver.url,
        "CALLREC_INTERACTIVE": "1",
    }
    recording_id = ""
    with run_script(node, tmp_path, env=env) as script:
        for step, label in STEPS:
            line = script.next()
            where = (line.get("scenario"), line["step"], line.get("label"))
            assert where == (scenario, step, label), line
            if step == "start":
                recording_id = line["recordingId"]
                check_start_request(line, scenario, call)
                assert _media(emulator, recording_id) == media
            if label in ("stopped", "again"):
                assert line["recordingId"] == recording_id
                check_gone(client, line, recording_id)
            else:
                assert line["status"] == OPERATION_STATUS[step], line
                assert line["recordingId"] == recording_id
            if step == "start" or (step == "getState" and label != "stopped"):
                assert line.get("recordingState") == states[label or step], line
                check_same_state(client, line)
            if label == "started":
                # the activation time comes; a paused recording must stay inactive
                client.advance_clock(ACTIVATION_DELAY + 1)
                if states["activated"] == "active":
                    _wait_for_state(client, recording_id, "active")
                else:
                    time.sleep(0.1)
            script.proceed()
        assert script.next() == {"step": "done", "scenarios": [scenario]}
        assert script.finish() == 0, script.stderr()

    receiver.wait_for(lambda seen: len(seen) >= len(expected_callbacks(scenario)))
    time.sleep(0.1)  # nothing more may arrive
    with receiver.lock:
        bodies = list(receiver.bodies)
    for body in bodies:
        assert callrec.validate(body, "RecordingCallbackBatch", api_version=SDK_API_VERSION) == []
    events = [event for body in bodies for event in body]
    assert {event["data"]["recordingId"] for event in events} == {recording_id}
    assert [event["data"]["state"] for event in events] == expected_callbacks(scenario)


def test_all_scenarios_unattended(node: str, tmp_path: Path) -> None:
    """The script as a developer runs it: arguments on the command line, no driver."""
    with (
        # real time: the getState right after a start must see `inactive`, the settle must see
        # `active`; under load (load average 11 on 2 cores) 50 ms and 600 ms were not always
        # enough for one of the two
        serve(Settings(activation_delay=UNATTENDED_ACTIVATION)) as running,
        Client(running) as client,
    ):
        call = client.create_call(
            [
                {"rawId": f"8:acs:interop_{n}", "communicationUser": {"id": f"8:acs:interop_{n}"}}
                for n in range(2)
            ]
        )
        args = [str(running), call["serverCallId"], *_raw_ids(call)]
        with run_script(
            node, tmp_path, args=args, env={"CALLREC_SETTLE_MS": UNATTENDED_SETTLE_MS}
        ) as script:
            lines = []
            while not lines or lines[-1]["step"] != "done":
                lines.append(script.next())
            assert script.finish() == 0, script.stderr()
        assert lines[-1]["scenarios"] == list(SCENARIOS)
        by_scenario: dict[str, list[dict[str, Any]]] = {}
        for line in lines[:-1]:
            by_scenario.setdefault(line["scenario"], []).append(line)
        assert list(by_scenario) == list(SCENARIOS)
        for scenario, (media, states) in SCENARIOS.items():
            seen = by_scenario[scenario]
            assert [(line["step"], line.get("label")) for line in seen] == STEPS
            recording_id = seen[0]["recordingId"]
            assert _media(running, recording_id) == media
            reported = {
                line.get("label") or line["step"]: line["recordingState"]
                for line in seen
                if "recordingState" in line
            }
            assert reported == states, scenario
            assert [line["status"] for line in seen] == [
                404 if label in ("stopped", "again") else OPERATION_STATUS[step]
                for step, label in STEPS
            ]
            assert client.get(recording_id).status_code == 404


@pytest.mark.parametrize(
    ("problem", "status", "code"),
    [("ended call", 400, "8501"), ("wrong access key", 401, "401")],
)
def test_script_fails_loudly(
    problem: str,
    status: int,
    code: str,
    node: str,
    emulator: Running,
    client: Client,
    call: dict[str, Any],
    tmp_path: Path,
) -> None:
    server_call_id = call["serverCallId"]
    connection_string = str(emulator)
    if problem == "ended call":
        client.end_call(server_call_id)
    else:
        wrong_key = "A" * len(emulator.access_key)
        connection_string = connection_string.replace(emulator.access_key, wrong_key)
    args = [connection_string, server_call_id, *_raw_ids(call)]
    with run_script(node, tmp_path, args=args, env={"CALLREC_SCENARIOS": "default"}) as script:
        line = script.next(allow_error=True)
        assert script.finish() == 1
        stderr = script.stderr()
    assert line["step"] == "error"
    assert (line["error"]["name"], line["error"]["statusCode"]) == ("RestError", status)
    assert line["error"]["code"] == code
    assert stderr.startswith(f"lifecycle.mjs: default: RestError (HTTP {status}, code {code}): ")
