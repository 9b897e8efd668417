"""HMAC signing and checking: the client side (`callrec.auth`, `callrec.client.HmacAuth`) and
the emulator's verification of every variant the official SDKs produce (contract digest §4)."""

from __future__ import annotations

import base64
import re
from email.utils import formatdate

import httpx
import pytest

from callrec import auth
from callrec.client import HmacAuth
from callrec.emulator._auth import verify

KEY = base64.b64encode(b"k" * 64).decode()
OTHER_KEY = base64.b64encode(b"x" * 64).decode()


def _check(
    method: str,
    raw_path: str,
    query: str,
    headers: dict[str, str],
    body: bytes = b"",
    key: str = KEY,
) -> str | None:
    return verify(
        key,
        method,
        raw_path=raw_path,
        query=query,
        content=raw_path.startswith("/v1/objects/"),
        headers={k.lower(): v for k, v in headers.items()},
        body=body,
    )


def test_empty_body_hash_is_the_documented_constant() -> None:
    assert auth.content_hash(b"") == auth.EMPTY_BODY_HASH


def test_signature_matches_an_independent_computation() -> None:
    import hashlib
    import hmac

    text = (
        "GET\n/calling/recordings/abc?api-version=2025-06-15\nSat, 21 Nov 2026 10:00:00 GMT;example.com;"
        + (auth.EMPTY_BODY_HASH)
    )
    expected = base64.b64encode(
        hmac.new(base64.b64decode(KEY), text.encode(), hashlib.sha256).digest()
    ).decode()
    headers = auth.sign(
        "GET",
        "https://example.com/calling/recordings/abc?api-version=2025-06-15",
        b"",
        KEY,
        date="Sat, 21 Nov 2026 10:00:00 GMT",
    )
    assert (
        headers["Authorization"]
        == f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={expected}"
    )


def test_signed_request_verifies_and_tampering_fails() -> None:
    body = b'{"callLocator": {}}'
    headers = {
        "host": "127.0.0.1:8080",
        **auth.sign("POST", "http://127.0.0.1:8080/calling/recordings?api-version=x", body, KEY),
    }
    assert _check("POST", "/calling/recordings", "api-version=x", headers, body) is None
    assert (
        _check("POST", "/calling/recordings", "api-version=y", headers, body)
        == "signature does not match"
    )
    assert (
        _check("PUT", "/calling/recordings", "api-version=x", headers, body)
        == "signature does not match"
    )
    assert (
        _check("POST", "/calling/recordings", "api-version=x", headers, body, key=OTHER_KEY)
        is not None
    )
    assert "does not match the body" in str(
        _check("POST", "/calling/recordings", "api-version=x", headers, b"{}")
    )


def test_host_must_keep_a_non_default_port() -> None:
    signed_without_port = auth.sign("GET", "http://127.0.0.1/x", b"", KEY)
    assert _check("GET", "/x", "", {"host": "127.0.0.1:9000", **signed_without_port}) is not None


@pytest.mark.parametrize(
    ("x_ms_host", "signed_host", "signed_path"),
    [
        (
            "contoso.communication.azure.com",
            "contoso.communication.azure.com",
            "/v1/objects/d/content/audio?a=1",
        ),  # Python
        (
            "127.0.0.1:8443",
            "127.0.0.1:8443",
            "/v1/objects/d/content/audio",
        ),  # JS: port kept, query dropped
    ],
)
def test_content_requests_accept_each_sdks_x_ms_host_variant(
    x_ms_host: str, signed_host: str, signed_path: str
) -> None:
    headers = auth.sign("GET", f"https://{signed_host}{signed_path}", b"", KEY, host=signed_host)
    headers |= {"host": "us-storage.asm.skype.com", "x-ms-host": x_ms_host}
    assert _check("GET", "/v1/objects/d/content/audio", "a=1", headers) is None


def test_percent_encoded_paths_are_checked_as_sent_or_decoded() -> None:
    raw = "/calling/recordings/ab%2Bc%3D"
    as_sent = auth.sign("GET", f"http://h{raw}?api-version=v", b"", KEY) | {"host": "h"}
    assert _check("GET", raw, "api-version=v", as_sent) is None
    decoded = auth.sign("GET", "http://h/calling/recordings/ab+c=?api-version=v", b"", KEY) | {
        "host": "h"
    }
    assert _check("GET", raw, "api-version=v", decoded) is None


def test_python_async_reencoding_of_equals_is_accepted() -> None:
    # signed with %3D, sent with "=" (the async client rewrites after signing)
    signed = auth.sign("GET", "http://h/calling/recordings/abc%3D?api-version=v", b"", KEY) | {
        "host": "h"
    }
    assert _check("GET", "/calling/recordings/abc=", "api-version=v", signed) is None


@pytest.mark.parametrize("minutes", [-16, 16])
def test_dates_outside_fifteen_minutes_fail(minutes: int) -> None:
    import time

    date = formatdate(time.time() + minutes * 60, usegmt=True)
    headers = auth.sign("GET", "http://h/x", b"", KEY, date=date) | {"host": "h"}
    assert "15 minutes" in str(_check("GET", "/x", "", headers))


def test_dates_within_fifteen_minutes_pass() -> None:
    import time

    date = formatdate(time.time() - 14 * 60, usegmt=True)
    headers = auth.sign("GET", "http://h/x", b"", KEY, date=date) | {"host": "h"}
    assert _check("GET", "/x", "", headers) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"authorization": None}, "missing"),
        ({"x-ms-date": None}, "missing"),
        ({"x-ms-content-sha256": None}, "missing"),
        ({"authorization": "Bearer abc"}, "HMAC-SHA256 SignedHeaders"),
        (
            {"authorization": "HMAC-SHA256 SignedHeaders=host&Signature=abc="},
            "SignedHeaders must be",
        ),
        ({"x-ms-date": "yesterday"}, "not an RFC 1123 date"),
    ],
)
def test_malformed_headers_say_why(change: dict[str, str | None], reason: str) -> None:
    headers: dict[str, str] = auth.sign("GET", "http://h/x", b"", KEY) | {"host": "h"}
    for name, value in change.items():
        headers = {k: v for k, v in headers.items() if k.lower() != name}
        if value is not None:
            headers[name] = value
    assert reason in str(_check("GET", "/x", "", headers))


def test_connection_string_parsing_and_redaction() -> None:
    parsed = auth.ConnectionString.parse(
        f"endpoint=https://res.communication.azure.com/;accesskey={KEY}"
    )
    assert parsed.endpoint == "https://res.communication.azure.com"
    assert KEY not in repr(parsed)
    assert str(parsed) == f"endpoint=https://res.communication.azure.com/;accesskey={KEY}"
    assert auth.ConnectionString.parse(
        f"AccessKey={KEY};Endpoint=http://127.0.0.1:1/"
    ) == auth.ConnectionString("http://127.0.0.1:1", KEY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("endpoint=https://x/", "needs endpoint=<url> and accesskey"),
        ("accesskey=abc=", "needs endpoint=<url> and accesskey"),
        (f"endpoint=ftp://x/;accesskey={KEY}", "is not an http(s) URL"),
        ("endpoint=https://x/;accesskey=not*base64", "not valid base64"),
        ("endpoint https://x", "has no '='"),
    ],
)
def test_bad_connection_strings_name_the_problem_without_the_key(text: str, message: str) -> None:
    with pytest.raises(auth.SignatureError, match=re.escape(message)) as error:
        auth.ConnectionString.parse(text)
    assert "base64" in message or KEY not in str(error.value)


def test_httpx_auth_signs_the_raw_path_and_query_as_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    with httpx.Client(
        transport=httpx.MockTransport(handler), base_url="http://127.0.0.1:7000"
    ) as http:
        http.post(
            "/calling/recordings/a%2Fb:pause",
            params={"api-version": "2025-06-15"},
            auth=HmacAuth(KEY),
        )
    [request] = seen
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert (
        _check("POST", "/calling/recordings/a%2Fb:pause", "api-version=2025-06-15", headers) is None
    )
    assert KEY not in repr(HmacAuth(KEY))


def test_a_signature_without_the_query_counts_on_content_requests_only() -> None:
    """JS signs downloads without their query; on recording operations the query (the
    api-version) is part of what is signed, so a signature without it is refused."""
    for path, accepted in (("/v1/objects/d/content/audio", True), ("/calling/recordings/r", False)):
        headers = auth.sign("GET", f"https://h{path}", b"", KEY, host="h")
        outcome = _check("GET", path, "api-version=2025-06-15", {**headers, "host": "h"})
        assert (outcome is None) is accepted, (path, outcome)
