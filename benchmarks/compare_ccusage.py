#!/usr/bin/env python3
"""Side-by-side benchmark: logscan vs ccusage on the same generated Claude Code corpus.

    python benchmarks/compare_ccusage.py --size-mb 200
    python benchmarks/compare_ccusage.py --size-mb 1000 --dir /tmp/corpus --keep

Steps, each a separate process so wall time includes start-up and peak RSS is that process's
(``resource.getrusage(RUSAGE_CHILDREN)`` measured in a fresh wrapper per step):

1. generate the corpus with ``benchmarks.bench.generate_claude_corpus`` (which knows the true totals);
2. ``logscan backfill CORPUS`` into a fresh store (first ingest);
3. ``logscan report daily -f json`` on the ingested store, several times (median reported);
4. ``ccusage claude daily --json --offline`` with ``CLAUDE_CONFIG_DIR`` pointed at the corpus, when
   ``ccusage`` is on PATH (``npm i -g ccusage``) or ``--ccusage "npx -y ccusage"`` is given.

Prints wall time, peak RSS and token/cost totals side by side, plus the generator's truth.
Targets (issue 6): a report on an ingested store under 300 ms; first backfill within 2x ccusage.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.bench import generate_claude_corpus  # noqa: E402

_WRAP = (
    "import json, resource, subprocess, sys, time, os\n"
    "cmd = json.loads(sys.argv[1]); t = time.perf_counter()\n"
    "p = subprocess.run(cmd, capture_output=True, text=True)\n"
    "w = time.perf_counter() - t\n"
    "r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(json.dumps({'wall': w, 'maxrss': r, 'rc': p.returncode, 'out': p.stdout, 'err': p.stderr[-4000:]}))\n"
)


def measure(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run cmd in a fresh wrapper process; wall seconds and the child's peak RSS in MiB."""
    res = json.loads(subprocess.run([sys.executable, "-c", _WRAP, json.dumps(cmd)], env=env, capture_output=True, text=True, check=True).stdout)
    res["rss_mib"] = res["maxrss"] / (1024 * 1024 if sys.platform == "darwin" else 1024)
    if res["rc"] != 0:
        raise SystemExit(f"{shlex.join(cmd)} failed ({res['rc']}):\n{res['err']}")
    return res


def logscan_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "logscan", *args]


def totals_logscan(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ["input", "output", "cache_read", "cache_write", "total_tokens", "cost_usd", "events", "unpriced"]
    return {k: sum(r[k] or 0 for r in rows) for k in keys}


def totals_ccusage(doc: Any) -> dict[str, Any]:
    """ccusage's --json: {"daily": [...], "totals": {...}}; field names differ between versions."""
    tot = doc.get("totals", {}) if isinstance(doc, dict) else {}

    def pick(*names: str) -> Any:
        for n in names:
            if n in tot:
                return tot[n]
        return None

    return {
        "input": pick("inputTokens", "input_tokens"),
        "output": pick("outputTokens", "output_tokens"),
        "cache_read": pick("cacheReadTokens", "cache_read_tokens"),
        "cache_write": pick("cacheCreationTokens", "cache_creation_tokens"),
        "total_tokens": pick("totalTokens", "total_tokens"),
        "cost_usd": pick("totalCost", "costUSD", "total_cost"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=200, help="corpus size in MB (default 200)")
    ap.add_argument("--dir", type=Path, help="where to put the corpus and store (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the corpus and store afterwards")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--report-runs", type=int, default=5, help="how many times to time the report")
    ap.add_argument("--repeat", type=int, default=3, help="first ingests (each into a fresh store) and ccusage scans to time, alternating (default 3)")
    ap.add_argument("--ccusage", help="command for ccusage (default: 'ccusage' when on PATH)")
    ap.add_argument("--tz", default="UTC", help="zone both tools use for days (default UTC)")
    a = ap.parse_args(argv)

    base = a.dir or Path(tempfile.mkdtemp(prefix="logscan-vs-ccusage-"))
    corpus, db = base / "claude", base / "bench.duckdb"
    try:
        if not (corpus / "projects").exists():
            print(f"generating {a.size_mb:g} MB corpus in {corpus} ...", file=sys.stderr)
            truth = generate_claude_corpus(corpus, a.size_mb, seed=a.seed)
            os.sync()  # let the generator's writes reach the disk before anything is timed
            (base / "truth.json").write_text(json.dumps(vars(truth)))
        truth_d = json.loads((base / "truth.json").read_text()) if (base / "truth.json").exists() else {}
        env = {**os.environ, "LOGSCAN_DB": str(db), "TZ": a.tz, "CLAUDE_CONFIG_DIR": str(corpus)}
        env.pop("LOGSCAN_SOCKET", None)
        cc_cmd = shlex.split(a.ccusage) if a.ccusage else (["ccusage"] if shutil.which("ccusage") else None)

        # Timings on a small shared machine move by a third from run to run: alternate the two
        # tools and compare medians of the same session.
        bfs, ccs = [], []
        for _ in range(max(1, a.repeat)):
            for p in (db, db.with_suffix(".duckdb.wal")):
                p.unlink(missing_ok=True)
            bfs.append(measure(logscan_cmd("backfill", str(corpus / "projects"), "--json", "-q"), env))
            if cc_cmd:
                ccs.append(measure([*cc_cmd, "claude", "daily", "--json", "--offline", "--timezone", a.tz], env))
        bf = {"wall": statistics.median(r["wall"] for r in bfs), "rss_mib": max(r["rss_mib"] for r in bfs)}
        runs = [measure(logscan_cmd("report", "daily", "--tz", a.tz, "-f", "json"), env) for _ in range(a.report_runs)]
        rep = json.loads(runs[-1]["out"])
        ls_tot = totals_logscan(rep)
        from logscan.reports.report import report as _report  # in-process: the query alone, without start-up

        import time

        t0 = time.perf_counter()
        _report(db, "daily", None, a.tz)
        in_proc = time.perf_counter() - t0

        cc = cc_tot = None
        if ccs:
            cc = {"wall": statistics.median(r["wall"] for r in ccs), "rss_mib": max(r["rss_mib"] for r in ccs)}
            cc_tot = totals_ccusage(json.loads(ccs[-1]["out"]))

        bytes_ = truth_d.get("bytes") or sum(f.stat().st_size for f in corpus.rglob("*.jsonl"))
        print(f"\ncorpus: {bytes_ / 1e6:,.0f} MB, {truth_d.get('files', '?')} files, {truth_d.get('events', '?'):,} true events" if truth_d else "")
        spread = lambda rs: f" ({min(r['wall'] for r in rs):.2f}-{max(r['wall'] for r in rs):.2f})" if len(rs) > 1 else ""  # noqa: E731
        rows = [
            (f"first ingest / scan wall s (median of {len(bfs)})", f"{bf['wall']:.2f}{spread(bfs)}", f"{cc['wall']:.2f}{spread(ccs)}" if cc else "n/a"),
            ("first ingest / scan peak RSS MiB", f"{bf['rss_mib']:.0f}", f"{cc['rss_mib']:.0f}" if cc else "n/a"),
            ("daily report wall s (median, incl. start-up)", f"{statistics.median(r['wall'] for r in runs):.3f}", f"{cc['wall']:.2f}" if cc else "n/a"),
            ("daily report query s (in-process)", f"{in_proc:.3f}", "-"),
            ("daily report peak RSS MiB", f"{max(r['rss_mib'] for r in runs):.0f}", f"{cc['rss_mib']:.0f}" if cc else "n/a"),
        ]
        for k in ("input", "output", "cache_read", "cache_write", "total_tokens", "cost_usd"):
            t = {"input": "input", "output": "output", "cache_read": "cache_read", "cache_write": "cache_write"}.get(k)
            truth_v = truth_d.get(t) if t else (sum(truth_d.get(x, 0) for x in ("input", "output", "cache_read", "cache_write")) if k == "total_tokens" and truth_d else None)
            lv = ls_tot[k]
            cv = cc_tot[k] if cc_tot else None
            fmt = (lambda v: "n/a" if v is None else f"{v:,.2f}") if k == "cost_usd" else (lambda v: "n/a" if v is None else f"{v:,}")
            rows.append((f"{k}" + (f" (truth {truth_v:,})" if truth_v is not None else ""), fmt(lv), fmt(cv)))
        rows.append(("events (logscan) / unpriced", f"{ls_tot['events']:,} / {ls_tot['unpriced']:,}", "-"))
        w0 = max(len(r[0]) for r in rows)
        print(f"{'':{w0}}  {'logscan':>18}  {'ccusage':>18}")
        for r in rows:
            print(f"{r[0]:{w0}}  {r[1]:>18}  {r[2]:>18}")
        rep_wall = statistics.median(r["wall"] for r in runs)
        print(f"\ntargets: report under 0.300 s: {rep_wall:.3f} s ({'met' if rep_wall < 0.3 else 'NOT met'})", end="")
        if cc:
            ratio = bf["wall"] / cc["wall"]
            print(f"; first ingest within 2x of ccusage: {ratio:.2f}x ({'met' if ratio <= 2 else 'NOT met'})")
        else:
            print()
        if not cc_cmd:
            print("\nccusage not found: install it with 'npm i -g ccusage' or pass --ccusage 'npx -y ccusage'.")
        return 0
    finally:
        if not a.keep and a.dir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
