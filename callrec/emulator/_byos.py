"""Bring your own storage: a finished recording's files copied to the caller's Azure Blob container.

A start with ``externalStorage {recordingStorageKind: azureBlobStorage,
recordingDestinationContainerUrl}`` (2024-04-15 and later) has its files uploaded there once they
are produced and before ``RecordingFileStatusUpdated`` is published: the bring-your-own-storage
quickstart (Microsoft Learn, "Call recording: Bring your own Azure storage quickstart") says the
event tells that the media is "ready and exported".

Following that quickstart:

- Blob names follow its "Folder Structure for Call Recording": a folder
  ``/YYYYMMDD/callId/first_8_of_recordingId + '-' + unique guid/`` holding
  ``[chunk-id]-acsmetadata.documentId.json`` and ``[chunk-id]-audiomp3.documentId.mp3``. Read
  as: the day the recording started (UTC, emulator clock); the call's correlation id (the
  metadata document's ``callId``); the first 8 characters of the recording id, a dash and a guid
  derived from the whole id (unique per recording, the same on every attempt); the chunk index;
  the content kind of the event's locations followed by the format (``audiomp3``, ``audiowav``,
  ``videomp4``; the unmixed kind ``audiowavmultichannel`` already names its format); the
  document id; the format as extension. A URL naming a folder inside the container puts the
  blobs under that folder.
- The event's locations still point at the service, here the emulator (the quickstart's event
  calls them "Azure Communication Services URL where the content is located"), so the emulator
  keeps its own copy as well, for the usual retention, after a successful export and after a
  failed one ("the failure notification includes the download url to obtain recordings").

The emulator's decisions, where the documents are silent:

- Credentials: a SAS in the URL's query is used as it is; without one, a key configured for the
  URL's account (``Settings.blob_account_keys``, ``--blob-account-key NAME=KEY``) signs the
  requests in place of the service's managed identity; with neither the requests go anonymous
  and the storage refuses them. The account is the first label of a ``<account>.blob.<...>``
  host, otherwise the first path segment (Azurite's path-style URLs).
- A failure ends the recording's export: the first failing upload becomes one entry of the
  preview result's ``errors`` (``code`` and ``message`` from the ``exportErrors`` table of
  ``specs/errors.yaml``, ``target`` the blob URL) and a warning in the log. The event is
  published all the same with the same locations: its schema has no field for errors.
- Secrets: a SAS or a key appears nowhere else. Messages, targets and log lines name URLs
  without their query; for the SDK's errors they are built from the storage's status and error
  code, never from the exception's text (which can quote the request URL with its SAS); and
  every one passes through `redact` all the same. The SDK's own request log is demoted to
  DEBUG (it redacts signatures and keys itself); urllib3's DEBUG request lines get a filter
  that blanks ``sig=``.
- Bounds: every request has connect and read timeouts (``Settings.blob_timeout``) and a couple
  of retries a second apart. Uploads run in a worker thread, a 4 MiB block at a time (staged
  blocks, then the block list), so a large WAV is never held in memory.

The uploads themselves are `_blob`'s, which alone imports azure-storage-blob, and only when a
recording is exported.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TypeGuard
from urllib.parse import parse_qsl, quote, urlsplit

from callrec._specs import read_spec_yaml
from callrec.emulator._content import METADATA_KIND, Document, Source
from callrec.emulator._model import Recording

if TYPE_CHECKING:
    from callrec.emulator._state import Emulator

LOG = logging.getLogger("callrec.emulator")
BLOB_STORAGE_KIND: Final = "azureBlobStorage"  # the RecordingStorageKind exported (any case)
REDACTED: Final = "<redacted>"
_FOLDERS: Final = uuid.UUID("6f2c1f0e-5a4e-4c1b-9f4e-7d0c2b8a9e31")  # names the per-recording guid


class ExportError(Exception):
    """Why an export stopped: ``name`` is a row of ``exportErrors`` in ``specs/errors.yaml``."""

    def __init__(self, name: str, detail: str, target: str | None = None) -> None:
        super().__init__(name)
        self.name = name
        self.detail = detail
        self.target = target


@functools.cache
def catalog() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = read_spec_yaml("errors.yaml")["exportErrors"]
    return rows


@dataclass(frozen=True)
class Target:
    """A container (and folder) to export to. Only ``shown``, the URL without its query, may
    appear in messages; the rest is for the SDK."""

    shown: str
    account_url: str = field(repr=False)
    container: str
    folder: str  # a path inside the container ("" for its root)
    account: str | None
    sas: str | None = field(default=None, repr=False)
    key: str | None = field(default=None, repr=False)

    def blob_url(self, name: str) -> str:
        return f"{self.shown}/{quote(name)}"


@dataclass(frozen=True)
class BlobFile:
    name: str  # inside the container
    source: Source


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return text


PREVIEW_BLOB_TYPE: Final = "blobStorage"  # 2023-01-15-preview's storageType for the caller's blob


def canonical(storage: Any) -> Any:
    """``externalStorage`` in the GA shape: the 2023-01-15-preview shape (``storageType``,
    ``blobStorage.containerUri``, already validated for its version) is read as
    ``recordingStorageKind`` and ``recordingDestinationContainerUrl``; anything else is
    returned as it is."""
    if not isinstance(storage, Mapping) or "storageType" not in storage:
        return storage
    blob = storage.get("blobStorage")
    url = blob.get("containerUri") if isinstance(blob, Mapping) else None
    kind = str(storage["storageType"])
    shaped: dict[str, Any] = {
        "recordingStorageKind": BLOB_STORAGE_KIND if kind == PREVIEW_BLOB_TYPE else kind
    }
    if url is not None:
        shaped["recordingDestinationContainerUrl"] = url
    return shaped


def is_exported(storage: Any) -> TypeGuard[Mapping[str, Any]]:
    """Whether a start's ``externalStorage`` asks for the files in the caller's blob storage."""
    if not isinstance(storage, Mapping):
        return False
    kind = storage.get("recordingStorageKind")
    return isinstance(kind, str) and kind.casefold() == BLOB_STORAGE_KIND.casefold()


def target(storage: Mapping[str, Any], account_keys: Sequence[tuple[str, str]]) -> Target:
    """Where ``externalStorage`` sends the files, with the credential to use; `ExportError`
    (destination-invalid) when its URL cannot work."""
    url = storage.get("recordingDestinationContainerUrl")
    if not isinstance(url, str) or not url:
        raise ExportError("destination-invalid", "The start names no container URL.")
    secrets = secrets_of(storage, account_keys)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ExportError("destination-invalid", "The container URL is not a valid URL.") from None
    sas = parts.query or None
    host = parts.hostname or ""
    netloc = host if port is None else f"{host}:{port}"
    if ":" in host:
        netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
    segments = [segment for segment in parts.path.split("/") if segment]
    path_style = ".blob." not in host
    needed = 2 if path_style else 1
    shown = redact(f"{parts.scheme}://{netloc}/{'/'.join(segments)}".rstrip("/"), secrets)
    if parts.scheme not in ("http", "https") or not host or len(segments) < needed:
        raise ExportError(
            "destination-invalid",
            f"{shown} is not an http(s) URL naming a container"
            + (" (as <host>/<account>/<container>)." if path_style else "."),
        )
    account = segments[0] if path_style else host.split(".", 1)[0]
    account_url = f"{parts.scheme}://{netloc}" + (f"/{segments[0]}" if path_style else "")
    rest = segments[1:] if path_style else segments
    keys = dict(account_keys)
    return Target(
        shown=shown,
        account_url=account_url,
        container=rest[0],
        folder="/".join(rest[1:]),
        account=account,
        sas=sas,
        key=None if sas else keys.get(account),
    )


def secrets_of(
    storage: Mapping[str, Any], account_keys: Sequence[tuple[str, str]]
) -> tuple[str, ...]:
    """What must never be shown: the URL's query, each signature in it (raw and decoded), and
    every configured account key. Never raises."""
    url = storage.get("recordingDestinationContainerUrl")
    query = url.partition("?")[2].partition("#")[0] if isinstance(url, str) else ""
    return (*_query_secrets(query), *(key for _, key in account_keys))


def _query_secrets(query: str) -> Iterator[str]:
    if not query:
        return
    yield query
    for raw in query.split("&"):
        name, _, value = raw.partition("=")
        if name.casefold() == "sig" and value:
            yield value
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name.casefold() == "sig" and value:
            yield value
            yield quote(value, safe="")


# ---------------------------------------------------------------- blob names
def folder(recording: Recording) -> str:
    """``YYYYMMDD/<callId>/<first 8 of the recording id>-<guid>``: the quickstart's folder."""
    day = datetime.fromtimestamp(recording.started_at, UTC).strftime("%Y%m%d")
    unique = uuid.uuid5(_FOLDERS, recording.id)
    return f"{day}/{recording.call.correlation_id}/{recording.id[:8]}-{unique}"


def media_name(media: Mapping[str, Any]) -> str:
    """The media part of a blob name: content kind and format (``audiomp3``, ``videomp4``)."""
    kind, extension = str(media["contentKind"]), str(media["format"])
    return kind if extension in kind else kind + extension


def blob_files(
    recording: Recording, documents: Sequence[tuple[int, Document]], prefix: str = ""
) -> list[BlobFile]:
    """Each chunk's media, then its metadata document, in chunk order."""
    base = "/".join(part for part in (prefix, folder(recording)) if part)
    media = recording.media
    files: list[BlobFile] = []
    for index, document in sorted(documents, key=lambda pair: pair[0]):
        media_blob = f"{base}/{index}-{media_name(media)}.{document.document_id}.{media['format']}"
        files.append(BlobFile(media_blob, document.media))
        metadata_blob = f"{base}/{index}-{METADATA_KIND}.{document.document_id}.json"
        files.append(BlobFile(metadata_blob, document.metadata))
    return files


# ---------------------------------------------------------------- the export
async def export(emulator: Emulator, recording: Recording) -> None:
    """Copy a finished recording's files to the blob container its start named, if any; a
    failure becomes an entry of ``recording.upload_errors``. Never raises."""
    storage = canonical(recording.options.get("externalStorage"))
    if not is_exported(storage):
        return
    settings = emulator.settings
    secrets = secrets_of(storage, settings.blob_account_keys)
    try:
        where = target(storage, settings.blob_account_keys)
        documents = [
            (int(chunk["index"]), document)
            for chunk in recording.chunks
            if (document := emulator.store.documents.get(str(chunk["documentId"]))) is not None
        ]
        files = blob_files(recording, documents, where.folder)
        started = time.perf_counter()
        from callrec.emulator import _blob  # noqa: PLC0415 (azure-storage-blob only when used)

        sent = await asyncio.to_thread(_blob.upload, where, files, settings.blob_timeout)
    except ExportError as failure:
        _fail(recording, failure, secrets)
        return
    except Exception as exc:  # anything else must not stop the event
        unexpected = ExportError("export-failed", f"{type(exc).__name__}: {exc}")
        _fail(recording, unexpected, secrets)
        return
    seconds = time.perf_counter() - started
    LOG.info(
        "recording %s: %d blobs, %.1f MB exported to %s in %.2fs (%.0f MB/s)",
        recording.id,
        len(files),
        sent / 1e6,
        where.shown,
        seconds,
        sent / 1e6 / max(seconds, 1e-6),
    )


def _fail(recording: Recording, failure: ExportError, secrets: Sequence[str]) -> None:
    entry = catalog()[failure.name]
    error = {
        "code": entry["code"],
        "message": redact(f"{entry['message']} {failure.detail}", secrets),
    }
    if failure.target is not None:
        error["target"] = redact(failure.target, secrets)
    recording.upload_errors.append(error)
    LOG.warning("recording %s: export failed: %s", recording.id, error["message"])
