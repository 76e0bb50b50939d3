"""Mixed home, logscan vs ccusage: all four tools at the shares of a measured home, first
backfill and reports, alternating runs in one process tree, medians, totals checked.

    python -m benchmarks.bench_mixed --size-mb 1000 --ccusage /path/to/ccusage
    python -m benchmarks.bench_mixed --size-mb 250 --repeat 5 --dir /tmp/mixed --keep

The home (``HOME`` for both tools) holds ``.claude/projects``, ``.codex/sessions``,
``.gemini/tmp`` and ``.local/share/opencode/opencode.db``, written by the generators of
``benchmarks.bench`` (Claude 54 %, Codex 21 %, Gemini 13 %, OpenCode 12 % of the bytes, the
shares of the home measured for issue 16). Timed, alternately, ``--repeat`` times each:

- ``logscan backfill`` into a fresh store (whole process: start-up, parse, price, commit);
- ``ccusage daily --json --offline`` (ccusage 20 reads every tool it detects; it keeps nothing,
  so each run is a first run);
- per source: ``logscan backfill <root>`` alone into a fresh store;
- the no-change re-run, and ``logscan report daily`` without a daemon and with one running.

logscan's calls and tokens per tool are checked against the generators' truth; ccusage's totals
are printed beside them (its counting differs: see the README). Wall times are medians; CPU is
user + system of the child. Nothing here is a test: the suite only checks the small corpora.
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
import time
from pathlib import Path
from typing import Any

from benchmarks.bench import generate_claude_corpus, generate_codex_corpus, generate_gemini_corpus, generate_opencode_corpus, truth_mismatches

SHARES = {"claude-code": 553, "codex": 215, "gemini": 132, "opencode": 118}  # MB in the measured 1 GB home
ROOTS = {"claude-code": ".claude/projects", "codex": ".codex/sessions", "gemini": ".gemini/tmp", "opencode": ".local/share/opencode/opencode.db"}


def build(home: Path, size_mb: float, seed: int) -> dict[str, Any]:
    total = sum(SHARES.values())
    mb = {k: size_mb * v / total for k, v in SHARES.items()}
    return {
        "claude-code": generate_claude_corpus(home / ".claude", mb["claude-code"], seed=seed),
        "codex": generate_codex_corpus(home / ".codex", mb["codex"], seed=seed),
        "gemini": generate_gemini_corpus(home / ".gemini", mb["gemini"], seed=seed),
        "opencode": generate_opencode_corpus(home / ".local" / "share", mb["opencode"], seed=seed),
    }


def fresh(base: Path, name: str) -> None:
    """Remove a store and everything beside it (its WAL, the no-change listing, saved reports)."""
    for f in base.glob(name + "*"):
        if f.is_dir():
            shutil.rmtree(f)
        else:
            f.unlink()


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall s, cpu s, peak RSS MiB, stdout) of one child process (its own rusage, by wait4)."""
    t = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            raise SystemExit(f"{shlex.join(cmd)} failed ({p.returncode}): {err.read().decode(errors='replace').strip()[-500:]}")
        return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, out.read().decode()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_mixed", description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=1000.0, help="home size in MB (default 1000)")
    ap.add_argument("--repeat", type=int, default=3, help="alternating runs of each (default 3)")
    ap.add_argument("--ccusage", help="ccusage command (default: 'ccusage' on PATH); without it only logscan is timed")
    ap.add_argument("--dir", type=Path, help="where to write the home (default: a temp dir)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--logscan", help="logscan command to time (default: this Python's 'python -m logscan'; e.g. the console script "
                    "of a non-editable install, as the README installs it)")
    a = ap.parse_args(argv)
    base = a.dir or Path(tempfile.mkdtemp(prefix="logscan-mixed-"))
    home = base / "home"
    if home.exists():
        shutil.rmtree(home)
    truth = build(home, a.size_mb, a.seed)
    os.sync()
    size = sum(t.bytes for t in truth.values()) / 1e6
    print(f"home: {size:,.0f} MB: " + ", ".join(f"{k} {t.bytes / 1e6:,.0f} MB / {t.events:,} calls" for k, t in truth.items()))
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share"), "XDG_CONFIG_HOME": str(home / ".config"),
           "TZ": "UTC", "LOGSCAN_SOCKET": str(base / "no-daemon.sock")}
    for k in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "LOGSCAN_DB"):
        env.pop(k, None)
    db = base / "mixed.duckdb"
    logscan = [*(shlex.split(a.logscan) if a.logscan else [sys.executable, "-m", "logscan"]), "--db", str(db)]
    cc = shlex.split(a.ccusage) if a.ccusage else (["ccusage"] if shutil.which("ccusage") else None)
    runs: dict[str, list[tuple[float, float, float]]] = {"logscan": [], "ccusage": []}
    cc_out = ""
    for _ in range(a.repeat):
        fresh(base, "mixed.duckdb")
        w, c, r, _ = timed([*logscan, "backfill", "-q"], env)
        runs["logscan"].append((w, c, r))
        if cc:
            w, c, r, cc_out = timed([*cc, "daily", "--json", "--offline"], env)
            runs["ccusage"].append((w, c, r))
    rerun = [timed([*logscan, "backfill", "-q"], env)[0] for _ in range(a.repeat)]
    report = [timed([*logscan, "report", "daily"], env)[0] for _ in range(a.repeat)]
    served = report_with_daemon(logscan, env, base, a.repeat)
    bad = check(db, truth)
    per_source, cc_source = {}, {}
    agents = {"claude-code": "claude", "codex": "codex", "gemini": "gemini", "opencode": "opencode"}
    for tool, rel in ROOTS.items():
        walls, cwalls = [], []
        for _ in range(a.repeat):
            fresh(base, "one.duckdb")
            walls.append(timed([*logscan[:-2], "--db", str(base / "one.duckdb"), "backfill", "-q", str(home / rel)], env)[0])
            if cc:
                cwalls.append(timed([*cc, agents[tool], "daily", "--json", "--offline"], env)[0])
        per_source[tool] = statistics.median(walls)
        if cwalls:
            cc_source[tool] = statistics.median(cwalls)

    def med(k: str, i: int) -> float:
        return statistics.median(x[i] for x in runs[k])

    print(f"\nfirst run, {a.repeat} alternating runs each (median wall, CPU, peak RSS):")
    print(f"  logscan backfill  {med('logscan', 0):6.2f} s  {med('logscan', 1):6.2f} s CPU  {med('logscan', 2):5.0f} MiB"
          f"  ({size / med('logscan', 0):,.0f} MB/s)  runs: {', '.join(f'{x[0]:.2f}' for x in runs['logscan'])}")
    if cc:
        print(f"  ccusage daily     {med('ccusage', 0):6.2f} s  {med('ccusage', 1):6.2f} s CPU  {med('ccusage', 2):5.0f} MiB"
              f"  runs: {', '.join(f'{x[0]:.2f}' for x in runs['ccusage'])}")
        ratios = [x[0] / y[0] for x, y in zip(runs["logscan"], runs["ccusage"], strict=True)]
        print(f"  ratio logscan/ccusage: median {statistics.median(ratios):.2f}x (each pair: {', '.join(f'{r:.2f}' for r in ratios)}); target 1.5x")
        print("  ccusage totals: " + json.dumps(json.loads(cc_out).get("totals", {})))
    print("per source, each alone, median wall (logscan backfill <root> | ccusage <agent> daily):")
    for k, v in per_source.items():
        ccs = f"  |  ccusage {cc_source[k]:.2f} s ({v / cc_source[k]:.2f}x)" if k in cc_source else ""
        print(f"  {k:12} {truth[k].bytes / 1e6:6,.0f} MB  logscan {v:.2f} s ({truth[k].bytes / 1e6 / v:,.0f} MB/s){ccs}")
    print(f"no-change re-run: median {statistics.median(rerun) * 1000:,.0f} ms (target 200 ms)")
    print(f"report daily without a daemon: first {report[0] * 1000:,.0f} ms (rendered), then median {statistics.median(report[1:] or report) * 1000:,.0f} ms"
          f" (the saved rendering; target 300 ms and 1/10 of ccusage)")
    print(f"report daily with the daemon running: median {statistics.median(served) * 1000:,.0f} ms (target 50 ms)"
          f"  runs: {', '.join(f'{x * 1000:.0f}' for x in served)}")
    print("totals vs truth: " + ("EXACT for every tool" if not bad else "MISMATCH: " + "; ".join(bad)))
    if not a.keep and a.dir is None:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if bad else 0


def report_with_daemon(logscan: list[str], env: dict[str, str], base: Path, repeat: int) -> list[float]:
    """``logscan report daily`` timed while ``logscan daemon`` serves the store (its socket in a
    private folder under ``base``); the daemon is stopped with SIGTERM afterwards."""
    import signal

    run = base / "run"
    run.mkdir(mode=0o700, exist_ok=True)
    sock = run / "sock"
    denv = {**env, "LOGSCAN_SOCKET": str(sock)}
    daemon = subprocess.Popen([*logscan, "daemon"], env=denv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not sock.exists():
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the daemon did not start")
            time.sleep(0.1)
        time.sleep(3.0)  # its first reconcile of the roots (nothing new) settles
        timed([*logscan, "report", "daily"], denv)  # one unmeasured run
        return [timed([*logscan, "report", "daily"], denv)[0] for _ in range(max(repeat, 5))]
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)


def check(db: Path, truth: dict[str, Any]) -> list[str]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return truth_mismatches(con, truth)
    finally:
        con.close()


if __name__ == "__main__":
    sys.exit(main())
