"""Anthropic's Usage & Cost Admin API (docs/PROVIDER_APIS.md, section 1).

``GET /v1/organizations/usage_report/messages`` (daily buckets, grouped by model, workspace, API
key, service tier and context window) and ``GET /v1/organizations/cost_report`` (daily, grouped
by workspace and description; ``amount`` is a decimal string in **cents**, USD). Headers
``x-api-key`` (an Admin key, ``sk-ant-admin...``) and ``anthropic-version``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from logscan.providers.http import Client
from logscan.providers.rows import BadResult, buckets, count, decimal, text, utc

BASE = "https://api.anthropic.com"
VERSION = "2023-06-01"
KEY_HINT = ("It needs an Admin API key (sk-ant-admin..., created by an organization admin in the Claude Console under "
            "Settings > Admin keys), in ANTHROPIC_ADMIN_KEY or 'logscan api login anthropic'; an ordinary API key is refused.")
USAGE = "/v1/organizations/usage_report/messages"
COSTS = "/v1/organizations/cost_report"


def client(key: str, base_url: str, **kw: Any) -> Client:
    return Client(base_url or BASE, {"x-api-key": key, "anthropic-version": VERSION}, key_hint=KEY_HINT, **kw)


def _range(since: datetime, until: datetime) -> list[tuple[str, str]]:
    return [("starting_at", since.strftime("%Y-%m-%dT%H:%M:%SZ")), ("ending_at", until.strftime("%Y-%m-%dT%H:%M:%SZ"))]


def pull(c: Client, since: datetime, until: datetime, pulled_at: datetime, problem: Callable[[str, int, str], None]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(usage rows, cost rows) for [since, until); each malformed result goes to ``problem``."""
    usage: list[tuple[Any, ...]] = []
    params = [*_range(since, until), ("bucket_width", "1d"), ("limit", "31"),
              *[("group_by[]", g) for g in ("model", "workspace_id", "api_key_id", "service_tier", "context_window")]]
    for i, doc in enumerate(c.pages(USAGE, params)):
        for b, r in _results(doc, USAGE, i, problem):
            try:
                usage.append(("anthropic", b[0], b[1], "1d", text(r, "model"), text(r, "workspace_id"), None, text(r, "api_key_id"),
                              text(r, "service_tier"), text(r, "context_window"), count(r, "uncached_input_tokens"),
                              count(r, "output_tokens"), count(r, "cache_read_input_tokens"),
                              count(r, "cache_creation", "ephemeral_5m_input_tokens"), count(r, "cache_creation", "ephemeral_1h_input_tokens"),
                              None, count(r, "server_tool_use", "web_search_requests"), pulled_at))
            except BadResult as e:
                problem(USAGE, i, str(e))
    costs: list[tuple[Any, ...]] = []
    params = [*_range(since, until), ("limit", "31"), ("group_by[]", "workspace_id"), ("group_by[]", "description")]
    for i, doc in enumerate(c.pages(COSTS, params)):
        for b, r in _results(doc, COSTS, i, problem):
            try:
                cur = text(r, "currency") or "USD"
                costs.append(("anthropic", b[0], b[1], text(r, "description"), None, text(r, "model"), text(r, "cost_type"),
                              text(r, "token_type"), text(r, "workspace_id"), None, text(r, "service_tier"),
                              float(decimal(r.get("amount"), "amount") / 100), cur, pulled_at))
            except BadResult as e:
                problem(COSTS, i, str(e))
    return usage, costs


def _results(doc: dict[str, Any], path: str, page: int, problem: Callable[[str, int, str], None]) -> list[tuple[tuple[datetime, datetime], dict[str, Any]]]:
    out = []
    try:
        bs = buckets(doc)
    except BadResult as e:
        problem(path, page, str(e))
        return []
    for b in bs:
        try:
            if not isinstance(b, dict) or not isinstance(b.get("results"), list):
                raise BadResult("a bucket without a 'results' list")
            span = (utc(b.get("starting_at"), "starting_at"), utc(b.get("ending_at"), "ending_at"))
        except BadResult as e:
            problem(path, page, str(e))
            continue
        for r in b["results"]:
            if isinstance(r, dict):
                out.append((span, r))
            else:
                problem(path, page, "a result that is not an object")
    return out
