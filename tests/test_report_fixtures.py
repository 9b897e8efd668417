"""Realistic conformance runs for the report tests, checked against reports/results.schema.json.

`run_lines` builds the lines of a results.jsonl the way the conformance plugin writes them: a
header, test records (real suite test names, evidence of the flows those tests drive), one
requirement record per catalog requirement and api-version, a footer. `write_run` writes them.
"""

from __future__ import annotations

import base64
import json
import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import jsonschema
import pytest

import callrec.report
from callrec.report._status import STATUSES
from callrec.specs import requirements

SCHEMA_PATH: Final = Path(__file__).resolve().parents[1] / "reports" / "results.schema.json"
SCHEMA: Final = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VERSIONS: Final = ("2024-04-15", "2026-03-12")
STARTED: Final = 1795305926.0  # 2026-11-22T00:05:26Z, the header's start
PRECEDENCE: Final = ("fail", "not-observed", "known-deviation", "pass", "skipped", "not-applicable")
HOSTILE: Final = '<script>alert(1)</script> "quoted" & <img src=x onerror=alert(2)> ]]> |pipe|'

# (test function, requirements it checks, the flow it drives)
TEMPLATES: Final = (
    (
        "suites/test_basics.py::test_start_answers_success_with_an_inactive_recording",
        ("REC-START-001", "REC-START-004", "REC-STATE-001"),
        "start",
    ),
    (
        "suites/test_basics.py::test_pause_turns_an_active_recording_inactive",
        ("REC-STATE-004", "REC-PAUSE-001", "REC-PAUSE-002"),
        "lifecycle",
    ),
    (
        "suites/test_basics.py::test_resume_turns_a_paused_recording_active",
        ("REC-STATE-005", "REC-RESUME-001", "REC-RESUME-002"),
        "lifecycle",
    ),
    (
        "suites/test_basics.py::test_stop_answers_no_content",
        ("REC-STOP-001", "REC-STOP-002"),
        "lifecycle",
    ),
    ("suites/test_basics.py::test_a_stopped_recording_is_gone", ("REC-STATE-008",), "stopped"),
    (
        "suites/test_basics.py::test_ending_the_call_stops_its_recording",
        ("REC-CALLBACK-003",),
        "call-end",
    ),
    (
        "suites/test_callbacks.py::test_each_transition_posts_one_state_changed_callback_in_order",
        ("REC-CALLBACK-001", "REC-CALLBACK-002", "REC-CALLBACK-005"),
        "lifecycle",
    ),
    (
        "suites/test_eventgrid.py::test_a_stopped_recording_publishes_file_status_updated_in_both_schemas",
        ("REC-EVENT-001", "REC-EVENT-002", "REC-EVENT-003"),
        "eventgrid",
    ),
    (
        "suites/test_content.py::test_unmixed_channels_follow_ordering_and_affinity",
        ("REC-MEDIA-002", "REC-META-007", "REC-META-008"),
        "audio",
    ),
    (
        "suites/test_errors.py::test_unknown_recording_is_not_found",
        ("REC-ERR-003", "REC-ERR-001"),
        "error",
    ),
    (
        "suites/test_auth.py::test_bad_authentication_is_refused",
        ("REC-AUTH-002", "REC-AUTH-003", "REC-AUTH-004"),
        "auth",
    ),
    (
        "suites/test_idempotency.py::test_replayed_start_returns_the_first_answer",
        ("REC-REPEAT-003", "REC-REPEAT-004"),
        "start",
    ),
    (
        "suites/test_content.py::test_ranges_and_delete",
        ("REC-RANGE-001", "REC-RANGE-002", "REC-DELETE-001"),
        "content",
    ),
)
# operation -> (method, path suffix, status, median latency ms)
OPERATIONS: Final = {
    "StartRecording": ("POST", "", 200, 140.0),
    "GetRecordingProperties": ("GET", "", 200, 35.0),
    "PauseRecording": ("POST", ":pause", 202, 60.0),
    "ResumeRecording": ("POST", ":resume", 202, 60.0),
    "StopRecording": ("DELETE", "", 204, 85.0),
}
FLOWS: Final = {
    "start": ("StartRecording", "GetRecordingProperties", "StopRecording"),
    "lifecycle": (
        "StartRecording",
        "GetRecordingProperties",
        "PauseRecording",
        "ResumeRecording",
        "StopRecording",
    ),
    "stopped": (
        "StartRecording",
        "GetRecordingProperties",
        "StopRecording",
        "GetRecordingProperties",
        "PauseRecording",
    ),
    "call-end": ("StartRecording", "GetRecordingProperties"),
    "eventgrid": ("StartRecording", "GetRecordingProperties", "StopRecording"),
    "audio": ("StartRecording", "GetRecordingProperties", "StopRecording"),
    "error": ("GetRecordingProperties",),
    "auth": ("StartRecording",),
    "content": ("StartRecording", "StopRecording"),
}
PARTICIPANTS: Final = (
    "8:acs:1f9e5c1e-0000-4c6e-9c3d-7a1e2f3b4c5d_00000021-aaaa",
    "8:acs:1f9e5c1e-0000-4c6e-9c3d-7a1e2f3b4c5d_00000021-bbbb",
    "4:+14255550123",
)


def _recording_id(rng: random.Random) -> str:
    inner = json.dumps(
        {
            "PlatformEndpointId": f"{rng.getrandbits(64):016x}",
            "ResourceSpecificId": f"{rng.getrandbits(64):016x}",
        }
    )
    return base64.urlsafe_b64encode(inner.encode()).decode().rstrip("=")


def _latency(rng: random.Random, median: float) -> float:
    value = median * math.exp(rng.gauss(0, 0.35))
    if rng.random() < 0.03:
        value *= rng.uniform(4, 12)  # the tail a p99 should show
    return round(value, 3)


def _exchanges(
    rng: random.Random, flow: str, version: str, at: float, auth_fails: bool
) -> list[dict[str, Any]]:
    rid = _recording_id(rng)
    stopped = False
    found = []
    for name in FLOWS[flow]:
        method, suffix, status, median = OPERATIONS[name]
        path = (
            "/calling/recordings"
            if name == "StartRecording"
            else f"/calling/recordings/{rid}{suffix}"
        )
        request: Any = None
        response: Any = None
        if name == "StartRecording":
            request = {
                "callLocator": {
                    "kind": "serverCallLocator",
                    "serverCallId": "aHR0cHM6Ly9hcGkuZmxpZ2h0cHJveHk/aT0xMA==",
                },
                "recordingStateCallbackUri": "https://hooks.example/callbacks",
            }
            response = {
                "recordingId": rid,
                "recordingState": "inactive",
                "recordingKind": "AzureCommunicationServices",
            }
            if flow == "auth":
                status = 200 if auth_fails else 401
                response = (
                    response if auth_fails else {"error": {"code": "401", "message": "Denied"}}
                )
        elif name == "GetRecordingProperties":
            if flow == "error" or stopped:
                status, response = (
                    404,
                    {"error": {"code": "8522", "message": "Recording not found."}},
                )
            else:
                response = {"recordingId": rid, "recordingState": "active"}
        elif stopped:
            status, response = 404, {"error": {"code": "8522", "message": "Recording not found."}}
        stopped = stopped or name == "StopRecording"
        at += _latency(rng, median) / 1000 + rng.uniform(0.01, 0.2)
        found.append(
            {
                "kind": "exchange",
                "at": round(at, 3),
                "method": method,
                "path": f"{path}?api-version={version}",
                "operation": name,
                "status": status,
                "latencyMs": _latency(rng, median),
                "requestBody": request,
                "responseBody": response,
            }
        )
    return found


def _transitions(
    exchanges: Sequence[Mapping[str, Any]], flow: str, ok: bool
) -> list[dict[str, Any]]:
    state = "none"
    moves = []
    for exchange in exchanges:
        name, status = exchange["operation"], exchange["status"]
        if name == "StartRecording" and status == 200:
            moves.append(("none", "start", "starting"))
            state = "starting"
        elif state == "stopped":
            verb = name.removesuffix("Recording").removesuffix("Properties").lower()
            moves.append(("stopped", verb, "stopped"))
        elif name == "GetRecordingProperties" and state == "starting" and status == 200:
            moves.append(("starting", "activate", "active"))
            state = "active"
        elif name in ("PauseRecording", "ResumeRecording", "StopRecording") and status < 300:
            after = {
                "PauseRecording": "paused",
                "ResumeRecording": "active",
                "StopRecording": "stopped",
            }[name]
            moves.append((state, name.removesuffix("Recording").lower(), after))
            state = after
    if flow == "call-end" and state != "none":
        moves.append((state, "call-end", "stopped"))
    return [
        {"kind": "transition", "from": a, "operation": op, "to": b, "ok": ok} for a, op, b in moves
    ]


STATE_CHANGING: Final = ("StartRecording", "PauseRecording", "ResumeRecording", "StopRecording")


def _deliveries(
    rng: random.Random, flow: str, exchanges: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """A RecordingStateChanged callback per transition; the file event in both schemas."""
    changed = "Microsoft.Communication.RecordingStateChanged"
    found = [
        {
            "kind": "delivery",
            "at": round(exchange["at"] + rng.uniform(0.05, 0.6), 3),
            "source": "callback",
            "eventType": changed,
            "schema": "CloudEventSchemaV1_0",
            "body": {"type": changed, "data": {"operation": exchange["operation"]}},
        }
        for exchange in exchanges
        if exchange["operation"] in STATE_CHANGING and exchange["status"] < 300
    ]
    if flow in ("eventgrid", "audio", "content") and exchanges:
        last = exchanges[-1]["at"]
        updated = "Microsoft.Communication.RecordingFileStatusUpdated"
        found += [
            {
                "kind": "delivery",
                "at": round(last + rng.uniform(1.0, 3.0), 3),
                "source": "eventgrid",
                "eventType": updated,
                "schema": schema,
                "body": {"eventType": updated, "data": {"recordingChunks": [{"index": 0}]}},
            }
            for schema in ("EventGridSchema", "CloudEventSchemaV1_0")
        ]
    return found


def _audio(rng: random.Random, at: float) -> dict[str, Any]:
    channels = []
    for index, participant in enumerate(PARTICIPANTS[: rng.choice((2, 3))]):
        energy = []
        for window in range(120):  # 12 s in 100 ms windows; each speaks in turn, paused 5-7 s
            speaking = (window // 20) % 3 == index and not 50 <= window < 70
            energy.append(round(rng.uniform(0.4, 1.0) if speaking else rng.uniform(0, 0.03), 4))
        channels.append({"participant": participant, "energy": energy})
    return {"kind": "audio", "at": at, "windowMs": 100, "channels": channels}


def run_lines(
    tests: int = 26,
    *,
    versions: Sequence[str] = VERSIONS,
    outcomes: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
    seed: int = 7,
    run_id: str = "20261122T000526Z-bd8f47",
) -> list[dict[str, Any]]:
    """A run of ``tests`` test records: the templates across ``versions``, repeated with case
    numbers. ``outcomes[(test function, version)]`` overrides fields of those tests' records."""
    rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
    outcomes = outcomes or {}
    records = []
    at = STARTED + 1
    for index in range(tests):
        node, ids, flow = TEMPLATES[index // len(versions) % len(TEMPLATES)]
        version = versions[index % len(versions)]
        case = index // (len(versions) * len(TEMPLATES))
        override = dict(outcomes.get((node, version), {}))
        status = override.get("status", "pass")
        exchanges = _exchanges(
            rng, flow, version, at, auth_fails=status == "fail" and flow == "auth"
        )
        evidence: list[dict[str, Any]] = [
            *exchanges,
            *_transitions(exchanges, flow, status == "pass"),
        ]
        evidence += _deliveries(rng, flow, exchanges)
        if flow == "audio":
            evidence.append(_audio(rng, exchanges[-1]["at"]))
        record = {
            "record": "test",
            "test": f"{node}[{version}]" + (f"-{case}" if case else ""),
            "requirements": list(ids),
            "apiVersion": version,
            "status": status,
            "message": "",
            "duration": round(rng.uniform(0.2, 2.5), 4),
            "evidence": evidence,
            **override,
        }
        records.append(record)
        at = max(e.get("at", at) for e in evidence) + 0.05 if evidence else at + 0.5
    return [
        _header(run_id, versions),
        *records,
        *_requirements(records, versions),
        _footer(records, at - STARTED),
    ]


def _header(run_id: str, versions: Sequence[str]) -> dict[str, Any]:
    return {
        "record": "header",
        "format": 1,
        "runId": run_id,
        "target": {"endpoint": "http://127.0.0.1:40847", "kind": "emulator"},
        "apiVersions": list(versions),
        "selection": "all",
        "callrecVersion": "0.1.0",
        "specProfile": "9f2c" * 16,
        "started": "2026-11-22T00:05:26.017396+00:00",
        "machine": {"python": "3.11.7"},
    }


def _requirements(
    tests: Sequence[Mapping[str, Any]], versions: Sequence[str]
) -> list[dict[str, Any]]:
    by_key: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for test in tests:
        for rid in test["requirements"]:
            by_key.setdefault((rid, test["apiVersion"]), []).append(test)
    found = []
    for entry in requirements():
        for version in versions:
            if entry["versions"] != "all" and version not in entry["versions"]:
                continue
            checked = by_key.get((entry["id"], version), [])
            record: dict[str, Any] = {
                "record": "requirement",
                "id": entry["id"],
                "level": entry["level"],
                "statement": entry["statement"],
                "apiVersion": version,
                "tests": [t["test"] for t in checked],
                "duration": round(sum(t["duration"] for t in checked), 4),
            }
            if checked:
                status = next(s for s in PRECEDENCE if any(t["status"] == s for t in checked))
                deciding = next(t for t in checked if t["status"] == status)
                record.update(status=status, message=deciding["message"])
            else:
                record.update(status="not-applicable", message="nothing in this run checks it")
            found.append(record)
    return found


def _footer(tests: Sequence[Mapping[str, Any]], seconds: float) -> dict[str, Any]:
    counted: dict[str, int] = {}
    for test in tests:
        counted[test["status"]] = counted.get(test["status"], 0) + 1
    return {
        "record": "footer",
        "totals": {},
        "tests": counted,
        "exchanges": sum(1 for t in tests for e in t["evidence"] if e["kind"] == "exchange"),
        "seconds": round(seconds, 2),
        "finished": "2026-11-22T00:09:41.2+00:00",
    }


def with_totals(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines with the footer's requirement totals recounted (after editing records)."""
    totals: dict[str, int] = {}
    for line in lines:
        if line["record"] == "requirement":
            totals[line["status"]] = totals.get(line["status"], 0) + 1
    lines[-1]["totals"] = dict(sorted(totals.items()))
    return lines


def write_run(folder: Path, lines: list[dict[str, Any]], *, ascii_only: bool = False) -> Path:
    """Write ``lines`` (recounted) as folder/results.jsonl, the way the plugin does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.jsonl"
    text = "".join(json.dumps(line, ensure_ascii=ascii_only) + "\n" for line in with_totals(lines))
    path.write_text(text, encoding="utf-8")
    return path


def validate_lines(lines: Sequence[Mapping[str, Any]]) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    for number, line in enumerate(lines, start=1):
        errors = sorted(validator.iter_errors(line), key=lambda e: list(e.path))
        assert not errors, f"line {number}: {errors[0].message}"


FAILING: Final = {
    ("suites/test_auth.py::test_bad_authentication_is_refused", "2026-03-12"): {
        "status": "fail",
        "message": "REC-AUTH-002: a GET without a signature answered 200 OK, not 401",
        "pointer": "/error/code",
        "hint": "Check the HMAC on every Call Automation request, including GET.",
    },
    (
        "suites/test_eventgrid.py::test_a_stopped_recording_publishes_file_status_updated_in_both_schemas",
        "2024-04-15",
    ): {
        "status": "not-observed",
        "message": "no Microsoft.Communication.RecordingFileStatusUpdated within 20 s",
    },
    ("suites/test_content.py::test_ranges_and_delete", "2026-03-12"): {
        "status": "known-deviation",
        "message": "the emulator answers 416 without Content-Range",
    },
}


# ----------------------------------------------------------------------------- the fixtures' own tests


def test_fixture_runs_follow_the_results_schema() -> None:
    validate_lines(with_totals(run_lines(60, outcomes=FAILING)))


def test_hostile_fixture_follows_the_results_schema() -> None:
    outcomes = {
        key: {**value, "message": HOSTILE, "hint": HOSTILE} for key, value in FAILING.items()
    }
    validate_lines(with_totals(run_lines(30, outcomes=outcomes)))


def test_status_names_are_the_schemas() -> None:
    assert set(STATUSES) == set(SCHEMA["$defs"]["status"]["enum"])


def test_report_exports() -> None:
    assert sorted(callrec.report.__all__) == [
        "Diff",
        "ReportError",
        "Run",
        "Stamping",
        "diff",
        "format_diff",
        "load",
        "stamp",
        "write_report",
    ]


@pytest.mark.parametrize("kind", ["header", "test", "requirement", "footer"])
def test_every_record_kind_is_in_the_fixture(kind: str) -> None:
    assert any(line["record"] == kind for line in run_lines(4))


def set_status(
    lines: list[dict[str, Any]], rid: str, version: str, status: str, message: str = ""
) -> list[dict[str, Any]]:
    """The lines with one requirement record's status changed (as if its tests had)."""
    for line in lines:
        if line["record"] == "requirement" and (line["id"], line["apiVersion"]) == (rid, version):
            line.update(status=status, message=message)
            if not line["tests"]:
                line["tests"] = [f"suites/test_made_up.py::test_{rid.lower()}[{version}]"]
            return lines
    raise AssertionError(f"no record {rid} {version}")


def all_passing(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines with every checked requirement passing."""
    for line in lines:
        if line["record"] in ("test", "requirement") and line["status"] != "not-applicable":
            line.update(status="pass", message="")
    return lines
