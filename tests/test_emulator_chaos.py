"""Chaos: throttle and unavailable bursts and slow answers, switched on through
``/emulator/chaos``, act on the recording operations and content endpoints and never on the
control API; counts are exact under concurrent requests; a reset clears them."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final

import httpx
import pytest

from callrec import validate
from callrec.client import Client, HmacAuth
from callrec.emulator import FAULTS, Running
from callrec.emulator._chaos import KINDS

UNKNOWN: Final = "/calling/recordings/unknown"  # answers 404 8522 when left alone
OBJECT: Final = "/v1/objects/0-eus-d1-unknown/content/audio"  # answers 404, empty body
BURSTS: Final = [("throttle-burst", 429), ("unavailable-burst", 503)]


def _chaos(client: Client, body: dict[str, Any]) -> httpx.Response:
    return client.request("POST", "/emulator/chaos", json=body)


def _switch_on(client: Client, **body: Any) -> dict[str, Any]:
    answer = _chaos(client, body)
    assert answer.status_code == 200, answer.text
    listed: dict[str, Any] = answer.json()
    return listed


def _active(client: Client) -> list[dict[str, Any]]:
    answer = client.request("GET", "/emulator/chaos")
    assert answer.status_code == 200, answer.text
    active: list[dict[str, Any]] = answer.json()["active"]
    return active


def _recording(client: Client) -> httpx.Response:
    return client.request("GET", UNKNOWN, params={"api-version": client.api_version})


def _assert_normal(answer: httpx.Response) -> None:
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "8522"
    assert "retry-after" not in answer.headers


def _assert_burst(answer: httpx.Response, status: int, retry_after: str | None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers.get("retry-after") == retry_after
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert validate(body, "CommunicationErrorResponse") == [], body


# ---------------------------------------------------------------- bursts
@pytest.mark.parametrize(("name", "status"), BURSTS)
def test_a_burst_answers_count_requests_then_normal_answers_resume(
    client: Client, name: str, status: int
) -> None:
    listed = _switch_on(client, name=name, count=3, retryAfter=2)
    assert listed["active"] == [{"name": name, "count": 3, "retryAfter": 2, "remaining": 3}]
    for remaining in (2, 1):
        _assert_burst(_recording(client), status, "2")
        assert _active(client) == [
            {"name": name, "count": 3, "retryAfter": 2, "remaining": remaining}
        ]
    _assert_burst(_recording(client), status, "2")
    assert _active(client) == []  # used up: off by itself
    _assert_normal(_recording(client))


@pytest.mark.parametrize(("name", "status"), BURSTS)
def test_a_burst_answers_content_endpoints_with_an_empty_body(
    client: Client, name: str, status: int
) -> None:
    _switch_on(client, name=name, count=2, retryAfter=7)
    download = client.request("GET", OBJECT)
    delete = client.request("DELETE", OBJECT.rsplit("/content/", 1)[0])
    for answer in (download, delete):
        assert (answer.status_code, answer.content) == (status, b"")
        assert answer.headers["retry-after"] == "7"
    after = client.request("GET", OBJECT)
    assert (after.status_code, after.content) == (404, b"")


def test_a_burst_defaults_to_one_request_and_one_second(client: Client) -> None:
    listed = _switch_on(client, name="throttle-burst")
    assert listed["active"] == [
        {"name": "throttle-burst", "count": 1, "retryAfter": 1, "remaining": 1}
    ]
    _assert_burst(_recording(client), 429, "1")
    _assert_normal(_recording(client))


def test_a_null_retry_after_sends_no_header(client: Client) -> None:
    _switch_on(client, name="unavailable-burst", count=1, retryAfter=None)
    _assert_burst(_recording(client), 503, None)


def test_a_throttled_request_is_not_handled(client: Client, call: dict[str, Any]) -> None:
    _switch_on(client, name="throttle-burst", count=1, retryAfter=0)
    body = {"callLocator": {"serverCallId": call["serverCallId"]}}
    _assert_burst(client.start(body), 429, "0")
    started = client.start(body)  # the retry is the first start the call sees
    assert started.status_code == 200, started.text


def test_unsigned_requests_count_too(client: Client) -> None:
    _switch_on(client, name="throttle-burst", count=1)
    _assert_burst(
        client.request("GET", UNKNOWN, params={"api-version": "x"}, signed=False), 429, "1"
    )
    assert client.request("GET", UNKNOWN, signed=False).status_code == 401


def test_bursts_queue_in_the_order_they_were_switched_on(client: Client) -> None:
    _switch_on(client, name="throttle-burst", count=2, retryAfter=1)
    _switch_on(client, name="unavailable-burst", count=1, retryAfter=3)
    statuses = [(r.status_code, r.headers.get("retry-after")) for r in _answers(client, 4)]
    assert statuses == [(429, "1"), (429, "1"), (503, "3"), (404, None)]


def test_switching_a_burst_on_again_replaces_it_last_in_the_queue(client: Client) -> None:
    _switch_on(client, name="throttle-burst", count=5)
    _switch_on(client, name="unavailable-burst", count=1)
    listed = _switch_on(client, name="throttle-burst", count=1, retryAfter=4)
    assert [entry["name"] for entry in listed["active"]] == ["unavailable-burst", "throttle-burst"]
    statuses = [r.status_code for r in _answers(client, 3)]
    assert statuses == [503, 429, 404]


def _answers(client: Client, count: int) -> list[httpx.Response]:
    return [_recording(client) for _ in range(count)]


def test_the_control_api_is_never_throttled(client: Client) -> None:
    _switch_on(client, name="throttle-burst", count=1)
    _switch_on(client, name="unavailable-burst", count=1)
    for _ in range(3):
        assert client.info()["activeChaos"] == ["throttle-burst", "unavailable-burst"]
        client.create_call([])
        client.advance_clock(1)
        assert client.request("GET", "/emulator/faults").status_code == 200
        assert client.request("GET", "/emulator/nowhere").status_code == 404
    assert [entry["remaining"] for entry in _active(client)] == [1, 1]


def test_concurrent_requests_count_a_burst_down_exactly(emulator: Running) -> None:
    total, burst = 60, 25

    async def traffic() -> list[int]:
        async with httpx.AsyncClient(
            base_url=emulator.endpoint, auth=HmacAuth(emulator.access_key), timeout=30
        ) as http:
            switched = await http.post(
                "/emulator/chaos", json={"name": "throttle-burst", "count": burst}
            )
            assert switched.status_code == 200, switched.text
            answers = await asyncio.gather(
                *(http.get(UNKNOWN, params={"api-version": "2025-06-15"}) for _ in range(total))
            )
            return [answer.status_code for answer in answers]

    with Client(emulator) as client:
        try:
            statuses = asyncio.run(asyncio.wait_for(traffic(), 60))
            assert (statuses.count(429), statuses.count(404)) == (burst, total - burst)
            assert _active(client) == []
        finally:
            client.reset()


# ---------------------------------------------------------------- slow answers
def test_slow_responses_hold_back_every_answer_but_the_control_apis(client: Client) -> None:
    delay = 0.4
    listed = _switch_on(client, name="slow-responses", delay=delay)
    assert listed["active"] == [{"name": "slow-responses", "delay": delay}]
    for path, params in ((UNKNOWN, {"api-version": client.api_version}), (OBJECT, {})):
        began = time.monotonic()
        assert client.request("GET", path, params=params).status_code == 404
        assert time.monotonic() - began >= delay
    began = time.monotonic()
    client.info()
    assert time.monotonic() - began < delay
    assert client.request("DELETE", "/emulator/chaos/slow-responses").status_code == 204
    began = time.monotonic()
    _assert_normal(_recording(client))
    assert time.monotonic() - began < delay


def test_slow_responses_delay_bursts_too(client: Client) -> None:
    _switch_on(client, name="slow-responses", delay=0.3)
    _switch_on(client, name="throttle-burst", count=1)
    began = time.monotonic()
    _assert_burst(_recording(client), 429, "1")
    assert time.monotonic() - began >= 0.3


def test_slow_responses_never_block_other_requests(emulator: Running) -> None:
    delay, parallel = 0.5, 8

    async def traffic() -> float:
        async with httpx.AsyncClient(
            base_url=emulator.endpoint, auth=HmacAuth(emulator.access_key), timeout=30
        ) as http:
            switched = await http.post(
                "/emulator/chaos", json={"name": "slow-responses", "delay": delay}
            )
            assert switched.status_code == 200, switched.text
            began = time.monotonic()
            answers = await asyncio.gather(
                *(http.get(UNKNOWN, params={"api-version": "2025-06-15"}) for _ in range(parallel))
            )
            assert {answer.status_code for answer in answers} == {404}
            return time.monotonic() - began

    with Client(emulator) as client:
        try:
            elapsed = asyncio.run(asyncio.wait_for(traffic(), 60))
        finally:
            client.reset()
    assert delay <= elapsed < delay * parallel / 2, elapsed


# ---------------------------------------------------------------- switching off
def test_reset_clears_all_chaos(client: Client) -> None:
    _switch_on(client, name="throttle-burst", count=10)
    _switch_on(client, name="unavailable-burst", count=10)
    _switch_on(client, name="slow-responses", delay=5)
    client.reset()
    assert _active(client) == []
    assert client.info()["activeChaos"] == []
    began = time.monotonic()
    _assert_normal(_recording(client))
    assert time.monotonic() - began < 5


def test_chaos_is_switched_off_one_by_one_or_all_at_once(client: Client) -> None:
    _switch_on(client, name="throttle-burst", count=10)
    _switch_on(client, name="unavailable-burst", count=10)
    assert client.request("DELETE", "/emulator/chaos/throttle-burst").status_code == 204
    assert [entry["name"] for entry in _active(client)] == ["unavailable-burst"]
    again = client.request("DELETE", "/emulator/chaos/throttle-burst")
    assert (again.status_code, again.json()["error"]["code"]) == (404, "NotFound")
    assert client.request("DELETE", "/emulator/chaos").status_code == 204
    assert _active(client) == []
    _assert_normal(_recording(client))


# ---------------------------------------------------------------- the control resource
def test_the_control_api_lists_every_kind_with_its_parameters(client: Client) -> None:
    listed = client.request("GET", "/emulator/chaos").json()
    assert listed["active"] == []
    kinds = {entry["name"]: entry for entry in listed["kinds"]}
    assert set(kinds) == set(KINDS) == {"throttle-burst", "unavailable-burst", "slow-responses"}
    assert set(kinds["throttle-burst"]["parameters"]) == {"count", "retryAfter"}
    assert kinds["slow-responses"]["parameters"]["delay"]["type"] == "number"
    assert all(entry["description"] for entry in kinds.values())
    assert client.info()["chaos"] == sorted(KINDS)


def test_chaos_is_not_a_fault() -> None:
    """Chaos breaks no requirement, so the mutation runs (which iterate the faults) skip it."""
    assert not set(KINDS) & set(FAULTS)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "meltdown"},
        {},
        {"name": 7},
        {"name": "throttle-burst", "count": 0},
        {"name": "throttle-burst", "count": 2.5},
        {"name": "throttle-burst", "count": "3"},
        {"name": "throttle-burst", "count": True},
        {"name": "throttle-burst", "count": None},
        {"name": "throttle-burst", "retryAfter": -1},
        {"name": "unavailable-burst", "retryAfter": 1.5},
        {"name": "unavailable-burst", "delay": 1},
        {"name": "slow-responses", "delay": 601},
        {"name": "slow-responses", "delay": None},
        {"name": "slow-responses", "count": 2},
    ],
)
def test_bad_chaos_is_refused(client: Client, body: dict[str, Any]) -> None:
    answer = _chaos(client, body)
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "8523"), answer.text
    assert _active(client) == []


def test_a_chaos_body_must_be_a_json_object(client: Client) -> None:
    for content in (b"[]", b"not json"):
        answer = client.request(
            "POST", "/emulator/chaos", content=content, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 400, answer.text
