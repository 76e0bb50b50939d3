"""A ccusage user's first hour (issue 15), through the CLI: tool aliases, ccusage's dates, the
bare command, --json/--breakdown/--order, widths at 80 columns, number formats, budget checks
and events dated in the future. Every expected number is computed from the rows put in."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from test_report_helpers import build_store, event_row

from logscan.cli import cli
from logscan.reports.cells import clean, fit, money, shorten
from logscan.reports.output import cell

LONG_PROJECT = "/home/someone/work/clients/very-long-client-name/monorepo/packages/backend-service"
LONG_SESSION = "0199a0f0-1111-7000-8000-00000000abcdef0123456789"


def run(db: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["--db", str(db), *args], env={"COLUMNS": "80", "TZ": "UTC", **(env or {})}, input=input)
    return r.exit_code, r.output


@pytest.fixture
def store(db: Path) -> Path:
    rows = [
        # 2026-02-12 (UTC): the last day ccusage's --until 20260212 must include, 23:30 local
        event_row(1, datetime(2026, 2, 12, 23, 30), input_tokens=1000, output_tokens=200, cost_usd=0.7506165500000002,
                  project=LONG_PROJECT, session_id=LONG_SESSION),
        event_row(2, datetime(2026, 2, 11, 10, 0), tool="codex", provider="openai", model="gpt-5-codex", input_tokens=500, output_tokens=50,
                  cost_usd=0.00000123, project=LONG_PROJECT + "/api", session_id=LONG_SESSION[::-1]),
        event_row(3, datetime(2026, 2, 13, 0, 30), input_tokens=7, output_tokens=3, cost_usd=1e-9, project=None, session_id="s-none"),
        event_row(4, datetime(2026, 2, 11, 11, 0), model="claude-sonnet-4-5", input_tokens=2026, output_tokens=0, cost_usd=None),
    ]
    build_store(db, rows)
    return db


# -- tool names ---------------------------------------------------------------------------


@pytest.mark.parametrize("alias", ["claude", "cc", "Claude-Code", "claude-code"])
def test_tool_aliases_select_claude_code(store: Path, alias: str) -> None:
    code, out = run(store, "report", "tool", "--tool", alias, "--json")
    assert code == 0, out
    assert [r["tool"] for r in json.loads(out)] == ["claude-code"]


def test_unknown_tool_is_refused_with_the_valid_names(store: Path) -> None:
    for args in (["report", "daily", "--tool", "claud"], ["quota", "--tool", "claud"], ["budget", "set", "daily", "20", "--tool", "claud"]):
        code, out = run(store, *args)
        assert code == 2 and "unknown tool 'claud'" in out and "claude-code, codex, gemini, opencode" in out, (args, out)


def test_budget_for_an_alias_is_stored_under_the_tool_id(store: Path, isolated: Path) -> None:
    code, out = run(store, "budget", "set", "daily", "20", "--tool", "cc")
    assert code == 0, out
    code, out = run(store, "budget", "-f", "json")
    assert [b["tool"] for b in json.loads(out)] == ["claude-code"]


@pytest.mark.parametrize("amount", ["inf", "nan", "-5", "0", "1e400"])
def test_budget_amounts_must_be_positive_and_finite(store: Path, isolated: Path, amount: str) -> None:
    code, out = run(store, "budget", "set", "daily", "--", amount)
    assert code != 0 and ("finite" in out or "range" in out), out
    code, out = run(store, "budget", "-f", "json")
    assert code == 0 and "No budgets set" in out, "nothing may be written"


@pytest.mark.parametrize("amount", ["-5", "-0.01", "abc"])
def test_a_negative_amount_without_dashes_is_refused_as_an_amount(store: Path, isolated: Path, amount: str) -> None:
    code, out = run(store, "budget", "set", "daily", amount)
    assert code == 2 and "AMOUNT" in out and "positive, finite" in out and "No such option" not in out, out
    code, out = run(store, "budget", "-f", "json")
    assert code == 0 and "No budgets set" in out, "nothing may be written"


# -- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize("since, until", [("20260211", "20260212"), ("2026-02-11", "2026-02-12")])
def test_ccusage_dates_include_the_whole_last_day(store: Path, since: str, until: str) -> None:
    code, out = run(store, "report", "daily", "--since", since, "--until", until, "--json")
    assert code == 0, out
    days = {r["day"]: r["events"] for r in json.loads(out)}
    assert days == {"2026-02-11": 2, "2026-02-12": 1}  # 23:30 on the 12th is in; 00:30 on the 13th is not


def test_a_bad_date_says_which_forms_work(store: Path) -> None:
    code, out = run(store, "report", "daily", "--since", "2026/02/11")
    assert code == 1 and "YYYYMMDD" in out


# -- bare command -------------------------------------------------------------------------


def test_bare_logscan_answers_with_a_summary(db: Path, isolated: Path) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    build_store(db, [event_row(1, now - timedelta(minutes=20), input_tokens=1500, output_tokens=500, cost_usd=1.25),
                     event_row(2, now - timedelta(minutes=5), tool="codex", provider="openai", model="gpt-5", input_tokens=100, cost_usd=0.5)])
    code, out = run(db)
    assert code == 0, out
    lines = out.splitlines()
    row = next(x for x in lines if x.startswith("claude-code"))
    assert row.split()[1:3] == ["2.0k", "$1.25"]  # today: 2,000 tokens, $1.25
    assert any(x.startswith("all tools") and "$1.75" in x for x in lines)
    assert any(x.startswith("5-hour block:") and "min left" in x for x in lines)
    assert any(x.startswith("daemon: not running") for x in lines)
    assert max(len(x) for x in lines) <= 100


def test_bare_logscan_without_a_store_says_what_to_do(db: Path, isolated: Path) -> None:
    code, out = run(db)
    assert code == 0 and "No store yet" in out and "logscan backfill" in out
    assert not db.exists()


def test_help_is_still_the_help(db: Path) -> None:
    code, out = run(db, "--help")
    assert code == 0 and "Commands:" in out


# -- --json, --breakdown, --order ---------------------------------------------------------


def test_json_flag_equals_format_json(store: Path) -> None:
    assert run(store, "report", "daily", "--json") == run(store, "report", "daily", "-f", "json")


def test_breakdown_lists_models_under_each_day(store: Path) -> None:
    code, out = run(store, "report", "daily", "--breakdown", "--wide")
    assert code == 0, out
    lines = out.splitlines()
    i = next(k for k, x in enumerate(lines) if x.startswith("2026-02-11"))
    assert lines[i + 1].strip().startswith("claude-sonnet-4-5") and lines[i + 2].strip().startswith("gpt-5-codex")
    assert lines[i + 3].startswith("2026-02-12") and lines[i + 4].strip().startswith("claude-opus-4-6")
    code, out = run(store, "report", "daily", "--breakdown", "--json")
    rows = json.loads(out)
    assert {(r["day"], r["model"]) for r in rows} == {("2026-02-11", "claude-sonnet-4-5"), ("2026-02-11", "gpt-5-codex"),
                                                       ("2026-02-12", "claude-opus-4-6"), ("2026-02-13", "claude-opus-4-6")}


def test_order_desc_puts_the_newest_day_first(store: Path) -> None:
    asc = [r["day"] for r in json.loads(run(store, "report", "daily", "--json")[1])]
    desc = [r["day"] for r in json.loads(run(store, "report", "daily", "--json", "--order", "desc")[1])]
    assert asc == sorted(asc) and desc == asc[::-1]


# -- width --------------------------------------------------------------------------------


@pytest.mark.parametrize("report", ["daily", "weekly", "monthly", "session", "project", "model", "tool", "blocks"])
def test_reports_fit_80_columns(store: Path, report: str) -> None:
    code, out = run(store, "report", report)
    assert code == 0, out
    assert max(len(x) for x in out.splitlines()) <= 80, out
    assert "cost_usd" in out.splitlines()[0] or report == "blocks"


def test_wide_shows_every_column_and_compact_the_main_ones(store: Path) -> None:
    _, wide = run(store, "report", "session", "--wide")
    head = wide.splitlines()[0].split()
    assert head == ["tool", "session_id", "project", "first", "last", "models", "input", "output", "cache_read", "cache_write",
                    "total_tokens", "cost_usd", "events", "unpriced"]
    assert LONG_PROJECT in wide and LONG_SESSION in wide
    _, compact = run(store, "report", "daily", "--compact", env={"COLUMNS": "200"})
    assert compact.splitlines()[0].split() == ["day", "total_tokens", "cost_usd"]


def test_session_at_80_columns_keeps_the_ends_of_long_ids(store: Path) -> None:
    _, out = run(store, "report", "session")
    body = out.splitlines()[2]
    assert "…" in body and LONG_SESSION[-4:] in out and "backend-service"[-4:] in out


def test_no_ansi_when_not_a_terminal_and_rich_colours_on_one(store: Path) -> None:
    _, out = run(store, "report", "daily")
    assert "\x1b[" not in out
    from logscan.reports.output import write_table

    buf = io.StringIO()
    write_table(["day", "cost_usd"], [("2026-02-11", 1.5), ("TOTAL", 1.5)], buf, width=80, color=True, totals=True)
    assert "\x1b[" in buf.getvalue() and "$1.50" in buf.getvalue()


# -- numbers ------------------------------------------------------------------------------


def test_number_formats_in_tables() -> None:
    assert money(1e-9) == "$0.0000000010"
    assert money(0.00000123) == "$0.0000012"
    assert money(0.7506165500000002) == "$0.75"
    assert money(1234.5) == "$1,234.50"
    assert money(None) == "-"
    assert cell(2026, "year") == "2026" and cell(2026, "session_id") == "2026" and cell(2026, "input") == "2,026"
    assert cell(1e-9, "share") != "0." and cell(0.00000123, "share") == "0.0000012"


def test_csv_and_json_carry_rounded_decimals_and_query_the_exact_value(store: Path) -> None:
    _, out = run(store, "report", "daily", "-f", "csv")
    costs = {r["day"]: r["cost_usd"] for r in csv.DictReader(io.StringIO(out))}
    assert costs["2026-02-12"] == "0.75061655"
    _, out = run(store, "report", "daily", "--json")
    assert "0.7506165500000002" not in out and "0.75061655" in out
    _, out = run(store, "query", "-f", "json", "SELECT cost_usd FROM events WHERE event_id = 1")
    assert json.loads(out) == [{"cost_usd": 0.7506165500000002}]


def test_project_without_a_path_has_one_label(store: Path) -> None:
    _, out = run(store, "report", "project", "--json")
    assert "(none)" in [r["project"] for r in json.loads(out)]
    _, table = run(store, "report", "project")
    assert all(x.strip() for x in table.splitlines())


@given(st.floats(min_value=1e-12, max_value=1e9, allow_nan=False))
def test_money_is_never_zero_for_a_positive_amount(v: float) -> None:
    s = money(v)
    assert s.startswith("$") and any(c in "123456789" for c in s)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_clean_keeps_twelve_significant_digits(v: float) -> None:
    assert clean(v) == pytest.approx(v, rel=1e-11, abs=0)


@given(st.text(min_size=0, max_size=60), st.integers(min_value=1, max_value=60))
def test_shorten_respects_the_width(text: str, width: int) -> None:
    s = shorten(text, width)
    assert len(s) <= max(width, 0) and (s == text or "…" in s or width <= 1)


def test_fit_drops_empty_low_value_columns_first() -> None:
    cols = ["day", "input", "unpriced", "cost_usd"]
    raw = [("2026-01-01", 10**9, 0, 1.0)]
    cells = [["2026-01-01", "1,000,000,000", "0", "$1.00"]]
    keep, _ = fit(cols, cells, [False, True, True, True], 35, ["input", "unpriced"], raw=raw)
    assert [cols[i] for i in keep] == ["day", "input", "cost_usd"]


# -- the future ---------------------------------------------------------------------------


def test_events_dated_in_the_future_are_not_recent_nor_in_todays_budget(db: Path, isolated: Path) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    build_store(db, [event_row(1, now - timedelta(minutes=10), cost_usd=2.0),
                     event_row(2, now + timedelta(days=400), cost_usd=50.0)])  # a writer with a wrong clock
    run(db, "budget", "set", "daily", "10")
    code, out = run(db, "budget", "-f", "json")
    assert code == 0 and json.loads(out)[0]["spent_usd"] == 2.0
    code, out = run(db, "status", "--json")
    st_ = json.loads(out)
    assert st_["events_last_hour"] == 1 and st_["events_in_future"] == 1
    code, out = run(db, "doctor")
    assert "dated in the future" in out


# -- prices -------------------------------------------------------------------------------


def test_readme_price_override_example_prices_the_models_it_names(db: Path, isolated: Path, tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    toml = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    prices = tmp_path / "prices.toml"
    prices.write_text(toml)
    build_store(db, [event_row(1, datetime(2026, 2, 1), tool="codex", provider="openai", model="aide-gpt-5", input_tokens=1_000_000),
                     event_row(2, datetime(2026, 2, 1), model="acme-coder-1", provider="anthropic", input_tokens=1_000_000, output_tokens=1_000_000)])
    env = {"LOGSCAN_PRICES": str(prices)}
    code, out = run(db, "prices", env=env)
    assert code == 0 and "alias   aide-gpt-5 -> openai:gpt-5" in out and "model   acme-coder-1: input $1.0/M, output $4.0/M" in out
    assert "Models without a price (2 events" in out  # not repriced yet
    code, out = run(db, "reprice", env=env)
    assert code == 0 and "2 priced" in out, out
    code, out = run(db, "query", "-f", "json", "SELECT model, cost_usd FROM events ORDER BY model", env=env)
    got = {r["model"]: r["cost_usd"] for r in json.loads(out)}
    assert got["acme-coder-1"] == pytest.approx(1.0 + 4.0)  # 1M input at $1/M + 1M output at $4/M
    assert got["aide-gpt-5"] == pytest.approx(1.25)  # gpt-5 input: $1.25/M
    code, out = run(db, "prices", env=env)
    assert "Every event in the store has a price." in out
    assert run(db, "prices", "--path", env=env)[1].strip() == str(prices)


def test_prices_refuses_a_broken_override_file(db: Path, isolated: Path, tmp_path: Path) -> None:
    bad = tmp_path / "prices.toml"
    bad.write_text("[aliases\n")
    code, out = run(db, "prices", env={"LOGSCAN_PRICES": str(bad)})
    assert code == 1 and "not valid TOML" in out and str(bad) in out


def test_chart_fits_80_columns_and_shows_sub_cent_money(store: Path) -> None:
    code, out = run(store, "report", "daily", "--chart")
    assert code == 0, out
    assert max(len(x) for x in out.splitlines()) <= 80, out
    assert "$0.0000012" in out  # 2026-02-11's codex call, not "$0.00"


def test_status_fits_80_columns_and_cuts_nothing(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGSCAN_SOCKET", str(tmp_path / "a-rather-long-folder-name-for-the-socket" / "sock"))
    code, out = run(db, "status")
    assert code == 0
    lines = out.splitlines()
    # only a single word longer than the line (this test's own deep tmp path), after the label
    # column, may pass the edge
    assert all(len(line) <= 80 or len(line[16:].split()) == 1 for line in lines), [line for line in lines if len(line) > 80]
    words = " ".join(out.split())
    assert "Start it with 'logscan daemon' (foreground) or 'logscan service install' (as a user service)." in words
    assert "a-rather-long-folder-name-for-the-socket" in words
