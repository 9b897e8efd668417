"""An installed callrec carries its spec data: build the wheel, install it apart from the
checkout, and use it from another folder."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hatchling.builders.wheel import WheelBuilder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    [built] = list(WheelBuilder(str(ROOT)).build(directory=str(out), versions=["standard"]))
    return Path(built)


def test_wheel_contains_every_spec_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    spec_files = [p for p in (ROOT / "specs").rglob("*") if p.is_file()]
    missing = [
        str(p.relative_to(ROOT))
        for p in spec_files
        if f"callrec/_specs_data/{p.relative_to(ROOT / 'specs').as_posix()}" not in names
    ]
    assert missing == []
    assert "callrec/py.typed" in names
    assert not any(name.startswith(("tests/", "strategies/")) for name in names)


def test_installed_wheel_validates_from_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    script = (
        "import callrec, callrec.specs, sys\n"
        "root = callrec.specs.specs_root()\n"
        f"assert str(root).startswith({str(target)!r}), root\n"
        "assert callrec.validate({'recordingId': 'r', 'recordingState': 'on'}, 'RecordingStateResponse')\n"
        "assert len(callrec.specs.requirements()) > 50\n"
        "print(len(callrec.specs.schema_names()))\n"
    )
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=away,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 40
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "callrec",
            "validate",
            "--schema",
            "SubscriptionValidationResponse",
            "-",
        ],
        input='{"validationResponse": "x"}',
        cwd=away,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
