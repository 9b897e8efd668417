"""The records of a run's ``results.jsonl`` as typed, frozen values (read by `_results`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Exchange:
    method: str
    path: str
    operation: str | None
    status: int
    latency_ms: float
    request_body: Any
    response_body: Any
    at: float | None


@dataclass(frozen=True, slots=True)
class Delivery:
    source: str
    event_type: str
    schema: str | None
    body: Any
    at: float | None


@dataclass(frozen=True, slots=True)
class Transition:
    before: str
    operation: str
    after: str
    ok: bool
    at: float | None


@dataclass(frozen=True, slots=True)
class Channel:
    participant: str | None
    energy: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Audio:
    window_ms: float
    channels: tuple[Channel, ...]
    at: float | None


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    at: float | None


Evidence = Exchange | Delivery | Transition | Audio | Note


@dataclass(frozen=True, slots=True)
class Header:
    run_id: str
    endpoint: str | None
    kind: str | None
    api_versions: tuple[str, ...]
    selection: str | None
    callrec_version: str
    spec_profile: str | None
    started: str


@dataclass(frozen=True, slots=True)
class TestRecord:
    line: int
    test: str
    requirements: tuple[str, ...]
    api_version: str | None
    status: str
    message: str
    pointer: str | None
    hint: str | None
    duration: float
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class RequirementRecord:
    line: int
    id: str
    api_version: str
    status: str
    tests: tuple[str, ...]
    message: str
    level: str | None
    statement: str | None

    @property
    def tested(self) -> bool:
        return bool(self.tests)


@dataclass(frozen=True, slots=True)
class Footer:
    totals: dict[str, int]
    exchanges: int
    seconds: float
    finished: str | None


@dataclass(frozen=True, slots=True)
class Run:
    """One conformance run: where it was read from and its records in file order."""

    path: Path
    header: Header
    tests: tuple[TestRecord, ...]
    requirements: tuple[RequirementRecord, ...]
    footer: Footer | None
    derived: bool = False  # requirement records were computed here: the file had none
    versions: tuple[str, ...] = field(default=())

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def seconds(self) -> float:
        if self.footer is not None:
            return self.footer.seconds
        return sum(test.duration for test in self.tests)

    def started_at(self) -> float | None:
        """The run's start as POSIX seconds, when the header's timestamp parses."""
        try:
            return datetime.fromisoformat(self.header.started).timestamp()
        except ValueError:
            return None
