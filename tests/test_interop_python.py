"""The official Python SDK (azure-communication-callautomation) drives the emulator.

Every start option the installed SDK release exposes (read from its ``start_recording``
overloads) is sent in each documented media combination, on a server call, a group call and a
call connection; then get, pause, resume, stop and the 404 (8522) after stop. Over plain HTTP
(``CallAutomationClient(endpoint, AzureKeyCredential(key))``) and over TLS
(``from_connection_string`` with the emulator's CA).

The file runs under any SDK release (a tox env pins an older one and names it in
``CALLREC_SDK_VERSION``; ``tox -e interop-sdks`` runs every release): the api-version the release
sends by default is looked up in the profiles' ``sdkDefaults``, options the release or that version
lacks are skipped, and the emulator must have received exactly that api-version. What differs
between releases is found by introspection, never by release number: the start options (keyword
overloads, or 1.0.0's single signature taking a ``call_locator`` object), the storage classes,
``recording_kind``, whether the client is a context manager, and import-time deprecation warnings
of old releases on newer Pythons.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import inspect
import os
import re
import time
import typing
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

with warnings.catch_warnings():
    # Old releases warn at import on newer Pythons (1.0.0: kwargs-based TypedDict); not ours.
    warnings.filterwarnings(
        "ignore", category=DeprecationWarning, module=r"azure\.communication\.callautomation"
    )
    from azure.communication import callautomation as sdk
    from azure.communication.callautomation import CallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, SerializationError
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy

import callrec
from callrec._specs import read_spec_yaml
from callrec.client import Client
from callrec.emulator import Running, Settings, serve
from callrec.specs import api_versions, enum_values, fields, profile
from tests.plugins.emulator import PARTICIPANTS, Receiver

SDK_NAME = "azure-communication-callautomation"
SDK_VERSION = importlib.metadata.version(SDK_NAME)
MEDIA: list[dict[str, Any]] = read_spec_yaml("media.yaml")["combinations"]
ERRORS: dict[str, dict[str, Any]] = read_spec_yaml("errors.yaml")["errors"]
NOT_FOUND_CODE = ERRORS["recording-not-found"]["code"]
CONTAINER = "https://callrecinterop.invalid/recordings"  # never reachable: no real upload
ACTIVATION_DELAY = 0.05
_SDK_DEFAULT = re.compile(r"^(?P<name>\S+) (?P<version>\S+) \((?P<registry>[^)]+)\)$")


def sdk_default_api_versions(name: str, version: str) -> list[str]:
    """The api-versions whose profile names ``name version`` (PyPI) among its sdkDefaults."""
    found = []
    for api_version in api_versions():
        for entry in profile(api_version).get("sdkDefaults", []):
            match = _SDK_DEFAULT.match(entry)
            assert match, (
                f"{api_version}: sdkDefaults entry {entry!r} is not 'name version (registry)'"
            )
            if (match["name"], match["version"], match["registry"]) == (name, version, "PyPI"):
                found.append(api_version)
    return found


_DEFAULTS = sdk_default_api_versions(SDK_NAME, SDK_VERSION)
DEFAULT_API_VERSION = _DEFAULTS[0] if len(_DEFAULTS) == 1 else None


# The locator classes of releases whose start_recording takes a ``call_locator`` object (1.0.0)
# instead of a locator keyword; later releases deprecate them (module __getattr__ warns).
LOCATOR_CLASSES = {
    "server_call_id": "ServerCallLocator",
    "group_call_id": "GroupCallLocator",
    "room_id": "RoomCallLocator",
}


def sdk_start_signatures() -> list[inspect.Signature]:
    """``start_recording``'s overloads, or its one signature in a release without overloads."""
    overloads = typing.get_overloads(CallAutomationClient.start_recording)
    return [inspect.signature(f) for f in overloads or [CallAutomationClient.start_recording]]


def sdk_takes_call_locator() -> bool:
    return any("call_locator" in s.parameters for s in sdk_start_signatures())


def sdk_start_keywords() -> set[str]:
    """The start options of this SDK release, named by their keywords.

    The keyword-only parameters of ``start_recording``; for a release that takes a
    ``call_locator`` object, also the locator keyword of each locator class it has.
    """
    names: set[str] = set()
    for signature in sdk_start_signatures():
        names |= {
            name
            for name, parameter in signature.parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        }
    if sdk_takes_call_locator():
        names |= {keyword for keyword, cls in LOCATOR_CLASSES.items() if hasattr(sdk, cls)}
    return names


SDK_KEYWORDS = sdk_start_keywords()

# How the SDK names each start option on the wire (StartCallRecordingRequest fields).
WIRE_FIELD = {
    "server_call_id": "callLocator",
    "group_call_id": "callLocator",
    "room_id": "callLocator",
    "call_connection_id": "callConnectionId",
    "recording_state_callback_url": "recordingStateCallbackUri",
    "recording_content_type": "recordingContentType",
    "recording_channel_type": "recordingChannelType",
    "recording_format_type": "recordingFormatType",
    "audio_channel_participant_ordering": "audioChannelParticipantOrdering",
    "channel_affinity": "channelAffinity",
    "recording_storage": "externalStorage",
    "pause_on_start": "pauseOnStart",
}

# The storage kinds of the specs, one spelling each (the schema also accepts the PascalCase
# spelling that SDK 1.2.0 sends).
STORAGE_KINDS = sorted(
    {
        kind.lower(): kind for kind in enum_values("RecordingStorageKind") if kind[0].islower()
    }.values()
)

# The SDK's storage option for each RecordingStorageKind of the specs, looked up when used:
# releases before recording_storage have neither class.
STORAGE: dict[str, Callable[[], Any]] = {
    "azureCommunicationServices": lambda: sdk.AzureCommunicationsRecordingStorage(),  # noqa: PLW0108
    "azureBlobStorage": lambda: sdk.AzureBlobContainerRecordingStorage(container_url=CONTAINER),
}


def raw_id(participant: dict[str, Any]) -> str:
    value: str = participant["rawId"]
    return value


def wire_identifier(identifier: dict[str, Any]) -> tuple[str, str]:
    """(rawId, communicationUser.id) of an identifier as sent; Python leaves out `kind`."""
    return identifier["rawId"], identifier["communicationUser"]["id"]


# ------------------------------------------------------------------ the cases
@dataclass(frozen=True)
class Case:
    """One start: where the call is found and which options go with it."""

    name: str
    locator: str = "server_call_id"  # or group_call_id, call_connection_id
    media: dict[str, str] | None = None  # content/channel/format; None: the SDK's defaults
    affinity: bool = False
    ordering: bool = False
    pause_on_start: bool = False
    callback: bool = False
    storage: str | None = None  # a RecordingStorageKind

    def keywords(self) -> set[str]:
        chosen = {self.locator}
        if self.media:
            chosen |= {"recording_content_type", "recording_channel_type", "recording_format_type"}
        flags = {
            "channel_affinity": self.affinity,
            "audio_channel_participant_ordering": self.ordering,
            "pause_on_start": self.pause_on_start,
            "recording_state_callback_url": self.callback,
            "recording_storage": self.storage is not None,
        }
        return chosen | {keyword for keyword, wanted in flags.items() if wanted}

    def unsupported(self) -> str | None:
        """Why the installed SDK (or its default api-version) cannot make this start, if so."""
        missing = self.keywords() - SDK_KEYWORDS
        if missing:
            return f"SDK {SDK_VERSION} has no {', '.join(sorted(missing))}"
        assert DEFAULT_API_VERSION is not None
        have = set(fields("StartCallRecordingRequest", DEFAULT_API_VERSION))
        absent = {WIRE_FIELD[keyword] for keyword in self.keywords()} - have
        if absent:
            return f"api-version {DEFAULT_API_VERSION} has no {', '.join(sorted(absent))}"
        if self.storage and self.storage not in enum_values(
            "RecordingStorageKind", DEFAULT_API_VERSION
        ):
            return f"api-version {DEFAULT_API_VERSION} has no storage kind {self.storage}"
        return None


def _media(combination: dict[str, Any]) -> dict[str, str]:
    return {key: combination[key] for key in ("content", "channel", "format")}


def _cases() -> list[Case]:
    unmixed = [_media(c) for c in MEDIA if c["channel"] == "unmixed"]
    cases = [Case("defaults")]
    cases += [
        Case("media-{content}-{channel}-{format}".format(**_media(c)), media=_media(c))
        for c in MEDIA
    ]
    for media in unmixed:
        label = "{content}-{channel}-{format}".format(**media)
        cases += [
            Case(f"{label}-affinity", media=media, affinity=True),
            Case(f"{label}-ordering", media=media, ordering=True),
            Case(f"{label}-affinity-ordering", media=media, affinity=True, ordering=True),
        ]
    cases += [
        Case("pause-on-start", pause_on_start=True),
        Case("callback", callback=True),
        *(Case(f"storage-{kind}", storage=kind) for kind in STORAGE_KINDS),
        Case("group-call", locator="group_call_id"),
        Case("call-connection-id", locator="call_connection_id"),
    ]
    everything = {
        "media": unmixed[0],
        "affinity": True,
        "ordering": True,
        "pause_on_start": True,
        "callback": True,
        "storage": "azureBlobStorage",
    }
    cases += [
        Case(
            f"everything-{locator.removesuffix('_id').replace('_', '-')}",
            locator=locator,
            **everything,
        )
        for locator in ("server_call_id", "group_call_id", "call_connection_id")
    ]
    return cases


CASES = _cases()


# ------------------------------------------------------------------ fixtures
class Recorder(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """A per-call policy that keeps (method, url) of every request the SDK sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def on_request(self, request: PipelineRequest[Any]) -> None:
        self.sent.append((request.http_request.method, request.http_request.url))


@dataclass
class Target:
    running: Running
    signed: Client
    sdk: CallAutomationClient
    recorder: Recorder
    scheme: str

    def recording(self, recording_id: str) -> Any:
        """The emulator's own record of a recording (its model is replaced on reset)."""
        return self.running.app.state.emulator.model.recordings[recording_id]


@pytest.fixture(scope="module")
def tls_emulator() -> Iterator[Running]:
    with serve(
        Settings(activation_delay=ACTIVATION_DELAY, callback_backoff=0.05), tls=True
    ) as running:
        yield running


@pytest.fixture
def default_api_version() -> str:
    if DEFAULT_API_VERSION is None:
        pytest.fail(
            f"{SDK_NAME} {SDK_VERSION} is the default of {_DEFAULTS or 'no'} api-versions in "
            "specs/profiles (sdkDefaults); it must be named by exactly one"
        )
    return DEFAULT_API_VERSION


@contextlib.contextmanager
def sdk_client(
    running: Running, scheme: str, recorder: Recorder, **options: Any
) -> Iterator[CallAutomationClient]:
    """A client of the emulator, closed afterwards where the release can (1.0.0 has no close)."""
    if scheme == "http":
        client = CallAutomationClient(
            running.endpoint,
            AzureKeyCredential(running.access_key),
            per_call_policies=[recorder],
            **options,
        )
    else:
        client = CallAutomationClient.from_connection_string(
            str(running),
            connection_verify=str(running.ca_file),
            per_call_policies=[recorder],
            **options,
        )
    if hasattr(client, "__enter__"):
        with client:
            yield client
    else:
        yield client


@pytest.fixture(params=["http", "tls"])
def target(request: pytest.FixtureRequest, default_api_version: str) -> Iterator[Target]:
    running: Running = request.getfixturevalue(
        "emulator" if request.param == "http" else "tls_emulator"
    )
    recorder = Recorder()
    with (
        Client(running, api_version=default_api_version, verify=running.ca_file or True) as signed,
        sdk_client(running, request.param, recorder) as client,
    ):
        yield Target(
            running, signed, client, recorder, "https" if request.param == "tls" else "http"
        )
        signed.reset()


# ------------------------------------------------------------------ helpers
def wait_state(client: CallAutomationClient, recording_id: str, state: str) -> None:
    deadline = time.monotonic() + 5
    seen = None
    while time.monotonic() < deadline:
        seen = client.get_recording_properties(recording_id).recording_state
        if seen == state:
            return
        time.sleep(0.01)
    raise AssertionError(f"{recording_id} is {seen!r}, never {state!r}")


def sdk_enum(enum: Any, value: str) -> Any:
    """The SDK's member for a spec value, as an app would pass it."""
    members = [member for member in enum if member.value.lower() == value.lower()]
    assert members, f"{enum.__name__} of SDK {SDK_VERSION} has no {value!r}"
    return members[0]


def locator_option(keyword: str, value: str) -> dict[str, Any]:
    """How the app names the call: ``server_call_id=...``, or for a release that takes a locator
    object (1.0.0) ``call_locator=ServerCallLocator(...)``."""
    if keyword in LOCATOR_CLASSES and sdk_takes_call_locator():
        return {"call_locator": getattr(sdk, LOCATOR_CLASSES[keyword])(value)}
    return {keyword: value}


def start_options(case: Case, call: dict[str, Any], callback_url: str | None) -> dict[str, Any]:
    key = {"server_call_id": "serverCallId", "group_call_id": "groupCallId"}.get(
        case.locator, "callConnectionId"
    )
    options = locator_option(case.locator, call[key])
    if case.media:
        options |= {
            "recording_content_type": sdk_enum(sdk.RecordingContent, case.media["content"]),
            "recording_channel_type": sdk_enum(sdk.RecordingChannel, case.media["channel"]),
            "recording_format_type": sdk_enum(sdk.RecordingFormat, case.media["format"]),
        }
    if case.ordering:
        options["audio_channel_participant_ordering"] = [
            sdk.CommunicationUserIdentifier(raw_id(PARTICIPANTS[0]))
        ]
    if case.affinity:
        options["channel_affinity"] = [
            sdk.ChannelAffinity(
                target_participant=sdk.CommunicationUserIdentifier(raw_id(p)), channel=n
            )
            for n, p in ((1, PARTICIPANTS[1]), (0, PARTICIPANTS[2]))
        ]
    if case.pause_on_start:
        options["pause_on_start"] = True
    if case.callback:
        options["recording_state_callback_url"] = callback_url
    if case.storage:
        options["recording_storage"] = STORAGE[case.storage]()
    return options


def check_wire_body(
    case: Case, seen: dict[str, Any], call: dict[str, Any], callback_url: str | None, version: str
) -> None:
    """What the emulator received for a start: each option as asked, nothing else set."""
    assert callrec.validate(seen, "StartCallRecordingRequest", api_version=version) == []
    expected: dict[str, Any] = {}
    if case.locator == "server_call_id":
        expected["callLocator"] = {
            "kind": "serverCallLocator",
            "serverCallId": call["serverCallId"],
        }
    elif case.locator == "group_call_id":
        expected["callLocator"] = {"kind": "groupCallLocator", "groupCallId": call["groupCallId"]}
    else:
        expected["callConnectionId"] = call["callConnectionId"]
    if case.media:
        expected |= {
            "recordingContentType": case.media["content"],
            "recordingChannelType": case.media["channel"],
            "recordingFormatType": case.media["format"],
        }
    if case.pause_on_start:
        expected["pauseOnStart"] = True
    if case.callback:
        expected["recordingStateCallbackUri"] = callback_url
    if case.storage == "azureBlobStorage":
        expected["externalStorage"] = {
            "recordingStorageKind": STORAGE[case.storage]().kind,  # as the SDK spells it
            "recordingDestinationContainerUrl": CONTAINER,
        }
    for name, value in expected.items():
        assert seen.get(name) == value, (name, seen)
    if case.ordering:
        ordering = [wire_identifier(i) for i in seen["audioChannelParticipantOrdering"]]
        assert ordering == [(raw_id(PARTICIPANTS[0]),) * 2]
        expected["audioChannelParticipantOrdering"] = ordering
    if case.affinity:
        pins = [
            (pin["channel"], wire_identifier(pin["participant"])) for pin in seen["channelAffinity"]
        ]
        assert pins == [(1, (raw_id(PARTICIPANTS[1]),) * 2), (0, (raw_id(PARTICIPANTS[2]),) * 2)]
        expected["channelAffinity"] = pins
    if case.storage == "azureCommunicationServices":
        # SDK 1.2.0-1.6.0 build no externalStorage for this kind (it is the service's default).
        sent_kind = STORAGE[case.storage]().kind
        assert seen.get("externalStorage") in (None, {"recordingStorageKind": sent_kind})
        expected["externalStorage"] = seen.get("externalStorage")
    unasked = {name: value for name, value in seen.items() if name not in expected and value}
    assert unasked == {}, f"the SDK sent options that were not asked for: {unasked}"


# ------------------------------------------------------------------ the tests
def test_sdk_default_api_version_comes_from_the_profiles(default_api_version: str) -> None:
    # A tox env that pins a release says which in CALLREC_SDK_VERSION: a package extra that pins
    # another release would otherwise replace it without a word.
    assert os.environ.get("CALLREC_SDK_VERSION", SDK_VERSION) == SDK_VERSION
    # A GA release defaults to a GA api-version; a pre-release (1.6.0b1) may default to a preview.
    pre_release = re.search(r"(a|b|rc|\.dev)\d*$", SDK_VERSION) is not None
    statuses = {"ga", "preview"} if pre_release else {"ga"}
    assert profile(default_api_version)["status"] in statuses
    # Cross-check with the SDK's own constant where the release has one (a private module).
    try:
        from azure.communication.callautomation._api_versions import DEFAULT_VERSION
    except ImportError:  # pragma: no cover - depends on the SDK release
        return
    assert str(DEFAULT_VERSION) == default_api_version


def test_every_start_option_of_the_sdk_is_exercised() -> None:
    covered = set().union(*(case.keywords() for case in CASES)) | {"room_id"}
    assert SDK_KEYWORDS, "no start_recording options found"
    assert SDK_KEYWORDS & set(LOCATOR_CLASSES), "no way to name the call found"
    assert covered >= SDK_KEYWORDS, f"options without a case: {sorted(SDK_KEYWORDS - covered)}"
    assert set(WIRE_FIELD) >= SDK_KEYWORDS
    if "recording_storage" in SDK_KEYWORDS:
        for kind in STORAGE_KINDS:
            assert STORAGE[kind]().kind.lower() == kind.lower()  # SDK 1.2.0 sends PascalCase
    assert {kind.lower() for kind in enum_values("RecordingStorageKind")} == {
        k.lower() for k in STORAGE_KINDS
    }


def start(target: Target, case: Case, options: dict[str, Any]) -> tuple[Any, str | None]:
    """Start as the app would; returns the SDK's answer and, if one was needed, the workaround."""
    workaround = None
    for _attempt in range(2):
        try:
            return target.sdk.start_recording(**options), workaround
        except SerializationError as error:
            # SDK 1.2.0 hands audio_channel_participant_ordering to its serializer without
            # turning the identifiers into wire models; nothing is sent. The wire shape works.
            if not case.ordering or workaround:
                raise
            assert target.recorder.sent == []
            first = raw_id(PARTICIPANTS[0])
            options["audio_channel_participant_ordering"] = [
                {"rawId": first, "communicationUser": {"id": first}}
            ]
            workaround = (
                f"SDK {SDK_VERSION} cannot serialize identifiers in "
                f"audio_channel_participant_ordering ({type(error).__name__} before sending); "
                "wire-shaped dicts work"
            )
    raise AssertionError("unreachable: the second attempt returns or raises")


def check_recording_kind(started: Any, recording: Any, api_version: str) -> None:
    """The start's recordingKind as the SDK surfaces it: the emulator's kind where the api-version
    has the field, else None. Releases whose RecordingProperties lack ``recording_kind`` (before
    pause_on_start and recording_storage came) cannot surface it."""
    if not hasattr(started, "recording_kind"):
        assert "recording_storage" not in SDK_KEYWORDS  # a release that has it surfaces the kind
        return
    has_kind = "recordingKind" in fields("RecordingStateResponse", api_version)
    assert started.recording_kind == (recording.kind if has_kind else None)


def run_lifecycle(target: Target, rid: str, case: Case) -> None:
    """(resume a paused start,) wait for active, pause, resume, stop; each seen from both sides."""
    client, signed = target.sdk, target.signed
    if case.pause_on_start:
        time.sleep(ACTIVATION_DELAY * 6)  # well past the activation delay: still paused
        assert client.get_recording_properties(rid).recording_state == "inactive"
        client.resume_recording(rid)
    wait_state(client, rid, "active")
    properties = client.get_recording_properties(rid)
    assert (properties.recording_id, properties.recording_state) == (rid, "active")
    assert signed.get(rid).json()["recordingState"] == "active"
    client.pause_recording(rid)
    assert client.get_recording_properties(rid).recording_state == "inactive"
    assert signed.get(rid).json()["recordingState"] == "inactive"
    client.resume_recording(rid)
    assert client.get_recording_properties(rid).recording_state == "active"
    client.stop_recording(rid)


def check_gone(target: Target, rid: str) -> None:
    """After stop every operation on the recording is a 404 with code 8522."""
    client = target.sdk
    operations = {
        "get": client.get_recording_properties,
        "pause": client.pause_recording,
        "resume": client.resume_recording,
        "stop": client.stop_recording,
    }
    for name, operation in operations.items():
        with pytest.raises(ResourceNotFoundError) as caught:
            operation(rid)
        assert caught.value.status_code == 404, name
        assert caught.value.error is not None, name
        assert caught.value.error.code == NOT_FOUND_CODE, name
    assert target.signed.get(rid).status_code == 404


def check_requests(target: Target, rid: str, api_version: str) -> None:
    """Every request went to the emulator, over the expected scheme, with ``api_version``."""
    sent = target.recorder.sent
    for _method, url in sent:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == target.running.endpoint
        assert parts.scheme == target.scheme
        assert parse_qs(parts.query) == {"api-version": [api_version]}, url
    base = f"/calling/recordings/{rid}"
    assert {(method, urlsplit(url).path) for method, url in sent} == {
        ("POST", "/calling/recordings"),
        ("GET", base),
        ("POST", f"{base}:pause"),
        ("POST", f"{base}:resume"),
        ("DELETE", base),
    }


def check_callbacks(receiver: Receiver, rid: str, api_version: str) -> None:
    """active, inactive (pause), active (resume), inactive (stop): valid for the version."""
    bodies = receiver.wait_for(lambda seen: len(seen) >= 4)
    assert len(bodies) == 4
    for body in bodies:
        assert callrec.validate(body, "RecordingCallbackBatch", api_version=api_version) == []
        assert body[0]["data"]["recordingId"] == rid
    states = [body[0]["data"]["state"] for body in bodies]
    assert states == ["active", "inactive", "active", "inactive"]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_start_then_get_pause_resume_stop(
    target: Target, case: Case, default_api_version: str, request: pytest.FixtureRequest
) -> None:
    reason = case.unsupported()
    if reason:
        pytest.skip(reason)
    receiver: Receiver | None = request.getfixturevalue("receiver") if case.callback else None
    callback_url = receiver.url if receiver else None
    call = target.signed.create_call(
        PARTICIPANTS, kind="groupCall" if case.locator == "group_call_id" else "serverCall"
    )
    started, workaround = start(target, case, start_options(case, call, callback_url))

    rid = started.recording_id
    recording = target.recording(rid)  # what the emulator received and made of it
    assert recording.api_version == default_api_version
    check_wire_body(case, recording.options, call, callback_url, default_api_version)
    assert _media(recording.media) == (case.media or _media(MEDIA[0]))
    assert started.recording_state == "inactive"
    check_recording_kind(started, recording, default_api_version)

    run_lifecycle(target, rid, case)
    check_gone(target, rid)
    check_requests(target, rid, default_api_version)
    if receiver is not None:
        check_callbacks(receiver, rid, default_api_version)
    if workaround:
        pytest.xfail(workaround)


# The SDK speaks the call-automation generation only: the calling-server generation
# (2021-11-15-preview) has other paths and status codes, and every release sends an empty
# channelAffinity, which that generation lacks.
SDK_API_VERSIONS = [v for v in api_versions() if profile(v)["generation"] == "call-automation"]


@pytest.mark.parametrize("api_version", SDK_API_VERSIONS)
def test_the_sdk_can_target_any_api_version(
    emulator: Running, client: Client, api_version: str
) -> None:
    call = client.create_call(PARTICIPANTS)
    recorder = Recorder()
    with sdk_client(emulator, "http", recorder, api_version=api_version) as sdk_at_version:
        started = sdk_at_version.start_recording(
            **locator_option("server_call_id", call["serverCallId"])
        )
        recording = emulator.app.state.emulator.model.recordings[started.recording_id]
        assert recording.api_version == api_version
        check_recording_kind(started, recording, api_version)
        sdk_at_version.stop_recording(started.recording_id)
    assert [parse_qs(urlsplit(url).query)["api-version"] for _, url in recorder.sent] == [
        [api_version]
    ] * 2


def test_start_on_an_ended_call_is_a_400(target: Target) -> None:
    call = target.signed.create_call(PARTICIPANTS)
    target.signed.end_call(call["serverCallId"])
    with pytest.raises(HttpResponseError) as caught:
        target.sdk.start_recording(**locator_option("server_call_id", call["serverCallId"]))
    entry = ERRORS["call-not-established"]
    assert caught.value.status_code == entry["status"]
    assert caught.value.error is not None
    assert caught.value.error.code == entry["code"]
    assert len(target.recorder.sent) == 1  # a 400 is not retried


def test_a_room_cannot_be_recorded(target: Target, default_api_version: str) -> None:
    if "room_id" not in SDK_KEYWORDS:
        pytest.skip(f"SDK {SDK_VERSION} has no room_id")
    if "roomId" not in fields("CallLocator", default_api_version):
        pytest.skip(f"api-version {default_api_version} has no roomId")
    with pytest.raises(HttpResponseError) as caught:
        target.sdk.start_recording(
            **locator_option("room_id", "99180531-7d55-4e5a-9d1b-c7a1bd1b5a43")
        )
    entry = ERRORS["invalid-request"]
    assert caught.value.status_code == entry["status"]
    assert caught.value.error is not None
    assert caught.value.error.code == entry["code"]
