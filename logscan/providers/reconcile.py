"""``logscan reconcile``: what the providers billed next to what the logs in this store account
for, per day or per model, with the difference and the share the logs explain.

API side: ``api_usage`` tokens (uncached input + output + cache read + cache writes) and
``api_costs`` dollars. Log side: ``events`` whose ``provider`` is that provider (every host in the
store: synced and imported machines count), tokens and API-equivalent cost. Days are UTC days,
as the providers' buckets are. A difference is not an error: ``REASONS`` lists the usual causes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

COLUMNS_DAY = ["provider", "day", "api_tokens", "log_tokens", "diff_tokens", "log_share", "api_usd", "log_usd", "diff_usd"]
COLUMNS_MODEL = ["provider", "model", "api_tokens", "log_tokens", "diff_tokens", "log_share", "api_usd", "log_usd", "diff_usd"]
REASONS = """Why the two differ, usually:
- the key is also used elsewhere: other machines (sync or import them to count
  them), scripts, CI, apps;
- Claude Code on a Pro/Max subscription is not billed through the API: its
  calls show in the logs only;
- batch and priority tiers are priced apart from the logs' standard rates
  (api_usage.service_tier), and Anthropic's cost report leaves Priority Tier
  costs out;
- the providers' buckets are UTC days, and the last one may still be open;
- models the logs cannot price (cost NULL): 'logscan prices' lists them."""


def reconcile(db: Path, since: datetime, until: datetime, by: str = "day") -> tuple[list[str], list[tuple[Any, ...]]]:
    from logscan.service.client import run_query

    key = "CAST(bucket_start AS DATE)" if by == "day" else "coalesce(model, '(not by model)')"
    lkey = "CAST(ts AS DATE)" if by == "day" else "coalesce(model, '(none)')"
    sql = f"""
    WITH api AS (SELECT provider, {key} AS k, sum(input_tokens + output_tokens + cache_read_tokens + cache_write_5m_tokens
                        + cache_write_1h_tokens) AS tokens FROM api_usage WHERE bucket_start >= ? AND bucket_start < ? GROUP BY ALL),
         cost AS (SELECT provider, {key} AS k, sum(amount_usd) AS usd FROM api_costs WHERE bucket_start >= ? AND bucket_start < ? GROUP BY ALL),
         loc AS (SELECT provider, {lkey} AS k, sum(total_tokens) AS tokens, sum(cost_usd) AS usd FROM events
                 WHERE provider IN (SELECT DISTINCT provider FROM api_usage UNION SELECT DISTINCT provider FROM api_costs)
                   AND ts >= ? AND ts < ? GROUP BY ALL),
         keys AS (SELECT provider, k FROM api UNION SELECT provider, k FROM cost UNION SELECT provider, k FROM loc)
    SELECT keys.provider, keys.k, coalesce(api.tokens, 0)::BIGINT, coalesce(loc.tokens, 0)::BIGINT,
           (coalesce(api.tokens, 0) - coalesce(loc.tokens, 0))::BIGINT,
           CASE WHEN coalesce(api.tokens, 0) > 0 THEN round(coalesce(loc.tokens, 0) / api.tokens, 4) END,
           cost.usd, loc.usd, cost.usd - coalesce(loc.usd, 0)
    FROM keys LEFT JOIN api USING (provider, k) LEFT JOIN cost USING (provider, k) LEFT JOIN loc USING (provider, k)
    ORDER BY 1, 2"""
    _, rows = run_query(db, sql, [since, until, since, until, since, until])
    return (COLUMNS_DAY if by == "day" else COLUMNS_MODEL), [tuple(r) for r in rows]
