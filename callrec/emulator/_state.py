"""The emulator's settings and the state every handler shares."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Final

from callrec import is_valid
from callrec._specs import api_versions, read_spec_yaml
from callrec.emulator import _ids
from callrec.emulator._callbacks import Deliveries
from callrec.emulator._clock import Clock
from callrec.emulator._content import Store
from callrec.emulator._faults import Faults
from callrec.emulator._model import Model, StateChanged
from callrec.specs import fields, schema_document

LOG = logging.getLogger("callrec.emulator")

# The well-known access key, like Azurite's: public, fixed, for local use only.
WELL_KNOWN_KEY: Final = base64.b64encode(
    hashlib.sha512(b"callrec emulator well-known key").digest()
).decode()


@dataclass(frozen=True)
class Settings:
    """How an emulator behaves; one frozen object, read once."""

    access_key: str = WELL_KNOWN_KEY
    api_versions: tuple[str, ...] = ()  # empty: every profiled version
    activation_delay: float = 0.2
    loose: bool = False
    async_start: bool = False
    public_url: str | None = None
    max_body: int = 1 << 20
    callback_attempts: int = 4
    callback_backoff: float = 0.25

    def supported(self) -> list[str]:
        return list(self.api_versions) or api_versions()


def _event_type(schema: str) -> str:
    value: str = schema_document(schema)["properties"]["type"]["const"]
    return value


@dataclass
class Emulator:
    settings: Settings
    clock: Clock = field(default_factory=Clock)
    faults: Faults = field(default_factory=Faults)
    model: Model = field(init=False)
    deliveries: Deliveries = field(init=False)
    repeated: dict[str, tuple[int, Any]] = field(default_factory=dict)
    store: Store = field(default_factory=Store)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.model = Model(self.faults, read_spec_yaml("media.yaml")["combinations"])
        self.deliveries = Deliveries(
            self.settings.callback_attempts, self.settings.callback_backoff
        )

    def reset(self) -> None:
        self.model = Model(self.faults, self.model.media_combinations)
        self.faults.active.clear()
        self.repeated.clear()
        for document_id in list(self.store.documents):
            self.store.remove(document_id)
        self.deliveries.reset()
        self.clock.offset = 0.0
        self.wake.set()

    # ------------------------------------------------------------ callbacks
    def report(self, changes: list[StateChanged]) -> None:
        """Post a RecordingStateChanged per transition, shaped by the recording's version."""
        for change in changes:
            recording = change.recording
            if not recording.callback_uri or "callbacks-not-sent" in self.faults:
                continue
            call = recording.call
            data = {
                "recordingId": recording.id,
                "state": change.state,
                "startDateTime": self.clock.iso(recording.started_at),
                "recordingKind": recording.kind,
                "callConnectionId": call.call_connection_id,
                "serverCallId": call.server_call_id,
                "correlationId": call.correlation_id,
                "resultInformation": {
                    "code": 200,
                    "subCode": 0,
                    "message": f"Recording is {change.state}.",
                },
                "version": recording.api_version,
                "publicEventType": _event_type("RecordingStateChangedCloudEvent"),
            }
            self._post(
                recording.id,
                recording.callback_uri,
                recording.api_version,
                event_schema="RecordingStateChangedCloudEvent",
                data_schema="RecordingStateChangedData",
                data=data,
            )

    def report_failed_start(
        self, recording_id: str, request: dict[str, Any], api_version: str, reason: str
    ) -> None:
        uri = request.get("recordingStateCallbackUri")
        if not uri or "callbacks-not-sent" in self.faults:
            return
        locator = request.get("callLocator") or {}
        data = {
            "recordingId": recording_id,
            "callConnectionId": request.get("callConnectionId"),
            "serverCallId": locator.get("serverCallId"),
            "correlationId": _ids.guid(),
            "resultInformation": {"code": 400, "subCode": 8501, "message": reason},
            "version": api_version,
            "publicEventType": _event_type("StartRecordingFailedCloudEvent"),
        }
        data = {key: value for key, value in data.items() if value is not None}
        self._post(
            recording_id,
            uri,
            api_version,
            event_schema="StartRecordingFailedCloudEvent",
            data_schema="StartRecordingFailedData",
            data=data,
        )

    def _post(
        self,
        key: str,
        uri: str,
        version: str,
        *,
        event_schema: str,
        data_schema: str,
        data: dict[str, Any],
    ) -> None:
        present = set(fields(data_schema, version))
        event = {
            "id": _ids.guid(),
            "source": f"calling/recordings/{key}",
            "type": _event_type(event_schema),
            "specversion": "1.0",
            "time": self.clock.iso(self.clock.now()),
            "datacontenttype": "application/json",
            "subject": f"calling/recordings/{key}",
            "data": {name: value for name, value in data.items() if name in present},
        }
        if not is_valid([event], "RecordingCallbackBatch", api_version=version):
            LOG.error(
                "emulator bug: a %s callback does not match its schema for %s",
                event_schema,
                version,
            )
        self.deliveries.submit(key, uri, [event], _event_type(event_schema))

    # ------------------------------------------------------------ activation
    async def run_scheduler(self) -> None:
        """Turn recordings active when their activation time comes (emulator clock)."""
        while True:
            self.wake.clear()
            due = self.model.next_activation()
            timeout = None if due is None else max(0.0, due - self.clock.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout)
            self.report(self.model.activate_due(self.clock.now()))
