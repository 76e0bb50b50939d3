"""Gemini CLI parsers: every trap of FORMATS.md section 5, against hand-derived truth.

Token truth is derived by hand from the fixture values (tests/fixtures/gemini/README.md lists
the files): input_tokens = input - cached + tool, cache_read = cached, output = output +
thoughts, reasoning = thoughts, last write per (sessionId, message id).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscan.ingest.ingestor import Ingestor
from logscan.models import Event, Problem, Record
from logscan.sources.parsers import PARSERS, parser_for
from logscan.sources.parsers.gemini import gemini_roots, resolve_project
from logscan.sources.reader import records
from logscan.store.store import Store

FIX = Path(__file__).parent / "fixtures" / "gemini"
HOME = FIX / "home" / ".gemini"
TMP = HOME / "tmp"
WEB_HASH = "fd20db9cf4309815aebd3729173edf8a78abb152c57b1de8cb602a3c8b959627"  # sha256("/home/dev/webapp")
S1_HASH = TMP / WEB_HASH / "chats" / "session-2026-05-01T10-00-aaaa1111.jsonl"
S1_SLUG = TMP / "webapp" / "chats" / "session-2026-05-01T10-00-aaaa1111.jsonl"
S2 = TMP / "webapp" / "chats" / "session-2026-05-02T09-30-bbbb2222.jsonl"
S3 = TMP / "webapp" / "chats" / "session-2026-05-03T14-00-cccc3333.jsonl"
S4 = TMP / "webapp" / "chats" / "session-2026-05-04T08-15-dddd4444.jsonl"
S5 = TMP / "webapp" / "chats" / "dddd4444-0000-4000-8000-000000000004" / "eeee5555-0000-4000-8000-000000000005.jsonl"
S6 = TMP / "legacy-tool" / "chats" / "session-2026-04-20T16-45-ffff6666.json"
S7_JSON = TMP / "legacy-tool" / "chats" / "session-2026-04-21T11-00-9999aaaa.json"
S7_JSONL = TMP / "legacy-tool" / "chats" / "session-2026-04-21T11-00-9999aaaa.jsonl"
S8 = TMP / "webapp" / "chats" / "session-2026-05-05T12-00-8888bbbb.jsonl"
REAL = FIX / "real" / "vibecodingtracker_gemini_session.jsonl"

NEW = PARSERS["gemini"]
LEGACY = PARSERS["gemini-legacy"]


def parse(path: Path, state: dict[str, Any] | None = None) -> list[Event | Problem]:
    """One read of a whole file, the way the ingest feeds each reader."""
    parser = LEGACY if path.suffix == ".json" else NEW
    if state is None:
        state = parser.initial_state(str(path))
    data = path.read_bytes()
    recs = [Record(str(path), 0, data)] if parser.reader == "json" else list(records(str(path), 0, data))
    return list(parser.parse(recs, state))


def merge(items: list[Event | Problem]) -> dict[int, Event]:
    """The store's rule: by event_id, the higher rank wins, ties keep the first seen."""
    out: dict[int, Event] = {}
    for ev in items:
        if isinstance(ev, Event) and (ev.event_id not in out or ev.rank > out[ev.event_id].rank):
            out[ev.event_id] = ev
    return out


def by_msg(items: list[Event | Problem]) -> dict[str, tuple[int, int, int, int]]:
    """message id -> (input, cache_read, output, reasoning)."""
    return {
        e.message_id: (e.input_tokens, e.cache_read_tokens, e.output_tokens, e.reasoning_tokens)  # type: ignore[misc]
        for e in merge(items).values()
    }


def problems(items: list[Event | Problem]) -> list[Problem]:
    return [p for p in items if isinstance(p, Problem)]


# -- the real sample --------------------------------------------------------------------------


def test_real_sample_totals() -> None:
    # Truth from jq, independent of the parser:
    #   jq -s '[.[]|select(.type=="gemini" and .tokens!=null)]|group_by(.id)|map(last.tokens)
    #          |{n:length, in:(map(.input-.cached+.tool)|add), cached:(map(.cached)|add),
    #            out:(map(.output+.thoughts)|add), thoughts:(map(.thoughts)|add)}'
    # -> n 6, in 153635, cached 48951, out 4293, thoughts 2141; 11 gemini lines in all
    # (5 ids written twice with identical tokens, the second copy adding toolCalls).
    items = parse(REAL, {})
    assert not problems(items)
    evs = list(merge(items).values())
    assert len(evs) == 6
    assert sum(e.input_tokens for e in evs) == 153635
    assert sum(e.cache_read_tokens for e in evs) == 48951
    assert sum(e.output_tokens for e in evs) == 4293
    assert sum(e.reasoning_tokens for e in evs) == 2141
    assert sum(e.copies for e in evs) == 11
    assert {e.model for e in evs} == {"gemini-3-flash-preview", "gemini-3.1-pro-preview"}
    assert {e.provider for e in evs} == {"google"}
    assert {e.tool for e in evs} == {"gemini"}
    assert {e.session_id for e in evs} == {"0ab84937-9fe7-4284-986a-33c832af0b6a"}
    # The record in FORMATS.md section 5: input 13906, cached 0, output 185, thoughts 306.
    first = next(e for e in evs if e.message_id == "52e62e67-5d6b-4a2c-b12d-11b87fe3e4a4")
    assert (first.input_tokens, first.output_tokens, first.reasoning_tokens) == (13906, 185 + 306, 306)
    assert first.ts.isoformat() == "2026-04-23T12:53:11.257000+00:00"


# -- one fixture per trap -----------------------------------------------------------------------


def test_hash_and_slug_copies_count_once_and_the_last_write_wins_in_either_order() -> None:
    # s1-g1: 5000-1000+0 = 4000 in, 1000 cached, 100+50 out.  s1-g2's later write (slug copy
    # only): 6000-4000+12 = 2012 in, 4000 cached, 260+40 = 300 out.  s1-g3: 7000 in, 300+100 out.
    truth = {"s1-g1": (4000, 1000, 150, 50), "s1-g2": (2012, 4000, 300, 40), "s1-g3": (7000, 0, 400, 100)}
    hash_copy, slug_copy = parse(S1_HASH), parse(S1_SLUG)
    assert by_msg(hash_copy + slug_copy) == truth
    assert by_msg(slug_copy + hash_copy) == truth
    # The hash copy alone holds only the first write of s1-g2: 6000-4000 = 2000 in, 200 out.
    assert by_msg(hash_copy)["s1-g2"] == (2000, 4000, 200, 0)
    # Both directories name the same project.
    assert {e.project for e in merge(hash_copy + slug_copy).values()} == {"/home/dev/webapp"}
    assert {e.project for e in merge(hash_copy).values()} == {"/home/dev/webapp"}


def test_project_resolution(tmp_path: Path) -> None:
    assert resolve_project(TMP / "webapp") == "/home/dev/webapp"  # .project_root
    assert resolve_project(TMP / WEB_HASH) == "/home/dev/webapp"  # sha256 of a projects.json path
    assert resolve_project(TMP / "legacy-tool") == "/home/dev/legacy-tool"  # slug in projects.json
    assert resolve_project(TMP / ("0" * 64)) is None  # registered nowhere
    bad = tmp_path / ".gemini"
    (bad / "tmp" / "x").mkdir(parents=True)
    (bad / "projects.json").write_text("{not json")
    assert resolve_project(bad / "tmp" / "x") is None  # malformed registry: unknown, no error


def test_null_token_first_write_is_not_an_event() -> None:
    # s2-g1 is written with tokens null, then with 3000/80/0/20; s2-g2's tokens never arrive.
    items = parse(S2)
    assert not problems(items)
    assert by_msg(items) == {"s2-g1": (3000, 0, 100, 20)}
    assert merge(items)[next(iter(merge(items)))].copies == 1  # the null write is not a copy of usage


def test_set_records_and_checkpoint_restatements() -> None:
    # s3-g1 500 of 2000 cached -> 1500 in, out 50.  s3-g2 -> 2500-1500 = 1000 in, 70+30 out; its
    # restatement in $set.messages has tokens null and changes nothing.  s3-g3 -> 2800-2000+5 = 805.
    items = parse(S3)
    assert not problems(items)
    assert by_msg(items) == {"s3-g1": (1500, 500, 50, 0), "s3-g2": (1000, 1500, 100, 30), "s3-g3": (805, 2000, 100, 10)}


def test_rewound_messages_still_count() -> None:
    # s4-g2 is removed from the conversation by {"$rewindTo": "s4-u2"} but was billed.
    items = parse(S4)
    assert by_msg(items) == {"s4-g1": (1000, 0, 40, 0), "s4-g2": (700, 800, 75, 15), "s4-g3": (800, 800, 50, 5)}


def test_subagent_chat_is_a_sidechain_of_its_parent_session() -> None:
    # s5-g1: 4000-1000+30 = 3030 in, 120+60 out (written twice); s5-g2: 4500-3000 = 1500 in.
    items = parse(S5)
    assert by_msg(items) == {"s5-g1": (3030, 1000, 180, 60), "s5-g2": (1500, 3000, 200, 0)}
    for e in merge(items).values():
        assert e.is_sidechain
        assert e.session_id == "dddd4444-0000-4000-8000-000000000004"
        assert e.agent_id == "eeee5555-0000-4000-8000-000000000005"
        assert e.project == "/home/dev/webapp"


def test_legacy_whole_file_json() -> None:
    # s6-g1: 8000-2000 = 6000 in, 300+200 out; s6-g2 tokens null; s6-g3: 9000-6000 = 3000 in.
    items = parse(S6)
    assert not problems(items)
    assert by_msg(items) == {"s6-g1": (6000, 2000, 500, 200), "s6-g3": (3000, 6000, 150, 0)}
    assert {e.tool for e in merge(items).values()} == {"gemini"}
    assert {e.project for e in merge(items).values()} == {"/home/dev/legacy-tool"}


def test_legacy_json_next_to_its_jsonl_conversion_counts_once() -> None:
    # s7-g1 1200 in, 30+10 out; s7-g2 1400-1000 = 400 in; s7-g3 (only in the .jsonl, first
    # written with tokens null) 1700-1200 = 500 in, 25+5 out.
    truth = {"s7-g1": (1200, 0, 40, 10), "s7-g2": (400, 1000, 35, 0), "s7-g3": (500, 1200, 30, 5)}
    j, jl = parse(S7_JSON), parse(S7_JSONL)
    assert by_msg(j + jl) == truth
    assert by_msg(jl + j) == truth
    assert len(merge(j + jl)) == 3


def test_bad_lines_become_problems_without_their_content() -> None:
    items = parse(S8)
    kinds = sorted((p.kind, p.offset) for p in problems(items))
    lines = S8.read_bytes().split(b"\n")
    offsets = [sum(len(x) + 1 for x in lines[:i]) for i in range(len(lines))]
    # line 2 broken JSON, 3 an array, 4 cached (500) > input (100), 5 tokens without a model
    assert kinds == sorted([("invalid-json", offsets[1]), ("schema", offsets[2]), ("schema", offsets[3]), ("schema", offsets[4])])
    for p in problems(items):
        assert "s8-" not in p.reason and "prompt" not in p.reason
    assert by_msg(items) == {"s8-g3": (500, 100, 20, 0)}  # 600-100 in, 20 out


def test_input_already_net_of_cache_is_not_subtracted_twice() -> None:
    # total = input + cached + output + thoughts + tool (1000+400+50+0+0) and != input + output:
    # the writer reported input without the cached part.
    line = {"id": "m", "timestamp": "2026-01-01T00:00:00Z", "type": "gemini", "model": "gemini-2.5-flash",
            "tokens": {"input": 1000, "output": 50, "cached": 400, "thoughts": 0, "tool": 0, "total": 1450}}
    state = {"sid": "s"}
    (ev,) = NEW.parse([Record("f", 0, json.dumps(line).encode())], state)
    assert isinstance(ev, Event)
    assert (ev.input_tokens, ev.cache_read_tokens) == (1000, 400)


def test_detection_and_contract(tmp_path: Path) -> None:
    assert parser_for(str(S1_SLUG), S1_SLUG.read_bytes()[:65536]) is NEW
    assert parser_for(str(S5), S5.read_bytes()[:65536]) is NEW
    assert parser_for(str(S6), S6.read_bytes()[:65536]) is LEGACY
    assert parser_for(str(REAL), REAL.read_bytes()[:65536]) is NEW  # by content alone
    # Other JSON files gemini-cli keeps are not sessions.
    logs = tmp_path / ".gemini" / "tmp" / "x" / "logs.json"
    assert parser_for(str(logs), b'[{"sessionId":"s","messageId":0,"type":"user","message":"hi"}]') is None
    assert parser_for(str(HOME / "projects.json"), (HOME / "projects.json").read_bytes()) is None
    for p in (NEW, LEGACY):
        assert PARSERS[p.name] is p
        assert 0.0 <= p.sniff(b"") <= 1.0 and 0.0 <= p.sniff(b"\x00junk") <= 1.0
    assert {PARSERS["claude-code"].sniff(S1_SLUG.read_bytes()[:65536])} == {0.0}


def test_gemini_cli_home_replaces_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated: Path) -> None:
    assert gemini_roots() == [isolated / ".gemini" / "tmp"]
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "elsewhere"))
    assert gemini_roots() == [tmp_path / "elsewhere" / ".gemini" / "tmp"]


# -- through the ingest -------------------------------------------------------------------------

# Hand truth over all of home/ (per-session sums of the per-test truths above):
#   S1 3 events in 13012 cached 5000 out 850 reasoning 190 | S2 1: 3000/0/100/20
#   S3 3: 3305/4000/250/40 | S4 3: 2500/1600/165/20 | S5 2: 4530/4000/380/60
#   S6 2: 9000/8000/650/200 | S7 3: 2100/2200/105/15 | S8 1: 500/100/20/0
HOME_TRUTH = {"events": 18, "input": 37947, "cache_read": 24900, "output": 2520, "reasoning": 545, "problems": 4}


def _home_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "gemhome"
    shutil.copytree(FIX / "home", root)
    monkeypatch.setenv("GEMINI_CLI_HOME", str(root))
    return root / ".gemini"


def _totals(db: Path) -> dict[str, Any]:
    with Store.open(db) as s:
        _, rows = s.query(
            "SELECT count(*), sum(input_tokens), sum(cache_read_tokens), sum(output_tokens), sum(reasoning_tokens), "
            "count(DISTINCT event_id), (SELECT count(*) FROM problems) FROM events WHERE tool = 'gemini'"
        )
    n, inp, cr, out, rs, distinct, probs = rows[0]
    assert n == distinct
    return {"events": n, "input": inp, "cache_read": cr, "output": out, "reasoning": rs, "problems": probs}


def _run(db: Path, paths: list[Path]) -> Any:
    with Store.open(db) as s:
        return Ingestor(s, host="test").run(paths)


def test_backfill_totals_and_reruns_add_nothing(tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gem = _home_copy(tmp_path, monkeypatch)
    first = _run(db, gemini_roots())
    assert first.new_events == HOME_TRUTH["events"]
    assert _totals(db) == HOME_TRUTH
    again = _run(db, gemini_roots())  # a re-run, and a restart: a new Ingestor on the same store
    assert (again.new_events, again.updated_events, again.new_problems, again.files_read) == (0, 0, 0, 0)
    assert _totals(db) == HOME_TRUTH
    with Store.open(db) as s:
        _, rows = s.query("SELECT tool, count(*) FROM files GROUP BY 1 ORDER BY 1")
        assert rows == [("gemini", 8), ("gemini-legacy", 2)]  # 8 .jsonl, 2 .json
        _, rows = s.query("SELECT DISTINCT provider, price_status FROM events")
        assert rows == [("google", "ok")]
        _, rows = s.query("SELECT project, count(*) FROM events GROUP BY 1 ORDER BY 1")
        assert rows == [("/home/dev/legacy-tool", 5), ("/home/dev/webapp", 13)]
    # Appending a later write of s4-g3 (more output) updates that event, adds none.
    s4 = gem / "tmp" / "webapp" / "chats" / S4.name
    line = json.loads(s4.read_bytes().splitlines()[-1])
    line["tokens"] = {"input": 1600, "output": 65, "cached": 800, "thoughts": 5, "tool": 0, "total": 1670}
    with open(s4, "a") as f:
        f.write(json.dumps(line) + "\n")
    third = _run(db, gemini_roots())
    assert (third.new_events, third.updated_events) == (0, 1)
    assert _totals(db)["output"] == HOME_TRUTH["output"] + 20


def test_ingest_order_does_not_change_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gem = _home_copy(tmp_path, monkeypatch)
    slug, hashed = gem / "tmp" / "webapp", gem / "tmp" / WEB_HASH
    legacy = gem / "tmp" / "legacy-tool"
    results = []
    for i, order in enumerate(([slug, hashed, legacy], [hashed, legacy, slug])):
        db = tmp_path / f"order{i}.duckdb"
        _run(db, order)
        with Store.open(db) as s:
            _, rows = s.query(
                "SELECT event_id, input_tokens, cache_read_tokens, output_tokens, reasoning_tokens, project, session_id "
                "FROM events ORDER BY event_id"
            )
        results.append(rows)
    assert results[0] == results[1]
    assert len(results[0]) == HOME_TRUTH["events"]


# -- properties -----------------------------------------------------------------------------------

KEYS = ["id", "type", "tokens", "input", "output", "cached", "thoughts", "tool", "total", "model", "timestamp",
        "sessionId", "projectHash", "kind", "$set", "messages", "$rewindTo", "$patch"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(1 << 45), 1 << 45), st.floats(allow_nan=False), st.text(max_size=8),
    st.sampled_from(["gemini", "user", "subagent", "gemini-2.5-pro", "2026-05-01T10:00:00Z", "m1"]),
)
JSONISH = st.recursive(SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.sampled_from(KEYS), kids, max_size=6)), max_leaves=20)


def _feed(parser: Any, data: bytes, state: dict[str, Any]) -> list[Event | Problem]:
    if parser.reader == "json":
        return list(parser.parse([Record("p", 0, data)], state))
    return list(parser.parse(records("p", 0, data[: data.rfind(b"\n") + 1]), state))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=600), st.lists(JSONISH, max_size=6).map(lambda xs: b"".join(json.dumps(x).encode() + b"\n" for x in xs))))
def test_arbitrary_input_never_raises(data: bytes) -> None:
    for parser in (NEW, LEGACY):
        for item in _feed(parser, data, {}):
            assert isinstance(item, (Event, Problem))
    meta = b'{"sessionId":"s","projectHash":"h","kind":"main"}\n'
    for item in _feed(NEW, meta + data, {}):
        assert isinstance(item, (Event, Problem))


SPLIT_FILES = [REAL, S1_SLUG, S2, S3, S4, S5, S7_JSONL, S8]


def _canon(items: list[Event | Problem]) -> tuple[dict[int, dict[str, Any]], list[tuple[int, str]]]:
    evs = {k: v.model_dump(exclude={"copies"}) for k, v in merge(items).items()}
    return evs, sorted((p.offset, p.kind) for p in problems(items))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SPLIT_FILES), st.floats(0, 1))
def test_split_at_any_byte_gives_the_same_events(path: Path, where: float) -> None:
    data = path.read_bytes()
    cut = int(len(data) * where)
    done = data[: cut].rfind(b"\n") + 1  # the first read stops at the last complete line
    state: dict[str, Any] = {"project": "p"}
    first = list(NEW.parse(records(str(path), 0, data[:done]), state))
    state = json.loads(json.dumps(state))  # what is stored with the offset, and read back
    second = list(NEW.parse(records(str(path), done, data[done:]), state))
    whole = list(NEW.parse(records(str(path), 0, data), {"project": "p"}))
    assert _canon(first + second) == _canon(whole)


def test_split_reads_through_the_ingest(tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The slug copy of S1 arrives in two appends, cut mid-line: same result as one read.
    gem = _home_copy(tmp_path, monkeypatch)
    target = gem / "tmp" / "webapp" / "chats" / S1_SLUG.name
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    _run(db, [target])
    with open(target, "ab") as f:
        f.write(data[len(data) // 2 :])
    os.utime(target)
    _run(db, [target])
    with Store.open(db) as s:
        _, rows = s.query("SELECT message_id, input_tokens, output_tokens FROM events ORDER BY message_id")
    assert rows == [("s1-g1", 4000, 150), ("s1-g2", 2012, 300), ("s1-g3", 7000, 400)]
