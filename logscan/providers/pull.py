"""``logscan api pull``: fetch a range from a provider and hand the rows to the store's writer.

The range: ``--since``/``--until`` when given; otherwise from the start of the newest bucket
already stored for that provider (the last one may still have been open when it was pulled, so
it is pulled again) or 30 days back on the first pull, to now. Fetching happens here, outside
the writer; only the rows cross to it (``run_write``), so the daemon never waits on the network
while holding the store.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from logscan.errors import ConfigError
from logscan.providers.keys import ENV, base_url, key_for

FIRST_PULL_DAYS = 30


def _module(provider: str) -> Any:
    """The provider's module, imported when a pull is made (with httpx: the daemon's hook, which
    looks for keys every period, loads neither without one)."""
    import importlib

    return importlib.import_module(f"logscan.providers.{provider}")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def default_since(provider: str, query: Any = None) -> datetime:
    """The newest stored bucket's start (pulled again: it may have been open), or 30 days back.
    ``query(sql, params) -> rows`` reads the store; None: there is no store yet."""
    rows = query("SELECT max(bucket_start) FROM api_usage WHERE provider = ?", [provider]) if query else None
    if rows and rows[0][0] is not None:
        return rows[0][0]  # type: ignore[no-any-return]
    d = _now() - timedelta(days=FIRST_PULL_DAYS)
    return d.replace(hour=0, minute=0, second=0, microsecond=0)


def fetch(provider: str, since: datetime, until: datetime, **client_kw: Any) -> dict[str, Any]:
    """Everything one pull writes (the arguments of ``save_pull``), fetched over the network.
    Raises ``ConfigError`` without a key and ``ApiError`` when the provider fails for good: then
    nothing is written (a pull is all or nothing)."""
    key = key_for(provider)
    if not key:
        raise ConfigError(f"No {provider} admin key: set {' or '.join(ENV[provider])}, or run 'logscan api login {provider}'.")
    if since >= until:
        raise ConfigError(f"--since ({since:%Y-%m-%d %H:%M}) is not before --until ({until:%Y-%m-%d %H:%M}).")
    problems: list[tuple[str, int, str]] = []
    mod = _module(provider)
    pulled_at = _now()
    extra: dict[str, Any] = {}
    note = lambda path, page, why: problems.append((f"{provider}:{path}", page, why))  # noqa: E731
    with mod.client(key, base_url(provider), **client_kw) as c:
        usage, costs = mod.pull(c, since, until, pulled_at, note)
        if provider == "anthropic":
            people, models, days = mod.pull_claude_code(c, since, until, pulled_at, note)
            extra = {"claude_code": people, "claude_code_models": models, "claude_code_days": days}
    # The rows replace what is stored for the buckets they cover: the asked range, widened to any
    # bucket the provider returned outside it (a bucket is snapped to the start of its day).
    starts = [r[1] for r in (*usage, *costs)]
    lo = min([since, *starts])
    hi = max([until, *(s + timedelta(seconds=1) for s in starts)])
    return {"provider": provider, "since": lo, "until": hi, "usage": usage, "costs": costs, "problems": problems, "pulled_at": pulled_at, **extra}


def pull(db: Path, provider: str, since: datetime | None = None, until: datetime | None = None, **client_kw: Any) -> dict[str, Any]:
    """Pull one provider into the store (through the daemon's writer when it runs); the counts."""
    from logscan.service.client import run_query, run_write
    from logscan.store.apistore import TARGET

    until = until or _now()
    since = since or default_since(provider, (lambda sql, p: run_query(db, sql, p)[1]) if db.exists() else None)
    args = fetch(provider, since, until, **client_kw)
    res = run_write(db, TARGET, args)
    return {"provider": provider, "since": args["since"], "until": args["until"], **res}


_last_periodic: float | None = None


def periodic_pull(store: Any) -> list[dict[str, Any]] | None:
    """The daemon's hook (``logscan.ingest.hooks.PERIODIC``, on the writer thread): every
    ``LOGSCAN_API_PULL_MINUTES`` (default 15) pull each provider that has a key, with short
    retries so the writer is never held long. A failure is logged and tried next period."""
    import logging
    import os
    import time

    from logscan.providers.keys import PROVIDERS
    from logscan.store.apistore import save_pull

    global _last_periodic
    try:
        every = float(os.environ.get("LOGSCAN_API_PULL_MINUTES") or 15) * 60.0
    except ValueError:
        every = 900.0
    now = time.monotonic()
    if _last_periodic is not None and now - _last_periodic < every:
        return None
    # The period starts now whether or not a key is found: without one, the keyring is asked
    # again next period, not on every health tick (each ask can cost a keyring round-trip).
    _last_periodic = now
    names = [p for p in PROVIDERS if key_for(p)]
    if not names:
        return None
    out = []
    for provider in names:
        try:
            since = default_since(provider, lambda sql, p: store.con.execute(sql, p).fetchall())
            args = fetch(provider, since, _now(), retries=2, max_wait=5.0, timeout=20.0)
            out.append({"provider": provider, **save_pull(store, **args)})
        except Exception as e:  # noqa: BLE001  (logged; the next period tries again)
            logging.getLogger("logscan.providers").warning("pulling %s failed: %s", provider, str(e).splitlines()[0][:300])
            out.append({"provider": provider, "error": str(e)[:300]})
    return out
