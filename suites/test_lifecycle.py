"""The recording lifecycle as a state machine: random runs of start, pause, resume, stop, second
starts, call ends and operations on stopped recordings, checked against a model of each
recording; every step is followed by a get of every recording the run made (the invariant).

Each start records a fresh call with any option combination the api-version allows (the
documented content/channel/format combinations, each value sent, left out or sent as null;
pauseOnStart; channelAffinity pinning the call's own participants on unmixed recordings).
After every step every recording the run made is read back: live ones must show the state the
model holds, stopped ones must answer 404 with the catalog's not-found code. Only activation
after a start and the stop caused by a call ending are waited for (bounded polling); a pause,
resume or stop must show on the very next get.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Final

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from callrec.client import Client
from callrec.conformance import CallProvider, ProvidedCall
from callrec.specs import enum_values, fields
from suites.support import (
    answers_with,
    await_state,
    check_already_recording,
    check_bodiless,
    check_not_found,
    check_success,
    locator,
    media_combinations,
    started_id,
    wait_until_gone,
)

START: Final = "StartRecording"
GET: Final = "GetRecordingProperties"
PAUSE: Final = "PauseRecording"
RESUME: Final = "ResumeRecording"
STOP: Final = "StopRecording"
MAX_LIVE: Final = 3  # recordings running at once (each on its own call)
GONE: Final = "gone"  # the model's state of a stopped recording (not an API value)
# start option -> the enum schema of its values, and the media.yaml key naming it
MEDIA_OPTIONS: Final = {
    "recordingContentType": ("RecordingContentType", "content"),
    "recordingChannelType": ("RecordingChannelType", "channel"),
    "recordingFormatType": ("RecordingFormatType", "format"),
}
SEND, OMIT, NULL = "send", "omit", "null"
START_RULES: Final = ("REC-START-004", "REC-START-001")  # (status, body) of a start
GET_RULES: Final = ("REC-GET-003", "REC-GET-002")  # (status, body) of a get
AFTER_STOP: Final[dict[str, Callable[[Client, str], httpx.Response]]] = {
    "get": Client.get,
    "stop": Client.stop,
    "pause": Client.pause,
    "resume": Client.resume,
}


@dataclass
class Modelled:
    """What the model knows of one recording."""

    recording_id: str
    call: ProvidedCall
    holder: ExitStack  # holds the call; closed once the recording is over
    body: dict[str, Any]  # the start request
    state: str  # "active", "inactive" or GONE
    settled: bool  # False: the endpoint may still be on its way to ``state``
    reason: str  # the requirement and the step that made ``state`` what the model expects

    def started_with(self) -> str:
        """The start request in short: how it named the call, and its options."""
        named = next((key for key in ("callLocator", "callConnectionId") if key in self.body), "")
        options = {key: value for key, value in self.body.items() if key != named}
        return f"a start by {named} with {options!r}"


def _documented_media(api_version: str) -> list[dict[str, Any]]:
    """The documented combinations whose every value the version has."""
    keys = {key: schema for schema, key in MEDIA_OPTIONS.values()}
    return [
        {key: combination[key] for key in keys}
        for combination in media_combinations()
        if all(combination[key] in enum_values(schema, api_version) for key, schema in keys.items())
    ]


class RecordingLifecycle(RuleBasedStateMachine):
    live = Bundle("live")  # recordings the model holds running (active or paused)
    stopped = Bundle("stopped")  # stopped ones, by a stop or by the end of their call

    def __init__(self, client: Client, api_version: str, provider: CallProvider) -> None:
        super().__init__()
        self.client = client
        self.api_version = api_version
        self.provider = provider
        self.stack = ExitStack()
        self.model: dict[str, Modelled] = {}
        self.start_fields = set(fields("StartCallRecordingRequest", api_version))
        self.media = _documented_media(api_version)

    # ------------------------------------------------------------ helpers
    def _live(self) -> list[Modelled]:
        return [r for r in self.model.values() if r.state != GONE]

    def _may_start(self) -> bool:
        live = len(self._live())
        # a provider without fresh calls may lend the same call again: one recording at a time
        return live < MAX_LIVE and (live == 0 or "fresh" in self.provider.capabilities)

    def _start_body(self, data: st.DataObject, call: ProvidedCall) -> dict[str, Any]:
        targets: list[dict[str, Any]] = [{"callLocator": locator(call)}]
        if call.extra.get("groupCallId"):
            group = {"kind": "groupCallLocator", "groupCallId": call.extra["groupCallId"]}
            targets.append({"callLocator": group})
        if "callConnectionId" in self.start_fields and call.call_connection_id:
            targets.append({"callConnectionId": call.call_connection_id})
        body: dict[str, Any] = dict(data.draw(st.sampled_from(targets), label="target"))
        media = data.draw(st.sampled_from(self.media), label="media")
        for option, (_schema, key) in MEDIA_OPTIONS.items():
            if option not in self.start_fields:  # the conversations API names no media
                continue
            how = data.draw(st.sampled_from([SEND, OMIT, NULL]), label=option)
            if how != OMIT:
                body[option] = media[key] if how == SEND else None
        if "pauseOnStart" in self.start_fields:
            paused = data.draw(st.sampled_from([None, False, True]), label="pauseOnStart")
            if paused is not None:
                body["pauseOnStart"] = paused
        if "channelAffinity" in self.start_fields:
            body.update(self._affinity(data, call, body))
        return body

    @staticmethod
    def _affinity(data: st.DataObject, call: ProvidedCall, body: dict[str, Any]) -> dict[str, Any]:
        """channelAffinity: an empty list with any channel type; pins of the call's own
        participants only when the start names unmixed explicitly."""
        how = data.draw(st.sampled_from([OMIT, "empty", "pins"]), label="channelAffinity")
        unmixed = body.get("recordingChannelType") == "unmixed" and call.participants
        if how == OMIT or (how == "pins" and not unmixed):
            return {}
        if how == "empty":
            return {"channelAffinity": []}
        count = min(len(call.participants), 5)
        people = data.draw(
            st.lists(st.integers(0, count - 1), min_size=1, max_size=count, unique=True),
            label="pinned participants",
        )
        channels = data.draw(st.permutations(range(5)), label="channels")
        return {
            "channelAffinity": [
                {"channel": channels[n], "participant": call.participants[index]}
                for n, index in enumerate(people)
            ]
        }

    def _observe(self, recording: Modelled) -> None:
        """Read the recording back and compare with the model (waiting only where the model
        allows the endpoint to be on its way)."""
        rid = recording.recording_id
        if recording.state == GONE:
            answer = (
                self.client.get(rid) if recording.settled else wait_until_gone(self.client, rid)
            )
            recording.settled = True
            check_not_found(answer, f"{recording.reason}: a get", self.client.api_version)
            return
        if not recording.settled:
            await_state(self.client, rid, recording.state)
            recording.settled = True
        body = check_success(self.client.get(rid), self.api_version, GET, "a get", GET_RULES)
        if answers_with(self.client.api_version, GET, "recordingId"):
            assert body["recordingId"] == rid, (
                f"REC-GET-002: a get: expected recordingId {rid!r} from the path, "
                f"got {body['recordingId']!r}"
            )
        assert body["recordingState"] == recording.state, (
            f"{recording.reason}: the next get shows recordingState "
            f"{body['recordingState']!r}, expected {recording.state!r} "
            f"(recording of {recording.started_with()})"
        )

    def _release(self, recording: Modelled) -> None:
        recording.holder.close()

    # ------------------------------------------------------------ rules
    def _start(self, data: st.DataObject) -> str:
        holder = self.stack.enter_context(ExitStack())
        call = holder.enter_context(self.provider.call())
        body = self._start_body(data, call)
        answer = self.client.start(body)
        paused = bool(body.get("pauseOnStart"))
        modelled = Modelled(
            "", call, holder, body, "inactive" if paused else "active", settled=paused, reason=""
        )
        what = modelled.started_with()
        try:
            started = check_success(answer, self.api_version, START, what, START_RULES)
        except AssertionError:
            if answer.is_success and answer.content:  # leave nothing running behind
                stray = started_id(answer.json())
                if isinstance(stray, str):
                    self.client.stop(stray)
            holder.close()
            raise
        rid = str(started_id(started))
        assert rid not in self.model, f"{what} answered the recordingId of an earlier start"
        modelled.recording_id = rid
        modelled.reason = (
            "REC-STATE-003: started with pauseOnStart" if paused else "REC-STATE-002: started"
        )
        self.model[rid] = modelled
        if answers_with(self.client.api_version, START, "recordingState"):
            assert started["recordingState"] == "inactive", (
                f"REC-STATE-001: {what}: expected recordingState 'inactive', "
                f"got {started['recordingState']!r}"
            )
        return rid

    @initialize(target=live, data=st.data())
    def first_start(self, data: st.DataObject) -> str:
        return self._start(data)

    @precondition(lambda self: self._may_start())
    @rule(target=live, data=st.data())
    def start(self, data: st.DataObject) -> str:
        return self._start(data)

    @rule(rid=live)
    def pause(self, rid: str) -> None:
        recording = self.model[rid]
        answer = self.client.pause(rid)
        was = "an active" if recording.state == "active" else "a paused"
        what = f"REC-PAUSE-001/002: pause of {was} recording"
        check_bodiless(answer, self.api_version, PAUSE, what)
        recording.reason = (
            f"REC-STATE-00{4 if recording.state == 'active' else 6}: after a pause of {was} "
            "recording"
        )
        recording.state = "inactive"

    @rule(rid=live)
    def resume(self, rid: str) -> None:
        recording = self.model[rid]
        answer = self.client.resume(rid)
        was = "an active" if recording.state == "active" else "a paused"
        what = f"REC-RESUME-001/002: resume of {was} recording"
        check_bodiless(answer, self.api_version, RESUME, what)
        recording.reason = (
            f"REC-STATE-00{7 if recording.state == 'active' else 5}: after a resume of {was} "
            "recording"
        )
        recording.state = "active"

    @rule(target=stopped, rid=consumes(live))
    def stop(self, rid: str) -> str:
        recording = self.model[rid]
        answer = self.client.stop(rid)
        was = "an active" if recording.state == "active" else "a paused"
        recording.state, recording.reason = GONE, "REC-STATE-008: after a stop"
        self._release(recording)
        what = f"REC-STOP-001/002: stop of {was} recording"
        check_bodiless(answer, self.api_version, STOP, what)
        return rid

    @precondition(lambda self: "end" in self.provider.capabilities)
    @rule(target=stopped, rid=consumes(live))
    def end_call(self, rid: str) -> str:
        """Ending the call stops its recording (the endpoint may take a moment)."""
        recording = self.model[rid]
        self.provider.end(recording.call)
        recording.state, recording.settled = GONE, False
        recording.reason = "REC-STATE-008: after its call ended"
        self._release(recording)
        return rid

    @rule(rid=stopped, operation=st.sampled_from(sorted(AFTER_STOP)))
    def after_stop(self, rid: str, operation: str) -> None:
        """Every operation on a stopped recording answers not-found (stop is terminal)."""
        self._observe(self.model[rid])  # a call end may take a moment to stop it
        answer = AFTER_STOP[operation](self.client, rid)
        check_not_found(answer, f"{self.model[rid].reason}: a {operation}", self.client.api_version)

    @rule(rid=live)
    def start_again(self, rid: str) -> None:
        """A second start on a call already recorded is refused and changes nothing."""
        recording = self.model[rid]
        second = self.client.start({"callLocator": locator(recording.call)})
        if second.is_success:  # a recording that should not exist: stop it before failing
            extra = started_id(second.json()) if second.content else None
            if isinstance(extra, str) and extra not in self.model:
                self.client.stop(extra)
        check_already_recording(
            second,
            "REC-ERR-007: a second start on a call already recorded",
            self.client.api_version,
        )
        recording.reason = "REC-STATE-009: after a refused second start on its call"

    @invariant()
    def every_recording_reads_as_modelled(self) -> None:
        # what must already show first, then what may take a moment
        for recording in sorted(self.model.values(), key=lambda r: not r.settled):
            self._observe(recording)

    def teardown(self) -> None:
        """Stop what still runs, release every call; the stops are checked too, unless the
        run is already failing (their answers would hide why)."""
        failing = sys.exc_info()[0] is not None
        try:
            stops = [(r.state, self.client.stop(r.recording_id)) for r in self._live()]
        finally:
            self.stack.close()
        for state, answer in [] if failing else stops:
            was = "an active" if state == "active" else "a paused"
            what = f"REC-STOP-001/002: stop of {was} recording at the end of a run"
            check_bodiless(answer, self.api_version, STOP, what)


def _bounded() -> settings:
    """The loaded hypothesis profile (dev, ci, live), bounded: every step costs requests and
    calls on the target, so few runs, short ones, and no shrinking (each replay would start
    recordings again)."""
    loaded = settings()  # the loaded profile's values
    return settings(
        loaded,
        max_examples=min(loaded.max_examples, 8),
        stateful_step_count=10,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


@pytest.mark.requirement(
    "REC-START-001",
    "REC-START-002",
    "REC-START-003",
    "REC-START-004",
    "REC-GET-001",
    "REC-GET-002",
    "REC-GET-003",
    "REC-GET-004",
    "REC-PAUSE-001",
    "REC-PAUSE-002",
    "REC-RESUME-001",
    "REC-RESUME-002",
    "REC-STOP-001",
    "REC-STOP-002",
    "REC-STATE-001",
    "REC-STATE-002",
    "REC-STATE-003",
    "REC-STATE-004",
    "REC-STATE-005",
    "REC-STATE-006",
    "REC-STATE-007",
    "REC-STATE-008",
    "REC-STATE-009",
    "REC-ERR-007",
    "REC-OPTS-001",
    "REC-OPTS-002",
    "REC-OPTS-004",
    "REC-OPTS-007",
)
def test_recording_lifecycle(
    target_client: Client, api_version: str, call_provider: CallProvider
) -> None:
    with call_provider.call():  # not applicable at once when the provider has no calls
        pass

    class Lifecycle(RecordingLifecycle):
        def __init__(self) -> None:
            super().__init__(target_client, api_version, call_provider)

    run_state_machine_as_test(Lifecycle, settings=_bounded())
