"""callrec.interop: the azure-core policy that sends recording-storage URLs to the emulator, and
the helper that builds an SDK client for an emulator (plain HTTP and TLS)."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from azure.communication.callautomation import CallAutomationClient
from azure.core.exceptions import ResourceNotFoundError
from azure.core.pipeline import Pipeline, PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

from callrec._specs import read_spec_yaml
from callrec.client import Client
from callrec.emulator import Running, Settings, serve
from callrec.interop import RECORDING_HOST_SUFFIXES, EmulatorRedirectPolicy, emulator_client
from tests.plugins.emulator import PARTICIPANTS, Receiver

STORAGE_URL = "https://us-storage.asm.skype.com/v1/objects/x/content/audio?x=1"
ERRORS = read_spec_yaml("errors.yaml")["errors"]


class Seen(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Records the URL of every request as it leaves the pipeline's per-call stage."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def on_request(self, request: PipelineRequest[Any]) -> None:
        self.urls.append(request.http_request.url)


@pytest.fixture(scope="module")
def tls_emulator() -> Iterator[Running]:
    with serve(Settings(activation_delay=0.05), tls=True) as running:
        yield running


@pytest.fixture(params=["http", "tls"])
def running(request: pytest.FixtureRequest) -> Running:
    fixture = "emulator" if request.param == "http" else "tls_emulator"
    found: Running = request.getfixturevalue(fixture)
    return found


@pytest.fixture
def signed(running: Running) -> Iterator[Client]:
    with Client(running, verify=running.ca_file or True) as client:
        yield client
        client.reset()


def emulator_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the emulator logged per request: ``METHOD raw-path?query status duration``."""
    return [r.getMessage() for r in caplog.records if r.name == "callrec.emulator"]


def send(policies: list[Any], request: HttpRequest, **kwargs: Any) -> Any:
    with Pipeline(RequestsTransport(**kwargs), policies) as pipeline:
        response = pipeline.run(request).http_response
        response.read()
        return response


# ------------------------------------------------------------------ the policy, on its own
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (STORAGE_URL, "http://127.0.0.1:9/v1/objects/x/content/audio?x=1"),
        ("https://US-Storage.ASM.Skype.COM/v1/objects/x", "http://127.0.0.1:9/v1/objects/x"),
        ("https://us-storage.asm.skype.com:443/v1/objects/x", "http://127.0.0.1:9/v1/objects/x"),
        (
            "https://eu.asyncgw.teams.microsoft.com/v1/objects/a%2Fb?y=%3D",
            "http://127.0.0.1:9/v1/objects/a%2Fb?y=%3D",
        ),
        ("https://x.ams.gov.teams.microsoft.us/v1/objects/y", "http://127.0.0.1:9/v1/objects/y"),
        ("https://example.com/v1/objects/x", "https://example.com/v1/objects/x"),
        ("https://asm.skype.com/v1/objects/x", "https://asm.skype.com/v1/objects/x"),
        ("https://notasm.skype.com/v1/objects/x", "https://notasm.skype.com/v1/objects/x"),
        (
            "https://us.asm.skype.com.example.net/v1/objects/x",
            "https://us.asm.skype.com.example.net/v1/objects/x",
        ),
        ("http://127.0.0.1:5/calling/recordings", "http://127.0.0.1:5/calling/recordings"),
    ],
)
def test_redirect_rewrites_only_recording_storage_hosts(url: str, expected: str) -> None:
    assert EmulatorRedirectPolicy("http://127.0.0.1:9/").redirect(url) == expected


def test_redirect_keeps_the_scheme_and_path_of_the_endpoint() -> None:
    policy = EmulatorRedirectPolicy("https://localhost:8443/base/")
    assert (
        policy.redirect(STORAGE_URL) == "https://localhost:8443/base/v1/objects/x/content/audio?x=1"
    )
    custom = EmulatorRedirectPolicy("http://h:1", host_suffixes=[".Example.COM"])
    assert custom.redirect("https://a.example.com/p") == "http://h:1/p"
    assert custom.redirect(STORAGE_URL) == STORAGE_URL


@pytest.mark.parametrize("endpoint", ["127.0.0.1:9", "ftp://h/", "http://", ""])
def test_redirect_refuses_an_endpoint_that_is_not_http(endpoint: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        EmulatorRedirectPolicy(endpoint)


def test_suffixes_cover_what_the_sdk_allows() -> None:
    try:
        validator = importlib.import_module(
            "azure.communication.callautomation.recording_url_validator"
        )
    except ImportError:
        pytest.skip("this SDK release accepts any recording URL")
    assert set(validator.ALLOWED_HOST_SUFFIXES) <= set(RECORDING_HOST_SUFFIXES)
    for suffix in RECORDING_HOST_SUFFIXES:  # the SDK accepts every URL the policy rewrites
        validator.validate_recording_url(f"https://host{suffix}/v1/objects/x", "url")


# ------------------------------------------------------------------ the policy, on the wire
def test_policy_sends_a_storage_url_to_the_emulator(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Seen()
    with caplog.at_level(logging.INFO, logger="callrec.emulator"):
        response = send(
            [EmulatorRedirectPolicy(running.endpoint), seen],
            HttpRequest("GET", STORAGE_URL),
            connection_verify=str(running.ca_file or True),
        )
    assert seen.urls == [f"{running.endpoint}/v1/objects/x/content/audio?x=1"]
    # The emulator logged it with the query kept, and answered as its content endpoint answers
    # an unsigned request (this pipeline has no signing policy): 401 with an empty body.
    requests = [line for line in emulator_lines(caplog) if line.startswith("GET ")]
    assert [line.rsplit(" ", 1)[0] for line in requests] == [
        "GET /v1/objects/x/content/audio?x=1 401"
    ]
    assert response.status_code == 401
    assert response.body() == b""


def test_policy_leaves_other_hosts_alone(
    emulator: Running, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Seen()
    with caplog.at_level(logging.INFO, logger="callrec.emulator"):
        response = send(
            [EmulatorRedirectPolicy(emulator.endpoint), seen],
            HttpRequest("POST", f"{receiver.url}?x=1", json={"hello": "receiver"}),
        )
    assert response.status_code == 200
    assert seen.urls == [f"{receiver.url}?x=1"]
    assert receiver.bodies == [{"hello": "receiver"}]
    assert emulator_lines(caplog) == []


# ------------------------------------------------------------------ emulator_client
def test_emulator_client_runs_a_recording(running: Running, signed: Client) -> None:
    call = signed.create_call(PARTICIPANTS)
    with emulator_client(running) as client:
        assert isinstance(client, CallAutomationClient)
        started = client.start_recording(
            server_call_id=call["serverCallId"], recording_content_type="audio"
        )
        assert started.recording_state == "inactive"
        rid = started.recording_id
        assert signed.get(rid).json()["recordingId"] == rid  # the emulator has it
        assert client.get_recording_properties(rid).recording_id == rid
        client.stop_recording(rid)
        with pytest.raises(ResourceNotFoundError) as caught:
            client.get_recording_properties(rid)
    assert caught.value.error is not None
    assert caught.value.error.code == ERRORS["recording-not-found"]["code"]
    assert signed.get(rid).status_code == 404


def test_emulator_client_takes_a_plain_connection_string_and_more_policies(
    running: Running, signed: Client
) -> None:
    call = signed.create_call(PARTICIPANTS, kind="groupCall")
    seen = Seen()
    with emulator_client(
        str(running), ca_file=running.ca_file, per_call_policies=seen, api_version="2024-04-15"
    ) as client:
        rid = client.start_recording(group_call_id=call["groupCallId"]).recording_id
        client.stop_recording(rid)
    assert [url.split("?")[1] for url in seen.urls] == ["api-version=2024-04-15"] * 2
    assert all(url.startswith(f"{running.endpoint}/calling/recordings") for url in seen.urls)


def test_sdk_download_and_delete_reach_the_emulator(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        emulator_client(running) as client,
        caplog.at_level(logging.INFO, logger="callrec.emulator"),
    ):
        with pytest.raises(ResourceNotFoundError) as caught:
            b"".join(client.download_recording(STORAGE_URL))
        # The SDK streams downloads and raises without closing the failed response, which
        # would leave its socket open (a ResourceWarning): close it as an app has to.
        assert caught.value.response is not None
        caught.value.response.close()
        with pytest.raises(ResourceNotFoundError):
            client.delete_recording("https://us-storage.asm.skype.com/v1/objects/x")
    assert [line.rsplit(" ", 2)[0] for line in emulator_lines(caplog)] == [
        "GET /v1/objects/x/content/audio?x=1",
        "DELETE /v1/objects/x?",
    ]


def test_callrec_itself_never_imports_interop_or_the_sdk() -> None:
    code = (
        "import sys, callrec, callrec.specs, callrec.cli, callrec.client, callrec.emulator\n"
        "bad = sorted(m for m in sys.modules if m == 'callrec.interop' or m.startswith('azure'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
