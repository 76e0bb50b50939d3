"""``logscan report html``: one self-contained page (no external URLs): cost or tokens per day on
a real time axis (every calendar day from the first to the last, so gaps show), stacked by
tool; bars per tool, model and project; a cost/tokens toggle; and the same numbers in plain
HTML tables (per day, tool, model, project), readable without JavaScript.

The data is embedded as JSON; the script in ``logscan.reports.html_assets`` draws each chart as
inline SVG and records what it drew in the DOM (``data-charts-rendered`` on <body>, ...), so a
headless browser test can check the charts, the time axis and its gaps.
"""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from logscan.reports.html_assets import CSS, JS
from logscan.reports.output import cell, plain
from logscan.reports.report import METRICS, NO_LABEL, Filters, Report, report

TOGGLE = ('<p id="metric-toggle" hidden>Show: <button type="button" data-metric="cost_usd">cost</button>'
          '<button type="button" data-metric="total_tokens">tokens</button></p>')

SECTIONS = [("daily", "Per day, by tool"), ("tool", "Per tool"), ("model", "Per model"), ("project", "Per project")]

def _table(rep: Report) -> str:
    """The report as an HTML table; labels left, numbers right (money as in the terminal)."""
    left = [i < rep.keys for i in range(len(rep.columns))]

    def row(vals: Any, cls: str = "") -> str:
        tds = "".join(f'<td{" class=l" if left[i] else ""}>{html.escape(cell(v, rep.columns[i]))}</td>' for i, v in enumerate(vals))
        return f"<tr{cls}>{tds}</tr>"

    head = "".join(f'<th{" class=l" if left[i] else ""}>{html.escape(c)}</th>' for i, c in enumerate(rep.columns))
    body = [row(r) for r in rep.rows]
    if rep.rows:
        body.append(row(rep.totals(), ' class="total"'))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _chart_spec(cid: str, title: str, rep: Report) -> dict[str, Any]:
    ci, ti = rep.columns.index("cost_usd"), rep.columns.index("total_tokens")
    labels = [" / ".join(NO_LABEL if v is None else str(plain(v)) for v in r[: rep.keys]) for r in rep.rows]
    return {
        "id": cid,
        "title": title,
        "labels": labels,
        "values": {"cost_usd": [plain(r[ci]) for r in rep.rows], "total_tokens": [plain(r[ti]) for r in rep.rows]},
    }


def timeline(rep: Report) -> dict[str, Any]:
    """Per-day sums by tool (a ``daily --by tool`` report) on a continuous axis: every calendar
    day from the first to the last, an empty day holding zeros."""
    ci, ti = rep.columns.index("cost_usd"), rep.columns.index("total_tokens")
    by_day: dict[date, dict[str, tuple[Any, Any]]] = {}
    for r in rep.rows:
        by_day.setdefault(r[0], {})[r[1]] = (r[ci], r[ti])
    if not by_day:
        return {"days": [], "tools": [], "series": {}}
    first, last = min(by_day), max(by_day)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    tools = sorted({t for per in by_day.values() for t in per})
    series = {
        t: {
            "cost_usd": [plain(by_day.get(d, {}).get(t, (None, None))[0]) for d in days],
            "total_tokens": [plain(by_day.get(d, {}).get(t, (None, None))[1]) for d in days],
        }
        for t in tools
    }
    return {"days": [d.isoformat() for d in days], "tools": tools, "series": series}


def render(db: Path, filters: Filters | None, zone: str, *, generated: datetime | None = None, query: Any = None) -> str:
    filters = filters or Filters()
    parts: list[str] = []
    charts: list[dict[str, Any]] = []
    total_row: tuple[Any, ...] | None = None
    priced = False
    for kind, title in SECTIONS:
        rep = report(db, kind, filters, zone, query=query)
        if kind == "daily":
            total_row = rep.totals() if rep.rows else None
            priced = any(r[rep.columns.index("cost_usd")] for r in rep.rows)
        spec = _chart_spec(kind, title, rep)
        charts.append(spec)
        legend = '<p class="legend" id="legend-daily"></p>' if kind == "daily" else ""
        parts.append(
            f'<section id="section-{kind}"><h2 id="title-{kind}">{html.escape(title)}</h2>{legend}'
            f'<div class="chart" id="chart-{kind}" data-points="{len(rep.rows)}"></div>{_table(rep)}</section>'
        )
    by_tool = report(db, "daily", filters, zone, by="tool", query=query)
    summary = ""
    if total_row is not None:
        summary = "<p>" + ", ".join(f"{c}: <b>{html.escape(cell(v, c))}</b>" for c, v in zip(METRICS, total_row[1:], strict=True)) + "</p>"
    payload = {"metric": "cost_usd" if priced else "total_tokens", "timeline": timeline(by_tool), "charts": charts}
    data = orjson.dumps(payload).decode().replace("</", "<\\/")
    when = f"generated {generated:%Y-%m-%d %H:%M %Z}, " if generated else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>logscan usage report</title><style>{CSS}</style></head><body>"
        f"<h1>logscan usage report</h1><p class=\"meta\">{html.escape(when)}days in {html.escape(zone)}; "
        "costs leave out unpriced events (see the unpriced column)</p>"
        f"{summary}{TOGGLE}<noscript><p class=\"meta\">charts need JavaScript; the tables below hold the same numbers</p></noscript>"
        f"{''.join(parts)}"
        f"<script type=\"application/json\" id=\"report-data\">{data}</script>"
        f"<script>{JS}</script></body></html>\n"
    )
