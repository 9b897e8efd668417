"""Deliberate faults, for proving that the conformance suites catch broken servers.

Each fault breaks one documented fact and names the requirements it should make fail. All are
off unless switched on through ``POST /emulator/faults``; each is one check (``if "<name>" in
faults``) at the place it breaks. Faults on media and metadata act when a recording's files are
made; the others on every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final


@dataclass(frozen=True)
class Fault:
    description: str
    breaks: tuple[str, ...]


REGISTRY: Final[dict[str, Fault]] = {
    # ------------------------------------------------ operations: statuses and bodies
    "start-wrong-status": Fault("start answers 201 instead of 200", ("REC-START-004",)),
    "response-missing-state": Fault(
        "start and get omit recordingState", ("REC-START-001", "REC-GET-002")
    ),
    "get-wrong-content-type": Fault(
        "the get body is sent as text/plain instead of application/json", ("REC-GET-001",)
    ),
    "wrong-enum-case": Fault("recordingState is sent as Active/Inactive", ("REC-GET-002",)),
    "pause-wrong-status": Fault("pause answers 200 instead of 202", ("REC-PAUSE-002",)),
    "resume-wrong-status": Fault("resume answers 200 instead of 202", ("REC-RESUME-002",)),
    "stop-wrong-status": Fault("stop answers 200 instead of 204", ("REC-STOP-002",)),
    # ------------------------------------------------ state machine
    "start-answers-active": Fault("start answers recordingState active", ("REC-STATE-001",)),
    "pause-no-state-change": Fault(
        "pause answers 202 but the recording stays active", ("REC-STATE-004",)
    ),
    "resume-ignored": Fault(
        "resume answers 202 but the recording stays inactive", ("REC-STATE-005",)
    ),
    "stop-not-terminal": Fault(
        "a stopped recording still answers get, pause and resume", ("REC-STATE-008",)
    ),
    "resume-after-stop-accepted": Fault(
        "a resume of a stopped recording answers 202 (get and the rest still answer 404)",
        ("REC-STATE-008",),
    ),
    # ------------------------------------------------ ids, versions, options
    "recording-id-padded": Fault(
        "recordingIds keep their base64 '=' padding", ("REC-ID-001", "REC-ID-002")
    ),
    "api-version-not-checked": Fault(
        "a missing or unknown api-version is accepted", ("REC-VERSION-002",)
    ),
    "explicit-null-refused": Fault(
        "a start with a field set to null answers 400 instead of ignoring it", ("REC-OPTS-004",)
    ),
    # ------------------------------------------------ errors
    "flat-error-body": Fault(
        "errors come as {code, message} without the error wrapper", ("REC-ERR-001",)
    ),
    "not-found-wrong-code": Fault(
        "an unknown recordingId answers 404 with code NotFound instead of 8522", ("REC-ERR-003",)
    ),
    "server-error-on-bad-body": Fault(
        "a start body that is not JSON or breaks the schema answers 500 instead of 400 8523",
        ("REC-ERR-006", "REC-ERR-013"),
    ),
    "duplicate-start-allowed": Fault(
        "a second start on a recorded call succeeds", ("REC-ERR-007",)
    ),
    # ------------------------------------------------ authentication
    "auth-not-checked": Fault("requests without a valid signature are served", ("REC-AUTH-002",)),
    "body-hash-not-checked": Fault(
        "an x-ms-content-sha256 that is not the body's hash is accepted", ("REC-AUTH-003",)
    ),
    "date-not-checked": Fault(
        "an x-ms-date more than 15 minutes off is accepted", ("REC-AUTH-004",)
    ),
    "host-port-ignored": Fault(
        "a signature over the host without its port is accepted", ("REC-AUTH-005",)
    ),
    # ------------------------------------------------ repeatability
    "repeatability-ignored": Fault(
        "a repeated Repeatability-Request-ID starts another recording", ("REC-REPEAT-003",)
    ),
    # ------------------------------------------------ callbacks
    "callbacks-not-sent": Fault(
        "no RecordingStateChanged callback is posted", ("REC-CALLBACK-003",)
    ),
    "callback-wrong-state": Fault(
        "RecordingStateChanged reports the state the recording left", ("REC-CALLBACK-003",)
    ),
    "callback-on-no-change": Fault(
        "a pause of a paused recording posts a callback", ("REC-CALLBACK-004",)
    ),
    "callbacks-out-of-order": Fault(
        "each callback waits (up to a second) for the recording's next one, which overtakes it",
        ("REC-CALLBACK-005",),
    ),
    # ------------------------------------------------ Event Grid
    "handshake-skipped": Fault(
        "webhooks get events without a validation handshake", ("REC-HOOK-001", "REC-HOOK-003")
    ),
    "handshake-not-enforced": Fault(
        "a webhook that fails its handshake is subscribed all the same",
        ("REC-HOOK-002", "REC-HOOK-004"),
    ),
    "event-camel-case": Fault(
        "RecordingFileStatusUpdated spells its enum values in camelCase, as REST does",
        ("REC-EVENT-004",),
    ),
    "event-wrong-subject": Fault(
        "the event subject is /recording/call/{callId}, without the serverCallId",
        ("REC-EVENT-005",),
    ),
    # ------------------------------------------------ media and metadata (when files are made)
    "media-truncated": Fault(
        "media files lose their last quarter (a WAV is shorter than its header says)",
        ("REC-MEDIA-007",),
    ),
    "wav-wrong-sample-rate": Fault(
        "WAV headers say 8000 Hz for 16 kHz audio", ("REC-MEDIA-001", "REC-MEDIA-002")
    ),
    "metadata-duration-wrong": Fault(
        "the metadata's chunkDuration is twice the media's length", ("REC-META-003",)
    ),
    "metadata-pauses-missing": Fault(
        "the metadata's pauseResumeIntervals is always empty", ("REC-META-004",)
    ),
    "channel-affinity-ignored": Fault(
        "unmixed channels are assigned as if the start had no channelAffinity",
        ("REC-META-009",),
    ),
    # ------------------------------------------------ content endpoints
    "download-wrong-content-type": Fault(
        "media downloads are sent as binary/octet-stream", ("REC-DOWNLOAD-001",)
    ),
    "range-ignored": Fault(
        "a download with a Range answers 200 with the whole object", ("REC-RANGE-001",)
    ),
    "delete-not-deleting": Fault(
        "a delete answers 200 but the content stays downloadable", ("REC-DELETE-003",)
    ),
    "retention-not-applied": Fault(
        "content never expires, however far the clock moves", ("REC-RETENTION-002",)
    ),
    "result-on-ga": Fault("GET /result answers 200 on GA api-versions too", ("REC-RESULT-004",)),
}


@dataclass
class Faults:
    """The faults switched on right now."""

    active: set[str] = field(default_factory=set)

    def __contains__(self, name: object) -> bool:
        return name in self.active
