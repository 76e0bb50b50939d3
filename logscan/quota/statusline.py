"""``logscan statusline``: a Claude Code statusLine command (FORMATS.md section 1.8).

Reads the JSON Claude Code pipes in, records ``rate_limits`` readings when present (appended to
the quota spool, only when a bar moved or ten minutes passed), and prints one line: today's cost,
the session (5-hour) bar and the weekly bar. It must finish in well under 50 ms, so this module
uses the standard library only: no duckdb, no pydantic, no click, no subprocess. Today's cost
comes from a cache file the ingest writes after each commit (``logscan.quota.cache``).

Fastest invocation (no site-packages scan, no CLI group)::

    python -S /path/to/logscan/quota/statusline.py
"""

from __future__ import annotations

import os
import sys
import time

if __package__ in (None, ""):  # run as a script (python -S .../statusline.py)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from logscan.quota import spool  # noqa: E402  (stdlib-only module)
from logscan.quota.fastjson import dumps, loads  # noqa: E402

CACHE_NAME = "statusline-cache.json"
STATE_NAME = "statusline-state.json"
HEARTBEAT_S = 600.0
WINDOWS = {"five_hour": ("five_hour", 300), "seven_day": ("weekly", 10080)}


def _num(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if f == f and abs(f) < 1e12 else None


def _epoch(v: object) -> float | None:
    if isinstance(v, str):
        try:
            from datetime import datetime

            d = datetime.fromisoformat(v.replace("Z", "+00:00"))
            return d.timestamp() if d.tzinfo else None
        except ValueError:
            return None
    f = _num(v)
    if f is None or f <= 0:
        return None
    return f / 1000.0 if f > 1e11 else f  # milliseconds from some builds


def extract(obj: object, now: float) -> list[dict[str, object]]:
    """Readings in ``rate_limits`` (five_hour, seven_day, model_scoped[]) as spool records."""
    if not isinstance(obj, dict) or not isinstance(obj.get("rate_limits"), dict):
        return []
    rl = obj["rate_limits"]
    out: list[dict[str, object]] = []
    for key, (window, minutes) in WINDOWS.items():
        w = rl.get(key)
        if not isinstance(w, dict):
            continue
        pct = _num(w.get("used_percentage", w.get("utilization")))
        if pct is None or not 0 <= pct <= 1000:
            continue
        out.append({"tool": "claude-code", "window": window, "scope": None, "used_percent": pct, "resets_at": _epoch(w.get("resets_at")),
                    "captured_at": now, "source": "statusline", "window_minutes": minutes})
    scoped = rl.get("model_scoped")
    if isinstance(scoped, list):
        for w in scoped[:10]:
            if not isinstance(w, dict) or not isinstance(w.get("display_name"), str):
                continue
            pct = _num(w.get("utilization", w.get("used_percentage")))
            if pct is None or not 0 <= pct <= 1000:
                continue
            out.append({"tool": "claude-code", "window": "weekly_model", "scope": w["display_name"][:60], "used_percent": pct,
                        "resets_at": _epoch(w.get("resets_at")), "captured_at": now, "source": "statusline", "window_minutes": 10080})
    return out


def _load(path: str) -> dict[str, object]:
    try:
        with open(path, "rb") as f:
            v = loads(f.read(1 << 16))
        return v if isinstance(v, dict) else {}
    except (OSError, ValueError):
        return {}


def record(readings: list[dict[str, object]], now: float, ddir: str) -> int:
    """Spool the readings that changed since the last call (or all, every ten minutes)."""
    if not readings:
        return 0
    state_path = os.path.join(ddir, STATE_NAME)
    state = _load(state_path)
    fresh = now - float(state.get("at", 0) or 0) > HEARTBEAT_S  # type: ignore[arg-type]
    last = state.get("last") if isinstance(state.get("last"), dict) else {}
    todo = []
    cur = {}
    for r in readings:
        key = f"{r['window']}|{r['scope'] or ''}"
        val = [r["used_percent"], round(r["resets_at"] / 60) if isinstance(r["resets_at"], float) else None]
        cur[key] = val
        if fresh or last.get(key) != val:  # type: ignore[union-attr]
            todo.append(r)
    if not todo:
        return 0
    spool.append(todo)
    tmp = state_path + f".{os.getpid()}.tmp"
    try:
        with open(tmp, "w") as f:
            f.write(dumps({"at": now, "last": cur}))
        os.replace(tmp, state_path)
    except OSError:
        pass
    return len(todo)


def _left(reset: object, now: float) -> str:
    if not isinstance(reset, (int, float)) or reset <= now:
        return ""
    m = int((reset - now) // 60)
    return f" ({m // 1440}d{m % 1440 // 60}h)" if m >= 1440 else f" ({m // 60}h{m % 60:02d})" if m >= 60 else f" ({m}m)"


def render(obj: object, readings: list[dict[str, object]], cache: dict[str, object], now: float) -> str:
    parts = []
    today = time.strftime("%Y-%m-%d", time.localtime(now))
    cost = cache.get("today_cost_usd") if cache.get("date") == today else None
    if isinstance(cost, (int, float)):
        parts.append(f"${cost:,.2f} today")
    elif isinstance(obj, dict) and isinstance(obj.get("cost"), dict) and _num(obj["cost"].get("total_cost_usd")) is not None:
        parts.append(f"${float(obj['cost']['total_cost_usd']):,.2f} session")
    bars = {(str(r["window"]), r["scope"]): r for r in readings}
    cached = cache.get("bars")
    if isinstance(cached, list):
        for b in cached:
            if isinstance(b, dict) and b.get("tool") == "claude-code":
                k = (str(b.get("window")), b.get("scope"))
                reset = b.get("resets_at")
                if k not in bars and not (isinstance(reset, (int, float)) and reset <= now):
                    bars[k] = b
    for window, label in (("five_hour", "5h"), ("weekly", "wk")):
        b = bars.get((window, None))
        if b and isinstance(b.get("used_percent"), (int, float)):
            parts.append(f"{label} {b['used_percent']:.0f}%{_left(b.get('resets_at'), now)}")
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict) and isinstance(obj["model"].get("display_name"), str):
        parts.insert(0, obj["model"]["display_name"][:30])
    return " · ".join(parts) if parts else "logscan: no data yet"


def main() -> int:
    now = time.time()
    try:
        raw = sys.stdin.buffer.read(1 << 20)
        obj = loads(raw) if raw.strip() else {}
    except (ValueError, OSError):
        obj = {}
    ddir = spool.data_dir_str()
    readings = extract(obj, now)
    try:
        record(readings, now, ddir)
    except OSError:
        pass  # a read-only or full disk must not break the user's status line
    cache = _load(os.path.join(ddir, CACHE_NAME))
    sys.stdout.write(render(obj, readings, cache, now) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
