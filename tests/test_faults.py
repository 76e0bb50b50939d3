"""Faults in the watched trees never stall ingest and never go unreported: FIFOs, symlink loops,
the same file under two paths, folders that cannot be listed."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from daemon_helpers import truth, write_lines
from logscan.cli import cli


def backfill(*args: str) -> dict:
    r = CliRunner().invoke(cli, ["backfill", "--json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def query(sql: str) -> list[str]:
    r = CliRunner().invoke(cli, ["query", sql, "-f", "csv"])
    assert r.exit_code == 0, r.output
    return r.output.splitlines()[1:]


def run_with_timeout(fn, seconds: float):  # type: ignore[no-untyped-def]
    out: dict = {}

    def body() -> None:
        try:
            out["v"] = fn()
        except BaseException as e:  # noqa: BLE001  (re-raised in the caller's thread)
            out["e"] = e

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "blocked"
    if "e" in out:
        raise out["e"]
    return out["v"]


def test_a_fifo_named_like_a_log_is_skipped_and_reported_once(db: Path, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write_lines(root / "p" / "good.jsonl", "g", range(4))
    os.mkfifo(root / "p" / "trap.jsonl")
    s = run_with_timeout(lambda: backfill(str(root)), 60)  # used to block forever on open()
    assert s["new_events"] == 4
    rows = query("SELECT path, kind, reason FROM problems")
    assert len(rows) == 1 and "trap.jsonl" in rows[0] and "not a regular file" in rows[0]
    s = run_with_timeout(lambda: backfill(str(root)), 60)
    assert s["new_problems"] == 0 and len(query("SELECT * FROM problems")) == 1  # once


def test_the_reader_refuses_a_fifo_swapped_in_after_the_stat(tmp_path: Path) -> None:
    from logscan.sources.reader import open_binary

    fifo = tmp_path / "x.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        run_with_timeout(lambda: open_binary(str(fifo)), 10)


def test_a_directory_symlink_loop_is_read_once(db: Path, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write_lines(root / "proj" / "s.jsonl", "l", range(5))
    (root / "proj" / "loop").symlink_to("..")
    (root / "again").symlink_to(root / "proj")  # the same files under a second path
    s = backfill(str(root))
    n, s_in, _ = truth(range(5))
    assert s["files_read"] == 1 and s["new_events"] == n and s["new_problems"] == 0
    assert query("SELECT count(*), sum(input_tokens) FROM events") == [f"{n},{s_in}"]
    assert query("SELECT count(*) FROM files") == ["1"]


def test_an_unreadable_folder_is_a_problem_counted_and_a_doctor_error(tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 on a project folder. Root reads every folder anyway (CI runs as root), so there
    the permission error is injected where the walk lists that folder; as any other user the
    chmod itself is the fault."""
    root = isolated / ".claude" / "projects"
    write_lines(root / "ok" / "a.jsonl", "a", range(3))
    write_lines(root / "locked" / "b.jsonl", "b", range(2))
    locked = root / "locked"
    os.chmod(locked, 0o000)
    real = os.scandir
    if os.getuid() == 0:

        def scandir(path: object = ".") -> object:
            if os.fspath(path) == str(locked):  # type: ignore[arg-type]
                raise PermissionError(13, "Permission denied", str(locked))
            return real(path)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "scandir", scandir)
    try:
        s = backfill()
        assert s["new_events"] == 3 and s["unreadable_folders"] == 1 and s["new_problems"] == 1
        r = CliRunner().invoke(cli, ["backfill"])
        assert "unreadable: 1 folder(s) could not be listed, so their logs are NOT counted" in r.output
        probs = query("SELECT path, reason FROM problems")
        assert len(probs) == 1 and str(locked) in probs[0] and "chmod u+rx" in probs[0]
        r = CliRunner().invoke(cli, ["doctor", "-f", "json"])
        rows = json.loads(r.output)
        bad = [x for x in rows if x["check"] == "roots" and x["status"] == "error"]
        assert bad and "cannot be read" in bad[0]["finding"] and "chmod u+rx" in bad[0]["what_to_do"], rows
    finally:
        os.chmod(locked, 0o700)
    monkeypatch.setattr(os, "scandir", real)
    s = backfill()  # readable again: its logs are read, nothing else changes
    assert s["new_events"] == 2 and s["unreadable_folders"] == 0


def test_doctor_does_not_flag_opencode_db_as_an_unreadable_folder(tmp_path: Path, isolated: Path) -> None:
    import sqlite3

    db = Path(os.environ["XDG_DATA_HOME"]) / "opencode" / "opencode.db"
    db.parent.mkdir(parents=True)
    sqlite3.connect(db).close()
    from logscan.service.doctor import check_roots

    found = [f for f in check_roots() if "opencode" in f.finding]
    assert found and all(f.status != "error" for f in found), found
    assert not any("chmod u+rx" in f.todo for f in found)


def test_a_json_session_read_mid_rewrite_leaves_no_problem_once_complete(db: Path, tmp_path: Path) -> None:
    """Gemini rewrites its .json session file in place; a read in the middle of a rewrite sees
    half a document. Once the file is whole again, the invalid-json problem is gone."""
    src = Path(__file__).parent / "fixtures" / "gemini" / "home" / ".gemini" / "tmp" / "legacy-tool" / "chats" / "session-2026-04-20T16-45-ffff6666.json"
    chats = tmp_path / "gemini" / "tmp" / "legacy-tool" / "chats"
    chats.mkdir(parents=True)
    dst = chats / src.name
    whole = src.read_bytes()
    dst.write_bytes(whole[: len(whole) // 2])
    s = backfill(str(tmp_path / "gemini"))
    assert s["new_problems"] == 1 and query("SELECT kind FROM problems") == ["invalid-json"]
    dst.write_bytes(whole)
    s = backfill(str(tmp_path / "gemini"))
    assert s["new_events"] > 0
    assert query("SELECT count(*) FROM problems") == ["0"]
