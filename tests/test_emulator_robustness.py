"""Bad input never breaks the emulator: every answer to it is a 4xx (never 408 or 429, which
SDKs retry) with the documented error shape ``{"error": {"code", "message"}}`` as
``application/json``; never a 5xx, never a dropped connection.

Hand-picked cases first (bodies, content types, sizes, routes, methods, ids, auth headers), then
generated ones: hypothesis over the control API, and schemathesis over the recording API's
OpenAPI documents in positive and negative mode, every case HMAC-signed and sent over loopback.

Each bad request goes over a connection of its own (`send`): if one breaks the emulator, the
failure names that request, not whichever request happened to reuse the broken connection.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections import Counter
from collections.abc import Iterator, MutableMapping
from email.utils import formatdate
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis import checks as schemathesis_checks

import callrec
from callrec._specs import specs_root
from callrec.auth import EMPTY_BODY_HASH, content_hash, path_quote, sign
from callrec.client import Client, HmacAuth
from callrec.emulator import Running
from callrec.specs import api_versions
from tests.plugins.emulator import PARTICIPANTS

VERSION = "2025-06-15"
QUERY = f"?api-version={VERSION}"
RETRIED = (408, 429)  # statuses the SDKs retry: never for a deterministic client error
JSON_TYPE = {"content-type": "application/json"}
MiB = 1 << 20


# ---------------------------------------------------------------- helpers
def describe(response: httpx.Response) -> str:
    request = response.request
    return (
        f"{request.method} {request.url} -> {response.status_code} "
        f"{response.headers.get('content-type')!r} {response.content[:300]!r}"
    )


def error_of(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    """The ``error`` object of a documented error answer; fails on anything else."""
    assert 400 <= response.status_code < 500, describe(response)
    assert response.status_code not in RETRIED, describe(response)
    if statuses:
        assert response.status_code in statuses, describe(response)
    if response.request.method == "HEAD":  # a HEAD answer never has a body
        return {}
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert media_type == "application/json", describe(response)
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"not JSON: {describe(response)}") from None
    assert callrec.validate(body, "CommunicationErrorResponse") == [], describe(response)
    error: dict[str, Any] = body["error"]
    return error


FRESH: dict[str, httpx.Client] = {}  # endpoint -> a client that never reuses a connection


@pytest.fixture(scope="module", autouse=True)
def close_fresh_clients() -> Iterator[None]:
    yield
    while FRESH:
        FRESH.popitem()[1].close()


def fresh_client(emulator: Running) -> httpx.Client:
    """An httpx client without keep-alive: every request on a connection of its own (one
    client for all, as building an httpx client costs ~20 ms)."""
    if emulator.endpoint not in FRESH:
        FRESH[emulator.endpoint] = httpx.Client(
            base_url=emulator.endpoint,
            limits=httpx.Limits(max_keepalive_connections=0),
            timeout=30.0,
        )
    return FRESH[emulator.endpoint]


def send(
    emulator: Running,
    method: str,
    path: str,
    *,
    content: Any = None,
    json_body: Any = None,
    headers: dict[str, Any] | None = None,
    signed: bool = True,
    auth: httpx.Auth | None = None,
) -> httpx.Response:
    """One request over a fresh connection; a dropped connection fails the test, naming it."""
    try:
        return fresh_client(emulator).request(
            method,
            path,
            content=content,
            json=json_body,
            headers=headers,
            auth=auth or (HmacAuth(emulator.access_key) if signed else None),
        )
    except httpx.TransportError as exc:
        raise AssertionError(f"{method} {path[:200]}: the connection broke: {exc!r}") from exc


def control_call(client: Client) -> dict[str, Any]:
    return client.create_call(PARTICIPANTS)


def quote_id(identifier: str) -> str:
    """Percent-encode an id for a path segment; dot segments too (clients drop them)."""
    quoted = path_quote(identifier)
    return quoted.replace(".", "%2E") if set(identifier) == {"."} else quoted


def start_body(call: dict[str, Any]) -> dict[str, Any]:
    return {"callLocator": {"kind": "serverCallLocator", "serverCallId": call["serverCallId"]}}


# Routes that take a JSON body, on both APIs.
JSON_ROUTES = [
    "/calling/recordings" + QUERY,
    "/emulator/calls",
    "/emulator/faults",
    "/emulator/clock:advance",
]


# ---------------------------------------------------------------- bodies
MALFORMED = [
    b"{",
    b'{"callLocator": ',
    b'{"a" 1}',
    b"[1,",
    b"nul",
    b"{} trailing",
    b"{'single': 'quotes'}",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e400}',
    b"\x00",
    b'\xef\xbb\xbf{"callLocator": {}}',  # a byte order mark
    b'{"a": "\\ud800"}',  # an escaped lone surrogate
    b"[" * 100_000 + b"]" * 100_000,  # nesting far deeper than any parser allows
]


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize("body", MALFORMED, ids=lambda body: repr(body[:24]))
def test_malformed_json_is_400(emulator: Running, path: str, body: bytes) -> None:
    error = error_of(send(emulator, "POST", path, content=body, headers=JSON_TYPE), 400)
    if path.startswith("/calling/"):
        assert error["code"] == "8523"


NOT_OBJECTS = [b"[]", b"[{}]", b'"text"', b"1", b"-0.5", b"null", b"true", b"{}"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (path, body)
        for path in [*JSON_ROUTES, "/emulator/calls/{call}/participants"]
        for body in NOT_OBJECTS
        if (path, body) != ("/emulator/calls", b"{}")  # a valid call, with no participants
    ],
    ids=lambda value: value[:30] if isinstance(value, str) else value.decode(),
)
def test_json_that_is_not_the_expected_object_is_a_client_error(
    emulator: Running, client: Client, path: str, body: bytes
) -> None:
    call = control_call(client)
    target = path.replace("{call}", path_quote(call["serverCallId"]))
    error = error_of(send(emulator, "POST", target, content=body, headers=JSON_TYPE), 400, 404)
    if path.startswith("/calling/"):
        assert error["code"] == "8523"


INVALID_UTF8 = [
    b'{"callLocator": "\xff"}',
    b"\xff\xfe{\x00}\x00",  # UTF-16 with a byte order mark
    b'{"a": "\xc0\xaf"}',  # overlong encoding of "/"
    b'{"a": "\xed\xa0\x80"}',  # an encoded surrogate
    b'{"a": "\xe2\x82"}',  # truncated sequence
    b'{"\xf8\x88\x80\x80\x80": 1}',  # five-byte form
]


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize("body", INVALID_UTF8, ids=lambda body: repr(body[:16]))
def test_invalid_utf8_is_400(emulator: Running, path: str, body: bytes) -> None:
    error = error_of(send(emulator, "POST", path, content=body, headers=JSON_TYPE), 400)
    if path.startswith("/calling/"):
        assert error["code"] == "8523"


@pytest.mark.parametrize(
    "headers", [{}, JSON_TYPE, {"content-type": "text/plain"}], ids=["none", "json", "text"]
)
@pytest.mark.parametrize("body", [b"", b" ", b"\r\n\t "], ids=["empty", "space", "whitespace"])
def test_an_empty_or_blank_body_on_start_is_400_8523(
    emulator: Running, headers: dict[str, str], body: bytes
) -> None:
    answer = send(emulator, "POST", "/calling/recordings" + QUERY, content=body, headers=headers)
    if body and headers.get("content-type") == "text/plain":
        error_of(answer, 415)  # a body that says it is not JSON
    else:
        assert error_of(answer, 400)["code"] == "8523"


WRONG_TYPES = [
    "text/plain",
    "application/xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "application/json-patch+json",
    "image/png",
    "not a media type",
]


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize("content_type", WRONG_TYPES)
def test_wrong_content_type_is_415(
    emulator: Running, client: Client, path: str, content_type: str
) -> None:
    body = json.dumps(start_body(control_call(client))).encode()
    answer = send(emulator, "POST", path, content=body, headers={"content-type": content_type})
    error_of(answer, 415)


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "APPLICATION/JSON"])
def test_json_content_type_variants_are_accepted(
    emulator: Running, client: Client, content_type: str
) -> None:
    body = json.dumps(start_body(control_call(client))).encode()
    answer = send(
        emulator,
        "POST",
        "/calling/recordings" + QUERY,
        content=body,
        headers={"content-type": content_type},
    )
    assert answer.status_code == 200, describe(answer)


# ---------------------------------------------------------------- sizes
BIG_TARGETS = [
    ("POST", "/calling/recordings" + QUERY),
    ("POST", "/calling/recordings/some-id:pause" + QUERY),
    ("PUT", "/calling/recordings" + QUERY),  # a method the route lacks
    ("POST", "/calling/elsewhere"),  # no such route
    ("POST", "/emulator/calls"),
    ("POST", "/emulator/info"),  # a method the control route lacks
    ("POST", "/emulator/nowhere"),  # no such control route
]


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize(("method", "path"), BIG_TARGETS, ids=lambda v: v[:36])
def test_a_10_mib_body_gets_a_4xx_not_a_reset(
    emulator: Running, method: str, path: str, signed: bool
) -> None:
    body = b'{"pad": "' + b"x" * (10 * MiB) + b'"}'
    answer = send(emulator, method, path, content=body, headers=JSON_TYPE, signed=signed)
    error_of(answer, 401, 404, 405, 413)
    if path.startswith(("/calling/recordings", "/emulator/calls")) and method == "POST":
        assert answer.status_code in ((413,) if signed else (401, 413)), describe(answer)


def test_a_10_mib_chunked_body_gets_413_not_a_reset(emulator: Running) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10 * 16):
            yield b" " * (64 << 10)

    answer = send(
        emulator,
        "POST",
        "/calling/recordings" + QUERY,
        content=chunks(),
        headers=JSON_TYPE,
        signed=False,
    )
    error_of(answer, 413)


@pytest.mark.parametrize(("size", "status"), [(MiB, 400), (MiB + 1, 413)])
def test_the_body_limit_is_1_mib(emulator: Running, size: int, status: int) -> None:
    body = b'{"pad": "' + b"x" * (size - 11) + b'"}'
    assert len(body) == size
    error = error_of(
        send(emulator, "POST", "/calling/recordings" + QUERY, content=body, headers=JSON_TYPE),
        status,
    )
    if status == 400:
        assert error["code"] == "8523"  # read and judged as a start request: `pad` is no field


# ---------------------------------------------------------------- routes and methods
UNKNOWN_ROUTES = [
    "/",
    "/calling",
    "/calling/",
    "/calling/recording",
    "/calling/recordings/",
    "/calling/recordings/id/extra",
    "/calling/recordings/id:stop",
    "/calling/recordings/id:",
    "/calling/recordings/id/:pause",
    "/calling/recordings/id/result/more",
    "/calling//recordings",
    "/calling/conversations/c",
    "/calling/conversations/c/recordings/r/Stop",
    "/recording/download/",
    "/recording/download/d/content",
    "/CALLING/RECORDINGS",
    "/emulator",
    "/emulator/",
    "/emulator/info/more",
    "/emulator/calls/",
    "/emulator/calls/a/b/c/d",
    "/emulator/clock",
    "/emulator/clock:rewind",
    "/emulator//calls",
    "/favicon.ico",
]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
@pytest.mark.parametrize("path", UNKNOWN_ROUTES)
def test_unknown_routes_are_404_or_405(emulator: Running, path: str, method: str) -> None:
    separator = "&" if "?" in path else "?"
    error_of(send(emulator, method, path + separator + QUERY[1:]), 404, 405)


KNOWN_ROUTES = [
    ("/calling/recordings" + QUERY, {"POST"}),
    ("/calling/recordings/some-id" + QUERY, {"GET", "DELETE"}),
    ("/calling/recordings/some-id:pause" + QUERY, {"POST"}),
    ("/calling/recordings/some-id:resume" + QUERY, {"POST"}),
    ("/calling/recordings/some-id/result?api-version=2025-08-15-preview", {"GET"}),
    ("/emulator/info", {"GET"}),
    ("/emulator/reset", {"POST"}),
    ("/emulator/calls", {"POST"}),
    ("/emulator/calls/some-call", {"GET", "DELETE"}),
    ("/emulator/deliveries", {"GET"}),
    ("/emulator/clock:advance", {"POST"}),
    ("/emulator/faults", {"GET", "POST", "DELETE"}),
]
COMMON_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        (path, method)
        for path, allowed in KNOWN_ROUTES
        for method in COMMON_METHODS
        if method not in allowed and not (method == "HEAD" and "GET" in allowed)
    ],
    ids=lambda value: value[:40],
)
def test_a_method_a_route_lacks_is_405(emulator: Running, path: str, method: str) -> None:
    answer = send(emulator, method, path)
    if ":" in path.split("?", maxsplit=1)[0] and method in ("GET", "DELETE"):
        # `some-id:pause` is also a (never issued) id on GET/DELETE /calling/recordings/{id}
        error = error_of(answer, 404, 405)
        assert error.get("code") in (None, "8522", "MethodNotAllowed"), describe(answer)
        return
    error = error_of(answer, 405)
    if method != "HEAD":
        assert error["code"] == "MethodNotAllowed"


# Methods HTTP parsers accept that the emulator's router does not list (WebDAV, TRACE, ...).
RARE_METHODS = ["TRACE", "PROPFIND", "MKCOL", "PURGE"]


@pytest.mark.parametrize("method", RARE_METHODS)
@pytest.mark.parametrize(
    "path", ["/calling/recordings" + QUERY, "/calling/recordings/x" + QUERY, "/emulator/info"]
)
def test_rare_methods_get_the_documented_error_shape(
    emulator: Running, path: str, method: str
) -> None:
    error_of(send(emulator, method, path), 404, 405)


# ---------------------------------------------------------------- ids in the path
ODD_IDS = [
    "a/b",
    "a+b=",
    "==",
    "+/+/",
    "%",
    "%2F",
    "..",
    ".",
    "a b",
    "a?b=c",
    "a#b",
    "a:pause",
    "a;b",
    "\x00",
    "é漢字🙂",
    "\u202e",
    "a\tb",
    "a\rb",
    "a\nb",
    "x" * 8_192,
    "y" * 60_000,
    "aGVsbG8gd29ybGQ=",  # padded standard base64, as some examples in the definitions show
]


@pytest.mark.parametrize("operation", ["get", "pause", "resume", "stop"])
@pytest.mark.parametrize("odd", ODD_IDS, ids=lambda odd: repr(odd[:12]))
def test_odd_recording_ids_are_404_8522_with_the_path_as_target(
    emulator: Running, odd: str, operation: str
) -> None:
    method, suffix = {
        "get": ("GET", ""),
        "pause": ("POST", ":pause"),
        "resume": ("POST", ":resume"),
        "stop": ("DELETE", ""),
    }[operation]
    path = f"/calling/recordings/{quote_id(odd)}{suffix}"
    error = error_of(send(emulator, method, path + QUERY), 404)
    assert error["code"] == "8522"
    assert error.get("target") == path


@pytest.mark.parametrize("odd", ODD_IDS, ids=lambda odd: repr(odd[:12]))
def test_odd_call_ids_on_the_control_api_are_404(emulator: Running, odd: str) -> None:
    quoted = quote_id(odd)
    error_of(send(emulator, "GET", f"/emulator/calls/{quoted}"), 404)
    error_of(
        send(
            emulator,
            "POST",
            f"/emulator/calls/{quoted}/participants",
            json_body={"participant": PARTICIPANTS[0]},
        ),
        404,
    )
    error_of(send(emulator, "DELETE", f"/emulator/calls/{quoted}/participants/someone"), 404)
    error_of(send(emulator, "DELETE", f"/emulator/calls/x/participants/{quoted}"), 404)


@pytest.mark.parametrize(
    "raw",
    [
        "/calling/recordings/%ZZ",
        "/calling/recordings/%",
        "/calling/recordings/%FF%FE",
        "/calling/recordings/%C0%AF",
        "/calling/recordings/%E2%82",
        "/calling/recordings/a%00b",
        "/calling/recordings/%25%32%46",
    ],
)
def test_broken_percent_encoding_is_404_8522(emulator: Running, raw: str) -> None:
    error = error_of(send(emulator, "GET", raw + QUERY), 404)
    assert error["code"] == "8522"


def test_padded_base64_call_ids_round_trip(client: Client) -> None:
    """Server call ids are standard base64 (they may hold ``/``, ``+`` and ``=``): the control
    API finds each call by its percent-encoded id, and starts name the right call."""
    seen: set[str] = set()
    for _ in range(20):
        call = control_call(client)
        seen |= set(call["serverCallId"]) & set("/+=")
        found = client.request("GET", f"/emulator/calls/{path_quote(call['serverCallId'])}")
        assert found.status_code == 200, describe(found)
        assert found.json()["serverCallId"] == call["serverCallId"]
        started = client.start(start_body(call))
        assert started.status_code == 200, describe(started)
        assert client.get(started.json()["recordingId"]).status_code == 200
    assert "=" in seen, "20 calls should have held a padded id"


def test_a_request_line_too_long_for_the_server_is_not_a_crash(emulator: Running) -> None:
    """Past what the HTTP layer parses (uvicorn answers 400 itself) the emulator stays up."""
    host, port = emulator.endpoint.split("://", 1)[1].rsplit(":", 1)
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        try:  # the server may answer and close before it has read the whole line
            raw.sendall(b"GET /calling/recordings/" + b"z" * 200_000 + b" HTTP/1.1\r\n\r\n")
            answer = raw.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:200]
    error_of(send(emulator, "GET", "/calling/recordings/after" + QUERY), 404)


# ---------------------------------------------------------------- authentication
def signed_headers(emulator: Running, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    return sign(method, emulator.endpoint + path, body, emulator.access_key)


AUTH_CASES: dict[str, dict[str, Any]] = {
    "nothing": {"x-ms-date": None, "x-ms-content-sha256": None, "Authorization": None},
    "no Authorization": {"Authorization": None},
    "no x-ms-date": {"x-ms-date": None},
    "no x-ms-content-sha256": {"x-ms-content-sha256": None},
    "empty Authorization": {"Authorization": ""},
    "Bearer token": {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."},
    "Basic": {"Authorization": "Basic dXNlcjpwYXNz"},
    "HMAC without signature": {
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
    },
    "HMAC empty signature": {
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
    },
    "HMAC other signed headers": {"Authorization": "HMAC-SHA256 SignedHeaders=host&Signature=abc="},
    "HMAC garbage signature": {
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=!!!"
    },
    "HMAC wrong signature": {
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
        + EMPTY_BODY_HASH
    },
    "huge Authorization": {
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
        + "A" * 60_000
    },
    "garbage date": {"x-ms-date": "yesterday"},
    "ISO date": {"x-ms-date": "2026-01-01T00:00:00Z"},
    "stale date": {"x-ms-date": "Mon, 01 Jan 2001 00:00:00 GMT"},
    "far future date": {"x-ms-date": "Fri, 31 Dec 9999 23:59:59 GMT"},
    "year zero date": {"x-ms-date": "Mon, 01 Jan 0000 00:00:00 GMT"},
    "odd zone date": {"x-ms-date": "Mon, 01 Jan 2001 00:00:00 +9999"},
    "wrong content hash": {"x-ms-content-sha256": "AAAA"},
    "non-base64 content hash": {"x-ms-content-sha256": "not base64 !"},
    "non-ASCII content hash": {"x-ms-content-sha256": "é".encode("latin-1")},
    "non-ASCII date": {"x-ms-date": "lündi".encode("latin-1")},
    "non-ASCII Authorization": {
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=é".encode(
            "latin-1"
        )
    },
}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/calling/recordings/some-id" + QUERY), ("GET", "/emulator/info")],
    ids=["recording API", "control API"],
)
@pytest.mark.parametrize("case", list(AUTH_CASES))
def test_missing_or_garbage_auth_is_401_code_401(
    emulator: Running, case: str, method: str, path: str
) -> None:
    headers: dict[str, Any] = signed_headers(emulator, method, path)
    for name, value in AUTH_CASES[case].items():
        headers.pop(name, None)
        if value is not None:
            headers[name] = value
    error = error_of(send(emulator, method, path, headers=headers, signed=False), 401)
    assert error == {"code": "401", "message": "HMAC-SHA256 validation failed"}


@pytest.mark.parametrize("path", ["/calling/recordings/some-id" + QUERY, "/emulator/info"])
def test_a_non_ascii_x_ms_host_does_not_break_a_good_signature(
    emulator: Running, path: str
) -> None:
    headers: dict[str, Any] = {
        **signed_headers(emulator, "GET", path),
        "x-ms-host": "hôst".encode("latin-1"),
    }
    answer = send(emulator, "GET", path, headers=headers, signed=False)
    assert answer.status_code in (200, 404), describe(answer)


def test_a_signature_made_with_another_key_is_401(emulator: Running) -> None:
    other = HmacAuth("b3RoZXIga2V5")  # base64 of "other key"
    error = error_of(send(emulator, "GET", "/emulator/info", auth=other), 401)
    assert error["code"] == "401"


def test_a_signature_over_another_body_is_401(emulator: Running, client: Client) -> None:
    path = "/calling/recordings" + QUERY
    body = json.dumps(start_body(control_call(client))).encode()
    headers = signed_headers(emulator, "POST", path, b"{}")  # signed for another body
    headers["x-ms-content-sha256"] = content_hash(body)
    answer = send(
        emulator, "POST", path, content=body, headers={**headers, **JSON_TYPE}, signed=False
    )
    error_of(answer, 401)


# ---------------------------------------------------------------- connections cut short
class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_client_that_hangs_up_mid_body_is_not_an_internal_error(emulator: Running) -> None:
    """A client gone before its body arrived is an ordinary event: no unhandled exception
    (which uvicorn logs as "Exception in ASGI application" while the app tries to send a 500)."""
    collect = Collect()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(collect)
    try:
        host, port = emulator.endpoint.split("://", 1)[1].rsplit(":", 1)
        for path in ("/calling/recordings" + QUERY, "/emulator/calls"):
            with socket.create_connection((host, int(port)), timeout=10) as raw:
                raw.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{".encode()
                )
                time.sleep(0.05)
        error_of(send(emulator, "GET", "/calling/recordings/after" + QUERY), 404)  # still up
        time.sleep(0.2)
    finally:
        logger.removeHandler(collect)
    assert [record.getMessage() for record in collect.records] == []


# ---------------------------------------------------------------- the control API, specific cases
def test_a_huge_clock_advance_is_400_and_leaves_the_emulator_working(
    emulator: Running, client: Client
) -> None:
    for seconds in (1e12, 1e308):  # 31,700 years; more than any datetime holds
        answer = send(emulator, "POST", "/emulator/clock:advance", json_body={"seconds": seconds})
        error_of(answer, 400)
        info = send(emulator, "GET", "/emulator/info")
        assert info.status_code == 200, describe(info)
        client.reset()


@pytest.mark.parametrize("name", [["pause-wrong-status"], {"a": 1}, 1, None, True, ""])
def test_a_fault_name_that_is_not_a_string_is_a_client_error(
    emulator: Running, client: Client, name: Any
) -> None:
    error_of(send(emulator, "POST", "/emulator/faults", json_body={"name": name}), 400, 404)
    assert client.info()["activeFaults"] == []


# ---------------------------------------------------------------- the control API, generated
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
control_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            **dict.fromkeys(("participants", "participant", "kind", "name"), json_values),
            "seconds": json_values | st.floats(min_value=0, allow_infinity=False),
        },
    ),
    st.fixed_dictionaries(
        {
            "participants": st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "rawId": json_values,
                        "kind": json_values,
                        "communicationUser": json_values,
                        "phoneNumber": json_values,
                    },
                ),
                max_size=2,
            )
        }
    ),
)
segments = st.one_of(  # no control characters: ids holding those have their own tests above
    st.text(st.characters(blacklist_categories=["Cc", "Cs"]), min_size=1, max_size=30),
    st.sampled_from(["info", "calls", "faults", "reset", "participants", "x"]),
)


CONTROL_ROUTES = [
    ("POST", "/calls"),
    ("POST", "/calls/{a}/participants"),
    ("DELETE", "/calls/{a}/participants/{b}"),
    ("GET", "/calls/{a}"),
    ("DELETE", "/calls/{a}"),
    ("POST", "/clock:advance"),
    ("POST", "/faults"),
    ("DELETE", "/faults/{a}"),
    ("GET", "/{a}"),
    ("POST", "/{a}/{b}"),
]


def test_the_control_api_answers_any_json_without_a_5xx(emulator: Running) -> None:
    """Generated bodies and path segments for every control route; all examples run (no
    shrinking), and every distinct way the answers break the rules is reported."""
    problems: dict[str, str] = {}  # what broke -> the first request that broke it

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        route=st.sampled_from(CONTROL_ROUTES), first=segments, second=segments, body=control_bodies
    )
    def exercise(route: tuple[str, str], first: str, second: str, body: Any) -> None:
        method, template = route
        path = "/emulator" + template.format(a=path_quote(first), b=path_quote(second))
        fresh_start(emulator)  # each example on a fresh emulator: a failure is its own
        try:
            answer = send(emulator, method, path, json_body=body)
            broken = []
            if answer.status_code >= 400:
                try:
                    error_of(answer)
                except AssertionError:
                    broken.append(f"{answer.status_code} {answer.headers.get('content-type')}")
            info = send(emulator, "GET", "/emulator/info")
            if info.status_code != 200:
                broken.append(f"then GET /emulator/info {info.status_code}")
            if broken:
                problems.setdefault(
                    f"{method} {template} -> {', '.join(broken)}",
                    f"{method} {path[:120]} {json.dumps(body)[:200]} -> {answer.text[:100]!r}",
                )
        finally:
            fresh_start(emulator)

    exercise()
    assert not problems, "\n".join(
        f"{what}\n    e.g. {example}" for what, example in problems.items()
    )


def fresh_start(emulator: Running) -> None:
    answer = send(emulator, "POST", "/emulator/reset")
    assert answer.status_code == 204, describe(answer)


# ---------------------------------------------------------------- schemathesis
SCHEMATHESIS_VERSIONS = ["2023-03-06", "2024-04-15", "2025-06-15", "2025-08-15-preview"]
CASES = {GenerationMode.POSITIVE: 500, GenerationMode.NEGATIVE: 300}  # 3,200 in all
CHECKS = [
    schemathesis_checks.not_a_server_error,
    schemathesis_checks.status_code_conformance,
    schemathesis_checks.content_type_conformance,
    schemathesis_checks.response_schema_conformance,
]


class Pool:
    """Live calls and recordings the generated cases are steered onto, so that they reach
    the emulator's success paths too, not only its 404s."""

    def __init__(self, client: Client, version: str) -> None:
        self.calls = [control_call(client) for _ in range(6)]
        self.calls += [client.create_call(PARTICIPANTS, kind="groupCall") for _ in range(2)]
        self.recordings: list[str] = []
        for call in self.calls[:4]:
            started = client.start(start_body(call), api_version=version)
            assert started.status_code == 200, describe(started)
            self.recordings.append(started.json()["recordingId"])
        assert client.stop(self.recordings[-1], api_version=version).status_code == 204

    def steer(self, case: Any, version: str, choice: int) -> None:
        """Point a case at the version under test and at live ids (``choice`` picks which)."""
        if isinstance(case.query, MutableMapping):
            case.query["api-version"] = version
        if (
            isinstance(case.path_parameters, MutableMapping)
            and "recordingId" in case.path_parameters
        ):
            case.path_parameters["recordingId"] = self.recordings[choice % len(self.recordings)]
        call = self.calls[choice % len(self.calls)]
        if isinstance(case.body, MutableMapping):
            locator = case.body.get("callLocator")
            if isinstance(locator, MutableMapping):
                for key in ("serverCallId", "groupCallId"):
                    if key in locator and call.get(key):
                        locator[key] = call[key]
            if isinstance(case.body.get("callConnectionId"), str):
                case.body["callConnectionId"] = call["callConnectionId"]
        if isinstance(case.headers, MutableMapping) and "Repeatability-Request-ID" in case.headers:
            case.headers.setdefault("Repeatability-First-Sent", formatdate(usegmt=True))


def wire_headers(headers: dict[str, Any]) -> dict[str, bytes]:
    """Generated headers as bytes (any text, UTF-8); our signature replaces theirs."""
    return {
        name: (value if isinstance(value, bytes) else str(value).encode("utf-8"))
        for name, value in headers.items()
        if name.lower() not in ("authorization", "x-ms-date", "x-ms-content-sha256", "host")
    }


def problems_with(response: httpx.Response, case: Any) -> list[str]:
    found = []
    if response.status_code >= 500 or response.status_code in RETRIED:
        found.append("status")
    elif response.status_code >= 400 and response.request.method != "HEAD":
        try:
            error_of(response)
        except AssertionError:
            found.append("error shape")
    try:
        case.validate_response(response, checks=CHECKS)
    except BaseException as failures:  # schemathesis raises a FailureGroup (a BaseExceptionGroup)
        if not isinstance(failures, BaseExceptionGroup):
            raise
        found += [type(failure).__name__ for failure in failures.exceptions]
    return found


@pytest.mark.parametrize("mode", list(CASES), ids=lambda mode: mode.value)
@pytest.mark.parametrize("version", SCHEMATHESIS_VERSIONS)
def test_schemathesis_cases_get_no_5xx_and_documented_errors(
    emulator: Running, client: Client, version: str, mode: GenerationMode
) -> None:
    assert version in api_versions()
    document = json.loads((specs_root() / "openapi" / f"{version}.json").read_text())
    schema = schemathesis.openapi.from_dict(document)
    pool = Pool(client, version)
    sent: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    problems: list[str] = []
    signing = HmacAuth(emulator.access_key)

    # no keep-alive: a request that breaks a connection is the one reported, not the next one
    with httpx.Client(
        base_url=emulator.endpoint,
        limits=httpx.Limits(max_keepalive_connections=0),
        timeout=30.0,
    ) as http:

        @settings(
            max_examples=CASES[mode],
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=schema.as_strategy(generation_mode=mode), choice=st.integers(0, 99))
        def exercise(case: Any, choice: int) -> None:
            if choice < 80:  # most cases steered onto the version and live ids
                pool.steer(case, version, choice)
            wire = case.as_transport_kwargs(base_url=emulator.endpoint)
            content: bytes | None = None
            if "json" in wire:
                content = json.dumps(wire["json"]).encode()
            elif isinstance(wire.get("data"), str | bytes):
                data = wire["data"]
                content = data if isinstance(data, bytes) else data.encode()
            elif wire.get("data") is not None:
                sent["unsendable"] += 1
                return
            try:
                request = http.build_request(
                    wire["method"],
                    wire["url"],
                    params=wire.get("params"),
                    headers=wire_headers(wire.get("headers") or {}),
                    content=content,
                )
            except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError, TypeError):
                sent["unsendable"] += 1  # httpx refuses to build it: nothing reached the emulator
                return
            label = f"{request.method} {str(request.url)[:300]} body={request.content[:300]!r}"
            try:
                response = http.send(request, auth=signing)
            except httpx.LocalProtocolError:
                sent["unsendable"] += 1
                return
            except httpx.TransportError as exc:
                problems.append(f"connection broke: {exc!r}: {label}")
                return
            sent[case.operation.label] += 1
            statuses[response.status_code] += 1
            if (
                response.status_code in (200, 202)
                and case.operation.label == "POST /calling/recordings"
            ):
                pool.recordings.append(response.json()["recordingId"])
            answer = f"{response.status_code} {response.text[:300]!r}"
            problems.extend(
                f"{found}: {label} -> {answer}" for found in problems_with(response, case)
            )

        exercise()

    delivered = sum(count for label, count in sent.items() if label != "unsendable")
    assert delivered >= 0.9 * CASES[mode], sent  # the run was not vacuous
    assert len([label for label in sent if label != "unsendable"]) == len(
        list(schema.get_all_operations())
    )
    assert not problems, (
        f"{len(problems)} of {delivered} cases broke the rules ({dict(statuses)}); first ones:\n"
        + "\n".join(problems[:8])
    )
    assert not [status for status in statuses if status >= 500]
    if mode is GenerationMode.POSITIVE:  # steered cases reach the success paths
        assert {200, 202, 204} <= set(statuses), statuses
    assert any(400 <= status < 500 for status in statuses), statuses
