"""The stylesheet and script of ``logscan report html`` (inlined into the page; nothing is fetched).

The script reads the JSON in ``#report-data`` and draws inline SVG:

- ``#chart-daily``: a real time axis, one slot per calendar day from the first to the last day
  with usage (empty days and gaps of months stay as empty space), bars stacked by tool; tick
  marks at month starts (or days, for short spans).
- ``#chart-tool``, ``#chart-model``, ``#chart-project``: horizontal bars.

A toggle (``#metric-toggle``) switches every chart between cost and tokens. For tests it leaves
facts in the DOM: ``<body data-charts-rendered=N data-metric=...>``, on each chart
``data-bars``, and on the daily chart ``data-days`` and ``data-day-width``; each daily bar has
``data-day``/``data-tool`` and each tick ``data-date``.
"""

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
.chart svg{width:100%;height:auto;display:block}
table{border-collapse:collapse;font-size:12px;margin-top:.5em}
td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:right}
td.l,th.l{text-align:left}
tr.total td{font-weight:bold;border-top:2px solid #999}
.meta{color:#666}
#metric-toggle button{font:inherit;padding:3px 12px;border:1px solid #999;background:#fff;cursor:pointer}
#metric-toggle button.on{background:#333;color:#fff}
.legend span{display:inline-block;margin-right:1em;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
"""

JS = r"""
(function(){
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = ["#4a7bd0", "#d0804a", "#4aa36b", "#b04ad0", "#c9b53a", "#d04a6e", "#4ac0c9", "#7d7d7d"];
  function el(name, attrs, text){
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(v, metric){
    if (v === null || v === undefined) return "n/a";
    if (metric === "cost_usd") return v > 0 && v < 0.005 ? "$" + v.toPrecision(2) : "$" + v.toFixed(2);
    if (v >= 1e9) return (v/1e9).toFixed(1) + "B";
    if (v >= 1e6) return (v/1e6).toFixed(1) + "M";
    if (v >= 1e3) return (v/1e3).toFixed(1) + "k";
    return String(v);
  }
  var MONTHS = ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"];
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var label = {cost_usd: "cost (USD)", total_tokens: "total tokens"};

  function timeline(host, t, metric){
    var n = t.days.length, W = 1000, H = 240, left = 60, top = 10, plotW = W - left - 10;
    var bw = plotW / Math.max(n, 1);
    var svg = el("svg", {viewBox: "0 0 " + W + " " + (H + top + 40), role: "img", "aria-label": "per day, stacked by tool"});
    var sums = t.days.map(function(_, i){
      return t.tools.reduce(function(a, tool){ return a + (t.series[tool][metric][i] || 0); }, 0);
    });
    var peak = Math.max.apply(null, sums.concat([0])) || 1;
    svg.appendChild(el("line", {x1: left, y1: top + H, x2: left + plotW, y2: top + H, stroke: "#999"}));
    [0.5, 1].forEach(function(f){
      svg.appendChild(el("line", {x1: left, y1: top + H - f * H, x2: left + plotW, y2: top + H - f * H, stroke: "#eee"}));
      svg.appendChild(el("text", {x: left - 4, y: top + H - f * H + 4, "font-size": 10, "text-anchor": "end"}, fmt(peak * f, metric)));
    });
    var bars = 0;
    t.days.forEach(function(day, i){
      var y = top + H;
      t.tools.forEach(function(tool, k){
        var v = t.series[tool][metric][i] || 0;
        if (v <= 0) return;
        var h = Math.max(v / peak * H, 0.5);
        y -= h;
        var r = el("rect", {x: (left + i * bw).toFixed(3), y: y.toFixed(3), width: Math.max(bw * 0.85, 0.6).toFixed(3), height: h.toFixed(3),
                            fill: COLORS[k % COLORS.length], "class": "bar", "data-day": day, "data-tool": tool});
        r.appendChild(el("title", {}, day + " " + tool + ": " + fmt(v, metric)));
        svg.appendChild(r);
        bars += 1;
      });
    });
    // ticks: month starts for long spans, else every few days
    var every = n <= 45 ? Math.max(1, Math.ceil(n / 15)) : 0;
    var months = [];
    t.days.forEach(function(day, i){ if (day.slice(8) === "01") months.push(i); });
    var step = Math.max(1, Math.ceil(months.length / 14));
    t.days.forEach(function(day, i){
      var isMonth = day.slice(8) === "01";
      // the first day is labelled too when no month start is near it
      var first = i === 0 && !every && (months.length === 0 || months[0] > n / 12);
      var show = every ? (i % every === 0) : first || (isMonth && months.indexOf(i) % step === 0);
      if (!show) return;
      var x = left + i * bw;
      svg.appendChild(el("line", {x1: x.toFixed(3), y1: top + H, x2: x.toFixed(3), y2: top + H + 5, stroke: "#666", "class": "tick", "data-date": day}));
      var text = every ? day.slice(5) : (isMonth ? "" : +day.slice(8) + " ") + MONTHS[+day.slice(5, 7) - 1] + " " + day.slice(0, 4);
      svg.appendChild(el("text", {x: x.toFixed(3), y: top + H + 18, "font-size": 10, "text-anchor": "middle"}, text));
    });
    host.setAttribute("data-days", String(n));
    host.setAttribute("data-day-width", bw.toFixed(6));
    host.setAttribute("data-plot-left", String(left));
    return [svg, bars];
  }

  function hbars(host, c, metric){
    var rowH = 22, lw = 330, W = 1000, n = c.labels.length;
    var vals = c.values[metric].map(function(v){ return v || 0; });
    var peak = Math.max.apply(null, vals.concat([0])) || 1;
    var svg = el("svg", {viewBox: "0 0 " + W + " " + (n * rowH + 10), role: "img", "aria-label": c.title});
    vals.forEach(function(v, i){
      var w = v / peak * (W - lw - 120);
      var name = c.labels[i].length > 48 ? c.labels[i].slice(0, 16) + "\u2026" + c.labels[i].slice(-31) : c.labels[i];
      svg.appendChild(el("text", {x: lw - 6, y: i * rowH + 16, "font-size": 12, "text-anchor": "end"}, name));
      var r = el("rect", {x: lw, y: i * rowH + 4, width: Math.max(w, 0), height: rowH - 6, fill: "#d0804a", "class": "bar"});
      r.appendChild(el("title", {}, c.labels[i] + ": " + fmt(c.values[metric][i], metric)));
      svg.appendChild(r);
      svg.appendChild(el("text", {x: lw + w + 6, y: i * rowH + 16, "font-size": 12}, fmt(c.values[metric][i], metric)));
    });
    return [svg, n];
  }

  function draw(metric){
    var drawn = 0;
    data.charts.forEach(function(c){
      var host = document.getElementById("chart-" + c.id);
      while (host.firstChild) host.removeChild(host.firstChild);
      var res = c.id === "daily" ? timeline(host, data.timeline, metric) : hbars(host, c, metric);
      host.appendChild(res[0]);
      host.setAttribute("data-bars", String(res[1]));
      var h = document.getElementById("title-" + c.id);
      if (h) h.textContent = c.title + ": " + label[metric];
      drawn += 1;
    });
    document.querySelectorAll("#metric-toggle button").forEach(function(b){
      b.className = b.getAttribute("data-metric") === metric ? "on" : "";
    });
    document.body.setAttribute("data-metric", metric);
    document.body.setAttribute("data-charts-rendered", String(drawn));
  }

  var legend = document.getElementById("legend-daily");
  data.timeline.tools.forEach(function(tool, k){
    var s = document.createElement("span");
    var i = document.createElement("i");
    i.style.background = COLORS[k % COLORS.length];
    s.appendChild(i);
    s.appendChild(document.createTextNode(tool));
    legend.appendChild(s);
  });
  document.querySelectorAll("#metric-toggle button").forEach(function(b){
    b.addEventListener("click", function(){ draw(b.getAttribute("data-metric")); });
  });
  document.getElementById("metric-toggle").hidden = false;
  var start = (location.hash.match(/metric=(\w+)/) || [])[1];
  draw(start === "total_tokens" || start === "cost_usd" ? start : data.metric);
})();
"""
