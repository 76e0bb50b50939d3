"""Anthropic-compatible providers seen through Claude Code (z.ai's glm-4.6 and others): the
provider comes from the model id, the price from that provider's list, and a model no list knows
is stored with a NULL cost, status unknown_model, and named in the backfill summary.

Prices by hand from genai-prices' data (zai / GLM-4.6): $0.60 per million input tokens, $2.20
per million output, $0.11 per million cache reads. GLM-4.6 has no cache-write price, so cache
writes are charged as input ($0.60), which is also what genai-prices' own calc_price does.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from logscan.cli import cli
from logscan.pricing import Pricer, infer_provider
from logscan.store.store import Store

FIX = Path(__file__).parent / "fixtures" / "claude-code" / "zai"
SESSION = "5a1e0000-2a1b-4c3d-8e9f-0000000000a1"


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("glm-4.6", "zai"),
        ("GLM-4.6", "zai"),
        ("glm-4.5-air", "zai"),
        ("kimi-k2-0905-preview", "moonshotai"),
        ("deepseek-chat", "deepseek"),
        ("MiniMax-M2", "minimax"),
        ("claude-sonnet-4-5-20250929", "anthropic"),
        ("acme-coder-1", "anthropic"),  # unknown shape: the tool's own default
    ],
)
def test_provider_from_model(model: str, provider: str) -> None:
    assert infer_provider(model, "anthropic", "msg_0123") == provider


def test_glm_price_by_hand() -> None:
    p = Pricer().price(
        "zai", "glm-4.6", datetime(2026, 3, 1, tzinfo=timezone.utc),
        input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=1_000_000,
    )
    assert p.status == "ok"
    assert p.priced_model == "zai/GLM-4.6"
    assert p.cost_usd == pytest.approx(0.6 + 2.2 + 0.11)


@pytest.fixture
def zai_home(isolated: Path) -> Path:
    """The fixture transcript where Claude Code keeps its projects (HOME is a tmp dir)."""
    dst = isolated / ".claude" / "projects" / "-home-dev-zapp"
    dst.mkdir(parents=True)
    shutil.copy(FIX / f"{SESSION}.jsonl", dst)
    return dst


def test_glm_through_claude_code_is_priced_by_zai(zai_home: Path, db: Path) -> None:
    res = CliRunner().invoke(cli, ["backfill", "--json", "-q"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["new_events"] == 4
    # Unknown models are listed as unpriced: one event each.
    assert summary["unpriced"] == {"acme-coder-1": 1, "glm-9-imaginary": 1}
    with Store.open(db, read_only=True) as s:
        _, rows = s.query(
            "SELECT message_id, tool, provider, model, input_tokens, cache_write_5m_tokens, cache_read_tokens, output_tokens, "
            "cost_usd, price_status, priced_model FROM events ORDER BY ts"
        )
    a, b, c, d = rows
    # msg A: 1200 in, 100 cache write, 3000 cache read, output max(10, 450) = 450:
    #   (1200*0.60 + 100*0.60 + 3000*0.11 + 450*2.20) / 1e6 = (720 + 60 + 330 + 990) / 1e6 = 0.0021
    assert a[:8] == ("msg_20260301100003a1b2c3d4e5f6", "claude-code", "zai", "glm-4.6", 1200, 100, 3000, 450)
    assert a[8] == pytest.approx(0.0021, abs=1e-12)
    assert a[9:] == ("ok", "zai/GLM-4.6")
    # msg B: (800*0.60 + 200*2.20) / 1e6 = (480 + 440) / 1e6 = 0.00092
    assert b[2:4] == ("zai", "glm-4.6")
    assert b[8] == pytest.approx(0.00092, abs=1e-12)
    # Unknown models: NULL cost (never 0) and why.
    assert (c[2], c[3], c[8], c[9], c[10]) == ("zai", "glm-9-imaginary", None, "unknown_model", None)
    assert (d[2], d[3], d[8], d[9], d[10]) == ("anthropic", "acme-coder-1", None, "unknown_model", None)


def test_backfill_text_summary_names_unpriced_models(zai_home: Path) -> None:
    res = CliRunner().invoke(cli, ["backfill", "-q"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    line = next(x for x in res.stdout.splitlines() if x.startswith("unpriced:"))
    assert "2 events" in line and "glm-9-imaginary x1" in line and "acme-coder-1 x1" in line
