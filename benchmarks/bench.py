"""Benchmark: generate realistic corpora with known totals, backfill them, re-run, check.

    python -m benchmarks.bench --tools claude --size-mb 1000     # 1 GB Claude Code corpus
    python -m benchmarks.bench --size-mb 100                     # 100 MB of each of the four tools
    python -m benchmarks.bench --size-mb 200 --dir /tmp/corpus --keep

Most bytes of a real Claude Code transcript are large tool-result lines and progress lines
(TECH_NOTES 4.1: 8.0 MB tool results, 5.9 MB progress, 2.6 MB assistant lines in 16.7 MB);
assistant lines repeat one API response per content block with a growing output count. The
Codex, Gemini and OpenCode generators follow their formats' traps the same way (cumulative
totals re-emitted unchanged; messages re-appended; zero-token first writes and multi-step
messages). Each generator knows the true totals and the benchmark checks logscan's store
against them, so a fast wrong answer cannot pass. Each backfill runs as a separate
``logscan backfill`` process: wall time includes start-up, and peak RSS is that process's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODELS = ("claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001")


@dataclass
class Truth:
    files: int = 0
    bytes: int = 0
    lines: int = 0
    events: int = 0
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    per_model: dict[str, int] = field(default_factory=dict)


def _text_pool(rng: random.Random, n: int = 1 << 20) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz      ABCDEFGHIJ0123456789.,;:()=_-"
    return "".join(rng.choice(alphabet) for _ in range(n))


def generate_claude_corpus(root: Path, size_mb: float, seed: int = 0, session_mb: float = 5.0) -> Truth:
    """Write ``size_mb`` MB of transcripts under ``root/projects`` and return the true totals."""
    rng = random.Random(seed)
    pool = _text_pool(rng)
    truth = Truth()
    target = int(size_mb * 1e6)
    proj_count = max(1, int(size_mb // 100) + 1)
    session = 0
    while truth.bytes < target:
        session += 1
        proj = f"/home/dev/project-{session % proj_count}"
        d = root / "projects" / proj.replace("/", "-")
        d.mkdir(parents=True, exist_ok=True)
        sid = f"{seed:04x}{session:08x}-0000-4000-8000-000000000000"
        budget = min(int(session_mb * 1e6 * rng.uniform(0.3, 1.7)), target - truth.bytes + 1)
        truth.bytes += _write_session(d / f"{sid}.jsonl", sid, proj, budget, rng, pool, truth, sidechain=None)
        truth.files += 1
        if rng.random() < 0.4:  # a Task subagent file beside it
            sub = d / sid / "subagents" / f"agent-a{session:06x}.jsonl"
            sub.parent.mkdir(parents=True, exist_ok=True)
            truth.bytes += _write_session(sub, sid, proj, budget // 5, rng, pool, truth, sidechain=f"a{session:06x}")
            truth.files += 1
    return truth


def _write_session(path: Path, sid: str, cwd: str, budget: int, rng: random.Random, pool: str, truth: Truth, sidechain: str | None) -> int:
    side = "true" if sidechain else "false"
    agent = f',"agentId":"{sidechain}"' if sidechain else ""
    head = f'"isSidechain":{side}{agent},"userType":"external","cwd":"{cwd}","sessionId":"{sid}","version":"2.1.40","gitBranch":"main"'
    out: list[str] = []
    size = 0
    n = 0
    t = 1_767_225_600 + rng.randrange(0, 200 * 86400)
    while size < budget:
        n += 1
        t += rng.randrange(5, 90)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{rng.randrange(1000):03d}Z"
        # one API response: 1-4 content-block lines sharing id and usage, output growing
        model = MODELS[0] if not sidechain else MODELS[rng.randrange(1, 3)]
        mid = f"msg_{sid[:12]}{n:08d}{sidechain or ''}"
        rid = f"req_{sid[:12]}{n:08d}{sidechain or ''}"
        inp, cr, cw = rng.randrange(1, 20), rng.randrange(0, 150_000), rng.randrange(0, 20_000)
        final_out = rng.randrange(20, 3000)
        blocks = rng.randrange(1, 5)
        for b in range(blocks):
            o = final_out if b == blocks - 1 else rng.randrange(1, 14)
            text = pool[rng.randrange(0, len(pool) - 900) :][: rng.randrange(100, 900)]
            line = (
                f'{{"parentUuid":"p{n}-{b}",{head},"message":{{"model":"{model}","id":"{mid}","type":"message","role":"assistant",'
                f'"content":[{{"type":"text","text":"{text}"}}],"stop_reason":null,"stop_sequence":null,'
                f'"usage":{{"input_tokens":{inp},"cache_creation_input_tokens":{cw},"cache_read_input_tokens":{cr},'
                f'"cache_creation":{{"ephemeral_5m_input_tokens":{cw},"ephemeral_1h_input_tokens":0}},"output_tokens":{o},'
                f'"service_tier":"standard"}}}},"requestId":"{rid}","type":"assistant","uuid":"u{n}-{b}","timestamp":"{ts}"}}'
            )
            out.append(line)
            size += len(line) + 1
        truth.events += 1
        truth.input += inp
        truth.output += final_out
        truth.cache_read += cr
        truth.cache_write += cw
        truth.per_model[model] = truth.per_model.get(model, 0) + 1
        # progress lines (some are agent_progress echoes carrying a usage copy: not to be counted)
        for _ in range(rng.randrange(2, 8)):
            data = pool[rng.randrange(0, len(pool) - 1200) :][: rng.randrange(300, 1200)]
            echo = (
                f',"message":{{"type":"assistant","message":{{"id":"{mid}","usage":{{"input_tokens":{inp},"output_tokens":7}}}}}}'
                if rng.random() < 0.1
                else ""
            )
            line = f'{{"parentUuid":"p{n}",{head},"type":"progress","data":{{"type":"agent_progress","output":"{data}"{echo}}},"uuid":"g{n}","timestamp":"{ts}"}}'
            out.append(line)
            size += len(line) + 1
        # the tool result: most of the bytes
        big = rng.random() < 0.08
        length = rng.randrange(40_000, 180_000) if big else rng.randrange(2_000, 30_000)
        body = []
        while length > 0:
            piece = pool[rng.randrange(0, len(pool) - 60_000) :][: min(length, 60_000)]
            body.append(piece)
            length -= len(piece)
        line = (
            f'{{"parentUuid":"a{n}",{head},"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_{n}",'
            f'"type":"tool_result","content":"{"".join(body)}"}}]}},"uuid":"r{n}","timestamp":"{ts}"}}'
        )
        out.append(line)
        size += len(line) + 1
    data = "\n".join(out) + "\n"
    path.write_text(data)
    truth.lines += len(out)
    return len(data.encode())


def truth_mismatches(con: Any, truth: dict[str, Truth]) -> list[str]:
    """Per tool, the store's (calls, input, output, cache read, cache write) against the
    generator's truth, on an open DuckDB connection; one line per tool that differs."""
    got = {tool: tuple(int(x or 0) for x in row) for tool, *row in con.execute(
        "SELECT tool, count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_5m_tokens + cache_write_1h_tokens)"
        " FROM events GROUP BY tool").fetchall()}
    bad = []
    for tool, t in truth.items():
        want = (t.events, t.input, t.output, t.cache_read, t.cache_write)
        if got.get(tool) != want:
            bad.append(f"{tool}: got (calls, input, output, cache read, cache write) = {got.get(tool)}, truth {want}")
    return bad


def _add(truth: Truth, model: str, inp: int, out: int, cr: int, cw: int) -> None:
    truth.events += 1
    truth.input += inp
    truth.output += out
    truth.cache_read += cr
    truth.cache_write += cw
    truth.per_model[model] = truth.per_model.get(model, 0) + 1


def _blob(rng: random.Random, pool: str, lo: int, hi: int) -> str:
    n = rng.randrange(lo, hi)
    out = []
    while n > 0:
        piece = pool[rng.randrange(0, len(pool) - 60_000) :][: min(n, 60_000)]
        out.append(piece)
        n -= len(piece)
    return "".join(out)


def _stamp(t: int, k: int) -> str:
    """ISO-8601 UTC, as the tools write it, ``k`` seconds after ``t``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t + k)) + ".000Z"


def _write_lines(path: Path, lines: list[str], truth: Truth) -> None:
    data = "\n".join(lines) + "\n"
    path.write_text(data)
    truth.files += 1
    truth.lines += len(lines)
    truth.bytes += len(data.encode())


def generate_codex_corpus(root: Path, size_mb: float, seed: int = 0) -> Truth:
    """Rollouts under ``root/sessions/YYYY/MM/DD``: big tool outputs, cumulative token_count
    events (one in ten re-emitted unchanged, which must not count)."""
    rng = random.Random(seed)
    pool = _text_pool(rng)
    truth = Truth()
    target = int(size_mb * 1e6)
    n = 0
    while truth.bytes < target:
        n += 1
        tid = f"0199{seed:04x}-{n:04x}-7000-8000-{n:012x}"
        t = 1_772_000_000 + n * 7200
        day = time.strftime("%Y/%m/%d", time.gmtime(t))
        path = root / "sessions" / day / f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', time.gmtime(t))}-{tid}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = []

        lines.append(f'{{"timestamp":"{_stamp(t, 0)}","type":"session_meta","payload":{{"id":"{tid}","timestamp":"{_stamp(t, 0)}","cwd":"/home/dev/p{n % 7}","originator":"codex_cli_rs","cli_version":"0.60.0","model_provider":"openai"}}}}')
        lines.append(f'{{"timestamp":"{_stamp(t, 0)}","type":"turn_context","payload":{{"cwd":"/home/dev/p{n % 7}","approval_policy":"on-request","model":"gpt-5-codex","effort":"medium"}}}}')
        tot = [0, 0, 0, 0]
        size = 0
        budget = int(5e6 * rng.uniform(0.3, 1.7))
        k = 0
        while size < budget:
            k += 1
            out_text = _blob(rng, pool, 2_000, 40_000)
            lines.append(f'{{"timestamp":"{_stamp(t, k)}","type":"response_item","payload":{{"type":"function_call_output","call_id":"call_{k}","output":"{out_text}"}}}}')
            inp = rng.randrange(2_000, 120_000)
            cached = rng.randrange(0, inp)
            out = rng.randrange(10, 4_000)
            reasoning = rng.randrange(0, out)
            tot = [tot[0] + inp, tot[1] + cached, tot[2] + out, tot[3] + reasoning]
            ev = (
                f'{{"timestamp":"{_stamp(t, k)}","type":"event_msg","payload":{{"type":"token_count","info":{{'
                f'"total_token_usage":{{"input_tokens":{tot[0]},"cached_input_tokens":{tot[1]},"output_tokens":{tot[2]},"reasoning_output_tokens":{tot[3]},"total_tokens":{tot[0] + tot[2]}}},'
                f'"last_token_usage":{{"input_tokens":{inp},"cached_input_tokens":{cached},"output_tokens":{out},"reasoning_output_tokens":{reasoning},"total_tokens":{inp + out}}},'
                f'"model_context_window":272000}},"rate_limits":null}}}}'
            )
            lines.append(ev)
            if rng.random() < 0.1:
                lines.append(ev)  # re-emitted with an unchanged total: not a new call
            _add(truth, "gpt-5-codex", inp - cached, out, cached, 0)
            size += len(out_text) + 900
        _write_lines(path, lines, truth)
    return truth


def generate_gemini_corpus(root: Path, size_mb: float, seed: int = 0) -> Truth:
    """Chat logs under ``root/tmp/<project>/chats``: big user turns, gemini messages whose
    first write has no tokens and which are re-appended (last write wins)."""
    rng = random.Random(seed)
    pool = _text_pool(rng)
    truth = Truth()
    target = int(size_mb * 1e6)
    n = 0
    while truth.bytes < target:
        n += 1
        sid = f"{seed:04x}{n:04x}-0000-4000-8000-{n:012x}"
        t = 1_775_000_000 + n * 3600
        path = root / "tmp" / f"proj{n % 5}" / "chats" / f"session-{time.strftime('%Y-%m-%dT%H-%M', time.gmtime(t))}-{sid[:8]}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)

        lines = [f'{{"sessionId":"{sid}","projectHash":"{n:064x}","startTime":"{_stamp(t, 0)}","lastUpdated":"{_stamp(t, 0)}","kind":"main"}}']
        size = 0
        budget = int(3e6 * rng.uniform(0.3, 1.7))
        k = 0
        while size < budget:
            k += 1
            text = _blob(rng, pool, 1_000, 30_000)
            lines.append(f'{{"id":"u-{sid}-{k}","timestamp":"{_stamp(t, k)}","type":"user","content":"{text}"}}')
            model = ("gemini-2.5-pro", "gemini-2.5-flash")[k % 2]
            mid = f"g-{sid}-{k}"
            inp = rng.randrange(1_000, 200_000)
            cached = rng.randrange(0, inp)
            out = rng.randrange(10, 3_000)
            thoughts = rng.randrange(0, 800)
            tool = rng.randrange(0, 50) if rng.random() < 0.2 else 0
            head = f'{{"id":"{mid}","timestamp":"{_stamp(t, k)}","type":"gemini","content":"{pool[k:k + 300]}","model":"{model}"'
            if rng.random() < 0.3:
                lines.append(head + ',"tokens":null}')  # first write before the tokens arrive
            toks = f'"tokens":{{"input":{inp},"output":{out},"cached":{cached},"thoughts":{thoughts},"tool":{tool},"total":{inp + out + thoughts + tool}}}'
            lines.append(head + "," + toks + "}")
            if rng.random() < 0.5:
                lines.append(head + "," + toks + ',"toolCalls":[{"id":"t1","name":"read_file","status":"success"}]}')
            _add(truth, model, inp - cached + tool, out + thoughts, cached, 0)
            size += len(text) + 1200
        _write_lines(path, lines, truth)
    return truth


OPENCODE_SCHEMA = """
CREATE TABLE project (id text PRIMARY KEY NOT NULL, worktree text NOT NULL, time_created integer NOT NULL, time_updated integer NOT NULL);
CREATE TABLE session (id text PRIMARY KEY NOT NULL, project_id text NOT NULL, workspace_id text, parent_id text, slug text NOT NULL,
  directory text NOT NULL, title text NOT NULL, version text NOT NULL, time_created integer NOT NULL, time_updated integer NOT NULL,
  time_compacting integer, time_archived integer);
CREATE TABLE message (id text PRIMARY KEY NOT NULL, session_id text NOT NULL, time_created integer NOT NULL, time_updated integer NOT NULL, data text NOT NULL);
CREATE TABLE part (id text PRIMARY KEY NOT NULL, message_id text NOT NULL, session_id text NOT NULL, time_created integer NOT NULL,
  time_updated integer NOT NULL, data text NOT NULL);
CREATE INDEX message_session_time_created_id_idx ON message (session_id, time_created, id);
CREATE INDEX part_message_id_id_idx ON part (message_id, id);
"""


def generate_opencode_corpus(root: Path, size_mb: float, seed: int = 0) -> Truth:
    """``root/opencode/opencode.db`` in WAL mode: big text parts, multi-step messages whose
    message row holds only the last step (each step-finish part is one billed call: the truth
    counts steps, and their tokens), zero-token messages."""
    import sqlite3

    rng = random.Random(seed)
    pool = _text_pool(rng)
    truth = Truth()
    path = root / "opencode" / "opencode.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(OPENCODE_SCHEMA)
    con.execute("INSERT INTO project VALUES ('p1', '/home/dev/app', 1789000000000, 1789000000000)")
    target = int(size_mb * 1e6)
    size = 0
    n = 0
    t = 1_789_000_000_000
    while size < target:
        n += 1
        sid = f"ses_{seed:04x}{n:08x}"
        con.execute("INSERT INTO session (id, project_id, slug, directory, title, version, time_created, time_updated) VALUES (?, 'p1', 's', '/home/dev/app', 't', '1.2.0', ?, ?)", (sid, t, t))
        for m in range(40):
            t += 5_000
            mid = f"msg_{sid}_{m:04d}"
            model, provider = (("claude-sonnet-4-5", "anthropic"), ("gpt-5", "openai"))[m % 2]
            steps = [(rng.randrange(1, 5_000), rng.randrange(10, 2_000), rng.randrange(0, 300), rng.randrange(0, 90_000), rng.randrange(0, 5_000)) for _ in range(rng.randrange(0, 4))]
            parts = []
            for j, (i_, o_, r_, cr_, cw_) in enumerate(steps):
                text = _blob(rng, pool, 2_000, 25_000)
                parts.append((f"prt_{mid}_{j}a", mid, sid, t + j, t + j, f'{{"type":"text","text":"{text}"}}'))
                parts.append((f"prt_{mid}_{j}b", mid, sid, t + j, t + j, f'{{"type":"step-finish","reason":"stop","cost":0,"tokens":{{"input":{i_},"output":{o_},"reasoning":{r_},"cache":{{"read":{cr_},"write":{cw_}}}}}}}'))
                size += len(text) + 250
            for x in steps:  # one event per billed call: each step-finish part with tokens
                if any(x):
                    _add(truth, model, x[0], x[1], x[3], x[4])
            last = steps[-1] if steps else (0, 0, 0, 0, 0)  # no steps: the zero-token first write
            data = f'{{"role":"assistant","time":{{"created":{t}}},"modelID":"{model}","providerID":"{provider}","path":{{"cwd":"/home/dev/app","root":"/home/dev/app"}},"tokens":{{"input":{last[0]},"output":{last[1]},"reasoning":{last[2]},"cache":{{"read":{last[3]},"write":{last[4]}}}}}}}'
            con.execute("INSERT INTO message VALUES (?, ?, ?, ?, ?)", (mid, sid, t, t + 4_000, data))
            con.executemany("INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)", parts)
            size += len(data)
        con.commit()
    con.close()
    truth.files = 1
    truth.bytes = sum(f.stat().st_size for f in path.parent.iterdir())
    return truth


GENERATORS = {
    # tool -> (generator, what to backfill, relative to the corpus root)
    "claude": (generate_claude_corpus, "."),
    "codex": (generate_codex_corpus, "."),
    "gemini": (generate_gemini_corpus, "."),
    "opencode": (generate_opencode_corpus, "opencode/opencode.db"),
}


def _run_backfill(db: Path, corpus: Path) -> tuple[float, float, dict]:  # type: ignore[type-arg]
    env = {**os.environ, "LOGSCAN_DB": str(db)}
    code = (
        "import resource, sys, time, json, subprocess\n"
        "t=time.perf_counter()\n"
        f"p=subprocess.run([sys.executable,'-m','logscan','backfill',{str(corpus)!r},'--json','-q'],capture_output=True,text=True)\n"
        "w=time.perf_counter()-t\n"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'wall':w,'rss_kib':r,'rc':p.returncode,'out':p.stdout,'err':p.stderr}))\n"
    )
    res = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
    if res["rc"] != 0:
        raise SystemExit(f"backfill failed: {res['err']}")
    rss_mib = res["rss_kib"] / 1024 if sys.platform != "darwin" else res["rss_kib"] / 1024 / 1024
    return res["wall"], rss_mib, json.loads(res["out"])


def bench_tool(tool: str, work: Path, size_mb: float, seed: int) -> bool:
    gen, rel = GENERATORS[tool]
    corpus_root = work / tool
    db = work / f"{tool}.duckdb"
    if corpus_root.exists():
        shutil.rmtree(corpus_root)
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    truth = gen(corpus_root, size_mb, seed=seed)
    gen_s = time.perf_counter() - t0
    os.sync()  # let the generator's writes reach the disk before anything is timed
    target = corpus_root / rel
    mb = truth.bytes / 1e6
    print(f"[{tool}] corpus: {mb:,.1f} MB in {truth.files} files, {truth.events:,} billed calls (generated in {gen_s:.1f} s)")
    wall1, rss1, s1 = _run_backfill(db, target)
    print(f"[{tool}] first backfill: {wall1:.2f} s wall, {mb / wall1:,.0f} MB/s (process incl. start-up), peak RSS {rss1:,.0f} MiB;"
          f" in-process {s1['seconds']:.2f} s = {mb / max(s1['seconds'], 1e-9):,.0f} MB/s")
    wall2, rss2, s2 = _run_backfill(db, target)
    print(f"[{tool}] no-change re-run: {wall2 * 1000:,.0f} ms wall (in-process {s2['seconds'] * 1000:,.0f} ms), {s2['bytes_read']} bytes read,"
          f" peak RSS {rss2:,.0f} MiB")
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    got = con.execute(
        "SELECT count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_5m_tokens + cache_write_1h_tokens) FROM events"
    ).fetchone()
    con.close()
    got = tuple(int(x or 0) for x in got)
    want = (truth.events, truth.input, truth.output, truth.cache_read, truth.cache_write)
    ok = got == want and s2["new_events"] == 0
    print(f"[{tool}] totals: {'OK' if ok else 'MISMATCH'} events={got[0]:,} input={got[1]:,} output={got[2]:,} cache_read={got[3]:,} cache_write={got[4]:,}"
          + ("" if ok else f" (expected {want})"))
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--tools", default=",".join(GENERATORS), help=f"comma-separated, from {', '.join(GENERATORS)} (default: all)")
    ap.add_argument("--size-mb", type=float, default=250.0, help="corpus size per tool in MB (default 250)")
    ap.add_argument("--dir", type=Path, help="where to write the corpora (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the corpora and the databases")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in tools if t not in GENERATORS]
    if unknown:
        ap.error(f"unknown tool(s) {', '.join(unknown)}; choose from {', '.join(GENERATORS)}")
    work = args.dir or Path(tempfile.mkdtemp(prefix="logscan-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ok = all([bench_tool(t, work, args.size_mb, args.seed) for t in tools])
    if not args.keep and args.dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
