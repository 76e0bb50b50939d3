"""backfill, query, problems, schema, parsers through the real click entry point."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from logscan.cli import LAZY_COMMANDS, cli

REAL = Path(__file__).parent / "fixtures" / "claude-code" / "real"
TRAPS = Path(__file__).parent / "fixtures" / "claude-code" / "traps"


def run(*args: str, input: str | None = None, code: int = 0) -> tuple[str, str]:
    r = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    assert r.exit_code == code, r.output
    return r.stdout, r.stderr


def test_backfill_summary_then_rerun(db: Path) -> None:
    out, _ = run("backfill", str(TRAPS))
    assert "events: 6 new" in out and "13 usage records, 7 duplicates dropped" in out
    assert "problems: 4 new (see 'logscan problems')" in out
    out, _ = run("backfill", str(TRAPS), "--json")
    summary = json.loads(out)
    assert summary["new_events"] == 0 and summary["files_unchanged"] == 4 and summary["bytes_read"] == 0


def test_an_undecodable_file_name_is_reported_not_fatal(db: Path, tmp_path: Path) -> None:
    """Linux allows any bytes in a file name; the store holds UTF-8 only. Such a file is reported
    once (its name with U+FFFD) and the others are read; it used to fail the whole commit."""
    import os
    import shutil

    root = tmp_path / "claude"
    shutil.copytree(TRAPS, root)
    good = next(root.rglob("*.jsonl"))
    bad = os.path.join(os.fsencode(good.parent), b"copy-\xff.jsonl")
    shutil.copy(good, bad)
    out, _ = run("backfill", str(root), "--json")
    summary = json.loads(out)
    assert summary["new_events"] == 6 and summary["files_unrecognized"] == 1 and summary["new_problems"] == 5
    out, _ = run("query", "SELECT path, kind FROM problems WHERE reason LIKE '%not valid UTF-8%'", "-f", "json")
    assert json.loads(out) == [{"path": str(good.parent / "copy-\ufffd.jsonl"), "kind": "unreadable"}]
    assert json.loads(run("backfill", str(root), "--json")[0])["new_problems"] == 0  # reported once


def test_backfill_strict_exits_3_on_problems(db: Path) -> None:
    run("backfill", str(TRAPS), "--strict", code=3)


def test_backfill_of_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["backfill", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "does not exist" in r.output


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "ndjson"])
def test_query_formats(db: Path, fmt: str) -> None:
    run("backfill", str(REAL))
    sql = "SELECT model, count(*) AS n, sum(total_tokens) AS tokens, min(ts) AS first FROM events GROUP BY 1 ORDER BY 1"
    out, _ = run("query", sql, "-f", fmt)
    expected = {"claude-opus-4-6": 10, "claude-sonnet-4-20250514": 31, "claude-sonnet-4-5-20250929": 12}
    if fmt == "json":
        rows = json.loads(out)
        assert {r["model"]: r["n"] for r in rows} == expected
        assert rows[0]["first"].endswith("Z")
    elif fmt == "ndjson":
        rows = [json.loads(line) for line in out.splitlines()]
        assert {r["model"]: r["n"] for r in rows} == expected
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert {r["model"]: int(r["n"]) for r in rows} == expected
    else:
        lines = out.splitlines()
        assert lines[0].split() == ["model", "n", "tokens", "first"]
        assert any(line.startswith("claude-sonnet-4-20250514") and " 31 " in line for line in lines)


def test_query_from_stdin(db: Path) -> None:
    run("backfill", str(REAL))
    out, _ = run("query", "-", "-f", "csv", "--no-headers", input="SELECT count(*) FROM events")
    assert out.strip() == "53"


def test_query_cannot_modify_the_store(db: Path) -> None:
    run("backfill", str(REAL))
    r = CliRunner().invoke(cli, ["query", "DELETE FROM events"])
    assert r.exit_code == 1 and "read-only" in r.output
    out, _ = run("query", "SELECT count(*) FROM events", "-f", "csv", "--no-headers")
    assert out.strip() == "53"


def test_query_errors_name_the_tables(db: Path) -> None:
    run("backfill", str(REAL))
    r = CliRunner().invoke(cli, ["query", "SELECT nope FROM events"])
    assert r.exit_code == 1 and "Tables: events" in r.output


def test_query_without_database_says_what_to_do(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.duckdb"), "query", "SELECT 1"])
    assert r.exit_code == 1 and "No database at" in r.output and "logscan backfill" in r.output


def test_problems_lists_place_and_reason(db: Path) -> None:
    run("backfill", str(TRAPS))
    out, _ = run("problems", "-f", "json")
    rows = json.loads(out)
    assert len(rows) == 4
    assert {r["kind"] for r in rows} == {"invalid-json", "schema"}
    assert all(r["path"].endswith("s2-resumed.jsonl") and r["offset"] > 0 for r in rows)


def test_schema_and_parsers(db: Path) -> None:
    run("backfill", str(REAL))
    out, _ = run("schema", "-f", "csv")
    assert "events,BASE TABLE,cost_usd,DOUBLE" in out and "sessions,VIEW" in out
    out, _ = run("parsers", "-f", "json")
    assert "claude-code" in {p["name"] for p in json.loads(out)}


def test_sessions_view(db: Path) -> None:
    run("backfill", str(REAL))
    out, _ = run("query", "SELECT sum(events) AS n FROM sessions", "-f", "csv", "--no-headers")
    assert out.strip() == "53"


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_every_command_has_help(name: str) -> None:
    r = CliRunner().invoke(cli, [name, "--help"])
    assert r.exit_code == 0, r.output
    cmd = cli.get_command(None, name)  # type: ignore[arg-type]
    assert cmd is not None and cmd.help, f"{name} is missing its help"


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv", "table"])
def test_query_handles_integers_beyond_64_bits(db: Path, fmt: str) -> None:
    run("backfill", str(REAL))
    out, _ = run("query", "SELECT 170141183460469231731687303715884105727::HUGEINT AS big, 5::HUGEINT AS small", "-f", fmt)
    assert "170141183460469231731687303715884105727" in out.replace(",", "")
    if fmt == "json":
        assert json.loads(out) == [{"big": "170141183460469231731687303715884105727", "small": 5}]


def test_backfill_runs_the_after_commit_hooks(db: Path, tmp_path: Path) -> None:
    # the statusline reads its cache, which the hooks rewrite after new events are committed
    cache = tmp_path / "logscan-data" / "statusline-cache.json"
    assert not cache.exists()
    run("backfill", str(REAL))
    assert cache.exists()


def test_ctrl_c_during_backfill_says_what_was_kept_and_exits_130(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every committed batch is whole: an interrupt loses nothing, and the next run continues."""
    from daemon_helpers import truth, write_lines
    from logscan.ingest.ingestor import Ingestor

    root = tmp_path / "projects"
    for k in range(6):
        write_lines(root / "p" / f"s{k}.jsonl", f"k{k}", range(10))
    real = Ingestor.process
    seen: list[str] = []

    def interrupted(self: Ingestor, path: str, st: object = None) -> None:
        if len(seen) == 3:
            raise KeyboardInterrupt
        seen.append(path)
        real(self, path, st)
        self.flush()  # as the batch limit would: what was read before the interrupt is committed

    monkeypatch.setattr(Ingestor, "process", interrupted)
    r = CliRunner().invoke(cli, ["backfill", str(root)])
    assert r.exit_code == 130, r.output
    assert "stopped: 30 new events from 3 files were committed" in r.output and "run 'logscan backfill' again" in r.output
    assert "Traceback" not in r.output and "RuntimeError" not in r.output
    monkeypatch.setattr(Ingestor, "process", real)
    out, _ = run("backfill", str(root), "--json")
    assert json.loads(out)["new_events"] == 30
    out, _ = run("query", "SELECT count(*), sum(input_tokens) FROM events", "-f", "csv")
    n, inp, _ = truth(range(10), files=6)
    assert out.splitlines()[1] == f"{n},{inp}"


def test_a_backfill_interrupted_by_sigint_exits_130_without_worker_tracebacks(tmp_path: Path) -> None:
    """A real Ctrl-C (SIGINT to the process group) on a parallel backfill."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from benchmarks.bench import generate_claude_corpus

    corpus = tmp_path / "corpus"
    generate_claude_corpus(corpus, 100.0, seed=5, session_mb=0.5)
    env = dict(os.environ, LOGSCAN_DB=str(tmp_path / "sig.duckdb"))
    p = subprocess.Popen([sys.executable, "-m", "logscan", "backfill", str(corpus)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    wal = tmp_path / "sig.duckdb.wal"
    deadline = time.monotonic() + 60
    while p.poll() is None and not (wal.exists() and wal.stat().st_size > 200_000) and time.monotonic() < deadline:
        time.sleep(0.01)
    if p.poll() is not None:
        pytest.skip("the backfill finished before it could be interrupted")
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, (out, err)
    assert "stopped: " in out + err and "were committed" in out + err and "Traceback" not in err, err
