"""Check the HMAC-SHA256 signature of a request, accepting every variant the SDKs produce."""

from __future__ import annotations

import functools
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
    content: bool = False,
    check_body_hash: bool = True,
    check_date: bool = True,
    portless_hosts: bool = False,
) -> str | None:
    """None when the request is authentic, otherwise why not (for the log; never a secret).

    The last three exist for deliberate faults: skip the body hash or the date window, or also
    accept a signature over a host stripped of its port."""
    authorization = headers.get("authorization")
    date = headers.get("x-ms-date")
    body_hash = headers.get("x-ms-content-sha256")
    if not authorization or not date or not body_hash:
        return "missing Authorization, x-ms-date or x-ms-content-sha256"
    try:
        presented = auth.parse_authorization(authorization)
        sent_at = _parse_date(date)
    except auth.SignatureError as exc:
        return str(exc)
    if check_date and abs(time.time() - sent_at) > DATE_WINDOW:
        return f"x-ms-date {date!r} is more than 15 minutes from now"
    if check_body_hash and (
        not body_hash.isascii() or not hmac.compare_digest(auth.content_hash(body), body_hash)
    ):
        return "x-ms-content-sha256 does not match the body"
    paths = auth.candidate_paths(raw_path, query, content=content)
    hosts = auth.candidate_hosts(headers, extra_hosts)
    if portless_hosts:
        hosts += [host.rsplit(":", 1)[0] for host in hosts if host.rsplit(":", 1)[-1].isdigit()]
    # Most requests match the first candidate (as sent, Host header): stop at the first match.
    for host in hosts:
        for path in paths:
            text = auth.string_to_sign(method, path, date, host, body_hash)
            if hmac.compare_digest(presented, auth.signature(access_key, text)):
                return None
    first = auth.string_to_sign(method, paths[0], date, hosts[0] if hosts else "", body_hash)
    LOG.warning(
        "HMAC check failed for %s %s; expected string to sign (first variant): %r",
        method,
        raw_path[:200],
        first[:400],
    )
    return "signature does not match"


@functools.lru_cache(maxsize=256)
def _parse_date(value: str) -> float:
    """POSIX time of an x-ms-date; clients send the same second many times."""
    return auth.parse_date(value)
