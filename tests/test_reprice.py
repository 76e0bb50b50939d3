"""logscan reprice: costs recomputed from stored tokens after the price override file changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from logscan.cli import cli
from logscan.store.store import Store

ZAI = Path(__file__).parent / "fixtures" / "claude-code" / "zai"


def run(*args: str) -> str:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.stdout


def costs(db: Path) -> dict[str, tuple[float | None, str]]:
    with Store.open(db, read_only=True) as s:
        return {m: (c, st) for m, c, st in s.query("SELECT model, sum(cost_usd), any_value(price_status) FROM events GROUP BY 1")[1]}


def test_reprice_after_adding_a_price(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run("backfill", str(ZAI))
    before = costs(db)
    assert before["acme-coder-1"] == (None, "unknown_model")
    assert "repriced 2 events: 0 priced, 2 still without a price" in run("reprice")  # the two unpriced ones
    prices = tmp_path / "prices.toml"
    # acme-coder-1 in the fixture: 300 input, 30 output tokens -> 300*2/1e6 + 30*10/1e6 = 0.0009
    prices.write_text('[models."acme-coder-1"]\ninput = 2\noutput = 10\n')
    monkeypatch.setenv("LOGSCAN_PRICES", str(prices))
    out = run("reprice")
    # the override file changed the pricing version: every event is repriced, one more is priced
    assert "still without a price" in out
    after = costs(db)
    assert after["acme-coder-1"] == (pytest.approx(0.0009), "ok")
    assert after["glm-4.6"] == before["glm-4.6"]  # an already priced event keeps its cost
    assert after["glm-9-imaginary"] == (None, "unknown_model")
    assert "repriced 1 events" in run("reprice")  # only glm-9-imaginary is still stale
    total = json.loads(run("query", "SELECT count(*) AS n FROM events", "-f", "json"))[0]["n"]
    assert f"repriced {total} events" in run("reprice", "--all")
