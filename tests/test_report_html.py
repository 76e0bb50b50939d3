"""`logscan report html`: a self-contained page whose charts really render in headless Chromium,
with a real time axis (a gap of months stays empty space, checked in the DOM and in a screenshot),
cost stacked by tool and a cost/tokens toggle."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from datetime import date, datetime, timedelta
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


def chromium(tmp_path: Path, url: str, *extra: str) -> str:
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000", *extra, url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True, cwd=tmp_path).stdout


def chart_attrs(dom: str, kind: str) -> dict[str, str]:
    tag = re.search(rf'<div class="chart" id="chart-{kind}"[^>]*>', dom)
    assert tag, kind
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag.group(0)))


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install -y chromium) to render the page")
def test_charts_render_in_headless_chromium(page: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, page.as_uri(), "--dump-dom")
    assert 'data-charts-rendered="4"' in dom, dom[:2000]
    assert "charts rendered" not in dom  # no stray status line
    assert 'data-metric="cost_usd"' in dom
    for kind in ("tool", "model", "project"):
        a = chart_attrs(dom, kind)
        points, bars = int(a["data-points"]), int(a["data-bars"])
        assert points > 0 and bars == points, kind
        # The drawn SVG holds one rect per data point.
        section = dom.split(f'id="chart-{kind}"', 1)[1].split("</svg>", 1)[0]
        assert section.count('class="bar"') == points
    # per day: one slot per calendar day, bars stacked by tool (one rect per day and tool with cost)
    a = chart_attrs(dom, "daily")
    data = json.loads(page.read_text().split('id="report-data">', 1)[1].split("</script>", 1)[0])
    t = data["timeline"]
    assert int(a["data-days"]) == len(t["days"]) == (date.fromisoformat(t["days"][-1]) - date.fromisoformat(t["days"][0])).days + 1
    stacked = sum(1 for tool in t["tools"] for v in t["series"][tool]["cost_usd"] if v)
    assert int(a["data-bars"]) == stacked > int(a["data-points"])
    assert "<th>model</th>" in dom or "<th class=\"l\">model</th>" in dom  # the per-model table
    assert "&lt;/script&gt;&lt;b&gt;x" in dom or "</script><b>x" not in dom


# -- a gap of months on a real time axis ---------------------------------------------------------

GAP_DAYS = [(date(2026, 1, 5), "claude-code", 1.5), (date(2026, 1, 5), "codex", 0.7), (date(2026, 1, 6), "claude-code", 2.0),
            (date(2026, 1, 9), "codex", 0.4), (date(2026, 5, 2), "claude-code", 3.0), (date(2026, 5, 3), "codex", 1.0)]


@pytest.fixture
def gap_page(db: Path, tmp_path: Path) -> Path:
    rows = [event_row(i + 1, datetime.combine(d, datetime.min.time()) + timedelta(hours=12), tool=tool, cost_usd=c,
                      input_tokens=1000 * (i + 1)) for i, (d, tool, c) in enumerate(GAP_DAYS)]
    build_store(db, rows)
    out = tmp_path / "gap.html"
    r = CliRunner().invoke(cli, ["--db", str(db), "report", "html", "--tz", "UTC", "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return out


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install -y chromium) to render the page")
def test_time_axis_keeps_a_gap_of_months(gap_page: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, gap_page.as_uri(), "--dump-dom")
    a = chart_attrs(dom, "daily")
    first = date(2026, 1, 5)
    assert int(a["data-days"]) == (date(2026, 5, 3) - first).days + 1  # every day from Jan 5 to May 3
    bw, left = float(a["data-day-width"]), float(a["data-plot-left"])
    svg = dom.split('id="chart-daily"', 1)[1].split("</svg>", 1)[0]
    bars = [dict(re.findall(r'([\w-]+)="([^"]*)"', m)) for m in re.findall(r"<rect [^>]*>", svg)]
    assert {(b["data-day"], b["data-tool"]) for b in bars} == {(d.isoformat(), t) for d, t, _ in GAP_DAYS}
    for b in bars:  # each bar sits at its day's place on the axis
        assert float(b["x"]) == pytest.approx(left + (date.fromisoformat(b["data-day"]) - first).days * bw, abs=0.01)
    xs = sorted({float(b["x"]) for b in bars})
    gaps = [q - p for p, q in zip(xs, xs[1:], strict=False)]
    assert max(gaps) == pytest.approx((date(2026, 5, 2) - date(2026, 1, 9)).days * bw, abs=0.01)  # 113 empty days of space
    ticks = {m[1]: float(m[0]) for m in re.findall(r'<line x1="([\d.]+)"[^>]*class="tick" data-date="([\d-]+)"', svg)}
    for month in ("2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01"):  # month ticks across the gap
        assert ticks[month] == pytest.approx(left + (date.fromisoformat(month) - first).days * bw, abs=0.01)
    # the toggle: tokens instead of cost
    dom = chromium(tmp_path, gap_page.as_uri() + "#metric=total_tokens", "--dump-dom")
    assert 'data-metric="total_tokens"' in dom and "Per day, by tool: total tokens" in dom

    # the screenshot: bar colours appear in two clusters of columns, far apart (the gap is empty)
    png = tmp_path / "gap.png"
    chromium(tmp_path, gap_page.as_uri(), f"--screenshot={png}", "--window-size=1200,900", "--hide-scrollbars")
    width, height, pixels = read_png(png)
    blue, orange = (0x4A, 0x7B, 0xD0), (0xD0, 0x80, 0x4A)
    cols = sorted({x for y in range(height // 6, height * 2 // 3) for x in range(width)
                   if pixels[y][x] in (blue, orange)})
    assert cols, "no bars in the screenshot"
    jumps = [(q - p, p, q) for p, q in zip(cols, cols[1:], strict=False) if q - p > 1]
    biggest = max(jumps)
    span = cols[-1] - cols[0]
    assert biggest[0] > 0.8 * span  # Jan 9 to May 2: 113 of 119 days are one empty stretch
    assert biggest[1] < width / 4 and biggest[2] > width * 3 / 4


def read_png(path: Path) -> tuple[int, int, list[list[tuple[int, int, int]]]]:
    """An 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) as rows of RGB pixels."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[list[tuple[int, int, int]]] = []
    prev = bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp : x * bpp + 3]) for x in range(width)])  # type: ignore[misc]
        prev = line
    return width, height, rows
