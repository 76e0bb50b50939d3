"""Spending budgets per day, week or month, and the alert the daemon fires once per period.

Budgets and the retention setting live in ``settings.json`` in logscan's config dir, not in the
database: the daemon holds the database's only read-write connection, and a user must be able to
set a budget while it runs. The daemon reads the file after each commit (``check``, registered in
``logscan.ingest.hooks.AFTER_FLUSH``); alerts already fired are rows in the ``budget_alerts`` table, so
each budget alerts once per period even across daemon restarts.

Periods are local to the machine's zone (``$TZ`` or the system's): a daily budget resets at
local midnight, a weekly one on Monday, a monthly one on the 1st. Spent is the sum of priced
events; unpriced events are counted separately and make the figure a lower bound.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from logscan.errors import ConfigError
from logscan.models import FUTURE_SKEW
from logscan.tools import canonical

log = logging.getLogger("logscan.reports.budget")

PERIODS = ("daily", "weekly", "monthly")


@dataclass(frozen=True)
class Budget:
    period: str
    amount_usd: float
    tool: str | None = None
    exec_cmd: str | None = None


# -- settings file ----------------------------------------------------------------------


def settings_path() -> Path:
    from logscan.paths import config_dir

    return config_dir() / "settings.json"


def load_settings() -> dict[str, Any]:
    p = settings_path()
    if not p.exists():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"Cannot read {p}: {e}. Fix the JSON or delete the file (budgets and retention are kept there).") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{p} should hold a JSON object; fix it or delete the file.")
    return data


def save_settings(data: dict[str, Any]) -> None:
    p = settings_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, p)  # atomic: the daemon never reads half a file


def load_budgets() -> list[Budget]:
    out = []
    for b in load_settings().get("budgets", []):
        try:
            out.append(Budget(b["period"], float(b["amount_usd"]), b.get("tool"), b.get("exec_cmd")))
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"A budget in {settings_path()} is malformed ({e}); remove it with 'logscan budget rm' or edit the file.") from e
    return out


def set_budget(period: str, amount: float, tool: str | None = None, exec_cmd: str | None = None) -> Budget:
    if period not in PERIODS:
        raise ConfigError(f"Unknown budget period {period!r}; use one of {', '.join(PERIODS)}.")
    if not (math.isfinite(amount) and amount > 0):
        raise ConfigError(f"A budget must be a positive, finite amount of USD (such as 20 or 12.50), not {amount}.")
    if tool is not None:
        try:
            tool = canonical(tool)
        except ValueError as e:
            raise ConfigError(f"Budget --tool: {e}.") from None
    new = Budget(period, float(amount), tool, exec_cmd)
    data = load_settings()
    kept = [b for b in data.get("budgets", []) if (b.get("period"), b.get("tool")) != (period, tool)]
    data["budgets"] = [*kept, asdict(new)]
    save_settings(data)
    return new


def remove_budget(period: str, tool: str | None = None) -> bool:
    data = load_settings()
    before = data.get("budgets", [])
    kept = [b for b in before if (b.get("period"), b.get("tool")) != (period, tool)]
    data["budgets"] = kept
    save_settings(data)
    return len(kept) != len(before)


# -- periods and standing ---------------------------------------------------------------


def period_start(period: str, now: datetime, zone: str) -> date:
    """The local date the current period began."""
    today = now.astimezone(ZoneInfo(zone)).date()
    if period == "daily":
        return today
    if period == "weekly":
        return today - timedelta(days=today.weekday())
    return today.replace(day=1)


def utc_midnight(d: date, zone: str) -> datetime:
    """Local midnight of ``d`` in ``zone``, as a naive UTC datetime (how the store keeps time)."""
    return datetime.combine(d, time(0), ZoneInfo(zone)).astimezone(timezone.utc).replace(tzinfo=None)


def spent_sql(b: Budget) -> tuple[str, list[Any]]:
    # Events dated after now + FUTURE_SKEW (a wrong clock) are left out: the second parameter.
    sql = "SELECT coalesce(sum(cost_usd), 0), count(*) FILTER (WHERE cost_usd IS NULL) FROM events WHERE ts >= ? AND ts <= ?"
    return (sql + " AND tool = ?", [b.tool]) if b.tool else (sql, [])


@dataclass
class Standing:
    budget: Budget
    start: date
    spent_usd: float
    unpriced: int
    alerted: bool

    @property
    def percent(self) -> float:
        return self.spent_usd / self.budget.amount_usd * 100

    def row(self) -> tuple[Any, ...]:
        b = self.budget
        return (b.period, b.tool or "(all)", b.amount_usd, round(self.spent_usd, 6), round(self.percent, 1),
                round(b.amount_usd - self.spent_usd, 6), self.unpriced, self.start, self.alerted, b.exec_cmd)


STANDING_COLUMNS = ["period", "tool", "budget_usd", "spent_usd", "percent", "remaining_usd", "unpriced", "period_start", "alerted", "exec"]


def standing(query: Any, budgets: list[Budget], zone: str, now: datetime | None = None) -> list[Standing]:
    """``query(sql, params) -> (columns, rows)``; one Standing per budget for the current period."""
    now = now or datetime.now(timezone.utc)
    out = []
    for b in budgets:
        start = period_start(b.period, now, zone)
        sql, extra = spent_sql(b)
        latest = now.astimezone(timezone.utc).replace(tzinfo=None) + FUTURE_SKEW
        _, rows = query(sql, [utc_midnight(start, zone), latest, *extra])
        spent, unpriced = rows[0]
        _, fired = query(
            "SELECT count(*) FROM budget_alerts WHERE period = ? AND tool = ? AND period_start = ?",
            [b.period, b.tool or "", start],
        )
        out.append(Standing(b, start, float(spent), int(unpriced), bool(fired[0][0])))
    return out


# -- the daemon's hook ------------------------------------------------------------------


def message(s: Standing) -> str:
    b = s.budget
    scope = f" for {b.tool}" if b.tool else ""
    lower = f" (+{s.unpriced} unpriced events)" if s.unpriced else ""
    return f"logscan: {b.period} budget{scope} crossed: ${s.spent_usd:,.2f} of ${b.amount_usd:,.2f} since {s.start}{lower}"


def notify(s: Standing) -> list[str]:
    """Fire the alert; return the channels used. A desktop notification when a notifier exists
    (notify-send on Linux, osascript on macOS); the budget's --exec command when set."""
    text = message(s)
    used: list[str] = []
    if sys.platform == "darwin" and shutil.which("osascript"):
        cmd = ["osascript", "-e", f"display notification {json.dumps(text)} with title \"logscan\""]
    elif shutil.which("notify-send"):
        cmd = ["notify-send", "--app-name=logscan", "logscan budget", text]
    else:
        cmd = []
    if cmd:
        try:
            subprocess.run(cmd, timeout=10, check=True, capture_output=True)
            used.append("desktop")
        except (OSError, subprocess.SubprocessError) as e:
            log.warning("desktop notification failed (%s); set an --exec command on the budget for another channel", e)
    if s.budget.exec_cmd:
        env = dict(os.environ)
        env.update(
            LOGSCAN_BUDGET_PERIOD=s.budget.period, LOGSCAN_BUDGET_TOOL=s.budget.tool or "",
            LOGSCAN_BUDGET_AMOUNT=f"{s.budget.amount_usd}", LOGSCAN_BUDGET_SPENT=f"{s.spent_usd:.6f}",
            LOGSCAN_BUDGET_PERIOD_START=s.start.isoformat(), LOGSCAN_BUDGET_MESSAGE=text,
        )
        try:
            subprocess.run(s.budget.exec_cmd, shell=True, env=env, timeout=60, check=False, capture_output=True)  # noqa: S602 - the user's own command
            used.append("exec")
        except (OSError, subprocess.SubprocessError) as e:
            log.warning("budget --exec command failed: %s", e)
    if not used:
        log.warning("%s (no notifier found and no --exec command set)", text)
    return used


def check(store: Any, now: datetime | None = None, zone: str | None = None) -> list[Standing]:
    """After-flush hook: alert once per period for every budget that is crossed. Returns the
    standings that fired now."""
    budgets = load_budgets()
    if not budgets:
        return []
    from logscan.reports.report import resolve_zone

    zone = resolve_zone(zone)

    def q(sql: str, params: list[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        return store.query(sql, params, guard=False)  # type: ignore[no-any-return]

    fired = []
    for s in standing(q, budgets, zone, now):
        if s.alerted or s.spent_usd < s.budget.amount_usd:
            continue
        # Record first: an alert that fails to show must not repeat on every commit.
        store.con.execute(
            "INSERT INTO budget_alerts VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?)",
            [s.budget.period, s.budget.tool or "", s.start, zone, s.budget.amount_usd, s.spent_usd, ""],
        )
        channels = notify(s)
        store.con.execute(
            "UPDATE budget_alerts SET channels = ? WHERE period = ? AND tool = ? AND period_start = ?",
            [",".join(channels) or "log", s.budget.period, s.budget.tool or "", s.start],
        )
        fired.append(s)
    return fired
