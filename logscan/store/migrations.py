"""Numbered, append-only schema migrations. Each runs in its own transaction together with the
row that records it in ``_logscan_migrations``. Never edit a shipped migration: add ``m00N_fix_…``.

There is deliberately no PRIMARY KEY on ``events``: an ART index made the file 5-6x larger and
loads 6-18x slower (TECH_NOTES 2.6). Uniqueness of ``event_id`` comes from the single writer
merging batches that were collapsed first; ``logscan doctor`` and the tests check it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logscan.errors import MigrationError

Migration = Callable[[Any], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    if any(m.__name__ == fn.__name__ for m in MIGRATIONS):
        raise ValueError(f"duplicate migration name {fn.__name__}")
    MIGRATIONS.append(fn)
    return fn


EVENT_COLUMNS: list[tuple[str, str]] = [
    ("event_id", "BIGINT NOT NULL"),
    ("tool", "VARCHAR NOT NULL"),
    ("provider", "VARCHAR"),
    ("model", "VARCHAR NOT NULL"),
    ("ts", "TIMESTAMP NOT NULL"),  # UTC; days are computed at report time in the user's zone
    ("session_id", "VARCHAR"),
    ("project", "VARCHAR"),
    ("is_sidechain", "BOOLEAN NOT NULL"),
    ("agent_id", "VARCHAR"),
    ("message_id", "VARCHAR"),
    ("request_id", "VARCHAR"),
    ("input_tokens", "BIGINT NOT NULL"),
    ("output_tokens", "BIGINT NOT NULL"),
    ("cache_read_tokens", "BIGINT NOT NULL"),
    ("cache_write_5m_tokens", "BIGINT NOT NULL"),
    ("cache_write_1h_tokens", "BIGINT NOT NULL"),
    ("reasoning_tokens", "BIGINT NOT NULL"),
    ("total_tokens", "BIGINT NOT NULL"),  # input + output + cache read + cache writes
    ("web_search_requests", "INTEGER NOT NULL"),
    ("web_fetch_requests", "INTEGER NOT NULL"),
    ("output_lower_bound", "BOOLEAN NOT NULL"),
    ("speed", "VARCHAR"),
    ("cost_usd", "DOUBLE"),  # NULL when unpriced, never 0 for an unknown model
    ("price_status", "VARCHAR NOT NULL"),
    ("priced_model", "VARCHAR"),
    ("pricing_version", "VARCHAR"),
    ("host", "VARCHAR NOT NULL"),
    ("source_path", "VARCHAR NOT NULL"),
    ("source_offset", "BIGINT NOT NULL"),
    ("rank", "BIGINT NOT NULL"),
    ("ingested_at", "TIMESTAMP NOT NULL"),
]


@migration
def m001_events(con: Any) -> None:
    cols = ",\n  ".join(f"{n} {t}" for n, t in EVENT_COLUMNS)
    con.execute(f"CREATE TABLE events (\n  {cols}\n)")


@migration
def m002_files(con: Any) -> None:
    # Per-file read position, committed in the same transaction as the events it covers.
    con.execute(
        """CREATE TABLE files (
          path VARCHAR NOT NULL,
          tool VARCHAR NOT NULL,
          dev BIGINT,
          inode BIGINT,
          size BIGINT NOT NULL,
          mtime_ns BIGINT,
          "offset" BIGINT NOT NULL,
          head_hash VARCHAR,
          state VARCHAR,
          parser_version INTEGER,
          first_seen TIMESTAMP NOT NULL,
          updated_at TIMESTAMP NOT NULL,
          missing_since TIMESTAMP
        )"""
    )


@migration
def m003_problems(con: Any) -> None:
    # Where a line could not be used and why. Never the line's content (it may hold prompts).
    con.execute(
        """CREATE TABLE problems (
          path VARCHAR NOT NULL,
          "offset" BIGINT NOT NULL,
          kind VARCHAR NOT NULL,
          reason VARCHAR NOT NULL,
          length BIGINT,
          tool VARCHAR,
          parser_version INTEGER,
          recorded_at TIMESTAMP NOT NULL
        )"""
    )


@migration
def m004_sessions_view(con: Any) -> None:
    con.execute(
        """CREATE VIEW sessions AS
        SELECT tool, session_id, any_value(project) AS project, min(ts) AS first_ts, max(ts) AS last_ts,
               count(*) AS events, string_agg(DISTINCT model, ',' ORDER BY model) AS models,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
               sum(cache_read_tokens) AS cache_read_tokens,
               sum(cache_write_5m_tokens + cache_write_1h_tokens) AS cache_write_tokens,
               sum(total_tokens) AS total_tokens, sum(cost_usd) AS cost_usd,
               count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_events
        FROM events GROUP BY tool, session_id"""
    )


@migration
def m005_quota_snapshots(con: Any) -> None:
    # Quota bar readings (logscan.models.QuotaSnapshot); snapshot_id is content-derived, so a
    # re-read transcript or re-imported spool adds nothing. Times are UTC.
    con.execute(
        """CREATE TABLE quota_snapshots (
          snapshot_id BIGINT NOT NULL,
          tool VARCHAR NOT NULL,
          window_kind VARCHAR NOT NULL,  -- five_hour | weekly | weekly_model | monthly | credits | <N>h | annual
          scope VARCHAR,
          used_percent DOUBLE,
          resets_at TIMESTAMP,
          captured_at TIMESTAMP NOT NULL,
          source VARCHAR NOT NULL,
          window_minutes INTEGER,
          credits DOUBLE,
          plan VARCHAR,
          zone_assumed VARCHAR,
          source_path VARCHAR,
          source_offset BIGINT,
          recorded_at TIMESTAMP NOT NULL
        )"""
    )


@migration
def m006_budget_alerts(con: Any) -> None:
    # One row per budget and period once its alert fired (logscan.reports.budget.check), so it fires once.
    con.execute(
        """CREATE TABLE budget_alerts (
          period VARCHAR NOT NULL,        -- daily | weekly | monthly
          tool VARCHAR NOT NULL,          -- '' for a budget over all tools
          period_start DATE NOT NULL,     -- local date in `zone`
          zone VARCHAR NOT NULL,
          amount_usd DOUBLE NOT NULL,
          spent_usd DOUBLE NOT NULL,
          fired_at TIMESTAMP NOT NULL,
          channels VARCHAR NOT NULL       -- desktop, exec, log
        )"""
    )


@migration
def m007_sync(con: Any) -> None:
    # Sync with a PostgreSQL hub (logscan.sync): one row of state for the hub in use (URL without
    # password, its id, the pull watermark, the last attempt and its error) and what the hub is
    # known to hold: (event_id, rank) pushed or pulled, and the snapshot ids pushed.
    con.execute(
        """CREATE TABLE sync_state (
          hub_url VARCHAR NOT NULL,
          hub_id VARCHAR NOT NULL,
          host VARCHAR NOT NULL,
          pulled_seq BIGINT NOT NULL,
          last_attempt_at TIMESTAMP,
          last_ok_at TIMESTAMP,
          last_error VARCHAR,
          last_pushed BIGINT,
          last_pulled BIGINT
        )"""
    )
    con.execute("CREATE TABLE sync_known (event_id BIGINT NOT NULL, rank BIGINT NOT NULL)")
    con.execute("CREATE TABLE sync_known_snapshots (snapshot_id BIGINT NOT NULL)")


@migration
def m008_quota_snapshot_note(con: Any) -> None:
    # Why a reading needs a second look (a reset text that was stale when it was pasted).
    con.execute("ALTER TABLE quota_snapshots ADD COLUMN note VARCHAR")


@migration
def m009_provider_api(con: Any) -> None:
    # What the providers' admin APIs billed (logscan.providers): usage and cost per daily bucket,
    # replaced bucket by bucket on every pull (an open bucket changes until the day is over), and
    # when each provider was last pulled. Column names match events where the meaning is the
    # same (input_tokens is uncached input, as in events). Never a key.
    con.execute(
        """CREATE TABLE api_usage (
          provider VARCHAR NOT NULL, bucket_start TIMESTAMP NOT NULL, bucket_end TIMESTAMP NOT NULL, bucket_width VARCHAR NOT NULL,
          model VARCHAR, workspace_id VARCHAR, project_id VARCHAR, api_key_id VARCHAR, service_tier VARCHAR, context_window VARCHAR,
          input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
          cache_write_5m_tokens BIGINT NOT NULL, cache_write_1h_tokens BIGINT NOT NULL, requests BIGINT, web_search_requests BIGINT,
          pulled_at TIMESTAMP NOT NULL
        )"""
    )
    con.execute(
        """CREATE TABLE api_costs (
          provider VARCHAR NOT NULL, bucket_start TIMESTAMP NOT NULL, bucket_end TIMESTAMP NOT NULL, description VARCHAR,
          line_item VARCHAR, model VARCHAR, cost_type VARCHAR, token_type VARCHAR, workspace_id VARCHAR, project_id VARCHAR,
          service_tier VARCHAR, amount_usd DOUBLE, currency VARCHAR NOT NULL, pulled_at TIMESTAMP NOT NULL
        )"""
    )
    con.execute(
        """CREATE TABLE api_pulls (
          provider VARCHAR NOT NULL, since TIMESTAMP NOT NULL, until TIMESTAMP NOT NULL, pulled_at TIMESTAMP NOT NULL,
          usage_rows BIGINT NOT NULL, cost_rows BIGINT NOT NULL, problems BIGINT NOT NULL
        )"""
    )


@migration
def m010_claude_code_report(con: Any) -> None:
    # Anthropic's Claude Code usage report (logscan api pull anthropic): per UTC day and actor (a
    # user's email address or an API key's name, never a key), the productivity figures, and per
    # model the tokens and Anthropic's estimated cost. Replaced day by day on every pull.
    con.execute(
        """CREATE TABLE api_claude_code (
          day DATE NOT NULL, actor_type VARCHAR NOT NULL, actor VARCHAR NOT NULL, customer_type VARCHAR, terminal_type VARCHAR,
          sessions BIGINT NOT NULL, lines_added BIGINT NOT NULL, lines_removed BIGINT NOT NULL, commits BIGINT NOT NULL,
          pull_requests BIGINT NOT NULL, pulled_at TIMESTAMP NOT NULL
        )"""
    )
    con.execute(
        """CREATE TABLE api_claude_code_models (
          day DATE NOT NULL, actor_type VARCHAR NOT NULL, actor VARCHAR NOT NULL, model VARCHAR NOT NULL,
          input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
          cache_write_tokens BIGINT NOT NULL, estimated_cost_usd DOUBLE, pulled_at TIMESTAMP NOT NULL
        )"""
    )


@migration
def m011_compare_views(con: Any) -> None:
    # The numbers 'logscan compare' and 'quota value' rest on, as views users can query.
    # compare_units: one row per session (the unit 'compare' resamples).
    con.execute(
        """CREATE VIEW compare_units AS
        SELECT tool, session_id, min(project) AS project, string_agg(DISTINCT model, ',' ORDER BY model) AS models,
               CAST(min(ts) AS DATE) AS day, sum(cost_usd) AS cost_usd, sum(total_tokens) AS tokens, count(*) AS calls,
               sum(output_tokens) AS output_tokens, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced
        FROM events GROUP BY tool, session_id"""
    )
    # quota_value: between two consecutive readings of one bar in the same reset period, how
    # many percent were used and what that tool's events in between cost (tokens and dollars
    # per percent; the intervals 'quota value' averages).
    con.execute(
        """CREATE VIEW quota_value AS
        WITH r AS (
          SELECT tool, window_kind, coalesce(scope, '') AS scope, captured_at, used_percent, resets_at,
                 lag(captured_at) OVER w AS prev_at, lag(used_percent) OVER w AS prev_percent, lag(resets_at) OVER w AS prev_reset
          FROM quota_snapshots WHERE used_percent IS NOT NULL
          WINDOW w AS (PARTITION BY tool, window_kind, coalesce(scope, '') ORDER BY captured_at))
        , i AS (
          SELECT r.tool, r.window_kind, r.scope, r.prev_at AS from_ts, r.captured_at AS to_ts, r.used_percent - r.prev_percent AS percent,
                 sum(e.total_tokens) AS tokens, sum(e.cost_usd) AS cost_usd
          FROM r LEFT JOIN events e ON e.tool = r.tool AND e.ts > r.prev_at AND e.ts <= r.captured_at
          WHERE r.prev_at IS NOT NULL AND r.used_percent > r.prev_percent
            AND ((r.resets_at IS NULL AND r.prev_reset IS NULL) OR abs(epoch(r.resets_at) - epoch(r.prev_reset)) < 120)
          GROUP BY ALL)
        SELECT *, tokens / percent AS tokens_per_percent, cost_usd / percent AS usd_per_percent FROM i"""
    )


MIGRATIONS_TABLE = "_logscan_migrations"


def applied(con: Any) -> list[str]:
    # Read the table directly; a blank database has none. (Asking duckdb_tables() or
    # information_schema first costs 15-25 ms, most of a report's budget.)
    try:
        rows = con.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY applied_at, name").fetchall()
    except Exception as e:
        if type(e).__name__ == "CatalogException":  # duckdb's "Table ... does not exist"
            return []
        raise
    return [r[0] for r in rows]


def pending(con: Any) -> list[str]:
    done = set(applied(con))
    known = {m.__name__ for m in MIGRATIONS}
    unknown = done - known
    if unknown:
        raise MigrationError(
            f"The database was written by a newer logscan (it has migrations {', '.join(sorted(unknown))}). "
            "Upgrade logscan, or pass --db to use another file."
        )
    return [m.__name__ for m in MIGRATIONS if m.__name__ not in done]


def migrate(con: Any, stop_before: str | None = None) -> list[str]:
    """Apply pending migrations in order; return the names applied."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")
    todo = set(pending(con))
    done: list[str] = []
    for m in MIGRATIONS:
        if m.__name__ == stop_before:
            break
        if m.__name__ not in todo:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            m(con)
            con.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, now()::TIMESTAMP)", [m.__name__])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        done.append(m.__name__)
    return done
