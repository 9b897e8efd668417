"""Event Grid delivery: webhook subscriptions, their handshakes, events, retries, dead letters.

Like Event Grid: a subscription is validated when it is created (Event Grid schema: a POSTed
``SubscriptionValidationEvent`` answered 200 with ``{"validationResponse": <validationCode>}``;
CloudEvents 1.0 schema: an ``OPTIONS`` request with ``WebHook-Request-Origin`` answered with
``WebHook-Allowed-Origin``); a subscription that fails is kept as ``failed`` with the reason and
gets nothing. Each event is POSTed on its own (in the Event Grid schema as an array of one);
any 2xx is delivered; 400, 401, 403 and 413 are not retried; other statuses, timeouts and
connection errors are retried with exponential back-off until the attempts run out, and then
the event is dead-lettered as a JSON file (``<data dir>/deadletter/<subscription>/<event
id>.json``: an array with the event and Event Grid's dead-letter properties). Every attempt
(and every handshake) is an entry of the delivery log (``GET /emulator/deliveries``).

Unlike Event Grid (the emulator's choices): the retry schedule is short and configurable,
plain ``http`` endpoints are allowed, manual validation through ``validationUrl`` is not
emulated (the URL is under ``.invalid``), and one subscription's events go out in order.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response

from callrec import validate
from callrec.emulator import _ids
from callrec.emulator._callbacks import log_entry
from callrec.emulator._faults import Faults
from callrec.emulator._http import empty_response, json_response, parse_json
from callrec.emulator._model import EmulatorError
from callrec.specs import enum_values, fields, schema_document, schema_names

if TYPE_CHECKING:
    from callrec.emulator._callbacks import Deliveries
    from callrec.emulator._clock import Clock
    from callrec.emulator._state import Emulator, Settings

LOG = logging.getLogger("callrec.emulator")

EVENT_GRID_SCHEMA: Final = "EventGridSchema"
CLOUD_EVENT_SCHEMA: Final = "CloudEventSchemaV1_0"
SCHEMAS: Final = (EVENT_GRID_SCHEMA, CLOUD_EVENT_SCHEMA)
ORIGIN: Final = "eventgrid.azure.net"  # what Event Grid names itself in the CloudEvents handshake
NOT_RETRIED: Final = frozenset({400, 401, 403, 413})  # webhook statuses Event Grid never retries
SUBSCRIPTION_FIELDS: Final = ("endpointUrl", "schema", "eventTypes")
URL_LIMIT: Final = 2048
EVENT_TYPES_LIMIT: Final = 100
VALIDATION_URL: Final = (
    "https://eventgrid.emulator.invalid/eventsubscriptions/{id}/validate?id={code}"
)


def _const(schema: str, name: str) -> str:
    value: str = schema_document(schema)["properties"][name]["const"]
    return value


@functools.cache
def validation_event_type() -> str:
    return _const("SubscriptionValidationEventGridEvent", "eventType")


@functools.cache
def recording_file_status_updated() -> str:
    return _const("RecordingFileStatusUpdatedEventGridEvent", "eventType")


@functools.cache
def cloud_event_schema(event_type: str) -> str:
    """The schema of a CloudEvent of ``event_type`` (the bare envelope for unknown types)."""
    for name in schema_names():
        document = schema_document(name)
        if document.get("x-callrec-event") == event_type and {"$ref": "CloudEvent.json"} in (
            document.get("allOf") or []
        ):
            return name
    return "CloudEvent"


def event_enum(schema: str, value: str) -> str:
    """``value`` (REST spelling, e.g. ``audioVideo``) as the event enum ``schema`` spells it."""
    for candidate in enum_values(schema):
        if isinstance(candidate, str) and candidate.casefold() == value.casefold():
            return candidate
    raise ValueError(f"{value!r} is not a value of {schema} ({', '.join(enum_values(schema))})")


def pascal(value: str) -> str:
    """An open-set REST value (``callEnded``) in the events' PascalCase (``CallEnded``)."""
    return value[:1].upper() + value[1:]


@dataclass
class Subscription:
    """One webhook subscription; ``status`` is pending (validated on first use), active or
    failed (with ``reason``)."""

    id: str
    endpoint_url: str
    schema: str
    event_types: tuple[str, ...] | None = None
    status: str = "pending"
    reason: str | None = None

    def accepts(self, event_type: str) -> bool:
        return self.event_types is None or event_type.casefold() in {
            wanted.casefold() for wanted in self.event_types
        }

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "endpointUrl": self.endpoint_url,
            "schema": self.schema,
            "eventTypes": None if self.event_types is None else list(self.event_types),
            "status": self.status,
        }
        if self.reason is not None:
            body["reason"] = self.reason
        return body


class Subscriptions:
    """The emulator's Event Grid: subscriptions and publishing to them.

    Runs on the emulator's event loop. `publish` may also be called from another thread once
    that loop is known (`attach` was called on it: every ``/emulator/eventgrid`` request and
    every publish on the loop does); it then hands the work to the loop.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        deliveries: Deliveries,
        faults: Faults | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.deliveries = deliveries
        self.faults = faults if faults is not None else Faults()
        self._subscriptions: dict[str, Subscription] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.reset()

    def attach(self) -> None:
        """Remember the running event loop (the emulator's), for publishing from threads."""
        self._loop = asyncio.get_running_loop()

    # ------------------------------------------------------------ registry
    def reset(self) -> None:
        """Forget every subscription; the configured webhook (if any) is pending again."""
        self._subscriptions.clear()
        if self.settings.event_grid_webhook:
            configured = Subscription(
                "configured", self.settings.event_grid_webhook, EVENT_GRID_SCHEMA
            )
            self._subscriptions[configured.id] = configured

    def subscriptions(self) -> list[Subscription]:
        return list(self._subscriptions.values())

    def get(self, subscription_id: str) -> Subscription:
        found = self._subscriptions.get(subscription_id)
        if found is None:
            raise EmulatorError("subscription-not-found", repr(subscription_id))
        return found

    def remove(self, subscription_id: str) -> None:
        """Delete a subscription: queued and retrying deliveries to it stop."""
        self.get(subscription_id)
        del self._subscriptions[subscription_id]

    async def add(
        self, endpoint_url: str, schema: str, event_types: Sequence[str] | None = None
    ) -> Subscription:
        """Validate the webhook (the handshake of ``schema``) and register the subscription,
        active or failed."""
        self.attach()
        check_subscription(endpoint_url, schema, event_types)
        subscription = Subscription(
            _ids.guid(),
            endpoint_url,
            schema,
            None if event_types is None else tuple(event_types),
        )
        self._settle(subscription, await self._handshake(subscription))
        self._subscriptions[subscription.id] = subscription
        return subscription

    def _live(self, subscription: Subscription) -> bool:
        return self._subscriptions.get(subscription.id) is subscription

    @staticmethod
    def _settle(subscription: Subscription, reason: str | None) -> None:
        subscription.status, subscription.reason = (
            ("active", None) if reason is None else ("failed", reason)
        )

    # ------------------------------------------------------------ handshakes
    async def _handshake(self, subscription: Subscription) -> str | None:
        """None when the endpoint accepted the subscription, else why not."""
        if "handshake-skipped" in self.faults:  # fault: subscribed without asking
            return None
        if subscription.schema == EVENT_GRID_SCHEMA:
            reason = await self._validate_event_grid(subscription)
        else:
            reason = await self._validate_cloud_events(subscription)
        if "handshake-not-enforced" in self.faults:  # fault: a failed handshake is ignored
            return None
        return reason

    async def _validate_event_grid(self, subscription: Subscription) -> str | None:
        code = _ids.guid()
        batch = [
            {
                "id": _ids.guid(),
                "topic": self.settings.event_grid_topic,
                "subject": "",
                "data": {
                    "validationCode": code,
                    "validationUrl": VALIDATION_URL.format(id=subscription.id, code=code),
                },
                "eventType": validation_event_type(),
                "eventTime": self.clock.iso(self.clock.now()),
                "metadataVersion": "1",
                "dataVersion": "1",
            }
        ]
        self._check(batch, "EventGridEventBatch", validation_event_type())
        entry = self._entry(subscription, validation_event_type(), 1, batch)
        response = await self._send(
            entry,
            "POST",
            orjson.dumps(batch),
            {
                "content-type": "application/json",
                "aeg-event-type": "SubscriptionValidation",
                "aeg-subscription-name": subscription.id.upper(),
                "aeg-delivery-count": "0",
                "aeg-data-version": "1",
                "aeg-metadata-version": "1",
            },
        )
        reason: str | None
        if response is None:
            reason = f"the validation event was not answered: {entry['error']}"
        elif response.status_code != 200:
            reason = f"the validation event was answered {response.status_code}, not 200"
        else:
            reason = _validation_answer_problem(response, code)
        entry["outcome"] = "Validated" if reason is None else "ValidationFailed"
        entry["error"] = reason
        return reason

    async def _validate_cloud_events(self, subscription: Subscription) -> str | None:
        entry = self._entry(subscription, "WebHook-Request-Origin", 1, None)
        entry["method"] = "OPTIONS"
        response = await self._send(entry, "OPTIONS", None, {"WebHook-Request-Origin": ORIGIN})
        reason: str | None
        if response is None:
            reason = f"the OPTIONS handshake was not answered: {entry['error']}"
        elif not 200 <= response.status_code < 300:
            reason = f"the OPTIONS handshake was answered {response.status_code}, not 2xx"
        else:
            allowed = response.headers.get("WebHook-Allowed-Origin")
            origins = {part.strip().lower() for part in (allowed or "").split(",")}
            reason = (
                None
                if origins & {"*", ORIGIN}
                else (
                    "the OPTIONS answer lacks WebHook-Allowed-Origin"
                    if allowed is None
                    else f"WebHook-Allowed-Origin {allowed!r} allows neither * nor {ORIGIN}"
                )
            )
        entry["outcome"] = "Validated" if reason is None else "ValidationFailed"
        entry["error"] = reason
        return reason

    # ------------------------------------------------------------ publishing
    def publish(
        self,
        event_type: str,
        subject: str,
        data: Mapping[str, Any],
        event_time: str | float | None = None,
    ) -> str:
        """Send one event to every subscription that takes ``event_type``; its id.

        ``event_time``: RFC 3339, POSIX seconds, or None for the emulator clock's now.
        """
        event_id = _ids.guid()
        when = self._time(event_time)
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._loop = loop
            self._fan_out(event_id, event_type, subject, dict(data), when)
        elif self._loop is not None:
            self._loop.call_soon_threadsafe(
                self._fan_out, event_id, event_type, subject, dict(data), when
            )
        elif self._subscriptions:
            raise RuntimeError(
                "publish on the emulator's event loop (from a thread: after an "
                "/emulator/eventgrid request)"
            )
        return event_id

    def publish_recording_file_status_updated(
        self,
        *,
        call_id: str,
        server_call_id: str,
        chunks: Sequence[Mapping[str, Any]],
        start_time: str | float,
        duration_ms: int,
        content_type: str,
        channel_type: str,
        format_type: str,
        session_end_reason: str | None = None,
        event_time: str | float | None = None,
    ) -> str:
        """Publish ``Microsoft.Communication.RecordingFileStatusUpdated`` for a finished
        recording; the event id.

        ``chunks``: ``{documentId, index, endReason, contentLocation, metadataLocation,
        deleteLocation}`` each (other keys are dropped; ``endReason`` may be camelCase);
        ``start_time``: RFC 3339 or POSIX seconds; ``content_type``, ``channel_type``,
        ``format_type`` and ``session_end_reason`` in REST spelling (``audioVideo``,
        ``mixed``, ``mp4``, ``callEnded``): the event gets them in PascalCase. The subject is
        ``/recording/call/{call_id}/serverCallId/{server_call_id}``.
        """
        chunk_fields = fields("AcsRecordingChunkInfo")
        recording_chunks = []
        for chunk in chunks:
            shaped = {name: chunk[name] for name in chunk_fields if name in chunk}
            if isinstance(shaped.get("endReason"), str):
                shaped["endReason"] = pascal(shaped["endReason"])
            recording_chunks.append(shaped)
        data: dict[str, Any] = {
            "recordingStorageInfo": {"recordingChunks": recording_chunks},
            "recordingStartTime": self._time(start_time),
            "recordingDurationMs": duration_ms,
            "recordingContentType": event_enum("AcsRecordingContentType", content_type),
            "recordingChannelType": event_enum("AcsRecordingChannelType", channel_type),
            "recordingFormatType": event_enum("AcsRecordingFormatType", format_type),
        }
        if session_end_reason:
            data["sessionEndReason"] = pascal(session_end_reason)
        if "event-camel-case" in self.faults:  # fault: the REST spelling
            _camel_case(data)
        subject = f"/recording/call/{call_id}/serverCallId/{server_call_id}"
        if "event-wrong-subject" in self.faults:  # fault: the call alone
            subject = f"/recording/call/{call_id}"
        return self.publish(recording_file_status_updated(), subject, data, event_time)

    def _time(self, moment: str | float | None) -> str:
        if moment is None:
            return self.clock.iso(self.clock.now())
        return moment if isinstance(moment, str) else self.clock.iso(float(moment))

    def _fan_out(
        self, event_id: str, event_type: str, subject: str, data: dict[str, Any], when: str
    ) -> None:
        published = self.clock.iso(self.clock.now())
        for subscription in self.subscriptions():
            if subscription.status == "failed" or not subscription.accepts(event_type):
                continue
            body = self._envelope(
                subscription.schema,
                event_id=event_id,
                event_type=event_type,
                subject=subject,
                data=data,
                when=when,
            )
            self._check(
                body,
                "EventGridEventBatch"
                if subscription.schema == EVENT_GRID_SCHEMA
                else cloud_event_schema(event_type),
                event_type,
            )
            self._queue(subscription, body, event_type, published)

    def _queue(
        self, subscription: Subscription, body: Any, event_type: str, published: str
    ) -> None:
        record = {
            "kind": "eventgrid",
            "subscription": subscription.id,
            "body": body,
            "eventType": event_type,
            "published": published,
        }
        self.deliveries.run(
            f"eventgrid/{subscription.id}",
            functools.partial(self._deliver, subscription, body, event_type, published),
            record,
        )

    def requeue(self, record: Mapping[str, Any]) -> None:
        """Queue again a delivery a previous run of the emulator did not finish."""
        subscription = self._subscriptions.get(str(record["subscription"]))
        if subscription is not None:
            self._queue(
                subscription, record["body"], str(record["eventType"]), str(record["published"])
            )

    def restore(self, subscriptions: Sequence[Subscription]) -> None:
        """Take back subscriptions read from storage (they replace the configured one)."""
        self._subscriptions = {subscription.id: subscription for subscription in subscriptions}

    def _envelope(
        self,
        schema: str,
        *,
        event_id: str,
        event_type: str,
        subject: str,
        data: dict[str, Any],
        when: str,
    ) -> Any:
        if schema == EVENT_GRID_SCHEMA:
            return [
                {
                    "id": event_id,
                    "topic": self.settings.event_grid_topic,
                    "subject": subject,
                    "data": data,
                    "eventType": event_type,
                    "dataVersion": "1.0",
                    "metadataVersion": "1",
                    "eventTime": when,
                }
            ]
        return {
            "id": event_id,
            "source": self.settings.event_grid_topic,
            "subject": subject,
            "type": event_type,
            "time": when,
            "specversion": "1.0",
            "data": data,
        }

    def _check(self, body: Any, schema: str, event_type: str) -> None:
        failures = validate(body, schema)
        if failures:
            LOG.log(
                logging.WARNING if self.faults.active else logging.ERROR,
                "%s: an Event Grid %s does not match %s: %s",
                "with faults on" if self.faults.active else "emulator bug",
                event_type,
                schema,
                "; ".join(map(str, failures[:3])),
            )

    # ------------------------------------------------------------ delivery
    async def _deliver(
        self, subscription: Subscription, body: Any, event_type: str, published: str
    ) -> None:
        """One event to one subscription: attempts with back-off, then the dead-letter file."""
        if not self._live(subscription):
            return
        if subscription.status == "pending":  # the configured webhook, on its first event
            self._settle(subscription, await self._handshake(subscription))
        if subscription.status != "active":
            return
        event_grid = subscription.schema == EVENT_GRID_SCHEMA
        payload = orjson.dumps(body)
        attempts = max(1, self.settings.event_grid_attempts)
        entries: list[dict[str, Any]] = []
        for attempt in range(1, attempts + 1):
            if not self._live(subscription):  # deleted (or the emulator reset) meanwhile
                return
            headers = {
                "content-type": "application/json"
                if event_grid
                else "application/cloudevents+json",
                "aeg-event-type": "Notification",
                "aeg-subscription-name": subscription.id.upper(),
                "aeg-delivery-count": str(attempt - 1),
            }
            if event_grid:
                headers |= {"aeg-data-version": "1.0", "aeg-metadata-version": "1"}
            entry = self._entry(subscription, event_type, attempt, body)
            entries.append(entry)
            response = await self._send(entry, "POST", payload, headers)
            status = None if response is None else response.status_code
            if status is not None and 200 <= status < 300:
                entry["outcome"] = "Delivered"
                return
            if status is not None:
                entry["outcome"] = _outcome(status)
                if status in NOT_RETRIED:
                    reason = f"UndeliverableDueToHttp{entry['outcome']}"
                    self._dead_letter(subscription, body, entries, reason, published)
                    return
            if attempt < attempts:
                delay = self.settings.event_grid_backoff * 2 ** (attempt - 1)
                entry["retryIn"] = delay
                await asyncio.sleep(delay)
        if self._live(subscription):
            self._dead_letter(subscription, body, entries, "MaxDeliveryAttemptsExceeded", published)

    def _entry(
        self, subscription: Subscription, label: str, attempt: int, body: Any
    ) -> dict[str, Any]:
        entry = log_entry(
            f"eventgrid/{subscription.id}", subscription.endpoint_url, label, attempt, body
        )
        entry.update(
            {"subscription": subscription.id, "schema": subscription.schema, "outcome": None}
        )
        return entry

    async def _send(
        self, entry: dict[str, Any], method: str, content: bytes | None, headers: dict[str, str]
    ) -> httpx.Response | None:
        """One request within the timeout; the answer, or None with ``entry["error"]`` set.
        The entry joins the delivery log once the attempt is over (as callbacks' do)."""
        timeout = self.settings.event_grid_timeout
        try:
            async with asyncio.timeout(timeout):
                response = await self.deliveries.http().request(
                    method, entry["url"], content=content, headers=headers, timeout=timeout
                )
        except (TimeoutError, httpx.TimeoutException):
            entry["error"] = f"no answer within {timeout:g}s"
            entry["outcome"] = "TimedOut"
            return None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["outcome"] = "GenericError"
            return None
        else:
            entry["status"] = response.status_code
            return response
        finally:
            self.deliveries.log.append(entry)

    def _dead_letter(
        self,
        subscription: Subscription,
        body: Any,
        entries: list[dict[str, Any]],
        reason: str,
        published: str,
    ) -> None:
        last = entries[-1]
        status = (
            last["status"]
            if last["status"] is not None
            else (408 if last["outcome"] == "TimedOut" else None)
        )
        properties: dict[str, Any] = {
            "deadLetterReason": reason,
            "deliveryAttempts": len(entries),
            "lastDeliveryOutcome": last["outcome"],
            "publishTime": published,
            "lastDeliveryAttemptTime": self.clock.iso(last["time"] + self.clock.offset),
        }
        if status is not None:
            properties["lastHttpStatusCode"] = status
        events = body if isinstance(body, list) else [body]
        letters = [{**event, **properties} for event in events]
        last["deadLetterReason"] = reason
        LOG.warning(
            "Event Grid %s to %s dead-lettered after %d attempts: %s",
            last["event"],
            subscription.endpoint_url,
            len(entries),
            reason,
        )
        if self.settings.data_dir is None:
            LOG.warning("no data directory: the dead-lettered event is not kept")
            return
        folder = Path(self.settings.data_dir) / "deadletter" / subscription.id
        target = folder / f"{events[0]['id']}.json"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".json.partial")
            partial.write_bytes(orjson.dumps(letters, option=orjson.OPT_INDENT_2))
            os.replace(partial, target)
        except OSError:
            LOG.exception("cannot write the dead-letter file %s", target)
            return
        last["deadLetter"] = str(target)


def _camel_case(data: dict[str, Any]) -> None:
    """Fault event-camel-case: the event's enum values as REST spells them (``audioVideo``)."""
    enums = ("recordingContentType", "recordingChannelType", "recordingFormatType")
    chunks = data["recordingStorageInfo"]["recordingChunks"]
    for holder, name in [
        *((data, name) for name in (*enums, "sessionEndReason")),
        *((chunk, "endReason") for chunk in chunks),
    ]:
        value = holder.get(name)
        if isinstance(value, str):
            holder[name] = value[:1].lower() + value[1:]


def _outcome(status: int) -> str:
    """An HTTP status as Event Grid names delivery outcomes (``BadRequest``, ``NotFound``)."""
    try:
        return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return f"Http{status}"


def _validation_answer_problem(response: httpx.Response, code: str) -> str | None:
    try:
        answer = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return "the validation answer is not JSON"
    failures = validate(answer, "SubscriptionValidationResponse")
    if failures:
        return f"the validation answer is not a SubscriptionValidationResponse: {failures[0]}"
    if answer["validationResponse"] != code:
        return "the validationResponse is not the validationCode that was sent"
    return None


# ---------------------------------------------------------------- requests
def check_subscription(endpoint_url: Any, schema: Any, event_types: Any) -> None:
    """Raise invalid-request unless these make a subscription."""
    if not isinstance(endpoint_url, str) or not _is_webhook_url(endpoint_url):
        raise EmulatorError(
            "invalid-request", "endpointUrl must be an absolute http(s) URL", "endpointUrl"
        )
    if schema not in SCHEMAS:
        raise EmulatorError("invalid-request", f"schema must be {' or '.join(SCHEMAS)}", "schema")
    if event_types is None:
        return
    if (
        not isinstance(event_types, list | tuple)
        or not 1 <= len(event_types) <= EVENT_TYPES_LIMIT
        or not all(isinstance(name, str) and 0 < len(name) <= 256 for name in event_types)
    ):
        raise EmulatorError(
            "invalid-request",
            f"eventTypes must list 1 to {EVENT_TYPES_LIMIT} event type names (leave it out "
            "for every type)",
            "eventTypes",
        )


def _is_webhook_url(url: str) -> bool:
    if len(url) > URL_LIMIT or any(char.isspace() or ord(char) < 32 for char in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a bad port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port != 0


# ---------------------------------------------------------------- control API
async def create_subscription(
    emulator: Emulator, request: Request, _params: dict[str, Any], body: bytes
) -> Response:
    emulator.eventgrid.attach()
    payload = parse_json(body, request)
    if not isinstance(payload, dict):
        raise EmulatorError(
            "invalid-request",
            'expected {"endpointUrl": ..., "schema": "EventGridSchema" or '
            '"CloudEventSchemaV1_0", "eventTypes"?: [...]}',
        )
    for name in payload:
        if name not in SUBSCRIPTION_FIELDS:
            raise EmulatorError("invalid-request", f"unknown field {name!r}", str(name))
    subscription = await emulator.eventgrid.add(
        payload.get("endpointUrl", ""),
        payload.get("schema", EVENT_GRID_SCHEMA),
        payload.get("eventTypes"),
    )
    return json_response(subscription.as_json(), 201)


async def list_subscriptions(
    emulator: Emulator, _request: Request, _params: dict[str, Any], _body: bytes
) -> Response:
    emulator.eventgrid.attach()
    return json_response(
        {"subscriptions": [found.as_json() for found in emulator.eventgrid.subscriptions()]}
    )


async def get_subscription(
    emulator: Emulator, _request: Request, params: dict[str, Any], _body: bytes
) -> Response:
    emulator.eventgrid.attach()
    return json_response(emulator.eventgrid.get(params["subscription"]).as_json())


async def delete_subscription(
    emulator: Emulator, _request: Request, params: dict[str, Any], _body: bytes
) -> Response:
    emulator.eventgrid.attach()
    emulator.eventgrid.remove(params["subscription"])
    return empty_response(204)
