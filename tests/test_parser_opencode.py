"""OpenCode: the SQLite database (read in place, read-only, WAL included) and the legacy JSON
store, against totals derived by hand from the fixtures (tests/fixtures/opencode/).

No real opencode.db is public, so the databases are built here from the SQL fixtures
(schema_v1.2.sql + db_*.sql), in WAL mode as OpenCode runs them. Each expected number below
restates the numbers written in the fixture's own comments and JSON; none was produced by
running the parser.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from logscan.cli import cli
from logscan.ingest.ingestor import Ingestor, Summary
from logscan.sources.locations import default_roots
from logscan.models import Event, Problem, Record, make_id
from logscan.sources.parsers import get_parser, parser_for
from logscan.sources.parsers.opencode import LOOKBACK_MS, OpenCodeParser
from logscan.store.store import Store

FIX = Path(__file__).parent / "fixtures" / "opencode"
PARSER = OpenCodeParser()

# (input, output, cache read, cache write 5m, cache write 1h, reasoning) per message, by hand
# from db_main.sql: msg_a2 is the sum of its three step-finish parts, not its message.tokens.
MAIN_TRUTH = {
    "msg_a1": (120, 300, 5000, 800, 0, 0),
    "msg_a2": (1000 + 300 + 50, 200 + 150 + 400, 0 + 900 + 1200, 0, 0, 50 + 20 + 100),
    "msg_a4": (40, 60, 0, 0, 0, 0),
    "msg_a5": (10, 20, 100, 500, 200, 0),
    "msg_a6": (7, 8, 0, 0, 0, 0),
}
# by hand from legacy/storage and real/SYNTHETIC_tokscale_msg_test001.json
LEGACY_TRUTH = {
    "msg_l1": (200 + 20, 50 + 90, 0 + 3000, 2500 + 0, 0, 0),
    "msg_l2": (400, 100, 0, 0, 0, 30),
    "msg_both": (15 + 5, 30 + 70, 3500 + 4000, 400 + 100, 0, 0),
    "msg_test001": (1000, 500, 200, 100, 0, 0),
}
COLS = "input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens"


def build_db(path: Path, *scripts: str, keep_open: bool = False) -> sqlite3.Connection | None:
    """A WAL-mode database from SQL fixture files (the schema first). With keep_open the writer
    stays connected and never checkpoints, so later commits live only in the -wal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    assert con.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    if keep_open:
        con.execute("PRAGMA wal_autocheckpoint=0")
    for name in ("schema_v1.2.sql", *scripts):
        con.executescript((FIX / name).read_text())
    if keep_open:
        return con
    con.close()
    return None


def data_dir(home: Path) -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "opencode"


def ingest(db: Path, *paths: Path) -> Summary:
    with Store.open(db) as store:
        return Ingestor(store).run(list(paths))


def events(db: Path) -> dict[str, tuple[Any, ...]]:
    """Tokens per message (the sum of its events: one per billed step)."""
    sums = ", ".join(f"sum({c.strip()})::BIGINT" for c in COLS.split(","))
    with Store.open(db) as store:
        _, rows = store.query(f"SELECT message_id, {sums} FROM events WHERE tool = 'opencode' GROUP BY 1 ORDER BY 1", guard=False)
    return {r[0]: tuple(r[1:]) for r in rows}


def calls(db: Path) -> dict[str, int]:
    """Events (billed model calls) per message."""
    with Store.open(db) as store:
        _, rows = store.query("SELECT message_id, count(*) FROM events WHERE tool = 'opencode' GROUP BY 1 ORDER BY 1", guard=False)
    return dict(rows)


def event_rows(db: Path) -> list[dict[str, Any]]:
    with Store.open(db) as store:
        cols, rows = store.query("SELECT * FROM events WHERE tool = 'opencode' ORDER BY message_id", guard=False)
    return [dict(zip(cols, r, strict=True)) for r in rows]


def problems(db: Path) -> list[tuple[Any, ...]]:
    with Store.open(db) as store:
        _, rows = store.query("SELECT path, kind, reason FROM problems ORDER BY 1, 2", guard=False)
    return rows


def legacy_tree(root: Path) -> Path:
    shutil.copytree(FIX / "legacy" / "storage", root / "storage")
    dst = root / "storage" / "message" / "test-project"
    dst.mkdir(parents=True)
    shutil.copy(FIX / "real" / "SYNTHETIC_tokscale_msg_test001.json", dst / "msg_test001.json")
    return root / "storage"


def now_ms(con: sqlite3.Connection, msg: str) -> int:
    return int(con.execute("SELECT time_updated FROM message WHERE id = ?", [msg]).fetchone()[0])


# -- database ------------------------------------------------------------------------------


def test_db_totals_equal_hand_truth(isolated: Path, db: Path) -> None:
    oc = data_dir(isolated)
    build_db(oc / "opencode.db", "db_main.sql", "v1.16_session_usage.sql")
    s = ingest(db, oc)
    # msg_u1 (user) and msg_a3 (zero-token first write) are not events; the huge v1.16
    # session tokens_* columns are never added.
    assert events(db) == MAIN_TRUTH
    # One event per billed model call: msg_a2's three step-finish parts are three calls; messages
    # without parts (msg_a4, msg_a6) are one call each.
    assert calls(db) == {"msg_a1": 1, "msg_a2": 3, "msg_a4": 1, "msg_a5": 1, "msg_a6": 1}
    assert s.new_events == 7 and s.new_problems == 0
    assert sum(r["total_tokens"] for r in event_rows(db)) == (1527 + 1138 + 7200 + 1300 + 200)  # reasoning excluded
    rows = {r["message_id"]: r for r in event_rows(db)}
    assert {m: (r["provider"], r["model"]) for m, r in rows.items()} == {
        "msg_a1": ("anthropic", "claude-sonnet-4-5"),
        "msg_a2": ("openai", "gpt-5"),
        "msg_a4": ("openrouter", "anthropic/claude-haiku-4.5"),
        "msg_a5": ("anthropic", "claude-opus-4-1"),
        "msg_a6": ("openai", "gpt-4.1"),  # no providerID: inferred from the model
    }
    assert [m for m, r in rows.items() if r["is_sidechain"]] == ["msg_a4"]  # ses_sub has a parent_id
    assert rows["msg_a1"]["project"] == "/home/u/proj/src"  # path.cwd
    assert rows["msg_a6"]["project"] == "/home/u/proj"  # no path: the session's directory
    assert {r["session_id"] for r in rows.values()} == {"ses_main", "ses_sub"}
    assert rows["msg_a1"]["event_id"] == make_id("opencode", "msg_a1")
    assert rows["msg_a2"]["output_lower_bound"] and not rows["msg_a1"]["output_lower_bound"]  # reasoning > 0
    assert str(rows["msg_a1"]["ts"]) == "2026-09-10 00:26:42"  # time.created 1789000002000 ms (date -u -d @1789000002)


def test_reruns_and_restarts_add_nothing(isolated: Path, db: Path) -> None:
    oc = data_dir(isolated)
    build_db(oc / "opencode.db", "db_main.sql")
    ingest(db, oc)
    again = ingest(db, oc)  # a new Ingestor: a restart
    assert again.new_events == 0 and again.updated_events == 0 and again.files_read == 0
    assert events(db) == MAIN_TRUTH
    with Store.open(db) as store:
        (state,) = [json.loads(f.state) for p, f in store.file_states("opencode").items() if p.endswith(".db")]
    assert state == {"watermark": 1789000600500}  # msg_a6's time_updated, the newest row


def test_db_file_is_never_written(isolated: Path, db: Path) -> None:
    oc = data_dir(isolated)
    path = oc / "opencode.db"
    build_db(path, "db_main.sql")
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, path.stat().st_size)
    ingest(db, oc)
    ingest(db, path)
    after = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, path.stat().st_size)
    assert after == before


def test_rows_only_in_the_wal_are_seen_and_a_wal_commit_triggers_a_read(isolated: Path, db: Path) -> None:
    oc = data_dir(isolated)
    path = oc / "opencode.db"
    writer = build_db(path, "db_main.sql", keep_open=True)
    assert writer is not None
    # The trap: a copy of opencode.db without its -wal has none of these rows.
    copy = isolated / "copy.db"
    shutil.copy(path, copy)
    assert sqlite3.connect(copy).execute("SELECT name FROM sqlite_master WHERE name = 'message'").fetchall() == []
    ingest(db, oc)
    assert events(db) == MAIN_TRUTH  # read in place: the -wal is seen

    db_stat = path.stat()
    writer.execute(
        "INSERT INTO message VALUES ('msg_a7', 'ses_main', 1789000700000, 1789000701000, ?)",
        ['{"role":"assistant","time":{"created":1789000700000},"modelID":"gpt-5","providerID":"openai","tokens":{"input":3,"output":4,"cache":{"read":0,"write":0}}}'],
    )
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (db_stat.st_size, db_stat.st_mtime_ns)  # only the -wal changed
    s = ingest(db, oc)
    assert s.files_read == 1 and s.new_events == 1
    assert events(db)["msg_a7"] == (3, 4, 0, 0, 0, 0)
    writer.close()


def test_updated_row_is_updated_not_duplicated(isolated: Path, db: Path) -> None:
    oc = data_dir(isolated)
    w = build_db(oc / "opencode.db", "db_main.sql", keep_open=True)
    assert w is not None
    ingest(db, oc)
    # msg_a1 takes a second step after it was ingested: a new step-finish part and the message
    # row rewritten in place with that step's tokens (as processor.ts does).
    w.execute(
        "INSERT INTO part VALUES ('prt_a1_3', 'msg_a1', 'ses_main', 1789000800000, 1789000800000, ?)",
        ['{"type":"step-finish","cost":0.01,"tokens":{"input":11,"output":22,"reasoning":0,"cache":{"read":6000,"write":33}}}'],
    )
    w.execute(
        "UPDATE message SET time_updated = 1789000800001, data = json_set(data, '$.tokens', json(?)) WHERE id = 'msg_a1'",
        ['{"input":11,"output":22,"reasoning":0,"cache":{"read":6000,"write":33}}'],
    )
    s = ingest(db, oc)
    assert s.new_events == 1 and s.updated_events == 0  # the new step is a new call; the first is unchanged
    got = events(db)
    assert len(got) == 5 and calls(db)["msg_a1"] == 2
    assert got["msg_a1"] == (120 + 11, 300 + 22, 5000 + 6000, 800 + 33, 0, 0)  # both steps, each once
    w.close()


def test_zero_first_write_becomes_an_event_when_tokens_arrive(isolated: Path, db: Path) -> None:
    oc = data_dir(isolated)
    w = build_db(oc / "opencode.db", "db_main.sql", keep_open=True)
    assert w is not None
    ingest(db, oc)
    assert "msg_a3" not in events(db)
    # msg_a3's first step finishes: its part, then its row, are written.
    w.execute(
        "INSERT INTO part VALUES ('prt_a3_1', 'msg_a3', 'ses_main', 1789000850000, 1789000850000, ?)",
        ['{"type":"step-finish","tokens":{"input":9,"output":19,"reasoning":0,"cache":{"read":29,"write":0}}}'],
    )
    s = ingest(db, oc)  # the part is seen before the message row changes
    assert s.new_events == 1 and events(db)["msg_a3"] == (9, 19, 29, 0, 0, 0)
    w.execute(
        "UPDATE message SET time_updated = 1789000850001, data = json_set(data, '$.tokens.input', 9, '$.tokens.output', 19, '$.tokens.cache.read', 29) WHERE id = 'msg_a3'"
    )
    s = ingest(db, oc)  # the message row now repeats the step: not counted again
    assert s.new_events == 0 and events(db)["msg_a3"] == (9, 19, 29, 0, 0, 0)
    w.close()


def test_message_row_first_then_its_steps(isolated: Path, db: Path) -> None:
    """A message whose row carries step 1's tokens is ingested before any step-finish part
    exists; when the parts arrive the event becomes their sum, never row + parts."""
    oc = data_dir(isolated)
    w = build_db(oc / "opencode.db", "db_main.sql", keep_open=True)
    assert w is not None
    w.execute(
        "INSERT INTO message VALUES ('msg_a8', 'ses_main', 1789000900000, 1789000901000, ?)",
        ['{"role":"assistant","time":{"created":1789000900000},"modelID":"gpt-5","providerID":"openai","tokens":{"input":100,"output":10,"reasoning":0,"cache":{"read":0,"write":0}}}'],
    )
    ingest(db, oc)
    assert events(db)["msg_a8"] == (100, 10, 0, 0, 0, 0)
    for pid, t, tokens in (
        ("prt_a8_1", 1789000902000, '{"input":100,"output":10,"reasoning":0,"cache":{"read":0,"write":0}}'),
        ("prt_a8_2", 1789000903000, '{"input":5,"output":50,"reasoning":0,"cache":{"read":100,"write":0}}'),
    ):
        w.execute("INSERT INTO part VALUES (?, 'msg_a8', 'ses_main', ?, ?, ?)", [pid, t, t, f'{{"type":"step-finish","tokens":{tokens}}}'])
    ingest(db, oc)
    assert events(db)["msg_a8"] == (105, 60, 100, 0, 0, 0)
    assert len(events(db)) == 6
    w.close()


def test_late_commit_below_the_watermark_is_seen(isolated: Path, db: Path) -> None:
    """A writer stamps time_updated before it gets the lock: a row can commit with a time a
    little older than rows already read. The look-back window still reads it."""
    oc = data_dir(isolated)
    w = build_db(oc / "opencode.db", "db_main.sql", keep_open=True)
    assert w is not None
    ingest(db, oc)
    late = 1789000600500 - LOOKBACK_MS // 2
    w.execute(
        "INSERT INTO message VALUES ('msg_late', 'ses_main', ?, ?, ?)",
        [late, late, '{"role":"assistant","time":{"created":1789000000500},"modelID":"gpt-5","providerID":"openai","tokens":{"input":1,"output":2}}'],
    )
    ingest(db, oc)
    assert events(db)["msg_late"] == (1, 2, 0, 0, 0, 0)
    w.close()


def test_bad_rows_become_problems(isolated: Path, db: Path) -> None:
    oc = data_dir(isolated)
    w = build_db(oc / "opencode.db", "db_main.sql", keep_open=True)
    assert w is not None
    w.execute("INSERT INTO message VALUES ('msg_bad', 'ses_main', 1789000950000, 1789000950000, '{\"role\":\"assistant\",')")
    w.execute(
        "INSERT INTO message VALUES ('msg_nomodel', 'ses_main', 1789000960000, 1789000960000, ?)",
        ['{"role":"assistant","time":{"created":1789000960000},"tokens":{"input":1,"output":"SECRET-TEXT"}}'],
    )
    s = ingest(db, oc)
    assert events(db) == MAIN_TRUTH
    probs = problems(db)
    assert s.new_problems == 2 and {k for _, k, _ in probs} == {"invalid-json", "schema"}
    assert all("SECRET" not in reason for _, _, reason in probs)
    w.close()


def test_not_an_opencode_database_is_a_problem(isolated: Path, db: Path) -> None:
    path = data_dir(isolated) / "opencode.db"
    path.parent.mkdir(parents=True)
    sqlite3.connect(path).executescript("CREATE TABLE other(x); INSERT INTO other VALUES (1);")
    s = ingest(db, path)
    assert s.new_events == 0 and [k for _, k, _ in problems(db)] == ["schema"]


def test_channel_database_is_read(isolated: Path, db: Path) -> None:
    oc = data_dir(isolated)
    build_db(oc / "opencode-beta.db", "db_main.sql")
    assert [p.name for p in default_roots() if p.parent == oc] == ["opencode.db", "opencode-beta.db", "storage"]
    ingest(db, *default_roots())
    assert events(db) == MAIN_TRUTH


# -- legacy JSON and both stores -------------------------------------------------------------


def test_legacy_tree_totals_equal_hand_truth(isolated: Path, db: Path) -> None:
    storage = legacy_tree(data_dir(isolated))
    s = ingest(db, storage)
    assert events(db) == LEGACY_TRUTH
    assert s.new_problems == 0
    rows = {r["message_id"]: r for r in event_rows(db)}
    assert [m for m, r in rows.items() if r["is_sidechain"]] == ["msg_l2"]  # ses_leg2.json has a parentID
    assert rows["msg_l2"]["project"] == "/home/u/legacy"  # from the session file's directory
    assert rows["msg_l1"]["session_id"] == "ses_leg1"
    assert (rows["msg_test001"]["provider"], rows["msg_test001"]["model"]) == ("anthropic", "claude-3-5-sonnet-20241022")
    again = ingest(db, storage)
    assert again.new_events == 0 and again.updated_events == 0 and again.files_read == 0


def test_legacy_part_written_after_its_message_updates_the_event(isolated: Path, db: Path) -> None:
    storage = legacy_tree(data_dir(isolated))
    extra = storage / "part" / "msg_l1" / "prt_l1e.json"
    ingest(db, storage)
    extra.write_text('{"id":"prt_l1e","sessionID":"ses_leg1","messageID":"msg_l1","type":"step-finish","tokens":{"input":1,"output":2,"reasoning":0,"cache":{"read":3,"write":4}}}')
    s = ingest(db, storage)
    assert s.new_events == 1 and s.updated_events == 0
    assert events(db)["msg_l1"] == (220 + 1, 140 + 2, 3000 + 3, 2500 + 4, 0, 0) and calls(db)["msg_l1"] == 3


def test_message_in_both_stores_counts_once(isolated: Path, db: Path) -> None:
    oc = data_dir(isolated)
    legacy_tree(oc)
    build_db(oc / "opencode.db", "db_both_stores.sql")
    s = ingest(db, *default_roots())
    assert events(db) == LEGACY_TRUTH  # msg_both's two steps once each, not once per store
    assert calls(db) == {"msg_l1": 2, "msg_l2": 1, "msg_both": 2, "msg_test001": 1}
    assert s.new_events == 6


# -- parser, detection, CLI --------------------------------------------------------------------


def test_parse_is_pure_and_survives_garbage() -> None:
    state: dict[str, Any] = {}
    out = list(
        PARSER.parse(
            [Record("/x/opencode.db", 5, b"\xff\x00"), Record("/x/opencode.db", 6, b"[]"), Record("/x/opencode.db", 7, b'{"message":{"id":"m"}}')],
            state,
        )
    )
    assert all(isinstance(x, Problem) for x in out) and len(out) == 3
    rec = {"store": "db", "message": {"id": "m1", "session_id": "s", "time_updated": 42, "data": json.dumps(
        {"role": "assistant", "time": {"created": 1}, "modelID": "m", "providerID": "p", "tokens": {"input": 1, "output": 1}})}, "steps": []}
    (ev,) = PARSER.parse([Record("/x/opencode.db", 42, json.dumps(rec).encode())], state)
    assert isinstance(ev, Event) and state == {"watermark": 42}


def test_detection_and_roots(isolated: Path) -> None:
    oc = data_dir(isolated)
    assert get_parser("opencode").default_roots()[-1] == oc / "storage"
    # In WAL mode the schema may be only in the -wal: the file name and the SQLite header decide.
    assert getattr(parser_for(str(oc / "opencode.db"), b"SQLite format 3\x00" + b"\x00" * 80), "name", None) == "opencode"
    assert parser_for("/tmp/other.db", b"SQLite format 3\x00") is None  # any SQLite file is not ours
    head = (FIX / "legacy/storage/message/ses_leg1/msg_l1.json").read_bytes()
    assert parser_for("/backup/storage/message/ses_leg1/msg_l1.json", head).name == "opencode"
    assert parser_for("/somewhere/msg.json", head).name == "opencode"  # by content alone


def test_cli_backfill_end_to_end(isolated: Path) -> None:
    oc = data_dir(isolated)
    legacy_tree(oc)
    build_db(oc / "opencode.db", "db_main.sql")
    runner = CliRunner()
    res = runner.invoke(cli, ["backfill", str(oc), "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["new_events"] == 7 + 6 and out["new_problems"] == 0  # billed calls: steps, or messages without parts
    res = runner.invoke(cli, ["query", "SELECT sum(input_tokens), sum(output_tokens) FROM events WHERE tool = 'opencode'", "-f", "json"])
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.stdout)
    assert list(row.values()) == [1527 + 1640, 1138 + 840]  # db_main + legacy, by hand
    res = runner.invoke(cli, ["backfill", str(oc), "--json"], catch_exceptions=False)
    assert json.loads(res.stdout)["new_events"] == 0


@pytest.mark.parametrize("name", ["opencode.db", "opencode-dev.db"])
def test_db_names_match_patterns(name: str) -> None:
    from logscan.sources.parsers.base import matches

    assert matches(f"/home/u/.local/share/opencode/{name}", PARSER.patterns)


@pytest.mark.parametrize("pid, model, provider", [("zai-coding-plan", "glm-4.6", "zai"), ("opencode", "claude-sonnet-4-5", "anthropic"),
                                                   ("kimi-for-coding", "kimi-k2-0905-preview", "moonshotai")])
def test_coding_plan_and_gateway_provider_ids_are_priced(isolated: Path, db: Path, pid: str, model: str, provider: str) -> None:
    """OpenCode's providerID names the plan or gateway (zai-coding-plan, OpenCode Zen): the
    event gets the provider whose prices apply, and a price (API-equivalent), not unknown_provider."""
    path = data_dir(isolated) / "opencode.db"
    build_db(path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("INSERT INTO project VALUES ('p', '/home/u/proj', 1789000000000, 1789000000000)")
    con.execute("INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated) "
                "VALUES ('ses_z', 'p', NULL, 's', '/home/u/proj', 't', '1.2.0', 1789000000000, 1789000000000)")
    data = {"role": "assistant", "time": {"created": 1789000001000}, "modelID": model, "providerID": pid,
            "tokens": {"input": 1000, "output": 200, "cache": {"read": 0, "write": 0}}}
    con.execute("INSERT INTO message VALUES ('msg_z', 'ses_z', 1789000001000, 1789000002000, ?)", [json.dumps(data)])
    con.close()
    ingest(db, path)
    (row,) = event_rows(db)
    assert row["provider"] == provider and row["price_status"] == "ok" and row["cost_usd"] and row["cost_usd"] > 0, row


def test_message_in_both_stores_counts_once_when_db_times_disagree_with_ids(isolated: Path, db: Path) -> None:
    """The database stamps a rewritten part with a later ``time_updated``; the legacy files have
    no such time. The first step must be the same call in both stores (by part id), or the
    message's two steps become three events."""
    oc = data_dir(isolated)
    legacy_tree(oc)
    w = build_db(oc / "opencode.db", "db_both_stores.sql", keep_open=True)
    assert w is not None
    w.execute("UPDATE part SET time_updated = 1760000709000 WHERE id = 'prt_b1'")  # now after prt_b2
    w.commit()
    ingest(db, oc)
    assert events(db) == LEGACY_TRUTH
    assert calls(db)["msg_both"] == 2
    w.close()


def test_first_read_in_one_pass_yields_what_the_watermarked_read_yields(isolated: Path, tmp_path: Path) -> None:
    """A first read (no watermark) takes every step-finish part in one pass over the part table;
    a read with a watermark finds the touched messages and fetches their parts batch by batch.
    From a watermark older than every row both must hand the parser the same records, in the
    same order (the order the watermark advances in), and so the same events."""
    from logscan.sources.parsers.opencode import read_db

    path = tmp_path / "opencode.db"
    build_db(path, "db_main.sql", "v1.16_session_usage.sql")
    first_state: dict[str, Any] = {}
    first = list(read_db(str(path), first_state))
    old_state: dict[str, Any] = {"watermark": 1}  # older than every row: every message is touched
    batched = list(read_db(str(path), old_state))
    assert [(r.pos, r.obj) for r in first] == [(r.pos, r.obj) for r in batched]
    assert first_state["rows_total"] == old_state["rows_total"] == len(first) > 5
    assert [r.pos for r in first] == sorted(r.pos for r in first)  # watermark order
    ev_first = [e for e in PARSER.parse(first, {}) if isinstance(e, Event)]
    ev_batched = [e for e in PARSER.parse(batched, {}) if isinstance(e, Event)]
    assert ev_first == ev_batched and len(ev_first) == 7
    # The records are assembled in memory; the same message given as JSON parses the same.
    as_json = [Record(r.path, r.pos, json.dumps(r.obj, default=lambda b: b.decode()).encode()) for r in first]
    assert [e for e in PARSER.parse(as_json, {}) if isinstance(e, Event)] == ev_first
