"""The PostgreSQL hub: connecting, its schema and its numbered migrations.

Everything logscan keeps on the hub lives in one schema, ``logscan``, so the hub can share a
database with other things. The tables (README "Sync through PostgreSQL"):

- ``logscan.events``: every event column of the local store, keyed by ``event_id``, plus
  ``seq`` (from the sequence ``logscan.change_seq``, set again whenever a push changes the row)
  and ``pushed_at``. A pull asks for ``seq`` above the puller's watermark.
- ``logscan.quota_snapshots``: quota readings with the ``host`` that pushed them.
- ``logscan.hub``: one row, the hub's id (a local store keeps its watermarks per hub id, so a
  hub made anew is synced from scratch).
- ``logscan.migrations``: the hub migrations applied, like ``_logscan_migrations`` locally.

Writers serialize on one advisory lock (``LOCK_KEY``) for the few milliseconds of an upsert:
``seq`` values then become visible in the order they were taken, so a pull that has seen seq N
has seen every committed row below N (a watermark can never skip a row still being committed).
Migrations take the same lock. Works with plain PostgreSQL 13+ and a user that owns one database.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

from logscan.errors import LogscanError
from logscan.store.migrations import EVENT_COLUMNS

LOCK_KEY = 0x6C6F6773_63616E  # "logscan": pg_advisory_xact_lock key for hub writers and migrations
SCHEMA = "logscan"
PG_TYPES = {"BIGINT": "bigint", "VARCHAR": "text", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean",
            "INTEGER": "integer", "DOUBLE": "double precision"}
EVENT_NAMES = [n for n, _ in EVENT_COLUMNS]
TEXT_COLUMNS = [n for n, t in EVENT_COLUMNS if t.startswith("VARCHAR")]
REQUIRED = [n for n, t in EVENT_COLUMNS if "NOT NULL" in t]
SNAPSHOT_HUB_COLUMNS: list[tuple[str, str]] = [
    ("snapshot_id", "bigint NOT NULL"), ("host", "text NOT NULL"), ("tool", "text NOT NULL"),
    ("window_kind", "text NOT NULL"), ("scope", "text"), ("used_percent", "double precision"),
    ("resets_at", "timestamp"), ("captured_at", "timestamp NOT NULL"), ("source", "text NOT NULL"),
    ("window_minutes", "integer"), ("credits", "double precision"), ("plan", "text"),
    ("zone_assumed", "text"), ("source_path", "text"), ("source_offset", "bigint"), ("recorded_at", "timestamp NOT NULL"),
]


class SyncError(LogscanError):
    """A sync could not be done; the message says why and what to do. Both sides stay consistent."""


def pg_type(duck: str) -> str:
    base, _, rest = duck.partition(" ")
    return PG_TYPES[base] + (" " + rest if rest else "")


def safe_url(url: str) -> str:
    """``url`` without a password, for messages, the status and the local sync state."""
    if "://" not in url:  # key=value conninfo
        return " ".join(p for p in url.split() if not p.lower().startswith("password="))
    try:
        u = urllib.parse.urlsplit(url)
        netloc = u.netloc.rsplit("@", 1)
        if len(netloc) == 2:
            user = netloc[0].split(":", 1)[0]
            netloc = [f"{user}@{netloc[1]}"]
        query = "&".join(q for q in u.query.split("&") if q and not q.lower().startswith("password="))
        return urllib.parse.urlunsplit((u.scheme, netloc[0], u.path, query, ""))
    except ValueError:
        return "(an unreadable URL)"


def connect(url: str, *, timeout: float = 10.0) -> Any:
    """A psycopg connection to the hub with the session settings the transfer relies on (ISO dates,
    UTC, shortest exact floats). Password: the URL, PGPASSWORD or ~/.pgpass (libpq reads them).
    Raises ``SyncError`` with the reason when it cannot connect or the database is not UTF-8."""
    try:
        import psycopg
    except ImportError as e:  # pragma: no cover  (a dependency of logscan)
        raise SyncError("logscan sync needs psycopg: pip install 'psycopg[binary]'") from e
    if not url.startswith(("postgresql://", "postgres://")) and "=" not in url:
        raise SyncError(f"Cannot read {url!r} as a PostgreSQL URL; use e.g. postgresql://user@host:5432/dbname.")
    try:
        con = psycopg.connect(url, connect_timeout=max(1, int(timeout)), application_name="logscan-sync",
                              keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
    except (psycopg.Error, ValueError) as e:
        raise SyncError(f"Cannot connect to the hub {safe_url(url)}: {first_line(e)}") from e
    try:
        con.execute("SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET extra_float_digits = 1")
        enc = con.execute("SHOW server_encoding").fetchone()[0]
        con.commit()
    except psycopg.Error as e:
        con.close()
        raise SyncError(f"The hub {safe_url(url)} did not answer: {first_line(e)}") from e
    if enc.upper() not in ("UTF8", "UTF-8"):
        con.close()
        raise SyncError(f"The hub database {safe_url(url)} uses the encoding {enc}; logscan needs a UTF8 database "
                        "(CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0).")
    return con


def first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


# -- hub migrations -----------------------------------------------------------------------

HubMigration = Callable[[Any], None]
HUB_MIGRATIONS: list[HubMigration] = []


def hub_migration(fn: HubMigration) -> HubMigration:
    HUB_MIGRATIONS.append(fn)
    return fn


@hub_migration
def h001_events(con: Any) -> None:
    cols = ",\n  ".join(f"{n} {pg_type(t)}" for n, t in EVENT_COLUMNS)
    con.execute("CREATE TABLE logscan.hub (hub_id uuid NOT NULL DEFAULT gen_random_uuid(), created_at timestamptz NOT NULL DEFAULT now())")
    con.execute("INSERT INTO logscan.hub DEFAULT VALUES")
    con.execute("CREATE SEQUENCE logscan.change_seq")
    con.execute(f"""CREATE TABLE logscan.events (
  {cols},
  seq bigint NOT NULL,
  pushed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id)
)""")
    # Pulls read by seq; reports an admin runs on the hub filter by host and time.
    con.execute("CREATE INDEX events_seq ON logscan.events (seq)")
    con.execute("CREATE INDEX events_host_ts ON logscan.events (host, ts)")
    # The sidechain-replay rule (Store._merge_staged_events) looks rows up by message id.
    con.execute("CREATE INDEX events_message ON logscan.events (message_id) WHERE tool = 'claude-code' AND message_id IS NOT NULL")


@hub_migration
def h002_quota_snapshots(con: Any) -> None:
    cols = ",\n  ".join(f"{n} {t}" for n, t in SNAPSHOT_HUB_COLUMNS)
    con.execute(f"CREATE TABLE logscan.quota_snapshots (\n  {cols},\n  PRIMARY KEY (snapshot_id)\n)")


def migrate_hub(con: Any) -> list[str]:
    """Create or upgrade the hub's schema (each migration in its own transaction under the
    writers' advisory lock); return the names applied. ``SyncError`` when the hub was written by
    a newer logscan or ``logscan`` is already taken by something else."""
    import psycopg

    done: list[str] = []
    try:
        with con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            con.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        have = {r[0] for r in con.execute(f"SELECT name FROM {SCHEMA}.migrations").fetchall()}
        con.commit()
        unknown = have - {m.__name__ for m in HUB_MIGRATIONS}
        if unknown:
            raise SyncError(f"The hub was set up by a newer logscan (it has the migrations {', '.join(sorted(unknown))}); "
                            "upgrade logscan on this machine.")
        for m in HUB_MIGRATIONS:
            if m.__name__ in have:
                continue
            with con.transaction():
                con.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
                if con.execute(f"SELECT 1 FROM {SCHEMA}.migrations WHERE name = %s", [m.__name__]).fetchone():
                    continue  # another machine applied it while we waited for the lock
                m(con)
                con.execute(f"INSERT INTO {SCHEMA}.migrations (name) VALUES (%s)", [m.__name__])
            done.append(m.__name__)
    except psycopg.errors.InsufficientPrivilege as e:
        con.rollback()
        raise SyncError(f"The hub user may not create logscan's schema: {first_line(e)}. Make the user own the database "
                        "(ALTER DATABASE ... OWNER TO ...), see the README's team set-up.") from e
    except psycopg.errors.DuplicateTable as e:
        con.rollback()
        raise SyncError(f"The hub database already has a 'logscan' schema that logscan did not make: {first_line(e)}") from e
    return done


def hub_id(con: Any) -> str:
    """The hub's id; ``SyncError`` when its ``logscan.hub`` table is not logscan's."""
    import psycopg

    try:
        rows = con.execute(f"SELECT hub_id::text FROM {SCHEMA}.hub").fetchall()
        con.commit()
    except psycopg.Error as e:
        con.rollback()
        raise SyncError(f"The hub's logscan.hub table cannot be read ({first_line(e)}); is this a logscan hub?") from e
    if len(rows) != 1 or not rows[0][0]:
        raise SyncError(f"The hub's logscan.hub table should hold exactly one id and holds {len(rows)} rows; "
                        "repair it or use a new database.")
    return str(rows[0][0])
