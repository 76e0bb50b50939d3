"""Benchmark: generate a realistic Claude Code corpus, backfill it, re-run it, check the totals.

    python -m logscan.bench --size-mb 1000          # 1 GB corpus in a temp dir
    python -m logscan.bench --size-mb 200 --dir /tmp/corpus --keep

Most bytes of a real transcript are large tool-result lines and progress lines (TECH_NOTES 4.1:
8.0 MB tool results, 5.9 MB progress, 2.6 MB assistant lines in 16.7 MB); assistant lines repeat
one API response per content block with a growing output count. The generator knows the true
totals (one response counted once, its largest output) and the benchmark checks logscan's store
against them, so a fast wrong answer cannot pass. Each backfill runs as a separate
``logscan backfill`` process: wall time includes start-up, and peak RSS is that process's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m logscan.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=1000.0, help="corpus size in MB (default 1000)")
    ap.add_argument("--dir", type=Path, help="where to write the corpus (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the corpus and the database")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    work = args.dir or Path(tempfile.mkdtemp(prefix="logscan-bench-"))
    corpus = work / "claude"
    db = work / "bench.duckdb"
    if corpus.exists():
        shutil.rmtree(corpus)
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    truth = generate_claude_corpus(corpus, args.size_mb, seed=args.seed)
    gen = time.perf_counter() - t0
    mb = truth.bytes / 1e6
    print(f"corpus: {mb:,.1f} MB in {truth.files} files, {truth.lines:,} lines, {truth.events:,} billed calls (generated in {gen:.1f} s)")
    # drop nothing from the page cache: both runs read warm files, as the daemon does
    wall1, rss1, s1 = _run_backfill(db, corpus)
    print(f"first backfill: {wall1:.2f} s wall, {mb / wall1:,.0f} MB/s (process incl. start-up), peak RSS {rss1:,.0f} MiB;"
          f" in-process {s1['seconds']:.2f} s = {mb / s1['seconds']:,.0f} MB/s")
    wall2, rss2, s2 = _run_backfill(db, corpus)
    print(f"no-change re-run: {wall2 * 1000:,.0f} ms wall (in-process {s2['seconds'] * 1000:,.0f} ms), {s2['bytes_read']} bytes read,"
          f" peak RSS {rss2:,.0f} MiB")
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    got = con.execute(
        "SELECT count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_5m_tokens + cache_write_1h_tokens) FROM events"
    ).fetchone()
    con.close()
    want = (truth.events, truth.input, truth.output, truth.cache_read, truth.cache_write)
    ok = tuple(got) == want and s2["new_events"] == 0
    print(f"totals: {'OK' if ok else 'MISMATCH'} events={got[0]:,} input={got[1]:,} output={got[2]:,} cache_read={got[3]:,} cache_write={got[4]:,}"
          + ("" if ok else f" (expected {want})"))
    if not args.keep and args.dir is None:
        shutil.rmtree(work, ignore_errors=True)
    _ = resource  # (getrusage is used in the child)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
