"""The emulator-only control API under ``/emulator/``: calls, clock, faults, chaos, deliveries.

Authenticated like the recording API (HMAC with the same key); no api-version.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from callrec import validate
from callrec._version import __version__
from callrec.emulator import _eventgrid
from callrec.emulator._chaos import KINDS
from callrec.emulator._faults import REGISTRY
from callrec.emulator._http import empty_response, json_response, parse_json
from callrec.emulator._model import EmulatorError
from callrec.emulator._state import Emulator

CLOCK_LIMIT: Final = 100 * 365 * 24 * 3600  # seconds the clock may move ahead in all

Control = Callable[["Emulator", Request, dict[str, Any], bytes], Awaitable[Response]]


def _json(body: bytes, request: Request) -> Any:
    return parse_json(body, request)


def _identifier(value: Any, where: str) -> dict[str, Any]:
    failures = validate(value, "CommunicationIdentifierModel")
    if failures:
        raise EmulatorError(
            "invalid-request", f"{where}{failures[0].pointer}: {failures[0].message}", where
        )
    return dict(value)


async def info(
    emulator: Emulator, _request: Request, _params: dict[str, Any], _body: bytes
) -> Response:
    settings = emulator.settings
    return json_response(
        {
            "name": "callrec-emulator",
            "version": __version__,
            "apiVersions": settings.supported(),
            "features": {
                "asyncStart": settings.async_start,
                "strict": not settings.loose,
                "activationDelay": settings.activation_delay,
                "controlApi": True,
            },
            "faults": sorted(REGISTRY),
            "activeFaults": sorted(emulator.faults.active),
            "chaos": sorted(KINDS),
            "activeChaos": list(emulator.chaos.active),
            "now": emulator.clock.iso(emulator.clock.now()),
        }
    )


async def reset(
    emulator: Emulator, _request: Request, _params: dict[str, Any], _body: bytes
) -> Response:
    emulator.reset()
    return empty_response(204)


async def create_call(
    emulator: Emulator, request: Request, _params: dict[str, Any], body: bytes
) -> Response:
    payload = _json(body, request)
    if not isinstance(payload, dict):
        raise EmulatorError("invalid-request", "expected {participants: [...], kind}")
    participants = payload.get("participants", [])
    kind = payload.get("kind", "serverCall")
    if not isinstance(participants, list) or kind not in ("serverCall", "groupCall"):
        raise EmulatorError(
            "invalid-request", "participants must be a list; kind serverCall or groupCall"
        )
    people = [
        _identifier(person, f"/participants/{index}") for index, person in enumerate(participants)
    ]
    call = emulator.model.create_call(people, group=kind == "groupCall")
    return json_response(call.as_json(), 201)


async def get_call(
    emulator: Emulator, _request: Request, params: dict[str, Any], _body: bytes
) -> Response:
    return json_response(emulator.model.call(params["call"]).as_json())


async def end_call(
    emulator: Emulator, _request: Request, params: dict[str, Any], _body: bytes
) -> Response:
    emulator.report(emulator.model.end_call(params["call"], emulator.clock.now()))
    return empty_response(204)


async def add_participant(
    emulator: Emulator, request: Request, params: dict[str, Any], body: bytes
) -> Response:
    payload = _json(body, request)
    person = _identifier(
        payload.get("participant") if isinstance(payload, dict) else None, "/participant"
    )
    return json_response(emulator.model.add_participant(params["call"], person).as_json())


async def remove_participant(
    emulator: Emulator, _request: Request, params: dict[str, Any], _body: bytes
) -> Response:
    return json_response(
        emulator.model.remove_participant(params["call"], params["participant"]).as_json()
    )


async def deliveries(
    emulator: Emulator, _request: Request, _params: dict[str, Any], _body: bytes
) -> Response:
    return json_response({"deliveries": list(emulator.deliveries.log)})


async def advance_clock(
    emulator: Emulator, request: Request, _params: dict[str, Any], body: bytes
) -> Response:
    payload = _json(body, request)
    seconds = payload.get("seconds") if isinstance(payload, dict) else None
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not 0 <= seconds <= CLOCK_LIMIT
    ):
        raise EmulatorError("invalid-request", 'expected {"seconds": a number >= 0}', "seconds")
    if emulator.clock.offset + seconds > CLOCK_LIMIT:
        raise EmulatorError(
            "invalid-request", "the clock cannot move more than 100 years ahead", "seconds"
        )
    emulator.clock.advance(float(seconds))
    emulator.wake.set()
    return json_response({"now": emulator.clock.iso(emulator.clock.now())})


async def list_faults(
    emulator: Emulator, _request: Request, _params: dict[str, Any], _body: bytes
) -> Response:
    return json_response(
        {
            "faults": [
                {
                    "name": name,
                    "description": fault.description,
                    "breaks": list(fault.breaks),
                    "active": name in emulator.faults,
                }
                for name, fault in sorted(REGISTRY.items())
            ],
        }
    )


async def add_fault(
    emulator: Emulator, request: Request, _params: dict[str, Any], body: bytes
) -> Response:
    payload = _json(body, request)
    name = payload.get("name") if isinstance(payload, dict) else None
    if not isinstance(name, str) or name not in REGISTRY:
        raise EmulatorError("fault-not-found", f"{name!r}; known: {', '.join(sorted(REGISTRY))}")
    emulator.faults.active.add(name)
    return await list_faults(emulator, request, {}, b"")


async def clear_faults(
    emulator: Emulator, _request: Request, _params: dict[str, Any], _body: bytes
) -> Response:
    emulator.faults.active.clear()
    return empty_response(204)


async def remove_fault(
    emulator: Emulator, _request: Request, params: dict[str, Any], _body: bytes
) -> Response:
    if params["fault"] not in emulator.faults.active:
        raise EmulatorError("fault-not-found", f"{params['fault']!r} is not active")
    emulator.faults.active.discard(params["fault"])
    return empty_response(204)


async def list_chaos(
    emulator: Emulator, _request: Request, _params: dict[str, Any], _body: bytes
) -> Response:
    return json_response(emulator.chaos.as_json())


async def add_chaos(
    emulator: Emulator, request: Request, _params: dict[str, Any], body: bytes
) -> Response:
    payload = _json(body, request)
    if not isinstance(payload, dict):
        raise EmulatorError("invalid-request", 'expected {"name": ..., parameters...}')
    settings = {key: value for key, value in payload.items() if key != "name"}
    emulator.chaos.switch_on(payload.get("name"), settings)
    return await list_chaos(emulator, request, {}, b"")


async def clear_chaos(
    emulator: Emulator, _request: Request, _params: dict[str, Any], _body: bytes
) -> Response:
    emulator.chaos.clear()
    return empty_response(204)


async def remove_chaos(
    emulator: Emulator, _request: Request, params: dict[str, Any], _body: bytes
) -> Response:
    if not emulator.chaos.switch_off(params["name"]):
        raise EmulatorError("route-not-found", f"chaos {params['name']!r} is not on")
    return empty_response(204)


# (method, path below /emulator with <name> segments) -> handler. A <call> segment is a
# percent-encoded server call id (it may hold "/", "+" and "=").
CONTROL: Final[dict[tuple[str, str], Control]] = {
    ("GET", "/info"): info,
    ("POST", "/reset"): reset,
    ("POST", "/calls"): create_call,
    ("GET", "/calls/<call>"): get_call,
    ("DELETE", "/calls/<call>"): end_call,
    ("POST", "/calls/<call>/participants"): add_participant,
    ("DELETE", "/calls/<call>/participants/<participant>"): remove_participant,
    ("GET", "/deliveries"): deliveries,
    ("POST", "/clock:advance"): advance_clock,
    ("GET", "/faults"): list_faults,
    ("POST", "/faults"): add_fault,
    ("DELETE", "/faults"): clear_faults,
    ("DELETE", "/faults/<fault>"): remove_fault,
    ("GET", "/chaos"): list_chaos,
    ("POST", "/chaos"): add_chaos,
    ("DELETE", "/chaos"): clear_chaos,
    ("DELETE", "/chaos/<name>"): remove_chaos,
    ("POST", "/eventgrid/subscriptions"): _eventgrid.create_subscription,
    ("GET", "/eventgrid/subscriptions"): _eventgrid.list_subscriptions,
    ("GET", "/eventgrid/subscriptions/<subscription>"): _eventgrid.get_subscription,
    ("DELETE", "/eventgrid/subscriptions/<subscription>"): _eventgrid.delete_subscription,
}


def match(method: str, raw_path: str) -> tuple[Control, dict[str, Any]]:
    """The control handler for a raw (percent-encoded) path below /emulator."""
    parts = raw_path.split("/")
    path_matched = False
    for (route_method, template), handler in CONTROL.items():
        pattern = template.split("/")
        if len(pattern) != len(parts):
            continue
        params: dict[str, Any] = {}
        for want, got in zip(pattern, parts, strict=True):
            if want.startswith("<"):
                if not got:
                    break
                params[want[1:-1]] = unquote(got)
            elif want != got:
                break
        else:
            path_matched = True
            if route_method == method:
                return handler, params
    raise EmulatorError(
        "method-not-allowed" if path_matched else "route-not-found", f"{method} /emulator{raw_path}"
    )
