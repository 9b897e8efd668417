"""Bring your own storage against a real Azurite: a recording whose start names an Azure Blob
container has its files uploaded there, byte for byte what the emulator serves, before the
event; a SAS or an account key signs the uploads; a failed export is an entry of the preview
``/result``'s ``errors`` and never stops the event; no SAS or key shows anywhere.

Azurite (``tests/interop/azurite``, pinned with its lock file) is installed with ``npm ci`` on
first use and started once per test process on a free loopback port, in memory. The Azurite
tests are skipped only when ``node`` or ``npm`` is not on PATH; the naming and parsing tests
at the top need neither.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

import callrec
from callrec.client import Client
from callrec.emulator import Running, Settings, serve
from callrec.emulator._byos import (
    BLOB_STORAGE_KIND,
    ExportError,
    canonical,
    catalog,
    is_exported,
    media_name,
    redact,
    secrets_of,
    target,
)
from callrec.specs import enum_values
from tests.plugins.emulator import PARTICIPANTS, Receiver
from tests.plugins.npm import install_lock

AZURITE_DIR = Path(__file__).parent / "interop" / "azurite"
NODE = shutil.which("node")
NPM = shutil.which("npm")
INSTALL_TIMEOUT = 300.0
START_TIMEOUT = 30.0
# Azurite's well-known development account and key: public, documented, for local use only.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
WAV = {
    "recordingContentType": "audio",
    "recordingChannelType": "mixed",
    "recordingFormatType": "wav",
}
NAME = re.compile(
    r"^(?:(?P<prefix>.+)/)?(?P<day>\d{8})/(?P<call>[0-9a-f-]{36})/(?P<rid>[A-Za-z0-9_-]{8})-"
    r"(?P<guid>[0-9a-f-]{36})/(?P<index>\d+)-(?P<kind>[a-z]+)\.(?P<doc>[^/]+)\.(?P<ext>[a-z0-9]+)$"
)


# ---------------------------------------------------------------- without Azurite
def test_the_exported_kind_is_a_storage_kind_of_the_specs() -> None:
    assert BLOB_STORAGE_KIND in enum_values("RecordingStorageKind")


def test_the_preview_storage_shape_is_read_as_the_ga_one() -> None:
    """2023-01-15-preview's externalStorage {storageType, blobStorage {containerUri}} exports
    where the GA shape naming the same container would; its `acs` keeps the files at home."""
    url = "https://acct.blob.core.windows.net/recordings?sv=1&sig=abc"
    preview = {"storageType": "blobStorage", "blobStorage": {"containerUri": url}}
    assert (
        callrec.validate(
            {"callLocator": {"serverCallId": "x"}, "externalStorage": preview},
            "StartCallRecordingRequest",
            api_version="2023-01-15-preview",
        )
        == []
    )
    shaped = canonical(preview)
    assert is_exported(shaped)
    assert target(shaped, ()) == target(
        {"recordingStorageKind": BLOB_STORAGE_KIND, "recordingDestinationContainerUrl": url}, ()
    )
    assert not is_exported(canonical({"storageType": "acs"}))
    ga = {"recordingStorageKind": "azureCommunicationServices"}
    assert canonical(ga) is ga  # the GA shape passes as it is


@pytest.mark.parametrize(
    ("url", "account_url", "container", "folder", "account"),
    [
        (
            "https://acct.blob.core.windows.net/recordings?sv=1&sig=abc",
            "https://acct.blob.core.windows.net",
            "recordings",
            "",
            "acct",
        ),
        (
            "https://acct.blob.core.windows.net/recordings/calls/2025/",
            "https://acct.blob.core.windows.net",
            "recordings",
            "calls/2025",
            "acct",
        ),
        (
            "http://127.0.0.1:10000/devstoreaccount1/box",
            "http://127.0.0.1:10000/devstoreaccount1",
            "box",
            "",
            "devstoreaccount1",
        ),
        (
            "http://azurite:10000/devstoreaccount1/box/inner",
            "http://azurite:10000/devstoreaccount1",
            "box",
            "inner",
            "devstoreaccount1",
        ),
    ],
)
def test_container_urls_name_account_container_and_folder(
    url: str, account_url: str, container: str, folder: str, account: str
) -> None:
    storage = {"recordingStorageKind": BLOB_STORAGE_KIND, "recordingDestinationContainerUrl": url}
    where = target(storage, [(account, "a2V5")])
    assert (where.account_url, where.container, where.folder, where.account) == (
        account_url,
        container,
        folder,
        account,
    )
    assert "?" not in where.shown
    assert (where.key is None) == ("?" in url)  # a SAS wins over a configured key
    assert "sig" not in repr(where)
    assert "a2V5" not in repr(where)


@pytest.mark.parametrize(
    "url",
    [None, "", "ftp://host/account/box", "http://127.0.0.1:10000/onlyaccount", "http://[::1"],
)
def test_unusable_container_urls_are_a_destination_error(url: str | None) -> None:
    storage = {"recordingStorageKind": BLOB_STORAGE_KIND, "recordingDestinationContainerUrl": url}
    with pytest.raises(ExportError) as raised:
        target(storage, [])
    assert raised.value.name == "destination-invalid"
    assert raised.value.name in catalog()


def test_redaction_covers_the_query_each_signature_and_every_key() -> None:
    sig = "a+b/c="
    url = f"https://acct.blob.core.windows.net/box?sv=2025-01-05&sig={quote(sig, safe='')}"
    storage = {"recordingDestinationContainerUrl": url}
    secrets = secrets_of(storage, [("acct", "S2V5S2V5")])
    text = f"{url} {sig} {quote(sig, safe='')} S2V5S2V5"
    cleaned = redact(text, secrets)
    for secret in (sig, quote(sig, safe=""), "S2V5S2V5", url.partition("?")[2]):
        assert secret not in cleaned


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        ({"contentKind": "audio", "format": "mp3"}, "audiomp3"),  # the quickstart's example
        ({"contentKind": "audio", "format": "wav"}, "audiowav"),
        ({"contentKind": "video", "format": "mp4"}, "videomp4"),
        ({"contentKind": "audiowavmultichannel", "format": "wav"}, "audiowavmultichannel"),
    ],
)
def test_blob_media_names(media: dict[str, str], expected: str) -> None:
    assert media_name(media) == expected


# ---------------------------------------------------------------- Azurite
def _installed() -> str | None:
    try:
        manifest = json.loads(
            (AZURITE_DIR / "node_modules" / "azurite" / "package.json").read_text("utf-8")
        )
    except (OSError, ValueError):
        return None
    version: str | None = manifest.get("version")
    return version


def _pinned() -> str:
    pinned: str = json.loads((AZURITE_DIR / "package.json").read_text("utf-8"))["dependencies"][
        "azurite"
    ]
    return pinned


def _install() -> None:
    assert NPM is not None
    with install_lock(AZURITE_DIR):
        if _installed() == _pinned():
            return
        command = [NPM, "ci", "--no-audit", "--no-fund", "--prefix", str(AZURITE_DIR)]
        env = {**os.environ, "npm_config_update_notifier": "false"}
        try:
            done = subprocess.run(
                command,
                env=env,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"`{' '.join(command)}` took over {INSTALL_TIMEOUT:.0f}s")
        if done.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr}")
    assert _installed() == _pinned()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's blob service on a free loopback port, in memory: its account URL."""
    if NODE is None or NPM is None:
        pytest.skip("the bring-your-own-storage tests need node and npm on PATH (for Azurite)")
    _install()
    process = subprocess.Popen(
        [
            NODE,
            str(AZURITE_DIR / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            "0",
            "--inMemoryPersistence",
            "--extentMemoryLimit",
            "512",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
        ],
        cwd=tmp_path_factory.mktemp("azurite"),  # in memory; anything it writes goes here
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:  # also keeps the pipe drained while Azurite runs
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            match = re.search(r"listens on (http://\S+)", line)
            if match and not found:
                found.append(match.group(1).rstrip("/"))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT) or not found:
            pytest.fail(f"Azurite did not start within {START_TIMEOUT:.0f}s:\n{''.join(lines)}")
        yield f"{found[0]}/{ACCOUNT}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        process.stdout.close()


@pytest.fixture(scope="session")
def blobs(azurite: str) -> Iterator[BlobServiceClient]:
    with BlobServiceClient(
        azurite, credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY}
    ) as service:
        yield service


@pytest.fixture
def container(blobs: BlobServiceClient) -> Iterator[str]:
    """A new, empty container (unique per test: xdist workers share nothing but names)."""
    name = f"rec-{uuid.uuid4().hex[:20]}"
    blobs.create_container(name)
    yield name
    blobs.delete_container(name)


def container_sas(name: str, permission: str = "rcw") -> str:
    return generate_container_sas(
        ACCOUNT,
        name,
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions.from_string(permission),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )


@pytest.fixture(scope="module")
def byos() -> Iterator[Running]:
    """An emulator that knows the Azurite account's key (used when a URL carries no SAS)."""
    settings = Settings(
        activation_delay=0,
        file_delay=0.05,
        max_chunk_seconds=3.0,
        blob_account_keys=((ACCOUNT, ACCOUNT_KEY),),
        blob_timeout=10.0,
    )
    with serve(settings) as running:
        yield running


@pytest.fixture(scope="module")
def keyless() -> Iterator[Running]:
    """An emulator with no account key and short blob timeouts (for the failures)."""
    settings = Settings(activation_delay=0, file_delay=0.05, blob_timeout=0.3)
    with serve(settings) as running:
        yield running


def record(
    running: str,
    receiver: Receiver,
    storage: dict[str, Any] | None,
    *,
    seconds: float = 2.0,
    options: dict[str, Any] | None = None,
) -> tuple[Client, str, dict[str, Any]]:
    """Subscribe, record ``seconds`` of emulator time with ``storage`` on the emulator of
    connection string ``running``, stop: (client, recording id, the delivered event). The
    client is reset by the caller's fixture."""
    client = Client(running)
    created = client.request(
        "POST",
        "/emulator/eventgrid/subscriptions",
        json={"endpointUrl": receiver.url, "schema": "EventGridSchema"},
    )
    assert created.status_code == 201, created.text
    call = client.create_call(PARTICIPANTS)
    body: dict[str, Any] = {"callLocator": {"serverCallId": call["serverCallId"]}}
    body.update(options or WAV)
    if storage is not None:
        body["externalStorage"] = storage
    started = client.start(body)
    assert started.status_code == 200, started.text
    rid: str = started.json()["recordingId"]
    deadline = time.monotonic() + 5
    while client.get(rid).json()["recordingState"] != "active":
        assert time.monotonic() < deadline, "the recording never turned active"
        time.sleep(0.01)
    client.advance_clock(seconds)
    stopped = client.stop(rid)
    assert stopped.status_code == 204, stopped.text
    [batch] = receiver.wait_for(lambda seen: len(seen) >= 1, timeout=30)
    assert callrec.validate(batch, "EventGridEventBatch", api_version="2025-06-15") == []
    return client, rid, batch[0]


@pytest.fixture
def session() -> Iterator[list[Client]]:
    """Clients made by `record`, reset (and closed) after the test."""
    made: list[Client] = []
    yield made
    for client in made:
        client.reset()
        client.close()


def blob_storage(url: str) -> dict[str, str]:
    return {"recordingStorageKind": BLOB_STORAGE_KIND, "recordingDestinationContainerUrl": url}


def download(client: Client, location: str) -> bytes:
    response = client.request("GET", "/" + location.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200, response.status_code
    return response.content


def result(client: Client, rid: str) -> dict[str, Any]:
    response = client.result(rid)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert callrec.validate(body, "RecordingResultResponse", api_version="2025-08-15-preview") == []
    return body


def check_exported(
    client: Client,
    blobs: BlobServiceClient,
    container: str,
    rid: str,
    event: dict[str, Any],
    prefix: str | None = None,
) -> None:
    """Exactly one media and one metadata blob per chunk, named as the quickstart's folder
    structure says, holding the bytes the emulator serves."""
    chunks = event["data"]["recordingStorageInfo"]["recordingChunks"]
    names = sorted(blob.name for blob in blobs.get_container_client(container).list_blobs())
    assert len(names) == 2 * len(chunks), names
    by_document: dict[str, dict[str, str]] = {}
    for name in names:
        match = NAME.match(name)
        assert match, name
        assert match["prefix"] == prefix
        assert match["rid"] == rid[:8]
        by_document.setdefault(match["doc"], {})[match["kind"]] = name
    for chunk in chunks:
        named = by_document[chunk["documentId"]]
        assert set(named) == {"audiowav", "acsmetadata"}, named
        assert all(f"/{chunk['index']}-" in name for name in named.values())
        blob = blobs.get_blob_client(container, named["audiowav"]).download_blob().readall()
        served = download(client, chunk["contentLocation"])
        assert hashlib.sha256(blob).hexdigest() == hashlib.sha256(served).hexdigest()
        metadata_blob = blobs.get_blob_client(container, named["acsmetadata"])
        metadata = metadata_blob.download_blob().readall()
        assert metadata == download(client, chunk["metadataLocation"])
        document = json.loads(metadata)
        assert callrec.validate(document, "RecordingMetadata") == []
        assert document["chunkDocumentId"] == chunk["documentId"]
        assert NAME.match(named["acsmetadata"])["call"] == document["callId"]  # type: ignore[index]


def test_a_mixed_wav_is_exported_byte_for_byte_before_the_event(
    byos: Running,
    receiver: Receiver,
    blobs: BlobServiceClient,
    container: str,
    session: list[Client],
) -> None:
    url = f"{blobs.url.rstrip('/')}/{container}?{container_sas(container)}"
    client, rid, event = record(byos, receiver, blob_storage(url))
    session.append(client)
    check_exported(client, blobs, container, rid, event)  # listed as soon as the event came
    assert "errors" not in result(client, rid)


def test_every_chunk_is_exported(
    byos: Running,
    receiver: Receiver,
    blobs: BlobServiceClient,
    container: str,
    session: list[Client],
) -> None:
    url = f"{blobs.url.rstrip('/')}/{container}?{container_sas(container)}"
    client, rid, event = record(byos, receiver, blob_storage(url), seconds=7.0)
    session.append(client)
    chunks = event["data"]["recordingStorageInfo"]["recordingChunks"]
    assert [chunk["index"] for chunk in chunks] == [0, 1, 2]
    check_exported(client, blobs, container, rid, event)


def test_an_account_key_signs_when_the_url_has_no_sas(
    byos: Running,
    receiver: Receiver,
    blobs: BlobServiceClient,
    container: str,
    session: list[Client],
) -> None:
    url = f"{blobs.url.rstrip('/')}/{container}/archive/calls"  # a folder inside the container
    client, rid, event = record(byos, receiver, blob_storage(url))
    session.append(client)
    check_exported(client, blobs, container, rid, event, prefix="archive/calls")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextlib.contextmanager
def _silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


# case -> (emulator fixture, URL maker (account URL, container) -> URL, row, words in the message)
FAILURES: dict[str, tuple[str, str, str]] = {
    "missing container": ("byos", "storage-refused", "404 ContainerNotFound"),
    "bad signature": ("byos", "storage-refused", "403 AuthorizationFailure"),  # Azurite's code
    "no credential": ("keyless", "storage-refused", "no key is configured for account"),
    "unreachable port": ("byos", "storage-unreachable", "Connection refused"),
    "no answer": ("keyless", "storage-timeout", "did not answer within 0.3s"),
}
BAD_SIGNATURE = "c2lnbmF0dXJlLW5vdC1tYWRlLWJ5LWEta2V5LWF0LWFsbA%3D%3D"


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_failed_export_is_a_result_error_and_the_event_still_comes(
    case: str,
    request: pytest.FixtureRequest,
    receiver: Receiver,
    blobs: BlobServiceClient,
    container: str,
    session: list[Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fixture, row, words = FAILURES[case]
    running: Running = request.getfixturevalue(fixture)
    account_url = blobs.url.rstrip("/")
    sas = container_sas(container)
    with contextlib.ExitStack() as stack:
        if case == "missing container":
            url = f"{account_url}/absent-{container}?{container_sas('absent-' + container)}"
        elif case == "bad signature":
            sas = re.sub(r"sig=[^&]+", f"sig={BAD_SIGNATURE}", sas)
            url = f"{account_url}/{container}?{sas}"
        elif case == "no credential":
            sas = ""
            url = f"{account_url}/{container}"
        elif case == "unreachable port":
            url = f"http://127.0.0.1:{_closed_port()}/{ACCOUNT}/{container}?{sas}"
        else:
            port = stack.enter_context(_silent_server())
            url = f"http://127.0.0.1:{port}/{ACCOUNT}/{container}?{sas}"
        with caplog.at_level(logging.DEBUG):
            client, rid, event = record(running, receiver, blob_storage(url))
            session.append(client)
            body = result(client, rid)
    [error] = body["errors"]
    assert error["code"] == catalog()[row]["code"]
    assert words in error["message"], error
    assert error["target"].startswith(url.partition("?")[0] + "/")
    assert "?" not in error["target"]
    # the files stay with the emulator: the event's locations still serve them
    [chunk] = event["data"]["recordingStorageInfo"]["recordingChunks"]
    assert download(client, chunk["contentLocation"])[:4] == b"RIFF"
    assert f"export failed: {error['message']}" in caplog.text
    assert not [blob.name for blob in blobs.get_container_client(container).list_blobs()], (
        "nothing is uploaded when the export fails"
    )
    secrets = _signatures(sas)
    _assert_hidden(secrets, caplog.text, json.dumps(body), json.dumps(client.deliveries()))


def _signatures(sas: str) -> list[str]:
    raw = [part.partition("=")[2] for part in sas.split("&") if part.startswith("sig=")]
    return [value for sig in raw for value in (sig, unquote(sig))]


def _assert_hidden(secrets: list[str], *texts: str) -> None:
    for secret in secrets:
        for text in texts:
            assert secret not in text


def test_no_sas_or_key_shows_in_logs_deliveries_or_result(
    byos: Running,
    receiver: Receiver,
    blobs: BlobServiceClient,
    container: str,
    session: list[Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sas = container_sas(container)
    account_url = blobs.url.rstrip("/")
    cases = [
        f"{account_url}/{container}?{sas}",  # exported with the SAS
        f"{account_url}/{container}/keyed",  # exported with the account key
        f"{account_url}/{container}?{re.sub(r'sig=[^&]+', 'sig=' + BAD_SIGNATURE, sas)}",
    ]
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for url in cases:
            client, rid, _event = record(byos, receiver, blob_storage(url))
            session.append(client)
            texts.append(json.dumps(result(client, rid)))
            texts.append(json.dumps(client.deliveries()))
            client.reset()
            with receiver.lock:
                receiver.bodies.clear()
    assert "403 AuthorizationFailure" in texts[4]  # the third export failed, as it should
    secrets = [*_signatures(sas), BAD_SIGNATURE, unquote(BAD_SIGNATURE), ACCOUNT_KEY]
    _assert_hidden(secrets, caplog.text, *texts)


def test_the_cli_option_signs_with_the_account_key(
    receiver: Receiver,
    blobs: BlobServiceClient,
    container: str,
    tmp_path: Path,
) -> None:
    """``callrec emulator --blob-account-key`` reaches the export; its DEBUG log (the SDK's
    request lines included) shows neither the key nor anything signed with it."""
    log = tmp_path / "emulator.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "callrec",
                "emulator",
                "--activation-delay",
                "0",
                "--file-delay",
                "0.05",
                "--blob-account-key",
                f"{ACCOUNT}={ACCOUNT_KEY}",
                "--log-level",
                "debug",
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            assert process.stdout is not None
            name, _, connection_string = process.stdout.readline().strip().partition("=")
            assert name == "CALLREC_CONNECTION_STRING", log.read_text()
            url = f"{blobs.url.rstrip('/')}/{container}"
            client, rid, event = record(connection_string, receiver, blob_storage(url))
            with client:  # the emulator ends with the test: nothing to reset
                check_exported(client, blobs, container, rid, event)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(10)
            if process.stdout is not None:
                process.stdout.close()
    text = log.read_text()
    assert "blobs, " in text  # the export's INFO line
    assert ACCOUNT_KEY not in text
