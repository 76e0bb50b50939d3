"""``logscan report html``: one self-contained page (no external URLs) with bar charts per day,
tool, model and project.

The data is embedded as JSON; a small script draws each chart as inline SVG and, when all are
drawn, sets ``data-charts-rendered`` on <body> and fills ``#render-status``, so a headless
browser test can tell the charts really rendered. The same numbers are also in plain HTML
tables, readable without JavaScript.
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from logscan.reports.output import cell, plain
from logscan.reports.report import METRICS, NO_LABEL, Filters, Report, report

SECTIONS = [("daily", "Per day"), ("tool", "Per tool"), ("model", "Per model"), ("project", "Per project")]

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
.chart svg{width:100%;height:auto;display:block}
table{border-collapse:collapse;font-size:12px;margin-top:.5em}
td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}
tr.total td{font-weight:bold;border-top:2px solid #999}
.meta{color:#666}
"""

# Draws a horizontal (many labels) or vertical (per day) bar chart into each .chart element.
_JS = r"""
(function(){
  var NS = "http://www.w3.org/2000/svg";
  function el(name, attrs, text){
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(v, metric){
    if (v === null || v === undefined) return "n/a";
    if (metric === "cost_usd") return "$" + v.toFixed(2);
    if (v >= 1e9) return (v/1e9).toFixed(1) + "B";
    if (v >= 1e6) return (v/1e6).toFixed(1) + "M";
    if (v >= 1e3) return (v/1e3).toFixed(1) + "k";
    return String(v);
  }
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var drawn = 0;
  data.charts.forEach(function(c){
    var host = document.getElementById("chart-" + c.id);
    var n = c.labels.length;
    var metric = c.metric;
    var vals = c.values.map(function(v){ return v || 0; });
    var top = Math.max.apply(null, vals.concat([0])) || 1;
    var svg;
    if (c.vertical) {
      var W = 1000, H = 260, pad = 40, bw = (W - pad) / Math.max(n, 1);
      svg = el("svg", {viewBox: "0 0 " + W + " " + (H + 60), role: "img", "aria-label": c.title});
      vals.forEach(function(v, i){
        var h = v / top * H;
        var r = el("rect", {x: pad + i * bw + 1, y: H - h + 10, width: Math.max(bw - 2, 1), height: h, fill: "#4a7bd0", "class": "bar"});
        r.appendChild(el("title", {}, c.labels[i] + ": " + fmt(c.values[i], metric)));
        svg.appendChild(r);
        if (n <= 40 || i % Math.ceil(n / 40) === 0)
          svg.appendChild(el("text", {x: pad + i * bw + bw / 2, y: H + 22, "font-size": 10, "text-anchor": "end",
                                      transform: "rotate(-45 " + (pad + i * bw + bw / 2) + " " + (H + 22) + ")"}, c.labels[i]));
      });
      svg.appendChild(el("text", {x: 0, y: 12, "font-size": 11}, fmt(top, metric)));
    } else {
      var rowH = 22, lw = 330, W2 = 1000;
      svg = el("svg", {viewBox: "0 0 " + W2 + " " + (n * rowH + 10), role: "img", "aria-label": c.title});
      vals.forEach(function(v, i){
        var w = v / top * (W2 - lw - 120);
        svg.appendChild(el("text", {x: lw - 6, y: i * rowH + 16, "font-size": 12, "text-anchor": "end"}, c.labels[i].slice(-48)));
        var r = el("rect", {x: lw, y: i * rowH + 4, width: Math.max(w, 0), height: rowH - 6, fill: "#d0804a", "class": "bar"});
        r.appendChild(el("title", {}, c.labels[i] + ": " + fmt(c.values[i], metric)));
        svg.appendChild(r);
        svg.appendChild(el("text", {x: lw + w + 6, y: i * rowH + 16, "font-size": 12}, fmt(c.values[i], metric)));
      });
    }
    host.appendChild(svg);
    host.setAttribute("data-bars", String(svg.querySelectorAll("rect.bar").length));
    drawn += 1;
  });
  document.body.setAttribute("data-charts-rendered", String(drawn));
  document.getElementById("render-status").textContent = "charts rendered: " + drawn;
})();
"""


def _table(rep: Report) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rep.columns)
    body = []
    for r in rep.rows:
        body.append("<tr>" + "".join(f"<td>{html.escape(cell(v))}</td>" for v in r) + "</tr>")
    if rep.rows:
        body.append('<tr class="total">' + "".join(f"<td>{html.escape(cell(v))}</td>" for v in rep.totals()) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _chart_spec(cid: str, title: str, rep: Report) -> dict[str, Any]:
    ci, ti = rep.columns.index("cost_usd"), rep.columns.index("total_tokens")
    priced = any(r[ci] for r in rep.rows)
    metric = "cost_usd" if priced else "total_tokens"
    i = ci if priced else ti
    labels = [" / ".join(NO_LABEL if v is None else str(plain(v)) for v in r[: rep.keys]) for r in rep.rows]
    return {
        "id": cid,
        "title": f"{title}: {'cost (USD)' if priced else 'total tokens'}",
        "metric": metric,
        "vertical": cid == "daily",
        "labels": labels,
        "values": [plain(r[i]) for r in rep.rows],
    }


def render(db: Path, filters: Filters | None, zone: str, *, generated: datetime | None = None, query: Any = None) -> str:
    filters = filters or Filters()
    parts: list[str] = []
    charts: list[dict[str, Any]] = []
    total_row: tuple[Any, ...] | None = None
    for kind, title in SECTIONS:
        rep = report(db, kind, filters, zone, query=query)
        if kind == "daily":
            total_row = rep.totals() if rep.rows else None
        spec = _chart_spec(kind, title, rep)
        charts.append(spec)
        parts.append(
            f'<section id="section-{kind}"><h2>{html.escape(spec["title"])}</h2>'
            f'<div class="chart" id="chart-{kind}" data-points="{len(rep.rows)}"></div>{_table(rep)}</section>'
        )
    summary = ""
    if total_row is not None:
        summary = "<p>" + ", ".join(f"{c}: <b>{html.escape(cell(v))}</b>" for c, v in zip(METRICS, total_row[1:], strict=True)) + "</p>"
    data = orjson.dumps({"charts": charts}).decode().replace("</", "<\\/")
    when = f"generated {generated:%Y-%m-%d %H:%M %Z}, " if generated else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>logscan usage report</title><style>{_CSS}</style></head><body>"
        f"<h1>logscan usage report</h1><p class=\"meta\">{html.escape(when)}days in {html.escape(zone)}; "
        "costs leave out unpriced events (see the unpriced column)</p>"
        f"{summary}<p id=\"render-status\" class=\"meta\">charts need JavaScript; the tables below hold the same numbers</p>"
        f"{''.join(parts)}"
        f"<script type=\"application/json\" id=\"report-data\">{data}</script>"
        f"<script>{_JS}</script></body></html>\n"
    )
