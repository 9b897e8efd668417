"""HMAC-SHA256 request signing as ACS does it, for clients and for servers that check it.

The string to sign is ``METHOD \\n path-and-query \\n x-ms-date;host;x-ms-content-sha256``,
keyed with the base64-decoded access key. Clients differ in small ways (which host they sign,
whether the query or the percent-encoding is kept); `candidate_strings` lists every variant the
official SDKs produce so a server can accept all of them. Nothing here logs or returns a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from typing import Final
from urllib.parse import quote, unquote, urlsplit

__all__ = [
    "EMPTY_BODY_HASH",
    "ConnectionString",
    "SignatureError",
    "content_hash",
    "sign",
    "signature",
    "string_to_sign",
]

EMPTY_BODY_HASH: Final = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
SIGNED_HEADERS: Final = "x-ms-date;host;x-ms-content-sha256"
_AUTHORIZATION: Final = re.compile(
    r"^HMAC-SHA256 SignedHeaders=(?P<headers>[^&]+)&Signature=(?P<signature>[A-Za-z0-9+/=]+)$"
)


class SignatureError(ValueError):
    """A malformed key, connection string or Authorization header (the message names which)."""


@dataclass(frozen=True)
class ConnectionString:
    """``endpoint=https://<name>.communication.azure.com/;accesskey=<base64>``, parsed."""

    endpoint: str
    access_key: str

    def __repr__(self) -> str:  # never show the key
        return f"ConnectionString(endpoint={self.endpoint!r}, access_key=<redacted>)"

    @classmethod
    def parse(cls, text: str) -> ConnectionString:
        parts: dict[str, str] = {}
        for item in text.strip().split(";"):
            if item.strip():
                name, sep, value = item.partition("=")
                if not sep:
                    raise SignatureError(f"connection string part {name.strip()!r} has no '='")
                parts[name.strip().lower()] = value.strip()
        endpoint, key = parts.get("endpoint"), parts.get("accesskey")
        if not endpoint or not key:
            raise SignatureError(
                "a connection string needs endpoint=<url> and accesskey=<base64 key>"
            )
        split = urlsplit(endpoint)
        if split.scheme not in ("http", "https") or not split.netloc:
            raise SignatureError(f"connection string endpoint {endpoint!r} is not an http(s) URL")
        decode_key(key)
        return cls(endpoint.rstrip("/"), key)

    def __str__(self) -> str:
        return f"endpoint={self.endpoint}/;accesskey={self.access_key}"


def decode_key(access_key: str) -> bytes:
    """The raw bytes of a base64 access key."""
    try:
        return base64.b64decode(access_key, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the access key is not valid base64") from None


def content_hash(body: bytes) -> str:
    """``x-ms-content-sha256`` of a body."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def string_to_sign(method: str, path_and_query: str, date: str, host: str, body_hash: str) -> str:
    return f"{method.upper()}\n{path_and_query}\n{date};{host};{body_hash}"


def signature(access_key: str, text: str) -> str:
    digest = hmac.new(decode_key(access_key), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign(
    method: str,
    url: str,
    body: bytes,
    access_key: str,
    *,
    host: str | None = None,
    date: str | None = None,
) -> dict[str, str]:
    """The headers that authenticate one request: x-ms-date, x-ms-content-sha256, Authorization.

    ``host`` defaults to the URL's host (with a non-default port), as the JS SDK signs; pass the
    resource endpoint's host to sign a request sent elsewhere (content download, delete).
    """
    split = urlsplit(url)
    path_and_query = (split.path or "/") + (f"?{split.query}" if split.query else "")
    stamp = date or formatdate(usegmt=True)
    body_hash = content_hash(body)
    text = string_to_sign(method, path_and_query, stamp, host or split.netloc, body_hash)
    signed = signature(access_key, text)
    return {
        "x-ms-date": stamp,
        "x-ms-content-sha256": body_hash,
        "Authorization": f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={signed}",
    }


def parse_authorization(value: str) -> str:
    """The signature of an ``Authorization: HMAC-SHA256 ...`` header."""
    match = _AUTHORIZATION.match(value.strip())
    if match is None:
        raise SignatureError("Authorization is not 'HMAC-SHA256 SignedHeaders=...&Signature=...'")
    if match.group("headers").lower() != SIGNED_HEADERS:
        raise SignatureError(f"SignedHeaders must be {SIGNED_HEADERS}")
    return match.group("signature")


def parse_date(value: str) -> float:
    """POSIX time of an RFC 1123 ``x-ms-date``."""
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        raise SignatureError(f"x-ms-date {value!r} is not an RFC 1123 date") from None


def candidate_paths(raw_path: str, query: str, *, content: bool = False) -> list[str]:
    """Every path-and-query a client may have signed for a request that arrived as given.

    - as sent (Python, .NET);
    - without the query, on content download/delete only (``content``: JS signs those so);
    - percent-decoded (clients built with ``decode_url``);
    - with ``=`` re-encoded as ``%3D`` (the Python async client re-encodes after signing).
    """
    with_query = raw_path + (f"?{query}" if query else "")
    variants = [with_query, *([raw_path] if content else []), unquote(with_query)]
    if "=" in raw_path:
        variants.append(raw_path.replace("=", "%3D") + (f"?{query}" if query else ""))
    return list(dict.fromkeys(variants))


def candidate_hosts(headers: Mapping[str, str], extra: Iterable[str] = ()) -> list[str]:
    """The hosts a client may have signed, each exactly as given: the Host header, x-ms-host
    (Python sends it without the port, JS with it; either way it is what they signed), extras
    such as the public host behind a proxy. A port is never stripped: the signed host keeps it."""
    values = (headers.get("host", ""), headers.get("x-ms-host", ""), *extra)
    return list(dict.fromkeys(value for value in values if value))


def path_quote(identifier: str) -> str:
    """Percent-encode an id for a path segment (ids may hold ``/``, ``+`` and ``=``)."""
    return quote(identifier, safe="")
