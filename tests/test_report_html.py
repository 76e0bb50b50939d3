"""`logscan report html`: a self-contained page whose charts really render in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_report_helpers import build_store, event_row, synthetic_rows

from logscan.cli import cli

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), shutil.which("google-chrome")) if p), None)


@pytest.fixture
def page(db: Path, tmp_path: Path) -> Path:
    rows = synthetic_rows(120)
    rows.append(event_row(99999, datetime(2026, 2, 2), project="</script><b>x</b>", cost_usd=1.0))  # must stay text
    build_store(db, rows)
    out = tmp_path / "report.html"
    r = CliRunner().invoke(cli, ["--db", str(db), "report", "html", "--tz", "Europe/Berlin", "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return out


def test_page_is_self_contained(page: Path) -> None:
    text = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), "no external resources"
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text
    assert "</script><b>" not in text  # the hostile project name is escaped
    for kind in ("daily", "tool", "model", "project"):
        assert f'id="chart-{kind}"' in text


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install -y chromium) to render the page")
def test_charts_render_in_headless_chromium(page: Path, tmp_path: Path) -> None:
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000", "--dump-dom", page.as_uri(),
    ]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    assert 'data-charts-rendered="4"' in dom, dom[:2000]
    assert "charts rendered: 4" in dom
    for kind in ("daily", "tool", "model", "project"):
        m = re.search(rf'id="chart-{kind}" data-points="(\d+)" data-bars="(\d+)"', dom)
        assert m, kind
        points, bars = int(m.group(1)), int(m.group(2))
        assert points > 0 and bars == points, kind
        # The drawn SVG holds one rect per data point.
        section = dom.split(f'id="chart-{kind}"', 1)[1].split("</svg>", 1)[0]
        assert section.count('class="bar"') == points
    assert "&lt;/script&gt;&lt;b&gt;x" in dom or "</script><b>x" not in dom
