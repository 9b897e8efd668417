"""The Azure Blob side of bring your own storage: uploads with azure-storage-blob (see `_byos`).

Imported only when a recording is exported, so the emulator loads no Azure SDK otherwise. Runs
in a worker thread: each file goes up a `BLOCK` at a time (staged blocks, then the block list;
a file of at most one block in a single request), so a large WAV is never held in memory.
Every request has connect and read timeouts and at most `RETRIES` retries `BACKOFF` seconds
apart. A failure is an `ExportError` whose words come from the storage's status and error code
or the operating system's reason, never from the exception's text (it can quote the request
URL, SAS and all).
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import re
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from azure.core.credentials import AzureSasCredential
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.storage.blob import BlobBlock, ContainerClient, ContentSettings, LinearRetry

from callrec.emulator._byos import REDACTED, BlobFile, ExportError, Target

BLOCK: Final = 4 << 20  # bytes per staged block; smaller files go up in one request
RETRIES: Final = 2  # after the first attempt of a request
BACKOFF: Final = 1  # seconds between attempts
_SIGNATURE: Final = re.compile(r"([?&]sig=)[^&\s\"']+", re.IGNORECASE)


def credential(where: Target) -> AzureSasCredential | dict[str, str] | None:
    """The URL's SAS, else the account's configured key, else nothing (anonymous)."""
    if where.sas:
        return AzureSasCredential(where.sas)
    if where.key and where.account:
        return {"account_name": where.account, "account_key": where.key}
    return None


class _SignatureFilter(logging.Filter):
    """Blanks ``sig=`` query values in log records: urllib3 logs each request line, query and
    all, at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _SIGNATURE.sub(r"\1" + REDACTED, record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SIGNATURE.sub(r"\1" + REDACTED, arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


@functools.cache
def _guard_transport_log() -> None:
    """Put `_SignatureFilter` on the HTTP transport's request log (once per process)."""
    logging.getLogger("urllib3.connectionpool").addFilter(_SignatureFilter())


def upload(where: Target, files: Sequence[BlobFile], timeout: float) -> int:
    """Upload ``files`` in order (blocking); the bytes sent, or `ExportError` for the first
    that fails."""
    _guard_transport_log()
    container = ContainerClient(
        where.account_url,
        where.container,
        credential=credential(where),
        connection_timeout=timeout,
        read_timeout=timeout,
        retry_policy=LinearRetry(backoff=BACKOFF, retry_total=RETRIES, random_jitter_range=0),
        http_logging_level=logging.DEBUG,
    )
    sent = 0
    with container:
        for file in files:
            try:
                sent += _upload_one(container, file)
            except AzureError as exc:
                name, detail = _explain(exc, where, file, timeout)
                raise ExportError(name, detail, where.blob_url(file.name)) from None
            except OSError as exc:  # reading the emulator's own file (deleted meanwhile?)
                detail = f"Reading {file.name} failed: {exc.strerror or type(exc).__name__}."
                raise ExportError("export-failed", detail, where.blob_url(file.name)) from None
    return sent


def _upload_one(container: ContainerClient, file: BlobFile) -> int:
    blob = container.get_blob_client(file.name)
    size = file.source.size
    settings = ContentSettings(
        content_type=mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    )
    if size <= BLOCK:
        data = b"".join(file.source.blocks(0, size))
        blob.upload_blob(data, overwrite=True, content_settings=settings)
        return size
    blocks: list[BlobBlock] = []
    for number, offset in enumerate(range(0, size, BLOCK)):
        block_id = f"{number:08d}"  # same length for every block, as the service requires
        data = b"".join(file.source.blocks(offset, min(offset + BLOCK, size)))
        blob.stage_block(block_id, data, length=len(data))
        blocks.append(BlobBlock(block_id))
    blob.commit_block_list(blocks, content_settings=settings)
    return size


def _explain(exc: AzureError, where: Target, file: BlobFile, timeout: float) -> tuple[str, str]:
    """(exportErrors row, specifics) for an SDK error, from its type and the storage's status
    and error code only."""
    host = urlsplit(where.shown).netloc
    attempts = RETRIES + 1
    if isinstance(exc, ServiceRequestTimeoutError | ServiceResponseTimeoutError):
        return "storage-timeout", (
            f"{host} did not answer within {timeout:g}s ({attempts} attempts) "
            f"while {file.name} was being uploaded."
        )
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return "storage-unreachable", (
            f"{host}: {_os_reason(exc)} ({attempts} attempts) while {file.name} was being uploaded."
        )
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        code = _header(exc, "x-ms-error-code") or _code(getattr(exc, "error_code", None))
        detail = f"PUT {file.name}: {exc.status_code} {code}"
        if exc.reason:
            detail += f" ({exc.reason.rstrip('.')})"
        if where.sas is None and where.key is None:
            detail += f"; the URL has no SAS and no key is configured for account {where.account!r}"
        return "storage-refused", detail + "."
    return "export-failed", f"{type(exc).__name__} while {file.name} was being uploaded."


def _code(value: Any) -> str:
    """The SDK's error code (a string or a `StorageErrorCode`) as the service spells it."""
    return str(getattr(value, "value", value) or "no error code")


def _header(exc: HttpResponseError, name: str) -> str | None:
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get(name)
    return str(value) if value else None


def _os_reason(exc: BaseException) -> str:
    """The operating system's words for a failed connection ("Connection refused"), found in
    the exception's causes; never the exception's own text (it can quote the URL)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return str(current.strerror)
        linked = (
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            getattr(current, "inner_exception", None),
            *current.args,
        )
        stack.extend(item for item in linked if isinstance(item, BaseException))
    return "the connection failed"
