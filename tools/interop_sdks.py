"""tests/test_interop_python.py once per release of the official Python SDK, each release in a
fresh virtual environment of its own.

    python tools/interop_sdks.py [--ga] [--jobs N] [--work-dir DIR] [--wheel PATH] [VERSION ...]

The releases (and the known gaps) are listed in ``tests/interop/python-sdk-releases.txt``. For
each: ``<work-dir>/<version>`` is made anew (``python -m venv``) and gets callrec's wheel with
its ``emulator`` extra, pytest, hypothesis and ``azure-communication-callautomation==<version>``
and nothing else. The wheel is built once (``$TOX_PACKAGE`` when tox has built it). The release
is asked which api-version it sends by default; when callrec has no profile for that version the
emulator cannot serve it and the tests are not run. Otherwise pytest runs the interop tests with
``CALLREC_SDK_VERSION=<version>`` (log and JUnit XML next to the environment).

Prints a table (release, default api-version, verdict, passed/failed/skipped/xfailed, seconds)
and exits 1 when a release failed: its tests failed, nothing passed, it is not served, or it
could not be installed, unless the releases file lists it as a known gap; a gap that passes
fails too (it is stale: remove it from the file).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASES_FILE = ROOT / "tests" / "interop" / "python-sdk-releases.txt"
TESTS = "tests/test_interop_python.py"
SDK = "azure-communication-callautomation"
TEST_DEPENDENCIES = ("pytest>=8", "hypothesis>=6.100")
_PRE_RELEASE = re.compile(r"(a|b|rc|\.dev)\d*$")
_VERSION = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.dev\d+)?$")

# Run inside a release's environment: the api-version the release sends by default, and the
# api-versions callrec has profiles for (what the emulator serves).
PROBE = """
import importlib.metadata, json
from callrec.specs import api_versions
try:
    from azure.communication.callautomation._api_versions import DEFAULT_VERSION
    default = str(DEFAULT_VERSION)
except ImportError:  # a release without the private module: ask a client
    from azure.communication.callautomation import CallAutomationClient
    from azure.core.credentials import AzureKeyCredential
    client = CallAutomationClient("https://probe.invalid", AzureKeyCredential("a2V5"))
    default = str(client._client._config.api_version)
print(json.dumps({
    "installed": importlib.metadata.version("azure-communication-callautomation"),
    "default": default,
    "served": list(api_versions()),
}))
"""


# ------------------------------------------------------------------ the releases file
@dataclass(frozen=True)
class Release:
    """A line of the releases file: a version and, for a known gap, why."""

    version: str
    gap: str | None = None

    @property
    def pre_release(self) -> bool:
        return bool(_PRE_RELEASE.search(self.version))


def parse_releases(text: str) -> list[Release]:
    """``<version> [gap: <reason>] [# comment]`` per line; blank and comment lines are skipped."""
    releases: list[Release] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        version, _, rest = line.partition(" ")
        rest = rest.strip()
        if not _VERSION.match(version):
            raise ValueError(f"line {number}: {version!r} is not a version")
        gap = None
        if rest:
            label, colon, reason = rest.partition(":")
            if label.strip() != "gap" or not colon or not reason.strip():
                raise ValueError(f"line {number}: expected 'gap: <reason>' after the version")
            gap = reason.strip()
        if any(release.version == version for release in releases):
            raise ValueError(f"line {number}: {version} is listed twice")
        releases.append(Release(version, gap))
    return releases


# ------------------------------------------------------------------ outcomes and verdicts
@dataclass(frozen=True)
class Counts:
    """Test outcomes read from the JUnit XML."""

    passed: int = 0
    failed: int = 0  # failures and errors
    skipped: int = 0
    xfailed: int = 0


def read_junit(text: str) -> Counts:
    """Counts of pytest's ``--junitxml`` (an xfail is a ``skipped`` of type pytest.xfail)."""
    passed = failed = skipped = xfailed = 0
    for case in ET.fromstring(text).iter("testcase"):  # noqa: S314 (our own pytest's file)
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif (skip := case.find("skipped")) is not None:
            if skip.get("type") == "pytest.xfail":
                xfailed += 1
            else:
                skipped += 1
        else:
            passed += 1
    return Counts(passed, failed, skipped, xfailed)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    text: str


def verdict(
    release: Release,
    *,
    default_api_version: str | None,
    served: bool,
    returncode: int | None,
    counts: Counts | None,
    problem: str | None = None,
) -> Verdict:
    """Pass, fail or known gap for one release.

    ``problem``: the environment could not be made or asked (no tests ran). ``served``: callrec
    has a profile for ``default_api_version``. ``returncode`` and ``counts``: pytest's, or None
    when it did not run.
    """
    if problem is not None:
        reason = problem
    elif not served:
        reason = f"not served: no profile for api-version {default_api_version}"
    elif returncode is None or counts is None:
        reason = "the tests did not run"
    elif returncode != 0 or counts.failed:
        reason = f"failed ({counts.failed} failed, pytest exit {returncode})"
    elif counts.passed == 0:
        reason = "nothing passed (everything skipped)"
    elif release.gap is not None:
        return Verdict(False, f"stale gap: passes now, remove 'gap: {release.gap}'")
    else:
        return Verdict(True, "passed")
    if release.gap is not None:
        return Verdict(True, f"known gap: {reason}")  # the file says why
    return Verdict(False, reason)


@dataclass
class Result:
    release: Release
    default_api_version: str | None = None
    counts: Counts | None = None
    verdict: Verdict = field(default_factory=lambda: Verdict(False, "not run"))
    seconds: float = 0.0
    log: Path | None = None


def table(results: Sequence[Result]) -> str:
    """The summary as a plain-text table."""
    head = ("release", "default api-version", "passed", "failed", "skipped", "xfailed", "seconds")
    rows = [head]
    for result in results:
        counts = result.counts
        numbers = (
            (str(counts.passed), str(counts.failed), str(counts.skipped), str(counts.xfailed))
            if counts
            else ("-",) * 4
        )
        rows.append(
            (
                result.release.version,
                result.default_api_version or "?",
                *numbers,
                f"{result.seconds:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        verdict_text = "verdict" if index == 0 else results[index - 1].verdict.text
        mark = "" if index == 0 else ("ok   " if results[index - 1].verdict.ok else "FAIL ")
        lines.append("  ".join(cells) + "  " + mark + verdict_text)
    return "\n".join(lines)


# ------------------------------------------------------------------ running a release
def _run(
    command: Sequence[str], log: Path, *, environment: dict[str, str], cwd: Path | None = None
) -> int:
    """``command`` with its output appended to ``log``; its exit status."""
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(  # noqa: S603 (our own commands)
            command, stdout=out, stderr=subprocess.STDOUT, check=False, cwd=cwd, env=environment
        )
    return done.returncode


def _python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run_release(release: Release, work_dir: Path, wheel: Path) -> Result:
    """Make the release's environment, ask it, and (if served) run the tests in it."""
    started = time.monotonic()
    result = Result(release)
    venv = work_dir / release.version
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    log = work_dir / f"{release.version}.log"
    log.unlink(missing_ok=True)
    result.log = log
    python = str(_python(venv))
    quiet = ["--disable-pip-version-check", "--no-input", "-q"]
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for key in ("PIP_REQUIRE_VIRTUALENV", "VIRTUAL_ENV", "PYTHONPATH"):
        environment.pop(key, None)

    def finish(
        *,
        served: bool = False,
        returncode: int | None = None,
        counts: Counts | None = None,
        problem: str | None = None,
    ) -> Result:
        result.verdict = verdict(
            release,
            default_api_version=result.default_api_version,
            served=served,
            returncode=returncode,
            counts=counts,
            problem=problem,
        )
        result.seconds = time.monotonic() - started
        return result

    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [
            python,
            "-m",
            "pip",
            "install",
            *quiet,
            f"{wheel}[emulator]",
            *TEST_DEPENDENCIES,
            f"{SDK}=={release.version}",
        ],
    ]
    for step in steps:
        if _run(step, log, environment=environment) != 0:
            return finish(problem=f"install failed (see {log})")
    probe = subprocess.run(  # noqa: S603 (the release's own Python)
        [python, "-c", PROBE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        check=False,
    )
    if probe.returncode != 0:
        with log.open("a") as out:
            out.write(probe.stdout + probe.stderr)
        return finish(problem=f"probe failed (see {log})")
    answer = json.loads(probe.stdout)
    result.default_api_version = answer["default"]
    if answer["installed"] != release.version:
        return finish(problem=f"installed {answer['installed']} instead")
    if answer["default"] not in answer["served"]:
        return finish()
    junit = work_dir / f"{release.version}.junit.xml"
    junit.unlink(missing_ok=True)
    returncode = _run(
        [
            python,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-ra",
            f"--junitxml={junit}",
            TESTS,
        ],
        log,
        cwd=ROOT,
        environment={
            **environment,
            "CALLREC_SDK_VERSION": release.version,
            "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "ci"),
        },
    )
    counts = read_junit(junit.read_text()) if junit.exists() else None
    result.counts = counts
    return finish(served=True, returncode=returncode, counts=counts)


def build_wheel(into: Path) -> Path:
    """callrec's wheel: tox's (``$TOX_PACKAGE``) if there is one, otherwise built here once."""
    for candidate in os.environ.get("TOX_PACKAGE", "").split(os.pathsep):
        if candidate.endswith(".whl") and Path(candidate).exists():
            return Path(candidate)
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 (this Python's pip)
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(into), str(ROOT)],
        check=True,
    )
    wheels = sorted(into.glob("callrec-*.whl"), key=lambda path: path.stat().st_mtime)
    if not wheels:
        raise SystemExit(f"no callrec wheel was built in {into}")
    return wheels[-1]


def select(releases: Iterable[Release], versions: Sequence[str], *, ga: bool) -> list[Release]:
    chosen = [r for r in releases if (not versions or r.version in versions)]
    unknown = set(versions) - {r.version for r in chosen}
    if unknown:
        raise SystemExit(f"not in the releases file: {', '.join(sorted(unknown))}")
    return [r for r in chosen if not (ga and r.pre_release)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("versions", nargs="*", help="only these releases (from the file)")
    parser.add_argument("--ga", action="store_true", help="skip pre-releases")
    parser.add_argument("--releases", type=Path, default=RELEASES_FILE)
    parser.add_argument(
        "--work-dir", type=Path, default=ROOT / ".tox" / "interop-sdks" / "releases"
    )
    parser.add_argument("--wheel", type=Path, help="callrec's wheel (default: $TOX_PACKAGE)")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="releases at a time")
    arguments = parser.parse_args(argv)

    releases = select(
        parse_releases(arguments.releases.read_text()), arguments.versions, ga=arguments.ga
    )
    work_dir: Path = arguments.work_dir.resolve()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="callrec-wheel-") as scratch:
        wheel = arguments.wheel or build_wheel(Path(scratch))
        print(f"{len(releases)} releases of {SDK}, callrec from {wheel.name}", flush=True)
        with ThreadPoolExecutor(max_workers=max(1, arguments.jobs)) as pool:
            futures = [pool.submit(run_release, r, work_dir, wheel) for r in releases]
            results = []
            for future in futures:
                result = future.result()
                results.append(result)
                mark = "ok" if result.verdict.ok else "FAIL"
                print(
                    f"  {result.release.version}: {mark} {result.verdict.text} "
                    f"({result.seconds:.0f} s)",
                    flush=True,
                )
    total = time.monotonic() - started
    print()
    print(table(results))
    failed = [r for r in results if not r.verdict.ok]
    for result in failed:
        if result.log and result.log.exists():
            summary = [
                line
                for line in result.log.read_text().splitlines()
                if line.startswith(("FAILED", "ERROR"))
            ]
            if summary:
                print(f"\n{result.release.version} ({result.log}):")
                print("\n".join(summary[:20]))
    print(
        f"\n{len(results) - len(failed)}/{len(results)} releases ok in {total:.0f} s; "
        f"logs and environments in {work_dir}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
