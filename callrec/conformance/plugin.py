"""The pytest plugin behind ``suites/``: options, the target, calls, the webhook, results.

Inert until a test asks for its fixtures: the project's own tests load it too and start
nothing. The first test that needs ``target`` probes the endpoint (or starts the embedded
emulator); a target that cannot be used ends the run with one line naming the option.

Outcomes per test and api-version go to ``<report dir>/<run id>/results.jsonl``: ``pass``,
``fail``, ``not-observed`` (waited for something that never came: `NotObserved`), and
``not-applicable`` (the target or call provider cannot give what the test needs, with the
reason). Tests name the requirements they check with ``@pytest.mark.requirement(...)``.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import httpx
import pytest

from callrec._version import __version__
from callrec.auth import ConnectionString
from callrec.client import Client
from callrec.conformance._calls import (
    CallProvider,
    EmulatorCalls,
    NoCalls,
    NotApplicable,
    ProvidedCall,
    SuppliedCalls,
)
from callrec.conformance._evidence import Exchanges, transitions
from callrec.conformance._evidence import deliveries as evidence_deliveries
from callrec.conformance._receiver import NotObserved, Receiver
from callrec.conformance._results import deviation_for, deviations, spec_profile, write_run
from callrec.conformance._target import Target, TargetError, embedded_emulator, probe
from callrec.specs import api_versions, requirements

ENV_CONNECTION: Final = "CALLREC_CONNECTION_STRING"
NEWEST: Final = "newest"
ALL: Final = "all"
NOT_APPLICABLE: Final = "not applicable: "
DEFAULT_EVENT_TIMEOUT: Final = 20.0


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

    def __repr__(self) -> str:
        endpoint = self.connection.endpoint if self.connection else "embedded emulator"
        return f"RunOptions({endpoint}, api_version={self.api_version!r})"


OPTIONS_KEY = pytest.StashKey[RunOptions]()
STATE_KEY = pytest.StashKey[dict[str, Any]]()
EXCHANGES_KEY = pytest.StashKey[list[Exchanges]]()
EVIDENCE_KEY = pytest.StashKey[list[dict[str, Any]]]()
STARTED_KEY = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("callrec", "callrec conformance suites (suites/)")
    group.addoption(
        "--connection-string",
        metavar="CS",
        help=f"the endpoint to check (default: ${ENV_CONNECTION}, else an embedded emulator)",
    )
    group.addoption(
        "--api-version",
        default=NEWEST,
        metavar="V",
        help="an api-version, 'newest' (the newest GA the target serves; default) or 'all'",
    )
    group.addoption(
        "--server-call-id",
        action="append",
        default=[],
        metavar="ID",
        help="a call you keep alive for the suite to record (repeatable)",
    )
    group.addoption(
        "--server-call-ids-from",
        metavar="FILE",
        help="server call ids, one per line ('#' comments), as --server-call-id",
    )
    group.addoption(
        "--callback-url",
        metavar="URL",
        help="public URL forwarding to the suite's webhook (when the target is remote)",
    )
    group.addoption(
        "--event-timeout",
        type=float,
        default=DEFAULT_EVENT_TIMEOUT,
        metavar="S",
        help=f"seconds to wait for a callback or event (default {DEFAULT_EVENT_TIMEOUT:g})",
    )
    group.addoption(
        "--requirement",
        action="append",
        default=[],
        metavar="ID",
        help="run only the tests checking these requirements (repeatable; REC-AREA- prefixes too)",
    )
    group.addoption(
        "--exclusive-target",
        action="store_true",
        help="nothing else uses the target during the run (one process): the suite may move "
        "an emulator's clock (the embedded emulator is always exclusive to its process)",
    )
    group.addoption(
        "--report-dir",
        default="reports",
        metavar="DIR",
        help="where each run writes <run id>/results.jsonl (default reports/)",
    )


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from callrec.conformance import hooks  # noqa: PLC0415

    pluginmanager.add_hookspecs(hooks)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requirement(*ids): the catalog requirements (REC-...) a conformance test checks"
    )
    options = _read_options(config)
    config.stash[OPTIONS_KEY] = options
    config.stash[STATE_KEY] = {"exchanges": 0, "started": time.time()}
    if options.connection is not None and not hasattr(config, "workerinput"):
        _check_at_startup(options, options.connection)


def _check_at_startup(options: RunOptions, connection: ConnectionString) -> None:
    """A given endpoint, version and calls are checked once, before any test runs: a problem
    is one line naming the option, not a screen of failing tests."""
    try:
        found = probe(connection)
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    problem = _version_problem(options.api_version, found)
    if problem:
        raise pytest.UsageError(problem)
    if options.server_call_ids:
        with found.client() as client:
            for server_call_id in options.server_call_ids:
                problem = check_call(client, found, server_call_id)
                if problem:
                    raise pytest.UsageError(f"--server-call-id: {problem}")


def _version_problem(chosen: str, found: Target) -> str | None:
    if chosen in (NEWEST, ALL) or chosen in found.api_versions:
        return None
    return (
        f"--api-version: {found.endpoint} does not serve {chosen} "
        f"(it serves {', '.join(found.api_versions)})"
    )


def _read_options(config: pytest.Config) -> RunOptions:
    workerinput = getattr(config, "workerinput", None)
    text = config.getoption("connection_string") or os.environ.get(ENV_CONNECTION) or None
    if workerinput is not None and workerinput.get("callrec_connection"):
        text = workerinput["callrec_connection"]
    connection = None
    if text:
        try:
            connection = ConnectionString.parse(text)
        except ValueError as exc:
            raise pytest.UsageError(f"--connection-string: {_safe(str(exc))}") from None
    version = config.getoption("api_version")
    if version not in (NEWEST, ALL, *api_versions()):
        raise pytest.UsageError(
            f"--api-version: {version!r} is not one of {NEWEST}, {ALL}, "
            + ", ".join(api_versions())
        )
    timeout = config.getoption("event_timeout")
    if not timeout > 0:
        raise pytest.UsageError("--event-timeout: must be a number of seconds above 0")
    run_id = (
        workerinput["callrec_run_id"]
        if workerinput is not None and "callrec_run_id" in workerinput
        else datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    )
    return RunOptions(
        connection,
        version,
        _call_ids(config.getoption("server_call_id"), config.getoption("server_call_ids_from")),
        config.getoption("callback_url"),
        float(timeout),
        Path(config.getoption("report_dir")),
        run_id,
        bool(config.getoption("exclusive_target")),
    )


def _safe(message: str) -> str:
    """A parse error without anything that could be a key."""
    return (
        message
        if len(message) < 200 and "accesskey=" not in message.lower()
        else ("not a connection string (endpoint=https://...;accesskey=...)")
    )


def _call_ids(values: list[str], file: str | None) -> tuple[str, ...]:
    found = [value.strip() for value in values if value.strip()]
    if file:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise pytest.UsageError(
                f"--server-call-ids-from: cannot read {file}: {exc.strerror or exc}"
            ) from None
        found += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return tuple(found)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker gets the controller's run id (and connection, when one is set)."""
    options = node.config.stash[OPTIONS_KEY]
    node.workerinput["callrec_run_id"] = options.run_id
    if options.connection is not None:
        node.workerinput["callrec_connection"] = str(options.connection)


# ---------------------------------------------------------------- collection
@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Conformance tests taking ``api_version`` run once per selected version."""
    if "api_version" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("requirement") is None:
        return
    chosen = metafunc.config.stash[OPTIONS_KEY].api_version
    versions = api_versions() if chosen == ALL else [chosen]
    metafunc.parametrize("api_version", versions, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    known = {entry["id"] for entry in requirements()}
    for item in items:
        for marker in item.iter_markers("requirement"):
            unknown = [rid for rid in marker.args if rid not in known]
            if unknown or not marker.args:
                raise pytest.UsageError(
                    f"{item.nodeid}: requirement marker names no catalog id or unknown ones: "
                    f"{', '.join(unknown) or '(none)'}"
                )
    wanted = tuple(config.getoption("requirement"))
    if not wanted:
        return
    unmatched = [w for w in wanted if not any(rid.startswith(w) for rid in known)]
    if unmatched:
        raise pytest.UsageError(f"--requirement: no catalog id matches {', '.join(unmatched)}")
    keep = [item for item in items if any(r.startswith(wanted) for r in requirement_ids(item))]
    dropped = [item for item in items if item not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def requirement_ids(item: pytest.Item) -> list[str]:
    return [rid for marker in item.iter_markers("requirement") for rid in marker.args]


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def run_options(request: pytest.FixtureRequest) -> RunOptions:
    return request.config.stash[OPTIONS_KEY]


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, run_options: RunOptions) -> Iterator[Target]:
    """The endpoint under test: probed once per process; the embedded emulator when no
    connection string is given (one per xdist worker)."""
    with contextlib.ExitStack() as stack:
        try:
            connection = run_options.connection or stack.enter_context(embedded_emulator())
            found = probe(connection)
        except TargetError as exc:
            pytest.exit(f"callrec: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
        problem = _version_problem(run_options.api_version, found)
        if problem:
            pytest.exit(f"callrec: {problem}", returncode=pytest.ExitCode.USAGE_ERROR)
        state = request.config.stash[STATE_KEY]
        state["target"] = {"endpoint": found.endpoint, "kind": found.kind}
        state["exclusive"] = run_options.connection is None or run_options.exclusive
        yield found


@pytest.fixture(scope="session")
def newest_version(target: Target) -> str:
    """The newest generally available version the target serves."""
    general = [v for v in target.api_versions if "preview" not in v]
    return (general or list(target.api_versions))[-1]


@pytest.fixture
def api_version(request: pytest.FixtureRequest, target: Target, newest_version: str) -> str:
    chosen = getattr(request, "param", NEWEST)
    version = newest_version if chosen == NEWEST else str(chosen)
    request.node.user_properties.append(("api_version", version))
    if version not in target.api_versions:
        pytest.skip(f"{NOT_APPLICABLE}the target does not serve api-version {version}")
    applies = [
        entry["id"]
        for entry in requirements()
        if entry["id"] in requirement_ids(request.node)
        and (entry["versions"] == "all" or version in entry["versions"])
    ]
    if not applies:
        pytest.skip(f"{NOT_APPLICABLE}none of the test's requirements apply to {version}")
    return version


@pytest.fixture(scope="session")
def exchange_counter(request: pytest.FixtureRequest) -> Any:
    state = request.config.stash[STATE_KEY]

    def count(_response: httpx.Response) -> None:
        state["exchanges"] += 1

    return count


@pytest.fixture
def target_client(
    request: pytest.FixtureRequest, target: Target, api_version: str
) -> Iterator[Client]:
    """A signed client for the target at the test's api-version; every exchange is counted
    and kept as the test's evidence."""
    exchanges = Exchanges()
    request.node.stash.setdefault(EXCHANGES_KEY, []).append(exchanges)
    with target.client(api_version) as client:
        client.http.event_hooks["request"].append(exchanges.on_request)
        client.http.event_hooks["response"].append(exchanges.on_response)
        yield client


class Evidence:
    """What a test adds to its evidence beyond exchanges and deliveries (transitions it
    checked, per-channel audio energy, notes)."""

    def __init__(self, kept: list[dict[str, Any]]) -> None:
        self._kept = kept

    def add(self, kind: str, **data: Any) -> None:
        self._kept.append({"kind": kind, "at": time.time(), **data})


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Evidence:
    return Evidence(request.node.stash.setdefault(EVIDENCE_KEY, []))


@pytest.fixture(scope="session")
def session_client(target: Target, exchange_counter: Any) -> Iterator[Client]:
    """A signed client for session-wide chores (the control API, subscriptions)."""
    with target.client() as client:
        client.http.event_hooks["response"].append(exchange_counter)
        yield client


@pytest.fixture(scope="session")
def call_provider(
    request: pytest.FixtureRequest,
    target: Target,
    run_options: RunOptions,
    session_client: Client,
) -> CallProvider:
    """Where calls come from: the ``pytest_callrec_call_provider`` hook, else the emulator's
    control API, else ``--server-call-id``, else nothing (tests needing calls: not
    applicable)."""
    provided = request.config.hook.pytest_callrec_call_provider(
        config=request.config, target=target
    )
    if provided is not None:
        return provided  # type: ignore[no-any-return]
    if run_options.server_call_ids:
        for server_call_id in run_options.server_call_ids:
            problem = check_call(session_client, target, server_call_id)
            if problem:
                pytest.exit(
                    f"callrec: --server-call-id: {problem}", returncode=pytest.ExitCode.USAGE_ERROR
                )
        return SuppliedCalls(run_options.server_call_ids)
    if target.is_emulator:
        return EmulatorCalls(session_client)
    return NoCalls()


def check_call(client: Client, target: Target, server_call_id: str) -> str | None:
    """Why a supplied call cannot be recorded, or None. On an emulator the control API tells;
    elsewhere a recording is started on it and stopped at once (the only way to know)."""
    shown = server_call_id if len(server_call_id) <= 24 else server_call_id[:24] + "…"
    if target.is_emulator:
        answer = client.request("GET", f"/emulator/calls/{quote(server_call_id, safe='')}")
        if answer.status_code != 200:
            return f"the emulator has no call {shown}"
        if answer.json().get("ended"):
            return f"the call {shown} has ended"
        return None
    locator = {"kind": "serverCallLocator", "serverCallId": server_call_id}
    started = client.start({"callLocator": locator})
    if started.status_code not in (200, 202):
        code = ""
        with contextlib.suppress(ValueError, AttributeError):
            code = f" (code {started.json()['error']['code']})"
        return f"cannot record the call {shown}: start answered {started.status_code}{code}"
    with contextlib.suppress(ValueError, KeyError):
        client.stop(started.json()["recordingId"])
    return None


@pytest.fixture
def provided_call(call_provider: CallProvider) -> Iterator[ProvidedCall]:
    """A call to record for this test."""
    try:
        with call_provider.call() as call:
            yield call
    except NotApplicable as exc:
        pytest.skip(f"{NOT_APPLICABLE}{exc}")


def needs(provider: CallProvider, capability: str, why: str) -> None:
    """Not applicable unless the call provider can ``capability``."""
    if capability not in provider.capabilities:
        pytest.skip(f"{NOT_APPLICABLE}{why} (the call provider cannot: {capability})")


@pytest.fixture(scope="session")
def hooks(request: pytest.FixtureRequest, run_options: RunOptions) -> Iterator[Receiver]:
    """The suite's webhook for callbacks and Event Grid deliveries."""
    receiver = Receiver(public_url=run_options.callback_url)
    request.config.stash[STATE_KEY]["receiver"] = receiver
    yield receiver
    request.config.stash[STATE_KEY].pop("receiver", None)
    receiver.close()


class ClockControl:
    """Moves the target's clock: a callrec emulator's ``POST /emulator/clock:advance``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def advance(self, seconds: float) -> None:
        self._client.advance_clock(seconds)


@pytest.fixture
def clock_control(
    request: pytest.FixtureRequest, target: Target, session_client: Client
) -> ClockControl:
    """The target's clock, for requirements about time (retention): only on a callrec
    emulator used by this process alone (the embedded one, or ``--exclusive-target``)."""
    if not target.is_emulator:
        raise NotApplicable("only a callrec emulator's clock can be moved; days cannot pass here")
    if not request.config.stash[STATE_KEY].get("exclusive"):
        raise NotApplicable(
            "the emulator may be shared with other processes, and moving its clock would "
            "expire their files: run with --exclusive-target (one process) to check this"
        )
    return ClockControl(session_client)


@pytest.fixture(scope="session")
def event_timeout(run_options: RunOptions) -> float:
    return run_options.event_timeout


# ---------------------------------------------------------------- outcomes
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[STARTED_KEY] = time.time()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(NotApplicable):
        report.outcome = "skipped"
        reason = NOT_APPLICABLE + str(call.excinfo.value)
        report.longrepr = (str(item.path), item.location[1] or 0, reason)
    if item.get_closest_marker("requirement") is None:
        return report
    deviation = None
    if report.when == "call":
        deviation = _apply_deviations(item, report)
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _record(item, report, call, deviation)
    return report


def _apply_deviations(item: pytest.Item, report: pytest.TestReport) -> dict[str, Any] | None:
    """Strict known deviations: a failure they expect is reported as such; a pass while one
    is expected fails the test (the entry should go)."""
    state = item.config.stash[STATE_KEY]
    kind = (state.get("target") or {}).get("kind")
    version = _version_of(item)
    ids = requirement_ids(item)
    found = deviations(str(kind)) if kind else []
    matched = [deviation_for(found, rid, version) for rid in ids]
    if not ids or not all(matched):
        return None
    entry = dict(matched[0] or {})
    if report.outcome == "failed":
        report.outcome = "skipped"
        reason = f"known deviation: {entry['reason']}"
        report.longrepr = (str(item.path), item.location[1] or 0, reason)
        return entry
    if report.outcome == "passed":
        report.outcome = "failed"
        report.longrepr = (
            f"known deviation no longer happens: {', '.join(ids)} passed on {kind} {version}; "
            "remove the entry from specs/deviations.yaml"
        )
    return None


def _version_of(item: pytest.Item) -> str | None:
    version = dict(item.user_properties).get("api_version")
    return None if version is None else str(version)


SKIP_KINDS: Final = ((NOT_APPLICABLE, "not-applicable"), ("known deviation: ", "known-deviation"))


def _status(report: pytest.TestReport, call: pytest.CallInfo[None]) -> tuple[str, str]:
    if report.outcome == "passed":
        return "pass", ""
    if report.outcome == "skipped":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        for prefix, status in SKIP_KINDS:
            if reason.startswith(prefix):
                return status, reason.removeprefix(prefix)
        return "skipped", reason
    if isinstance(report.longrepr, str):
        return "fail", report.longrepr
    message = str(call.excinfo.value) if call.excinfo is not None else report.longreprtext
    if call.excinfo is not None and call.excinfo.errisinstance(NotObserved):
        return "not-observed", _one_line(message)
    return "fail", _one_line(message) or "failed"


def _one_line(message: str) -> str:
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[0][:500] if lines else ""


def _record(
    item: pytest.Item,
    report: pytest.TestReport,
    call: pytest.CallInfo[None],
    deviation: dict[str, Any] | None,
) -> None:
    state = item.config.stash[STATE_KEY]
    status, message = _status(report, call)
    version = _version_of(item)
    began: float = item.stash.get(STARTED_KEY, time.time())
    clients = item.stash.get(EXCHANGES_KEY, [])
    state["exchanges"] += sum(exchanges.count for exchanges in clients)
    exchanges = [exchange for client in clients for exchange in client.kept]
    exchanges.sort(key=lambda exchange: exchange["at"])
    seen: list[dict[str, Any]] = list(exchanges)
    receiver = state.get("receiver")
    if isinstance(receiver, Receiver):
        arrived = [d for d in receiver.all_received() if d.at >= began]
        seen += evidence_deliveries(arrived)
    seen += transitions(exchanges, passed=status == "pass")
    no_more: list[dict[str, Any]] = []
    added = item.stash.get(EVIDENCE_KEY, no_more)
    seen.extend(added)
    record: dict[str, Any] = {
        "test": item.nodeid,
        "requirements": requirement_ids(item),
        "apiVersion": version,
        "status": status,
        "message": message,
        "duration": round(report.duration, 4),
        "started": round(began, 3),
        "evidence": seen,
    }
    failure = call.excinfo.value if call.excinfo is not None else None
    for name in ("pointer", "hint"):
        value = getattr(failure, name, None)
        if isinstance(value, str) and value:
            record[name] = value
    if deviation:
        record["deviation"] = deviation
    state.setdefault("results", []).append(record)


# ---------------------------------------------------------------- the run's files
def _worker_id(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    state = config.stash[STATE_KEY]
    options = config.stash[OPTIONS_KEY]
    results = state.get("results", [])
    if hasattr(config, "workeroutput"):
        config.workeroutput["callrec_exchanges"] = state["exchanges"]
        config.workeroutput["callrec_target"] = json.dumps(state.get("target"))
    if results:
        folder = options.report_dir / options.run_id
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f"results-{_worker_id(config)}.part.jsonl"
        part.write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")
    if not hasattr(config, "workerinput"):
        _merge(config)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    del error
    state = node.config.stash[STATE_KEY]
    output = getattr(node, "workeroutput", {})
    state["exchanges"] += int(output.get("callrec_exchanges", 0))
    target = json.loads(output.get("callrec_target") or "null")
    if target:
        state["target"] = target


def _merge(config: pytest.Config) -> None:
    """The controller (or a run without xdist) merges the workers' parts into the run files
    (the workers are done: xdist reports every node down before the session finishes)."""
    options = config.stash[OPTIONS_KEY]
    folder = options.report_dir / options.run_id
    parts = sorted(folder.glob("results-*.part.jsonl")) if folder.is_dir() else []
    if not parts:
        return
    state = config.stash[STATE_KEY]
    tests = [json.loads(line) for part in parts for line in part.read_text("utf-8").splitlines()]
    header = {
        "runId": options.run_id,
        "target": state.get("target"),
        "apiVersions": sorted({t["apiVersion"] for t in tests if t.get("apiVersion")}),
        "selection": options.api_version,
        "callrecVersion": __version__,
        "specProfile": spec_profile(),
        "started": datetime.fromtimestamp(state["started"], UTC).isoformat(),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "workers": len(parts),
        },
    }
    footer = {
        "exchanges": state["exchanges"],
        "seconds": round(time.time() - state["started"], 2),
        "finished": datetime.now(UTC).isoformat(),
    }
    write_run(folder, header, tests, footer)
    for part in parts:
        part.unlink()
    from callrec.report import ReportError, load, write_report  # noqa: PLC0415

    try:
        write_report(load(folder))
    except ReportError as exc:  # the results are written; say why the pages are not
        state["report_problem"] = str(exc)
    state["report_folder"] = str(folder)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if not state or not state.get("exchanges"):
        return
    seconds = max(time.time() - state["started"], 1e-6)
    if state.get("report_folder"):
        terminalreporter.write_line(f"callrec: results and report in {state['report_folder']}")
    if state.get("report_problem"):
        terminalreporter.write_line(f"callrec: no report pages: {state['report_problem']}")
    target = state.get("target") or {}
    terminalreporter.write_line(
        f"callrec: {state['exchanges']} HTTP exchanges checked in {seconds:.1f}s "
        f"({state['exchanges'] / seconds:.0f}/s) against {target.get('endpoint', '?')} "
        f"({target.get('kind', '?')})"
    )
