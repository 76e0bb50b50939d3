"""Cursor's usage CSV (tests/fixtures/cursor/): every header variant imported exactly, re-imports
and overlapping exports idempotent, bad rows as problems, other files refused in one line, and
Cursor's charges never repriced. Every expected number is summed by hand from the fixture rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from logscan.cli import cli

FIX = Path(__file__).parent / "fixtures" / "cursor"


def run(db: Path, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["--db", str(db), *args])
    return r.exit_code, r.output


def rows(db: Path, sql: str) -> list[Any]:
    code, out = run(db, "query", "-f", "json", sql)
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


TOTALS = "SELECT count(*) AS n, sum(input_tokens) AS i, sum(output_tokens) AS o, sum(cache_read_tokens) AS r, sum(cache_write_5m_tokens) AS w, sum(cost_usd) AS c FROM events WHERE tool = 'cursor'"


@pytest.mark.parametrize("name, want", [
    # 4 requests (the two identical gpt-5 rows are two requests); input 300+2000+2000+50, output 450+100+100+0,
    # cache read 10,000+500+500, cache write 1,200; charged $0.01 twice and $0 for the errored call
    ("kind_maxmode.csv", {"n": 4, "i": 4_350, "o": 650, "r": 11_000, "w": 1_200, "c": 0.02}),
    ("no_kind_cost_to_you.csv", {"n": 2, "i": 110, "o": 32, "r": 20, "w": 5, "c": 0.05}),
    ("cloud_agent.csv", {"n": 1, "i": 1_983, "o": 750, "r": 128_736, "w": 0, "c": None}),
    # team export (User column, CRLF): two users' identical requests are two; input 600+600+1500, output
    # 900+900+200, cache read 20,000+20,000+3,000, cache write 4,000+4,000; $0.1234 twice, "Free" unknown
    ("team_user.csv", {"n": 3, "i": 2_700, "o": 2_000, "r": 43_000, "w": 8_000, "c": 0.2468}),
    # no Total Tokens column: the parts as they are; input 0+70, output 1000+5, cache read 30; $0.002
    ("no_total.csv", {"n": 2, "i": 70, "o": 1_005, "r": 30, "w": 0, "c": 0.002}),
])
def test_each_header_variant_imports_exactly_and_idempotently(db: Path, name: str, want: dict[str, Any]) -> None:
    code, out = run(db, "import", "cursor", str(FIX / name))
    assert code == 0, out
    got = rows(db, TOTALS)[0]
    assert {k: got[k] for k in ("n", "i", "o", "r", "w")} == {k: want[k] for k in ("n", "i", "o", "r", "w")}
    assert (got["c"] is None) == (want["c"] is None) and (want["c"] is None or got["c"] == pytest.approx(want["c"]))
    code, out = run(db, "import", "cursor", str(FIX / name))
    assert code == 0 and "0 new events" in out
    assert rows(db, TOTALS)[0] == got


def test_included_is_no_known_charge_and_max_mode_is_kept(db: Path) -> None:
    run(db, "import", "cursor", str(FIX / "kind_maxmode.csv"))
    got = rows(db, "SELECT model, cost_usd, price_status, speed FROM events ORDER BY ts")
    assert got[0] == {"model": "composer-1", "cost_usd": 0.0, "price_status": "imported", "speed": None}  # errored, not charged
    assert {"model": "claude-4.5-sonnet-thinking", "cost_usd": None, "price_status": "included", "speed": None} in got
    assert got[-1]["speed"] == "max"


def test_overlapping_exports_count_each_request_once(db: Path, tmp_path: Path) -> None:
    lines = (FIX / "kind_maxmode.csv").read_text().splitlines()
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("\n".join(lines[:4]) + "\n")  # header + 3 rows (one gpt-5 request)
    b.write_text("\n".join([lines[0], *lines[2:]]) + "\n")  # header + the last 3 rows (both gpt-5 requests)
    run(db, "import", "cursor", str(a))
    run(db, "import", "cursor", str(b))
    assert rows(db, TOTALS)[0]["n"] == 4


def test_bad_rows_become_problems_and_good_rows_are_kept(db: Path) -> None:
    code, out = run(db, "import", "cursor", str(FIX / "bad_rows.csv"))
    assert code == 0 and "2 new events" in out and "6 rows could not be used" in out, out
    got = rows(db, TOTALS)[0]
    assert (got["n"], got["i"], got["o"]) == (2, 30, 10)
    reasons = [r["reason"] for r in rows(db, "SELECT reason FROM problems WHERE tool = 'cursor' ORDER BY \"offset\"")]
    assert [r.split(":")[0] for r in reasons] == ["line 3", "line 4", "line 5", "line 6", "line 7", "line 8"]
    assert "Date: not a time" in reasons[0] and "not a whole number" in reasons[1] and "do not add up" in reasons[2]
    assert "6 fields, the header has 10" in reasons[3] and "Cost: not an amount" in reasons[4] and "Model: empty" in reasons[5]
    run(db, "import", "cursor", str(FIX / "bad_rows.csv"))  # again: the same problems, not twice as many
    assert len(rows(db, "SELECT reason FROM problems WHERE tool = 'cursor'")) == 6


@pytest.mark.parametrize("content, needle", [
    (b"", "is empty"),
    (b"\xff\xfe\x00garbage\x00\x01", "not UTF-8"),
    (b"date,tokens\n2026-01-01,5\n", "Header: date,tokens"),
    (b"Date,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Cost,Secret Column\n", "unknown: Secret Column"),
])
def test_files_that_are_not_an_export_are_refused_in_one_line(db: Path, tmp_path: Path, content: bytes, needle: str) -> None:
    f = tmp_path / "x.csv"
    f.write_bytes(content)
    code, out = run(db, "import", "cursor", str(f))
    assert code == 1 and needle in out and "Traceback" not in out, out
    assert len(out.strip().splitlines()) == 1


def test_reprice_leaves_cursor_charges_alone(db: Path) -> None:
    run(db, "import", "cursor", str(FIX / "no_kind_cost_to_you.csv"))
    before = rows(db, "SELECT event_id, cost_usd, price_status, pricing_version FROM events ORDER BY event_id")
    code, out = run(db, "reprice", "--all")
    assert code == 0, out
    assert rows(db, "SELECT event_id, cost_usd, price_status, pricing_version FROM events ORDER BY event_id") == before


def test_cursor_is_a_tool_for_filters_and_the_old_import_still_works(db: Path, tmp_path: Path) -> None:
    run(db, "import", "cursor", str(FIX / "kind_maxmode.csv"))
    code, out = run(db, "report", "tool", "--tool", "cursor", "--json")
    assert code == 0 and json.loads(out)[0]["events"] == 4
    export = tmp_path / "e.csv"
    assert run(db, "export", "-o", str(export))[0] == 0
    other = tmp_path / "other.duckdb"
    code, out = run(other, "import", str(export))
    assert code == 0 and "4 new events" in out, out
    shutil.rmtree(tmp_path / "nothing", ignore_errors=True)
    code, out = run(other, "import", str(tmp_path / "nothing.csv"))
    assert code == 2 and "is not a file" in out


def test_team_exports_keep_no_email_and_free_is_no_known_charge(db: Path) -> None:
    code, out = run(db, "import", "cursor", str(FIX / "team_user.csv"))
    assert code == 0 and "3 new events" in out, out
    dump = json.dumps(rows(db, "SELECT * FROM events")) + json.dumps(rows(db, "SELECT * FROM problems"))
    assert "@example.com" not in dump and "bc-7f3a" not in dump
    got = rows(db, "SELECT model, cost_usd, price_status FROM events WHERE model = 'composer-1'")
    assert got == [{"model": "composer-1", "cost_usd": None, "price_status": "included"}]


def test_import_cursor_without_a_file_says_how(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run(db, "import", "cursor")
    assert code == 2 and "logscan import cursor usage-events.csv" in out, out
    code, out = run(db, "import", "cursor", str(tmp_path / "missing.csv"))
    assert code == 2 and "does not exist" in out, out


def test_a_nul_byte_or_a_huge_field_is_a_problem_row_not_a_crash(db: Path, tmp_path: Path) -> None:
    lines = (FIX / "kind_maxmode.csv").read_bytes().splitlines()
    bad = b'"2026-09-03T08:00:00Z","Usage-based","gpt\x00-5","No","0","1","0","1","2","0.1"'
    huge = b'"2026-09-03T09:00:00Z","Usage-based","' + b"m" * 200_000 + b'","No","0","1","0","1","2","0.1"'
    f = tmp_path / "n.csv"
    f.write_bytes(b"\n".join([lines[0], lines[1], bad, huge, lines[4]]) + b"\n")
    code, out = run(db, "import", "cursor", str(f))
    assert code == 0 and "2 new events" in out and "2 rows could not be used" in out, out
    reasons = [r["reason"] for r in rows(db, "SELECT reason FROM problems ORDER BY \"offset\"")]
    assert reasons[0].startswith("line 3: Model: not printable") and reasons[1].startswith("line 4: not CSV"), reasons
