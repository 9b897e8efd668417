"""`callrec report stamp RUN`: lastVerified in the requirement catalog, from a live run."""

from __future__ import annotations

import difflib
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any, Final

import jsonschema
import pytest

from callrec._specs import _read_yaml, meta_schema, specs_root
from callrec.cli import main
from callrec.report import ReportError, load, stamp
from callrec.report._stamp import LIVE
from callrec.specs import requirements
from tests.test_report_fixtures import SCHEMA, all_passing, run_lines, set_status, write_run

V_OLD, V_NEW = "2024-04-15", "2026-03-12"
DAY: Final = "2026-11-22"  # the fixture header's start date
SERVICE: Final = {"endpoint": "https://contoso.communication.azure.com/", "kind": "service"}
STAMP_LINE: Final = re.compile(
    r'^    lastVerified: \{date: "\d{4}-\d{2}-\d{2}", apiVersion: "[^"]+", '
    r'callrecVersion: "[^"]+"\}$'
)


def live_lines(**changes: Any) -> list[dict[str, Any]]:
    """A run against the service: every checked requirement passes, but for these three.

    REC-STOP-001 fails in the newer version only, REC-AUTH-002 in both, REC-EVENT-001 is
    not observed in the older one."""
    lines = all_passing(run_lines(60))
    lines[0]["target"] = dict(SERVICE)
    lines[0].update(changes)
    set_status(lines, "REC-STOP-001", V_NEW, "fail", "stop answered 200, not 204")
    set_status(lines, "REC-AUTH-002", V_OLD, "fail", "an unsigned GET answered 200")
    set_status(lines, "REC-AUTH-002", V_NEW, "fail", "an unsigned GET answered 200")
    set_status(lines, "REC-EVENT-001", V_OLD, "not-observed", "no event within 20 s")
    return lines


def expected(lines: list[dict[str, Any]]) -> dict[str, str]:
    """Each requirement with a passing, tested record, and the newest version it passed."""
    found: dict[str, str] = {}
    for line in lines:
        if line["record"] == "requirement" and line["status"] == "pass" and line["tests"]:
            # the fixture's versions are oldest first
            found[line["id"]] = line["apiVersion"]
    return found


def parsed(path: Path) -> list[dict[str, Any]]:
    """The catalog as `callrec.specs.requirements()` reads it (its own loader, no cache)."""
    entries: list[dict[str, Any]] = _read_yaml(path)["requirements"]
    return entries


def stamped(path: Path) -> dict[str, Any]:
    return {e["id"]: e["lastVerified"] for e in parsed(path) if "lastVerified" in e}


def stamp_lines(text: str) -> int:
    return sum(line.lstrip().startswith("lastVerified:") for line in text.splitlines())


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A copy of the real catalog (the loader caches the real one: never stamp it here)."""
    copy = tmp_path / "requirements.yaml"
    shutil.copyfile(specs_root() / "requirements.yaml", copy)
    return copy


@pytest.fixture
def live(tmp_path: Path) -> Path:
    return write_run(tmp_path / "live", live_lines()).parent


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["report", "stamp", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_passed_requirements_get_the_run_date_and_newest_passing_version(
    live: Path, catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = cli(capsys, str(live), "--catalog", str(catalog))
    assert (status, err) == (0, "")
    want = expected(live_lines())
    assert stamped(catalog) == {
        rid: {"date": DAY, "apiVersion": version, "callrecVersion": "0.1.0"}
        for rid, version in want.items()
    }
    assert want["REC-STOP-001"] == V_OLD  # failed in the newer version: the older one counts
    assert want["REC-EVENT-001"] == V_NEW
    assert "REC-AUTH-002" not in want  # failed everywhere
    lines = out.splitlines()
    assert f"REC-STOP-001: lastVerified none -> {DAY} in {V_OLD} (callrec 0.1.0)" in lines
    assert lines[-1] == f"stamped {len(want)} requirements in {catalog}"


def test_only_passes_are_stamped(live: Path, catalog: Path) -> None:
    stamp(load(live), catalog)
    statuses: dict[str, set[str]] = {}
    for line in live_lines():
        if line["record"] == "requirement":
            statuses.setdefault(line["id"], set()).add(line["status"] if line["tests"] else "-")
    for rid in stamped(catalog):
        assert "pass" in statuses[rid], rid
    never_passed = {rid for rid, found in statuses.items() if "pass" not in found}
    assert never_passed  # untested (not-applicable) ones and REC-AUTH-002
    assert never_passed.isdisjoint(stamped(catalog))


def test_comments_anchors_and_layout_are_kept(live: Path, catalog: Path) -> None:
    before = catalog.read_text(encoding="utf-8").splitlines()
    stamp(load(live), catalog)
    after = catalog.read_text(encoding="utf-8").splitlines()
    opcodes = difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes()
    inserted = [line for tag, _, _, j1, j2 in opcodes if tag != "equal" for line in after[j1:j2]]
    assert {tag for tag, *_ in opcodes} == {"equal", "insert"}  # nothing removed or rewritten
    assert len(inserted) == len(stamped(catalog))
    assert all(STAMP_LINE.match(line) for line in inserted), inserted[:3]
    for index, line in enumerate(after):  # each right after its entry's versions line
        if line.startswith("    lastVerified:"):
            assert after[index - 1].startswith("    versions:"), after[index - 1]
    for anchor in ("&before-2025-05", "&from-2025-05", "*from-2024-04", "*preview"):
        assert sum(anchor in line for line in after) == sum(anchor in line for line in before)
    assert [line for line in after if line.lstrip().startswith("#")] == [
        line for line in before if line.lstrip().startswith("#")
    ]


def test_restamping_is_idempotent(
    live: Path, catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = stamp(load(live), catalog)
    text = catalog.read_bytes()
    status, out, _ = cli(capsys, str(live), "--catalog", str(catalog))
    assert status == 0
    assert catalog.read_bytes() == text
    assert out == f"stamped 0 requirements in {catalog} ({len(first.changes)} already so)\n"
    again = stamp(load(live), catalog)
    assert (again.changes, again.written) == ((), False)
    assert again.unchanged == tuple(change.requirement for change in first.changes)


def test_a_later_run_replaces_the_stamp_and_an_earlier_one_keeps_it(
    live: Path, catalog: Path, tmp_path: Path
) -> None:
    stamp(load(live), catalog)
    later = live_lines(started="2026-11-23T01:00:00+00:00", callrecVersion="0.2.0")
    set_status(later, "REC-STOP-001", V_NEW, "pass")
    found = stamp(load(write_run(tmp_path / "later", later)), catalog)
    assert stamped(catalog)["REC-STOP-001"] == {
        "date": "2026-11-23",
        "apiVersion": V_NEW,
        "callrecVersion": "0.2.0",
    }
    assert len(found.changes) == len(expected(later))
    text = catalog.read_text(encoding="utf-8")
    assert stamp_lines(text) == len(stamped(catalog))
    earlier = live_lines(started="2026-11-20T23:59:59-01:00")  # 2026-11-21 in UTC
    kept = stamp(load(write_run(tmp_path / "earlier", earlier)), catalog)
    assert (kept.changes, kept.written) == ((), False)
    assert set(kept.kept) == set(expected(earlier))
    assert catalog.read_text(encoding="utf-8") == text


def test_the_date_is_the_runs_start_in_utc(tmp_path: Path, catalog: Path) -> None:
    lines = live_lines(started="2026-11-22T23:30:00-05:00")
    stamp(load(write_run(tmp_path / "run", lines)), catalog)
    assert {value["date"] for value in stamped(catalog).values()} == {"2026-11-23"}


def test_a_block_style_stamp_is_replaced_by_one_line(live: Path, catalog: Path) -> None:
    text = catalog.read_text(encoding="utf-8")
    old = "    versions: all\n"
    block = (
        '    lastVerified:\n      date: "2025-01-01"\n      apiVersion: "2024-04-15"\n'
        '      callrecVersion: "0.0.9"\n'
    )
    start = text.index("  - id: REC-START-001\n")
    at = text.index(old, start) + len(old)
    catalog.write_text(text[:at] + block + text[at:], encoding="utf-8")
    stamp(load(live), catalog)
    after = catalog.read_text(encoding="utf-8")
    assert stamp_lines(after) == len(stamped(catalog))
    assert stamped(catalog)["REC-START-001"]["date"] == DAY
    assert '"0.0.9"' not in after


def test_windows_line_endings_stay(live: Path, catalog: Path) -> None:
    catalog.write_bytes(catalog.read_bytes().replace(b"\n", b"\r\n"))
    stamp(load(live), catalog)
    data = catalog.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert len(stamped(catalog)) == len(expected(live_lines()))


def test_the_stamped_catalog_still_meets_its_meta_schema_and_loader(
    live: Path, catalog: Path
) -> None:
    stamp(load(live), catalog)
    document = _read_yaml(catalog)
    validator = jsonschema.Draft202012Validator(
        meta_schema("requirements"), format_checker=jsonschema.FormatChecker()
    )
    assert [error.message for error in validator.iter_errors(document)] == []
    entries = parsed(catalog)
    assert [e["id"] for e in entries] == [e["id"] for e in requirements()]
    assert Counter(e["id"] for e in entries).most_common(1)[0][1] == 1
    for mine, real in zip(entries, requirements(), strict=True):
        assert {k: v for k, v in mine.items() if k != "lastVerified"} == real


def test_a_bad_stamp_breaks_the_meta_schema(catalog: Path) -> None:
    validator = jsonschema.Draft202012Validator(
        meta_schema("requirements"), format_checker=jsonschema.FormatChecker()
    )
    document = _read_yaml(catalog)
    entry = document["requirements"][0]
    for bad in (
        {"date": "22/11/2026", "apiVersion": V_NEW, "callrecVersion": "0.1.0"},
        {"date": DAY, "apiVersion": "2099-01-01", "callrecVersion": "0.1.0"},
        {"date": DAY, "apiVersion": V_NEW},
        {"date": DAY, "apiVersion": V_NEW, "callrecVersion": "0.1.0", "by": "me"},
    ):
        entry["lastVerified"] = bad
        assert list(validator.iter_errors(document)), bad


@pytest.mark.parametrize(
    "target",
    [{"endpoint": "http://127.0.0.1:40847", "kind": "emulator"}, None],
    ids=["emulator", "unnamed"],
)
def test_runs_not_against_the_service_are_refused(
    tmp_path: Path,
    catalog: Path,
    capsys: pytest.CaptureFixture[str],
    target: dict[str, str] | None,
) -> None:
    run = write_run(tmp_path / "run", live_lines(target=target)).parent
    before = catalog.read_bytes()
    status, out, err = cli(capsys, str(run), "--catalog", str(catalog))
    assert (status, out) == (2, "")
    assert err.startswith(f"callrec: {run / 'results.jsonl'}: the run's target ")
    assert "only a run against the live service" in err
    assert "--allow-emulator" in err
    if target is not None:
        assert "was emulator http://127.0.0.1:40847" in err
    assert catalog.read_bytes() == before
    status, _, _ = cli(capsys, str(run), "--catalog", str(catalog), "--allow-emulator")
    assert status == 0
    assert len(stamped(catalog)) == len(expected(live_lines()))


def test_dry_run_prints_the_changes_and_writes_nothing(
    live: Path, catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = catalog.read_bytes()
    status, out, err = cli(capsys, str(live), "--catalog", str(catalog), "--dry-run")
    assert (status, err) == (0, "")
    assert catalog.read_bytes() == before
    lines = out.splitlines()
    count = len(expected(live_lines()))
    assert len(lines) == count + 1
    assert lines[0] == f"REC-START-001: lastVerified none -> {DAY} in {V_NEW} (callrec 0.1.0)"
    assert lines[-1] == f"would stamp {count} requirements in {catalog} (nothing written)"


def test_a_passed_requirement_the_catalog_lacks_is_named(
    tmp_path: Path, catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = live_lines()
    extra = {
        "record": "requirement",
        "id": "REC-START-099",
        "apiVersion": V_NEW,
        "status": "pass",
        "message": "",
        "tests": ["suites/test_new.py::test_new[2026-03-12]"],
    }
    lines.insert(-1, extra)
    run = write_run(tmp_path / "run", lines).parent
    status, _, err = cli(capsys, str(run), "--catalog", str(catalog))
    assert status == 0
    assert err == f"callrec: REC-START-099 passed but is not in {catalog}: not stamped\n"
    assert "REC-START-099" not in stamped(catalog)


def test_a_catalog_the_text_edit_cannot_follow_is_left_alone(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = tmp_path / "flow.yaml"  # entries as flow mappings: no `- id:` line to edit
    flow.write_text(
        "catalog: callrec-requirements\nrequirements:\n"
        + "".join(f"  - {json.dumps(e)}\n" for e in requirements()),
        encoding="utf-8",
    )
    before = flow.read_bytes()
    status, out, err = cli(capsys, str(live), "--catalog", str(flow))
    assert (status, out) == (2, "")
    assert "no `- id: REC-" in err
    assert "nothing written" in err
    assert flow.read_bytes() == before


def test_a_missing_or_foreign_catalog_is_an_input_error(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = cli(capsys, str(live), "--catalog", str(tmp_path / "nope.yaml"))
    assert status == 2
    assert err == f"callrec: {tmp_path / 'nope.yaml'}: no such catalog (pass --catalog)\n"
    other = tmp_path / "other.yaml"
    other.write_text("catalog: something-else\nrequirements: []\n", encoding="utf-8")
    status, _, err = cli(capsys, str(live), "--catalog", str(other))
    assert status == 2
    assert "not a requirement catalog" in err


def test_a_header_without_a_version_string_is_refused(tmp_path: Path, catalog: Path) -> None:
    run = write_run(tmp_path / "run", live_lines(callrecVersion="0.1\n0")).parent
    with pytest.raises(ReportError, match=re.escape("`callrecVersion` '0.1\\n0' is not a version")):
        stamp(load(run), catalog)


def test_the_live_kind_is_the_results_schemas() -> None:
    assert LIVE in SCHEMA["$defs"]["header"]["properties"]["target"]["properties"]["kind"]["enum"]
