"""The suites' command-line options and environment variables, read once into `RunOptions`.

A bad value ends the run with one line naming the option (and the variable it came from).
Command-line values win over the environment. ``--live`` asks for a run against a real
resource: it needs an endpoint (it never starts the embedded emulator), refuses plain http to
another machine, and makes the polite settings the defaults (a request rate, retries of
throttled answers, the event timeout the service needs).
"""

from __future__ import annotations

import ipaddress
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import pytest

from callrec.auth import ConnectionString
from callrec.specs import api_versions

ENV_CONNECTION: Final = "CALLREC_CONNECTION_STRING"
ENV_CALL_IDS: Final = "CALLREC_SERVER_CALL_IDS"
ENV_CALLBACK_URL: Final = "CALLREC_CALLBACK_URL"
ENV_CA_FILE: Final = "CALLREC_CA_FILE"
ENV_MAX_REQUESTS: Final = "CALLREC_MAX_REQUESTS"
ENV_RATE: Final = "CALLREC_RATE"
NEWEST: Final = "newest"
ALL: Final = "all"
DEFAULT_EVENT_TIMEOUT: Final = 20.0
# --live's defaults: the service takes 1-2 minutes to announce files; 5 requests a second
# across all workers; a throttled or failed answer is sent again up to 4 times
LIVE_EVENT_TIMEOUT: Final = 150.0
LIVE_RATE: Final = 5.0
LIVE_RETRIES: Final = 4


@dataclass(frozen=True)
class RunOptions:
    """The run's settings, read once from the command line and the environment."""

    connection: ConnectionString | None  # None: start the embedded emulator
    api_version: str  # NEWEST, ALL or one version
    server_call_ids: tuple[str, ...]
    callback_url: str | None
    event_timeout: float
    report_dir: Path
    run_id: str
    exclusive: bool = False
    ca_file: Path | None = None  # a CA (PEM) to trust for the endpoint's TLS
    max_requests: int | None = None  # the run's request budget (every request, retries too)
    rate: float | None = None  # requests per second over the whole run; None: unlimited
    retries: int = 0  # how often a throttled or failed answer is sent again
    no_destructive: bool = False  # delete no recorded content
    live: bool = False

    def __repr__(self) -> str:
        endpoint = self.connection.endpoint if self.connection else "embedded emulator"
        return f"RunOptions({endpoint}, api_version={self.api_version!r})"

    @property
    def folder(self) -> Path:
        """This run's folder: ``<report dir>/<run id>``."""
        return self.report_dir / self.run_id


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("callrec", "callrec conformance suites (suites/)")
    add = group.addoption
    add(
        "--connection-string",
        metavar="CS",
        help=f"the endpoint to check (default: ${ENV_CONNECTION}, else an embedded emulator)",
    )
    add(
        "--api-version",
        default=NEWEST,
        metavar="V",
        help="an api-version, 'newest' (the newest GA the target serves; default) or 'all'",
    )
    add(
        "--server-call-id",
        action="append",
        default=[],
        metavar="ID",
        help=f"a call you keep alive for the suite to record (repeatable; default: "
        f"${ENV_CALL_IDS}, comma or space separated)",
    )
    add(
        "--server-call-ids-from",
        metavar="FILE",
        help="server call ids, one per line ('#' comments), as --server-call-id",
    )
    add(
        "--callback-url",
        metavar="URL",
        help=f"public URL forwarding to the suite's webhook, when the target is remote "
        f"(default: ${ENV_CALLBACK_URL})",
    )
    add(
        "--event-timeout",
        type=float,
        default=None,
        metavar="S",
        help=f"seconds to wait for a callback or event (default {DEFAULT_EVENT_TIMEOUT:g}; "
        f"{LIVE_EVENT_TIMEOUT:g} with --live)",
    )
    add(
        "--requirement",
        action="append",
        default=[],
        metavar="ID",
        help="run only the tests checking these requirements (repeatable; REC-AREA- prefixes too)",
    )
    add(
        "--exclusive-target",
        action="store_true",
        help="nothing else uses the target during the run (one process): the suite may move "
        "an emulator's clock (the embedded emulator is always exclusive to its process)",
    )
    add(
        "--report-dir",
        default="reports",
        metavar="DIR",
        help="where each run writes <run id>/results.jsonl (default reports/); keep it between "
        "runs: the cleanup journal of a run that died is found there",
    )
    add("--ca-file", metavar="PEM", help=f"trust this CA for the endpoint (default ${ENV_CA_FILE})")
    add(
        "--max-requests",
        metavar="N",
        help=f"send at most N requests in the whole run, retries and cleanup included; tests "
        f"beyond are not applicable (default: ${ENV_MAX_REQUESTS}, else no limit)",
    )
    add(
        "--rate",
        metavar="R",
        help=f"at most R requests a second over the whole run (all workers); 0: no limit "
        f"(default: ${ENV_RATE}, else {LIVE_RATE:g} with --live, else no limit)",
    )
    add(
        "--retries",
        metavar="N",
        help=f"send a request again up to N times after 429, 5xx or a failed connection, "
        f"honouring Retry-After (default {LIVE_RETRIES} with --live, else 0)",
    )
    add(
        "--no-destructive",
        action="store_true",
        help="delete nothing the user may want (recorded content): tests that delete are "
        "not applicable",
    )
    add(
        "--live",
        action="store_true",
        help=f"a run against a real resource: needs ${ENV_CONNECTION}, refuses plain http to "
        "another machine, and defaults to the polite --rate, --retries and --event-timeout",
    )


def _from(config: pytest.Config, option: str, variable: str) -> tuple[Any, str]:
    """An option's value, else its variable's; and the name to blame for a bad value."""
    value = config.getoption(option)
    flag = "--" + option.replace("_", "-")
    if value is not None:
        return value, flag
    return os.environ.get(variable) or None, f"{flag} (from ${variable})"


def _number(text: Any, name: str, *, whole: bool, least: float) -> float | None:
    if text is None:
        return None
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = None
    if value is None or not value >= least:  # NaN too
        kind = "a whole number" if whole else "a number"
        raise pytest.UsageError(f"{name}: {text!r} is not {kind} of at least {least:g}")
    return value


def read_options(config: pytest.Config) -> RunOptions:
    workerinput = getattr(config, "workerinput", None)
    text = config.getoption("connection_string") or os.environ.get(ENV_CONNECTION) or None
    if workerinput is not None and workerinput.get("callrec_connection"):
        text = workerinput["callrec_connection"]
    connection = None
    if text:
        try:
            connection = ConnectionString.parse(text)
        except ValueError as exc:
            raise pytest.UsageError(f"--connection-string: {safe(str(exc))}") from None
    live = bool(config.getoption("live"))
    if live:
        _check_live(connection)
    version = config.getoption("api_version")
    if version not in (NEWEST, ALL, *api_versions()):
        raise pytest.UsageError(
            f"--api-version: {version!r} is not one of {NEWEST}, {ALL}, "
            + ", ".join(api_versions())
        )
    timeout = config.getoption("event_timeout")
    if timeout is None:
        timeout = LIVE_EVENT_TIMEOUT if live else DEFAULT_EVENT_TIMEOUT
    if not timeout > 0:
        raise pytest.UsageError("--event-timeout: must be a number of seconds above 0")
    run_id = (
        workerinput["callrec_run_id"]
        if workerinput is not None and "callrec_run_id" in workerinput
        else datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    )
    callback_url, _ = _from(config, "callback_url", ENV_CALLBACK_URL)
    budget = _number(*_from(config, "max_requests", ENV_MAX_REQUESTS), whole=True, least=1)
    rate = _number(*_from(config, "rate", ENV_RATE), whole=False, least=0)
    retries = _number(config.getoption("retries"), "--retries", whole=True, least=0)
    return RunOptions(
        connection,
        version,
        _call_ids(config),
        callback_url,
        float(timeout),
        Path(config.getoption("report_dir")),
        run_id,
        bool(config.getoption("exclusive_target")),
        ca_file=_ca_file(config),
        max_requests=None if budget is None else int(budget),
        rate=(LIVE_RATE if live else None) if rate is None else (rate or None),
        retries=(LIVE_RETRIES if live else 0) if retries is None else int(retries),
        no_destructive=bool(config.getoption("no_destructive")),
        live=live,
    )


def _loopback(host: str | None) -> bool:
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _check_live(connection: ConnectionString | None) -> None:
    if connection is None:
        raise pytest.UsageError(
            f"--live: no endpoint to check: set {ENV_CONNECTION} (or pass --connection-string); "
            "a live run never starts the embedded emulator"
        )
    where = urlsplit(connection.endpoint)
    if where.scheme == "http" and not _loopback(where.hostname):
        raise pytest.UsageError(
            f"--live: {connection.endpoint} is plain http on another machine: the signed "
            "requests would cross the network in clear; use https"
        )


def _ca_file(config: pytest.Config) -> Path | None:
    text, name = _from(config, "ca_file", ENV_CA_FILE)
    if text is None:
        return None
    path = Path(text)
    try:
        head = path.read_bytes()[:4096]
    except OSError as exc:
        raise pytest.UsageError(f"{name}: cannot read {text}: {exc.strerror or exc}") from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise pytest.UsageError(f"{name}: {text} holds no PEM certificate")
    return path.resolve()


def safe(message: str) -> str:
    """A parse error without anything that could be a key."""
    return (
        message
        if len(message) < 200 and "accesskey=" not in message.lower()
        else ("not a connection string (endpoint=https://...;accesskey=...)")
    )


def _call_ids(config: pytest.Config) -> tuple[str, ...]:
    values: list[str] = config.getoption("server_call_id")
    file: str | None = config.getoption("server_call_ids_from")
    found = [value.strip() for value in values if value.strip()]
    if file:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise pytest.UsageError(
                f"--server-call-ids-from: cannot read {file}: {exc.strerror or exc}"
            ) from None
        found += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not found:  # server call ids are base64: neither commas nor spaces occur in one
        found = re.split(r"[\s,]+", os.environ.get(ENV_CALL_IDS, "").strip())
    return tuple(value for value in found if value)
