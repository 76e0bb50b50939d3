"""Writing a provider pull (``logscan api pull``) into ``api_usage``/``api_costs``: the write the
daemon's single writer runs (``TARGET``, registered in ``logscan.service.calls``).

A pull covers [since, until): its rows **replace** that provider's rows with a bucket starting in
the range, in one transaction, so pulling a range twice adds nothing and a bucket that was still
open is updated. Problems of the pull replace the provider's earlier API problems (kind
``api-response``; path = the endpoint, offset = the page index). Never a key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

USAGE_COLUMNS = ("provider", "bucket_start", "bucket_end", "bucket_width", "model", "workspace_id", "project_id", "api_key_id",
                 "service_tier", "context_window", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                 "cache_write_1h_tokens", "requests", "web_search_requests", "pulled_at")
COST_COLUMNS = ("provider", "bucket_start", "bucket_end", "description", "line_item", "model", "cost_type", "token_type",
                "workspace_id", "project_id", "service_tier", "amount_usd", "currency", "pulled_at")

TARGET = "logscan.store.apistore:save_pull"
PROBLEM_KIND = "api-response"


CLAUDE_CODE_COLUMNS = ("day", "actor_type", "actor", "customer_type", "terminal_type", "sessions", "lines_added", "lines_removed",
                       "commits", "pull_requests", "pulled_at")
CLAUDE_CODE_MODEL_COLUMNS = ("day", "actor_type", "actor", "model", "input_tokens", "output_tokens", "cache_read_tokens",
                             "cache_write_tokens", "estimated_cost_usd", "pulled_at")


def save_pull(store: Any, provider: str, since: datetime, until: datetime, usage: list[list[Any]], costs: list[list[Any]],
              problems: list[list[Any]], pulled_at: datetime, claude_code: list[list[Any]] | None = None,
              claude_code_models: list[list[Any]] | None = None, claude_code_days: list[Any] | None = None) -> dict[str, int]:
    """``claude_code*``: Anthropic's Claude Code report rows, replacing the days in ``claude_code_days``."""
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        for table, cols, rows in (("api_claude_code", CLAUDE_CODE_COLUMNS, claude_code or []),
                                  ("api_claude_code_models", CLAUDE_CODE_MODEL_COLUMNS, claude_code_models or [])):
            if claude_code_days:
                con.execute(f"DELETE FROM {table} WHERE list_contains(?, day)", [list(claude_code_days)])
            if rows:
                con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", [list(r) for r in rows])
        for table, cols, rows in (("api_usage", USAGE_COLUMNS, usage), ("api_costs", COST_COLUMNS, costs)):
            con.execute(f"DELETE FROM {table} WHERE provider = ? AND bucket_start >= ? AND bucket_start < ?", [provider, since, until])
            if rows:
                con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", [list(r) for r in rows])
        con.execute("DELETE FROM problems WHERE kind = ? AND tool = ?", [PROBLEM_KIND, provider])
        if problems:
            con.executemany('INSERT INTO problems (path, "offset", kind, reason, length, tool, parser_version, recorded_at) '
                            "VALUES (?, ?, ?, ?, 0, ?, NULL, ?)", [[p, o, PROBLEM_KIND, r, provider, pulled_at] for p, o, r in problems])
        con.execute("INSERT INTO api_pulls VALUES (?, ?, ?, ?, ?, ?, ?)", [provider, since, until, pulled_at, len(usage), len(costs), len(problems)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    out = {"usage_rows": len(usage), "cost_rows": len(costs), "problems": len(problems)}
    if claude_code_days is not None:
        out["claude_code_rows"] = len(claude_code or [])
    return out
