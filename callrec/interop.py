"""Point the official Python SDK (``azure-communication-callautomation``) at the callrec emulator.

    from callrec.emulator import serve
    from callrec.interop import emulator_client

    with serve() as running, emulator_client(running) as client:
        client.start_recording(server_call_id=..., recording_content_type="audio")

SDK 1.6.0 refuses recording download and delete URLs unless they are ``https://`` on a
recording-storage host (``*.asm.skype.com`` and two Teams domains), so an emulator hands out such
URLs. `EmulatorRedirectPolicy`, an azure-core per-call policy, sends every request for one of
those hosts to the emulator instead, keeping its path and query; requests for any other host go
out unchanged. `emulator_client` builds a `CallAutomationClient` with that policy, over plain HTTP
too (``CallAutomationClient.from_connection_string`` always uses https). To add the policy to a
client you build yourself (the ``aio`` client takes it as well)::

    CallAutomationClient(endpoint, credential, per_call_policies=[EmulatorRedirectPolicy(endpoint)])

This module needs the SDK (which brings azure-core); nothing else in callrec imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

# The SDK is an optional dependency: environments without it (callrec's lint env) type-check
# these as Any; `unused-ignore` keeps environments that have it strict and quiet.
from azure.communication.callautomation import (  # type: ignore[import-not-found, unused-ignore]
    CallAutomationClient,
)
from azure.core.credentials import AzureKeyCredential  # type: ignore[import-not-found, unused-ignore]
from azure.core.pipeline import PipelineRequest  # type: ignore[import-not-found, unused-ignore]
from azure.core.pipeline.policies import (  # type: ignore[import-not-found, unused-ignore]
    SansIOHTTPPolicy,
)

from callrec.auth import ConnectionString

__all__ = ["RECORDING_HOST_SUFFIXES", "EmulatorRedirectPolicy", "emulator_client"]

# The host suffixes SDK 1.6.0 accepts for download and delete URLs
# (azure/communication/callautomation/recording_url_validator.py: ALLOWED_HOST_SUFFIXES).
RECORDING_HOST_SUFFIXES: Final = (
    ".asm.skype.com",
    ".asyncgw.teams.microsoft.com",
    ".ams.gov.teams.microsoft.us",
)


class _HasUrl(Protocol):
    url: str


RequestT = TypeVar("RequestT", bound=_HasUrl)
ResponseT = TypeVar("ResponseT")


class EmulatorRedirectPolicy(SansIOHTTPPolicy[RequestT, ResponseT]):  # type: ignore[misc, unused-ignore]
    """Send requests for recording-storage hosts to ``endpoint``, keeping path and query.

    ``endpoint`` is the emulator's (``http(s)://host:port``, as in its connection string); a path
    it carries is put before the request's path. A request whose host does not end with one of
    ``host_suffixes`` (compared without case) is left alone.
    """

    def __init__(
        self, endpoint: str, *, host_suffixes: Iterable[str] = RECORDING_HOST_SUFFIXES
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"the emulator endpoint {endpoint!r} is not an http(s) URL")
        self.endpoint = endpoint
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self._prefix = parts.path.rstrip("/")
        self.host_suffixes = tuple(suffix.lower() for suffix in host_suffixes)

    def __repr__(self) -> str:
        return f"EmulatorRedirectPolicy({self.endpoint!r})"

    def redirect(self, url: str) -> str:
        """Where a request for ``url`` goes: onto the emulator, or ``url`` unchanged."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host.endswith(self.host_suffixes):
            return url
        return urlunsplit(
            (self._scheme, self._netloc, self._prefix + parts.path, parts.query, parts.fragment)
        )

    def on_request(self, request: PipelineRequest[RequestT]) -> None:
        request.http_request.url = self.redirect(request.http_request.url)


def emulator_client(
    connection_string: str | ConnectionString,
    *,
    ca_file: str | Path | None = None,
    **kwargs: Any,
) -> CallAutomationClient:
    """A `CallAutomationClient` for an emulator, with `EmulatorRedirectPolicy` in its pipeline.

    ``connection_string`` may be ``http://`` or ``https://``. ``ca_file`` is the CA certificate to
    trust for a TLS emulator; it defaults to the ``ca_file`` of a `callrec.emulator.Running`.
    Other keyword arguments go to `CallAutomationClient` (``api_version=``, ``transport=``, ...);
    ``per_call_policies`` given there run after the redirect.
    """
    parsed = (
        connection_string
        if isinstance(connection_string, ConnectionString)
        else ConnectionString.parse(str(connection_string))
    )
    trusted = ca_file if ca_file is not None else getattr(connection_string, "ca_file", None)
    if trusted is not None:
        kwargs.setdefault("connection_verify", str(trusted))
    extra = kwargs.pop("per_call_policies", None) or []
    policies: list[Any] = [EmulatorRedirectPolicy(parsed.endpoint)]
    policies += list(extra) if isinstance(extra, Iterable) else [extra]
    client: CallAutomationClient = CallAutomationClient(
        parsed.endpoint,
        AzureKeyCredential(parsed.access_key),
        per_call_policies=policies,
        **kwargs,
    )
    return client
