"""Event Grid delivery: webhook subscriptions validated by the real handshakes (Event Grid and
CloudEvents schemas), RecordingFileStatusUpdated events with PascalCase enums, the eventTypes
filter, retries with back-off, dead-letter files, deletion, the control API's errors."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import callrec
from callrec._specs import read_spec_yaml
from callrec.client import Client
from callrec.emulator import Running, Settings, serve
from callrec.emulator._eventgrid import Subscriptions, event_enum
from callrec.specs import enum_values, schema_document

RFSU = schema_document("RecordingFileStatusUpdatedEventGridEvent")["properties"]["eventType"][
    "const"
]
VALIDATION = schema_document("SubscriptionValidationEventGridEvent")["properties"]["eventType"][
    "const"
]
OTHER_TYPE = "Microsoft.Communication.CallStarted"
ATTEMPTS = 3
BACKOFF = 0.1
TIMEOUT = 0.5
SUBSCRIPTIONS = "/emulator/eventgrid/subscriptions"
CHUNK = {
    "documentId": "0-eus-d2-3cca2175891f21c6c9a5975a12c0141c",
    "index": 0,
    "endReason": "sessionEnded",
    "contentLocation": "https://us-storage.asm.skype.com/v1/objects/0-eus-d2-3cca/content/video",
    "metadataLocation": "https://us-storage.asm.skype.com/v1/objects/0-eus-d2-3cca/content/acsmetadata",
    "deleteLocation": "https://us-storage.asm.skype.com/v1/objects/0-eus-d2-3cca",
    "somethingRestOnly": True,
}


# ---------------------------------------------------------------- a configurable webhook
@dataclass
class Seen:
    method: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class Behaviour:
    """How the webhook answers. ``handshake`` (Event Grid schema): echo, wrong-code,
    not-json, status, slow. ``origin`` (CloudEvents): the WebHook-Allowed-Origin to send, or
    None; ``options_status``. ``statuses``: the answers to successive event deliveries (the
    last one repeats); ``delay``: seconds before answering a delivery."""

    handshake: str = "echo"
    handshake_status: int = 200
    origin: str | None = "eventgrid.azure.net"
    options_status: int = 200
    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0


class Webhook:
    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.deliveries = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall

            def _record(self) -> Seen:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                seen = Seen(
                    self.command,
                    {key.lower(): value for key, value in self.headers.items()},
                    json.loads(raw) if raw else None,
                    time.monotonic(),
                )
                with hook.lock:
                    hook.seen.append(seen)
                return seen

            def _answer(
                self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_OPTIONS(self) -> None:
                self._record()
                behaviour = hook.behaviour
                headers = (
                    {} if behaviour.origin is None else {"WebHook-Allowed-Origin": behaviour.origin}
                )
                self._answer(behaviour.options_status, headers=headers)

            def do_POST(self) -> None:
                seen = self._record()
                behaviour = hook.behaviour
                if seen.headers.get("aeg-event-type") == "SubscriptionValidation":
                    self._handshake(seen.body, behaviour)
                    return
                with hook.lock:
                    index = hook.deliveries
                    hook.deliveries += 1
                time.sleep(behaviour.delay)
                status = behaviour.statuses[min(index, len(behaviour.statuses) - 1)]
                self._answer(status)

            def _handshake(self, body: Any, behaviour: Behaviour) -> None:
                code = body[0]["data"]["validationCode"]
                if behaviour.handshake == "slow":
                    time.sleep(TIMEOUT * 2)
                answer = {
                    "echo": json.dumps({"validationResponse": code}).encode(),
                    "slow": json.dumps({"validationResponse": code}).encode(),
                    "wrong-code": json.dumps({"validationResponse": "not-the-code"}).encode(),
                    "not-json": b"ok",
                    "no-field": json.dumps({"code": code}).encode(),
                }[behaviour.handshake]
                self._answer(
                    behaviour.handshake_status, answer, {"content-type": "application/json"}
                )

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/events"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def events(self) -> list[Seen]:
        """The event deliveries (not handshakes) so far."""
        with self.lock:
            return [s for s in self.seen if s.headers.get("aeg-event-type") == "Notification"]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Seen]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            if len(events) >= count:
                return events
            time.sleep(0.01)
        raise AssertionError(f"{len(self.events())} deliveries within {timeout}s, not {count}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def make_webhook() -> Iterator[Callable[..., Webhook]]:
    hooks: list[Webhook] = []

    def make(**behaviour: Any) -> Webhook:
        hook = Webhook(Behaviour(**behaviour))
        hooks.append(hook)
        return hook

    yield make
    for hook in hooks:
        hook.close()


# ---------------------------------------------------------------- an emulator for these tests
@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator-data")


@pytest.fixture(scope="module")
def running(data_dir: Path) -> Iterator[Running]:
    settings = Settings(
        event_grid_attempts=ATTEMPTS,
        event_grid_backoff=BACKOFF,
        event_grid_timeout=TIMEOUT,
        data_dir=data_dir,
    )
    with serve(settings) as emulator:
        yield emulator


@pytest.fixture
def control(running: Running) -> Iterator[Client]:
    with Client(running) as signed:
        yield signed
        signed.reset()


def subscribe(client: Client, url: str, schema: str = "EventGridSchema", **extra: Any) -> Any:
    answer = client.request(
        "POST", SUBSCRIPTIONS, json={"endpointUrl": url, "schema": schema, **extra}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def eventgrid(running: Running) -> Subscriptions:
    found: Subscriptions = running.app.state.emulator.eventgrid
    return found


def publish_recording(running: Running, **overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "call_id": "d5aa6a2c-2a0e-4d6a-8b8e-0b8f0b4f7a11",
        "server_call_id": "aHR0cHM6Ly9hcGkuZmxpZ2h0cHJveHkuc2t5cGUuY29tL2FwaS92Mi9jcA==",
        "chunks": [CHUNK],
        "start_time": "2025-07-01T10:00:00.0000000Z",
        "duration_ms": 61_000,
        "content_type": "audioVideo",
        "channel_type": "mixed",
        "format_type": "mp4",
        "session_end_reason": "callEnded",
    } | overrides
    return eventgrid(running).publish_recording_file_status_updated(**arguments)


def attempts_of(client: Client, subscription: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        entry
        for entry in client.deliveries()
        if entry.get("subscription") == subscription["id"]
        and entry["event"] != VALIDATION
        and entry.get("method") != "OPTIONS"
    ]


def dead_letters(data_dir: Path, subscription: dict[str, Any]) -> list[Path]:
    return sorted((data_dir / "deadletter" / subscription["id"]).glob("*.json"))


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout}s")


# ---------------------------------------------------------------- handshakes
def test_event_grid_schema_subscription_is_validated_by_the_validation_event(
    control: Client, make_webhook: Callable[..., Webhook]
) -> None:
    hook = make_webhook()
    created = subscribe(control, hook.url, eventTypes=[RFSU])
    assert created["status"] == "active"
    assert "reason" not in created
    assert created["endpointUrl"] == hook.url
    assert created["schema"] == "EventGridSchema"
    assert created["eventTypes"] == [RFSU]
    [handshake] = hook.seen  # exactly one request, before the answer came back (REC-HOOK-001)
    assert handshake.method == "POST"
    assert handshake.headers["aeg-event-type"] == "SubscriptionValidation"
    assert callrec.validate(handshake.body, "EventGridEventBatch") == []
    assert callrec.detect(handshake.body[0]) == "SubscriptionValidationEventGridEvent"
    assert handshake.body[0]["eventType"] == VALIDATION
    assert handshake.body[0]["data"]["validationCode"]
    listed = control.request("GET", SUBSCRIPTIONS).json()["subscriptions"]
    assert listed == [created]
    one = control.request("GET", f"{SUBSCRIPTIONS}/{created['id']}")
    assert (one.status_code, one.json()) == (200, created)
    [logged] = [e for e in control.deliveries() if e["subscription"] == created["id"]]
    assert (logged["event"], logged["status"], logged["outcome"]) == (VALIDATION, 200, "Validated")


@pytest.mark.parametrize("origin", ["eventgrid.azure.net", "*", "example.org, eventgrid.azure.net"])
def test_cloud_events_subscription_is_validated_by_the_options_handshake(
    control: Client, make_webhook: Callable[..., Webhook], origin: str
) -> None:
    hook = make_webhook(origin=origin)
    created = subscribe(control, hook.url, "CloudEventSchemaV1_0")
    assert (created["status"], created["schema"], created["eventTypes"]) == (
        "active",
        "CloudEventSchemaV1_0",
        None,
    )
    [handshake] = hook.seen  # REC-HOOK-003
    assert handshake.method == "OPTIONS"
    assert handshake.headers["webhook-request-origin"] == "eventgrid.azure.net"


def test_the_schema_defaults_to_the_event_grid_schema(
    control: Client, make_webhook: Callable[..., Webhook]
) -> None:
    hook = make_webhook()
    answer = control.request("POST", SUBSCRIPTIONS, json={"endpointUrl": hook.url})
    assert answer.status_code == 201
    assert answer.json()["schema"] == "EventGridSchema"
    assert hook.seen[0].method == "POST"


FAILED_HANDSHAKES = [
    ("EventGridSchema", {"handshake": "wrong-code"}, "not the validationCode"),
    ("EventGridSchema", {"handshake": "not-json"}, "not JSON"),
    ("EventGridSchema", {"handshake": "no-field"}, "not a SubscriptionValidationResponse"),
    ("EventGridSchema", {"handshake_status": 404}, "answered 404"),
    ("EventGridSchema", {"handshake_status": 202}, "answered 202"),
    ("EventGridSchema", {"handshake": "slow"}, "not answered: no answer within"),
    ("CloudEventSchemaV1_0", {"origin": None}, "lacks WebHook-Allowed-Origin"),
    ("CloudEventSchemaV1_0", {"origin": "example.org"}, "allows neither"),
    ("CloudEventSchemaV1_0", {"options_status": 405}, "answered 405"),
]


@pytest.mark.parametrize(
    ("schema", "behaviour", "reason"),
    FAILED_HANDSHAKES,
    ids=[f"{s}-{r.split(':')[0]}" for s, _, r in FAILED_HANDSHAKES],
)
def test_a_failed_handshake_keeps_the_subscription_as_failed_without_events(
    running: Running,
    control: Client,
    make_webhook: Callable[..., Webhook],
    schema: str,
    behaviour: dict[str, Any],
    reason: str,
) -> None:
    hook = make_webhook(**behaviour)
    started = time.monotonic()
    created = subscribe(control, hook.url, schema)
    assert time.monotonic() - started < TIMEOUT + 2  # the handshake is bounded
    assert created["status"] == "failed"  # REC-HOOK-002, REC-HOOK-003
    assert reason in created["reason"]
    good = make_webhook()
    subscribe(control, good.url)  # a working subscription: proves the publish went out
    publish_recording(running)
    good.wait_for(1)
    time.sleep(0.2)
    assert hook.events() == []  # REC-HOOK-004
    assert attempts_of(control, created) == []
    listed = control.request("GET", SUBSCRIPTIONS).json()["subscriptions"]
    assert created in listed


def test_an_unreachable_endpoint_fails_the_handshake(control: Client) -> None:
    created = subscribe(control, "http://127.0.0.1:9/api/events")
    assert created["status"] == "failed"
    assert "not answered" in created["reason"]


# ---------------------------------------------------------------- events
@pytest.mark.parametrize(
    "media",
    read_spec_yaml("media.yaml")["combinations"],
    ids=lambda media: f"{media['content']}-{media['channel']}-{media['format']}",
)
def test_published_events_are_valid_in_both_schemas_with_pascal_case_enums(
    running: Running, control: Client, make_webhook: Callable[..., Webhook], media: dict[str, Any]
) -> None:
    grid_hook, cloud_hook = make_webhook(), make_webhook()
    subscribe(control, grid_hook.url)
    subscribe(control, cloud_hook.url, "CloudEventSchemaV1_0")
    event_id = publish_recording(
        running,
        content_type=media["content"],
        channel_type=media["channel"],
        format_type=media["format"],
    )
    [grid] = grid_hook.wait_for(1)
    [cloud] = cloud_hook.wait_for(1)
    assert grid.headers["content-type"] == "application/json"
    assert cloud.headers["content-type"] == "application/cloudevents+json"
    assert callrec.validate(grid.body, "EventGridEventBatch") == []  # REC-EVENT-002
    assert callrec.validate(grid.body, "EventGridEventBatch", api_version="2025-06-15") == []
    assert callrec.validate(cloud.body, "RecordingFileStatusUpdatedCloudEvent") == []  # 003
    assert (
        callrec.validate(
            cloud.body, "RecordingFileStatusUpdatedCloudEvent", api_version="2025-06-15"
        )
        == []
    )
    [event] = grid.body
    assert callrec.detect(event) == "RecordingFileStatusUpdatedEventGridEvent"
    assert callrec.detect(cloud.body) == "RecordingFileStatusUpdatedCloudEvent"
    assert event["id"] == cloud.body["id"] == event_id
    assert event["eventType"] == cloud.body["type"] == RFSU
    assert (event["dataVersion"], event["metadataVersion"]) == ("1.0", "1")
    assert cloud.body["specversion"] == "1.0"
    assert event["topic"] == cloud.body["source"] == Settings().event_grid_topic
    assert event["topic"].startswith("/subscriptions/")
    assert event["subject"] == cloud.body["subject"]
    assert event["subject"] == (  # REC-EVENT-005
        "/recording/call/d5aa6a2c-2a0e-4d6a-8b8e-0b8f0b4f7a11/serverCallId/"
        "aHR0cHM6Ly9hcGkuZmxpZ2h0cHJveHkuc2t5cGUuY29tL2FwaS92Mi9jcA=="
    )
    assert event["eventTime"] == cloud.body["time"]
    data = event["data"]
    assert data == cloud.body["data"]
    assert data["recordingContentType"] in enum_values("AcsRecordingContentType")  # REC-EVENT-004
    assert data["recordingChannelType"] in enum_values("AcsRecordingChannelType")
    assert data["recordingFormatType"] in enum_values("AcsRecordingFormatType")
    assert data["recordingContentType"].lower() == media["content"].lower()
    assert data["recordingChannelType"].lower() == media["channel"].lower()
    assert data["recordingFormatType"].lower() == media["format"].lower()
    assert data["recordingContentType"][0].isupper()
    assert data["sessionEndReason"] == "CallEnded"
    assert data["recordingStartTime"] == "2025-07-01T10:00:00.0000000Z"
    assert data["recordingDurationMs"] == 61_000
    [chunk] = data["recordingStorageInfo"]["recordingChunks"]
    assert chunk["endReason"] == "SessionEnded"
    assert "somethingRestOnly" not in chunk
    assert grid.headers["aeg-event-type"] == "Notification"
    assert grid.headers["aeg-delivery-count"] == "0"


def test_rest_spellings_map_onto_the_event_enums() -> None:
    assert event_enum("AcsRecordingContentType", "audioVideo") == "AudioVideo"
    assert event_enum("AcsRecordingChannelType", "unmixed") == "Unmixed"
    assert event_enum("AcsRecordingFormatType", "wav") == "Wav"
    with pytest.raises(ValueError, match="AcsRecordingFormatType"):
        event_enum("AcsRecordingFormatType", "ogg")


def test_an_unknown_media_value_is_refused_before_anything_is_sent(running: Running) -> None:
    with pytest.raises(ValueError, match="AcsRecordingContentType"):
        publish_recording(running, content_type="hologram")


def test_the_event_types_filter_decides_who_gets_what(
    running: Running, control: Client, make_webhook: Callable[..., Webhook]
) -> None:
    recordings, others, everything = make_webhook(), make_webhook(), make_webhook()
    subscribe(control, recordings.url, eventTypes=[RFSU.lower()])  # matched case-insensitively
    subscribe(control, others.url, "CloudEventSchemaV1_0", eventTypes=[OTHER_TYPE])
    subscribe(control, everything.url)
    publish_recording(running)
    other_id = eventgrid(running).publish(
        OTHER_TYPE, "/calls/abc", {"callId": "abc"}, "2025-07-01T10:00:00Z"
    )
    everything.wait_for(2)
    [recording] = recordings.wait_for(1)
    [other] = others.wait_for(1)
    time.sleep(0.2)
    assert len(recordings.events()) == 1
    assert len(others.events()) == 1
    assert recording.body[0]["eventType"] == RFSU
    assert other.body["type"] == OTHER_TYPE
    assert other.body["id"] == other_id
    assert callrec.validate(other.body, "CloudEvent") == []
    assert sorted(e.body[0]["eventType"] for e in everything.events()) == sorted([RFSU, OTHER_TYPE])


def test_an_invalid_event_is_logged_as_an_emulator_bug(
    running: Running,
    control: Client,
    make_webhook: Callable[..., Webhook],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = make_webhook()
    subscribe(control, hook.url)
    with caplog.at_level(logging.ERROR, logger="callrec.emulator"):
        eventgrid(running).publish(RFSU, "/recording/call/x", {"recordingDurationMs": 5})
        hook.wait_for(1)
    assert any("emulator bug" in record.getMessage() for record in caplog.records)


# ---------------------------------------------------------------- retries and dead letters
def test_failures_are_retried_with_back_off_then_dead_lettered(
    running: Running, control: Client, make_webhook: Callable[..., Webhook], data_dir: Path
) -> None:
    hook = make_webhook(statuses=[500, 503, 500])
    created = subscribe(control, hook.url)
    event_id = publish_recording(running)
    seen = hook.wait_for(ATTEMPTS)
    letters = wait_until(lambda: dead_letters(data_dir, created))
    time.sleep(BACKOFF * 2**ATTEMPTS)
    assert len(hook.events()) == ATTEMPTS  # bounded
    assert [s.headers["aeg-delivery-count"] for s in seen] == ["0", "1", "2"]
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(seen)]
    for number, gap in enumerate(gaps):
        assert gap >= 0.95 * BACKOFF * 2**number, gaps  # exponential back-off
    attempts = attempts_of(control, created)
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["status"] for a in attempts] == [500, 503, 500]
    assert [a.get("retryIn") for a in attempts] == [BACKOFF, BACKOFF * 2, None]
    assert attempts[-1]["deadLetter"] == str(letters[0])
    assert attempts[-1]["deadLetterReason"] == "MaxDeliveryAttemptsExceeded"
    assert all(a["key"] == f"eventgrid/{created['id']}" for a in attempts)
    assert letters == [data_dir / "deadletter" / created["id"] / f"{event_id}.json"]
    [letter] = json.loads(letters[0].read_text())
    assert letter["id"] == event_id
    assert letter["deadLetterReason"] == "MaxDeliveryAttemptsExceeded"
    assert letter["deliveryAttempts"] == ATTEMPTS
    assert letter["lastHttpStatusCode"] == 500
    assert letter["lastDeliveryOutcome"] == "InternalServerError"
    assert callrec.validate([letter], "EventGridEventBatch") == []  # the event is all there


def test_timeouts_are_retried_then_dead_lettered(
    running: Running, control: Client, make_webhook: Callable[..., Webhook], data_dir: Path
) -> None:
    hook = make_webhook(delay=TIMEOUT * 2)
    created = subscribe(control, hook.url, "CloudEventSchemaV1_0")
    publish_recording(running)
    letters = wait_until(lambda: dead_letters(data_dir, created), timeout=10)
    attempts = attempts_of(control, created)
    assert [(a["status"], a["outcome"]) for a in attempts] == [(None, "TimedOut")] * ATTEMPTS
    assert all("no answer within" in a["error"] for a in attempts)
    [letter] = json.loads(letters[0].read_text())
    assert (letter["lastDeliveryOutcome"], letter["lastHttpStatusCode"]) == ("TimedOut", 408)
    assert letter["type"] == RFSU


def test_a_later_success_ends_the_retries(
    running: Running, control: Client, make_webhook: Callable[..., Webhook], data_dir: Path
) -> None:
    hook = make_webhook(statuses=[503, 500, 200])
    created = subscribe(control, hook.url)
    publish_recording(running)
    hook.wait_for(3)
    wait_until(lambda: [a["outcome"] for a in attempts_of(control, created)][-1:] == ["Delivered"])
    time.sleep(BACKOFF * 4)
    assert len(hook.events()) == 3
    assert dead_letters(data_dir, created) == []


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "UndeliverableDueToHttpBadRequest"),
        (401, "UndeliverableDueToHttpUnauthorized"),
        (403, "UndeliverableDueToHttpForbidden"),
        (413, "UndeliverableDueToHttpRequestEntityTooLarge"),
    ],
)
def test_statuses_event_grid_never_retries_are_dead_lettered_at_once(
    running: Running,
    control: Client,
    make_webhook: Callable[..., Webhook],
    data_dir: Path,
    status: int,
    reason: str,
) -> None:
    hook = make_webhook(statuses=[status, 200])
    created = subscribe(control, hook.url)
    publish_recording(running)
    letters = wait_until(lambda: dead_letters(data_dir, created))
    time.sleep(BACKOFF * 3)
    assert len(hook.events()) == 1
    [letter] = json.loads(letters[0].read_text())
    assert (letter["deadLetterReason"], letter["deliveryAttempts"]) == (reason, 1)
    assert letter["lastHttpStatusCode"] == status


def test_a_failing_endpoint_delays_only_its_own_subscription(
    running: Running, control: Client, make_webhook: Callable[..., Webhook]
) -> None:
    failing, healthy = make_webhook(statuses=[500], delay=TIMEOUT * 0.8), make_webhook()
    subscribe(control, failing.url)
    subscribe(control, healthy.url)
    publish_recording(running)
    [first_failure] = failing.wait_for(1)
    [delivered] = healthy.wait_for(1)
    # the healthy one got its event while the failing one was still answering its first attempt
    assert delivered.at - first_failure.at < TIMEOUT * 0.8


# ---------------------------------------------------------------- deletion and reset
def test_delete_stops_delivery_including_retries(
    running: Running, control: Client, make_webhook: Callable[..., Webhook], data_dir: Path
) -> None:
    hook = make_webhook(statuses=[500])
    created = subscribe(control, hook.url)
    publish_recording(running)
    hook.wait_for(1)
    deleted = control.request("DELETE", f"{SUBSCRIPTIONS}/{created['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    publish_recording(running)
    time.sleep(BACKOFF * 2**ATTEMPTS)
    assert len(hook.events()) == 1  # the retries stopped, the new event was not sent
    assert dead_letters(data_dir, created) == []
    assert control.request("GET", SUBSCRIPTIONS).json() == {"subscriptions": []}
    again = control.request("DELETE", f"{SUBSCRIPTIONS}/{created['id']}")
    assert (again.status_code, again.json()["error"]["code"]) == (404, "SubscriptionNotFound")


def test_reset_forgets_subscriptions(
    running: Running, control: Client, make_webhook: Callable[..., Webhook]
) -> None:
    hook = make_webhook()
    subscribe(control, hook.url)
    control.reset()
    assert control.request("GET", SUBSCRIPTIONS).json() == {"subscriptions": []}
    publish_recording(running)
    time.sleep(0.2)
    assert hook.events() == []


# ---------------------------------------------------------------- the configured webhook
def test_the_configured_webhook_is_validated_on_its_first_event(
    make_webhook: Callable[..., Webhook],
) -> None:
    hook = make_webhook()
    with serve(Settings(event_grid_webhook=hook.url)) as emulator, Client(emulator) as client:
        [pending] = client.request("GET", SUBSCRIPTIONS).json()["subscriptions"]
        assert (pending["id"], pending["status"], pending["schema"]) == (
            "configured",
            "pending",
            "EventGridSchema",
        )
        assert hook.seen == []
        publish_recording(emulator)  # from this thread: the GET made the loop known
        [event] = hook.wait_for(1)
        assert [s.headers["aeg-event-type"] for s in hook.seen] == [
            "SubscriptionValidation",
            "Notification",
        ]
        assert callrec.validate(event.body, "EventGridEventBatch") == []
        [active] = client.request("GET", SUBSCRIPTIONS).json()["subscriptions"]
        assert active["status"] == "active"
        client.reset()
        [again] = client.request("GET", SUBSCRIPTIONS).json()["subscriptions"]
        assert (again["id"], again["status"]) == ("configured", "pending")


def test_a_configured_webhook_that_fails_its_handshake_gets_nothing(
    make_webhook: Callable[..., Webhook],
) -> None:
    hook = make_webhook(handshake="wrong-code")
    with serve(Settings(event_grid_webhook=hook.url)) as emulator, Client(emulator) as client:
        publish_recording(emulator)  # from a thread: the loop is attached at startup
        failed = wait_until(
            lambda: [
                s
                for s in client.request("GET", SUBSCRIPTIONS).json()["subscriptions"]
                if s["status"] == "failed"
            ]
        )
        assert "validationCode" in failed[0]["reason"]
        publish_recording(emulator)
        time.sleep(0.2)
        assert hook.events() == []
        assert len(hook.seen) == 1  # one handshake, never repeated


def test_publishing_with_no_subscription_is_a_no_op() -> None:
    with serve() as emulator:
        assert publish_recording(emulator)


# ---------------------------------------------------------------- control API errors
BAD_BODIES = [
    ([1, 2], None),
    ("http://x", None),
    ({}, "endpointUrl"),
    ({"endpointUrl": 5}, "endpointUrl"),
    ({"endpointUrl": "ftp://example.org/x"}, "endpointUrl"),
    ({"endpointUrl": "/relative/path"}, "endpointUrl"),
    ({"endpointUrl": "http://"}, "endpointUrl"),
    ({"endpointUrl": "http://exa mple.org/"}, "endpointUrl"),
    ({"endpointUrl": "http://example.org:99999/"}, "endpointUrl"),
    ({"endpointUrl": "http://example.org/" + "x" * 3000}, "endpointUrl"),
    ({"endpointUrl": "http://127.0.0.1:1/", "schema": "CustomInputSchema"}, "schema"),
    ({"endpointUrl": "http://127.0.0.1:1/", "schema": None}, "schema"),
    ({"endpointUrl": "http://127.0.0.1:1/", "eventTypes": "x"}, "eventTypes"),
    ({"endpointUrl": "http://127.0.0.1:1/", "eventTypes": []}, "eventTypes"),
    ({"endpointUrl": "http://127.0.0.1:1/", "eventTypes": [""]}, "eventTypes"),
    ({"endpointUrl": "http://127.0.0.1:1/", "eventTypes": [3]}, "eventTypes"),
    ({"endpointUrl": "http://127.0.0.1:1/", "eventTypes": ["a"] * 101}, "eventTypes"),
    ({"endpointUrl": "http://127.0.0.1:1/", "filter": {}}, "filter"),
]


@pytest.mark.parametrize(("body", "target"), BAD_BODIES, ids=lambda v: json.dumps(v)[:40])
def test_bad_subscription_bodies_are_400_invalid_request(
    control: Client, body: Any, target: str | None
) -> None:
    answer = control.request("POST", SUBSCRIPTIONS, json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "8523"
    assert error.get("target") == target
    assert control.request("GET", SUBSCRIPTIONS).json() == {"subscriptions": []}
    assert [e for e in control.deliveries() if "subscription" in e] == []  # nothing was sent


def test_subscription_control_errors(control: Client) -> None:
    for method in ("GET", "DELETE"):
        missing = control.request(method, f"{SUBSCRIPTIONS}/no-such-id")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "SubscriptionNotFound"
    not_json = control.request(
        "POST", SUBSCRIPTIONS, content=b"endpointUrl=x", headers={"content-type": "text/plain"}
    )
    assert not_json.status_code == 415
    broken = control.request(
        "POST", SUBSCRIPTIONS, content=b"{", headers={"content-type": "application/json"}
    )
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "8523")
    unsigned = control.request("GET", SUBSCRIPTIONS, signed=False)
    assert unsigned.status_code == 401
    wrong_method = control.request("PUT", SUBSCRIPTIONS, json={})
    assert (wrong_method.status_code, wrong_method.json()["error"]["code"]) == (
        405,
        "MethodNotAllowed",
    )
