"""The cached rate card must price exactly like genai_prices.calc_price; unknown models are NULL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from logscan.errors import ConfigError
from logscan.pricing import Pricer, infer_provider

MODELS = [
    ("anthropic", "claude-sonnet-4-5-20250929"),
    ("anthropic", "claude-opus-4-6"),
    ("anthropic", "claude-haiku-4-5-20251001"),
    ("anthropic", "claude-sonnet-4-20250514"),
    ("openai", "gpt-5-codex"),
    ("google", "gemini-2.5-pro"),
    ("google", "gemini-3-flash-preview"),
    ("zai", "glm-4.6"),
    ("deepseek", "deepseek-chat"),
]
PRICER = Pricer(Path("/nonexistent/prices.toml"))
T0 = datetime(2025, 6, 1, tzinfo=timezone.utc)


@given(
    st.sampled_from(MODELS),
    st.integers(0, 700_000),
    st.integers(0, 400_000),
    st.integers(0, 400_000),
    st.integers(0, 60_000),
    st.integers(0, 60_000),
    st.integers(0, 40_000),
    st.integers(0, 3),
)
@settings(max_examples=400, deadline=None)
def test_rate_card_equals_calc_price(model, minutes, inp, cr, cw5, cw1h, out, ws) -> None:  # type: ignore[no-untyped-def]
    prov, name = model
    ts = T0 + timedelta(minutes=minutes)
    kw = dict(input_tokens=inp + cr + cw5 + cw1h, cache_read_tokens=cr, output_tokens=out)
    if cw5 + cw1h:
        kw["cache_write_tokens"] = cw5 + cw1h
    if cw1h:
        kw["cache_write_1h_tokens"] = cw1h
    if ws:
        kw["web_searches"] = ws
    ref = float(calc_price(Usage(**kw), name, provider_id=prov, genai_request_timestamp=ts).total_price)
    got = PRICER.price(prov, name, ts, input_tokens=inp, output_tokens=out, cache_read_tokens=cr,
                       cache_write_5m_tokens=cw5, cache_write_1h_tokens=cw1h, web_search_requests=ws)
    assert got.status == "ok"
    assert got.cost_usd == pytest.approx(ref, rel=1e-12, abs=1e-15)


def test_long_context_cliff_applies_to_the_whole_request() -> None:
    ts = datetime(2026, 2, 10, tzinfo=timezone.utc)
    below = PRICER.price("anthropic", "claude-sonnet-4-5", ts, input_tokens=200_000, output_tokens=0)
    above = PRICER.price("anthropic", "claude-sonnet-4-5", ts, input_tokens=200_001, output_tokens=0)
    assert below.cost_usd == pytest.approx(0.6)
    assert above.cost_usd == pytest.approx(1.200006)


@pytest.mark.parametrize(
    ("prov", "model", "status"),
    [("openai", "aide-gpt-5", "unknown_model"), ("anthropic", "<synthetic>", "unknown_model"), ("nosuchprov", "x", "unknown_provider")],
)
def test_unknown_is_null_never_zero(prov: str, model: str, status: str) -> None:
    p = PRICER.price(prov, model, T0, input_tokens=10, output_tokens=10)
    assert p.cost_usd is None and p.status == status


def test_provider_inference() -> None:
    assert infer_provider("glm-4.6", "anthropic") == "zai"
    assert infer_provider("claude-sonnet-4-5-20250929", "anthropic") == "anthropic"
    assert infer_provider("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic") == "aws"
    assert infer_provider("claude-opus-4-6", "anthropic", "msg_bdrk_01") == "aws"
    assert infer_provider("claude-sonnet-4-5@20250929", "anthropic") == "google"
    assert infer_provider("totally-custom", "anthropic") == "anthropic"


def test_override_file_aliases_and_custom_prices(tmp_path: Path) -> None:
    f = tmp_path / "prices.toml"
    f.write_text(
        '[aliases]\n"aide-gpt-5" = "openai:gpt-5"\n\n'
        '[models."claude-sonnet-4-20250514"]\ninput = 3\noutput = 15\ncache_read = 0.3\n'
        '[models."claude-sonnet-4-20250514".above]\nstart = 200000\ninput = 6\noutput = 22.5\n'
    )
    p = Pricer(f)
    a = p.price("openai", "aide-gpt-5", T0, input_tokens=1_000_000, output_tokens=0)
    assert a.status == "ok" and a.cost_usd == pytest.approx(1.25)  # gpt-5: $1.25/M input
    small = p.price("anthropic", "claude-sonnet-4-20250514", T0, input_tokens=100_000, output_tokens=1_000)
    assert small.cost_usd == pytest.approx(0.3 + 0.015)
    big = p.price("anthropic", "claude-sonnet-4-20250514", T0, input_tokens=300_000, output_tokens=1_000)
    assert big.cost_usd == pytest.approx(1.8 + 0.0225)  # the override adds the tier genai-prices lacks
    assert p.version != PRICER.version


def test_bad_override_file_says_where(tmp_path: Path) -> None:
    f = tmp_path / "prices.toml"
    f.write_text("[models.\"x\"]\ninput = 1\n")
    with pytest.raises(ConfigError, match="needs at least `input` and `output`"):
        Pricer(f)
    f.write_text("not = [toml")
    with pytest.raises(ConfigError, match=str(f)):
        Pricer(f)
