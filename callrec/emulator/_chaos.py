"""Chaos: the emulator misbehaving as the service does under load, so that a client's retries,
``Retry-After`` handling and back-off can be tested against it.

Switched on at run time through ``/emulator/chaos`` (`_control`); cleared by a reset; not
persisted (it describes the moment, not the data). Unlike a fault (`_faults`), chaos breaks no
requirement: the service may throttle, be unavailable for a while, or answer slowly, and a
client must cope. So chaos is not in the fault registry that the mutation runs iterate, and it
has parameters and counters where a fault is a plain switch.

Chaos acts on every request outside the control API, recording operations and content
endpoints alike (the service throttles both), before routing and authentication: "the next N
requests" means exactly that, whatever they are. Bursts queue in the order they were switched
on; each throttled or unavailable answer uses up one request of the first burst that has any
left, and a burst whose requests are used up switches itself off.

The answers are built here, not taken from the error catalog (``specs/errors.yaml``): the
catalog holds only deterministic client errors, and its schema forbids 429 and 5xx. Their
codes and messages are the emulator's decision; the body is the documented
``CommunicationErrorResponse`` (the content endpoints answer errors with an empty body).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

from callrec.emulator._model import EmulatorError


@dataclass(frozen=True)
class Parameter:
    """One setting of a kind of chaos: a number within bounds (``None`` where ``nullable``)."""

    description: str
    default: float | None
    minimum: float
    maximum: float
    integer: bool = False
    nullable: bool = False

    def as_json(self) -> dict[str, Any]:
        kind = "integer" if self.integer else "number"
        return {
            "description": self.description,
            "type": [kind, "null"] if self.nullable else kind,
            "default": self.default,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }

    def checked(self, name: str, value: Any) -> float | None:
        if value is None and self.nullable:
            return None
        wanted = int if self.integer else int | float
        if (
            isinstance(value, bool)
            or not isinstance(value, wanted)
            or not math.isfinite(value)
            or not self.minimum <= value <= self.maximum
        ):
            kind = "an integer" if self.integer else "a number"
            raise EmulatorError(
                "invalid-request",
                f"{name} must be {kind} from {self.minimum:g} to {self.maximum:g}"
                + (" or null" if self.nullable else ""),
                name,
            )
        return value


@dataclass(frozen=True)
class Answer:
    """What a burst answers instead of the request: status, error code and message."""

    status: int
    code: str
    message: str


@dataclass(frozen=True)
class Kind:
    description: str
    parameters: dict[str, Parameter]
    answer: Answer | None = None  # bursts: the answer; None for slow-responses


BURST: Final = {
    "count": Parameter("how many requests the burst answers", 1, 1, 1_000_000, integer=True),
    "retryAfter": Parameter(
        "the Retry-After header, in seconds (null: no header)",
        1,
        0,
        3600,
        integer=True,
        nullable=True,
    ),
}

KINDS: Final[dict[str, Kind]] = {
    "throttle-burst": Kind(
        "the next `count` requests answer 429 Too Many Requests with Retry-After",
        BURST,
        Answer(429, "TooManyRequests", "Too many requests. Retry after the Retry-After delay."),
    ),
    "unavailable-burst": Kind(
        "the next `count` requests answer 503 Service Unavailable with Retry-After",
        BURST,
        Answer(503, "ServiceUnavailable", "The service is temporarily unavailable."),
    ),
    "slow-responses": Kind(
        "every request is handled at once and its answer held back `delay` seconds",
        {"delay": Parameter("seconds each answer is held back", 1.0, 0, 600)},
    ),
}


@dataclass
class Switched:
    """One kind of chaos that is on: its settings and, for a burst, the requests it has left."""

    name: str
    settings: dict[str, float | None]
    remaining: int | None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, **self.settings}
        if self.remaining is not None:
            body["remaining"] = self.remaining
        return body


@dataclass(frozen=True)
class Burst:
    """One request's burst answer: what to answer and the Retry-After (seconds) to send."""

    answer: Answer
    retry_after: int | None


@dataclass
class Chaos:
    """The chaos switched on right now, in the order it was switched on."""

    active: dict[str, Switched] = field(default_factory=dict)

    def switch_on(self, name: Any, settings: dict[str, Any]) -> None:
        """Switch ``name`` on with ``settings`` (defaults for the rest); again: replace it, last
        in the queue."""
        kind = KINDS.get(name) if isinstance(name, str) else None
        if kind is None:
            raise EmulatorError(
                "invalid-request", f"name {name!r}; known: {', '.join(sorted(KINDS))}", "name"
            )
        unknown = sorted(set(settings) - set(kind.parameters))
        if unknown:
            raise EmulatorError(
                "invalid-request",
                f"{name} has no parameter {unknown[0]!r}; it takes {', '.join(kind.parameters)}",
                unknown[0],
            )
        checked = {
            parameter: spec.checked(parameter, settings.get(parameter, spec.default))
            for parameter, spec in kind.parameters.items()
        }
        count = checked.get("count")
        self.active.pop(name, None)
        self.active[name] = Switched(
            name, checked, None if kind.answer is None or count is None else int(count)
        )

    def switch_off(self, name: str) -> bool:
        return self.active.pop(name, None) is not None

    def clear(self) -> None:
        self.active.clear()

    def take(self) -> Burst | None:
        """The burst answer for one request (using up one of its requests), or None."""
        for switched in self.active.values():
            answer = KINDS[switched.name].answer
            if answer is not None and switched.remaining is not None:
                break
        else:
            return None
        switched.remaining -= 1
        if switched.remaining <= 0:  # used up: off
            del self.active[switched.name]
        retry_after = switched.settings.get("retryAfter")
        return Burst(answer, None if retry_after is None else int(retry_after))

    def delay(self) -> float:
        """Seconds to hold back each answer (0: none)."""
        slow = self.active.get("slow-responses")
        return float(slow.settings.get("delay") or 0.0) if slow is not None else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "kinds": [
                {
                    "name": name,
                    "description": kind.description,
                    "parameters": {
                        parameter: spec.as_json() for parameter, spec in kind.parameters.items()
                    },
                }
                for name, kind in sorted(KINDS.items())
            ],
            "active": [switched.as_json() for switched in self.active.values()],
        }
