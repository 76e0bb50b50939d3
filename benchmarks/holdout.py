"""Holdout: a freshly generated home with every known trap, checked against its own truth.

    python -m benchmarks.holdout --seed 7 --size-mb 5         # one home, ~5 MB per tool
    python -m benchmarks.holdout --seeds 1-5 --size-mb 2

The four benchmark generators (``benchmarks.bench``: streamed Claude content blocks, Task
subagent files, Codex cumulative totals re-emitted, Gemini first writes and re-appends, OpenCode
zero-token first writes and multi-step messages) write a home with a seed nobody tuned against,
and this module adds the traps that broke peers (issue 14), each with its own truth:

- Claude: a session copied whole into another project folder (a resumed session repeats its
  lines) — counted once.
- Codex: a rollout whose ``token_count`` lines carry epoch-millisecond timestamps — counted; a
  ``codex exec --json`` capture saved under ``sessions/`` — one problem, no tokens.
- Gemini: a message whose ``tokens`` has only ``total`` — one problem, not an all-zero event.
- OpenCode: some messages of the database also in the legacy JSON store, and in the database
  their first step rewritten later than the next (time order != id order) — each step counted
  once; a legacy message with tokens but no ``role`` — one problem.

The check: per tool, ``count(*)`` equals the truth's billed calls and the four token sums equal
the truth; the problems are exactly the planted ones. A non-zero exit means a mismatch.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from benchmarks.bench import Truth, _add, generate_claude_corpus, generate_codex_corpus, generate_gemini_corpus, generate_opencode_corpus, truth_mismatches

TOOLS = {"claude-code": "claude", "codex": "codex", "gemini": "gemini", "opencode": "opencode"}


def build(home: Path, seed: int, size_mb: float) -> tuple[dict[str, Truth], int]:
    """Write the home; return the truth per logscan tool name and the number of planted problems."""
    rng = random.Random(seed * 7919 + 1)
    truth = {
        "claude-code": generate_claude_corpus(home / "claude", size_mb, seed=seed, session_mb=max(size_mb / 4, 0.2)),
        "codex": generate_codex_corpus(home / "codex", size_mb, seed=seed),
        "gemini": generate_gemini_corpus(home / "gemini", size_mb, seed=seed),
        "opencode": generate_opencode_corpus(home, size_mb, seed=seed),  # writes home/opencode/opencode.db
    }
    problems = 0
    # Claude: a resumed session is a whole copy of the transcript in another project folder.
    sessions = sorted((home / "claude" / "projects").glob("*/*.jsonl"))
    src = sessions[rng.randrange(len(sessions))]
    dst = home / "claude" / "projects" / "-home-dev-resumed" / f"resumed-{src.name}"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    # Codex: epoch-ms timestamps on token_count lines; an exec --json capture.
    problems += _codex_traps(home / "codex" / "sessions", rng, truth["codex"])
    # Gemini: a message with only a total.
    problems += _gemini_trap(home / "gemini" / "tmp" / "projx" / "chats", rng)
    # OpenCode: both stores, rewritten step times, a message without role.
    problems += _opencode_traps(home / "opencode", rng)
    return truth, problems


def _codex_traps(sessions: Path, rng: random.Random, truth: Truth) -> int:
    d = sessions / "2026" / "03" / "01"
    d.mkdir(parents=True, exist_ok=True)
    tid = f"0199ffff-{rng.randrange(1 << 16):04x}-7000-8000-00000000abcd"
    t_ms = 1_772_400_000_000
    lines = [
        {"timestamp": "2026-03-01T20:00:00.000Z", "type": "session_meta",
         "payload": {"id": tid, "timestamp": "2026-03-01T20:00:00.000Z", "cwd": "/home/dev/ms", "originator": "codex_cli_rs", "cli_version": "0.61.0"}},
        {"timestamp": "2026-03-01T20:00:00.000Z", "type": "turn_context", "payload": {"cwd": "/home/dev/ms", "model": "gpt-5-codex"}},
    ]
    tot = [0, 0, 0, 0]
    for k in range(rng.randrange(2, 6)):
        inp = rng.randrange(1_000, 50_000)
        cached = rng.randrange(0, inp)
        out = rng.randrange(10, 3_000)
        rea = rng.randrange(0, out)
        tot = [tot[0] + inp, tot[1] + cached, tot[2] + out, tot[3] + rea]
        usage = lambda a, b, c, r: {"input_tokens": a, "cached_input_tokens": b, "output_tokens": c, "reasoning_output_tokens": r, "total_tokens": a + c}  # noqa: E731
        lines.append({"timestamp": t_ms + k * 60_000, "type": "event_msg",
                      "payload": {"type": "token_count", "info": {"total_token_usage": usage(*tot), "last_token_usage": usage(inp, cached, out, rea)}}})
        _add(truth, "gpt-5-codex", inp - cached, out, cached, 0)
    (d / f"rollout-2026-03-01T20-00-00-{tid}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    exec_lines = [{"type": "thread.started", "thread_id": "t1"}, {"type": "turn.started"},
                  {"type": "turn.completed", "usage": {"input_tokens": rng.randrange(1, 9_999), "cached_input_tokens": 0, "output_tokens": 40}}]
    (sessions / "exec-run.jsonl").write_text("".join(json.dumps(x) + "\n" for x in exec_lines))
    return 1


def _gemini_trap(chats: Path, rng: random.Random) -> int:
    chats.mkdir(parents=True, exist_ok=True)
    sid = "ffff0000-0000-4000-8000-00000000beef"
    lines = [{"sessionId": sid, "projectHash": "f" * 64, "startTime": "2026-04-01T10:00:00.000Z", "lastUpdated": "2026-04-01T10:00:00.000Z"},
             {"id": "g-total", "timestamp": "2026-04-01T10:00:05.000Z", "type": "gemini", "content": "x", "model": "gemini-2.5-pro",
              "tokens": {"total": rng.randrange(100, 99_999)}}]
    (chats / "session-2026-04-01T10-00-ffff0000.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return 1


def _opencode_traps(oc: Path, rng: random.Random) -> int:
    """Copy some multi-step messages of the database into a legacy store and make their first
    step's database time later than the second's; add a role-less legacy message."""
    con = sqlite3.connect(oc / "opencode.db")
    rows = con.execute(
        "SELECT m.id, m.session_id, m.data FROM message m WHERE (SELECT count(*) FROM part p WHERE p.message_id = m.id"
        " AND p.data LIKE '%step-finish%') >= 2 ORDER BY m.id"
    ).fetchall()
    storage = oc / "storage"
    for mid, sid, data in rng.sample(rows, min(len(rows), 5)):
        (storage / "message" / sid).mkdir(parents=True, exist_ok=True)
        (storage / "message" / sid / f"{mid}.json").write_text(json.dumps({"id": mid, "sessionID": sid, **json.loads(data)}))
        (storage / "session" / "p1").mkdir(parents=True, exist_ok=True)
        (storage / "session" / "p1" / f"{sid}.json").write_text(json.dumps({"id": sid, "projectID": "p1", "directory": "/home/dev/app", "title": "t", "version": "1.1.0"}))
        steps = con.execute("SELECT id, data FROM part WHERE message_id = ? AND data LIKE '%step-finish%' ORDER BY id", (mid,)).fetchall()
        (storage / "part" / mid).mkdir(parents=True, exist_ok=True)
        for pid, pdata in steps:
            (storage / "part" / mid / f"{pid}.json").write_text(json.dumps({"id": pid, "sessionID": sid, "messageID": mid, **json.loads(pdata)}))
        con.execute("UPDATE part SET time_updated = time_updated + 60000 WHERE id = ?", (steps[0][0],))
    con.commit()
    con.close()
    (storage / "message" / "ses_norole").mkdir(parents=True, exist_ok=True)
    (storage / "message" / "ses_norole" / "msg_norole.json").write_text(json.dumps(
        {"id": "msg_norole", "sessionID": "ses_norole", "time": {"created": 1789000000000}, "modelID": "gpt-5", "providerID": "openai",
         "tokens": {"input": 10, "output": 5, "reasoning": 0, "cache": {"read": 0, "write": 0}}}))
    return 1


def check(home: Path, db: Path, truth: dict[str, Truth], planted: int) -> list[str]:
    """Backfill the home into ``db``; return the mismatches (empty: exact)."""
    import duckdb

    from logscan.ingest.ingestor import Ingestor
    from logscan.store.store import Store

    with Store.open(db) as store:
        Ingestor(store).run([home / d for d in ("claude", "codex", "gemini", "opencode")])
    con = duckdb.connect(str(db), read_only=True)
    bad = truth_mismatches(con, truth)
    reasons = [r for (r,) in con.execute("SELECT reason FROM problems ORDER BY path").fetchall()]
    con.close()
    if len(reasons) != planted:
        bad.append(f"problems: {len(reasons)} found, {planted} planted: {reasons[:10]}")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.holdout", description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seed", type=int, default=None, help="one seed (default: --seeds)")
    ap.add_argument("--seeds", default="1-3", help="a range a-b of seeds (default 1-3)")
    ap.add_argument("--size-mb", type=float, default=2.0, help="MB per tool (default 2)")
    args = ap.parse_args(argv)
    if args.seed is not None:
        seeds = [args.seed]
    else:
        a, _, b = args.seeds.partition("-")
        seeds = list(range(int(a), int(b or a) + 1))
    failed = 0
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix="logscan-holdout-") as tmp:
            home = Path(tmp) / "home"
            truth, planted = build(home, seed, args.size_mb)
            bad = check(home, Path(tmp) / "h.duckdb", truth, planted)
            calls = ", ".join(f"{tool} {t.events:,}" for tool, t in truth.items())
            print(f"seed {seed}: {'EXACT' if not bad else 'MISMATCH'} (calls: {calls}; {planted} planted problems)")
            for line in bad:
                print("  " + line)
            failed += bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
