"""The pure model of calls and recordings: no I/O, no HTTP, no clock of its own.

Every operation takes the current (emulator) time and returns what changed; the HTTP layer
turns changes into responses and callbacks. Errors are raised as `EmulatorError` naming an
entry of the error catalog (``specs/errors.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from callrec.emulator import _ids
from callrec.emulator._faults import Faults

JSON = dict[str, Any]
TYPED_KINDS: Final = (
    "communicationUser",
    "phoneNumber",
    "microsoftTeamsUser",
    "microsoftTeamsApp",
    "teamsExtensionUser",
)


class EmulatorError(Exception):
    """An error answer: ``name`` is a key of the error catalog; ``detail`` adds specifics."""

    def __init__(self, name: str, detail: str | None = None, target: str | None = None) -> None:
        super().__init__(name if detail is None else f"{name}: {detail}")
        self.name = name
        self.detail = detail
        self.target = target


def raw_id(identifier: JSON) -> str:
    """The raw id of a communication identifier (given, or derived from its typed part)."""
    if identifier.get("rawId"):
        return str(identifier["rawId"])
    if "communicationUser" in identifier:
        return str(identifier["communicationUser"]["id"])
    if "phoneNumber" in identifier:
        return f"4:{identifier['phoneNumber']['value']}"
    if "microsoftTeamsUser" in identifier:
        return f"8:orgid:{identifier['microsoftTeamsUser']['userId']}"
    if "microsoftTeamsApp" in identifier:
        return f"28:orgid:{identifier['microsoftTeamsApp']['appId']}"
    if "teamsExtensionUser" in identifier:
        user = identifier["teamsExtensionUser"]
        return f"8:acs:{user.get('resourceId', '')}_{user['tenantId']}_{user['userId']}"
    raise EmulatorError("invalid-request", "an identifier needs rawId or a typed part")


@dataclass
class Call:
    server_call_id: str
    call_connection_id: str
    correlation_id: str
    group_call_id: str | None
    participants: dict[str, JSON]
    ended: bool = False
    running: dict[str, Recording] = field(default_factory=dict)  # recordings not yet stopped

    def as_json(self) -> JSON:
        body: JSON = {
            "serverCallId": self.server_call_id,
            "callConnectionId": self.call_connection_id,
            "correlationId": self.correlation_id,
            "participants": list(self.participants.values()),
            "ended": self.ended,
        }
        if self.group_call_id:
            body["groupCallId"] = self.group_call_id
        return body


@dataclass
class Recording:
    """One recording. ``phase``: starting (not yet active), active, paused or stopped."""

    id: str
    call: Call
    api_version: str
    media: JSON
    callback_uri: str | None
    started_at: float
    phase: str
    activate_at: float | None = None
    pauses: list[list[float | None]] = field(default_factory=list)  # [start, end or None]
    stopped_at: float | None = None
    activated_at: float | None = None  # when it first turned active: the media starts there
    end_reason: str | None = None
    chunks: list[JSON] = field(default_factory=list)  # where its files are, once produced
    kind: str = "azureCommunicationServices"
    options: JSON = field(default_factory=dict)
    files_ready_at: float | None = None  # when its files become downloadable and are announced
    announced: bool = False  # RecordingFileStatusUpdated was published
    upload_errors: list[dict[str, str]] = field(default_factory=list)  # BYOS export errors

    @property
    def state(self) -> str:
        """The state the API reports: there is no paused value, a paused recording is inactive."""
        return "active" if self.phase == "active" else "inactive"


@dataclass(frozen=True)
class StateChanged:
    """A transition the HTTP layer reports by callback."""

    recording: Recording
    state: str


class Model:
    def __init__(self, faults: Faults, media_combinations: list[JSON]) -> None:
        self.faults = faults
        self.media_combinations = media_combinations
        self.calls: dict[str, Call] = {}
        self.recordings: dict[str, Recording] = {}
        self.pending: dict[str, Recording] = {}  # waiting for their activation time
        self.finished: list[Recording] = []  # stopped since the HTTP layer last looked
        # ids changed since the store last looked (what persistence writes)
        self.changed_calls: set[str] = set()
        self.changed_recordings: set[str] = set()

    def touch(self, recording: Recording) -> None:
        """Note a change made to ``recording`` outside the model (its files, their events)."""
        self.changed_recordings.add(recording.id)

    def restore(self, calls: list[Call], recordings: list[Recording]) -> None:
        """Take back calls and recordings read from storage (derived indexes rebuilt)."""
        for call in calls:
            self.calls[call.server_call_id] = call
        for recording in recordings:
            self.recordings[recording.id] = recording
            if recording.phase != "stopped":
                recording.call.running[recording.id] = recording
            if recording.phase == "starting" and recording.activate_at is not None:
                self.pending[recording.id] = recording

    # ---------------------------------------------------------------- calls
    def create_call(self, participants: list[JSON], group: bool) -> Call:
        people = {raw_id(p): p for p in participants}
        call = Call(
            _ids.server_call_id(), _ids.guid(), _ids.guid(), _ids.guid() if group else None, people
        )
        self.calls[call.server_call_id] = call
        self.changed_calls.add(call.server_call_id)
        return call

    def call(self, server_call_id: str) -> Call:
        call = self.calls.get(server_call_id)
        if call is None:
            raise EmulatorError("call-not-found", f"no call {server_call_id!r}")
        return call

    def add_participant(self, server_call_id: str, participant: JSON) -> Call:
        call = self.call(server_call_id)
        call.participants[raw_id(participant)] = participant
        self.changed_calls.add(server_call_id)
        return call

    def remove_participant(self, server_call_id: str, participant_raw_id: str) -> Call:
        call = self.call(server_call_id)
        if call.participants.pop(participant_raw_id, None) is None:
            raise EmulatorError(
                "participant-not-found", f"{participant_raw_id!r} is not in the call"
            )
        self.changed_calls.add(server_call_id)
        return call

    def end_call(self, server_call_id: str, now: float) -> list[StateChanged]:
        call = self.call(server_call_id)
        call.ended = True
        self.changed_calls.add(server_call_id)
        changes: list[StateChanged] = []
        for recording in list(call.running.values()):
            changes += self._stop(recording, now, "CallEnded")
        return changes

    def _target_call(self, request: JSON) -> Call:
        """The call a start names, or 8501 when it is unknown or over."""
        locator = request.get("callLocator")
        found: Call | None = None
        if locator is not None:
            if locator.get("kind") == "roomCallLocator" or "roomId" in locator:
                raise EmulatorError(
                    "invalid-request", "room calls cannot be recorded with start", "callLocator"
                )
            if "serverCallId" in locator:
                found = self.calls.get(locator["serverCallId"])
            elif "groupCallId" in locator:
                found = next(
                    (c for c in self.calls.values() if c.group_call_id == locator["groupCallId"]),
                    None,
                )
        else:
            connection = request.get("callConnectionId")
            found = next(
                (c for c in self.calls.values() if c.call_connection_id == connection), None
            )
        if found is None or found.ended:
            raise EmulatorError("call-not-established", "the call is unknown or has ended")
        return found

    # ---------------------------------------------------------------- options
    def resolve_media(self, request: JSON) -> JSON:
        """The documented combination a start asks for (first match of the values it gives)."""
        wanted = {
            "content": request.get("recordingContentType"),
            "channel": request.get("recordingChannelType"),
            "format": request.get("recordingFormatType"),
        }
        for combination in self.media_combinations:
            if all(value is None or combination[key] == value for key, value in wanted.items()):
                return combination
        given = ", ".join(f"{key} {value}" for key, value in wanted.items() if value is not None)
        raise EmulatorError(
            "invalid-request", f"no documented recording has {given}", "recordingFormatType"
        )

    @staticmethod
    def _check_affinity(request: JSON, call: Call, media: JSON) -> None:
        pins = request.get("channelAffinity") or []
        if pins and media["channel"] != "unmixed":
            raise EmulatorError(
                "invalid-request",
                "channelAffinity applies to unmixed recordings",
                "channelAffinity",
            )
        channels: set[int] = set()
        people: set[str] = set()
        for pin in pins:
            person = raw_id(pin["participant"])
            channel = pin.get("channel")
            if channel is not None and channel in channels:
                raise EmulatorError(
                    "invalid-request", f"channel {channel} is pinned twice", "channelAffinity"
                )
            if person in people:
                raise EmulatorError(
                    "invalid-request", f"participant {person} is pinned twice", "channelAffinity"
                )
            if person not in call.participants:
                raise EmulatorError(
                    "invalid-request", f"participant {person} is not in the call", "channelAffinity"
                )
            if channel is not None:
                channels.add(channel)
            people.add(person)

    # ---------------------------------------------------------------- recordings
    def start(
        self, request: JSON, api_version: str, now: float, activation_delay: float
    ) -> Recording:
        call = self._target_call(request)
        media = self.resolve_media(request)
        self._check_affinity(request, call, media)
        if call.running and "duplicate-start-allowed" not in self.faults:
            raise EmulatorError(
                "already-recording", f"recording {next(iter(call.running))} is in progress"
            )
        paused = bool(request.get("pauseOnStart"))
        recording_id = _ids.recording_id()
        if "recording-id-padded" in self.faults:  # fault: base64 padding left on
            recording_id += "=" * (-len(recording_id) % 4)
        recording = Recording(
            id=recording_id,
            call=call,
            api_version=api_version,
            media=media,
            callback_uri=request.get("recordingStateCallbackUri"),
            started_at=now,
            phase="paused" if paused else "starting",
            activate_at=None if paused else now + activation_delay,
            pauses=[[now, None]] if paused else [],
            options=request,
        )
        self.recordings[recording.id] = recording
        self.changed_recordings.add(recording.id)
        call.running[recording.id] = recording
        if not paused:
            self.pending[recording.id] = recording
        return recording

    def live(self, recording_id: str, path: str | None = None) -> Recording:
        """A recording that is not stopped (a stopped one is gone: 404 8522)."""
        recording = self.recordings.get(recording_id)
        if recording is None and "not-found-wrong-code" in self.faults:  # fault: not 8522
            raise EmulatorError("route-not-found", target=path)
        if recording is None or (
            recording.phase == "stopped" and "stop-not-terminal" not in self.faults
        ):
            raise EmulatorError("recording-not-found", target=path)
        return recording

    def pause(self, recording_id: str, now: float, path: str | None = None) -> list[StateChanged]:
        recording = self.live(recording_id, path)
        if recording.phase == "paused" and "callback-on-no-change" in self.faults:
            return [StateChanged(recording, "inactive")]  # fault: reports a non-transition
        if recording.phase in ("paused", "stopped") or "pause-no-state-change" in self.faults:
            return []
        was = recording.state
        recording.phase = "paused"
        recording.activate_at = None
        self.pending.pop(recording.id, None)
        recording.pauses.append([now, None])
        self.changed_recordings.add(recording.id)
        return [StateChanged(recording, "inactive")] if was == "active" else []

    def resume(self, recording_id: str, now: float, path: str | None = None) -> list[StateChanged]:
        stopped = self.recordings.get(recording_id)
        if (
            stopped is not None
            and stopped.phase == "stopped"
            and "resume-after-stop-accepted" in self.faults
        ):
            return []  # fault: accepted as if it were still running
        recording = self.live(recording_id, path)
        if recording.phase != "paused" or "resume-ignored" in self.faults:
            return []
        recording.pauses[-1][1] = now
        recording.phase = "active"
        if recording.activated_at is None:
            recording.activated_at = now
        self.changed_recordings.add(recording.id)
        return [StateChanged(recording, "active")]

    def stop(self, recording_id: str, now: float, path: str | None = None) -> list[StateChanged]:
        recording = self.live(recording_id, path)
        if recording.phase == "stopped":
            return []
        return self._stop(recording, now, "SessionEnded")

    def _stop(self, recording: Recording, now: float, reason: str) -> list[StateChanged]:
        was = recording.state
        self.pending.pop(recording.id, None)
        recording.call.running.pop(recording.id, None)
        if recording.pauses and recording.pauses[-1][1] is None:
            recording.pauses[-1][1] = now
        recording.phase = "stopped"
        recording.stopped_at = now
        recording.end_reason = reason
        self.changed_recordings.add(recording.id)
        self.finished.append(recording)
        return [StateChanged(recording, "inactive")] if was == "active" else []

    def activate_due(self, now: float) -> list[StateChanged]:
        """Recordings whose activation time has come turn active."""
        due = [
            r for r in self.pending.values() if r.activate_at is not None and r.activate_at <= now
        ]
        for recording in due:
            del self.pending[recording.id]
            recording.phase = "active"
            recording.activate_at = None
            if recording.activated_at is None:
                recording.activated_at = now
            self.changed_recordings.add(recording.id)
        return [StateChanged(recording, "active") for recording in due]

    def next_activation(self) -> float | None:
        """When the next pending recording turns active (only pending ones are looked at)."""
        due = [r.activate_at for r in self.pending.values() if r.activate_at is not None]
        return min(due) if due else None
