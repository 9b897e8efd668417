"""Deliberate faults, for proving that the conformance suites catch broken servers.

Each fault breaks one documented fact and names the requirements it should make fail. All are
off unless switched on through ``POST /emulator/faults``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final


@dataclass(frozen=True)
class Fault:
    description: str
    breaks: tuple[str, ...]


REGISTRY: Final[dict[str, Fault]] = {
    "pause-wrong-status": Fault("pause answers 200 instead of 202", ("REC-PAUSE-002",)),
    "resume-wrong-status": Fault("resume answers 200 instead of 202", ("REC-RESUME-002",)),
    "stop-wrong-status": Fault("stop answers 200 instead of 204", ("REC-STOP-002",)),
    "response-missing-state": Fault(
        "start and get omit recordingState", ("REC-START-001", "REC-GET-002")
    ),
    "wrong-enum-case": Fault("recordingState is sent as Active/Inactive", ("REC-GET-002",)),
    "pause-no-state-change": Fault(
        "pause answers 202 but the recording stays active", ("REC-STATE-004",)
    ),
    "auth-not-checked": Fault("requests without a valid signature are served", ("REC-AUTH-002",)),
    "stop-not-terminal": Fault(
        "a stopped recording still answers get, pause and resume", ("REC-STATE-008",)
    ),
    "duplicate-start-allowed": Fault(
        "a second start on a recorded call succeeds", ("REC-ERR-007",)
    ),
    "callbacks-not-sent": Fault(
        "no RecordingStateChanged callback is posted", ("REC-CALLBACK-003",)
    ),
    "repeatability-ignored": Fault(
        "a repeated Repeatability-Request-ID starts another recording", ("REC-REPEAT-003",)
    ),
    "api-version-not-checked": Fault(
        "a missing or unknown api-version is accepted", ("REC-VERSION-002",)
    ),
    "flat-error-body": Fault(
        "errors come as {code, message} without the error wrapper", ("REC-ERR-001",)
    ),
    "start-answers-active": Fault("start answers recordingState active", ("REC-STATE-001",)),
}


@dataclass
class Faults:
    """The faults switched on right now."""

    active: set[str] = field(default_factory=set)

    def __contains__(self, name: object) -> bool:
        return name in self.active
