"""Synthetic event rows for report/budget/export tests, stored with Store.ingest (helpers only; no tests here)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from logscan.store.store import EVENT_NAMES, Batch, Store

TOOLS = ["claude-code", "codex", "gemini-cli"]
MODELS = ["claude-opus-4-6", "claude-sonnet-4-5", "gpt-5-codex", "no-such-model"]
PROJECTS = ["/home/u/alpha", "/home/u/beta", None]


def event_row(event_id: int, ts: datetime, **kw: Any) -> tuple[Any, ...]:
    d: dict[str, Any] = dict(
        event_id=event_id, tool="claude-code", provider="anthropic", model="claude-opus-4-6", ts=ts,
        session_id="s1", project="/home/u/alpha", is_sidechain=False, agent_id=None,
        message_id=f"msg_{event_id}", request_id=f"req_{event_id}", input_tokens=0, output_tokens=0,
        cache_read_tokens=0, cache_write_5m_tokens=0, cache_write_1h_tokens=0, reasoning_tokens=0,
        web_search_requests=0, web_fetch_requests=0, output_lower_bound=False, speed=None, cost_usd=None,
        price_status="ok", priced_model=None, pricing_version="test", host="host-a", source_path="/x.jsonl",
        source_offset=event_id, rank=0, ingested_at=datetime(2026, 1, 1),
    )
    d.update(kw)
    d["total_tokens"] = d["input_tokens"] + d["output_tokens"] + d["cache_read_tokens"] + d["cache_write_5m_tokens"] + d["cache_write_1h_tokens"]
    if d["cost_usd"] is None:
        d["price_status"] = "unknown_model"
    return tuple(d[n] for n in EVENT_NAMES)


def synthetic_rows(n: int = 600, seed: int = 7) -> list[tuple[Any, ...]]:
    """Events spread over Dec 2025 - Apr 2026, with extra ones packed around UTC midnights and the
    2026 DST switches (US 2026-03-08 07:00Z, EU 2026-03-29 01:00Z) so zones disagree on the day."""
    rnd = random.Random(seed)
    times = [datetime(2025, 12, 20) + timedelta(seconds=rnd.randrange(0, 120 * 86400)) for _ in range(n)]
    for edge in (datetime(2026, 1, 1), datetime(2026, 3, 8, 7), datetime(2026, 3, 29, 1), datetime(2026, 2, 1)):
        for k in range(-40, 40):
            times.append(edge + timedelta(minutes=7 * k + rnd.randrange(0, 7)))
    rows = []
    for i, ts in enumerate(times):
        model = rnd.choice(MODELS)
        priced = model != "no-such-model"
        rows.append(
            event_row(
                i + 1, ts.replace(microsecond=rnd.randrange(0, 10**6)), tool=rnd.choice(TOOLS), model=model, project=rnd.choice(PROJECTS),
                session_id=f"s{rnd.randrange(0, 25)}", input_tokens=rnd.randrange(0, 5000), output_tokens=rnd.randrange(0, 3000),
                cache_read_tokens=rnd.randrange(0, 200000), cache_write_5m_tokens=rnd.randrange(0, 9000),
                cache_write_1h_tokens=rnd.randrange(0, 9000), cost_usd=round(rnd.random() * 2, 6) if priced else None,
            )
        )
    return rows


def build_store(db: Path, rows: list[tuple[Any, ...]]) -> None:
    with Store.open(db) as s:
        s.ingest(Batch(events=rows))


def as_dicts(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(EVENT_NAMES, r, strict=True)) for r in rows]
