"""The emulator under concurrent clients: nothing lost, nothing doubled, every state right.

Each simulated client is an asyncio task with its own signed httpx connection to the session
emulator. Every test is bounded in time (`DEADLINE`) so a hang fails instead of stalling the run.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, TypeVar

import httpx

import callrec
from callrec.auth import path_quote
from callrec.client import Client, HmacAuth
from callrec.emulator import Running
from tests.plugins.emulator import PARTICIPANTS, Receiver

VERSION = "2025-06-15"
CLIENTS = 64
LIFECYCLES = 3  # full lifecycles per client, plus one recording each client leaves running
DEADLINE = 120.0  # seconds for a whole test's traffic
T = TypeVar("T")


def run(work: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(work(), DEADLINE)

    return asyncio.run(bounded())


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client (the emulator here is plain HTTP): building one per
    httpx client costs ~20 ms, which 64 clients would spend before sending anything."""
    return ssl.create_default_context()


def signed_client(emulator: Running) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=emulator.endpoint,
        auth=HmacAuth(emulator.access_key),
        timeout=30.0,
        verify=tls_context(),
    )


def recording_path(recording_id: str) -> str:
    return f"/calling/recordings/{path_quote(recording_id)}"


def error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if callrec.validate(body, "CommunicationErrorResponse"):
        return None
    code: str = body["error"]["code"]
    return code


@dataclass
class Ledger:
    """What the clients saw: every answer that was not the expected one, and what they made."""

    wrong: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    calls: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    survivors: dict[str, str] = field(default_factory=dict)  # recording id -> final state

    def expect(
        self, what: str, response: httpx.Response, status: int, code: str | None = None
    ) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code != status or (code is not None and error_code(response) != code):
            self.wrong.append(
                f"{what}: {response.request.method} {response.request.url} -> "
                f"{response.status_code} {response.text[:200]!r} (wanted {status} {code or ''})"
            )

    def expect_state(
        self, what: str, response: httpx.Response, recording_id: str, state: str
    ) -> None:
        self.expect(what, response, 200)
        if response.status_code == 200:
            body = response.json()
            if body.get("recordingId") != recording_id or body.get("recordingState") != state:
                self.wrong.append(f"{what}: wanted {recording_id} {state}, got {body}")
            if callrec.validate(body, "RecordingStateResponse", api_version=VERSION):
                self.wrong.append(f"{what}: not a RecordingStateResponse: {body}")


async def lifecycle(
    http: httpx.AsyncClient, ledger: Ledger, callback: str, *, keep: str | None = None
) -> None:
    """Create a call, then start, get, pause, get, resume, get, stop, get, pause a recording.

    With ``keep`` ("active" or "inactive") the recording is left running in that state instead.
    """
    params = {"api-version": VERSION}
    made = await http.post(
        "/emulator/calls", json={"participants": PARTICIPANTS, "kind": "serverCall"}
    )
    ledger.expect("create call", made, 201)
    if made.status_code != 201:
        return
    call = made.json()
    ledger.calls.append(call["serverCallId"])
    started = await http.post(
        "/calling/recordings",
        params=params,
        json={
            "callLocator": {"kind": "serverCallLocator", "serverCallId": call["serverCallId"]},
            "recordingStateCallbackUri": callback,
        },
        headers={
            "Repeatability-Request-ID": str(uuid.uuid4()),
            "Repeatability-First-Sent": formatdate(usegmt=True),
        },
    )
    ledger.expect("start", started, 200)
    if started.status_code != 200:
        return
    recording_id = started.json()["recordingId"]
    if started.json().get("recordingState") != "inactive":
        ledger.wrong.append(f"start answered {started.json()}, wanted recordingState inactive")
    path = recording_path(recording_id)
    got = await http.get(path, params=params)
    ledger.expect("get after start", got, 200)
    ledger.expect("pause", await http.post(path + ":pause", params=params), 202)
    ledger.expect_state(
        "get after pause", await http.get(path, params=params), recording_id, "inactive"
    )
    if keep == "inactive":
        ledger.survivors[recording_id] = "inactive"
        return
    ledger.expect("resume", await http.post(path + ":resume", params=params), 202)
    ledger.expect_state(
        "get after resume", await http.get(path, params=params), recording_id, "active"
    )
    if keep == "active":
        ledger.survivors[recording_id] = "active"
        return
    ledger.expect("stop", await http.delete(path, params=params), 204)
    ledger.stopped.append(recording_id)
    ledger.expect("get after stop", await http.get(path, params=params), 404, "8522")
    ledger.expect("pause after stop", await http.post(path + ":pause", params=params), 404, "8522")


def states_by_recording(bodies: list[Any]) -> dict[str, list[str]]:
    """recording id -> the RecordingStateChanged states received, in arrival order."""
    seen: dict[str, list[str]] = {}
    for batch in bodies:
        for event in batch:
            if event.get("type") == "Microsoft.Communication.RecordingStateChanged":
                seen.setdefault(event["data"]["recordingId"], []).append(event["data"]["state"])
    return seen


def alternates(states: list[str]) -> bool:
    """Transitions only: active, inactive, active, ... (never the same state twice in a row)."""
    return all(
        state == ("active" if index % 2 == 0 else "inactive") for index, state in enumerate(states)
    )


def test_64_clients_full_lifecycles_lose_nothing(
    emulator: Running, client: Client, receiver: Receiver
) -> None:
    ledger = Ledger()

    async def one_client(index: int) -> None:
        async with signed_client(emulator) as http:
            for _ in range(LIFECYCLES):
                await lifecycle(http, ledger, receiver.url)
            await lifecycle(http, ledger, receiver.url, keep="active" if index % 2 else "inactive")

    async def everyone() -> list[BaseException | None]:
        return await asyncio.gather(
            *(one_client(n) for n in range(CLIENTS)), return_exceptions=True
        )

    failures = [outcome for outcome in run(everyone) if outcome is not None]
    assert not failures, f"{len(failures)} clients failed, e.g. {failures[:3]!r}"
    assert not ledger.wrong, f"{len(ledger.wrong)} wrong answers, e.g. {ledger.wrong[:5]}"
    assert not [status for status in ledger.statuses if status >= 500], ledger.statuses

    # every start made its own recording, every create made its own call
    made = ledger.stopped + list(ledger.survivors)
    assert len(made) == CLIENTS * (LIFECYCLES + 1)
    assert len(set(made)) == len(made), "a recording id was handed out twice"
    assert len(ledger.calls) == len(set(ledger.calls)) == CLIENTS * (LIFECYCLES + 1)

    # the emulator's own view agrees with what the clients saw
    for recording_id in ledger.stopped:
        gone = client.get(recording_id)
        assert gone.status_code == 404, (recording_id, gone.text)
        assert error_code(gone) == "8522"
    for recording_id, state in ledger.survivors.items():
        now = client.get(recording_id)
        assert now.status_code == 200, (recording_id, now.text)
        assert now.json()["recordingState"] == state, (recording_id, now.json())
    for server_call_id in ledger.calls:
        call = client.request("GET", f"/emulator/calls/{path_quote(server_call_id)}")
        assert call.status_code == 200, call.text
        assert call.json()["serverCallId"] == server_call_id
        assert call.json()["ended"] is False

    # the callbacks: every transition reported once, in order, per recording
    def settled(bodies: list[Any]) -> bool:
        seen = states_by_recording(bodies)
        # a survivor paused before it turned active has (rightly) had no callback at all
        paused = [r for r, state in ledger.survivors.items() if state == "inactive"]
        final = dict.fromkeys(ledger.stopped, "inactive") | ledger.survivors
        return all(
            seen.get(r, [""])[-1] == state for r, state in final.items() if r not in paused
        ) and all(seen.get(r, ["inactive"])[-1] == "inactive" for r in paused)

    seen = states_by_recording(receiver.wait_for(settled, timeout=60.0))
    assert set(seen) <= set(made), "a callback named a recording nobody started"
    for recording_id in made:
        states = seen.get(recording_id, [])
        assert alternates(states), (recording_id, states)
        # 2 or 4 transitions for a full lifecycle, depending on whether activation beat the pause
        if recording_id in ledger.stopped:
            assert len(states) in (2, 4), (recording_id, states)
        elif ledger.survivors[recording_id] == "active":
            assert len(states) in (1, 3), (recording_id, states)
        else:
            assert len(states) in (0, 2), (recording_id, states)
    wait_until_quiet(client, receiver)


def wait_until_quiet(client: Client, receiver: Receiver, timeout: float = 15.0) -> None:
    """Until every delivery the emulator attempted has reached the receiver and nothing new has
    been attempted for a while: no callback of this test is still in flight when it ends."""
    deadline = time.monotonic() + timeout
    last, stable_since, delivered, received = -1, time.monotonic(), 0, 0
    while time.monotonic() < deadline:
        log = client.deliveries()
        delivered = sum(1 for entry in log if entry["status"] is not None and entry["status"] < 300)
        with receiver.lock:
            received = len(receiver.bodies)
        if len(log) != last:
            last, stable_since = len(log), time.monotonic()
        elif delivered == received and time.monotonic() - stable_since > 0.3:
            return
        time.sleep(0.05)
    raise AssertionError(
        f"deliveries still moving: {last} attempts, {delivered} delivered, {received} received"
    )


def start_body(call: dict[str, Any]) -> dict[str, Any]:
    return {"callLocator": {"kind": "serverCallLocator", "serverCallId": call["serverCallId"]}}


def test_64_concurrent_starts_on_one_call_make_one_recording(
    emulator: Running, client: Client, call: dict[str, Any]
) -> None:
    async def start() -> httpx.Response:
        async with signed_client(emulator) as http:
            return await http.post(
                "/calling/recordings", params={"api-version": VERSION}, json=start_body(call)
            )

    async def everyone() -> list[httpx.Response]:
        return await asyncio.gather(*(start() for _ in range(CLIENTS)))

    answers = run(everyone)
    won = [answer for answer in answers if answer.status_code == 200]
    lost = [answer for answer in answers if answer.status_code != 200]
    assert len(won) == 1, Counter(answer.status_code for answer in answers)
    assert {(answer.status_code, error_code(answer)) for answer in lost} == {(400, "8553")}
    recording_id = won[0].json()["recordingId"]
    assert client.get(recording_id).status_code == 200


def test_64_concurrent_repeats_of_one_start_answer_the_same(
    emulator: Running, client: Client, call: dict[str, Any]
) -> None:
    headers = {
        "Repeatability-Request-ID": str(uuid.uuid4()),
        "Repeatability-First-Sent": formatdate(usegmt=True),
    }

    async def start() -> httpx.Response:
        async with signed_client(emulator) as http:
            return await http.post(
                "/calling/recordings",
                params={"api-version": VERSION},
                json=start_body(call),
                headers=headers,
            )

    async def everyone() -> list[httpx.Response]:
        return await asyncio.gather(*(start() for _ in range(CLIENTS)))

    answers = run(everyone)
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1, "repeats got different answers"
    assert {answer.headers.get("repeatability-result") for answer in answers} == {"accepted"}
    recording_id = answers[0].json()["recordingId"]
    # exactly one recording: a fresh start on the call is a duplicate, not a second recording
    again = client.start(start_body(call))
    assert (again.status_code, error_code(again)) == (400, "8553"), again.text
    assert client.stop(recording_id).status_code == 204
    assert client.start(start_body(call)).status_code == 200


def test_64_concurrent_stops_stop_once(
    emulator: Running, client: Client, call: dict[str, Any]
) -> None:
    recording_id = client.start(start_body(call)).json()["recordingId"]

    async def stop() -> httpx.Response:
        async with signed_client(emulator) as http:
            return await http.delete(recording_path(recording_id), params={"api-version": VERSION})

    async def everyone() -> list[httpx.Response]:
        return await asyncio.gather(*(stop() for _ in range(CLIENTS)))

    answers = run(everyone)
    outcomes = Counter((answer.status_code, error_code(answer)) for answer in answers)
    assert outcomes == {(204, None): 1, (404, "8522"): CLIENTS - 1}, outcomes
    assert client.get(recording_id).status_code == 404


def test_pause_resume_storm_reports_each_transition_once(
    emulator: Running, client: Client, call: dict[str, Any], receiver: Receiver
) -> None:
    body = {**start_body(call), "recordingStateCallbackUri": receiver.url}
    recording_id = client.start(body).json()["recordingId"]
    path = recording_path(recording_id)
    params = {"api-version": VERSION}
    rounds = 10

    async def toggler(operation: str) -> list[int]:
        async with signed_client(emulator) as http:
            return [
                (await http.post(f"{path}:{operation}", params=params)).status_code
                for _ in range(rounds)
            ]

    async def everyone() -> list[list[int]]:
        return await asyncio.gather(
            *(toggler("pause" if n % 2 else "resume") for n in range(CLIENTS))
        )

    statuses = Counter(status for answers in run(everyone) for status in answers)
    assert statuses == {202: CLIENTS * rounds}, statuses
    # whatever the interleaving, the recording ends up in a state a final pause/resume decides
    assert client.pause(recording_id).status_code == 202
    assert client.get(recording_id).json()["recordingState"] == "inactive"
    assert client.resume(recording_id).status_code == 202
    assert client.get(recording_id).json()["recordingState"] == "active"
    assert client.stop(recording_id).status_code == 204

    wait_until_quiet(client, receiver, timeout=60.0)  # hundreds of transitions, one at a time
    with receiver.lock:
        states = states_by_recording(receiver.bodies)[recording_id]
    assert alternates(states), [n for n, state in enumerate(states[1:]) if state == states[n]]
    assert states[-1] == "inactive"
    assert len(states) >= 4
