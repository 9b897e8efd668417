"""tools/interop_sdks.py (``tox -e interop-sdks``): the releases file, the JUnit counts, the
verdicts (pass, fail, known gap, stale gap) and the table. Nothing is installed here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("interop_sdks", ROOT / "tools/interop_sdks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


drv = _load()
Release, Counts = drv.Release, drv.Counts


# ------------------------------------------------------------------ the releases file
def test_parse_versions_gaps_and_comments() -> None:
    text = """
# a comment line

1.0.0     # first GA
1.1.0b1   gap: default api-version 2023-06-15-preview has no profile  # first preview
1.6.0
"""
    assert drv.parse_releases(text) == [
        Release("1.0.0"),
        Release("1.1.0b1", "default api-version 2023-06-15-preview has no profile"),
        Release("1.6.0"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("latest", "is not a version"),
        ("1.0.0 known", "expected 'gap: <reason>'"),
        ("1.0.0 gap:", "expected 'gap: <reason>'"),
        ("1.0.0 skip: flaky", "expected 'gap: <reason>'"),
        ("1.0.0\n1.0.0", "listed twice"),
    ],
)
def test_parse_rejects_malformed_lines(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        drv.parse_releases(line)


def test_the_repository_file_lists_each_release_once() -> None:
    releases = drv.parse_releases(drv.RELEASES_FILE.read_text())
    versions = [release.version for release in releases]
    assert "1.0.0" in versions
    assert len(versions) == len(set(versions))
    # Gaps are for pre-releases whose preview api-version has no profile yet; a GA release
    # defaults to a GA api-version, which has one.
    assert all(release.pre_release for release in releases if release.gap)


@pytest.mark.parametrize(
    ("version", "pre"), [("1.0.0", False), ("1.6.0b1", True), ("2.0.0rc1", True), ("1.10.0", False)]
)
def test_pre_release(version: str, pre: bool) -> None:
    assert Release(version).pre_release is pre


def test_select_ga_and_named() -> None:
    releases = [Release("1.0.0"), Release("1.1.0b1", "why"), Release("1.1.0")]
    assert drv.select(releases, [], ga=True) == [Release("1.0.0"), Release("1.1.0")]
    assert drv.select(releases, ["1.1.0b1"], ga=False) == [Release("1.1.0b1", "why")]
    with pytest.raises(SystemExit, match=r"9\.9\.9"):
        drv.select(releases, ["9.9.9"], ga=False)


# ------------------------------------------------------------------ JUnit counts
def test_read_junit() -> None:
    xml = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="6">
  <testcase name="a"/>
  <testcase name="b"/>
  <testcase name="c"><failure message="boom"/></testcase>
  <testcase name="d"><error message="fixture"/></testcase>
  <testcase name="e"><skipped type="pytest.skip" message="no room_id"/></testcase>
  <testcase name="f"><skipped type="pytest.xfail" message="known"/></testcase>
</testsuite></testsuites>"""
    assert drv.read_junit(xml) == Counts(passed=2, failed=2, skipped=1, xfailed=1)


# ------------------------------------------------------------------ verdicts
GREEN = Counts(passed=30, skipped=16, xfailed=4)


def verdict(release: object, **outcome: object) -> tuple[bool, str]:
    options = {
        "default_api_version": "2023-03-06",
        "served": True,
        "returncode": 0,
        "counts": GREEN,
        **outcome,
    }
    result = drv.verdict(release, **options)
    return result.ok, result.text


def test_a_served_release_that_passes_passes() -> None:
    assert verdict(Release("1.0.0")) == (True, "passed")


def test_failures_fail() -> None:
    ok, text = verdict(Release("1.0.0"), returncode=1, counts=Counts(passed=29, failed=1))
    assert not ok
    assert text.startswith("failed (1 failed")
    # a collection error: pytest exits 2 with nothing but an error
    ok, _ = verdict(Release("1.0.0"), returncode=2, counts=Counts(failed=1))
    assert not ok


def test_nothing_passing_is_not_a_pass() -> None:
    ok, text = verdict(Release("1.0.0"), counts=Counts(skipped=40))
    assert (ok, text) == (False, "nothing passed (everything skipped)")
    ok, _ = verdict(Release("1.0.0"), returncode=5, counts=Counts())  # no tests collected
    assert not ok


def test_a_release_the_emulator_cannot_serve_fails_unless_a_known_gap() -> None:
    unserved = {
        "default_api_version": "2023-06-15-preview",
        "served": False,
        "returncode": None,
        "counts": None,
    }
    assert verdict(Release("1.1.0b1"), **unserved) == (
        False,
        "not served: no profile for api-version 2023-06-15-preview",
    )
    ok, text = verdict(Release("1.1.0b1", "no profile yet"), **unserved)
    assert ok
    assert text == "known gap: not served: no profile for api-version 2023-06-15-preview"


def test_a_gap_that_fails_is_known_and_one_that_passes_is_stale() -> None:
    gap = Release("1.6.0b1", "sdkDefaults do not name it")
    ok, text = verdict(gap, returncode=1, counts=Counts(passed=1, failed=1))
    assert ok
    assert text.startswith("known gap: failed (1 failed")
    ok, text = verdict(gap)
    assert not ok
    assert text.startswith("stale gap")


def test_an_environment_problem_fails_unless_a_known_gap() -> None:
    problem = {"served": False, "returncode": None, "counts": None, "problem": "install failed"}
    assert verdict(Release("1.0.0"), **problem) == (False, "install failed")
    assert verdict(Release("1.0.0", "why"), **problem)[0]


# ------------------------------------------------------------------ the table
def test_table() -> None:
    results = [
        drv.Result(Release("1.0.0"), "2023-03-06", GREEN, drv.Verdict(True, "passed"), 27.44),
        drv.Result(
            Release("1.1.0b1", "no profile"),
            "2023-06-15-preview",
            None,
            drv.Verdict(True, "known gap: no profile"),
            18.0,
        ),
    ]
    lines = drv.table(results).splitlines()
    assert lines[0].split() == [
        "release",
        "default",
        "api-version",
        "passed",
        "failed",
        "skipped",
        "xfailed",
        "seconds",
        "verdict",
    ]
    assert lines[1].split() == ["1.0.0", "2023-03-06", "30", "0", "16", "4", "27.4", "ok", "passed"]
    assert lines[2].split()[:8] == [
        "1.1.0b1",
        "2023-06-15-preview",
        "-",
        "-",
        "-",
        "-",
        "18.0",
        "ok",
    ]
