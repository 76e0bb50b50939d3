"""Cost from tokens, with genai-prices' bundled (offline) price database and a user override file.

An event that cannot be priced gets ``cost_usd = None`` and a ``price_status`` saying why; it is
never priced at 0. Pricing each event through ``genai_prices.calc_price`` costs ~60 us, so the
prices in force are looked up once per (provider, model, UTC day, speed) and the arithmetic is
done here; ``tests/test_pricing.py`` checks it against ``calc_price``.

The override file (``logscan prices --path`` shows where; ``logscan prices`` what it does) is TOML::

    [aliases]                       # model name glob -> "provider:model" (model may be empty)
    "aide-gpt-5" = "openai:gpt-5"
    "my-proxy-*" = "anthropic:"

    [models."claude-sonnet-4-20250514"]   # USD per million tokens; wins over genai-prices
    input = 3.0
    output = 15.0
    cache_read = 0.3
    cache_write_5m = 3.75
    cache_write_1h = 6.0
    web_search_per_k = 10.0
    [models."claude-sonnet-4-20250514".above]   # whole request above `start` input tokens
    start = 200000
    input = 6.0
    output = 22.5
"""

from __future__ import annotations

import fnmatch
from bisect import bisect_left
import hashlib
import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from logscan.errors import ConfigError
from logscan.paths import config_dir

OK = "ok"
UNKNOWN_MODEL = "unknown_model"
UNKNOWN_PROVIDER = "unknown_provider"
INVALID_USAGE = "invalid_usage"

# Anthropic-compatible endpoints reached through Claude Code, recognised by model name.
_PROVIDER_PREFIXES: tuple[tuple[str, str], ...] = (
    ("glm-", "zai"),
    ("kimi-", "moonshotai"),
    ("moonshot-", "moonshotai"),
    ("deepseek-", "deepseek"),
    ("qwen", "alibaba"),
    ("minimax-", "minimax"),
    ("grok-", "x-ai"),
    ("gpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("codex-", "openai"),
    ("gemini-", "google"),
    ("claude-", "anthropic"),
)


def infer_provider(model: str, default: str | None, message_id: str | None = None) -> str | None:
    """The provider that billed a call, from the model id's shape (and the message id's)."""
    return _infer(model, default, (message_id or "").startswith("msg_bdrk_"))


@lru_cache(maxsize=4096)
def _infer(model: str, default: str | None, bedrock_id: bool) -> str | None:
    m = model.lower()
    if m.startswith(("us.anthropic.", "eu.anthropic.", "apac.anthropic.", "global.anthropic.", "anthropic.")) or bedrock_id:
        return "aws"
    if m.startswith("claude-") and "@" in m:
        return "google"  # Vertex ids look like claude-sonnet-4-5@20250929
    for prefix, provider in _PROVIDER_PREFIXES:
        if m.startswith(prefix):
            return provider
    return default


# Provider ids that name a plan, a region or a gateway rather than the provider whose prices
# apply (OpenCode's providerID values; subscription plans are priced at API-equivalent rates).
_PROVIDER_IDS = {
    "zai-coding-plan": "zai", "zai-coding": "zai", "z-ai": "zai", "zhipuai-coding-plan": "zhipuai",
    "kimi-for-coding": "moonshotai", "moonshotai-cn": "moonshotai", "moonshot": "moonshotai",
    "amazon-bedrock": "aws", "bedrock": "aws", "google-vertex": "google", "google-vertex-anthropic": "google",
    "vertex": "google", "gemini": "google", "azure-openai": "azure", "xai": "x-ai", "minimax-cn": "minimax",
    "alibaba-cn": "alibaba", "deepseek-cn": "deepseek",
}


def pricing_provider(provider_id: str | None, model: str) -> str | None:
    """The provider whose prices apply to a call a tool attributes to ``provider_id``: a known
    provider as it is, a coding plan or regional id mapped to its provider (``zai-coding-plan``
    -> ``zai``), a gateway (OpenCode Zen ``opencode``, ``vercel``, ...) or an unknown id by the
    model's name; the id itself when nothing better is known."""
    if not provider_id:
        return infer_provider(model, None)
    pid = provider_id.strip().lower()
    if pid in _known_providers():
        return pid
    mapped = _PROVIDER_IDS.get(pid)
    if mapped is None:
        for suffix in ("-coding-plan", "-for-coding", "-cn", "-china", "-intl", "-global"):
            if pid.endswith(suffix) and pid[: -len(suffix)] in _known_providers():
                mapped = pid[: -len(suffix)]
                break
    return mapped or infer_provider(model, provider_id)


@lru_cache(maxsize=1)
def _known_providers() -> frozenset[str]:
    from genai_prices.data_snapshot import get_snapshot

    return frozenset(p.id for p in get_snapshot().providers)


@dataclass(frozen=True)
class Rates:
    """USD per million tokens (web search per thousand requests) for one request."""

    input: float
    output: float
    cache_read: float
    cache_write_5m: float
    cache_write_1h: float
    web_search_per_k: float = 0.0
    requests_per_k: float = 0.0


class Priced(NamedTuple):  # a tuple: made once per event, a frozen dataclass costs 3x as much
    cost_usd: float | None
    status: str
    priced_model: str | None


def _override_path() -> Path:
    return Path(os.environ.get("LOGSCAN_PRICES", config_dir() / "prices.toml"))


def load_price_data() -> None:
    """Import genai-prices and build its bundled snapshot (cached by genai-prices for the life
    of the process): what the first price lookup would otherwise do."""
    from genai_prices.data_snapshot import get_snapshot

    get_snapshot()


class Pricer:
    """Prices usage. Build one per ingest run (it caches lookups)."""

    def __init__(self, override_file: Path | None = None) -> None:
        self.override_file = override_file or _override_path()
        self.aliases: list[tuple[str, str | None, str | None]] = []
        self.custom: list[tuple[str, dict[str, Any]]] = []
        raw = b""
        if self.override_file.exists():
            raw = self.override_file.read_bytes()
            try:
                cfg = tomllib.loads(raw.decode())
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
                raise ConfigError(f"Price override file {self.override_file} is not valid TOML: {e}. Fix it or move it away.") from e
            for pattern, target in (cfg.get("aliases") or {}).items():
                prov, _, model = str(target).partition(":")
                self.aliases.append((pattern, prov or None, model or None))
            for pattern, prices in (cfg.get("models") or {}).items():
                if not isinstance(prices, dict) or "input" not in prices or "output" not in prices:
                    raise ConfigError(
                        f"{self.override_file}: [models.\"{pattern}\"] needs at least `input` and `output` (USD per million tokens)."
                    )
                self.custom.append((pattern, prices))
        import genai_prices

        from logscan import __version__

        self.version = f"logscan-{__version__}/genai-prices-{genai_prices.__version__}/{hashlib.blake2b(raw, digest_size=4).hexdigest()}"
        self._find = lru_cache(maxsize=4096)(self._find_uncached)
        self._prices = lru_cache(maxsize=16384)(self._prices_uncached)
        self._bands = lru_cache(maxsize=16384)(self._bands_uncached)
        self._time_of_day = lru_cache(maxsize=4096)(self._time_of_day_uncached)  # type: ignore[method-assign]

    def warm(self) -> None:
        """Load the price data now; otherwise the first lookup does."""
        load_price_data()

    # -- lookup ---------------------------------------------------------------------------
    def _resolve(self, provider: str | None, model: str) -> tuple[str | None, str]:
        for pattern, prov, target in self.aliases:
            if fnmatch.fnmatchcase(model, pattern):
                return prov or provider, target or model
        return provider, model

    def _find_uncached(self, provider: str | None, model: str) -> tuple[Any, Any] | str:
        from genai_prices.data_snapshot import get_snapshot

        snap = get_snapshot()
        try:
            return snap.find_provider_model(model, None, provider, None)
        except LookupError as e:
            if provider and "provider" in str(e).split("model")[0]:
                return UNKNOWN_PROVIDER
            return UNKNOWN_MODEL

    def _prices_uncached(self, provider: str | None, model: str, day: date, speed: str | None) -> Any:
        found = self._find(provider, model)
        if isinstance(found, str):
            return found
        _, info = found
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
        return info.get_prices(noon, {"speed": speed} if speed else None)

    def _time_of_day_uncached(self, provider: str | None, model: str) -> bool:
        """Off-peak prices (DeepSeek) change within a day, so they are not cached per day."""
        found = self._find(provider, model)
        if isinstance(found, str):
            return False
        prices = found[1].prices
        return isinstance(prices, list) and any(
            type(getattr(c, "constraint", None)).__name__ == "TimeOfDateConstraint" for c in prices
        )

    # -- pricing --------------------------------------------------------------------------
    def price(
        self,
        provider: str | None,
        model: str,
        ts: datetime,
        *,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_5m_tokens: int = 0,
        cache_write_1h_tokens: int = 0,
        web_search_requests: int = 0,
        speed: str | None = None,
    ) -> Priced:
        counts = (input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, web_search_requests)
        if min(counts) < 0:
            return Priced(None, INVALID_USAGE, None)
        if self.custom:
            for pattern, custom in self.custom:
                if fnmatch.fnmatchcase(model, pattern):
                    return Priced(_cost(_custom_rates(custom, _total_in(counts)), counts), OK, f"override/{pattern}")
        provider, lookup = self._resolve(provider, model) if self.aliases else (provider, model)
        if self._time_of_day(provider, lookup):
            prov, info = self._find(provider, lookup)  # type: ignore[misc]
            bands = (*_bands(info.get_prices(ts, {"speed": speed} if speed else None)), f"{prov.id}/{info.id}")
        else:
            # (astimezone costs more than the rest of pricing together: skip it when already UTC)
            day = ts.date() if ts.tzinfo is None or ts.tzinfo is timezone.utc else ts.astimezone(timezone.utc).date()
            bands = self._bands(provider, lookup, day, speed)
        if isinstance(bands, str):
            return Priced(None, bands, None)
        starts, rates, priced_model = bands
        total_in = input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens
        r = rates[bisect_left(starts, total_in)]  # tiers apply when total input is *above* start
        return Priced(_cost(r, counts), OK, priced_model)

    def _bands_uncached(self, provider: str | None, model: str, day: date, speed: str | None) -> Any:
        prices = self._prices(provider, model, day, speed)
        if isinstance(prices, str):
            return prices
        prov, info = self._find(provider, model)  # type: ignore[misc]
        starts, rates = _bands(prices)
        return starts, rates, f"{prov.id}/{info.id}"


def _bands(mp: Any) -> tuple[list[int], list[Rates]]:
    """Every tier threshold of a price set, and the rates in force in each band between them."""
    starts = sorted({t.start for v in vars(mp).values() for t in (getattr(v, "tiers", None) or ())})
    rates = [_rates(mp, 0)] + [_rates(mp, s + 1) for s in starts]
    return starts, rates


def _total_in(counts: tuple[int, ...]) -> int:
    inp, _, cr, cw5, cw1h, _ = counts
    return inp + cr + cw5 + cw1h


def _cost(r: Rates, counts: tuple[int, ...]) -> float:
    inp, out, cr, cw5, cw1h, ws = counts
    return (
        inp * r.input + out * r.output + cr * r.cache_read + cw5 * r.cache_write_5m + cw1h * r.cache_write_1h
    ) / 1e6 + ws * r.web_search_per_k / 1e3 + r.requests_per_k / 1e3


def _unit(price: Any, total_in: int) -> float | None:
    """A genai-prices price at this request size (tiers are cliffs on total input)."""
    if price is None:
        return None
    tiers = getattr(price, "tiers", None)
    if tiers is not None:
        rate = price.base
        for tier in reversed(tiers):
            if total_in > tier.start:
                rate = tier.price
                break
        return float(rate)
    return float(price)


def _rates(mp: Any, total_in: int) -> Rates:
    r_in = _unit(getattr(mp, "input_mtok", None), total_in)
    r_in = 0.0 if r_in is None else r_in
    r_cr = _unit(getattr(mp, "cache_read_mtok", None), total_in)
    r_cw = _unit(getattr(mp, "cache_write_mtok", None), total_in)
    r_cw = r_in if r_cw is None else r_cw
    r_1h = _unit(getattr(mp, "cache_write_1h_mtok", None), total_in)
    r_out = _unit(getattr(mp, "output_mtok", None), total_in)
    r_ws = _unit(getattr(mp, "web_searches_kcount", None), total_in)
    r_req = _unit(getattr(mp, "requests_kcount", None), total_in)
    return Rates(
        input=r_in,
        output=0.0 if r_out is None else r_out,
        cache_read=r_in if r_cr is None else r_cr,
        cache_write_5m=r_cw,
        cache_write_1h=r_cw if r_1h is None else r_1h,
        web_search_per_k=0.0 if r_ws is None else r_ws,
        requests_per_k=0.0 if r_req is None else r_req,
    )


def _custom_rates(c: dict[str, Any], total_in: int) -> Rates:
    above = c.get("above")
    if isinstance(above, dict) and total_in > int(above.get("start", 200_000)):
        c = {**c, **{k: v for k, v in above.items() if k != "start"}}
    inp = float(c["input"])
    cw5 = float(c.get("cache_write_5m", inp))
    return Rates(
        input=inp,
        output=float(c["output"]),
        cache_read=float(c.get("cache_read", inp)),
        cache_write_5m=cw5,
        cache_write_1h=float(c.get("cache_write_1h", cw5)),
        web_search_per_k=float(c.get("web_search_per_k", 0.0)),
    )
