"""Recompute costs from the stored tokens: after an override-file edit (a price for a model that
was unpriced, an alias) or a genai-prices upgrade. Source logs are not needed, which matters
because Claude Code deletes transcripts after 30 days.

By default only events whose ``pricing_version`` differs from the current one, or that have no
cost, are repriced; ``everything=True`` reprices all.
"""

from __future__ import annotations

from typing import Any

from logscan.pricing import Pricer


def reprice_store(store: Any, everything: bool = False) -> dict[str, int]:
    """``fn(store, **args)`` for the daemon's ``call`` op (or run directly with a RW store)."""
    pricer = Pricer()
    rows = store.events_for_pricing(None if everything else pricer.version)
    updates = []
    for event_id, provider, model, ts, inp, out, cr, cw5, cw1h, ws, speed in rows:
        p = pricer.price(
            provider,
            model,
            ts,
            input_tokens=inp,
            output_tokens=out,
            cache_read_tokens=cr,
            cache_write_5m_tokens=cw5,
            cache_write_1h_tokens=cw1h,
            web_search_requests=ws,
            speed=speed,
        )
        updates.append((event_id, p.cost_usd, p.status, p.priced_model, pricer.version))
    store.update_prices(updates)
    unpriced = sum(1 for u in updates if u[1] is None)
    return {"repriced": len(updates), "priced": len(updates) - unpriced, "unpriced": unpriced}
