"""Odd shapes from peers' data are counted or reported, never silent zeros (issue 14, point 7)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from logscan.cli import cli


def backfill(root: Path) -> dict:
    r = CliRunner().invoke(cli, ["backfill", "--json", str(root)])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def rows(sql: str) -> list[str]:
    r = CliRunner().invoke(cli, ["query", sql, "-f", "csv"])
    assert r.exit_code == 0, r.output
    return r.output.splitlines()[1:]


def test_gemini_total_only_tokens_are_a_problem_not_an_all_zero_event(db: Path, tmp_path: Path) -> None:
    chats = tmp_path / "gemini" / "tmp" / "proj" / "chats"
    chats.mkdir(parents=True)
    session = {"sessionId": "s1", "projectHash": "proj", "startTime": "2026-05-01T10:00:00Z", "messages": [
        {"id": "m1", "type": "gemini", "timestamp": "2026-05-01T10:00:05Z", "model": "gemini-2.5-pro", "tokens": {"total": 1234}},
        {"id": "m2", "type": "gemini", "timestamp": "2026-05-01T10:00:09Z", "model": "gemini-2.5-pro",
         "tokens": {"input": 100, "output": 20, "cached": 0, "thoughts": 0, "tool": 0, "total": 120}},
    ]}
    (chats / "session-2026-05-01T10-00-aaaa1111.json").write_text(json.dumps(session))
    s = backfill(tmp_path / "gemini")
    assert s["new_events"] == 1 and s["new_problems"] == 1
    assert rows("SELECT count(*) FROM events WHERE total_tokens = 0") == ["0"]
    (reason,) = rows("SELECT reason FROM problems")
    assert "only 'total' (1234)" in reason


def test_codex_epoch_ms_timestamp_is_accepted(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "codex" / "sessions" / "2026" / "05" / "01" / "rollout-2026-05-01T10-00-00-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl"
    f.parent.mkdir(parents=True)
    lines = [
        {"timestamp": "2026-05-01T10:00:00.000Z", "type": "session_meta", "payload": {"id": "0199a213-81c0-7800-8aa1-bbab2a035a53", "cwd": "/p", "cli_version": "0.50.0", "originator": "codex_cli_rs"}},
        {"timestamp": "2026-05-01T10:00:01.000Z", "type": "turn_context", "payload": {"model": "gpt-5"}},
        {"timestamp": 1777629602000, "type": "event_msg", "payload": {"type": "token_count", "info": {
            "total_token_usage": {"input_tokens": 500, "cached_input_tokens": 100, "output_tokens": 50, "reasoning_output_tokens": 10, "total_tokens": 550},
            "last_token_usage": {"input_tokens": 500, "cached_input_tokens": 100, "output_tokens": 50, "reasoning_output_tokens": 10, "total_tokens": 550}}}},
    ]
    f.write_text("".join(json.dumps(x) + "\n" for x in lines))
    s = backfill(tmp_path / "codex")
    assert s["new_events"] == 1 and s["new_problems"] == 0
    assert rows("SELECT input_tokens, cache_read_tokens, output_tokens, strftime(ts, '%Y-%m-%dT%H:%M:%S') FROM events") == ["400,100,50,2026-05-01T10:00:02"]


def test_codex_exec_json_output_is_reported_once_not_counted(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "codex" / "sessions" / "exec-run.jsonl"
    f.parent.mkdir(parents=True)
    lines = [{"type": "thread.started", "thread_id": "t1"}, {"type": "turn.started"},
             {"type": "item.completed", "item": {"id": "i0", "type": "agent_message", "text": "x"}},
             {"type": "turn.completed", "usage": {"input_tokens": 900, "cached_input_tokens": 0, "output_tokens": 40}}]
    f.write_text("".join(json.dumps(x) + "\n" for x in lines))
    s = backfill(tmp_path / "codex")
    assert s["new_events"] == 0 and s["new_problems"] == 1 and s["files_unrecognized"] == 0
    (reason,) = rows("SELECT reason FROM problems")
    assert "codex exec --json" in reason


def test_opencode_message_without_role_but_with_tokens_is_reported(db: Path, tmp_path: Path) -> None:
    msg = tmp_path / "opencode" / "storage" / "message" / "ses_1" / "msg_1.json"
    msg.parent.mkdir(parents=True)
    msg.write_text(json.dumps({"id": "msg_1", "sessionID": "ses_1", "time": {"created": 1789000000000}, "modelID": "gpt-5",
                               "providerID": "openai", "tokens": {"input": 10, "output": 5, "cache": {"read": 0, "write": 0}}}))
    s = backfill(tmp_path / "opencode" / "storage")
    assert s["new_events"] == 0 and s["new_problems"] == 1
    (reason,) = rows("SELECT reason FROM problems")
    assert "no 'role'" in reason
