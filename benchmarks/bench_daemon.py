"""Benchmark the daemon as a real process: ``python -m benchmarks.bench_daemon``.

It builds a throw-away tree of Claude Code-style transcripts (default 5,000 files in 100 project
directories, one billed line each) under a temporary directory, starts ``python -m logscan
daemon`` on it with its own HOME, database and socket, waits for the initial scan, then reports:

- idle CPU: % of one core used by the daemon over ``--idle-seconds`` with nothing changing
  (target < 1 %);
- RSS: resident memory after the scan and the idle period, and its peak (target < 120 MiB);
- append-to-visible latency: for ``--appends`` lines appended one at a time to random files,
  the time until a query over the socket returns the new event (p50, p95, max);
- the same for OpenCode: ``--opencode-rows`` assistant messages (with their step-finish part)
  committed one at a time to an ``opencode.db`` in WAL mode, with no ``storage/`` folder (as
  since OpenCode 1.2), the time until the event is visible.

Nothing outside the temporary directory is read or written; it is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _line(key: str, i: int) -> bytes:
    obj = {
        "type": "assistant",
        "sessionId": f"s-{key}",
        "parentUuid": None,
        "uuid": f"u-{key}-{i}",
        "timestamp": "2026-01-05T10:00:00.000Z",
        "requestId": f"req_{key}_{i}",
        "message": {
            "id": f"msg_{key}_{i}",
            "model": "claude-sonnet-4-5-20250929",
            "usage": {"input_tokens": 10 + i, "output_tokens": 20, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
            "stop_reason": "end_turn",
        },
    }
    return json.dumps(obj).encode() + b"\n"


def _opencode_db(path: Path) -> sqlite3.Connection:
    """An OpenCode database in WAL mode with one session, as OpenCode 1.2+ keeps it (the schema
    is the test fixture's); the connection stays open, like OpenCode's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript((Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "opencode" / "schema_v1.2.sql").read_text())
    con.execute("INSERT INTO project VALUES ('p1', '/home/u/proj', 1789000000000, 1789000000000)")
    con.execute("INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated) "
                "VALUES ('ses_b', 'p1', NULL, 'bench', '/home/u/proj', 'bench', '1.2.0', 1789000000000, 1789000000000)")
    return con


def _opencode_commit(con: sqlite3.Connection, key: str, i: int) -> None:
    """One assistant message and its step-finish part, committed together."""
    t = 1789000100000 + i * 1000
    tokens = {"input": 10 + i, "output": 20, "reasoning": 0, "cache": {"read": 0, "write": 0}}
    msg = {"role": "assistant", "time": {"created": t, "completed": t + 500}, "modelID": "claude-sonnet-4-5", "providerID": "anthropic",
           "cost": 0.0, "tokens": tokens}
    part = {"type": "step-finish", "reason": "stop", "cost": 0.0, "tokens": tokens}
    con.execute("BEGIN")
    con.execute("INSERT INTO message VALUES (?, 'ses_b', ?, ?, ?)", [key, t, t + 500, json.dumps(msg)])
    con.execute("INSERT INTO part VALUES (?, ?, 'ses_b', ?, ?, ?)", [f"prt_{key}", key, t + 500, t + 500, json.dumps(part)])
    con.execute("COMMIT")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of the process."""
    stat_path = Path(f"/proc/{pid}/stat")
    if stat_path.exists():
        fields = stat_path.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    out = subprocess.run(["ps", "-o", "time=", "-p", str(pid)], capture_output=True, text=True, check=True).stdout.strip()
    parts = [float(p) for p in out.replace("-", ":").split(":")]
    secs = 0.0
    for p in parts:
        secs = secs * 60 + p
    return secs


def _rss_mib(pid: int) -> tuple[float, float | None]:
    """(current RSS, peak RSS or None) in MiB."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        vals = {}
        for ln in status.read_text().splitlines():
            k, _, v = ln.partition(":")
            if k in ("VmRSS", "VmHWM"):
                vals[k] = int(v.split()[0]) / 1024
        return vals["VmRSS"], vals.get("VmHWM")
    kib = int(subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True, check=True).stdout.strip())
    return kib / 1024, None


def _anon_mib(pid: int) -> float | None:
    """Private anonymous memory (heap, DuckDB buffers): RSS without the shared library pages."""
    p = Path(f"/proc/{pid}/smaps_rollup")
    if not p.exists():
        return None
    for ln in p.read_text().splitlines():
        if ln.startswith("Pss_Anon:"):
            return int(ln.split()[1]) / 1024
    return None


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * len(s))) - 1))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_daemon", description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=5000, help="watched files (default 5000)")
    ap.add_argument("--dirs", type=int, default=100, help="project directories they are spread over (default 100)")
    ap.add_argument("--idle-seconds", type=float, default=30.0, help="length of the idle CPU measurement (default 30)")
    ap.add_argument("--appends", type=int, default=100, help="appends for the latency measurement (default 100)")
    ap.add_argument("--gap", type=float, default=0.1, help="seconds between appends (default 0.1)")
    ap.add_argument("--poll", action="store_true", help="measure the daemon in --poll mode")
    ap.add_argument("--opencode-rows", type=int, default=50, help="OpenCode rows for the latency measurement (default 50; 0: none)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="lsbench", dir="/tmp"))
    env = dict(os.environ)
    env.update(
        HOME=str(work / "home"),
        CLAUDE_CONFIG_DIR=str(work / "claude"),
        LOGSCAN_DB=str(work / "bench.duckdb"),
        LOGSCAN_SOCKET=str(work / "sock"),
        LOGSCAN_DATA_DIR=str(work / "data"),
        LOGSCAN_CONFIG_DIR=str(work / "config"),
        XDG_CONFIG_HOME=str(work / "xdg-config"),
        XDG_DATA_HOME=str(work / "xdg-data"),
        XDG_RUNTIME_DIR=str(work / "run"),
    )
    env.pop("NOTIFY_SOCKET", None)
    os.environ.update({k: env[k] for k in ("LOGSCAN_DB", "LOGSCAN_SOCKET")})
    (work / "home").mkdir()
    projects = work / "claude" / "projects"
    files: list[Path] = []
    for k in range(args.files):
        f = projects / f"proj{k % args.dirs:03d}" / f"sess{k:05d}.jsonl"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(_line(f"f{k}", 0))
        files.append(f)

    oc_writer = _opencode_db(work / "xdg-data" / "opencode" / "opencode.db") if args.opencode_rows else None

    from logscan.service.client import NoDaemon, daemon_query, daemon_status

    log = open(work / "daemon.log", "wb")  # noqa: SIM115
    cmd = [sys.executable, "-m", "logscan", "daemon", *(["--poll"] if args.poll else [])]
    t_start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    db = Path(env["LOGSCAN_DB"])
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"daemon exited early; see {work / 'daemon.log'}")
            try:
                st = daemon_status()
                if st["initial_scan_done"] and st["events_total"] >= args.files:
                    break
            except NoDaemon:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("initial scan did not finish within 300 s")
            time.sleep(0.1)
        scan_s = time.monotonic() - t_start
        time.sleep(2.0)  # let the last commit and GC settle

        c0, w0 = _cpu_seconds(proc.pid), time.monotonic()
        time.sleep(args.idle_seconds)
        c1, w1 = _cpu_seconds(proc.pid), time.monotonic()
        idle_pct = (c1 - c0) / (w1 - w0) * 100
        rss_idle, _ = _rss_mib(proc.pid)

        rng = random.Random(42)
        latencies: list[float] = []
        for i in range(args.appends):
            f = rng.choice(files)
            key = f"lat{i}"
            t0 = time.monotonic()
            with open(f, "ab") as fh:
                fh.write(_line(key, 0))
            while True:
                _, rows = daemon_query(db, "SELECT count(*) FROM events WHERE message_id = ?", [f"msg_{key}_0"])
                if rows[0][0]:
                    latencies.append(time.monotonic() - t0)
                    break
                if time.monotonic() - t0 > 30:
                    raise SystemExit(f"append {i} not visible after 30 s")
                time.sleep(0.005)
            time.sleep(args.gap)
        oc_latencies: list[float] = []
        for i in range(args.opencode_rows):
            assert oc_writer is not None
            key = f"msg_oc{i}"
            t0 = time.monotonic()
            _opencode_commit(oc_writer, key, i)
            while True:
                _, rows = daemon_query(db, "SELECT count(*) FROM events WHERE tool = 'opencode' AND message_id = ?", [key])
                if rows[0][0]:
                    oc_latencies.append(time.monotonic() - t0)
                    break
                if time.monotonic() - t0 > 30:
                    raise SystemExit(f"OpenCode row {i} not visible after 30 s")
                time.sleep(0.005)
            time.sleep(args.gap)
        time.sleep(12.0)  # one health tick: freed memory goes back to the OS
        rss_end, rss_peak = _rss_mib(proc.pid)
        anon_end = _anon_mib(proc.pid)
        status = daemon_status()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"logscan daemon benchmark ({'polling' if args.poll else status['observer']} observer, {args.files:,} files in {args.dirs} directories)")
    print(f"  initial scan:            {scan_s:.1f} s to ingest {args.files:,} files")
    print(f"  idle CPU:                {idle_pct:.2f} % of one core over {args.idle_seconds:.0f} s (target < 1 %)")
    print(f"  RSS:                     {rss_idle:.1f} MiB idle, {rss_end:.1f} MiB after the appends"
          + (f", peak {rss_peak:.1f} MiB" if rss_peak else "") + " (target < 120 MiB)")
    if anon_end is not None:
        print(f"                           of which {anon_end:.1f} MiB private anonymous memory; the rest is shared library pages")
    print(f"  append-to-visible:       p50 {_pct(latencies, 0.5) * 1000:.0f} ms, p95 {_pct(latencies, 0.95) * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} appends (target p95 < 1 s)")
    if oc_latencies:
        print(f"  OpenCode row-to-visible: p50 {_pct(oc_latencies, 0.5) * 1000:.0f} ms, p95 {_pct(oc_latencies, 0.95) * 1000:.0f} ms, "
              f"max {max(oc_latencies) * 1000:.0f} ms over {len(oc_latencies)} commits to opencode.db (target p95 < 1 s)")
    print(f"  files watched:           {status['files_watched']:,}; daemon exit code {proc.returncode}")
    if args.keep:
        print(f"  kept {work}")
    ok = idle_pct < 1.0 and rss_end < 120 and _pct(latencies, 0.95) < 1.0 and (not oc_latencies or _pct(oc_latencies, 0.95) < 1.0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
