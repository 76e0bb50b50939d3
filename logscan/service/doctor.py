"""``logscan doctor``: health checks, each with what was found and what to do about it."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from logscan.errors import LogscanError
from logscan.models import FUTURE_SKEW
from logscan.store.store import utcnow

COLUMNS = ["check", "status", "finding", "what_to_do"]
STATUSES = ("ok", "info", "warn", "error")


@dataclass
class Finding:
    check: str
    status: str  # ok | info | warn | error
    finding: str
    todo: str = ""

    def row(self) -> tuple[str, str, str, str]:
        return (self.check, self.status, self.finding, self.todo)


QueryFn = Any


def check_roots() -> list[Finding]:
    from logscan.sources.parsers import PARSERS, candidates

    out = []
    any_found = False
    for p in PARSERS.values():
        for root in p.default_roots():
            if not root.exists():
                continue
            any_found = True
            is_dir = root.is_dir()  # OpenCode's opencode.db is a file: it needs r, not x
            if not os.access(root, os.R_OK | os.X_OK if is_dir else os.R_OK):
                out.append(Finding("roots", "error", f"{p.name}: {root} is not readable by this user",
                                   f"fix its permissions (chmod u+r{'x' if is_dir else ''} {root}) or run logscan as its owner"))
                continue
            n = 0 if is_dir else int(bool(candidates(str(root))))
            unreadable: list[str] = []
            for _dirpath, dirs, files in os.walk(root, onerror=lambda e: unreadable.append(str(e.filename))) if is_dir else ():
                n += sum(1 for f in files if candidates(os.path.join(_dirpath, f)))
                if n > 100_000:
                    break
            if unreadable:
                shown = ", ".join(unreadable[:3]) + (f" and {len(unreadable) - 3} more" if len(unreadable) > 3 else "")
                out.append(Finding("roots", "error", f"{p.name}: {len(unreadable)} folder(s) cannot be read, so their logs are not counted: {shown}",
                                   f"chmod u+rx {unreadable[0]} (or run logscan as the folders' owner)"))
            out.append(Finding("roots", "ok" if n else "info", f"{p.name}: {root} ({n:,} log files)",
                               "" if n else "no logs there yet; they appear after the tool's first session"))
    if not any_found:
        out.append(Finding("roots", "warn", "none of the default log locations exists",
                           "use the tools once, set CLAUDE_CONFIG_DIR/CODEX_HOME if they live elsewhere, or 'logscan backfill PATH'"))
    return out


def check_permissions(db: Path) -> list[Finding]:
    parent = db.parent
    out = []
    if db.exists():
        ok = os.access(db, os.R_OK | os.W_OK)
        out.append(Finding("permissions", "ok" if ok else "error", f"database {db} ({db.stat().st_size / 1e6:,.1f} MB)"
                           + ("" if ok else " is not readable and writable"), "" if ok else f"chmod u+rw {db}"))
    else:
        out.append(Finding("permissions", "warn", f"no database at {db}", "run 'logscan backfill' or start the daemon to create it"))
    probe = parent if parent.exists() else parent.parent
    if probe.exists() and not os.access(probe, os.W_OK):
        out.append(Finding("permissions", "error", f"{probe} is not writable (DuckDB needs it for its WAL)", f"chmod u+w {probe}"))
    return out


def check_daemon(db: Path) -> list[Finding]:
    try:
        from logscan.service.client import NoDaemon, daemon_status
    except ImportError:
        return [Finding("daemon", "info", "this logscan has no daemon client", "")]
    try:
        st = daemon_status(db)
    except NoDaemon as e:
        return [Finding("daemon", "warn", f"not running for this database ({str(e)[:120]})",
                        "start it with 'logscan daemon' (or install the service); until then data is only as fresh as the last backfill")]
    except (OSError, LogscanError, ValueError) as e:
        return [Finding("daemon", "error", f"the socket answered badly: {str(e)[:160]}", "restart the daemon; its log says why")]
    pid = st.get("pid")
    out = [Finding("daemon", "ok", f"running{f' (pid {pid})' if pid else ''}", "")]
    if st.get("observer_degraded"):
        reason = st.get("observer_degraded_reason") or "native file watching failed"
        todo = reason.split("; ", 1)[1] if "; " in reason else "see the daemon's log"
        out.append(Finding("watching", "warn", f"polling instead of native file watching: {reason.split('; ', 1)[0]}", todo))
    if st.get("commit_failures"):
        out.append(Finding("commits", "error", f"{st['commit_failures']} commits in a row failed: {st.get('last_error')}",
                           "free disk space (or fix what the error says); the daemon retries and loses nothing"))
    return out


def service_files() -> list[Path]:
    from logscan.paths import home, xdg_config_home

    if sys.platform == "darwin":
        agents = home() / "Library" / "LaunchAgents"
        return sorted(agents.glob("*logscan*.plist")) if agents.exists() else []
    unit = xdg_config_home() / "systemd" / "user" / "logscan.service"
    return [unit] if unit.exists() else []


def check_service() -> list[Finding]:
    files = service_files()
    if files:
        return [Finding("service", "ok", f"installed: {', '.join(map(str, files))}", "")]
    return [Finding("service", "info", "no user service installed, so the daemon will not start at login",
                    "run 'logscan service install' if you want it always on")]


def check_store(db: Path, query: QueryFn) -> list[Finding]:
    out: list[Finding] = []
    try:
        _, r = query(db, "SELECT count(*), count(DISTINCT event_id), min(ts), max(ts) FROM events", None)
        query(db, "SELECT sum(hash(e)) FROM events AS e", None)  # reads every block: checksums verified
    except LogscanError as e:
        damaged = "damaged" in str(e) or "orrupt" in str(e)
        return [Finding("database", "error", str(e).splitlines()[0],
                        "'logscan restore' puts the newest good backup back and re-reads the logs on disk" if damaged else "follow the message above")]
    total, distinct, first, last = r[0]
    out.append(Finding("database", "ok" if total else "info", f"{total:,} events" + (f" from {first:%Y-%m-%d} to {last:%Y-%m-%d} (UTC)" if total else ""),
                       "" if total else "run 'logscan backfill' to read existing logs"))
    _, fut = query(db, "SELECT count(*), min(ts), any_value(tool) FROM events WHERE ts > ?", [utcnow() + FUTURE_SKEW])
    if fut[0][0]:
        out.append(Finding("clock", "warn", f"{fut[0][0]:,} events are dated in the future (from {fut[0][1]:%Y-%m-%d %H:%M} UTC, e.g. {fut[0][2]}): "
                           "they are kept, but not counted as recent nor in current budgets",
                           "check the clock of the machine that wrote those logs: logscan query \"SELECT tool, host, min(ts) FROM events WHERE ts > now() GROUP BY ALL\""))
    dup = total - distinct
    out.append(Finding("duplicates", "ok" if dup == 0 else "error", f"count(*) - count(DISTINCT event_id) = {dup}",
                       "" if dup == 0 else "report a bug with 'logscan query \"SELECT event_id, count(*) FROM events GROUP BY 1 HAVING count(*) > 1\"'; "
                       "exporting, deleting the database and importing the export merges them"))
    _, unpriced = query(
        db,
        "SELECT tool, model, count(*) FROM events WHERE cost_usd IS NULL AND price_status <> 'synthetic' GROUP BY ALL ORDER BY 3 DESC LIMIT 10",
        None,
    )
    if unpriced:
        n = sum(x[2] for x in unpriced)
        models = ", ".join(f"{m} ({t}) x{c:,}" for t, m, c in unpriced)
        from logscan.pricing import _override_path

        out.append(Finding("prices", "warn", f"{n:,} events have no price (cost NULL): {models}",
                           f"add the models to the price override file {_override_path()} ([models.\"NAME\"] input/output per million), "
                           "then run 'logscan reprice'"))
    else:
        out.append(Finding("prices", "ok", "every event is priced", ""))
    _, probs = query(db, "SELECT kind, count(*) FROM problems GROUP BY 1 ORDER BY 2 DESC", None)
    if probs:
        kinds = ", ".join(f"{k} x{c:,}" for k, c in probs)
        out.append(Finding("problems", "warn", f"{sum(c for _, c in probs):,} lines could not be used: {kinds}",
                           "see 'logscan problems'; a newer logscan may read them (then rescan)"))
    else:
        out.append(Finding("problems", "ok", "no quarantined lines", ""))
    _, missing = query(db, "SELECT count(*) FROM files WHERE missing_since IS NOT NULL", None)
    if missing[0][0]:
        out.append(Finding("files", "info", f"{missing[0][0]:,} source files are gone (their events are kept)",
                           "nothing to do: Claude Code deletes transcripts after 30 days, which is why logscan keeps the events"))
    return out


def check_backups(db: Path) -> list[Finding]:
    from logscan.store.backup import backup_dir, keep_count, list_backups

    if keep_count() == 0:
        return [Finding("backups", "warn", "automatic backups are off", "'logscan backup --keep 7' turns them on")]
    found = list_backups(db)
    if not found:
        return [Finding("backups", "info" if not db.exists() else "warn", f"none yet in {backup_dir(db)}",
                        "one is made after the next commit (daemon or backfill), or now: 'logscan backup --now'")]
    import time

    age_h = (time.time() - found[0].stat().st_mtime) / 3600
    return [Finding("backups", "ok" if age_h < 48 else "warn", f"{len(found)} in {backup_dir(db)}, newest {age_h:.1f} h old (keeping {keep_count()})",
                    "" if age_h < 48 else "is the daemon running? 'logscan backup --now' makes one")]


def check_settings() -> list[Finding]:
    from logscan.reports.budget import load_budgets
    from logscan.store.export import retention_days

    try:
        budgets = load_budgets()
        days = retention_days()
    except LogscanError as e:
        return [Finding("settings", "error", str(e), "fix or delete the settings file")]
    out = [Finding("retention", "info", f"events older than {days} days are deleted" if days else "off (events are kept forever)",
                   "" if days else "optional: 'logscan retention 400d'")]
    out.append(Finding("budgets", "ok" if budgets else "info", f"{len(budgets)} set" if budgets else "none set",
                       "" if budgets else "optional: 'logscan budget set daily 20'"))
    return out


def run_checks(db: Path, *, now: datetime | None = None, query: QueryFn | None = None) -> list[Finding]:
    if query is None:
        from logscan.service.client import run_query

        query = run_query
    out = check_roots() + check_permissions(db) + check_daemon(db) + check_service()
    if db.exists():
        out += check_store(db, query)
    out += check_backups(db)
    out += check_settings()
    return out
