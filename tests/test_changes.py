"""What changed between api-versions (`callrec.specs.changes`, `callrec specs changes`).

Facts are checked against the profiles in specs/profiles; the totals are not, so a new
api-version (profiles are added over time) does not break these tests.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from callrec import UnknownApiVersionError
from callrec._changes import KINDS, Change, SchemaFacts, compare, reachable
from callrec.cli import main
from callrec.specs import (
    VersionChanges,
    api_versions,
    changes,
    consecutive,
    fields,
    profile,
    schema_names,
)

PAIRS = list(itertools.pairwise(api_versions()))
MIRROR = {
    "operation-added": "operation-removed",
    "status-added": "status-removed",
    "header-added": "header-removed",
    "event-added": "event-removed",
    "schema-added": "schema-removed",
    "property-added": "property-removed",
    "required-added": "required-removed",
    "enum-added": "enum-removed",
}
MIRROR.update({removed: added for added, removed in list(MIRROR.items())})


def entries(older: str, newer: str) -> dict[tuple[str, str], Change]:
    return {(entry.kind, entry.subject): entry for entry in changes(older, newer).entries}


def needs(*versions: str) -> pytest.MarkDecorator:
    missing = [version for version in versions if version not in api_versions()]
    return pytest.mark.skipif(bool(missing), reason=f"no profile for {', '.join(missing)}")


# ----------------------------------------------------------------------------- real profiles


def test_2024_04_15_adds_pause_on_start_and_external_storage_to_the_start_request() -> None:
    found = entries("2023-10-15", "2024-04-15")
    for field in ("pauseOnStart", "externalStorage"):
        entry = found[("property-added", f"StartCallRecordingRequest.{field}")]
        assert entry.text == f"`{field}` added to StartCallRecordingRequest"
    assert ("property-added", "RecordingStateResponse.recordingKind") in found
    assert not [key for key in found if key[0].startswith("operation")]


def test_2025_05_15_adds_call_connection_id_and_a_202_start() -> None:
    found = entries("2024-09-15", "2025-05-15")
    assert ("property-added", "StartCallRecordingRequest.callConnectionId") in found
    assert found[("required-removed", "StartCallRecordingRequest.callLocator")].text == (
        "`callLocator` no longer required in StartCallRecordingRequest"
    )
    start = found[("status-added", "StartRecording.202")]
    assert start.text == "StartRecording also answers 202 (RecordingStateResponse)"
    assert start.after == "202"
    assert ("event-added", "Microsoft.Communication.StartRecordingFailed") in found
    assert ("schema-added", "StartRecordingFailedData") in found


def test_2025_08_15_preview_adds_get_recording_result() -> None:
    found = entries("2025-06-15", "2025-08-15-preview")
    added = found[("operation-added", "GetRecordingResult")]
    assert added.text == "GetRecordingResult added: GET /calling/recordings/{recordingId}/result"
    assert added.after == "GET /calling/recordings/{recordingId}/result"
    assert ("schema-added", "RecordingResultResponse") in found
    back = entries("2025-08-15-preview", "2025-06-15")
    assert back[("operation-removed", "GetRecordingResult")].before == added.after


@needs("2021-11-15-preview", "2023-01-15-preview")
def test_the_calling_server_generation_answers_200_on_slash_colon_paths() -> None:
    found = entries("2021-11-15-preview", "2023-01-15-preview")
    assert found[("status-replaced", "StopRecording")].text == (
        "StopRecording answers 204 instead of 200"
    )
    path = found[("path-changed", "PauseRecording")]
    assert path.text == (
        "path of PauseRecording: /calling/recordings/{recordingId}/:pause -> "
        "/calling/recordings/{recordingId}:pause"
    )
    assert (path.before, path.after) == (
        "/calling/recordings/{recordingId}/:pause",
        "/calling/recordings/{recordingId}:pause",
    )
    assert ("header-added", "StartRecording.Repeatability-Request-ID") in found


@pytest.mark.parametrize(("older", "newer"), PAIRS, ids=[f"{a}..{b}" for a, b in PAIRS])
def test_each_consecutive_pair_agrees_with_its_profiles(older: str, newer: str) -> None:
    found = changes(older, newer)
    assert (found.older, found.newer) == (older, newer)
    keys = [(entry.kind, entry.subject) for entry in found.entries]
    assert len(keys) == len(set(keys))
    assert all(entry.kind in KINDS and entry.text for entry in found.entries)
    was, now = profile(older), profile(newer)

    def subjects(kind: str) -> set[str]:
        return {subject for k, subject in keys if k == kind}

    assert subjects("operation-added") == now["operations"].keys() - was["operations"].keys()
    assert subjects("operation-removed") == was["operations"].keys() - now["operations"].keys()
    assert subjects("event-added") == set(now["events"]) - set(was["events"])
    assert subjects("event-removed") == set(was["events"]) - set(now["events"])
    for name in schema_names():
        present = name in reachable(older), name in reachable(newer)
        assert (name in subjects("schema-added")) == (present == (False, True))
        assert (name in subjects("schema-removed")) == (present == (True, False))
        if present != (True, True):
            continue
        before, after = set(fields(name, older)), set(fields(name, newer))
        assert {s for s in subjects("property-added") if s.startswith(f"{name}.")} == {
            f"{name}.{field}" for field in after - before
        }
        assert {s for s in subjects("property-removed") if s.startswith(f"{name}.")} == {
            f"{name}.{field}" for field in before - after
        }
    surface = ("operations", "events", "schemas")
    if all(was.get(key) == now.get(key) for key in surface):
        assert found.entries == ()


@pytest.mark.parametrize(("older", "newer"), PAIRS, ids=[f"{a}..{b}" for a, b in PAIRS])
def test_going_back_mirrors_going_forward(older: str, newer: str) -> None:
    forward = {(MIRROR.get(e.kind, e.kind), e.subject) for e in changes(older, newer).entries}
    backward = {(e.kind, e.subject) for e in changes(newer, older).entries}
    assert forward == backward


def test_a_version_has_no_changes_from_itself() -> None:
    assert all(changes(version, version).entries == () for version in api_versions())


def test_consecutive_takes_release_order_whatever_order_it_is_given() -> None:
    assert consecutive() == [changes(a, b) for a, b in PAIRS]
    assert consecutive(["2026-03-12", "2024-04-15", "2026-03-12"]) == [
        changes("2024-04-15", "2026-03-12")
    ]
    assert consecutive(["2025-06-15"]) == []
    assert consecutive([]) == []


def test_unknown_versions_are_refused_naming_the_supported_ones() -> None:
    with pytest.raises(UnknownApiVersionError, match=r"'2019-01-01'.*2025-06-15"):
        changes("2019-01-01", "2025-06-15")
    with pytest.raises(UnknownApiVersionError, match="2019-01-01"):
        consecutive(["2025-06-15", "2019-01-01"])


def test_the_result_is_plain_data() -> None:
    found = changes("2023-10-15", "2024-04-15")
    document = json.loads(json.dumps(found.as_dict()))
    assert document["older"] == "2023-10-15"
    assert document["changes"][0] == found.entries[0].as_dict()
    assert set(document["changes"][0]) == {"kind", "subject", "text", "before", "after"}


# ----------------------------------------------------------------------------- synthetic


def _operation(method: str, path: str, success: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"method": method, "path": path, "success": success, **more}


OLD: dict[str, Any] = {
    "operations": {
        "Start": _operation(
            "POST", "/r", {"200": "State"}, request="StartV1", headers=["A-Header", "B-Header"]
        ),
        "Stop": _operation("DELETE", "/r/{id}", {"200": None}),
        "Peek": _operation("GET", "/r/{id}", {"200": "State", "203": None}),
        "Old": _operation("GET", "/old", {"200": None}),
    },
    "events": ["Microsoft.X.Started", "Microsoft.X.Gone"],
}
NEW: dict[str, Any] = {
    "operations": {
        "Start": _operation(
            "PUT",
            "/r/",
            {"200": "StateV2", "202": "State"},
            request="StartV2",
            headers=["B-Header", "C-Header"],
        ),
        "Stop": _operation("DELETE", "/r/{id}", {"204": None}),
        "Peek": _operation("GET", "/r/{id}", {"200": "State"}),
        "Fresh": _operation("GET", "/fresh", {"200": "State"}),
    },
    "events": ["Microsoft.X.Started", "Microsoft.X.New"],
}
OLD_SCHEMAS = {
    "Kind": SchemaFacts(present=True, enum=("a", "b", 1)),
    "Gone": SchemaFacts(present=True, properties=("x",)),
    "Later": SchemaFacts(present=False),
    "Never": SchemaFacts(present=False),
    "Request": SchemaFacts(present=True, properties=("a", "b"), required=("a",)),
}
NEW_SCHEMAS = {
    "Kind": SchemaFacts(present=True, enum=("b", "c", 2)),
    "Gone": SchemaFacts(present=False),
    "Later": SchemaFacts(present=True, properties=("y",), required=("y",)),
    "Request": SchemaFacts(present=True, properties=("b", "c"), required=("b",)),
}


def test_synthetic_profiles_yield_every_kind_in_a_stable_order() -> None:
    found = [(c.kind, c.subject, c.text) for c in compare(OLD, NEW, OLD_SCHEMAS, NEW_SCHEMAS)]
    assert found == [
        ("method-changed", "Start", "method of Start: POST -> PUT"),
        ("path-changed", "Start", "path of Start: /r -> /r/"),
        ("request-changed", "Start", "request body of Start: StartV1 -> StartV2"),
        ("status-added", "Start.202", "Start also answers 202 (State)"),
        ("body-changed", "Start.200", "body of Start 200: State -> StateV2"),
        ("header-added", "Start.C-Header", "Start takes header `C-Header`"),
        ("header-removed", "Start.A-Header", "Start no longer takes header `A-Header`"),
        ("status-replaced", "Stop", "Stop answers 204 instead of 200"),
        ("status-removed", "Peek.203", "Peek no longer answers 203"),
        ("operation-removed", "Old", "Old removed (was GET /old)"),
        ("operation-added", "Fresh", "Fresh added: GET /fresh"),
        ("event-added", "Microsoft.X.New", "event Microsoft.X.New added"),
        ("event-removed", "Microsoft.X.Gone", "event Microsoft.X.Gone no longer emitted"),
        ("schema-removed", "Gone", "Gone removed (absent from now on)"),
        ("enum-added", "Kind.c", "`c` added to Kind"),
        ("enum-added", "Kind.2", "`2` added to Kind"),
        ("enum-removed", "Kind.a", "`a` removed from Kind"),
        ("enum-removed", "Kind.1", "`1` removed from Kind"),
        ("schema-added", "Later", "Later added (absent before)"),
        ("property-added", "Request.c", "`c` added to Request"),
        ("property-removed", "Request.a", "`a` removed from Request"),
        ("required-added", "Request.b", "`b` now required in Request"),
        ("required-removed", "Request.a", "`a` no longer required in Request"),
    ]
    assert {kind for kind, _, _ in found} == set(KINDS)


def test_synthetic_before_and_after_carry_the_values() -> None:
    found = {(c.kind, c.subject): c for c in compare(OLD, NEW, OLD_SCHEMAS, NEW_SCHEMAS)}
    assert (
        found[("status-replaced", "Stop")].before,
        found[("status-replaced", "Stop")].after,
    ) == ("200", "204")
    assert found[("operation-added", "Fresh")].after == "GET /fresh"
    assert found[("operation-removed", "Old")].before == "GET /old"
    assert found[("body-changed", "Start.200")].before == "State"
    assert found[("property-added", "Request.c")].before is None


def test_identical_or_empty_profiles_have_no_changes() -> None:
    assert compare(OLD, OLD, OLD_SCHEMAS, OLD_SCHEMAS) == []
    assert compare({}, {}, {}, {}) == []


def test_a_request_body_that_appears_reads_none_before() -> None:
    old = {"operations": {"Go": _operation("POST", "/go", {"200": None})}}
    new = {"operations": {"Go": _operation("POST", "/go", {"200": None}, request="Body")}}
    [change] = compare(old, new, {}, {})
    assert (change.kind, change.text, change.before, change.after) == (
        "request-changed",
        "request body of Go: none -> Body",
        None,
        "Body",
    )


# ----------------------------------------------------------------------------- cli


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["specs", "changes", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_text_lists_every_consecutive_pair(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = cli(capsys)
    assert (status, err) == (0, "")
    titles = [line for line in out.splitlines() if line and not line.startswith("  ")]
    assert [title.split(":")[0] for title in titles] == [f"{a} -> {b}" for a, b in PAIRS]
    assert "  `pauseOnStart` added to StartCallRecordingRequest" in out.splitlines()


def test_cli_range_and_text_counts(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "--from", "2023-10-15", "--to", "2024-04-15")
    expected = changes("2023-10-15", "2024-04-15")
    assert status == 0
    assert out.splitlines() == [
        f"2023-10-15 -> 2024-04-15: {len(expected.entries)} changes",
        *(f"  {entry.text}" for entry in expected.entries),
    ]
    newest = api_versions()[-1]
    status, out, _ = cli(capsys, "--from", api_versions()[-2])
    assert status == 0
    assert out.startswith(f"{api_versions()[-2]} -> {newest}: ")


def test_cli_markdown_is_one_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "--format", "markdown", "--to", "2024-04-15")
    assert status == 0
    lines = out.splitlines()
    assert lines[:2] == ["| older → newer | change |", "|---|---|"]
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines[2:])
    assert (
        "| 2023-10-15 → 2024-04-15 | `pauseOnStart` added to StartCallRecordingRequest |" in lines
    )
    assert "| 2023-06-15-preview → 2023-10-15 | no changes |" in lines  # the same surface


def test_cli_json_is_the_library_result(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(
        capsys, "--format", "json", "--from", "2025-06-15", "--to", "2025-08-15-preview"
    )
    assert status == 0
    assert json.loads(out) == {"pairs": [changes("2025-06-15", "2025-08-15-preview").as_dict()]}


@pytest.mark.parametrize(
    "argv",
    [
        ("--from", "2019-01-01"),
        ("--to", "2019-01-01"),
        ("--from", "2025-06-15", "--to", "2019-01-01"),
    ],
)
def test_cli_unknown_version_exits_two_naming_it_and_the_known_ones(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    status, out, err = cli(capsys, *argv)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert "'2019-01-01'" in err
    assert all(version in err for version in api_versions())


@pytest.mark.parametrize(
    "argv",
    [
        ("--from", "2025-06-15", "--to", "2024-04-15"),
        ("--from", "2025-06-15", "--to", "2025-06-15"),
    ],
)
def test_cli_a_range_that_is_not_forward_exits_two(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    status, out, err = cli(capsys, *argv)
    assert (status, out) == (2, "")
    assert err.startswith("callrec: --from 2025-06-15 is not older than --to ")


def test_version_changes_type_is_exported() -> None:
    assert isinstance(changes("2025-05-15", "2025-06-15"), VersionChanges)


def test_only_what_a_version_can_put_on_the_wire_is_compared() -> None:
    conversations = next(v for v in api_versions() if profile(v)["generation"] == "conversations")
    wired = reachable(conversations)
    assert "ConversationStartRecordingRequest" in wired
    assert "CallLocator" not in wired  # in the union, but only other generations' bodies use it
    assert "StartCallRecordingRequest" not in wired
    for version in api_versions():  # the event and the metadata document stand on their own
        assert {"RecordingMetadata", "RecordingFileStatusUpdatedEventGridEvent"} <= reachable(
            version
        ), version
    assert all(name in reachable("2025-06-15") for name in ("CallLocator", "ExternalStorage"))
