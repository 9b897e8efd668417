"""Identifiers shaped like the live service's."""

from __future__ import annotations

import base64
import json
import secrets
import uuid


def recording_id() -> str:
    """Unpadded base64url of ``{"PlatformEndpointId", "ResourceSpecificId"}`` ([A-Za-z0-9_-])."""
    body = json.dumps(
        {"PlatformEndpointId": str(uuid.uuid4()), "ResourceSpecificId": str(uuid.uuid4())},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def server_call_id() -> str:
    """Standard base64 of a conversation URL, like real server call ids (may hold / + =)."""
    url = (
        "https://api.flightproxy.skype.com/api/v2/cp/conv-emulator.callrec.local/conv/"
        f"{secrets.token_urlsafe(16)}?i={secrets.randbelow(40)}&e={secrets.randbits(60)}"
    )
    return base64.b64encode(url.encode()).decode()


def guid() -> str:
    return str(uuid.uuid4())


def document_id(index: int) -> str:
    """A storage document id like ``0-eus-d19-c0fe324c69a5b8e9b5f1b3e240dc6c8e``."""
    return f"{index}-emu-d1-{uuid.uuid4().hex}"
