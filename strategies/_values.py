"""Scalar values shaped like the live service's: ids, raw ids, URLs, timestamps."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

__all__ = [
    "acs_raw_ids",
    "document_ids",
    "https_urls",
    "phone_numbers",
    "recording_ids",
    "server_call_ids",
    "timestamps",
    "uuids",
]


def uuids() -> st.SearchStrategy[str]:
    """Lower-case UUID strings."""
    return st.uuids().map(str)


def acs_raw_ids() -> st.SearchStrategy[str]:
    """Communication Services user raw ids: ``8:acs:<resourceId>_<guid>``."""
    return st.tuples(st.uuids(), st.uuids()).map(lambda ids: f"8:acs:{ids[0]}_{ids[1]}")


def phone_numbers() -> st.SearchStrategy[str]:
    """E.164 numbers."""
    return st.integers(min_value=10**9, max_value=10**14 - 1).map(lambda n: f"+{n}")


def recording_ids() -> st.SearchStrategy[str]:
    """Unpadded base64url of ``{"PlatformEndpointId", "ResourceSpecificId"}``, as live ids are."""

    def encode(ids: tuple[uuid.UUID, uuid.UUID]) -> str:
        body = json.dumps(
            {"PlatformEndpointId": str(ids[0]), "ResourceSpecificId": str(ids[1])},
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")

    return st.tuples(st.uuids(), st.uuids()).map(encode)


def server_call_ids() -> st.SearchStrategy[str]:
    """Standard base64 of a conversation URL: may contain ``/``, ``+`` and ``=``."""
    paths = st.text(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=8, max_size=22
    )
    return st.tuples(paths, st.integers(0, 99)).map(
        lambda parts: base64.b64encode(
            f"https://api.flightproxy.skype.com/api/v2/cp/conv.skype.com/conv/{parts[0]}?i={parts[1]}".encode()
        ).decode()
    )


def document_ids() -> st.SearchStrategy[str]:
    """Storage document ids such as ``0-eus-d19-c0fe324c69a5b8e9b5f1b3e240dc6c8e``."""
    return st.tuples(
        st.integers(0, 9),
        st.sampled_from(["eus", "wus", "weu", "neu"]),
        st.integers(1, 30),
        st.uuids(),
    ).map(lambda p: f"{p[0]}-{p[1]}-d{p[2]}-{p[3].hex}")


def https_urls() -> st.SearchStrategy[str]:
    """Absolute https URLs."""
    hosts = st.sampled_from(["contoso.example.com", "hooks.example.net", "127.0.0.1:8443"])
    segments = st.lists(
        st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12), max_size=3
    )
    return st.tuples(hosts, segments).map(lambda p: f"https://{p[0]}/" + "/".join(p[1]))


def timestamps() -> st.SearchStrategy[str]:
    """RFC 3339 UTC timestamps with 0 to 7 fractional digits, like the service's."""
    moments = st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2030, 12, 31))
    digits = st.integers(0, 7)

    def render(parts: tuple[datetime, int]) -> str:
        moment, precision = parts
        text = moment.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S")
        fraction = f"{moment.microsecond:06d}0"[:precision]
        return f"{text}.{fraction}Z" if precision else f"{text}Z"

    return st.tuples(moments, digits).map(render)


def later(start: str, milliseconds: int) -> str:
    """A timestamp ``milliseconds`` after ``start`` (both RFC 3339, Z)."""
    moment = datetime.fromisoformat(start.replace("Z", "+00:00")) + timedelta(
        milliseconds=milliseconds
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
