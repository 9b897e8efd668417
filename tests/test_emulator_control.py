"""The emulator-only control API: calls, participants, clock, faults, info, reset."""

from __future__ import annotations

from typing import Any

import pytest

from callrec.client import Client
from callrec.emulator import FAULTS, Settings, serve
from callrec.specs import api_versions
from tests.plugins.emulator import PARTICIPANTS


def test_info_describes_the_emulator(client: Client) -> None:
    info = client.info()
    assert info["name"] == "callrec-emulator"
    assert info["apiVersions"] == api_versions()
    assert info["faults"] == sorted(FAULTS)
    assert info["features"]["strict"] is True


def test_calls_look_like_real_ones(client: Client) -> None:
    import base64

    call = client.create_call(PARTICIPANTS)
    assert base64.b64decode(call["serverCallId"]).startswith(b"https://")
    assert "groupCallId" not in call
    assert [p["rawId"] for p in call["participants"]] == [p["rawId"] for p in PARTICIPANTS]
    group = client.create_call([], kind="groupCall")
    assert group["groupCallId"]


def test_participants_join_and_leave(client: Client) -> None:
    call = client.create_call(PARTICIPANTS[:1])
    newcomer = {"phoneNumber": {"value": "+14255550123"}}
    joined = client.add_participant(call["serverCallId"], newcomer)
    assert len(joined["participants"]) == 2
    left = client.remove_participant(call["serverCallId"], "4:+14255550123")
    assert left["participants"] == PARTICIPANTS[:1]
    missing = client.request(
        "DELETE", f"/emulator/calls/{_quoted(call)}/participants/8%3Aacs%3Anobody"
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "ParticipantNotFound")


def _quoted(call: dict[str, Any]) -> str:
    from callrec.auth import path_quote

    return path_quote(call["serverCallId"])


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/emulator/calls", {"participants": "x"}, 400, "8523"),
        ("POST", "/emulator/calls", {"participants": [], "kind": "meeting"}, 400, "8523"),
        ("POST", "/emulator/calls", {"participants": [{"kind": "communicationUser"}]}, 400, "8523"),
        ("POST", "/emulator/calls", [1, 2], 400, "8523"),
        ("GET", "/emulator/calls/bm9uZQ%3D%3D", None, 404, "CallNotFound"),
        ("DELETE", "/emulator/calls/bm9uZQ%3D%3D", None, 404, "CallNotFound"),
        ("POST", "/emulator/clock:advance", {"seconds": -1}, 400, "8523"),
        ("POST", "/emulator/clock:advance", {"seconds": True}, 400, "8523"),
        ("POST", "/emulator/faults", {"name": "no-such-fault"}, 404, "FaultNotFound"),
        ("DELETE", "/emulator/faults/no-such-fault", None, 404, "FaultNotFound"),
        ("PUT", "/emulator/info", None, 405, "MethodNotAllowed"),
        ("GET", "/emulator/nothing", None, 404, "NotFound"),
    ],
)
def test_control_errors_use_the_error_shape(
    client: Client, method: str, path: str, body: Any, status: int, code: str
) -> None:
    response = client.request(method, path, json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_control_api_is_authenticated(client: Client) -> None:
    response = client.request("POST", "/emulator/calls", json={"participants": []}, signed=False)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "401")


def test_clock_advance_drives_activation() -> None:
    with serve(Settings(activation_delay=3600)) as running, Client(running) as client:
        call = client.create_call(PARTICIPANTS)
        rid = client.start({"callLocator": {"serverCallId": call["serverCallId"]}}).json()[
            "recordingId"
        ]
        assert client.get(rid).json()["recordingState"] == "inactive"
        client.advance_clock(3601)
        import time

        deadline = time.monotonic() + 2
        while client.get(rid).json()["recordingState"] != "active":
            assert time.monotonic() < deadline, "advancing the clock did not activate the recording"
            time.sleep(0.01)


def test_reset_forgets_calls_and_recordings(client: Client) -> None:
    call = client.create_call(PARTICIPANTS)
    rid = client.start({"callLocator": {"serverCallId": call["serverCallId"]}}).json()[
        "recordingId"
    ]
    client.set_fault("wrong-enum-case")
    client.reset()
    assert client.get(rid).status_code == 404
    assert client.request("GET", f"/emulator/calls/{_quoted(call)}").status_code == 404
    assert client.info()["activeFaults"] == []
