"""Content endpoints: download (whole and ranged) and delete, with empty-body errors, the
x-ms-host signing variants of both SDKs, and retention on the emulator clock."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from callrec.client import Client, HmacAuth
from callrec.emulator import Running
from callrec.emulator._content import BytesSource, Document, FileSource, parse_range

MEDIA = bytes(range(256)) * 40  # 10,240 bytes
METADATA = b'{\r\n  "chunkIndex": 0\r\n}\r\n'


@pytest.fixture
def document(emulator: Running, client: Client) -> str:
    state = emulator.app.state.emulator
    now = state.clock.now()
    state.store.add(
        Document(
            "0-emu-d1-abc", "audio", BytesSource(MEDIA), BytesSource(METADATA), now - 1, now + 60
        )
    )
    return "0-emu-d1-abc"


def test_download_whole_media_and_metadata(client: Client, document: str) -> None:
    media = client.request("GET", f"/v1/objects/{document}/content/audio")
    assert media.status_code == 200
    assert media.content == MEDIA
    assert media.headers["content-type"] == "application/octet-stream"
    assert media.headers["accept-ranges"] == "bytes"
    assert media.headers["content-length"] == str(len(MEDIA))
    assert client.request("GET", f"/v1/objects/{document}/content/acsmetadata").content == METADATA


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-", 0, len(MEDIA)),  # what the JS SDK sends for offset 0
        ("bytes=100-199", 100, 200),
        ("bytes=10000-", 10000, len(MEDIA)),
        ("bytes=-40", len(MEDIA) - 40, len(MEDIA)),
        ("bytes=10200-99999", 10200, len(MEDIA)),
    ],
)
def test_ranges_answer_206_with_the_right_bytes(
    client: Client, document: str, header: str, start: int, stop: int
) -> None:
    response = client.request(
        "GET", f"/v1/objects/{document}/content/audio", headers={"Range": header}
    )
    assert response.status_code == 206
    assert response.content == MEDIA[start:stop]
    assert response.headers["content-range"] == f"bytes {start}-{stop - 1}/{len(MEDIA)}"


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-0"])
def test_unsatisfiable_ranges_are_416(client: Client, document: str, header: str) -> None:
    response = client.request(
        "GET", f"/v1/objects/{document}/content/audio", headers={"Range": header}
    )
    assert (response.status_code, response.content) == (416, b"")
    assert response.headers["content-range"] == f"bytes */{len(MEDIA)}"


@pytest.mark.parametrize(
    "header", ["bytes=5-1", "bytes=0-1,5-9", "items=0-5", "bytes=x-y", "bytes=-"]
)
def test_ranges_it_cannot_honour_are_ignored(client: Client, document: str, header: str) -> None:
    response = client.request(
        "GET", f"/v1/objects/{document}/content/audio", headers={"Range": header}
    )
    assert (response.status_code, response.content) == (200, MEDIA)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/objects/nope/content/audio",
        "/v1/objects/0-emu-d1-abc/content/video",
        "/v1/objects/0-emu-d1-abc/content",
        "/v1/objects/",
    ],
)
def test_unknown_objects_are_404_with_an_empty_body(
    client: Client, document: str, path: str
) -> None:
    response = client.request("GET", path)
    assert (response.status_code, response.content) == (404, b"")


def test_bad_auth_is_401_with_an_empty_body(client: Client, document: str) -> None:
    response = client.request("GET", f"/v1/objects/{document}/content/audio", signed=False)
    assert (response.status_code, response.content) == (401, b"")


def test_python_sdk_style_x_ms_host_signing(emulator: Running, document: str) -> None:
    # Python signs path + query with the resource endpoint's host, and sends it (no port) as x-ms-host.
    endpoint_host = "contoso.communication.azure.com"
    with httpx.Client(base_url=emulator.endpoint) as http:
        response = http.get(
            f"/v1/objects/{document}/content/audio",
            params={"x": "1"},
            headers={"x-ms-host": endpoint_host},
            auth=HmacAuth(emulator.access_key, host=endpoint_host),
        )
    assert response.status_code == 200


def test_js_sdk_style_x_ms_host_signing(emulator: Running, document: str) -> None:
    # JS sends x-ms-host with the port and signs the path without its query.
    from callrec import auth

    host = emulator.endpoint.split("://", 1)[1]
    path = f"/v1/objects/{document}/content/audio"
    headers = auth.sign("GET", f"http://{host}{path}", b"", emulator.access_key, host=host)
    with httpx.Client(base_url=emulator.endpoint) as http:
        response = http.get(
            path, params={"sv": "1"}, headers={**headers, "x-ms-host": host, "Range": "bytes=0-"}
        )
    assert response.status_code == 206


def test_delete_answers_200_and_later_downloads_404(client: Client, document: str) -> None:
    deleted = client.request("DELETE", f"/v1/objects/{document}")
    assert (deleted.status_code, deleted.content) == (200, b"")
    for kind in ("audio", "acsmetadata"):
        assert client.request("GET", f"/v1/objects/{document}/content/{kind}").status_code == 404
    assert client.request("DELETE", f"/v1/objects/{document}").status_code == 404


def test_wrong_methods_are_405_with_an_empty_body(client: Client, document: str) -> None:
    for method, path in [
        ("POST", f"/v1/objects/{document}/content/audio"),
        ("GET", f"/v1/objects/{document}"),
    ]:
        response = client.request(method, path)
        assert (response.status_code, response.content) == (405, b"")


def test_content_expires_on_the_emulator_clock(emulator: Running, client: Client) -> None:
    state = emulator.app.state.emulator
    now = state.clock.now()
    state.store.add(
        Document(
            "0-emu-d1-old", "audio", BytesSource(MEDIA), BytesSource(METADATA), now, now + 24 * 3600
        )
    )
    assert client.request("GET", "/v1/objects/0-emu-d1-old/content/audio").status_code == 200
    client.advance_clock(24 * 3600 + 1)
    assert client.request("GET", "/v1/objects/0-emu-d1-old/content/audio").status_code == 404


def test_content_is_not_served_before_it_is_ready(emulator: Running, client: Client) -> None:
    state = emulator.app.state.emulator
    now = state.clock.now()
    state.store.add(
        Document(
            "0-emu-d1-new", "audio", BytesSource(MEDIA), BytesSource(METADATA), now + 60, now + 600
        )
    )
    assert client.request("GET", "/v1/objects/0-emu-d1-new/content/audio").status_code == 404


def test_large_files_stream_in_ranges(emulator: Running, client: Client, tmp_path: Path) -> None:
    data = bytes(i * 7 % 251 for i in range(3_000_000))
    path = tmp_path / "big.wav"
    path.write_bytes(data)
    state = emulator.app.state.emulator
    now = state.clock.now()
    state.store.add(
        Document(
            "0-emu-d1-big",
            "audiowavmultichannel",
            FileSource(path),
            BytesSource(b"{}"),
            now,
            now + 60,
        )
    )
    whole = client.request("GET", "/v1/objects/0-emu-d1-big/content/audiowavmultichannel")
    assert whole.content == data
    middle = client.request(
        "GET",
        "/v1/objects/0-emu-d1-big/content/audiowavmultichannel",
        headers={"Range": "bytes=1048570-2097160"},
    )
    assert middle.content == data[1048570:2097161]


def test_parse_range_table() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == (2, 5)
    assert parse_range("bytes=-3", 10) == (7, 10)
    assert parse_range("bytes=-30", 10) == (0, 10)


def test_python_sdk_1_6_downloads_and_deletes_through_the_interop_policy(
    emulator: Running, document: str
) -> None:
    from callrec.interop import emulator_client

    sdk = emulator_client(emulator)
    location = f"https://us-storage.asm.skype.com/v1/objects/{document}/content/audio"
    assert sdk.download_recording(location).read() == MEDIA
    assert sdk.download_recording(location, offset=100, length=50).read() == MEDIA[100:150]
    sdk.delete_recording(f"https://us-storage.asm.skype.com/v1/objects/{document}")
    time.sleep(0.01)
    with httpx.Client(base_url=emulator.endpoint) as http:
        gone = http.get(f"/v1/objects/{document}/content/audio", auth=HmacAuth(emulator.access_key))
    assert gone.status_code == 404
