"""`callrec report render`: conformance.md, badge.json and index.html from a run's results."""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from callrec.cli import main
from callrec.report import ReportError, load, write_report
from callrec.report._charts import Mark, audio, deliveries, latency, percentile
from callrec.report._machine import state_machine
from callrec.report._records import Audio, Channel, Delivery, Exchange, Transition
from callrec.specs import changes
from tests.test_report_fixtures import (
    FAILING,
    HOSTILE,
    all_passing,
    run_lines,
    set_status,
    with_totals,
    write_run,
)

SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
AUTH = ("suites/test_auth.py::test_bad_authentication_is_refused", "2026-03-12")


def svg_root(text: str) -> ET.Element:
    """Parse an SVG this project generated (strict XML: fails on anything malformed)."""
    return ET.fromstring(text)  # noqa: S314 (our own output, parsed to prove it well-formed)


def texts(root: ET.Element) -> list[str]:
    """The SVG's text elements as shown (a tooltip <title> inside one is not shown)."""
    return [
        (t.text or "") + "".join(child.tail or "" for child in t)
        for t in root.iter("{http://www.w3.org/2000/svg}text")
    ]


def render(folder: Path, lines: list[dict[str, Any]]) -> Path:
    write_run(folder, lines)
    assert main(["report", "render", str(folder)]) == 0
    return folder


class Page(HTMLParser):
    """What the tests look for in index.html: ids, tags, attributes, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if found.get("id"):
            self.ids.add(str(found["id"]))
        self.scripts += tag == "script"

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def count(self, tag: str, css_class: str = "") -> int:
        return sum(
            1
            for name, attrs in self.tags
            if name == tag and css_class in [*(attrs.get("class") or "").split(), ""]
        )


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("failing"), run_lines(60, outcomes=FAILING))


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outcomes = {key: dict(value) for key, value in FAILING.items()}
    outcomes[AUTH] = {
        **FAILING[AUTH],
        "message": f"REC-AUTH-002: {HOSTILE}",
        "hint": HOSTILE,
        "pointer": f"/error/{HOSTILE}",
    }
    lines = run_lines(30, outcomes=outcomes)
    lines[0]["target"]["endpoint"] = f"https://{HOSTILE}.example"
    lines[0]["runId"] = HOSTILE
    for line in lines:
        if line["record"] != "test":
            continue
        for item in line["evidence"]:
            if item["kind"] == "exchange":
                item["responseBody"] = {"error": {"code": "8522", "message": HOSTILE}}
                item["path"] += "&x=" + HOSTILE
            elif item["kind"] == "delivery":
                item["eventType"] = HOSTILE
            elif item["kind"] == "audio":
                item["channels"][0]["participant"] = HOSTILE + "\x01\ud800\x1b[31m"
            elif item["kind"] == "transition":
                item["operation"] = HOSTILE
        line["evidence"].append({"kind": "note", "text": HOSTILE})
    lines = with_totals(lines)
    folder = tmp_path_factory.mktemp("hostile")
    write_run(folder, lines, ascii_only=True)  # a lone surrogate travels as \\ud800
    assert main(["report", "render", str(folder)]) == 0
    return folder


# ----------------------------------------------------------------------------- files


def test_render_writes_the_three_files_into_the_run_folder(failing_run: Path) -> None:
    for name in ("conformance.md", "badge.json", "index.html"):
        assert (failing_run / name).stat().st_size > 0, name


def test_render_accepts_the_results_file_and_an_output_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = write_run(tmp_path / "run", run_lines(8))
    out = tmp_path / "site" / "report"
    assert main(["report", "render", str(results), "--output", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["badge.json", "conformance.md", "index.html"]
    assert capsys.readouterr().out.splitlines() == [
        str(out / "conformance.md"),
        str(out / "badge.json"),
        str(out / "index.html"),
    ]
    assert not (tmp_path / "run" / "index.html").exists()


# ----------------------------------------------------------------------------- markdown


def test_markdown_headline_names_the_verdict_target_versions_and_counts(failing_run: Path) -> None:
    text = (failing_run / "conformance.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# ACS Call Recording conformance: ❌ Not conforming"
    assert lines[2].startswith("**3 MUST requirements fail; ")
    assert "| Target | http://127.0.0.1:40847 (emulator) |" in lines
    assert "| API versions | 2024-04-15, 2026-03-12 (asked: all) |" in lines
    assert any(line.startswith("| Duration | ") and "60 tests" in line for line in lines)
    assert "❌ 3 fail" in text
    assert "⏳ 3 not observed" in text


def test_markdown_matrix_has_a_row_per_requirement_grouped_by_area(failing_run: Path) -> None:
    lines = (failing_run / "conformance.md").read_text(encoding="utf-8").splitlines()
    header = lines.index("| Requirement | Level | 2024-04-15 | 2026-03-12 | Statement |")
    assert lines[header + 1] == "|---|---|:-:|:-:|---|"
    assert lines[header + 2] == "| **START** | | | | |"
    rows = {line.split(" | ")[0][2:]: line for line in lines if line.startswith("| REC-")}
    assert rows["REC-AUTH-002"].startswith("| REC-AUTH-002 | MUST | ✅ | ❌ | ")
    assert rows["REC-EVENT-001"].startswith("| REC-EVENT-001 | MUST | ⏳ | ✅ | ")
    assert rows["REC-RANGE-001"].startswith("| REC-RANGE-001 | MUST | ✅ | ⚠️ | ")
    assert rows["REC-GET-001"].startswith("| REC-GET-001 | MUST | · | · | ")
    assert rows["REC-RETENTION-003"].startswith("| REC-RETENTION-003 | MAY | ")
    assert lines.index("| **AUTH** | | | | |") < lines.index(rows["REC-AUTH-001"])
    assert all(row.count(" | ") == 4 for row in rows.values())  # five cells each


def test_markdown_lists_failures_first_then_not_observed(failing_run: Path) -> None:
    text = (failing_run / "conformance.md").read_text(encoding="utf-8")
    failures = text.split("## Failures\n\n", 1)[1].split("\n\n## ", 1)[0].splitlines()
    assert failures[0] == (
        "- ❌ **REC-AUTH-002** 2026-03-12 (MUST): REC-AUTH-002: a GET without a signature "
        "answered 200 OK, not 401"
    )
    assert [line[:3] for line in failures] == ["- ❌"] * 3 + ["- ⏳"] * 3


def test_markdown_escapes_hostile_text(hostile_run: Path) -> None:
    text = (hostile_run / "conformance.md").read_text(encoding="utf-8")
    assert re.search(r"(?<!\\)<", text) is None  # every < is escaped
    assert "\\<script\\>alert(1)\\</script\\>" in text
    failure = next(line for line in text.splitlines() if line.startswith("- ❌ **REC-AUTH-002**"))
    assert "\\|pipe\\|" in failure


def test_markdown_cuts_long_failure_lists_with_a_count(tmp_path: Path) -> None:
    lines = run_lines(4)
    records = [line for line in lines if line["record"] == "requirement"]
    for record in records:
        set_status(lines, record["id"], record["apiVersion"], "fail", "x" * 2000)
    folder = render(tmp_path, lines)
    text = (folder / "conformance.md").read_text(encoding="utf-8")
    assert f"- … and {len(records) - 200} more (see index.html)" in text
    assert max(len(line) for line in text.splitlines()) < 500


# ----------------------------------------------------------------------------- what changed


def _changes_section(html: str) -> str:
    return html.split('<section id="changes">', 1)[1].split("</section>", 1)[0]


def test_two_versions_show_what_changed_between_them(failing_run: Path) -> None:
    expected = changes("2024-04-15", "2026-03-12").entries
    assert 0 < len(expected) <= 200
    text = (failing_run / "conformance.md").read_text(encoding="utf-8")
    assert text.index("## Failures") < text.index("## What changed between api-versions")
    section = text.split("## What changed between api-versions\n\n", 1)[1].splitlines()
    assert section[:2] == ["| older → newer | change |", "|---|---|"]
    assert len(section) == 2 + len(expected)
    assert all(line.startswith("| 2024-04-15 → 2026-03-12 | ") for line in section[2:])
    assert (
        "| 2024-04-15 → 2026-03-12 | `callConnectionId` added to StartCallRecordingRequest |"
        in section
    )
    html = (failing_run / "index.html").read_text(encoding="utf-8")
    page = parse(html)
    assert {"changes", "changes-table"} <= page.ids
    assert ("a", {"href": "#changes"}) in page.tags
    table = _changes_section(html)
    assert "<code>callConnectionId</code> added to StartCallRecordingRequest" in table
    assert table.count("<tr>") == 1 + len(expected)  # the head, a row per change
    assert table.count('rowspan="') == 1
    assert 'title="property-added: StartCallRecordingRequest.callConnectionId"' in table


def test_one_version_shows_nothing_of_what_changed(tmp_path: Path) -> None:
    folder = render(tmp_path, run_lines(6, versions=("2025-06-15",)))
    assert "What changed" not in (folder / "conformance.md").read_text(encoding="utf-8")
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "What changed" not in html
    assert "#changes" not in html


def test_what_changed_has_a_row_for_a_pair_without_changes_and_names_unknown_versions(
    tmp_path: Path,
) -> None:
    assert changes("2025-05-15", "2025-06-15").entries == ()  # the same surface
    lines = run_lines(8, versions=("2025-06-15", "2099-01-01", "2025-05-15"))
    folder = render(tmp_path, lines)
    text = (folder / "conformance.md").read_text(encoding="utf-8")
    section = text.split("## What changed between api-versions\n\n", 1)[1].splitlines()
    assert section == [
        "| older → newer | change |",
        "|---|---|",
        "| 2025-05-15 → 2025-06-15 | no changes |",
        "",
        "Not compared (no profile in this callrec): 2099-01-01",
    ]
    table = _changes_section((folder / "index.html").read_text(encoding="utf-8"))
    assert '<td class="note">no changes</td>' in table
    assert "Not compared (no profile in this callrec): 2099-01-01" in table


def test_what_changed_is_cut_with_a_count_in_markdown_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("callrec.report._render_md.CHANGE_ROWS", 3)
    versions = ("2023-10-15", "2024-04-15", "2026-03-12")
    total = sum(len(changes(a, b).entries) for a, b in itertools.pairwise(versions))
    folder = render(tmp_path, run_lines(6, versions=versions))
    text = (folder / "conformance.md").read_text(encoding="utf-8")
    section = text.split("## What changed between api-versions\n\n", 1)[1].splitlines()
    assert len(section) == 2 + 3 + 2
    assert section[-1] == f"… and {total - 3} more (see index.html)"
    table = _changes_section((folder / "index.html").read_text(encoding="utf-8"))
    assert table.count("<tr>") == 1 + total
    assert table.count('rowspan="') == 2


# ----------------------------------------------------------------------------- badge


@pytest.mark.parametrize(
    ("change", "colour", "message"),
    [
        (None, "green", "32/32 requirements"),
        (("REC-STATE-010", "2026-03-12", "fail"), "yellow", "32/33 requirements"),
        (("REC-EVENT-001", "2026-03-12", "not-observed"), "yellow", "31/32 requirements"),
        (("REC-EVENT-001", "2026-03-12", "known-deviation"), "yellow", "31/32 requirements"),
        (("REC-EVENT-001", "2026-03-12", "fail"), "red", "31/32 requirements"),
        (("REC-RETENTION-003", "2024-04-15", "fail"), "yellow", "32/33 requirements"),
    ],
)
def test_badge_colour_follows_the_documented_rule(
    tmp_path: Path, change: tuple[str, str, str] | None, colour: str, message: str
) -> None:
    lines = all_passing(run_lines(60))
    if change is not None:
        set_status(lines, *change, message="changed")
    folder = render(tmp_path, lines)
    badge = json.loads((folder / "badge.json").read_text(encoding="utf-8"))
    assert badge == {
        "schemaVersion": 1,
        "label": "ACS recording conformance",
        "message": message,
        "color": colour,
    }


def test_badge_is_grey_when_nothing_was_checked(tmp_path: Path) -> None:
    lines = [line for line in run_lines(2) if line["record"] != "test"]
    for line in lines:
        if line["record"] == "requirement":
            line.update(tests=[], status="not-applicable")
    folder = render(tmp_path, lines)
    badge = json.loads((folder / "badge.json").read_text(encoding="utf-8"))
    assert (badge["color"], badge["message"]) == ("lightgrey", "0/0 requirements")
    assert "Nothing checked" in (folder / "conformance.md").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- html


def test_html_parses_and_has_its_sections(failing_run: Path) -> None:
    html = (failing_run / "index.html").read_text(encoding="utf-8")
    page = parse(html)
    assert {"headline", "matrix", "matrix-table", "filters", "filter-text", "failures"} <= page.ids
    assert {"not-observed", "deviations", "pictures"} <= page.ids
    rows = {record.id for record in load(failing_run).requirements}
    assert page.count("tr", "req") == len(rows)
    assert page.count("tr", "area") == len({rid.split("-")[1] for rid in rows})
    assert page.count("input") == 8  # the text filter and a box per status and "not tested"
    assert page.count("details") >= 6
    assert page.scripts == 1
    assert "Not conforming" in "".join(page.text)


def test_html_failure_cells_link_to_their_evidence(failing_run: Path) -> None:
    page = parse((failing_run / "index.html").read_text(encoding="utf-8"))
    links = [attrs["href"] for tag, attrs in page.tags if tag == "a" and "s-fail" in str(attrs)]
    assert links
    assert all(str(link)[1:] in page.ids for link in links)
    opened = [attrs for tag, attrs in page.tags if tag == "details" and "open" in attrs]
    assert len(opened) == 1


def test_html_evidence_shows_request_response_pointer_and_hint(failing_run: Path) -> None:
    html = (failing_run / "index.html").read_text(encoding="utf-8")
    failures = html.split('id="failures"', 1)[1].split('id="not-observed"', 1)[0]
    assert "<dt>Pointer</dt><dd><code>/error/code</code></dd>" in failures
    assert "Check the HMAC on every Call Automation request, including GET." in failures
    assert "&quot;recordingStateCallbackUri&quot;" in failures  # the request body
    assert "&quot;recordingState&quot;: &quot;inactive&quot;" in failures  # the response body
    assert "/calling/recordings?api-version=2026-03-12" in failures


def test_html_is_self_contained(failing_run: Path) -> None:
    html = (failing_run / "index.html").read_text(encoding="utf-8")
    page = parse(html)
    for tag, attrs in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        for name in ("src", "href", "xlink:href"):
            value = str(attrs.get(name) or "")
            assert not value or value.startswith("#") or value.startswith("url(#"), (tag, value)
    assert "@import" not in html
    assert "url(http" not in html
    policy = next(
        a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in str(policy)
    assert "script-src 'sha256-" in str(policy)


def test_every_svg_is_well_formed_xml(failing_run: Path) -> None:
    html = (failing_run / "index.html").read_text(encoding="utf-8")
    svgs = SVG.findall(html)
    assert len(svgs) >= 4  # state machine, latency, audio panels, deliveries
    labels = []
    for svg in svgs:
        root = svg_root(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        labels.append(root.get("aria-label", ""))
    assert labels[0].startswith("Recording state machine")
    assert labels[1].startswith("Latency per operation")
    assert any(label.startswith("Audio energy per channel") for label in labels)
    assert labels[-1].startswith("Deliveries over time")


def test_hostile_text_is_escaped_everywhere(hostile_run: Path) -> None:
    html = (hostile_run / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = parse(html)
    assert page.scripts == 1
    assert not [(tag, name) for tag, attrs in page.tags for name in attrs if name.startswith("on")]
    assert HOSTILE in "".join(page.text)  # shown, as text
    for svg in SVG.findall(html):
        svg_root(svg)  # control characters and lone surrogates were replaced
    assert "\x1b" not in html
    assert "\x01" not in html


# ----------------------------------------------------------------------------- pictures


def _transition(before: str, operation: str, after: str, ok: bool = True) -> Transition:
    return Transition(before=before, operation=operation, after=after, ok=ok, at=None)


def _moves(svg: str) -> dict[str, str]:
    """Tooltip of each move chip -> its outcome class."""
    root = svg_root(svg)
    ns = "{http://www.w3.org/2000/svg}"
    found = {}
    for g in root.iter(f"{ns}g"):
        classes = (g.get("class") or "").split()
        if classes[:1] == ["move"]:
            title = g.find(f"{ns}title")
            assert title is not None
            found[str(title.text).split(":")[0]] = classes[1]
    return found


def test_state_machine_colours_each_transition_by_what_was_seen() -> None:
    svg = state_machine(
        [
            _transition("none", "start", "starting"),
            _transition("starting", "activate", "active"),
            _transition("active", "pause", "paused"),
            _transition("active", "pause", "paused", ok=False),
            _transition("stopped", "GetRecordingProperties", "stopped"),
            _transition("paused", "teleport", "elsewhere"),
        ]
    )
    moves = _moves(svg)
    assert moves["none → starting by start"] == "passed"
    assert moves["active → paused by pause"] == "failed"
    assert moves["paused → active by resume"] == "unseen"
    assert moves["active → stopped by call-end"] == "unseen"
    assert moves["stopped → stopped by get"] == "passed"  # operation names are normalised
    assert moves["paused → elsewhere by teleport"] == "passed"  # moves outside the model too
    assert "elsewhere" in texts(svg_root(svg))


def test_an_empty_run_draws_the_whole_machine_grey() -> None:
    moves = _moves(state_machine([]))
    assert len(moves) == 16
    assert set(moves.values()) == {"unseen"}


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 90) == pytest.approx(90.1)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0


def test_latency_rows_label_p50_p90_p99_per_operation() -> None:
    exchanges = [
        Exchange(
            "GET",
            "/calling/recordings/x",
            "GetRecordingProperties",
            200,
            float(v),
            None,
            None,
            None,
        )
        for v in range(1, 101)
    ] + [Exchange("POST", "/elsewhere", None, 404, 5.0, None, None, None)]
    svg = latency(exchanges)
    assert svg is not None
    shown = texts(svg_root(svg))
    assert "GetRecordingProperties" in shown
    assert "50 ms · 90 ms · 99 ms" in shown
    assert "other POST" in shown
    assert "n = 100" in shown
    assert latency([]) is None


def test_audio_has_a_row_per_channel_labelled_with_its_participant() -> None:
    found = Audio(
        window_ms=100,
        channels=(
            Channel("8:acs:aaaa", (0.0, 1.0, 0.5) * 100),
            Channel(None, (0.2,) * 300),
            Channel("4:+14255550123", ()),
        ),
        at=None,
    )
    root = svg_root(audio(found, "suites/test_content.py::test_unmixed[2026-03-12]"))
    shown = texts(root)
    assert "1  8:acs:aaaa" in shown
    assert "2  channel 2" in shown
    assert "3  4:+14255550123" in shown
    assert "unmixed, 3 channels, 100 ms windows" in shown
    assert (
        len([g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "channel"])
        == 3
    )


def test_deliveries_have_a_lane_per_source_and_event_type() -> None:
    def mark(source: str, event: str, at: float | None, failing: bool = False) -> Mark:
        return Mark(Delivery(source, event, None, None, at), failing)

    svg = deliveries(
        [
            mark("callback", "Microsoft.Communication.RecordingStateChanged", 10.0),
            mark("callback", "Microsoft.Communication.RecordingStateChanged", 12.0, failing=True),
            mark("eventgrid", "Microsoft.Communication.RecordingFileStatusUpdated", 40.0),
            mark("eventgrid", "Microsoft.Communication.RecordingFileStatusUpdated", None),
        ],
        start=0.0,
    )
    assert svg is not None
    root = svg_root(svg)
    lanes = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "lane"]
    assert [len(lane) for lane in lanes] == [2, 1]
    assert root.get("aria-label") == "Deliveries over time: 3 deliveries"
    assert deliveries([], start=None) is None


# ----------------------------------------------------------------------------- input


def test_extra_fields_unknown_evidence_and_unknown_records_are_ignored(tmp_path: Path) -> None:
    lines = run_lines(4)
    lines[0]["shinyNewField"] = {"x": 1}
    lines[1]["evidence"].append({"kind": "hologram", "at": 1.0})
    lines[1]["evidence"][0]["extra"] = True
    lines.insert(2, {"record": "attachment", "name": "junit.xml"})
    run = load(write_run(tmp_path, lines))
    assert len(run.tests) == 4
    assert len(run.tests[0].evidence) == len(lines[1]["evidence"]) - 1


def test_a_file_without_requirement_records_is_derived_from_its_tests(tmp_path: Path) -> None:
    lines = [line for line in run_lines(26, outcomes=FAILING) if line["record"] != "requirement"]
    folder = render(tmp_path, lines)
    run = load(folder)
    assert run.derived
    auth = {
        (r.id, r.api_version): r.status for r in run.requirements if r.id.startswith("REC-AUTH")
    }
    assert auth[("REC-AUTH-002", "2026-03-12")] == "fail"
    assert auth[("REC-AUTH-002", "2024-04-15")] == "pass"
    assert "derived from its tests" in (folder / "conformance.md").read_text(encoding="utf-8")


def _results(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "results.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_HEADER = json.dumps(run_lines(1)[0])
GOOD_TEST = json.dumps(run_lines(1)[1])


def _edited_test(old: str, new: str) -> str:
    return f"{GOOD_HEADER}\n{GOOD_TEST.replace(old, new, 1)}\n"


NAN_FOOTER = '{"record": "footer", "totals": {}, "exchanges": 1, "seconds": NaN}'


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        (f"{GOOD_HEADER}\n{{not json\n", 2, "not JSON"),
        (f"{GOOD_HEADER}\n[1, 2]\n", 2, "a list, not a JSON object"),
        (
            f"{GOOD_HEADER}\n\n{GOOD_TEST}\n".replace('"status": ', '"state": '),
            3,
            "test record: lacks `status`",
        ),
        (
            _edited_test('"status": "pass"', '"status": "great"'),
            2,
            '`status` is "great", not one of fail, not-observed',
        ),
        (_edited_test('"latencyMs"', '"latency"'), 2, "evidence[0]: lacks `latencyMs`"),
        (f"{GOOD_TEST}\n", 1, "the first record is not the header"),
        (f"{GOOD_HEADER}\n{GOOD_HEADER}\n", 2, "a second header"),
        (
            GOOD_HEADER.replace('"format": 1', '"format": 2') + "\n",
            1,
            "format 2; this callrec reads format 1",
        ),
        (f"{GOOD_HEADER}\n{NAN_FOOTER}\n", 2, "`seconds` is NaN, not a number"),
    ],
)
def test_a_malformed_line_is_an_error_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, says: str
) -> None:
    path = _results(tmp_path, text)
    with pytest.raises(ReportError, match=re.escape(f"{path}:{line}: ")) as raised:
        load(path)
    assert says in str(raised.value)
    assert main(["report", "render", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"callrec: {path}:{line}: ")
    assert not (tmp_path / "index.html").exists()


def _missing(tmp: Path) -> Path:
    return tmp / "missing"


def _empty_folder(tmp: Path) -> Path:
    return tmp


def _blank_file(tmp: Path) -> Path:
    return _results(tmp, "\n\n")


def _not_utf8(tmp: Path) -> Path:
    path = tmp / "results.jsonl"
    path.write_bytes(GOOD_HEADER.encode() + b"\n\xff\xfe\n")
    return tmp


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_missing, "missing: no such run folder or results file"),
        (_empty_folder, ": no results.jsonl in this folder"),
        (_blank_file, "results.jsonl: empty: no header record"),
        (_not_utf8, "results.jsonl:2: not UTF-8 text"),
    ],
)
def test_unreadable_runs_exit_two_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], Path], says: str
) -> None:
    target = make(tmp_path)
    assert main(["report", "render", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"callrec: {tmp_path}")
    assert says in err


def test_the_plugins_older_format_is_refused_in_plain_words(tmp_path: Path) -> None:
    old = {
        "record": "header",
        "runId": "x",
        "target": None,
        "apiVersion": "newest",
        "callrecVersion": "0.1.0",
        "started": "2026-11-22T00:05:26+00:00",
    }
    path = _results(tmp_path, json.dumps(old) + "\n")
    with pytest.raises(ReportError, match="no `format`; this callrec reads format 1"):
        load(path)


# ----------------------------------------------------------------------------- size


def test_a_thousand_test_run_stays_within_a_job_summary(tmp_path: Path) -> None:
    outcomes = {key: dict(value) for key, value in FAILING.items()}
    run = load(
        write_run(
            tmp_path,
            run_lines(
                1000,
                outcomes=outcomes,
                versions=("2023-03-06", "2024-04-15", "2025-05-15", "2026-03-12"),
            ),
        )
    )
    written = write_report(run)
    sizes = {name: path.stat().st_size for name, path in written.items()}
    assert sizes["conformance.md"] < 1_000_000
    assert sizes["index.html"] < 3_000_000
    parse(written["index.html"].read_text(encoding="utf-8"))


def test_evidence_beyond_the_page_budget_points_at_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("callrec.report._render_html.EVIDENCE_BYTES", 6000)
    folder = render(tmp_path, run_lines(60, outcomes=FAILING))
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert html.count("<h4>HTTP exchanges") >= 1
    assert "Evidence left out to keep this page small: see line " in html
    assert "of results.jsonl." in html
