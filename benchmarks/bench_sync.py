"""Benchmark ``logscan sync``: ``python -m benchmarks.bench_sync [--events 1000000] [--url URL]``.

Without ``--url`` it starts a throw-away PostgreSQL server (as the tests do: initdb into a
temporary directory, pg_ctl on 127.0.0.1; as root the server runs as the ``postgres`` user) and
makes a database owned by an ordinary role. Then:

1. host A's store gets ``--events`` synthetic events (through ``Store.import_events``);
2. A syncs: the push of every event (rows/s);
3. an empty store B syncs: the pull of every event (rows/s), checked against A's totals;
4. both sync again: nothing to do (seconds);
5. A reads ``--more`` new events and syncs, then B: an incremental push and pull with the hub
   already holding the rest;
6. the hub's size on disk for the events table and its indexes (bytes per event).

Figures go to stdout as JSON. Nothing outside the temporary directory is written; it is removed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

TOTALS = "SELECT count(*), sum(input_tokens), sum(output_tokens), sum(total_tokens), round(sum(cost_usd), 6) FROM events"


def fill(store: Any, start: int, n: int, host: str) -> None:
    """``n`` events with ids from ``start``, realistic columns (paths, ids, spread over a year)."""
    store.import_events(
        f"""SELECT i * 7919 + 13 AS event_id, ['claude-code', 'codex', 'gemini', 'opencode'][1 + i % 4] AS tool,
        'anthropic' AS provider, ['claude-sonnet-4-5', 'claude-opus-4-6', 'gpt-5-codex'][1 + i % 3] AS model,
        TIMESTAMP '2026-01-01' + to_seconds(i * 31) AS ts, 'session-' || (i // 40) AS session_id,
        '/home/dev' || (i % 50) || '/projects/app' || (i % 7) AS project, i % 17 = 0 AS is_sidechain, NULL AS agent_id,
        'msg_' || md5(i::VARCHAR) AS message_id, 'req_' || md5((i + 1)::VARCHAR) AS request_id,
        i % 5000 AS input_tokens, i % 3000 AS output_tokens, i % 200000 AS cache_read_tokens, i % 9000 AS cache_write_5m_tokens,
        0 AS cache_write_1h_tokens, i % 700 AS reasoning_tokens,
        i % 5000 + i % 3000 + i % 200000 + i % 9000 AS total_tokens, 0 AS web_search_requests, 0 AS web_fetch_requests,
        false AS output_lower_bound, NULL AS speed, (i % 1000) / 997.0 AS cost_usd, 'ok' AS price_status,
        'claude-sonnet-4-5' AS priced_model, 'bench' AS pricing_version, '{host}' AS host,
        '/home/dev/.claude/projects/app/' || (i // 40) || '.jsonl' AS source_path, i * 1000 AS source_offset, 0 AS rank,
        TIMESTAMP '2026-06-01' AS ingested_at FROM range({start}, {start + n}) t(i)"""
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--more", type=int, default=10_000)
    ap.add_argument("--url", help="An existing hub database (it should be empty); default: a throw-away server.")
    ap.add_argument("--batch-rows", type=int, default=None)
    args = ap.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from logscan.store.store import Store
    from logscan.sync.run import sync_store
    from logscan.sync.transfer import BATCH_ROWS

    batch = args.batch_rows or BATCH_ROWS
    tmp = Path(tempfile.mkdtemp(prefix="logscan-bench-sync-"))
    server = None
    try:
        url = args.url
        if url is None:
            from pgserver import TEAM_PW, start

            server, why = start()
            if server is None:
                print(f"cannot start PostgreSQL: {why}", file=sys.stderr)
                return 2
            name = "bench_" + uuid.uuid4().hex[:8]
            with server.admin() as con:
                con.execute(f"CREATE DATABASE {name} OWNER team ENCODING 'UTF8' TEMPLATE template0")
            url = server.url("team", TEAM_PW, name)
        out: dict[str, Any] = {"events": args.events, "batch_rows": batch}
        a, b = tmp / "a.duckdb", tmp / "b.duckdb"
        t0 = time.perf_counter()
        with Store.open(a) as st:
            fill(st, 0, args.events, "bench-a")
            st.checkpoint()
        out["generate_s"] = round(time.perf_counter() - t0, 2)

        def timed(db: Path, host: str) -> tuple[float, dict[str, Any]]:
            with Store.open(db) as st:
                t = time.perf_counter()
                res = sync_store(st, url, host=host, batch_rows=batch)
                return time.perf_counter() - t, res

        s, res = timed(a, "bench-a")
        out["push"] = {"rows": res["pushed_events"], "seconds": round(s, 2), "rows_per_s": round(res["pushed_events"] / s)}
        s, res = timed(b, "bench-b")
        out["pull"] = {"rows": res["pulled_rows"], "seconds": round(s, 2), "rows_per_s": round(res["pulled_rows"] / s)}
        with Store.open(a, read_only=True) as sa, Store.open(b, read_only=True) as sb:
            ta, tb = sa.query(TOTALS)[1][0], sb.query(TOTALS)[1][0]
        out["totals_equal"] = ta == tb
        out["totals"] = list(ta)
        s1, r1 = timed(a, "bench-a")
        s2, r2 = timed(b, "bench-b")
        out["no_change_sync_s"] = [round(s1, 3), round(s2, 3)]
        out["no_change_moved"] = [r1["pushed_events"] + r1["pulled_rows"], r2["pushed_events"] + r2["pulled_rows"]]
        with Store.open(a) as st:
            fill(st, args.events, args.more, "bench-a")
        s1, r1 = timed(a, "bench-a")
        s2, r2 = timed(b, "bench-b")
        out["incremental"] = {"rows": args.more, "push_s": round(s1, 3), "pull_s": round(s2, 3),
                              "pushed": r1["pushed_events"], "pulled": r2["pulled_rows"]}
        import psycopg

        with psycopg.connect(url) as pg:
            tbl, idx, n = pg.execute("SELECT pg_table_size('logscan.events'), pg_indexes_size('logscan.events'), "
                                     "(SELECT count(*) FROM logscan.events)").fetchone()
        out["hub"] = {"events": n, "table_mib": round(tbl / 2**20, 1), "indexes_mib": round(idx / 2**20, 1),
                      "bytes_per_event": round((tbl + idx) / n)}
        out["local_store_mib"] = round(a.stat().st_size / 2**20, 1)
        print(json.dumps(out, indent=2))
        return 0 if out["totals_equal"] else 1
    finally:
        if server is not None:
            subprocess.run(server._stop, capture_output=True, timeout=60)  # type: ignore[attr-defined]
            shutil.rmtree(server._base, ignore_errors=True)  # type: ignore[attr-defined]
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
