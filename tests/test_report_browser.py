"""index.html in a real browser: headless Chromium runs its script, filters, and screenshots it.

The screenshot and the page it shows are kept in reports/browser-check/ (git-ignored) as an
artifact to look at. `tox -e report-browser` installs Chromium where apt can; without
/usr/bin/chromium these tests skip.
"""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path
from typing import Final

import pytest

from callrec.cli import main
from tests.test_report_fixtures import FAILING, HOSTILE, run_lines, write_run

CHROMIUM: Final = Path("/usr/bin/chromium")
ARTIFACTS: Final = Path(__file__).resolve().parents[1] / "reports" / "browser-check"
FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
AUTH: Final = ("suites/test_auth.py::test_bad_authentication_is_refused", "2026-03-12")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium is not installed (/usr/bin/chromium, Debian package `chromium`); "
    "`tox -e report-browser` installs it where apt-get can",
)


def render(folder: Path) -> Path:
    """A run with failures and a hostile message, rendered in ``folder``; its index.html."""
    outcomes = {key: dict(value) for key, value in FAILING.items()}
    outcomes[AUTH]["hint"] = f"Check the HMAC. {HOSTILE}"
    write_run(folder, run_lines(200, outcomes=outcomes))
    assert main(["report", "render", str(folder)]) == 0
    return folder / "index.html"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("page"))


def chromium(tmp_path: Path, url: str, *options: str) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    done = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *options, url],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_screenshot_shows_the_page(tmp_path: Path) -> None:
    """The one test that writes the artifact (the page and its screenshot)."""
    page = render(ARTIFACTS)
    shot = ARTIFACTS / "screenshot.png"
    shot.unlink(missing_ok=True)
    chromium(tmp_path, page.as_uri(), f"--screenshot={shot}", "--window-size=1280,2000")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2000)
    assert len(data) > 50_000  # a page of text and colour, not a blank one
    print(f"screenshot: {shot}")


def test_the_filter_script_ran_and_the_matrix_rows_exist(page: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, page.as_uri(), "--dump-dom")
    rows = re.findall(r'<tr class="req"[^>]*>', dom)
    assert len(rows) > 100
    assert not [row for row in rows if "hidden" in row]
    assert re.search(r'<table class="matrix" id="matrix-table"[^>]*data-filter-ready="true"', dom)
    assert f'id="filter-count">{len(rows)} of {len(rows)} requirements shown<' in dom


def test_a_link_can_carry_a_filter(page: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, f"{page.as_uri()}#filter=auth&status=fail", "--dump-dom")
    rows = re.findall(r'<tr class="req"[^>]*>', dom)
    shown = [row for row in rows if " hidden" not in row]
    assert len(shown) == 3
    assert all('data-area="AUTH"' in row and "fail" in row for row in shown)
    assert f'id="filter-count">3 of {len(rows)} requirements shown<' in dom


def test_hostile_text_stays_text_in_the_browser(page: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, page.as_uri(), "--dump-dom")
    assert "<img" not in dom
    assert dom.count("<script") == 1
    assert "Check the HMAC. &lt;script&gt;alert(1)&lt;/script&gt;" in dom
