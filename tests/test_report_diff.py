"""`callrec report diff OLD NEW`: what changed between two runs, regressions first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callrec.cli import main
from callrec.report import diff, format_diff, load
from tests.test_report_fixtures import HOSTILE, all_passing, run_lines, set_status, write_run

V_OLD, V_NEW = "2024-04-15", "2026-03-12"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["report", "diff", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    """An old run with two failures and a new one where a lot moved."""
    old = all_passing(run_lines(60, run_id="20261121T000000Z-aaaaaa"))
    set_status(old, "REC-AUTH-002", V_NEW, "fail", "answered 200 to an unsigned GET")
    set_status(old, "REC-EVENT-001", V_OLD, "not-observed", "no event within 20 s")
    set_status(old, "REC-RANGE-001", V_NEW, "known-deviation", "416 without Content-Range")
    new = all_passing(run_lines(60, run_id="20261122T000000Z-bbbbbb"))
    set_status(new, "REC-STOP-001", V_NEW, "fail", "stop answered 200, not 204")  # pass -> fail
    set_status(new, "REC-CALLBACK-003", V_OLD, "not-observed", "no callback within 20 s")
    set_status(new, "REC-RANGE-001", V_NEW, "fail", "416 with a body")  # deviation -> fail
    set_status(new, "REC-STATE-010", V_NEW, "fail", "not serialised")  # untested -> fail
    set_status(new, "REC-GET-001", V_OLD, "pass")  # untested -> pass: other
    set_status(new, "REC-PAUSE-001", V_OLD, "not-applicable", "no call provider")  # other
    return write_run(tmp_path / "old", old).parent, write_run(tmp_path / "new", new).parent


def test_changes_are_ordered_regressions_fixes_then_other(runs: tuple[Path, Path]) -> None:
    found = diff(load(runs[0]), load(runs[1]))
    assert [(c.kind, c.requirement, c.api_version, c.old, c.new) for c in found.changes] == [
        ("regressions", "REC-CALLBACK-003", V_OLD, "pass", "not-observed"),
        ("regressions", "REC-RANGE-001", V_NEW, "known-deviation", "fail"),
        ("regressions", "REC-STATE-010", V_NEW, "untested", "fail"),
        ("regressions", "REC-STOP-001", V_NEW, "pass", "fail"),
        ("fixes", "REC-AUTH-002", V_NEW, "fail", "pass"),
        ("fixes", "REC-EVENT-001", V_OLD, "not-observed", "pass"),
        ("other", "REC-GET-001", V_OLD, "untested", "pass"),
        ("other", "REC-PAUSE-001", V_OLD, "pass", "not-applicable"),
    ]
    assert found.regressed


def test_text_output_reads_top_down_and_exits_one(
    runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, str(runs[0]), str(runs[1]))
    assert (status, err) == (1, "")
    lines = out.splitlines()
    assert lines[0] == ("callrec report diff: 20261121T000000Z-aaaaaa -> 20261122T000000Z-bbbbbb")
    assert lines[1].startswith("REGRESSED: 4 new failures, 2 fixes, 2 other changes in ")
    headings = [line for line in lines if line and not line.startswith(" ")][2:]
    assert headings == ["New failures (4)", "Fixed (2)", "Other changes (2)"]
    stop = next(line for line in lines if "REC-STOP-001" in line)
    assert stop.split() == [
        "REC-STOP-001",
        V_NEW,
        "MUST",
        "pass",
        "->",
        "fail",
        "stop",
        "answered",
        "200,",
        "not",
        "204",
    ]
    fixed = next(line for line in lines if "REC-AUTH-002" in line)
    assert fixed.endswith("answered 200 to an unsigned GET")  # what was wrong, now fixed


def test_json_output(runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--format", "json", str(runs[0]), str(runs[1]))
    document = json.loads(out)
    assert status == 1
    assert document["regressed"] is True
    assert document["old"]["runId"] == "20261121T000000Z-aaaaaa"
    assert [c["id"] for c in document["regressions"]] == [
        "REC-CALLBACK-003",
        "REC-RANGE-001",
        "REC-STATE-010",
        "REC-STOP-001",
    ]
    assert document["regressions"][3] == {
        "id": "REC-STOP-001",
        "apiVersion": V_NEW,
        "level": "MUST",
        "old": "pass",
        "new": "fail",
        "message": "stop answered 200, not 204",
    }
    assert len(document["fixes"]) == 2
    assert len(document["other"]) == 2


def test_markdown_output(runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--format", "markdown", str(runs[0]), str(runs[1]))
    assert status == 1
    lines = out.splitlines()
    assert lines[0].startswith("## ❌ Conformance diff: ")
    headings = [line for line in lines if line.startswith("### ")]
    assert headings == ["### New failures (4)", "### Fixed (2)", "### Other changes (2)"]
    assert (
        "| REC-STOP-001 | 2026-03-12 | MUST | ✅ pass | ❌ fail | stop answered 200, not 204 |"
        in lines
    )


def test_only_fixes_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = all_passing(run_lines(26))
    set_status(old, "REC-AUTH-002", V_NEW, "fail", "broken")
    new = all_passing(run_lines(26))
    status, out, _ = run(
        capsys, str(write_run(tmp_path / "a", old)), str(write_run(tmp_path / "b", new))
    )
    assert status == 0
    assert out.splitlines()[1].startswith("no regressions: 0 new failures, 1 fix, 0 other")


def test_identical_runs_have_no_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_run(tmp_path, run_lines(26)).parent
    status, out, _ = run(capsys, str(folder), str(folder))
    assert status == 0
    assert len(out.splitlines()) == 2


def test_records_only_one_run_has_and_changed_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write_run(tmp_path / "a", all_passing(run_lines(26, versions=(V_OLD,))))
    new = write_run(tmp_path / "b", all_passing(run_lines(26, versions=(V_OLD, V_NEW))))
    found = diff(load(old), load(new))
    assert not found.regressed
    assert {c.old for c in found.changes} == {"absent"}
    assert {c.kind for c in found.changes} == {"other"}
    assert found.notes() == ["the api-versions differ: 2024-04-15 then 2024-04-15, 2026-03-12"]
    status, out, _ = run(capsys, "--format", "json", str(old), str(new))
    assert status == 0
    assert {c["old"] for c in json.loads(out)["other"]} == {None}


def test_a_new_failure_of_a_record_the_old_run_lacked_is_a_regression(tmp_path: Path) -> None:
    old = write_run(tmp_path / "a", all_passing(run_lines(26, versions=(V_OLD,))))
    lines = all_passing(run_lines(26, versions=(V_OLD, V_NEW)))
    set_status(lines, "REC-STOP-001", V_NEW, "fail", "stop answered 200")
    found = diff(load(old), load(write_run(tmp_path / "b", lines)))
    assert [(c.requirement, c.old, c.new) for c in found.of("regressions")] == [
        ("REC-STOP-001", "absent", "fail")
    ]


def test_hostile_messages_cannot_break_the_text_or_markdown(tmp_path: Path) -> None:
    old = write_run(tmp_path / "a", all_passing(run_lines(26)))
    lines = all_passing(run_lines(26))
    set_status(lines, "REC-STOP-001", V_NEW, "fail", f"{HOSTILE}\n\x1b[2Jcleared\rover")
    found = diff(load(old), load(write_run(tmp_path / "b", lines)))
    text = format_diff(found, "text")
    assert "\x1b" not in text
    assert "\r" not in text
    assert len(text.splitlines()) == 5
    markdown = format_diff(found, "markdown")
    row = next(line for line in markdown.splitlines() if "REC-STOP-001" in line)
    assert row.count(" | ") == 5  # six cells: the message's pipes are escaped
    assert "\\<script\\>" in row


@pytest.mark.parametrize("which", ["old", "new"])
def test_bad_input_exits_two_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    good = write_run(tmp_path / "good", run_lines(4))
    bad = tmp_path / "bad" / "results.jsonl"
    bad.parent.mkdir()
    bad.write_text('{"record": "header"}\n', encoding="utf-8")
    argv = [str(bad), str(good)] if which == "old" else [str(good), str(bad)]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert err.startswith(f"callrec: {bad}:1: header: no `format`")


def test_a_missing_run_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_run(tmp_path / "good", run_lines(4))
    status, _, err = run(capsys, str(good), str(tmp_path / "nope"))
    assert status == 2
    assert f"{tmp_path / 'nope'}: no such run folder or results file" in err
