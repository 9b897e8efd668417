"""A small HMAC-signing HTTP client for a Call Recording endpoint and the emulator's control API.

Needs the ``emulator`` extra (httpx). The suites and the self-tests use it; it sends exactly
what it is told (no retries, no validation), so it can also send wrong things on purpose.
"""

from __future__ import annotations

import functools
import ssl
import urllib.request
from collections.abc import Callable, Generator, Mapping
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx

from callrec._specs import profiles, takes_api_version
from callrec.auth import (
    SIGNED_HEADERS,
    ConnectionString,
    content_hash,
    path_quote,
    signature,
    string_to_sign,
)

__all__ = ["Client", "HmacAuth"]


class HmacAuth(httpx.Auth):
    """Signs each request as ACS expects, over the path and query exactly as sent."""

    requires_request_body = True

    def __init__(
        self, access_key: str, *, host: str | None = None, date: str | None = None
    ) -> None:
        self._key = access_key
        self._host = host
        self._date = date

    def __repr__(self) -> str:
        return "HmacAuth(<redacted>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        date = self._date or formatdate(usegmt=True)
        body_hash = content_hash(request.content)
        host = self._host or request.url.netloc.decode("ascii")
        text = string_to_sign(
            request.method, request.url.raw_path.decode("ascii"), date, host, body_hash
        )
        request.headers["x-ms-date"] = date
        request.headers["x-ms-content-sha256"] = body_hash
        request.headers["Authorization"] = (
            f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={signature(self._key, text)}"
        )
        yield request


Wrapper = Callable[[httpx.BaseTransport], httpx.BaseTransport]


class Client:
    """Recording operations and emulator control calls against one endpoint.

    ``verify``: True (the system's CAs), False, or a CA file (PEM) to trust. ``transport``:
    wraps the transport every request goes through (proxies from the environment included),
    e.g. to count, pace or retry them.
    """

    def __init__(
        self,
        connection_string: str | ConnectionString,
        *,
        api_version: str = "2025-06-15",
        verify: bool | str | Path = True,
        timeout: float = 10.0,
        transport: Wrapper | None = None,
    ) -> None:
        parsed = (
            connection_string
            if isinstance(connection_string, ConnectionString)
            else ConnectionString.parse(str(connection_string))
        )
        self.endpoint = parsed.endpoint
        self.api_version = api_version
        self._key = parsed.access_key
        # recording id -> the conversation it was started under (the 2021 conversations API
        # names a recording by both); ids this client did not start get NO_CONVERSATION
        self.conversations: dict[str, str] = {}
        trust: bool | ssl.SSLContext
        if verify is True:
            trust = _default_trust()  # building one costs ~20 ms: clients share it
        elif verify is False:
            trust = False
        else:
            trust = _trust_from(str(verify))
        if transport is None:
            self.http = httpx.Client(base_url=self.endpoint, verify=trust, timeout=timeout)
            return
        # httpx leaves the environment's proxies out when given a transport: mount them here
        self.http = httpx.Client(
            base_url=self.endpoint,
            timeout=timeout,
            transport=transport(httpx.HTTPTransport(verify=trust)),
            mounts=_proxy_mounts(transport, trust) or None,
        )

    def __repr__(self) -> str:
        return f"Client({self.endpoint!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        signed: bool = True,
    ) -> httpx.Response:
        """One request; ``path`` is sent as given (the helpers below percent-encode ids)."""
        chosen: httpx.Auth | None = auth or (HmacAuth(self._key) if signed else None)
        return self.http.request(
            method,
            path,
            json=json,
            content=content,
            headers=headers,
            params=params,
            auth=chosen or httpx.USE_CLIENT_DEFAULT,
        )

    def _versioned(self, api_version: str | None) -> dict[str, str]:
        version = api_version or self.api_version
        if version in profiles() and not takes_api_version(version):
            return {}  # a generation that documents no api-version parameter
        return {"api-version": version}

    # ------------------------------------------------------------ recording operations
    def operation_path(
        self,
        operation_id: str,
        api_version: str | None = None,
        recording_id: str = "",
        *,
        conversation: str | None = None,
    ) -> str:
        """Where ``api_version`` serves the operation, as its profile says (CallingServer's
        ``/:pause`` or Call Automation's ``:pause``); for a version without the operation,
        where the newest version that has it serves it (so a test can check it is absent).
        ``conversation``: the call of a 2021 conversations API path (default: the one the
        recording was started under)."""
        return operation_path(
            operation_id,
            api_version or self.api_version,
            recording_id,
            conversation or self.conversations.get(recording_id, NO_CONVERSATION),
        )

    def api_version_query(self, api_version: str | None = None) -> dict[str, str]:
        """The query naming the version (none for a generation without the parameter)."""
        return self._versioned(api_version)

    def _operation(
        self,
        operation_id: str,
        recording_id: str = "",
        *,
        api_version: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        version = api_version or self.api_version
        method, path = _operation(operation_id, version)
        conversation = self.conversations.get(recording_id, NO_CONVERSATION)
        starts_conversation = "{conversationId}" in path and operation_id == "StartRecording"
        if starts_conversation:
            conversation, body = _conversation_start(body)
        answer = self.request(
            method,
            path.format(
                recordingId=path_quote(recording_id), conversationId=path_quote(conversation)
            ),
            json=body,
            params=self._versioned(version),
            headers=headers,
        )
        if starts_conversation:
            started = _json_or_none(answer)
            if isinstance(started, dict) and isinstance(started.get("recordingInstanceId"), str):
                self.conversations[started["recordingInstanceId"]] = conversation
        return answer

    def start(
        self, body: Any, *, api_version: str | None = None, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        return self._operation(
            "StartRecording", api_version=api_version, body=body, headers=headers
        )

    def get(self, recording_id: str, *, api_version: str | None = None) -> httpx.Response:
        return self._operation("GetRecordingProperties", recording_id, api_version=api_version)

    def pause(self, recording_id: str, *, api_version: str | None = None) -> httpx.Response:
        return self._operation("PauseRecording", recording_id, api_version=api_version)

    def resume(self, recording_id: str, *, api_version: str | None = None) -> httpx.Response:
        return self._operation("ResumeRecording", recording_id, api_version=api_version)

    def stop(self, recording_id: str, *, api_version: str | None = None) -> httpx.Response:
        return self._operation("StopRecording", recording_id, api_version=api_version)

    def result(
        self, recording_id: str, *, api_version: str = "2025-08-15-preview"
    ) -> httpx.Response:
        return self._operation("GetRecordingResult", recording_id, api_version=api_version)

    # ------------------------------------------------------------ emulator control API
    def _control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.request(method, f"/emulator{path}", json=body)
        if response.status_code >= 400:
            raise RuntimeError(
                f"emulator control {method} {path} failed: {response.status_code} {response.text}"
            )
        return response.json() if response.content else None

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = self._control("GET", "/info")
        return result

    def reset(self) -> None:
        self._control("POST", "/reset")

    def create_call(
        self, participants: list[dict[str, Any]], kind: str = "serverCall"
    ) -> dict[str, Any]:
        call: dict[str, Any] = self._control(
            "POST", "/calls", {"participants": participants, "kind": kind}
        )
        return call

    def end_call(self, server_call_id: str) -> None:
        self._control("DELETE", f"/calls/{path_quote(server_call_id)}")

    def add_participant(self, server_call_id: str, participant: dict[str, Any]) -> dict[str, Any]:
        call: dict[str, Any] = self._control(
            "POST",
            f"/calls/{path_quote(server_call_id)}/participants",
            {"participant": participant},
        )
        return call

    def remove_participant(self, server_call_id: str, raw_id: str) -> dict[str, Any]:
        call: dict[str, Any] = self._control(
            "DELETE", f"/calls/{path_quote(server_call_id)}/participants/{path_quote(raw_id)}"
        )
        return call

    def deliveries(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._control("GET", "/deliveries")["deliveries"]
        return found

    def advance_clock(self, seconds: float) -> str:
        now: str = self._control("POST", "/clock:advance", {"seconds": seconds})["now"]
        return now

    def set_fault(self, name: str) -> None:
        self._control("POST", "/faults", {"name": name})

    def clear_faults(self) -> None:
        self._control("DELETE", "/faults")


@functools.cache
def _default_trust() -> ssl.SSLContext:
    """The certificate checks httpx applies by default, built once per process."""
    return httpx.create_ssl_context()


def _proxy_mounts(
    wrap: Wrapper, trust: bool | ssl.SSLContext
) -> dict[str, httpx.BaseTransport | None]:
    """HTTP(S)_PROXY, ALL_PROXY and NO_PROXY as httpx reads them, each proxy wrapped."""
    found = urllib.request.getproxies()
    bypass = [host.strip() for host in found.get("no", "").split(",") if host.strip()]
    if "*" in bypass:
        return {}
    mounts: dict[str, httpx.BaseTransport | None] = {
        f"{scheme}://": wrap(
            httpx.HTTPTransport(verify=trust, proxy=url if "://" in url else f"http://{url}")
        )
        for scheme in ("http", "https", "all")
        if (url := found.get(scheme))
    }
    for host in bypass if mounts else ():
        if "://" in host:
            mounts[host] = None
        elif ":" in host:  # IPv6
            mounts[f"all://[{host.strip('[]')}]"] = None
        elif host == "localhost" or host.replace(".", "").isdigit():
            mounts[f"all://{host}"] = None
        else:
            mounts[f"all://*{host}"] = None
    return mounts


@functools.cache
def _trust_from(ca_file: str) -> ssl.SSLContext:
    """Certificate checks trusting a CA file, built once per process and file."""
    return ssl.create_default_context(cafile=ca_file)


NO_CONVERSATION = "-"  # the conversation of a recording id this client did not start


def _conversation_start(body: Any) -> tuple[str, Any]:
    """A Call Automation start body as the 2021 conversations API takes it: the call its
    callLocator names (server call id, else group call id) goes into the path, the rest of
    the body stays as it is (so a field that version lacks is still sent, and refused)."""
    if not isinstance(body, dict) or not isinstance(body.get("callLocator"), dict):
        return NO_CONVERSATION, body
    locator = body["callLocator"]
    conversation = locator.get("serverCallId") or locator.get("groupCallId") or NO_CONVERSATION
    rest = {name: value for name, value in body.items() if name != "callLocator"}
    return str(conversation), rest


def _json_or_none(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _operation(operation_id: str, api_version: str) -> tuple[str, str]:
    """(method, path template) of the operation in ``api_version``, else in the newest
    version that has it."""
    found = profiles().get(api_version, {}).get("operations", {}).get(operation_id)
    if found is None:
        having = [
            p["operations"][operation_id]
            for p in profiles().values()
            if operation_id in p["operations"]
        ]
        if not having:
            raise ValueError(f"no api-version has an operation {operation_id!r}")
        found = having[-1]
    return str(found["method"]), str(found["path"])


def operation_path(
    operation_id: str, api_version: str, recording_id: str = "", conversation: str = NO_CONVERSATION
) -> str:
    """The operation's path in ``api_version`` with ``recording_id`` (and, in the 2021
    conversations API, its conversation) percent-encoded in it."""
    return _operation(operation_id, api_version)[1].format(
        recordingId=path_quote(recording_id), conversationId=path_quote(conversation)
    )
