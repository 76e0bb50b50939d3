"""The daemon's parts in-process: a failing file never stops ingestion, the generic write call,
the wire encoding of DuckDB values, sd_notify datagrams, log lines, thread cleanup."""

from __future__ import annotations

import io
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, time as dtime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from daemon_helpers import truth, wait_for, write_lines

from logscan.service.client import NoDaemon, daemon_query, daemon_write, run_query, run_write
from logscan.service.protocol import decode_value, encode_value
from logscan.service.calls import CALLS
from logscan.service.daemon import Daemon
from logscan.service.logs import KeyValueFormatter
from logscan.errors import LogscanError
from logscan.service.sdnotify import Notifier


@pytest.fixture
def short_sock(monkeypatch: pytest.MonkeyPatch) -> Path:
    d = Path(tempfile.mkdtemp(prefix="lsu", dir="/tmp"))
    monkeypatch.setenv("LOGSCAN_SOCKET", str(d / "sock"))
    yield d / "sock"
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize(
    "value",
    [
        None, True, 0, -(2**63), 2**63 - 1, 2**100, 1.5, float("nan"), float("inf"), -float("inf"), "text",
        datetime(2024, 2, 29, 23, 59, 59, 123456), datetime(2024, 1, 1, 8, tzinfo=timezone.utc),
        date(2024, 2, 29), dtime(12, 34, 56, 7), Decimal("1.50"), Decimal("-0.000001"), timedelta(days=3, seconds=5, microseconds=6),
        b"\x00\xff", uuid.UUID(int=7), [1, [2, None]], {"a": 1, "b": [Decimal("2.5")]}, ("x", 1), {1: "int key"},
    ],
)
def test_wire_values_round_trip_exactly(value: object) -> None:
    import json

    back = decode_value(json.loads(json.dumps(encode_value(value))))
    if isinstance(value, float) and value != value:
        assert back != back
    else:
        assert back == value and type(back) is type(value)
        if isinstance(value, Decimal):
            assert str(back) == str(value)  # the scale too: 1.50 stays 1.50


def test_one_failing_file_never_stops_ingestion_and_is_retried(tmp_path: Path, short_sock: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "projects"
    good, bad = root / "p" / "good.jsonl", root / "p" / "bad.jsonl"
    write_lines(good, "g", range(3))
    write_lines(bad, "b", range(2))
    db = Path(os.environ["LOGSCAN_DB"])
    d = Daemon(db, [root], debounce=0.01, reconcile_interval=0.5, health_interval=0.3)
    fail = {"on": True}
    d.start()
    try:
        orig = type(d.ing).process

        def flaky(self: object, path: str, st: os.stat_result | None = None) -> None:
            if fail["on"] and path == str(bad):
                raise RuntimeError("simulated bug while reading")
            orig(self, path, st)

        monkeypatch.setattr(type(d.ing), "process", flaky)
        write_lines(good, "g", range(3, 5))  # the worker is busy with the good file
        write_lines(bad, "b", range(2, 3))
        wait_for(lambda: _count(db, "good") == 5, 10, "the good file's lines")
        wait_for(lambda: _problem_kinds(db, bad) == ["daemon-error"], 10, "a daemon-error problem for the bad file")
        assert d.writer.errors >= 1 and "simulated bug" in (d.writer.last_error or "")
        assert d._threads[0].is_alive()
        fail["on"] = False  # fixed: the next reconcile reads it
        wait_for(lambda: _count(db, "bad") == 3, 10, "the bad file after the retry")
        _, rows = daemon_query(db, "SELECT count(*), sum(input_tokens), sum(output_tokens) FROM events")
        # good: ids 0..4 -> input 10, output 2*10 + 5; bad: ids 0..2 -> input 3, output 2*3 + 3
        assert rows[0] == (8, 10 + 3, 25 + 9)
    finally:
        d.stop()
        d.shutdown()
    assert not [t for t in d._threads if t.is_alive()]
    assert not short_sock.exists()


def _count(db: Path, key: str) -> int:
    _, rows = daemon_query(db, "SELECT count(*) FROM events WHERE session_id = ?", [f"s-{'g' if key == 'good' else 'b'}"])
    return int(rows[0][0])


def _problem_kinds(db: Path, path: Path) -> list[str]:
    _, rows = daemon_query(db, "SELECT DISTINCT kind FROM problems WHERE path = ?", [str(path)])
    return [r[0] for r in rows]


def test_write_calls_run_in_the_daemon_and_without_it(tmp_path: Path, short_sock: Path) -> None:
    root = tmp_path / "projects"
    f = root / "p" / "s.jsonl"
    write_lines(f, "c", range(2))
    db = Path(os.environ["LOGSCAN_DB"])
    d = Daemon(db, [root], debounce=0.01)
    d.start()
    try:
        wait_for(lambda: d.initial_scan_done, 10, "the initial scan")
        assert "logscan.service.calls:mark_files_missing" in CALLS
        assert run_write(db, "logscan.service.calls:mark_files_missing", {"paths": [str(f)]}) == 1
        _, rows = run_query(db, "SELECT missing_since IS NOT NULL FROM files WHERE path = ?", [str(f)])
        assert rows == [(True,)]
        with pytest.raises(LogscanError, match="not a write the daemon runs"):
            daemon_write(db, "call", {"target": "os:remove", "args": {"path": "/tmp/x"}})
        # Another database: the daemon declines, so the caller opens its own file.
        with pytest.raises(NoDaemon):
            daemon_query(tmp_path / "other.duckdb", "SELECT 1")
    finally:
        d.stop()
        d.shutdown()
    with pytest.raises(LogscanError, match="not a write the daemon runs"):
        run_write(db, "os:remove", {"path": "/tmp/x"})
    assert run_write(db, "logscan.service.calls:mark_files_missing", {"paths": []}) == 0  # no daemon: runs here
    _, rows = run_query(db, "SELECT count(*), sum(input_tokens), sum(output_tokens) FROM events")
    assert rows[0] == truth(range(2))


def test_sd_notify_messages_ready_watchdog_stopping(tmp_path: Path, short_sock: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    addr = str(short_sock.parent / "notify")
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(addr)
    rx.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", addr)
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # ping every 0.2 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    root = tmp_path / "projects"
    root.mkdir()
    d = Daemon(Path(os.environ["LOGSCAN_DB"]), [root], debounce=0.01, health_interval=0.1)
    got: list[str] = []
    t = threading.Thread(target=d.run)  # not the main thread: no signal handlers
    t.start()
    try:
        deadline = time.monotonic() + 10
        while sum("WATCHDOG=1" in m for m in got) < 2 and time.monotonic() < deadline:
            got.append(rx.recv(4096).decode())
    finally:
        d.stop()
        t.join(timeout=30)
    while True:
        try:
            rx.settimeout(0.5)
            got.append(rx.recv(4096).decode())
        except TimeoutError:
            break
    rx.close()
    assert got[0].startswith("READY=1\nSTATUS=watching 1 roots")
    assert sum("WATCHDOG=1" in m for m in got) >= 2
    assert got[-1] == "STOPPING=1"
    assert not t.is_alive()


def test_notifier_is_a_no_op_outside_systemd_and_handles_abstract_sockets() -> None:
    n = Notifier({})
    assert not n.enabled and not n.ready() and n.watchdog_interval is None
    n = Notifier({"NOTIFY_SOCKET": "@logscan-test-abstract", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())})
    assert n.addr == "\0logscan-test-abstract" and n.watchdog_interval == 15.0
    assert Notifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}).watchdog_interval is None
    assert not n.send("READY=1")  # nobody listens: no exception


def test_log_lines_are_key_value_one_per_event() -> None:
    buf = io.StringIO()
    h = logging.StreamHandler(buf)
    h.setFormatter(KeyValueFormatter())
    lg = logging.getLogger("logscan.test-kv")
    lg.addHandler(h)
    lg.propagate = False
    try:
        lg.warning("file watcher died", extra={"kv": {"path": "/a b/c.jsonl", "restarts": 2}})
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            lg.exception("read failed")
    finally:
        lg.removeHandler(h)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2
    assert 'level=warning logger=logscan.test-kv msg="file watcher died" path="/a b/c.jsonl" restarts=2' in lines[0]
    assert lines[1].startswith("ts=") and "exc=" in lines[1] and "ValueError" in lines[1]


def test_a_dead_observer_is_restarted_and_the_gap_rescanned(tmp_path: Path, short_sock: Path) -> None:
    root = tmp_path / "projects"
    f = root / "p" / "s.jsonl"
    write_lines(f, "h", range(1))
    db = Path(os.environ["LOGSCAN_DB"])
    d = Daemon(db, [root], debounce=0.01, health_interval=0.2, reconcile_interval=600)
    d.start()
    try:
        wait_for(lambda: d.initial_scan_done, 10, "the initial scan")
        dead = d.watcher.observer
        dead.stop()
        dead.join(timeout=5)
        write_lines(f, "h", range(1, 3))  # written while nothing watches
        def restarted() -> bool:  # read once: the watcher sets observer to None while it restarts
            o = d.watcher.observer
            return o is not None and o is not dead and o.is_alive()

        wait_for(restarted, 10, "a new observer")
        wait_for(lambda: run_query(db, "SELECT count(*) FROM events")[1][0][0] == 3, 10, "the lines written in the gap")
        assert d.watcher.restarts == 1
        write_lines(f, "h", range(3, 4))  # and the new observer sees new writes
        wait_for(lambda: run_query(db, "SELECT count(*) FROM events")[1][0][0] == 4, 10, "a line after the restart")
    finally:
        d.stop()
        d.shutdown()


def test_an_inotify_queue_overflow_triggers_a_reconcile(tmp_path: Path, short_sock: Path) -> None:
    root = tmp_path / "projects"
    f = root / "p" / "s.jsonl"
    write_lines(f, "o", range(1))
    db = Path(os.environ["LOGSCAN_DB"])
    d = Daemon(db, [root], debounce=0.01, health_interval=600, reconcile_interval=600)
    d.start()
    try:
        wait_for(lambda: d.initial_scan_done, 10, "the initial scan")
        for w in list(d.watcher.root_watches.values()):  # lose the events, as an overflow would
            d.watcher.observer.unschedule(w)
        write_lines(f, "o", range(1, 3))
        time.sleep(0.5)
        assert run_query(db, "SELECT count(*) FROM events")[1][0][0] == 1
        logging.getLogger("watchdog.observers.inotify_c").warning("Inotify queue overflowed; filesystem events were lost")
        wait_for(lambda: run_query(db, "SELECT count(*) FROM events")[1][0][0] == 3, 10, "the reconcile after the overflow")
    finally:
        d.stop()
        d.shutdown()


def test_a_full_disk_is_reported_retried_with_back_off_and_loses_nothing(tmp_path: Path, short_sock: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits fail with ENOSPC: the real cause is the error (not 'cannot rollback'), status shows
    the failing commits and a growing lag, and once space is back every event is stored once."""
    import errno

    from logscan.store.store import Store

    root = tmp_path / "projects"
    f = root / "p" / "s.jsonl"
    write_lines(f, "d", range(3))
    db = Path(os.environ["LOGSCAN_DB"])
    d = Daemon(db, [root], debounce=0.01, health_interval=600, reconcile_interval=600)
    d.start()
    try:
        wait_for(lambda: d.initial_scan_done, 10, "the initial scan")
        real = Store.ingest
        full = {"on": True, "calls": 0}

        def ingest(self: Store, batch: object) -> object:
            if full["on"]:
                full["calls"] += 1
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(self, batch)

        monkeypatch.setattr(Store, "ingest", ingest)
        write_lines(f, "d", range(3, 7))
        wait_for(lambda: d.writer.commit_failures >= 2, 20, "two failed commits")
        st = d.status()
        assert st["commit_failures"] >= 2 and st["lag_s"] > 0 and st["failing_for_s"] is not None
        assert "No space left on device" in (st["last_error"] or "") and "rollback" not in st["last_error"]
        calls = full["calls"]
        time.sleep(1.0)
        assert full["calls"] - calls <= 2  # backing off (1 s, 2 s, 4 s ...), not spinning
        full["on"] = False
        wait_for(lambda: d.writer.commit_failures == 0, 70, "a commit after the disk has room again")
        wait_for(lambda: run_query(db, "SELECT count(*) FROM events")[1][0][0] == 7, 10, "every event")
        n, s_in, s_out = truth(range(7))
        assert run_query(db, "SELECT count(*), sum(input_tokens), sum(output_tokens) FROM events")[1][0] == (n, s_in, s_out)
        assert d.status()["lag_s"] == 0.0
    finally:
        d.stop()
        d.shutdown()


def test_a_fifo_in_a_watched_tree_neither_blocks_the_daemon_nor_its_stop(tmp_path: Path, short_sock: Path) -> None:
    root = tmp_path / "projects"
    write_lines(root / "p" / "good.jsonl", "f", range(3))
    os.mkfifo(root / "p" / "trap.jsonl")
    db = Path(os.environ["LOGSCAN_DB"])
    d = Daemon(db, [root], debounce=0.01, health_interval=600, reconcile_interval=600)
    d.start()
    try:
        wait_for(lambda: d.initial_scan_done, 20, "the initial scan past the FIFO")
        write_lines(root / "p" / "good.jsonl", "f", range(3, 5))
        os.utime(root / "p" / "trap.jsonl")  # an event on the FIFO too
        wait_for(lambda: run_query(db, "SELECT count(*) FROM events")[1][0][0] == 5, 10, "new lines after the FIFO")
        assert run_query(db, "SELECT count(*) FROM problems WHERE reason LIKE 'not a regular file%'")[1][0][0] == 1
    finally:
        t0 = time.monotonic()
        d.stop()
        d.shutdown()
        assert time.monotonic() - t0 < 30  # used to wait 60 s for a reader blocked in open()


@pytest.mark.parametrize("db_first", [True, False], ids=["db-before-start", "db-created-later"])
def test_opencode_is_live_a_new_db_and_every_later_commit(tmp_path: Path, short_sock: Path, db_first: bool) -> None:
    """No storage/ folder (normal since OpenCode 1.2): the parent watch waiting for it sat on the
    folder that holds opencode.db and replaced that watch's mask, so -wal commits went unseen
    until the 120 s rescan. Here the rescan and health checks are off: only the watcher counts."""
    from test_parser_opencode import build_db

    oc = Path(os.environ["XDG_DATA_HOME"]) / "opencode"
    oc.mkdir(parents=True)
    db = Path(os.environ["LOGSCAN_DB"])
    writer = build_db(oc / "opencode.db", "db_main.sql", keep_open=True) if db_first else None
    d = Daemon(db, [oc / "opencode.db", oc / "storage"], debounce=0.01, health_interval=600, reconcile_interval=600)
    d.start()
    try:
        wait_for(lambda: d.initial_scan_done, 10, "the initial scan")

        def oc_events() -> int:
            return int(run_query(db, "SELECT count(*) FROM events WHERE tool = 'opencode'")[1][0][0])

        if writer is None:
            writer = build_db(oc / "opencode.db", "db_main.sql", keep_open=True)  # a new database appears
        first = wait_for(oc_events, 5, "the new opencode.db's rows")
        for i in range(3):  # and every row OpenCode commits afterwards (into the -wal)
            writer.execute(
                "INSERT INTO message VALUES (?, 'ses_main', ?, ?, ?)",
                [f"msg_live{i}", 1789000800000 + i, 1789000801000 + i,
                 '{"role":"assistant","time":{"created":1789000800000},"modelID":"gpt-5","providerID":"openai","tokens":{"input":3,"output":4,"cache":{"read":0,"write":0}}}'],
            )
            wait_for(lambda i=i: oc_events() >= first + i + 1, 10, f"live row {i}")
        (oc / "storage").mkdir()  # the legacy folder appearing later is watched too
        wait_for(lambda: oc / "storage" in d.watcher.root_watches, 5, "storage/ watched")
        writer.execute(
            "INSERT INTO message VALUES ('msg_after', 'ses_main', 1789000900000, 1789000901000, ?)",
            ['{"role":"assistant","time":{"created":1789000900000},"modelID":"gpt-5","providerID":"openai","tokens":{"input":5,"output":6,"cache":{"read":0,"write":0}}}'],
        )
        wait_for(lambda: oc_events() >= first + 4, 10, "a row after storage/ appeared")
    finally:
        if writer is not None:
            writer.close()
        d.stop()
        d.shutdown()


def test_an_idle_opencode_db_is_not_read_again_and_again(tmp_path: Path, short_sock: Path) -> None:
    """While OpenCode runs (its connection open, the database in WAL mode) reading the database
    opens and closes its -wal for writing, which inotify reports: the daemon re-read an idle
    opencode.db about once a second, forever (4 % of a core). Idle now means no reads and no
    commits, and a commit of OpenCode's is still seen."""
    from test_parser_opencode import build_db

    oc = Path(os.environ["XDG_DATA_HOME"]) / "opencode"
    oc.mkdir(parents=True)
    db = Path(os.environ["LOGSCAN_DB"])
    writer = build_db(oc / "opencode.db", "db_main.sql", keep_open=True)
    assert writer is not None
    d = Daemon(db, [oc / "opencode.db"], debounce=0.01, health_interval=600, reconcile_interval=600)
    d.start()
    try:
        wait_for(lambda: d.initial_scan_done, 10, "the initial scan")
        first = wait_for(lambda: run_query(db, "SELECT count(*) FROM events WHERE tool = 'opencode'")[1][0][0], 5, "the rows")
        time.sleep(1.5)  # the settle re-read of the first read, then nothing
        flushes = d.writer.flushes
        time.sleep(3.0)
        assert d.writer.flushes == flushes, f"{d.writer.flushes - flushes} commits while nothing changed"
        writer.execute(
            "INSERT INTO message VALUES ('msg_idle_then', 'ses_main', 1789000800000, 1789000801000, ?)",
            ['{"role":"assistant","time":{"created":1789000800000},"modelID":"gpt-5","providerID":"openai","tokens":{"input":3,"output":4,"cache":{"read":0,"write":0}}}'],
        )
        wait_for(lambda: run_query(db, "SELECT count(*) FROM events WHERE tool = 'opencode'")[1][0][0] == first + 1, 10, "the new row")
    finally:
        writer.close()
        d.stop()
        d.shutdown()


def test_inotify_watch_exhaustion_is_detected_and_polled(tmp_path: Path, short_sock: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """watchdog skips a subfolder whose watch fails (max_user_watches ran out) without a word.
    A budget of 3 watches is injected where watchdog adds them; the daemon notices the missing
    ones, polls instead, says so in status and doctor with the sysctl, and sees every file."""
    import errno

    from watchdog.observers import inotify_c

    root = tmp_path / "projects"
    for k in range(6):
        write_lines(root / f"p{k}" / "s.jsonl", f"w{k}", range(1))
    real = inotify_c.InotifyFD._get_or_create_watch
    made: list[bytes] = []

    def limited(self: object, path: bytes, mask: int) -> object:
        if len(made) >= 3 and path not in made:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")
        made.append(path)
        return real(self, path, mask)  # type: ignore[arg-type]

    monkeypatch.setattr(inotify_c.InotifyFD, "_get_or_create_watch", limited)
    db = Path(os.environ["LOGSCAN_DB"])
    d = Daemon(db, [root], debounce=0.01, poll_interval=0.3, health_interval=600, reconcile_interval=600)
    d.start()
    try:
        wait_for(lambda: d.initial_scan_done, 10, "the initial scan")
        st = d.status()
        assert st["observer"] == "polling" and st["observer_degraded"], st
        assert "max_user_watches" in st["observer_degraded_reason"] and "sysctl" in st["observer_degraded_reason"]
        write_lines(root / "p5" / "s.jsonl", "w5", range(1, 3))  # a folder that had no watch
        wait_for(lambda: run_query(db, "SELECT count(*) FROM events")[1][0][0] == 8, 10, "a write in an unwatched folder")
        from logscan.service.doctor import check_daemon

        warn = [f for f in check_daemon(db) if f.check == "watching"]
        assert warn and warn[0].status == "warn" and "sysctl fs.inotify.max_user_watches" in warn[0].todo
    finally:
        d.stop()
        d.shutdown()
