"""HMAC-SHA256 authentication (contract §4): what a correct signature is, and the ways a request
can fail it (wrong signature, key or host, stale or future date, body hash mismatch, missing
headers), each answered 401 with a documented error body. Nothing here shows a key or a
signature: failure messages hold only what the target answered."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Final
from urllib.parse import urlsplit

import httpx
import pytest

from callrec.auth import SIGNED_HEADERS, content_hash, signature, string_to_sign
from callrec.client import Client
from callrec.conformance import NotApplicable, Target
from suites.support import (
    catalog_error,
    check_error_answer,
    excerpt,
    require,
    unknown_recording_id,
)

AUTH_FAILED: Final = catalog_error("auth-failed")  # observed: 401, code "401"
SKEW: Final = timedelta(minutes=20)  # beyond the 15 minutes REC-AUTH-004 allows either way


@dataclass(frozen=True)
class Forgery:
    """How to sign a request, by default exactly right; each field bends one part.

    ``key``: sign with another key; ``date_offset``: x-ms-date that far from now (signed);
    ``date``: this x-ms-date text (signed); ``host``: sign this host; ``body_hash``: send and
    sign the hash of these bytes instead of the body's; ``path``: sign this path-and-query;
    ``garbage_signature``: send a well-formed signature of nothing; ``drop``: headers left out;
    ``authorization``: send this Authorization value instead.
    """

    key: str | None = None
    date_offset: timedelta = timedelta(0)
    date: str | None = None
    host: str | None = None
    body_hash: bytes | None = None
    path: str | None = None
    garbage_signature: bool = False
    drop: tuple[str, ...] = ()
    authorization: str | None = None
    strip_port: bool = False  # sign the host without its (non-default) port


class ForgedAuth(httpx.Auth):
    """Signs like `callrec.client.HmacAuth`, bent as a `Forgery` says."""

    requires_request_body = True

    def __init__(self, access_key: str, forgery: Forgery) -> None:
        self._key = forgery.key or access_key
        self._forgery = forgery

    def __repr__(self) -> str:
        return f"ForgedAuth({self._forgery!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        bend = self._forgery
        date = bend.date or format_datetime(datetime.now(UTC) + bend.date_offset, usegmt=True)
        body_hash = content_hash(request.content if bend.body_hash is None else bend.body_hash)
        host = bend.host or request.url.netloc.decode("ascii")
        if bend.strip_port:
            host = request.url.host
        path = bend.path or request.url.raw_path.decode("ascii")
        text = string_to_sign(request.method, path, date, host, body_hash)
        signed = (
            base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
            if bend.garbage_signature
            else signature(self._key, text)
        )
        headers = {
            "x-ms-date": date,
            "x-ms-content-sha256": body_hash,
            "Authorization": bend.authorization
            or f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={signed}",
        }
        for name, value in headers.items():
            if name not in bend.drop:
                request.headers[name] = value
        yield request


def _start_body() -> dict[str, object]:
    """A start naming a call nobody has: authenticated, it is refused 400 8501, never run."""
    return {"callLocator": {"kind": "groupCallLocator", "groupCallId": str(uuid.uuid4())}}


def _send(client: Client, target: Target, operation: str, forgery: Forgery) -> httpx.Response:
    """A get of an unknown recording, or a start on an unknown call, signed as forged."""
    auth = ForgedAuth(target.connection.access_key, forgery)
    version = client.api_version_query()
    if operation == "get":
        path = client.operation_path("GetRecordingProperties", recording_id=unknown_recording_id())
        return client.request("GET", path, params=version, auth=auth)
    path = client.operation_path("StartRecording", conversation=str(uuid.uuid4()))
    return client.request("POST", path, json=_start_body(), params=version, auth=auth)


def _other_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Refused:
    """A forged request the target must answer 401; ``code``: error.code is required to be
    '401' too (REC-AUTH-002: a missing or wrong signature)."""

    rule: str
    forgery: Forgery
    operation: str = "get"
    code: bool = False
    also: tuple[str, ...] = field(default=())


REFUSED: Final[dict[str, Refused]] = {
    "garbage-signature": Refused("REC-AUTH-002", Forgery(garbage_signature=True), code=True),
    "wrong-key": Refused("REC-AUTH-002", Forgery(key=_other_key()), code=True),
    "wrong-host": Refused(
        "REC-AUTH-002",
        Forgery(host="callrec-wrong-host.invalid"),
        code=True,
        also=("REC-AUTH-005",),
    ),
    "host-without-port": Refused(
        "REC-AUTH-002", Forgery(strip_port=True), code=True, also=("REC-AUTH-005",)
    ),
    "other-path-signed": Refused(
        "REC-AUTH-002",
        Forgery(path="/calling/recordings/someone-else?api-version=2025-06-15"),
        code=True,
        also=("REC-AUTH-005",),
    ),
    "no-authorization": Refused("REC-AUTH-002", Forgery(drop=("Authorization",)), code=True),
    "authorization-malformed": Refused(
        "REC-AUTH-002", Forgery(authorization="HMAC-SHA256 Signature=c2lnbmF0dXJl"), code=True
    ),
    "body-hash-mismatch": Refused(
        "REC-AUTH-003", Forgery(body_hash=b'{"callLocator": {}}'), operation="start"
    ),
    "no-content-hash": Refused(
        "REC-AUTH-003", Forgery(drop=("x-ms-content-sha256",)), operation="start"
    ),
    "no-date": Refused("REC-AUTH-004", Forgery(drop=("x-ms-date",))),
    "unparsable-date": Refused("REC-AUTH-004", Forgery(date="yesterday, around noon")),
    "stale-date": Refused("REC-AUTH-004", Forgery(date_offset=-SKEW)),
    "future-date": Refused("REC-AUTH-004", Forgery(date_offset=SKEW)),
}


@pytest.mark.requirement("REC-ERR-001")  # lets the plugin parametrize the versions
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(name, marks=pytest.mark.requirement(case.rule, *case.also), id=name)
        for name, case in REFUSED.items()
    ],
)
def test_bad_authentication_is_refused(
    target_client: Client, api_version: str, target: Target, case: str
) -> None:
    refused = REFUSED[case]
    if refused.forgery.strip_port and urlsplit(target.endpoint).port is None:
        raise NotApplicable(
            "the endpoint uses its scheme's default port, so its host has no port to leave out"
        )
    honest = _send(target_client, target, refused.operation, Forgery())
    require(
        honest.status_code != 401,
        f"REC-AUTH-001: the correctly signed control request ({refused.operation}) was refused: "
        f"{excerpt(honest)}",
    )
    check_error_answer(
        _send(target_client, target, refused.operation, refused.forgery),
        api_version,
        rule=refused.rule,
        what=f"a {refused.operation} with bad authentication ({case})",
        status=AUTH_FAILED[0],
        codes=[AUTH_FAILED[1]] if refused.code else (),
    )


ACCEPTED: Final[dict[str, tuple[str, Forgery]]] = {
    "as-sent": ("get", Forgery()),
    "start-with-body": ("start", Forgery()),
    "date-two-minutes-old": ("get", Forgery(date_offset=-timedelta(minutes=2))),
}


@pytest.mark.requirement("REC-AUTH-001", "REC-AUTH-005")
@pytest.mark.parametrize("case", list(ACCEPTED))
def test_correct_signature_is_accepted(target_client: Client, target: Target, case: str) -> None:
    operation, forgery = ACCEPTED[case]
    answer = _send(target_client, target, operation, forgery)
    require(
        answer.status_code != 401,
        f"REC-AUTH-001: a correctly signed {operation} ({case}, host signed with its port) was "
        f"refused: {excerpt(answer)}",
    )


@pytest.mark.requirement("REC-AUTH-005", "REC-AUTH-001")
def test_signature_over_encoded_path_is_accepted(target_client: Client) -> None:
    """The path is signed still percent-encoded: an id holding '/', '+' and '=' is sent and
    signed as %2F, %2B and %3D, and the signature holds."""
    recording_id = f"{unknown_recording_id()[:20]}/+=="
    answer = target_client.get(recording_id)
    require(
        answer.status_code != 401,
        "REC-AUTH-005: a get signed over the percent-encoded path "
        f"{answer.request.url.raw_path.decode('ascii')[:80]!r} was refused: {excerpt(answer)}",
    )
