"""The pytest plugin behind ``suites/``: options, the target, calls, the webhook, results.

Inert until a test asks for its fixtures: the project's own tests load it too and start
nothing. The first test that needs ``target`` probes the endpoint (or starts the embedded
emulator); a target that cannot be used ends the run with one line naming the option.

Outcomes per test and api-version go to ``<report dir>/<run id>/results.jsonl``: ``pass``,
``fail``, ``not-observed`` (waited for something that never came: `NotObserved`), and
``not-applicable`` (the target or call provider cannot give what the test needs, with the
reason). Tests name the requirements they check with ``@pytest.mark.requirement(...)``.

Against an endpoint a connection string names, a run takes care of it and of the user's
data (`_safety`): every client the plugin hands out or `Target.client` builds sends through
one guard per process (request budget and rate shared by the run's processes, retries of
throttled answers, ``--no-destructive``) and a journal of the recordings it starts, stopped
whenever and however the run ends; secrets are redacted from everything it writes. Options:
`_options` (``--live`` makes the polite settings the defaults).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

import httpx
import pytest

from callrec._version import __version__
from callrec.auth import ConnectionString
from callrec.client import Client
from callrec.conformance._calls import (
    NOT_APPLICABLE,
    CallProvider,
    EmulatorCalls,
    NoCalls,
    NotApplicable,
    ProvidedCall,
    SuppliedCalls,
)
from callrec.conformance._evidence import Exchanges, transitions
from callrec.conformance._evidence import deliveries as evidence_deliveries
from callrec.conformance._guard import Policy
from callrec.conformance._ledger import Limits
from callrec.conformance._options import (
    ALL,
    DEFAULT_EVENT_TIMEOUT,
    ENV_CONNECTION,
    NEWEST,
    RunOptions,
    add_options,
    read_options,
)
from callrec.conformance._receiver import NotObserved, Receiver
from callrec.conformance._redact import guard_loggers, unguard_loggers
from callrec.conformance._results import deviation_for, deviations, spec_profile, write_run
from callrec.conformance._safety import Safety, Tally
from callrec.conformance._target import Target, TargetError, embedded_emulator, probe
from callrec.specs import api_versions, requirements

__all__ = [  # what the suites and users' conftest.py files use besides the fixtures
    "ALL",
    "DEFAULT_EVENT_TIMEOUT",
    "ENV_CONNECTION",
    "NEWEST",
    "NOT_APPLICABLE",
    "ClockControl",
    "Evidence",
    "RunOptions",
    "check_call",
    "needs",
]

OPTIONS_KEY = pytest.StashKey[RunOptions]()
STATE_KEY = pytest.StashKey[dict[str, Any]]()
SAFETY_KEY = pytest.StashKey[Safety]()
EXCHANGES_KEY = pytest.StashKey[list[Exchanges]]()
EVIDENCE_KEY = pytest.StashKey[list[dict[str, Any]]]()
STARTED_KEY = pytest.StashKey[float]()
LIVE_PROFILE: Final = "live"  # the hypothesis profile --live loads (strategies/settings.py)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from callrec.conformance import hooks  # noqa: PLC0415

    pluginmanager.add_hookspecs(hooks)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requirement(*ids): the catalog requirements (REC-...) a conformance test checks"
    )
    config.addinivalue_line(
        "markers",
        "destructive(why): the test deletes what the user may want; not applicable with "
        "--no-destructive",
    )
    options = read_options(config)
    config.stash[OPTIONS_KEY] = options
    state: dict[str, Any] = {"exchanges": 0, "started": time.time(), "tally": Tally()}
    config.stash[STATE_KEY] = state
    safety = Safety(
        folder=options.folder,
        run_id=options.run_id,
        connection=options.connection,
        limits=Limits(options.rate, options.max_requests),
        policy=Policy(retries=options.retries, no_destructive=options.no_destructive),
    )
    config.stash[SAFETY_KEY] = safety
    handlers = _log_handlers(config)
    state["log_filter"] = guard_loggers(safety.redact, handlers), handlers
    if options.live:
        _load_live_profile()
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        state["calls_checked"] = bool(workerinput.get("callrec_calls_checked"))
        state["probed"] = workerinput.get("callrec_probed")
        return
    if options.connection is not None:
        _stop_on_sigterm(state)
        _check_at_startup(config, options, options.connection, safety)


def _log_handlers(config: pytest.Config) -> list[Any]:
    """pytest's log handlers (every logger's records pass them), to redact what they keep."""
    logging_plugin = config.pluginmanager.get_plugin("logging-plugin")
    names = ("caplog_handler", "report_handler", "log_file_handler", "log_cli_handler")
    return [h for h in (getattr(logging_plugin, n, None) for n in names) if h is not None]


def _load_live_profile() -> None:
    """--live runs few hypothesis examples (each costs requests), unless HYPOTHESIS_PROFILE
    chose a profile: the ``live`` profile (strategies/settings.py; registered here, with 5
    examples, where that is not loaded)."""
    if os.environ.get("HYPOTHESIS_PROFILE"):
        return
    from hypothesis import settings  # noqa: PLC0415
    from hypothesis.errors import InvalidArgument  # noqa: PLC0415

    try:
        settings.get_profile(LIVE_PROFILE)
    except InvalidArgument:
        settings.register_profile(LIVE_PROFILE, max_examples=5, deadline=None)
    settings.load_profile(LIVE_PROFILE)


def _stop_on_sigterm(state: dict[str, Any]) -> None:
    """A CI job cancelled with SIGTERM ends the run as Ctrl-C does: recordings get stopped."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            state["sigterm"] = signal.signal(signal.SIGTERM, interrupt)


def _check_at_startup(
    config: pytest.Config, options: RunOptions, connection: ConnectionString, safety: Safety
) -> None:
    """A given endpoint, version and calls are checked once, before any test runs: a problem
    is one line naming the option, not a screen of failing tests. Between the probe and the
    calls' check, what a run that died left recording is stopped (a call it left recording
    could not be recorded again)."""
    state = config.stash[STATE_KEY]
    try:
        found = probe(connection, verify=options.ca_file or True, guard=safety.guard)
        problem = _version_problem(options.api_version, found)
        if problem:
            raise pytest.UsageError(problem)
        safety.target = found
        state["probed"] = {
            "kind": found.kind,
            "apiVersions": found.api_versions,
            "info": found.info,
        }
        safety.recover_dead_runs(options.report_dir)
        if options.server_call_ids:
            with found.client() as client:
                for server_call_id in options.server_call_ids:
                    problem = check_call(client, found, server_call_id)
                    if problem:
                        raise pytest.UsageError(f"--server-call-id: {problem}")
            state["calls_checked"] = True
    except TargetError as exc:
        raise pytest.UsageError(safety.redact(str(exc))) from None
    except pytest.skip.Exception as exc:  # the budget ran out before the first test
        raise pytest.UsageError(
            f"--max-requests: {str(exc.msg).removeprefix(NOT_APPLICABLE)} before the first test"
        ) from None


def _version_problem(chosen: str, found: Target) -> str | None:
    if chosen in (NEWEST, ALL) or chosen in found.api_versions:
        return None
    return (
        f"--api-version: {found.endpoint} does not serve {chosen} "
        f"(it serves {', '.join(found.api_versions)})"
    )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker gets the controller's run id (and connection, when one is set),
    and what the controller's checks found (so workers do not spend requests again)."""
    options = node.config.stash[OPTIONS_KEY]
    state = node.config.stash[STATE_KEY]
    node.workerinput["callrec_run_id"] = options.run_id
    if options.connection is not None:
        node.workerinput["callrec_connection"] = str(options.connection)
    node.workerinput["callrec_calls_checked"] = bool(state.get("calls_checked"))
    if state.get("probed"):
        node.workerinput["callrec_probed"] = state["probed"]


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
    """The endpoint under test: probed once per run (the controller's probe is handed to
    xdist workers); the embedded emulator when no connection string is given (one per xdist
    worker)."""
    state = request.config.stash[STATE_KEY]
    safety = request.config.stash[SAFETY_KEY]
    with contextlib.ExitStack() as stack:
        probed = state.get("probed")
        verify = run_options.ca_file or True
        try:
            connection = run_options.connection or stack.enter_context(embedded_emulator())
            found = (
                Target(
                    connection,
                    str(probed["kind"]),
                    tuple(probed["apiVersions"]),
                    dict(probed["info"]),
                    verify,
                    safety.guard,
                )
                if probed and run_options.connection is not None
                else probe(connection, verify=verify, guard=safety.guard)
            )
        except TargetError as exc:
            pytest.exit(
                f"callrec: {safety.redact(str(exc))}", returncode=pytest.ExitCode.USAGE_ERROR
            )
        problem = _version_problem(run_options.api_version, found)
        if problem:
            pytest.exit(f"callrec: {problem}", returncode=pytest.ExitCode.USAGE_ERROR)
        state["target"] = {"endpoint": found.endpoint, "kind": found.kind}
        state["exclusive"] = run_options.connection is None or run_options.exclusive
        safety.target = found
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
        if not request.config.stash[STATE_KEY].get("calls_checked"):  # checked at startup
            for server_call_id in run_options.server_call_ids:
                problem = check_call(session_client, target, server_call_id)
                if problem:
                    pytest.exit(
                        f"callrec: --server-call-id: {problem}",
                        returncode=pytest.ExitCode.USAGE_ERROR,
                    )
        return SuppliedCalls(run_options.server_call_ids, lock_dir=run_options.folder / ".calls")
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
def provided_call(
    request: pytest.FixtureRequest, call_provider: CallProvider
) -> Iterator[ProvidedCall]:
    """A call to record for this test; a call lent again (not ``fresh``) goes back only once
    what the test left recording on it is stopped."""
    try:
        with call_provider.call() as call:
            yield call
            if "fresh" not in call_provider.capabilities:
                request.config.stash[SAFETY_KEY].after_test(request.node.nodeid)
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
    """Before any fixture: a destructive test under --no-destructive, and every test once the
    request budget is spent, is not applicable (and sends nothing)."""
    item.stash[STARTED_KEY] = time.time()
    safety = item.config.stash[SAFETY_KEY]
    options = item.config.stash[OPTIONS_KEY]
    if safety.guard is not None:
        safety.guard.begin_test(item.nodeid)
    destructive = item.get_closest_marker("destructive")
    why = None
    if destructive is not None and options.no_destructive:
        why = f"--no-destructive: the test {' '.join(map(str, destructive.args)) or 'deletes data'}"
    elif safety.ledger is not None and safety.ledger.spent():
        why = f"request budget of {options.max_requests} spent"
    if why is not None:
        probed = item.config.stash[STATE_KEY].get("probed") or {}
        served = safety.target.api_versions if safety.target else probed.get("apiVersions", ())
        _name_version(item, tuple(served))
        pytest.skip(NOT_APPLICABLE + why)


def _name_version(item: pytest.Item, served: tuple[str, ...]) -> None:
    """The api-version a test skipped before its fixtures ran would have had."""
    callspec = getattr(item, "callspec", None)
    chosen = callspec.params.get("api_version") if callspec is not None else None
    if chosen == NEWEST and served:
        general = [v for v in served if "preview" not in v]
        chosen = (general or list(served))[-1]
    if chosen is not None and chosen != NEWEST:
        item.user_properties.append(("api_version", str(chosen)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """After the test's fixtures: stop what it started and left recording."""
    del nextitem
    try:
        return (yield)
    finally:
        item.config.stash[SAFETY_KEY].after_test(item.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(NotApplicable):
        report.outcome = "skipped"
        reason = NOT_APPLICABLE + str(call.excinfo.value)
        report.longrepr = (str(item.path), item.location[1] or 0, reason)
    if item.get_closest_marker("requirement") is not None:
        deviation = None
        if report.when == "call":
            deviation = _apply_deviations(item, report)
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            _record(item, report, call, deviation)
    _redact_report(report, item.config.stash[SAFETY_KEY].redact)
    return report


def _redact_report(report: pytest.TestReport, redact: Any) -> None:
    """No secret in what pytest prints or hands on: the failure, the skip reason, the
    captured output and logs."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):
        report.longrepr = (longrepr[0], longrepr[1], redact(longrepr[2]))
    elif longrepr is not None:
        text = str(longrepr)
        cleaned = redact(text)
        if cleaned != text:
            report.longrepr = cleaned
    report.sections = [(title, redact(content)) for title, content in report.sections]


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
    guard = item.config.stash[SAFETY_KEY].guard
    if guard is not None and guard.test_retried:
        seen.append({"kind": "note", "at": time.time(), "text": _retried(guard.test_retried)})
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


def _retried(counts: Any) -> str:
    """A note on the retries a test's requests needed."""
    total = sum(counts.values())
    kinds = ", ".join(f"{why} x{n}" for why, n in sorted(counts.items()))
    return (
        f"{total} request(s) sent again after a throttled or failed answer ({kinds}); "
        "the outcome is that of the last answer"
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    state = config.stash[STATE_KEY]
    options = config.stash[OPTIONS_KEY]
    safety = config.stash[SAFETY_KEY]
    worker = hasattr(config, "workerinput")
    safety.end_of_process()  # before the session's fixtures go (the target among them)
    if not worker:
        safety.recover_own_run()  # what workers that died left
    guard = safety.guard
    if hasattr(config, "workeroutput"):
        config.workeroutput["callrec_exchanges"] = state["exchanges"]
        config.workeroutput["callrec_target"] = json.dumps(state.get("target"))
        config.workeroutput["callrec_care"] = json.dumps(
            {
                "requests": guard.sent if guard else 0,
                "retried": dict(guard.retried) if guard else {},
                "waited": guard.waited if guard else 0.0,
                "tally": safety.tally.counts() | {"runs": safety.tally.runs},
            }
        )
    else:
        _add_care(state, safety)
    results = state.get("results", [])
    if results:
        folder = options.folder
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f"results-{_worker_id(config)}.part.jsonl"
        lines = "".join(safety.redact(json.dumps(r)) + "\n" for r in results)
        part.write_text(lines, encoding="utf-8")
    if not worker:
        _merge(config)


def _add_care(state: dict[str, Any], safety: Safety) -> None:
    """The controller's own requests, retries and cleanup, into the run's totals."""
    guard = safety.guard
    care = {
        "requests": guard.sent if guard else 0,
        "retried": dict(guard.retried) if guard else {},
        "waited": guard.waited if guard else 0.0,
        "tally": safety.tally.counts() | {"runs": safety.tally.runs},
    }
    _sum_care(state, care)


def _sum_care(state: dict[str, Any], care: dict[str, Any]) -> None:
    state["requests"] = state.get("requests", 0) + int(care["requests"])
    retried: dict[str, int] = state.setdefault("retried", {})
    for why, count in care["retried"].items():
        retried[why] = retried.get(why, 0) + int(count)
    state["waited"] = state.get("waited", 0.0) + float(care["waited"])
    state["tally"].add(care["tally"])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    del error
    state = node.config.stash[STATE_KEY]
    output = getattr(node, "workeroutput", {})
    state["exchanges"] += int(output.get("callrec_exchanges", 0))
    target = json.loads(output.get("callrec_target") or "null")
    if target:
        state["target"] = target
    care = output.get("callrec_care")
    if care:
        _sum_care(state, json.loads(care))


def _merge(config: pytest.Config) -> None:
    """The controller (or a run without xdist) merges the workers' parts into the run files
    (the workers are done: xdist reports every node down before the session finishes)."""
    options = config.stash[OPTIONS_KEY]
    folder = options.folder
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
    footer: dict[str, Any] = {
        "exchanges": state["exchanges"],
        "seconds": round(time.time() - state["started"], 2),
        "finished": datetime.now(UTC).isoformat(),
        "retries": sum(state.get("retried", {}).values()),
    }
    safety = config.stash[SAFETY_KEY]
    if safety.guard is not None:
        footer["requests"] = state.get("requests", 0)
    if safety.journal is not None:
        footer["cleanup"] = state["tally"].counts()
    write_run(folder, header, tests, footer)
    for part in parts:
        part.unlink()
    from callrec.report import ReportError, load, write_report  # noqa: PLC0415

    try:
        write_report(load(folder))
    except ReportError as exc:  # the results are written; say why the pages are not
        state["report_problem"] = str(exc)
    state["report_folder"] = str(folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    safety = config.stash.get(SAFETY_KEY, None)
    if state is None or safety is None:
        return
    found, handlers = state.pop("log_filter", (None, []))
    if found is not None:
        unguard_loggers(found, handlers)
    if "sigterm" in state:
        signal.signal(signal.SIGTERM, state.pop("sigterm"))
    if hasattr(config, "workerinput"):
        safety.close()
    else:
        safety.retire()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if not state:
        return
    for line in _care_lines(config, state):
        terminalreporter.write_line(f"callrec: {line}")
    if not state.get("exchanges"):
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


def _care_lines(config: pytest.Config, state: dict[str, Any]) -> list[str]:
    """What the guard and the cleanup did, for the terminal summary."""
    options = config.stash[OPTIONS_KEY]
    safety = config.stash[SAFETY_KEY]
    lines: list[str] = []
    if safety.guard is not None:
        limits = [
            f"budget {options.max_requests}" if options.max_requests else "",
            f"at most {options.rate:g}/s" if options.rate else "",
        ]
        shown = ", ".join(part for part in limits if part)
        retried = state.get("retried", {})
        again = sum(retried.values())
        kinds = ", ".join(f"{why} x{n}" for why, n in sorted(retried.items()))
        waited = f" ({kinds}; {state.get('waited', 0.0):.1f}s waited)" if again else ""
        shown = f" ({shown})" if shown else ""
        lines.append(f"{state.get('requests', 0)} requests sent{shown}; {again} retried{waited}")
    tally: Tally = state["tally"]
    if tally.deadRuns or tally.runs:
        lines.append(
            f"stopped {tally.deadRuns} recording(s) left running by a run that died "
            f"({', '.join(tally.runs)})"
        )
    if tally.afterTests or tally.atEnd:
        lines.append(
            f"stopped {tally.afterTests + tally.atEnd} recording(s) the tests left running"
        )
    if tally.gone:
        lines.append(f"{tally.gone} journaled recording(s) were already gone (404)")
    if tally.failed:
        lines.append(
            f"{tally.failed} recording(s) could not be stopped; the journal keeps them for the "
            "next run"
        )
    if tally.unanswered:
        lines.append(
            f"{tally.unanswered} start(s) got no answer: if their calls still record, stop "
            f"the recordings yourself (the calls are in {options.folder}/journal.jsonl)"
        )
    if tally.elsewhere:
        lines.append(f"{tally.elsewhere} journaled recording(s) of other endpoints left alone")
    return lines
