"""The emulator's settings and the state every handler shares."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from callrec import is_valid
from callrec._specs import api_versions, profile, read_spec_yaml
from callrec.emulator import _finish, _ids
from callrec.emulator._callbacks import Deliveries
from callrec.emulator._chaos import Chaos
from callrec.emulator._clock import Clock
from callrec.emulator._content import Store
from callrec.emulator._eventgrid import Subscriptions
from callrec.emulator._faults import Faults
from callrec.emulator._model import Model, StateChanged
from callrec.emulator._persist import Persistence
from callrec.emulator._timers import Timers
from callrec.specs import fields, schema_document

LOG = logging.getLogger("callrec.emulator")

# The well-known access key, like Azurite's: public, fixed, for local use only.
WELL_KNOWN_KEY: Final = base64.b64encode(
    hashlib.sha512(b"callrec emulator well-known key").digest()
).decode()
OVERTAKE_WAIT: Final = 1.0  # fault callbacks-out-of-order: how long a callback waits for the next


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
    event_grid_webhook: str | None = None  # subscribed (Event Grid schema); validated lazily
    event_grid_topic: str = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/callrec"
        "/providers/Microsoft.Communication/communicationServices/callrec-emulator"
    )
    event_grid_attempts: int = 4
    event_grid_backoff: float = 0.25  # seconds before the 2nd attempt; doubles after each
    event_grid_timeout: float = 5.0  # per attempt and per handshake
    data_dir: Path | None = None  # dead-lettered events go to <data_dir>/deadletter/
    resource_id: str = "29bd5ea9-e0fc-4d00-8f6f-339b1f0ee2e2"  # written into metadata documents
    content_url: str | None = None  # base of content locations (default: public_url)
    file_delay: float = 0.2  # seconds (emulator clock) from stop to files ready and the event
    retention: float = 24 * 3600.0  # seconds (emulator clock) files stay downloadable
    max_chunk_seconds: float = 4 * 3600.0  # longer recordings are split into chunks
    video_width: int | None = None  # mp4 picture (default: the documented 1920x1080 at 16 fps)
    video_height: int | None = None
    video_fps: int | None = None
    blob_account_keys: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # BYOS
    blob_timeout: float = 20.0  # BYOS: seconds to connect and to wait for each blob answer

    def supported(self) -> list[str]:
        return list(self.api_versions) or api_versions()


def _event_type(schema: str) -> str:
    value: str = schema_document(schema)["properties"]["type"]["const"]
    return value


def _events(api_version: str) -> list[str]:
    """The event types the version's profile says it emits."""
    found: list[str] = profile(api_version)["events"]
    return found


@dataclass
class Emulator:
    settings: Settings
    clock: Clock = field(default_factory=Clock)
    faults: Faults = field(default_factory=Faults)
    chaos: Chaos = field(default_factory=Chaos)  # not persisted
    model: Model = field(init=False)
    deliveries: Deliveries = field(init=False)
    eventgrid: Subscriptions = field(init=False)
    repeated: dict[str, tuple[int, Any]] = field(default_factory=dict)
    store: Store = field(default_factory=Store)
    timers: Timers = field(default_factory=Timers)
    background: set[asyncio.Task[None]] = field(default_factory=set)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    generation: int = 0  # how many times it was reset
    persistence: Persistence | None = field(init=False, default=None)
    # fault callbacks-out-of-order: per recording, the callback waiting to be overtaken
    held: dict[str, tuple[asyncio.TimerHandle, str, Any, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.model = Model(self.faults, read_spec_yaml("media.yaml")["combinations"])
        self.deliveries = Deliveries(
            self.settings.callback_attempts, self.settings.callback_backoff
        )
        self.eventgrid = Subscriptions(self.settings, self.clock, self.deliveries, self.faults)
        if self.settings.data_dir is not None:
            self.persistence = Persistence(Path(self.settings.data_dir))
            restored = self.persistence.load(self)
            if restored:
                LOG.info("restored %d objects from %s", restored, self.persistence.path)
            self.deliveries.on_change = self.save

    def resume(self) -> None:
        """Pick up, on the running event loop, the work a previous run left unfinished: files
        to produce, events to announce, deliveries owed."""
        for recording in self.model.recordings.values():
            if recording.phase != "stopped" or recording.activated_at is None:
                continue
            if recording.files_ready_at is None:
                _finish.schedule(self, recording)
            else:
                _finish.arm(self, recording)
        if self.persistence is not None:
            for record in self.persistence.owed():
                if record["kind"] == "eventgrid":
                    self.eventgrid.requeue(record)
                else:
                    self.deliveries.submit(
                        record["key"], record["url"], record["body"], record["label"]
                    )
        self.save()

    def close(self) -> None:
        """Write what is left and let go of the data dir (after the last request)."""
        self.save()
        if self.persistence is not None:
            self.persistence.close()
            self.persistence = None

    def save(self) -> None:
        """Make the changes so far durable (with a data dir; otherwise nothing to do)."""
        if self.persistence is not None:
            self.persistence.flush(self)

    def reset(self) -> None:
        self.generation += 1
        self.model = Model(self.faults, self.model.media_combinations)
        self.faults.active.clear()
        self.chaos.clear()
        self.repeated.clear()
        for document_id in list(self.store.documents):
            self.store.remove(document_id)
        self.deliveries.reset()
        for handle, *_ in self.held.values():
            handle.cancel()
        self.held.clear()
        self.eventgrid.reset()
        self.timers.clear()
        self.clock.offset = 0.0
        self.wake.set()

    # ------------------------------------------------------------ callbacks
    def content_base_url(self) -> str:
        base = self.settings.content_url or self.settings.public_url or ""
        return base.rstrip("/")

    def media_folder(self) -> Path:
        folder = (
            self.settings.data_dir or Path(tempfile.gettempdir()) / "callrec-emulator"
        ) / "media"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def report(self, changes: list[StateChanged]) -> None:
        """Callbacks for the transitions, then files for every recording that just stopped."""
        self._callbacks(changes)
        while self.model.finished:
            _finish.schedule(self, self.model.finished.pop(0))

    def _callbacks(self, changes: list[StateChanged]) -> None:
        """Post a RecordingStateChanged per transition, shaped by the recording's version."""
        for change in changes:
            recording = change.recording
            if not recording.callback_uri or "callbacks-not-sent" in self.faults:
                continue
            if _event_type("RecordingStateChangedCloudEvent") not in _events(recording.api_version):
                continue  # a version with no documented state callbacks
            call = recording.call
            state = change.state
            if "callback-wrong-state" in self.faults:  # fault: the state it left
                state = "inactive" if state == "active" else "active"
            data = {
                "recordingId": recording.id,
                "state": state,
                "startDateTime": self.clock.iso(recording.started_at),
                "recordingKind": recording.kind,
                "callConnectionId": call.call_connection_id,
                "serverCallId": call.server_call_id,
                "correlationId": call.correlation_id,
                "resultInformation": {
                    "code": 200,
                    "subCode": 0,
                    "message": f"Recording is {state}.",
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
        if _event_type("StartRecordingFailedCloudEvent") not in _events(api_version):
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
        if "callbacks-out-of-order" in self.faults:
            self._overtaken(key, uri, [event], _event_type(event_schema))
        else:
            self.deliveries.submit(key, uri, [event], _event_type(event_schema))

    def _overtaken(self, key: str, uri: str, body: Any, label: str) -> None:
        """Fault callbacks-out-of-order: a callback waits until the recording's next one has
        been sent first (or `OVERTAKE_WAIT` has passed), so pairs arrive swapped."""
        earlier = self.held.pop(key, None)
        if earlier is None:
            handle = asyncio.get_running_loop().call_later(OVERTAKE_WAIT, self._release, key)
            self.held[key] = (handle, uri, body, label)
            return
        earlier[0].cancel()
        self.deliveries.submit(key, uri, body, label)
        self.deliveries.submit(key, earlier[1], earlier[2], earlier[3])

    def _release(self, key: str) -> None:
        held = self.held.pop(key, None)
        if held is not None:
            self.deliveries.submit(key, held[1], held[2], held[3])

    # ------------------------------------------------------------ activation
    async def run_scheduler(self) -> None:
        """Turn recordings active and run timers when their time comes (emulator clock)."""
        while True:
            self.wake.clear()
            dues = [
                due
                for due in (self.model.next_activation(), self.timers.next_due())
                if due is not None
            ]
            timeout = max(0.0, min(dues) - self.clock.now()) if dues else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout)
            now = self.clock.now()
            self.report(self.model.activate_due(now))
            try:
                self.timers.run_due(now)
            except Exception:  # a failing timer must not stop the scheduler
                LOG.exception("emulator bug: a timer failed")
            self.save()
