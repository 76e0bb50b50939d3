"""Codex CLI: totals on real and trap fixtures equal a hand-derived truth.

Truth for the real files was derived with jq, independently of logscan, by the algorithm of
FORMATS.md 3.5 (``JQ_TRUTH`` below, run per file as ``jq -s -f truth.jq FILE | jq -c -f sum.jq``):
for every ``event_msg``/``token_count`` with an object ``info``, Δ = total - previous total over
(input, cached, output, reasoning); all-zero Δ is skipped; the first row and any row with a
negative component use ``last_token_usage``; a row without a total uses ``last``. Then
input = input - min(cached, input), cache_read = min(cached, input). For the fork family, the
child's rows whose total tuple occurs in the parent's sequence are dropped (the copied prefix).

Truth for the hand-written trap fixtures (tests/fixtures/codex/traps/, each named for its trap)
is worked out by hand in ``TRAP_TRUTH``'s comments from the numbers in the files.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscan.ingest.ingestor import Ingestor
from logscan.sources.locations import default_roots
from logscan.models import Event, Problem, Record
from logscan.sources.parsers import PARSERS, parser_for
from logscan.sources.parsers.codex import CodexParser
from logscan.store.store import Store

JQ_TRUTH = r"""
def tup(u): [u.input_tokens//0, u.cached_input_tokens//0, u.output_tokens//0, u.reasoning_output_tokens//0];
[ .[] | select(.type=="event_msg" and .payload.type=="token_count" and (.payload.info|type)=="object") | .payload.info ]
| reduce .[] as $i ({prev:null, rows:[]};
    (if $i.total_token_usage then tup($i.total_token_usage) else null end) as $t
    | (if $i.last_token_usage then tup($i.last_token_usage) else null end) as $l
    | if $t == null then .rows += [{u:$l, t:null}]
      elif .prev == null then .rows += [{u:($l // $t), t:$t}] | .prev = $t
      else ([range(4) as $k | $t[$k] - .prev[$k]]) as $d
        | if ($d|all(. == 0)) then .
          elif ($d|any(. < 0)) then .rows += [{u:($l // $t), t:$t}] | .prev = $t
          else .rows += [{u:$d, t:$t}] | .prev = $t end
      end)
| .rows
"""  # truth.jq; sum.jq is:
# {events: length, input: (map(.u[0]-([.u[1],.u[0]]|min))|add), cache_read: (map([.u[1],.u[0]]|min)|add),
#  output: (map(.u[2])|add), reasoning: (map(.u[3])|add)}
# fork family: ($parent_rows|map(.t)) as $pt | $parent_rows + ($child_rows|map(select(.t as $t|$pt|index([$t])|not)))

FIX = Path(__file__).parent / "fixtures" / "codex"
REAL = FIX / "real"
TRAPS = FIX / "traps"
LIVE = REAL / "codexbar-issue2037-live-fork"
SMOKE = REAL / "codexbar-issue2037-harness-smoke"

# (events, input, cache_read, output, reasoning), from JQ_TRUTH.
REAL_TRUTH = {
    "vibecodingtracker_codex_v0.39.0_rollout.jsonl": (19, 133698, 136832, 12551, 9536),
    "codexbar-issue2037-live-fork/parent.jsonl": (178, 1151858, 23737856, 102678, 47451),  # 180 rows, 2 with Δ=0
    "codexbar-issue2037-live-fork/child.jsonl": (194, 1308338, 25383936, 109637, 50455),  # 196 rows, 2 with Δ=0
    "codexbar-issue2037-harness-smoke/parent.jsonl": (1, 10, 0, 1, 0),
    "codexbar-issue2037-harness-smoke/child.jsonl": (2, 15, 0, 2, 0),
}
# The live fork family after dropping the copied prefix (jq, see above): the parent's 178 events
# plus the child's 16 own ones, i.e. exactly the child's final cumulative total.
LIVE_FAMILY = (194, 1308338, 25383936, 109637, 50455)
SMOKE_FAMILY = (2, 15, 0, 2, 0)

# (events, input, cache_read, output, reasoning); tuples in the comments are (in, cached, out, reasoning).
TRAP_TRUTH = {
    # totals (1000,200,50,10) (2500,1200,80,10) (4500,2400,180,60): usage = the final total,
    # 3 calls: input 4500-2400, cached 2400. Summing totals would give 8000 input.
    "cumulative_totals.jsonl": (3, 2100, 2400, 180, 60),
    # (1000,0,100,0) twice and (3000,900,150,20) twice, re-emitted with the same `last`: two
    # calls; sum(last) would double them.
    "zero_delta_reemission.jsonl": (2, 2100, 900, 150, 20),
    # P1 (1000,0,100,0), P2 (2600,1000,150,10), then after the forks P3 (4600,2500,250,30).
    "fork_parent.jsonl": (3, 2100, 2500, 250, 30),
    # copies P1, P2 then its own (4200,2500,190,10): alone it is its final total.
    "fork_child.jsonl": (3, 1700, 2500, 190, 10),
    # copies P1, P2, C3 then its own (6000,4000,260,40): alone, its final total.
    "fork_grandchild.jsonl": (4, 2000, 4000, 260, 40),
    # S1 (5000,0,200,50), S2 (11000,4800,300,80)
    "thread_spawn_parent.jsonl": (2, 6200, 4800, 300, 80),
    # replays S1, S2 (same second), then its own call to (17000,9600,400,80)
    "thread_spawn_subagent.jsonl": (3, 7400, 9600, 400, 80),
    # (1000,0,100,0) -> Δ(2000,1000,100,20) -> drop to (1500,500,60,10), last = the same -> Δ(2500,1500,100,20)
    # input 1000+1000+1000+1000, cached 0+1000+500+1500, out 100+100+60+100, reasoning 0+20+10+20
    "total_drop_new_baseline.jsonl": (4, 4000, 3000, 360, 50),
    # first row total (50000,40000,900,100) but last (6000,5000,80,0); then Δ(7000,5000,100,0)
    "first_event_uses_last.jsonl": (2, 3000, 10000, 180, 0),
    # bare meta line + record_type:state + unwrapped items, no token_count at all
    "legacy_pre_aug_2025_no_token_count.jsonl": (0, 0, 0, 0, 0),
    # info:null twice, then (2000,0,300,100) and Δ(3000,1800,50,0)
    "info_null_rate_limit_only.jsonl": (2, 3200, 1800, 350, 100),
    # no turn_context; info.model on each row. (3000,0,120,40) then Δ(4000,2800,80,0)
    "model_in_token_count_info.jsonl": (2, 4200, 2800, 200, 40),
    # one call (4000,1000,90,30) via model_provider "aide", model aide-gpt-5
    "custom_provider_unknown_model.jsonl": (1, 3000, 1000, 90, 30),
    # no totals: last (1000,0,50,0), then (2000,500,70,0) written twice identically (one call)
    "last_only_no_total.jsonl": (2, 2500, 500, 120, 0),
    # good (1000,0,100,0); bad JSON; an array; a string count; a negative count; a row without
    # timestamp (total (2000,500,150,0): its call is a problem, but the baseline moves); then
    # (3000,500,200,0) -> Δ(1000,0,50,0)
    "bad_lines.jsonl": (2, 2000, 0, 150, 0),
}
# Whole fork family: P1+P2+P3 + C's own Δ(4200-2600, 2500-1000, 190-150, 10-10) + G's own
# Δ(6000-4200, 4000-2500, 260-190, 40-10) (Δ, not G's `last`, whose reasoning says 40).
FORK_FAMILY = (5, 2100 + 100 + 300, 2500 + 1500 + 1500, 250 + 40 + 70, 30 + 0 + 30)
# thread_spawn pair: the subagent's file holds the parent's history, so the pair totals the
# subagent file's final total; the parent's 2 calls stay with the parent's session.
SPAWN_FAMILY = (3, 7400, 9600, 400, 80)

SUMS = "count(*), sum(input_tokens), sum(cache_read_tokens), sum(output_tokens), sum(reasoning_tokens)"


def totals(db: Path | Store, where: str = "TRUE") -> tuple[int, ...]:
    if isinstance(db, Store):
        return tuple(int(x or 0) for x in db.query(f"SELECT {SUMS} FROM events WHERE {where}")[1][0])
    with Store.open(db, read_only=True) as s:
        return totals(s, where)


def ingest(db: Path, *paths: Path) -> None:
    with Store.open(db) as store:
        for p in paths:
            Ingestor(store).run([p])


def reset(store: Store) -> None:
    """Empty the store between cases of one test (one DuckDB file per test keeps them fast)."""
    for t in ("events", "files", "problems"):
        store.con.execute(f"DELETE FROM {t}")


def lines_of(data: bytes, path: str = "f.jsonl", base: int = 0) -> list[Record]:
    """Complete lines only, as the reader hands them on."""
    recs, pos = [], base
    end = data.rfind(b"\n")
    for line in data[: end + 1].split(b"\n")[:-1] if end >= 0 else []:
        recs.append(Record(path, pos, line))
        pos += len(line) + 1
    return recs


def parse_bytes(data: bytes, state: dict[str, Any] | None = None, path: str = "f.jsonl", base: int = 0) -> list[Event | Problem]:
    return list(CodexParser().parse(lines_of(data, path, base), {} if state is None else state))


# -- totals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("folder", "truth"), [(REAL, REAL_TRUTH), (TRAPS, TRAP_TRUTH)], ids=["real", "traps"])
def test_each_file_totals_equal_hand_truth(folder: Path, truth: dict[str, tuple[int, ...]], db: Path) -> None:
    got = {}
    with Store.open(db) as store:
        for name in truth:
            reset(store)
            Ingestor(store).run([folder / name])
            got[name] = totals(store)
    assert got == truth


@pytest.mark.parametrize("order", [("parent", "child"), ("child", "parent")])
def test_live_fork_copied_prefix_counts_once_in_either_order(order: tuple[str, str], db: Path) -> None:
    ingest(db, *(LIVE / f"{n}.jsonl" for n in order))
    assert totals(db) == LIVE_FAMILY
    # The copied rows end up with the parent (the original), whichever file came first.
    assert totals(db, "session_id = 'parent-session'") == REAL_TRUTH["codexbar-issue2037-live-fork/parent.jsonl"]
    assert totals(db, "session_id = 'child-session'")[0] == 194 - 178


def test_live_fork_naive_sum_of_last_is_what_the_oracle_says(db: Path) -> None:
    # The ORACLE figure is sum(last.total_tokens) over both files; the dedupe must not get it.
    naive = 0
    for n in ("parent", "child"):
        for line in (LIVE / f"{n}.jsonl").read_text().splitlines():
            p = json.loads(line)["payload"]
            if p.get("type") == "token_count" and p.get("info"):
                naive += p["info"]["last_token_usage"]["total_tokens"]
    assert naive == json.loads((LIVE / "manifest.json").read_text())["oracle"]["naiveLastTokens"] == 52_068_085
    ingest(db, LIVE / "parent.jsonl", LIVE / "child.jsonl")
    ev, inp, cr, out, _ = totals(db)
    assert inp + cr + out == 26_801_911  # the child's final total_tokens (input + output), not 52M


def test_fork_of_fork_counts_once_in_any_order(db: Path) -> None:
    with Store.open(db) as store:
        for order in itertools.permutations(["fork_parent", "fork_child", "fork_grandchild"]):
            reset(store)
            for n in order:
                Ingestor(store).run([TRAPS / f"{n}.jsonl"])
            assert totals(store) == FORK_FAMILY, order
            by_session = dict(store.query("SELECT session_id, count(*) FROM events GROUP BY 1")[1])
            # Each call stays with the thread that made it: P made 3, C and G one each.
            assert by_session == {
                "0199a000-0000-7000-8000-0000000000f0": 3,
                "0199a000-0000-7000-8000-0000000000f1": 1,
                "0199a000-0000-7000-8000-0000000000f2": 1,
            }, order


@pytest.mark.parametrize("order", [("thread_spawn_parent", "thread_spawn_subagent"), ("thread_spawn_subagent", "thread_spawn_parent")])
def test_thread_spawn_replay_counts_once_and_subagent_is_sidechain(order: tuple[str, str], db: Path) -> None:
    ingest(db, *(TRAPS / f"{n}.jsonl" for n in order))
    assert totals(db) == SPAWN_FAMILY
    with Store.open(db, read_only=True) as s:
        rows = s.query("SELECT session_id, is_sidechain, model, count(*) FROM events GROUP BY ALL ORDER BY 1")[1]
    assert rows == [
        ("0199a000-0000-7000-8000-0000000000e0", False, "gpt-5", 2),
        ("0199a000-0000-7000-8000-0000000000e1", True, "gpt-5-mini", 1),
    ]


def test_unrelated_threads_with_identical_usage_both_count(db: Path) -> None:
    # fork_parent, zero_delta_reemission, total_drop and bad_lines all start with the call
    # (1000,0,100,0); they are different threads, so each counts.
    names = ["fork_parent.jsonl", "zero_delta_reemission.jsonl", "total_drop_new_baseline.jsonl", "bad_lines.jsonl"]
    ingest(db, *(TRAPS / n for n in names))
    expect = tuple(sum(TRAP_TRUTH[n][i] for n in names) for i in range(5))
    assert totals(db) == expect


def test_all_traps_together(db: Path) -> None:
    ingest(db, TRAPS)
    singles = [n for n in TRAP_TRUTH if not n.startswith(("fork_", "thread_spawn_"))]
    expect = tuple(sum(TRAP_TRUTH[n][i] for n in singles) + FORK_FAMILY[i] + SPAWN_FAMILY[i] for i in range(5))
    assert totals(db) == expect


# -- semantics, model, provider, price --------------------------------------------------------
def test_bad_lines_become_problems_without_content(db: Path) -> None:
    ingest(db, TRAPS / "bad_lines.jsonl")
    with Store.open(db, read_only=True) as s:
        probs = s.query('SELECT kind, reason FROM problems ORDER BY "offset"')[1]
    assert [k for k, _ in probs] == ["invalid-json", "schema", "schema", "schema", "schema"]
    assert "not json at all" not in repr(probs)
    assert any("timestamp" in r for _, r in probs) and any("negative" in r for _, r in probs)


def test_model_from_turn_context_and_from_token_count_info() -> None:
    evs = [e for e in parse_bytes((TRAPS / "model_in_token_count_info.jsonl").read_bytes()) if isinstance(e, Event)]
    assert {e.model for e in evs} == {"gpt-5.1-codex"}
    smoke = [e for e in parse_bytes((SMOKE / "child.jsonl").read_bytes()) if isinstance(e, Event)]
    assert {e.model for e in smoke} == {"openai/gpt-5.5"}
    vibe = [e for e in parse_bytes((REAL / "vibecodingtracker_codex_v0.39.0_rollout.jsonl").read_bytes()) if isinstance(e, Event)]
    assert {(e.model, e.provider, e.project, e.session_id) for e in vibe} == {
        ("aide-gpt-5", "openai", "/proj/ds906659/gai/claude-code", "01996135-afde-7911-97f0-d863511eca56")
    }


def test_unknown_models_and_custom_providers_get_null_cost(db: Path) -> None:
    # vibecodingtracker: a custom endpoint serving "aide-gpt-5" without model_provider in its
    # session_meta: priced under openai, where that model is unknown.
    ingest(db, REAL / "vibecodingtracker_codex_v0.39.0_rollout.jsonl", TRAPS / "custom_provider_unknown_model.jsonl")
    with Store.open(db, read_only=True) as s:
        rows = s.query("SELECT provider, model, price_status, count(*), count(cost_usd) FROM events GROUP BY ALL ORDER BY 1")[1]
    assert rows == [("aide", "aide-gpt-5", "unknown_provider", 1, 0), ("openai", "aide-gpt-5", "unknown_model", 19, 0)]


def test_cost_of_a_known_thread(db: Path) -> None:
    # cumulative_totals: gpt-5 on 2025-10-01, in total 2100 uncached + 2400 cached input and 180
    # output. gpt-5: $1.25/M input, $0.125/M cached, $10/M output:
    # 0.002625 + 0.0003 + 0.0018 = 0.004725
    ingest(db, TRAPS / "cumulative_totals.jsonl")
    with Store.open(db, read_only=True) as s:
        cost, statuses = s.query("SELECT sum(cost_usd), list(DISTINCT price_status) FROM events")[1][0]
    assert cost == pytest.approx(0.004725, abs=1e-12)
    assert statuses == ["ok"]


def test_openai_semantics_map_without_double_counting() -> None:
    # One call of (input 4000 incl. 1000 cached, output 90 incl. 30 reasoning).
    (ev,) = [e for e in parse_bytes((TRAPS / "custom_provider_unknown_model.jsonl").read_bytes()) if isinstance(e, Event)]
    assert (ev.input_tokens, ev.cache_read_tokens, ev.output_tokens, ev.reasoning_tokens) == (3000, 1000, 90, 30)
    assert ev.total_tokens == 4090  # = Codex's total_tokens (input + output); reasoning not added again
    assert ev.cache_write_5m_tokens == ev.cache_write_1h_tokens == 0


def test_cached_larger_than_input_is_clamped() -> None:
    line = (
        b'{"timestamp":"2025-10-01T00:00:00Z","type":"event_msg","payload":{"type":"token_count","info":'
        b'{"total_token_usage":{"input_tokens":100,"cached_input_tokens":250,"output_tokens":5}}}}\n'
    )
    (ev,) = parse_bytes(line)
    assert isinstance(ev, Event) and (ev.input_tokens, ev.cache_read_tokens, ev.output_tokens) == (0, 100, 5)


def test_sniff_and_registry() -> None:
    p = CodexParser()
    assert PARSERS["codex"] is not None
    assert p.sniff(b"") == 0.0 and p.sniff(b"\x00junk") == 0.0
    assert p.sniff((TRAPS / "cumulative_totals.jsonl").read_bytes()[:4096]) == 1.0
    assert p.sniff((TRAPS / "legacy_pre_aug_2025_no_token_count.jsonl").read_bytes()) >= 0.5
    head = (REAL / "vibecodingtracker_codex_v0.39.0_rollout.jsonl").read_bytes()[:65536]
    assert parser_for("/h/.codex/sessions/2025/09/19/rollout-x.jsonl", head) is PARSERS["codex"]
    assert parser_for("/h/.codex/archived_sessions/rollout-x.jsonl.zst", head) is PARSERS["codex"]
    # A Claude Code transcript is not claimed.
    claude = b'{"parentUuid":null,"isSidechain":false,"sessionId":"s","type":"user","message":{}}\n'
    assert p.sniff(claude) == 0.0


# -- incremental reading ----------------------------------------------------------------------
def test_split_reads_with_state_round_trip_equal_one_read() -> None:
    data = (LIVE / "child.jsonl").read_bytes()
    whole = parse_bytes(data)
    for cut in (1, 500, len(data) // 3, len(data) // 2 + 7, len(data) - 3):
        state: dict[str, Any] = {}
        end = data[:cut].rfind(b"\n") + 1
        first = parse_bytes(data[:end], state)
        state = json.loads(json.dumps(state))  # as the ingest stores it
        second = parse_bytes(data[end:], state, base=end)
        assert first + second == whole


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    for item in parse_bytes(data + b"\n"):
        assert isinstance(item, (Event, Problem))


_FAMILY_BYTES = b"".join(
    (TRAPS / n).read_bytes() for n in ("fork_grandchild.jsonl", "total_drop_new_baseline.jsonl", "bad_lines.jsonl", "last_only_no_total.jsonl")
)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=len(_FAMILY_BYTES)), st.binary(max_size=40))
def test_split_at_any_byte_gives_the_same_events(cut: int, noise: bytes) -> None:
    data = _FAMILY_BYTES[:cut] + noise + b"\n" + _FAMILY_BYTES[cut:]
    whole = parse_bytes(data)
    state: dict[str, Any] = {}
    split = cut + len(noise) // 2
    end = data[:split].rfind(b"\n") + 1
    first = parse_bytes(data[:end], state)
    state = json.loads(json.dumps(state))
    second = parse_bytes(data[end:], state, base=end)
    assert first + second == whole


# -- end to end on a fake CODEX_HOME ----------------------------------------------------------
def _home(root: Path) -> Path:
    """sessions/YYYY/MM/DD with a thread, its copy in archived_sessions, a .zst sibling of it,
    a lone compressed rollout, and a fork family split over sessions and archive."""
    day = root / "sessions" / "2025" / "10" / "01"
    day.mkdir(parents=True)
    arch = root / "archived_sessions"
    arch.mkdir()
    cum = "rollout-2025-10-01T11-00-00-0199a000-0000-7000-8000-00000000000a.jsonl"
    shutil.copy(TRAPS / "cumulative_totals.jsonl", day / cum)
    shutil.copy(TRAPS / "cumulative_totals.jsonl", arch / cum)  # archived copy of the same thread
    cctx = zstandard.ZstdCompressor()
    (day / (cum + ".zst")).write_bytes(cctx.compress((TRAPS / "cumulative_totals.jsonl").read_bytes()))  # plain sibling wins
    drop = "rollout-2025-10-05T11-00-00-0199a000-0000-7000-8000-00000000000d.jsonl.zst"
    (arch / drop).write_bytes(cctx.compress((TRAPS / "total_drop_new_baseline.jsonl").read_bytes()))
    shutil.copy(TRAPS / "fork_parent.jsonl", day / "rollout-2025-10-03T11-00-00-0199a000-0000-7000-8000-0000000000f0.jsonl")
    shutil.copy(TRAPS / "fork_child.jsonl", arch / "rollout-2025-10-03T12-00-00-0199a000-0000-7000-8000-0000000000f1.jsonl")
    shutil.copy(TRAPS / "fork_grandchild.jsonl", day / "rollout-2025-10-03T14-00-00-0199a000-0000-7000-8000-0000000000f2.jsonl")
    return day / cum


def backfill_default_roots(db: Path) -> None:
    """What ``logscan backfill`` without arguments does: ingest every parser's default roots."""
    with Store.open(db) as store:
        Ingestor(store).run(default_roots())


HOME_TRUTH = tuple(
    TRAP_TRUTH["cumulative_totals.jsonl"][i] + TRAP_TRUTH["total_drop_new_baseline.jsonl"][i] + FORK_FAMILY[i] for i in range(5)
)


def test_backfill_of_codex_home_counts_each_call_once(isolated: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = isolated.parent / "codex-home"
    live = _home(home)
    monkeypatch.setenv("CODEX_HOME", str(home))
    assert CodexParser().default_roots() == [home / "sessions", home / "archived_sessions"]
    backfill_default_roots(db)
    assert totals(db) == HOME_TRUTH
    with Store.open(db, read_only=True) as s:
        read = {Path(p).name for (p,) in s.query("SELECT path FROM files WHERE tool = 'codex'")[1]}
    assert not any(n.endswith(".jsonl.zst") and n[:-4] in read for n in read)  # the .zst with a sibling was skipped
    assert "rollout-2025-10-05T11-00-00-0199a000-0000-7000-8000-00000000000d.jsonl.zst" in read

    # A re-run adds nothing.
    backfill_default_roots(db)
    assert totals(db) == HOME_TRUTH

    # Appending two lines (a re-emission and one new call) adds exactly that call:
    # (4500,2400,180,60) -> (6000,3400,230,60): Δ input 1500 incl. 1000 cached, output 50.
    with live.open("a") as f:
        f.write(
            '{"timestamp":"2025-10-01T09:05:00.000Z","type":"event_msg","payload":{"type":"token_count","info":'
            '{"total_token_usage":{"input_tokens":4500,"cached_input_tokens":2400,"output_tokens":180,"reasoning_output_tokens":60},'
            '"last_token_usage":{"input_tokens":2000,"cached_input_tokens":1200,"output_tokens":100,"reasoning_output_tokens":50}}}}\n'
            '{"timestamp":"2025-10-01T09:06:00.000Z","type":"event_msg","payload":{"type":"token_count","info":'
            '{"total_token_usage":{"input_tokens":6000,"cached_input_tokens":3400,"output_tokens":230,"reasoning_output_tokens":60},'
            '"last_token_usage":{"input_tokens":1500,"cached_input_tokens":1000,"output_tokens":50,"reasoning_output_tokens":0}}}}\n'
        )
    backfill_default_roots(db)
    assert totals(db) == tuple(a + b for a, b in zip(HOME_TRUTH, (1, 500, 1000, 50, 0)))


def test_restart_mid_file_resumes_exactly(tmp_path: Path, db: Path) -> None:
    # The live child written in two halves with the store closed in between: the second run
    # starts from the stored offset and parser state, and the total is exact.
    data = (LIVE / "child.jsonl").read_bytes()
    f = tmp_path / "sessions" / "rollout-2030-01-01T15-00-00-child.jsonl"
    f.parent.mkdir()
    half = data[: len(data) // 2] + b'{"timestamp":"2030-01-01T15:'  # ends inside a line
    f.write_bytes(half)
    ingest(db, f.parent)
    with Store.open(db, read_only=True) as s:
        (state,) = s.query("SELECT state FROM files")[1][0]
    assert json.loads(state)["prev"]  # running total persisted with the offset
    f.write_bytes(data)
    ingest(db, f.parent)
    assert totals(db) == REAL_TRUTH["codexbar-issue2037-live-fork/child.jsonl"]
    ingest(db, f.parent)
    assert totals(db) == REAL_TRUTH["codexbar-issue2037-live-fork/child.jsonl"]


def test_default_root_is_dot_codex(isolated: Path) -> None:
    assert CodexParser().default_roots() == [isolated / ".codex" / "sessions", isolated / ".codex" / "archived_sessions"]


def test_no_text_is_stored(db: Path) -> None:
    ingest(db, REAL, TRAPS)
    with Store.open(db, read_only=True) as s:
        blob = repr(s.query("SELECT * FROM events")[1]) + repr(s.query("SELECT * FROM problems")[1])
    for text in ("(user text)", "(answer)", "go.mod", "not json at all", "environment_context"):
        assert text not in blob
