"""Sync through a real PostgreSQL hub (tests/pgserver.py): push, pull, idempotence, and three
hosts' stores (one log read by two of them) that sync in any order and end with identical rows and
the exact totals of one store that read every log."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from logscan.ingest.ingestor import Ingestor
from logscan.store.store import Store
from logscan.sync.run import sync_store

FIX = Path(__file__).parent / "fixtures"
TOTALS = (
    "SELECT count(*), count(DISTINCT event_id), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
    "sum(cache_write_5m_tokens), sum(cache_write_1h_tokens), sum(total_tokens), sum(reasoning_tokens), "
    "round(sum(cost_usd), 9), count(*) FILTER (WHERE cost_usd IS NULL) FROM events"
)
ALL_ROWS = "SELECT * FROM events ORDER BY event_id"
# Which logs each host read; codex/real is read by both alpha and bravo.
LOGS = {
    "alpha": ["claude-code/real", "codex/real"],
    "bravo": ["gemini/real", "codex/real"],
    "charlie": ["claude-code/traps"],
}


def ingest(db: Path, host: str, dirs: list[str]) -> None:
    with Store.open(db) as st:
        Ingestor(st, host=host).run([FIX / d for d in dirs])


def snapshot(db: Path) -> tuple[Any, list[tuple[Any, ...]]]:
    with Store.open(db, read_only=True) as st:
        return st.query(TOTALS)[1][0], st.query(ALL_ROWS)[1]


def sync(db: Path, url: str, host: str, **kw: Any) -> dict[str, Any]:
    with Store.open(db) as st:
        return sync_store(st, url, host=host, **kw)


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, int]:
    """Totals of one store that read every log once (host 'union'), and its host-free row count."""
    db = tmp_path_factory.mktemp("union") / "u.duckdb"
    ingest(db, "union", sorted({d for ds in LOGS.values() for d in ds}))
    tot, rows = snapshot(db)
    return tot, len(rows)


def make_hosts(tmp_path: Path) -> dict[str, Path]:
    dbs = {}
    for host, dirs in LOGS.items():
        dbs[host] = tmp_path / f"{host}.duckdb"
        ingest(dbs[host], host, dirs)
    return dbs


def test_push_then_pull_moves_every_column_exactly(tmp_path: Path, hub_url: str) -> None:
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    ingest(a, "alpha", ["claude-code/real"])
    Store.open(b).close()
    res = sync(a, hub_url, "alpha")
    n = snapshot(a)[0][0]
    assert n > 0 and res["pushed_events"] == n and res["hub_changed"] == n and res["pulled_rows"] == 0
    assert "team-pw" not in res["hub"]  # the password is never shown or kept
    res = sync(b, hub_url, "bravo")
    assert (res["pushed_events"], res["pulled_rows"], res["new_events"]) == (0, n, n)
    assert snapshot(b) == snapshot(a)  # every column, times, NULLs and doubles included


def test_three_hosts_in_any_order_end_identical_and_exact(tmp_path: Path, hub_url: str, pg_server: Any, truth: tuple[Any, int]) -> None:
    dbs = make_hosts(tmp_path)
    orders = [("alpha", "bravo", "charlie"), ("charlie", "alpha", "bravo")]
    for order in orders:
        for host in order:
            sync(dbs[host], hub_url, host)
    for host in LOGS:  # everyone has seen every push now
        sync(dbs[host], hub_url, host)
    snaps = {h: snapshot(p) for h, p in dbs.items()}
    assert snaps["alpha"][0] == truth[0]  # exact: the shared log counts once
    assert snaps["alpha"] == snaps["bravo"] == snaps["charlie"]
    # The hub holds the same ledger.
    import psycopg

    with psycopg.connect(hub_url) as pg:
        n, tokens = pg.execute("SELECT count(*), sum(total_tokens) FROM logscan.events").fetchone()
    assert (n, tokens) == (truth[0][0], truth[0][7])
    # A repeated sync changes nothing on either side.
    for host in LOGS:
        res = sync(dbs[host], hub_url, host)
        assert (res["pushed_events"], res["hub_changed"], res["pulled_rows"]) == (0, 0, 0), res
    assert {h: snapshot(p) for h, p in dbs.items()} == snaps


@pytest.mark.parametrize("order", list(itertools.permutations(["alpha", "bravo", "charlie"]))[1::2])
def test_orders_converge_to_the_same_rows(tmp_path: Path, hub_url: str, order: tuple[str, ...], truth: tuple[Any, int]) -> None:
    dbs = make_hosts(tmp_path)
    for _ in range(2):
        for host in order:
            sync(dbs[host], hub_url, host)
    snaps = [snapshot(dbs[h]) for h in order]
    assert snaps[0][0] == truth[0]
    assert snaps[0] == snaps[1] == snaps[2]
    # The shared codex log: each event is attributed to one host, the same everywhere.
    with Store.open(dbs["bravo"], read_only=True) as st:
        hosts = st.query("SELECT DISTINCT host FROM events WHERE tool = 'codex'")[1]
    assert hosts == [("alpha",)]  # equal ranks keep the smaller host name


def test_a_higher_rank_pushed_later_replaces_the_hub_row_and_reaches_the_others(tmp_path: Path, hub_url: str) -> None:
    from test_report_helpers import build_store, event_row
    from datetime import datetime

    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    build_store(a, [event_row(1, datetime(2026, 1, 2), host="zed", output_tokens=5, rank=1)])
    build_store(b, [event_row(1, datetime(2026, 1, 2), host="yan", output_tokens=9, rank=2)])
    sync(a, hub_url, "zed")
    sync(b, hub_url, "yan")  # its copy has the higher rank: the hub takes it
    res = sync(a, hub_url, "zed")
    assert (res["pulled_rows"], res["updated_events"]) == (1, 1)
    for db in (a, b):
        assert snapshot(db)[1][0][12] == 9  # output_tokens
    assert sync(a, hub_url, "zed")["pulled_rows"] == 0


def test_quota_snapshots_are_pushed_once_with_their_host(tmp_path: Path, hub_url: str) -> None:
    import psycopg

    from logscan.store.store import Batch, utcnow
    from datetime import datetime

    a = tmp_path / "a.duckdb"
    now = utcnow()
    snaps = [(k, "claude-code", "five_hour", None, 12.5 + k, datetime(2026, 1, 1, 5), now, "paste", 300, None, None, None, None, None, now, None)
             for k in (1, 2)]
    with Store.open(a) as st:
        st.ingest(Batch(snapshots=snaps))
    assert sync(a, hub_url, "alpha")["pushed_snapshots"] == 2
    assert sync(a, hub_url, "alpha")["pushed_snapshots"] == 0
    with psycopg.connect(hub_url) as pg:
        rows = pg.execute("SELECT snapshot_id, host, used_percent FROM logscan.quota_snapshots ORDER BY 1").fetchall()
    assert rows == [(1, "alpha", 13.5), (2, "alpha", 14.5)]
