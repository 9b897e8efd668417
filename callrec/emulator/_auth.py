"""Check the HMAC-SHA256 signature of a request, accepting every variant the SDKs produce."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Final

from callrec import auth

LOG = logging.getLogger("callrec.emulator")
DATE_WINDOW: Final = 15 * 60  # seconds either side of now (REC-AUTH-004)


def verify(
    access_key: str,
    method: str,
    *,
    raw_path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    extra_hosts: Iterable[str] = (),
) -> str | None:
    """None when the request is authentic, otherwise why not (for the log; never a secret)."""
    authorization = headers.get("authorization")
    date = headers.get("x-ms-date")
    body_hash = headers.get("x-ms-content-sha256")
    if not authorization or not date or not body_hash:
        return "missing Authorization, x-ms-date or x-ms-content-sha256"
    try:
        presented = auth.parse_authorization(authorization)
        sent_at = auth.parse_date(date)
    except auth.SignatureError as exc:
        return str(exc)
    if abs(time.time() - sent_at) > DATE_WINDOW:
        return f"x-ms-date {date!r} is more than 15 minutes from now"
    if not hmac.compare_digest(auth.content_hash(body), body_hash):
        return "x-ms-content-sha256 does not match the body"
    paths = auth.candidate_paths(raw_path, query)
    hosts = auth.candidate_hosts(headers, extra_hosts)
    candidates = auth.expected_signatures(
        access_key, method, paths=paths, date=date, hosts=hosts, body_hash=body_hash
    )
    for expected in candidates.values():
        if hmac.compare_digest(presented, expected):
            return None
    first = auth.string_to_sign(method, paths[0], date, hosts[0] if hosts else "", body_hash)
    LOG.warning(
        "HMAC check failed for %s %s; expected string to sign (first variant): %r",
        method,
        raw_path,
        first,
    )
    return "signature does not match"
