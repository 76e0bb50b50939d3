"""Sync under faults, on a real PostgreSQL (tests/pgserver.py): the connection dropped at each step
of a push and a pull (pg_terminate_backend from another session), the local process killed
outright mid-sync, and a hub that is unreachable, not UTF-8, newer than this logscan, or holds
rows that cannot be read. Both sides stay consistent and the next sync completes exactly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from test_sync import ingest, snapshot, sync

from logscan.store.store import Store
from logscan.sync.hub import SyncError

DIRS = {"alpha": ["claude-code/real", "codex/real"], "bravo": ["gemini/real", "codex/real"]}


@pytest.fixture(scope="module")
def union(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("union2") / "u.duckdb"
    ingest(db, "union", ["claude-code/real", "codex/real", "gemini/real"])
    return snapshot(db)[0]


def two_hosts(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for h, dirs in DIRS.items():
        out[h] = tmp_path / f"{h}.duckdb"
        ingest(out[h], h, dirs)
    return out


def terminate(pg_server: Any, url: str) -> None:
    with pg_server.admin() as con:
        n = con.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'logscan-sync' "
                        "AND datname = %s", [url.rsplit("/", 1)[1]]).fetchone()[0]
    assert n == 1


def assert_complete(dbs: dict[str, Path], url: str, union: Any) -> None:
    for h in ("bravo", "alpha", "bravo"):
        sync(dbs[h], url, h)
    a, b = snapshot(dbs["alpha"]), snapshot(dbs["bravo"])
    assert a[0] == union and a == b
    for h in dbs:  # and nothing is left to do
        res = sync(dbs[h], url, h)
        assert (res["pushed_events"], res["hub_changed"], res["pulled_rows"]) == (0, 0, 0)
    with psycopg.connect(url) as pg:
        assert pg.execute("SELECT count(*), sum(total_tokens) FROM logscan.events").fetchone() == (union[0], union[7])


@pytest.mark.parametrize("step", ["push-staged", "push-committed", "pull-fetched", "pull-merged"])
def test_connection_dropped_at_each_step_then_next_sync_completes_exactly(
    tmp_path: Path, hub_url: str, pg_server: Any, union: Any, step: str
) -> None:
    dbs = two_hosts(tmp_path)
    sync(dbs["alpha"], hub_url, "alpha")
    calls = []

    def hook(s: str, rows: int) -> None:
        if s == step:
            calls.append(rows)
            if len(calls) == 2:  # the second batch: some work is already done on both sides
                terminate(pg_server, hub_url)

    with pytest.raises(SyncError, match="cut off"):
        sync(dbs["bravo"], hub_url, "bravo", batch_rows=40, hook=hook)
    with Store.open(dbs["bravo"], read_only=True) as st:  # the error is kept for 'logscan status'
        err = st.query("SELECT last_error, last_ok_at FROM sync_state")[1][0]
    assert "cut off" in err[0] and err[1] is None
    assert_complete(dbs, hub_url, union)


KILL = """
import os, sys
from pathlib import Path
from logscan.store.store import Store
from logscan.sync.run import sync_store
seen = []
def hook(step, rows):
    if step == sys.argv[3]:
        seen.append(rows)
        if len(seen) == 2:
            os._exit(137)  # as kill -9: no cleanup, no checkpoint, the hub connection just drops
with Store.open(Path(sys.argv[1])) as st:
    sync_store(st, sys.argv[2], host="bravo", batch_rows=40, hook=hook)
"""


@pytest.mark.parametrize("step", ["push-committed", "pull-merged"])
def test_process_killed_mid_sync_then_next_sync_completes_exactly(tmp_path: Path, hub_url: str, union: Any, step: str) -> None:
    dbs = two_hosts(tmp_path)
    sync(dbs["alpha"], hub_url, "alpha")
    r = subprocess.run([sys.executable, "-c", KILL, str(dbs["bravo"]), hub_url, step], capture_output=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert r.returncode == 137, r.stderr.decode()[-2000:]
    assert_complete(dbs, hub_url, union)


# -- a hub that cannot be used, or holds rows that cannot be read ----------------------------


def test_unreachable_wrong_password_and_bad_urls_are_clear_errors(tmp_path: Path, hub_url: str, pg_server: Any) -> None:
    db = tmp_path / "a.duckdb"
    ingest(db, "alpha", ["claude-code/traps"])
    before = snapshot(db)
    port = pg_server.port
    cases = [
        (f"postgresql://team:wrong@127.0.0.1:{port}/postgres", "Cannot connect"),
        ("postgresql://team@127.0.0.1:1/x", "Cannot connect"),
        ("http://example.invalid/", "Cannot read"),
        ("postgresql://team@127.0.0.1:notaport/x", "Cannot connect"),
    ]
    for url, msg in cases:
        with pytest.raises(SyncError, match=msg) as e:
            sync(db, url, "alpha")
        assert "wrong" not in str(e.value)  # never echoes a password
    assert snapshot(db) == before


def test_password_from_pgpassword_and_never_stored(tmp_path: Path, hub_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "a.duckdb"
    ingest(db, "alpha", ["claude-code/traps"])
    user, rest = hub_url.split("://", 1)[1].split("@", 1)
    monkeypatch.setenv("PGPASSWORD", user.split(":", 1)[1])
    res = sync(db, f"postgresql://{user.split(':', 1)[0]}@{rest}", "alpha")
    assert res["pushed_events"] == 6
    with Store.open(db, read_only=True) as st:
        state = st.query("SELECT * FROM sync_state")[1]
    assert "team-pw" not in repr(state)


def test_hub_not_utf8_newer_or_foreign_is_refused(tmp_path: Path, hub_url: str, pg_server: Any) -> None:
    db = tmp_path / "a.duckdb"
    ingest(db, "alpha", ["claude-code/traps"])
    with pg_server.admin() as con:
        con.execute("CREATE DATABASE hub_ascii OWNER team ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    with pytest.raises(SyncError, match="UTF8"):
        sync(db, hub_url.rsplit("/", 1)[0] + "/hub_ascii", "alpha")
    sync(db, hub_url, "alpha")
    with psycopg.connect(hub_url, autocommit=True) as pg:
        pg.execute("INSERT INTO logscan.migrations (name) VALUES ('h999_future')")
    with pytest.raises(SyncError, match="newer logscan"):
        sync(db, hub_url, "alpha")
    with psycopg.connect(hub_url, autocommit=True) as pg:
        pg.execute("DELETE FROM logscan.migrations WHERE name = 'h999_future'")
        pg.execute("INSERT INTO logscan.hub DEFAULT VALUES")
    with pytest.raises(SyncError, match="exactly one id"):
        sync(db, hub_url, "alpha")


def test_unreadable_hub_rows_become_problems_and_the_rest_is_merged(tmp_path: Path, hub_url: str) -> None:
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    ingest(a, "alpha", ["claude-code/traps"])
    Store.open(b).close()
    sync(a, hub_url, "alpha")
    with psycopg.connect(hub_url, autocommit=True) as pg:  # an admin's hand edits
        pg.execute("ALTER TABLE logscan.events ALTER COLUMN model DROP NOT NULL, ALTER COLUMN input_tokens TYPE text")
        ids = [r[0] for r in pg.execute("SELECT event_id FROM logscan.events ORDER BY event_id").fetchall()]
        pg.execute("UPDATE logscan.events SET model = NULL WHERE event_id = %s", [ids[0]])
        pg.execute("UPDATE logscan.events SET input_tokens = 'lots' WHERE event_id = %s", [ids[1]])
    res = sync(b, hub_url, "bravo")
    assert (res["pulled_rows"], res["bad_rows"], res["new_events"]) == (6, 2, 4)
    with Store.open(b, read_only=True) as st:
        probs = st.query("SELECT path, kind, reason FROM problems ORDER BY \"offset\"")[1]
        assert st.query("SELECT count(*) FROM events WHERE event_id IN (?, ?)", ids[:2])[1] == [(0,)]
    assert [p[1] for p in probs] == ["sync-bad-row", "sync-bad-row"]
    assert all(p[0].startswith("hub:postgresql://team@") and "team-pw" not in p[0] for p in probs)
    assert {p[2] for p in probs} == {"hub row unreadable: model missing or not a valid value",
                                     "hub row unreadable: input_tokens missing or not a valid value"}
    assert sync(b, hub_url, "bravo")["pulled_rows"] == 0  # the watermark moved past them


def test_nul_and_odd_text_survive_a_round_trip(tmp_path: Path, hub_url: str) -> None:
    from datetime import datetime

    from test_report_helpers import build_store, event_row

    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    odd = ['', '\\N', 'a,"b"\nc', "naïve ☃ 日本", "tab\there"]
    build_store(a, [event_row(i + 1, datetime(2026, 1, 2, 3, 4, 5, 123456), host="alpha", project=p, session_id=p,
                              cost_usd=0.1 + 0.2 * i) for i, p in enumerate(odd)])
    Store.open(b).close()
    sync(a, hub_url, "alpha")
    sync(b, hub_url, "bravo")
    assert snapshot(b) == snapshot(a)


def test_a_nul_in_text_crosses_as_a_replacement_character(tmp_path: Path, hub_url: str) -> None:
    from datetime import datetime

    from test_report_helpers import build_store, event_row

    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    build_store(a, [event_row(7, datetime(2026, 1, 2), host="alpha", project="nul\x00here")])
    Store.open(b).close()
    sync(a, hub_url, "alpha")
    assert sync(b, hub_url, "bravo")["new_events"] == 1
    with Store.open(b, read_only=True) as st:
        assert st.query("SELECT project FROM events")[1] == [("nul\ufffdhere",)]
