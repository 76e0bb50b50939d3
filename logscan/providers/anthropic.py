"""Anthropic's Usage & Cost Admin API (docs/PROVIDER_APIS.md, section 1).

``GET /v1/organizations/usage_report/messages`` (daily buckets, grouped by model, workspace, API
key, service tier and context window) and ``GET /v1/organizations/cost_report`` (daily, grouped
by workspace and description; ``amount`` is a decimal string in **cents**, USD). Headers
``x-api-key`` (an Admin key, ``sk-ant-admin...``) and ``anthropic-version``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from logscan.providers.http import Client
from logscan.providers.rows import BadResult, count, decimal, results, text, utc

BASE = "https://api.anthropic.com"
VERSION = "2023-06-01"
KEY_HINT = ("It needs an Admin API key (sk-ant-admin..., created by an organization admin in the Claude Console under "
            "Settings > Admin keys), in ANTHROPIC_ADMIN_KEY or 'logscan api login anthropic'; an ordinary API key is refused.")
USAGE = "/v1/organizations/usage_report/messages"
COSTS = "/v1/organizations/cost_report"
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"


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
                cur = (text(r, "currency") or "USD").upper()
                cents = decimal(r.get("amount"), "amount")
                costs.append(("anthropic", b[0], b[1], text(r, "description"), None, text(r, "model"), text(r, "cost_type"),
                              text(r, "token_type"), text(r, "workspace_id"), None, text(r, "service_tier"),
                              float(cents / 100) if cur == "USD" else None, cur, pulled_at))
            except BadResult as e:
                problem(COSTS, i, str(e))
    return usage, costs


def _results(doc: dict[str, Any], path: str, page: int, problem: Callable[[str, int, str], None]) -> list[tuple[tuple[datetime, datetime], dict[str, Any]]]:
    return results(doc, path, page, problem, "starting_at", "ending_at")


def pull_claude_code(c: Client, since: datetime, until: datetime, pulled_at: datetime,
                     problem: Callable[[str, int, str], None]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[date]]:
    """The Claude Code report, one UTC day per request (``starting_at=YYYY-MM-DD``): (rows per day
    and actor, rows per day, actor and model, the days asked). ``estimated_cost.amount`` is in
    cents. The actor is a user's email address or an API key's *name*."""
    people: list[tuple[Any, ...]] = []
    models: list[tuple[Any, ...]] = []
    days = []
    d = since.date()
    while datetime.combine(d, datetime.min.time()) < until:
        days.append(d)
        for i, doc in enumerate(c.pages(CLAUDE_CODE, [("starting_at", d.isoformat()), ("limit", "1000")])):
            recs = doc.get("data")
            if not isinstance(recs, list):
                problem(CLAUDE_CODE, i, "data: expected a list of records")
                continue
            for r in recs:
                try:
                    if not isinstance(r, dict):
                        raise BadResult("a record that is not an object")
                    actor = r.get("actor")
                    if not isinstance(actor, dict):
                        raise BadResult("actor: expected an object")
                    who = text(actor, "email_address") or text(actor, "api_key_name")
                    if not who:
                        raise BadResult("actor: neither email_address nor api_key_name")
                    kind = text(actor, "type") or "unknown"
                    day = utc(r.get("date") or f"{d.isoformat()}T00:00:00Z", "date").date()
                    cm = r.get("core_metrics") or {}
                    if not isinstance(cm, dict):
                        raise BadResult("core_metrics: expected an object")
                    row = (day, kind, who, text(r, "customer_type"), text(r, "terminal_type"), count(cm, "num_sessions"),
                           count(cm, "lines_of_code", "added"), count(cm, "lines_of_code", "removed"), count(cm, "commits_by_claude_code"),
                           count(cm, "pull_requests_by_claude_code"), pulled_at)
                    mrows = []
                    for m in r.get("model_breakdown") or []:
                        if not isinstance(m, dict) or not text(m, "model"):
                            raise BadResult("model_breakdown: an entry without a model")
                        cost = m.get("estimated_cost")
                        usd = float(decimal(cost.get("amount"), "estimated_cost.amount") / 100) if isinstance(cost, dict) else None
                        mrows.append((day, kind, who, text(m, "model"), count(m, "tokens", "input"), count(m, "tokens", "output"),
                                      count(m, "tokens", "cache_read"), count(m, "tokens", "cache_creation"), usd, pulled_at))
                except BadResult as e:
                    problem(CLAUDE_CODE, i, str(e))
                    continue
                people.append(row)
                models.extend(mrows)
        d += timedelta(days=1)
    return people, models, days
