"""A damaged store has a way back: automatic checked backups, one-line errors that point to
``logscan restore``, and a restore that keeps the history the logs no longer hold."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from daemon_helpers import truth, write_lines
from logscan.cli import cli


def invoke(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.output


def count(db: Path) -> tuple[int, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        n, inp = con.execute("SELECT count(*), sum(input_tokens) FROM events").fetchone()
        return int(n), int(inp or 0)
    finally:
        con.close()


def damage(db: Path) -> None:
    """Overwrite both database headers: DuckDB reports a checksum error on open."""
    with open(db, "r+b") as f:
        for off in (4096 + 8, 8192 + 8):
            f.seek(off)
            f.write(os.urandom(64))


def backups(db: Path) -> list[Path]:
    return sorted((db.parent / "backups").glob("*.duckdb"))


def test_backfill_makes_a_checked_private_backup_at_most_daily(db: Path, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write_lines(root / "p" / "a.jsonl", "a", range(5))
    code, out = invoke("backfill", str(root))
    assert code == 0, out
    found = backups(db)
    assert len(found) == 1
    assert stat.S_IMODE(found[0].parent.stat().st_mode) == 0o700 and stat.S_IMODE(found[0].stat().st_mode) == 0o600
    assert count(found[0]) == count(db) == (5, sum(range(5)))
    write_lines(root / "p" / "b.jsonl", "b", range(3))
    assert invoke("backfill", str(root))[0] == 0
    assert len(backups(db)) == 1  # the newest is younger than a day
    code, out = invoke("backup", "--now")
    assert code == 0 and "backup made" in out and "backups: 2" in out
    assert count(backups(db)[-1]) == (8, sum(range(5)) + sum(range(3)))


def test_rotation_keeps_the_newest_n(db: Path, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write_lines(root / "p" / "a.jsonl", "a", range(2))
    assert invoke("backfill", str(root))[0] == 0
    assert invoke("backup", "--keep", "2")[0] == 0
    from logscan.store.backup import make_backup
    from logscan.store.store import Store

    with Store.open(db) as store:
        for i in range(4):
            make_backup(store, now=1_900_000_000 + i * 86400)
    from logscan.store.backup import stamp

    stamps = [stamp(1_900_000_000 + i * 86400) for i in (2, 3)]
    assert [p.name for p in backups(db)] == [f"logscan-logscan-{s}.duckdb" for s in stamps]


def test_a_damaged_store_is_reported_in_one_line_everywhere(db: Path, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write_lines(root / "p" / "a.jsonl", "a", range(4))
    assert invoke("backfill", str(root))[0] == 0
    damage(db)
    for args in (["query", "SELECT count(*) FROM events"], ["report", "daily"], ["backfill", str(root)]):
        code, out = invoke(*args)
        assert code == 1, (args, out)
        first = out.splitlines()[0]
        assert "is damaged" in first and "logscan restore" in first and "Traceback" not in out, (args, out)
    code, out = invoke("doctor")
    out = " ".join(out.split())  # doctor wraps its paragraphs to the terminal
    assert "is damaged" in out and "logscan restore" in out
    # the daemon exits 78 (the systemd unit's RestartPreventExitStatus): no restart loop
    env = dict(os.environ, LOGSCAN_SOCKET=str(tmp_path / "s"))
    p = subprocess.run([sys.executable, "-m", "logscan", "daemon", str(root)], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 78, p.stderr
    assert "is damaged" in p.stderr and "Traceback" not in p.stderr


def test_restore_brings_back_what_the_logs_no_longer_hold(db: Path, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    old, kept, new = root / "p" / "old.jsonl", root / "p" / "kept.jsonl", root / "p" / "new.jsonl"
    write_lines(old, "o", range(6))
    write_lines(kept, "k", range(4))
    assert invoke("backfill", str(root))[0] == 0
    assert len(backups(db)) == 1
    old.unlink()  # Claude Code deleted it after 30 days: only the store (and its backup) remember
    write_lines(new, "n", range(3))
    assert invoke("backfill", str(root))[0] == 0
    expected = count(db)
    assert expected[0] == 13
    damage(db)
    code, out = invoke("restore", "--no-reread")
    assert code == 0, out
    assert "restored 10 events" in out and "damaged-" in out
    assert list(db.parent.glob("logscan.duckdb.damaged-*"))  # never deleted
    code, out = invoke("backfill", str(root))  # the re-read adds exactly what came after the backup
    assert code == 0, out
    assert count(db) == expected
    n, inp = truth(range(6))[0] + truth(range(4))[0] + truth(range(3))[0], sum(range(6)) + sum(range(4)) + sum(range(3))
    assert count(db) == (n, inp)


def test_restore_rereads_by_itself_and_skips_unreadable_backups(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "projects"
    write_lines(root / "p" / "a.jsonl", "a", range(3))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    (tmp_path / "claude").mkdir()
    (tmp_path / "claude" / "projects").symlink_to(root)
    assert invoke("backfill")[0] == 0
    assert invoke("backup", "--now")[0] == 0
    newest = backups(db)[-1]
    damage(newest)  # the newest backup is bad too: the older good one is used
    damage(db)
    code, out = invoke("restore")
    assert code == 0, out
    assert "skipped (unreadable)" in out and "re-reading" in out
    assert count(db) == (3, sum(range(3)))


def test_restore_without_backups_says_what_to_do(db: Path, tmp_path: Path) -> None:
    code, out = invoke("restore")
    assert code == 1 and "No backup of" in out and "logscan backfill" in out
