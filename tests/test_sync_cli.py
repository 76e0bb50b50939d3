"""'logscan sync' on the command line, the daemon's periodic sync and 'status', --redact-paths,
and the reports across hosts ('report host', --host), on a real PostgreSQL (tests/pgserver.py)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from daemon_helpers import wait_for
from test_report_helpers import build_store, event_row
from test_sync import snapshot, sync

from logscan.cli import cli
from logscan.store.store import Store


def run(*args: str, ok: bool = True) -> Any:
    r = CliRunner().invoke(cli, list(args))
    assert (r.exit_code == 0) == ok, r.output
    return r


def two_stores(tmp_path: Path, hub_url: str) -> tuple[Path, Path]:
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    build_store(a, [event_row(i, datetime(2026, 1, 2, i), host="laptop", input_tokens=100 * i, project="/home/ann/secret-app/src")
                    for i in range(1, 4)])
    build_store(b, [event_row(i, datetime(2026, 1, 3, i), host="desktop", input_tokens=7, project="/home/bob/other") for i in range(10, 12)])
    return a, b


def test_cli_sync_both_ways_then_report_host_and_host_filter(tmp_path: Path, hub_url: str) -> None:
    a, b = two_stores(tmp_path, hub_url)
    r = run("--db", str(a), "sync", hub_url)
    assert "pushed 3 events (3 new or newer on the hub)" in r.output and "team-pw" not in r.output
    run("--db", str(b), "sync", hub_url)
    r = run("--db", str(a), "sync", hub_url, "--json")
    res = json.loads(r.stdout)
    assert (res["pushed_events"], res["pulled_rows"], res["new_events"]) == (0, 2, 2)
    r = run("--db", str(a), "report", "host", "-f", "csv")
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("host,input,")
    assert sorted(x.split(",")[:2] for x in lines[1:]) == [["desktop", "14"], ["laptop", "600"]]
    r = run("--db", str(a), "report", "daily", "--host", "desktop", "-f", "csv")
    assert [x.split(",")[:2] for x in r.stdout.strip().splitlines()[1:]] == [["2026-01-03", "14"]]
    r = run("--db", str(a), "report", "daily", "--by", "host", "-f", "csv")
    assert len(r.stdout.strip().splitlines()) == 3
    # status shows the last sync, without the password
    r = run("--db", str(a), "status")
    line = next(x for x in r.output.splitlines() if x.startswith("sync:"))
    assert "as " in line and "last completed" in line and "team-pw" not in line


def test_cli_errors_are_one_clear_line(tmp_path: Path, pg_server: Any) -> None:
    db = tmp_path / "a.duckdb"
    build_store(db, [event_row(1, datetime(2026, 1, 2))])
    r = run("--db", str(db), "sync", ok=False)
    assert "No hub given" in r.output
    r = run("--db", str(db), "sync", f"postgresql://team:nope@127.0.0.1:{pg_server.port}/postgres", ok=False)
    assert "Cannot connect to the hub postgresql://team@127.0.0.1" in r.output and "nope" not in r.output
    assert "Traceback" not in r.output
    r = run("sync", "postgresql://u:pw@127.0.0.1/x", "--save", ok=False)
    assert "may not hold a password" in r.output


@pytest.mark.parametrize("mode, want", [("hash", "sha256:"), ("basename", "src")])
def test_redact_paths(tmp_path: Path, hub_url: str, mode: str, want: str) -> None:
    a, b = two_stores(tmp_path, hub_url)
    run("--db", str(a), "sync", hub_url, "--redact-paths", mode)
    with psycopg.connect(hub_url) as pg:
        projects = {r[0] for r in pg.execute("SELECT project FROM logscan.events").fetchall()}
        paths = {r[0] for r in pg.execute("SELECT source_path FROM logscan.events").fetchall()}
    assert len(projects) == 1 and not any("/home" in p or "secret" in p and mode == "hash" for p in projects)
    (p,) = projects
    assert p.startswith(want) if mode == "hash" else p == want
    assert all("/" not in s for s in paths)
    # The local store keeps its own paths; the other host sees the redacted ones.
    assert {r[6] for r in snapshot(a)[1]} == {"/home/ann/secret-app/src"}
    run("--db", str(b), "sync", hub_url)
    with Store.open(b, read_only=True) as st:
        assert st.query("SELECT DISTINCT project FROM events WHERE host = 'laptop'")[1] == [(p,)]


@pytest.fixture
def short_sock(monkeypatch: pytest.MonkeyPatch) -> Any:
    d = Path(tempfile.mkdtemp(prefix="lss", dir="/tmp"))
    monkeypatch.setenv("LOGSCAN_SOCKET", str(d / "sock"))
    yield d / "sock"
    shutil.rmtree(d, ignore_errors=True)


def test_daemon_syncs_periodically_through_its_writer_and_status_shows_errors(
    tmp_path: Path, hub_url: str, short_sock: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logscan.service.client import daemon_query
    from logscan.service.daemon import Daemon
    from logscan.sync.run import save_settings

    other = tmp_path / "other.duckdb"
    build_store(other, [event_row(i, datetime(2026, 1, 4), host="ci-runner", output_tokens=11) for i in range(1, 6)])
    sync(other, hub_url, "ci-runner")
    monkeypatch.setattr("logscan.sync.run._last_periodic", None)
    user, rest = hub_url.split("://", 1)[1].split("@", 1)
    monkeypatch.setenv("PGPASSWORD", user.split(":", 1)[1])
    save_settings(f"postgresql://{user.split(':', 1)[0]}@{rest}", every_minutes=0.002)
    root = tmp_path / "projects"
    root.mkdir()
    db = Path(os.environ["LOGSCAN_DB"])
    d = Daemon(db, [root], debounce=0.01, reconcile_interval=5, health_interval=0.1)
    d.start()
    try:
        wait_for(lambda: daemon_query(db, "SELECT count(*) FROM events")[1][0][0] == 5, 20, "the daemon's first pull")
        with Store.open(other) as st:  # the other host reads one more call and syncs it
            from logscan.store.store import Batch

            st.ingest(Batch(events=[event_row(6, datetime(2026, 1, 5), host="ci-runner", output_tokens=11)]))
        sync(other, hub_url, "ci-runner")
        wait_for(lambda: daemon_query(db, "SELECT sum(output_tokens) FROM events")[1][0][0] == 66, 20, "the next periodic pull")
        r = run("status")
        assert any(x.startswith("sync:") and "last completed" in x for x in r.output.splitlines()), r.output
        monkeypatch.setenv("PGPASSWORD", "wrong")  # the hub now refuses us: status says so
        wait_for(lambda: "FAILED" in run("status").output, 20, "a failed periodic sync in status")
        assert "password authentication failed" in run("status").output
    finally:
        d.stop()
        d.shutdown()


def test_periodic_sync_without_a_url_or_with_malformed_settings_does_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from logscan.reports.budget import save_settings
    from logscan.sync.run import configured_url, periodic_sync, settings

    monkeypatch.setattr("logscan.sync.run._last_periodic", None)
    db = tmp_path / "a.duckdb"
    build_store(db, [])
    with Store.open(db) as st:
        assert periodic_sync(st) is None
        save_settings({"sync": "not a table"})
        assert settings() == {} and configured_url() is None and periodic_sync(st) is None
        save_settings({"sync": {"url": "postgresql://nobody@127.0.0.1:1/x", "every_minutes": "soon"}})
        with pytest.raises(Exception, match="Cannot connect"):  # never reached a hub: the hook logs it
            periodic_sync(st)
        assert periodic_sync(st) is None  # and waits the default period before trying again
