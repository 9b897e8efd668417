"""`callrec validate`, `callrec schemas` and `callrec specs build` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from callrec._specs import specs_root
from callrec.cli import main

EXAMPLES = specs_root() / "examples"
GOOD_EVENT = (EXAMPLES / "seeds" / "002-event-grid-event.json").read_text()
EVENT = json.loads(GOOD_EVENT)[0]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_valid_files_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "validate", str(EXAMPLES / "seeds"), str(EXAMPLES / "digest"))
    assert (status, out) == (0, "")
    assert "0 invalid" in err


def test_invalid_payload_exits_one_with_file_line_pointer_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = {**EVENT, "data": {**EVENT["data"], "recordingFormatType": "wav"}}
    path = write(tmp_path, "event.json", json.dumps(bad))
    status, out, _ = run(capsys, "validate", path)
    assert status == 1
    assert (
        out == f'{path}:1: /data/recordingFormatType: "wav" is not one of "Wav", "Mp3" or "Mp4"\n'
    )


def test_ndjson_failures_name_their_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = [json.dumps(EVENT), "", json.dumps({**EVENT, "eventTime": "soon"}), json.dumps(EVENT)]
    path = write(tmp_path, "events.ndjson", "\n".join(lines) + "\n")
    status, out, err = run(capsys, "validate", "--api-version", "2025-06-15", path)
    assert status == 1
    assert out == f'{path}:3: /eventTime: "soon" is not a "date-time"\n'
    assert "3 payloads checked: 2 valid, 1 invalid" in err


def test_many_ndjson_lines_use_the_chunked_path_and_keep_line_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = [json.dumps(EVENT)] * 1500
    lines[1234] = json.dumps({**EVENT, "id": 7})
    lines[1400] = "{not json"
    path = write(tmp_path, "many.ndjson", "\n".join(lines))
    status, out, err = run(capsys, "validate", path)
    assert status == 2  # unreadable input wins over invalid
    assert f'{path}:1235: /id: 7 is not of type "string"\n' in out
    assert f"{path}:1401: invalid JSON:" in out
    assert "1499 payloads checked: 1498 valid, 1 invalid, 1 unreadable inputs" in err


def test_array_elements_are_checked_on_their_own_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    second = {**EVENT, "subject": "/somewhere/else"}
    text = "[\n" + json.dumps(EVENT) + ",\n\n" + json.dumps(second, indent=2) + "\n]\n"
    path = write(tmp_path, "delivery.json", text)
    status, out, _ = run(capsys, "validate", path)
    assert status == 1
    assert out.startswith(f"{path}:4: /1/subject: ")  # element 1 starts on line 4


def test_array_is_one_payload_when_the_schema_is_an_array(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "empty.json", "[]")
    status, out, _ = run(capsys, "validate", "--schema", "EventGridEventBatch", path)
    assert status == 1
    assert "should be non-empty" in out or "has less than 1 item" in out


def test_schema_option_skips_detection(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "ok.json", json.dumps({"validationResponse": "abc"}))
    assert run(capsys, "validate", "--schema", "SubscriptionValidationResponse", path)[0] == 0
    status, out, _ = run(capsys, "validate", "--schema", "RecordingStateResponse", path)
    assert status == 1
    assert "recordingId" in out


def test_undetectable_payload_is_invalid_and_says_why(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "odd.json", '{"hello": "world"}')
    status, out, _ = run(capsys, "validate", "--detect", path)
    assert status == 1
    assert (
        out
        == f"{path}:1: (root): cannot tell which schema this payload follows; name one with --schema\n"
    )


@pytest.mark.parametrize(
    ("text", "line"), [('{\n  "a": 1,\n  "b": \n}\n', 4), ("", 1), ("   \n", 1)]
)
def test_invalid_json_exits_two_naming_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, line: int
) -> None:
    path = write(tmp_path, "broken.json", text)
    status, out, _ = run(capsys, "validate", path)
    assert status == 2
    assert out.startswith(f"{path}:{line}: ")
    assert "JSON" in out


def test_missing_file_exits_two_without_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, err = run(capsys, "validate", str(tmp_path / "nope.json"))
    assert status == 2
    assert "cannot read" in out
    assert "Traceback" not in out + err


def test_folder_without_json_files_is_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, _ = run(capsys, "validate", str(tmp_path))
    assert status == 2
    assert "no .json, .ndjson, .jsonl files" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "--schema", "Nope", "x.json"], "unknown schema 'Nope'"),
        (
            ["validate", "--api-version", "1999-01-01", "x.json"],
            "unsupported api-version '1999-01-01'",
        ),
        (["schemas", "--api-version", "bad"], "unsupported api-version 'bad'"),
    ],
)
def test_bad_names_exit_two_with_the_alternatives(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert message in err


def test_usage_errors_exit_two(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--schema", "A", "--detect", "x.json"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_json_format_gives_one_record_per_payload(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path, "two.ndjson", json.dumps(EVENT) + "\n" + json.dumps({**EVENT, "id": 1}) + "\n"
    )
    out_path = tmp_path / "results.jsonl"
    status, out, _ = run(capsys, "validate", "--format", "json", "--output", str(out_path), path)
    assert (status, out) == (1, "")
    first, second = (json.loads(line) for line in out_path.read_text().splitlines())
    assert first == {
        "file": path,
        "line": 1,
        "schema": "RecordingFileStatusUpdatedEventGridEvent",
        "valid": True,
        "failures": [],
    }
    assert second["valid"] is False
    assert second["failures"][0]["pointer"] == "/id"


def test_stdin_is_read_with_a_dash(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "callrec", "validate", "-"],
        input=GOOD_EVENT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "1 payloads checked: 1 valid" in result.stderr


def test_schemas_lists_names_and_versions(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "schemas", "--api-version", "2024-09-15")
    assert status == 0
    names = [line.split("\t")[0] for line in out.splitlines()[:-1]]
    assert "RecordingStateChangedCloudEvent" in names
    assert "StartRecordingFailedCloudEvent" not in names
    assert out.splitlines()[-1] == "api-versions: 2024-09-15"


def test_specs_build_check_finds_stale_documents(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = run(capsys, "specs", "build", "--check", "--out", str(tmp_path))
    assert status == 1
    assert "out of date" in err
    assert run(capsys, "specs", "build", "--out", str(tmp_path))[0] == 0
    assert run(capsys, "specs", "build", "--check", "--out", str(tmp_path))[0] == 0


def test_broken_pipe_is_quiet() -> None:
    script = f"{sys.executable} -m callrec schemas | head -1"
    result = subprocess.run(script, shell=True, capture_output=True, text=True, check=False)  # noqa: S602
    assert "Traceback" not in result.stderr


def test_large_inputs_stream_by_region_with_the_same_results(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [json.dumps({**EVENT, "id": f"e{i}"}) for i in range(3000)]
    lines[17] = json.dumps({**EVENT, "eventTime": "later"})
    lines[2222] = "{oops"
    lines[2500] = ""
    lines[2999] = json.dumps({**EVENT, "id": 5})
    path = write(tmp_path, "big.ndjson", "\r\n".join(lines) + "\r\n")
    whole = run(capsys, "validate", path)
    monkeypatch.setattr("callrec._inputs.WHOLE_LIMIT", 10_000)
    monkeypatch.setattr("callrec._inputs.REGION_BYTES", 3_000)
    streamed = run(capsys, "validate", path)
    assert streamed == whole
    status, out, err = streamed
    assert status == 2
    assert out.splitlines() == [
        f'{path}:18: /eventTime: "later" is not a "date-time"',
        f"{path}:2223: invalid JSON: {out.splitlines()[1].split('invalid JSON: ')[1]}",
        f'{path}:3000: /id: 5 is not of type "string"',
    ]
    assert "2998 payloads checked: 2996 valid, 2 invalid, 1 unreadable inputs" in err
