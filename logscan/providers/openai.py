"""OpenAI's organization Usage and Costs APIs (docs/PROVIDER_APIS.md, section 2).

``GET /organization/usage/completions`` (``start_time``/``end_time`` unix seconds, daily
buckets grouped by model, project and API key; ``input_tokens`` **includes** the cached ones,
``input_cached_tokens``, ``output_tokens``, ``num_model_requests``) and ``GET
/organization/costs`` (``amount.value`` in dollars, ``amount.currency``, ``line_item``,
``project_id``). ``Authorization: Bearer`` with an Admin key. The base URL includes ``/v1``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from logscan.providers.http import Client
from logscan.providers.rows import BadResult, count, decimal, results, text

BASE = "https://api.openai.com/v1"
KEY_HINT = ("It needs an OpenAI Admin key (created by an organization owner under Organization settings > Admin keys), "
            "in OPENAI_ADMIN_KEY or 'logscan api login openai'; a project API key is refused.")
USAGE = "/organization/usage/completions"
COSTS = "/organization/costs"


def client(key: str, base_url: str, **kw: Any) -> Client:
    return Client(base_url or BASE, {"Authorization": f"Bearer {key}"}, key_hint=KEY_HINT, **kw)


def _range(since: datetime, until: datetime) -> list[tuple[str, str]]:
    ts = lambda d: str(int(d.replace(tzinfo=timezone.utc).timestamp()))  # noqa: E731
    return [("start_time", ts(since)), ("end_time", ts(until)), ("bucket_width", "1d"), ("limit", "31")]


def pull(c: Client, since: datetime, until: datetime, pulled_at: datetime, problem: Callable[[str, int, str], None]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    usage: list[tuple[Any, ...]] = []
    params = [*_range(since, until), *[("group_by", g) for g in ("model", "project_id", "api_key_id")]]
    for i, doc in enumerate(c.pages(USAGE, params)):
        for b, r in _results(doc, USAGE, i, problem):
            try:
                inp, cached = count(r, "input_tokens"), count(r, "input_cached_tokens")
                if cached > inp:
                    raise BadResult(f"input_cached_tokens ({cached}) exceeds input_tokens ({inp})")
                tier = "batch" if r.get("batch") is True else None
                usage.append(("openai", b[0], b[1], "1d", text(r, "model"), None, text(r, "project_id"), text(r, "api_key_id"), tier, None,
                              inp - cached, count(r, "output_tokens"), cached, 0, 0, count(r, "num_model_requests"), None, pulled_at))
            except BadResult as e:
                problem(USAGE, i, str(e))
    costs: list[tuple[Any, ...]] = []
    params = [*_range(since, until), ("group_by", "line_item"), ("group_by", "project_id")]
    for i, doc in enumerate(c.pages(COSTS, params)):
        for b, r in _results(doc, COSTS, i, problem):
            try:
                amount = r.get("amount")
                if not isinstance(amount, dict):
                    raise BadResult("amount: expected an object with value and currency")
                cur = str(amount.get("currency") or "usd").upper()
                value = decimal(amount.get("value"), "amount.value")
                costs.append(("openai", b[0], b[1], None, text(r, "line_item"), None, None, None, None, text(r, "project_id"), None,
                              float(value) if cur == "USD" else None, cur, pulled_at))
            except BadResult as e:
                problem(COSTS, i, str(e))
    return usage, costs


def _results(doc: dict[str, Any], path: str, page: int, problem: Callable[[str, int, str], None]) -> list[tuple[tuple[datetime, datetime], dict[str, Any]]]:
    return results(doc, path, page, problem, "start_time", "end_time")
