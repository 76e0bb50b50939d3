"""Claude Code: totals on real and trap fixtures equal a hand-derived truth.

The truth for the real files was derived with jq, independently of logscan (FORMATS.md 1.6):
take top-level ``type == "assistant"`` lines with an object ``message.usage`` and a model other
than ``<synthetic>``; group by ``[message.id, requestId]``; keep the non-sidechain copy, then the
one with the largest input+output+cache_read+cache_creation total; drop all-zero usage; sum.
The jq program is in the docstring of ``JQ_TRUTH`` below so anyone can re-derive the numbers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from logscan.cli import cli
from logscan.ingest.ingestor import Ingestor
from logscan.models import Event, Problem, Record
from logscan.sources.parsers.claude_code import ClaudeCodeParser
from logscan.store.store import Store

JQ_TRUTH = r"""
[ .[] | select(.type=="assistant" and (.message.usage|type)=="object" and .message.model != "<synthetic>")
  | .message.usage as $u
  | {k: [.message.id, .requestId], side: (.isSidechain==true),
     i: ($u.input_tokens//0), o: ($u.output_tokens//0), cr: ($u.cache_read_input_tokens//0),
     c5: ($u.cache_creation.ephemeral_5m_input_tokens // $u.cache_creation_input_tokens // 0),
     c1: ($u.cache_creation.ephemeral_1h_input_tokens // 0), ws: ($u.server_tool_use.web_search_requests//0)}
  | .t = .i+.o+.cr+.c5+.c1 | select(.t > 0) ]
| group_by(.k) | map(sort_by([(if .side then 0 else 1 end), .t]) | last)
| {events: length, input: (map(.i)|add), output: (map(.o)|add), cache_read: (map(.cr)|add),
   cw5m: (map(.c5)|add), cw1h: (map(.c1)|add), web_search: (map(.ws)|add)}
"""  # run as: jq -c -s -f truth.jq FILE...

REAL = Path(__file__).parent / "fixtures" / "claude-code" / "real"
TRAPS = Path(__file__).parent / "fixtures" / "claude-code" / "traps"

# (events, input, output, cache_read, cache_write_5m, cache_write_1h) per real file, from JQ_TRUTH.
REAL_TRUTH = {
    "spotter_short_v2.1.38.jsonl": (1, 3, 13, 11515, 0, 13835),
    "spotter_tool_heavy_v2.1.38.jsonl": (4, 54, 212, 88231, 0, 17696),
    "vibecodingtracker_claude_code_v1.0.95.jsonl": (31, 158, 3860, 1093509, 99004, 0),
    "spotter-4d5611e5/4d5611e5-241a-462a-8d15-5122611a9569.head50.jsonl": (4, 6, 99, 95294, 18067, 0),
    "spotter-4d5611e5/subagents/agent-a2898e3.jsonl": (12, 53, 136, 604156, 71257, 0),
    "spotter-4d5611e5/subagents/agent-acompact-e1f845.jsonl": (1, 3, 8, 164830, 8681, 0),
}
# All real files together (ids do not overlap between files): jq over the concatenation.
REAL_ALL = (53, 277, 4328, 2057535, 197009, 31531)

SUMS = "count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_5m_tokens), sum(cache_write_1h_tokens)"


def parse_file(path: Path, split: int | None = None) -> list[Event | Problem]:
    data = path.read_bytes()
    parser = ClaudeCodeParser()
    lines = data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")
    recs, pos = [], 0
    for line in lines:
        recs.append(Record(str(path), pos, line))
        pos += len(line) + 1
    return list(parser.parse(recs, {}))


def totals(db: Path | Store, where: str = "TRUE") -> tuple[int, ...]:
    if isinstance(db, Store):
        return tuple(int(x or 0) for x in db.query(f"SELECT {SUMS} FROM events WHERE {where}")[1][0])
    with Store.open(db, read_only=True) as s:
        return totals(s, where)


@pytest.mark.parametrize("name", sorted(REAL_TRUTH))
def test_real_file_totals_equal_hand_truth(name: str, db: Path) -> None:
    with Store.open(db) as store:
        Ingestor(store).run([REAL / name])
    assert totals(db) == REAL_TRUTH[name]


def test_all_real_files_together(db: Path) -> None:
    with Store.open(db) as store:
        s = Ingestor(store).run([REAL])
    assert totals(db) == REAL_ALL
    assert s.new_problems == 0
    # jq: 106 usage lines (non-synthetic, non-empty) collapse into 53 events.
    assert s.usage_records - s.duplicates_dropped == 53


def test_progress_echoes_are_not_counted(db: Path) -> None:
    # head50 holds agent_progress lines whose data.message.message.usage copies the subagent's
    # calls; jq finds 4 top-level assistant ids in it and none of the subagent's 12.
    events = [e for e in parse_file(REAL / "spotter-4d5611e5/4d5611e5-241a-462a-8d15-5122611a9569.head50.jsonl") if isinstance(e, Event)]
    assert len(events) == 4
    assert all(e.model == "claude-opus-4-6" for e in events)


def test_trap_fixtures_total(db: Path) -> None:
    """The hand-written traps (tests/fixtures/claude-code/traps), truth derived by hand:

    msg_A/req_A: 3 content-block lines (output 10, 10, 299) + a resumed copy in s2 -> 1 event,
      input 10, output 299, cache_read 5000, 5m 400, 1h 600, web search 2, web fetch 1;
      its /btw replay (sidechain, same message id, request req_A_btw) is dropped.
    msg_S1 (subagent, 2 lines; its agent_progress echo and a Task toolUseResult are ignored):
      input 5, output 50, cache_read 100.
    msg_NOREQ (no requestId, 2 lines): input 7, output 70.
    msg_B: main copy kept over a bigger sidechain copy: input 4, output 40, cache_read 3000, 5m 200.
    msg_Q (sidechain only): input 3, output 30, cache_read 6000.
    msg_C: input 20, output 200.
    Not events: <synthetic>, usage {}.
    Sums: 6 events, input 49, output 689, cache_read 14100, 5m 600, 1h 600.
    Problems (s2-resumed.jsonl): 'not json at all', an unterminated object, "many" tokens, [1,2,3].
    """
    with Store.open(db) as store:
        s = Ingestor(store).run([TRAPS])
    assert totals(db) == (6, 49, 689, 14100, 600, 600)
    assert totals(db, "is_sidechain") == (2, 8, 80, 6100, 0, 0)
    with Store.open(db, read_only=True) as st:
        ws, wf = st.query("SELECT sum(web_search_requests), sum(web_fetch_requests) FROM events")[1][0]
        kinds = st.query('SELECT kind, "offset" FROM problems ORDER BY "offset"')[1]
        lone = st.query("SELECT output_tokens, output_lower_bound FROM events WHERE message_id = 'msg_B'")[1]
    assert (ws, wf) == (2, 1)
    assert [k for k, _ in kinds] == ["invalid-json", "invalid-json", "schema", "schema"]
    assert lone == [(40, False)]  # the line with a lone surrogate parsed via the stdlib fallback
    assert s.new_problems == 4
    # usage records: msg_A 4 + its /btw copy 1 + S1 2 + NOREQ 2 + B 2 + Q 1 + C 1 = 13
    assert s.usage_records == 13
    assert s.duplicates_dropped == 7


def test_btw_replay_dropped_whichever_file_comes_first(tmp_path: Path, db: Path) -> None:
    side = TRAPS / "projects/-home-u-proj/s1/subagents/agent-aside_question-q1.jsonl"
    main = TRAPS / "projects/-home-u-proj/s1.jsonl"
    with Store.open(db) as store:
        ing = Ingestor(store)
        ing.run([side])
        assert totals(store, "message_id = 'msg_A'")[:3] == (1, 10, 900)  # only the replay known so far
        ing.run([main])
    # the main copy replaced the same-key sidechain copy of msg_B and removed msg_A's replay
    assert totals(db, "message_id = 'msg_A'")[:3] == (1, 10, 299)
    assert totals(db, "message_id = 'msg_B'")[:3] == (1, 4, 40)


def test_rerun_adds_nothing_and_append_adds_exactly(tmp_path: Path, db: Path) -> None:
    root = tmp_path / "claude" / "projects" / "-p"
    root.mkdir(parents=True)
    f = root / "sess.jsonl"
    shutil.copy(REAL / "vibecodingtracker_claude_code_v1.0.95.jsonl", f)
    with Store.open(db) as store:
        first = Ingestor(store).run([root])
        again = Ingestor(store).run([root])
    assert first.new_events == 31 and again.new_events == 0 and again.files_unchanged == 1
    assert again.bytes_read == 0
    before = totals(db)
    extra = (REAL / "spotter_short_v2.1.38.jsonl").read_bytes()
    with f.open("ab") as fh:
        fh.write(extra)
    with Store.open(db) as store:
        third = Ingestor(store).run([root])
    assert third.new_events == 1
    assert third.bytes_read == len(extra)  # only the new bytes were read
    after = totals(db)
    assert tuple(a - b for a, b in zip(after, before)) == REAL_TRUTH["spotter_short_v2.1.38.jsonl"]


def test_file_cut_mid_line_then_completed(tmp_path: Path, db: Path) -> None:
    data = (REAL / "spotter_tool_heavy_v2.1.38.jsonl").read_bytes()
    f = tmp_path / "projects" / "x" / "s.jsonl"
    f.parent.mkdir(parents=True)
    # cut in the middle of an assistant line
    cut = data.index(b'"type":"assistant"', len(data) // 2) + 5
    f.write_bytes(data[:cut])
    with Store.open(db) as store:
        Ingestor(store).run([f])
        with f.open("ab") as fh:
            fh.write(data[cut:])
        Ingestor(store).run([f])
        problems = store.counts()["problems"]
    assert totals(db) == REAL_TRUTH["spotter_tool_heavy_v2.1.38.jsonl"]
    assert problems == 0


def test_truncated_file_restarts_at_zero(tmp_path: Path, db: Path) -> None:
    f = tmp_path / "projects" / "x" / "s.jsonl"
    f.parent.mkdir(parents=True)
    shutil.copy(REAL / "spotter_tool_heavy_v2.1.38.jsonl", f)
    with Store.open(db) as store:
        Ingestor(store).run([f])
        f.write_bytes((REAL / "spotter_short_v2.1.38.jsonl").read_bytes())  # smaller: truncated + rewritten
        s = Ingestor(store).run([f])
    assert s.files_reset == 1
    e1 = REAL_TRUTH["spotter_tool_heavy_v2.1.38.jsonl"]
    e2 = REAL_TRUTH["spotter_short_v2.1.38.jsonl"]
    assert totals(db) == tuple(a + b for a, b in zip(e1, e2))  # old events stay, new counted once


def test_deleted_file_keeps_its_events(tmp_path: Path, db: Path) -> None:
    root = tmp_path / "projects"
    (root / "x").mkdir(parents=True)
    f = root / "x" / "s.jsonl"
    shutil.copy(REAL / "spotter_short_v2.1.38.jsonl", f)
    with Store.open(db) as store:
        Ingestor(store).run([root])
        f.unlink()
        s = Ingestor(store).run([root])
        missing = store.query("SELECT count(*) FROM files WHERE missing_since IS NOT NULL")[1][0][0]
    assert s.files_missing == 1 and missing == 1
    assert totals(db) == REAL_TRUTH["spotter_short_v2.1.38.jsonl"]


def test_default_roots_cover_both_locations(isolated: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = isolated / ".claude" / "projects" / "-a"
    b = Path(str(isolated.parent / "xdg_config_home")) / "claude" / "projects" / "-b"
    for d, name in ((a, "spotter_short_v2.1.38.jsonl"), (b, "spotter_tool_heavy_v2.1.38.jsonl")):
        d.mkdir(parents=True)
        shutil.copy(REAL / name, d / "s.jsonl")
    assert set(ClaudeCodeParser().default_roots()) >= {a.parent, b.parent}
    r = CliRunner().invoke(cli, ["backfill", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    e1, e2 = REAL_TRUTH["spotter_short_v2.1.38.jsonl"], REAL_TRUTH["spotter_tool_heavy_v2.1.38.jsonl"]
    assert totals(db) == tuple(x + y for x, y in zip(e1, e2))
    custom = isolated / "elsewhere"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(custom))
    assert ClaudeCodeParser().default_roots()[0] == custom / "projects"


def test_project_comes_from_cwd_not_directory_name(db: Path) -> None:
    events = [e for e in parse_file(REAL / "vibecodingtracker_claude_code_v1.0.95.jsonl") if isinstance(e, Event)]
    assert {e.project for e in events} == {"/home/wei/repo/claude-code"}
    # jq: the assistant lines carry two sessionIds (the file holds a resumed session)
    assert {e.session_id for e in events} == {"b162b1ae-97bc-475f-9b5f-ffbf55ca5b3f", "e9f146fa-3b20-48d0-9be4-d99ca901cae4"}


def test_no_text_is_stored(db: Path) -> None:
    with Store.open(db) as store:
        Ingestor(store).run([TRAPS, REAL])
        cols, rows = store.query("SELECT * FROM events")
        _, prows = store.query("SELECT * FROM problems")
    # where the checkout lives is in every source_path (a clone in /tmp/ciclone holds "lone")
    blob = (repr(rows) + repr(prows)).replace(repr(str(Path(__file__).parent))[1:-1], "")
    for text in ("lone", "bigger copy", "own answer", "not json at all", "many", "TaskStop", "tool_result"):
        assert text not in blob


def test_cost_of_a_known_call(db: Path) -> None:
    # spotter_short: opus-4-6 on 2026-02-10, 3 in, 13 out, 11515 cache read, 13835 1h writes.
    # $5/M in, $25/M out, $0.5/M read, $10/M 1h write: 0.000015 + 0.000325 + 0.0057575 + 0.13835
    with Store.open(db) as store:
        Ingestor(store).run([REAL / "spotter_short_v2.1.38.jsonl"])
        cost, status, priced = store.query("SELECT cost_usd, price_status, priced_model FROM events")[1][0]
    assert cost == pytest.approx(0.1444475, abs=1e-12)
    assert (status, priced) == ("ok", "anthropic/claude-opus-4-6")
