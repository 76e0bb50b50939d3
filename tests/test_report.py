"""Reports: totals equal the store's raw sums for every grouping and zone; outputs parse."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from test_report_helpers import as_dicts, build_store, event_row, synthetic_rows

from logscan.cli import cli
from logscan.service.client import run_query
from logscan.reports.report import METRICS, Filters, ReportError, group_blocks, parse_bound, report, resolve_zone

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns"]


@pytest.fixture(scope="module")
def rows() -> list[tuple[Any, ...]]:
    return synthetic_rows()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[Any, ...]]) -> Path:
    db = tmp_path_factory.mktemp("report") / "store.duckdb"
    build_store(db, rows)
    return db


def metrics(e: dict[str, Any]) -> list[Any]:
    return [
        e["input_tokens"], e["output_tokens"], e["cache_read_tokens"], e["cache_write_5m_tokens"] + e["cache_write_1h_tokens"],
        e["input_tokens"] + e["output_tokens"] + e["cache_read_tokens"] + e["cache_write_5m_tokens"] + e["cache_write_1h_tokens"],
        e["cost_usd"], 1, 1 if e["cost_usd"] is None else 0,
    ]


def truth(events: list[dict[str, Any]], key) -> dict[tuple[Any, ...], list[Any]]:  # noqa: ANN001
    """Sums per key computed in plain Python (zoneinfo for the local day), independent of SQL."""
    out: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, 0, 0, 0, 0, None, 0, 0])
    for e in events:
        acc = out[key(e)]
        for i, v in enumerate(metrics(e)):
            if v is None:
                continue
            acc[i] = v if acc[i] is None else acc[i] + v
    return dict(out)


def label(v: Any, col: str = "") -> Any:
    """A missing project/model/host reads "(none)" in every report (never a blank row)."""
    return v if col == "tool" or v not in (None, "") else "(none)"


def local(e: dict[str, Any], zone: str) -> datetime:
    return e["ts"].replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone))


PERIOD = {
    "daily": lambda d: d.date(),
    "weekly": lambda d: d.date() - timedelta(days=d.weekday()),
    "monthly": lambda d: f"{d.year:04d}-{d.month:02d}",
}


def check(rep_rows: list[tuple[Any, ...]], keys: int, expected: dict[tuple[Any, ...], list[Any]]) -> None:
    got = {tuple(r[:keys]): list(r[keys:]) for r in rep_rows}
    assert set(got) == set(expected)
    for k, exp in expected.items():
        g = got[k]
        assert g[:5] == exp[:5], k  # token sums are exact integers
        assert g[6:] == exp[6:], k  # events, unpriced
        assert (g[5] is None) == (exp[5] is None) and (exp[5] is None or g[5] == pytest.approx(exp[5], rel=1e-12)), k


@pytest.fixture(scope="module")
def fast(store: Path) -> Any:
    """One read-only connection for the many parametrized reports (run_query opens the file per
    call; the CLI tests below go that way)."""
    from logscan.store.store import Store

    st = Store.open(store, read_only=True)
    yield lambda db, sql, params=None: st.query(sql, params)
    st.close()


@pytest.fixture(scope="module")
def raw_totals(store: Path) -> tuple[Any, ...]:
    _, raw = run_query(
        store,
        "SELECT sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_5m_tokens + cache_write_1h_tokens), "
        "sum(total_tokens), sum(cost_usd), count(*), count(*) FILTER (WHERE cost_usd IS NULL) FROM events",
    )
    return raw[0]


@pytest.mark.parametrize(
    ("kind", "zone", "by"),
    [(k, z, None) for k in ("daily", "weekly", "monthly") for z in ZONES]
    + [(k, z, b) for k in ("daily", "weekly", "monthly") for z in ("Asia/Kathmandu", "America/New_York") for b in ("tool", "model", "project")],
)
def test_time_reports_match_python_sums(
    store: Path, fast: Any, raw_totals: tuple[Any, ...], rows: list[tuple[Any, ...]], zone: str, kind: str, by: str | None
) -> None:
    events = as_dicts(rows)
    rep = report(store, kind, Filters(), zone, by=by, query=fast)
    exp = truth(events, lambda e: (PERIOD[kind](local(e, zone)), *([label(e[by], by)] if by else [])))
    check(rep.rows, rep.keys, exp)
    # The totals row equals the store's raw sums, whatever the zone.
    tot = rep.totals()[rep.keys:]
    assert list(tot[:5]) == list(raw_totals[:5]) and list(tot[6:]) == list(raw_totals[6:])
    assert tot[5] == pytest.approx(raw_totals[5], rel=1e-12)


def test_zones_disagree_on_days(store: Path) -> None:
    # Guard against a vacuous pass: the fixture really puts events on different days per zone.
    days = {z: [r[0] for r in report(store, "daily", None, z).rows] for z in ("UTC", "Asia/Kathmandu", "America/New_York")}
    assert days["UTC"] != days["Asia/Kathmandu"] or days["UTC"] != days["America/New_York"]
    counts = {z: [r[-2] for r in report(store, "daily", None, z).rows] for z in ("UTC", "Asia/Kathmandu")}
    assert counts["UTC"] != counts["Asia/Kathmandu"]


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("project", lambda e: (label(e["project"]),)),
        ("model", lambda e: (e["tool"], label(e["model"]))),
        ("tool", lambda e: (e["tool"],)),
    ],
)
def test_group_reports_match_python_sums(store: Path, rows: list[tuple[Any, ...]], kind: str, key) -> None:  # noqa: ANN001
    rep = report(store, kind, None, "UTC")
    check(rep.rows, rep.keys, truth(as_dicts(rows), key))


def test_session_report(store: Path, rows: list[tuple[Any, ...]]) -> None:
    events = as_dicts(rows)
    rep = report(store, "session", None, "Asia/Kolkata")
    got = {(r[0], r[1]): r for r in rep.rows}
    exp = truth(events, lambda e: (e["tool"], e["session_id"]))
    check([(r[0], r[1], *r[6:]) for r in rep.rows], 2, exp)
    tool, sid = next(iter(exp))
    first = min(e["ts"] for e in events if (e["tool"], e["session_id"]) == (tool, sid))
    shown = got[(tool, sid)][3]
    assert shown.utcoffset() == timedelta(hours=5, minutes=30)
    assert shown.astimezone(timezone.utc).replace(tzinfo=None) == first


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kathmandu"])
def test_filters(store: Path, rows: list[tuple[Any, ...]], zone: str) -> None:
    events = as_dicts(rows)
    tz = ZoneInfo(zone)
    f = Filters(
        since=parse_bound("2026-03-01", zone), until=parse_bound("2026-03-10", zone, end=True),
        tools=["claude-code", "codex"], projects=["ALPHA"], models=["opus", "codex"],
    )
    lo, hi = datetime(2026, 3, 1, tzinfo=tz), datetime(2026, 3, 11, tzinfo=tz)
    keep = [
        e for e in events
        if lo <= e["ts"].replace(tzinfo=timezone.utc) < hi and e["tool"] in ("claude-code", "codex")
        and e["project"] == "/home/u/alpha" and ("opus" in e["model"] or "codex" in e["model"])
    ]
    assert keep
    rep = report(store, "daily", f, zone)
    check(rep.rows, 1, truth(keep, lambda e: (local(e, zone).date(),)))


def test_hand_counted_days_across_midnight(db: Path) -> None:
    # Three events by hand. In UTC: 2026-01-01 23:30 and 2026-01-02 00:10 fall on two days;
    # in Europe/Berlin (UTC+1 in winter) both are 2026-01-02 (00:30 and 01:10), and the third,
    # 2026-01-02 22:59Z, is 23:59 on the 2nd in Berlin but 2026-01-03 04:29 in Kolkata (+5:30).
    build_store(db, [
        event_row(1, datetime(2026, 1, 1, 23, 30), input_tokens=100, output_tokens=10, cost_usd=1.5),
        event_row(2, datetime(2026, 1, 2, 0, 10), input_tokens=200, cache_read_tokens=1000, cost_usd=None),
        event_row(3, datetime(2026, 1, 2, 22, 59), output_tokens=7, cache_write_1h_tokens=3, cost_usd=0.25),
    ])
    utc = {r[0]: r[1:] for r in report(db, "daily", None, "UTC").rows}
    assert utc == {date(2026, 1, 1): (100, 10, 0, 0, 110, 1.5, 1, 0), date(2026, 1, 2): (200, 7, 1000, 3, 1210, 0.25, 2, 1)}
    berlin = {r[0]: r[1:] for r in report(db, "daily", None, "Europe/Berlin").rows}
    assert berlin == {date(2026, 1, 2): (300, 17, 1000, 3, 1320, 1.75, 3, 1)}
    kolkata = {r[0]: r[1:] for r in report(db, "daily", None, "Asia/Kolkata").rows}
    assert kolkata == {date(2026, 1, 2): (300, 10, 1000, 0, 1310, 1.5, 2, 1), date(2026, 1, 3): (0, 7, 0, 3, 10, 0.25, 1, 0)}


def test_parse_bound() -> None:
    now = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)
    assert parse_bound("2026-03-01", "UTC") == datetime(2026, 3, 1)
    assert parse_bound("2026-03-01", "UTC", end=True) == datetime(2026, 3, 2)
    assert parse_bound("2026-03-01", "Asia/Kolkata") == datetime(2026, 2, 28, 18, 30)
    assert parse_bound("12h", "UTC", now=now) == datetime(2026, 3, 15, 0, 0)
    assert parse_bound("7d", "UTC", now=now) == datetime(2026, 3, 8)
    assert parse_bound("2w", "UTC", now=now) == datetime(2026, 3, 1)
    assert parse_bound("1m", "America/New_York", now=now) == datetime(2026, 2, 15, 5, 0)
    assert parse_bound("2026-03-01T10:00", "Europe/Berlin") == datetime(2026, 3, 1, 9, 0)
    assert parse_bound("2026-03-01T10:00Z", "Europe/Berlin") == datetime(2026, 3, 1, 10, 0)
    with pytest.raises(ReportError, match="YYYY-MM-DD"):
        parse_bound("yesterday-ish", "UTC")
    with pytest.raises(ReportError, match="Unknown time zone"):
        resolve_zone("Mars/Olympus")


def test_blocks_hand_made(db: Path) -> None:
    h = datetime(2026, 2, 1, 9, 0)
    build_store(db, [
        # Block 1 starts 09:00 (first event 09:20) and covers [09:00, 14:00).
        event_row(1, h + timedelta(minutes=20), input_tokens=100, cost_usd=1.0),
        event_row(2, h + timedelta(hours=4, minutes=59), input_tokens=50, cost_usd=None),
        # 14:05 is outside block 1 -> block 2 starts 14:00.
        event_row(3, h + timedelta(hours=5, minutes=5), output_tokens=30, cost_usd=0.5),
        event_row(4, h + timedelta(hours=5, minutes=35), output_tokens=30, cost_usd=0.5),
        # Not Claude: never in blocks.
        event_row(5, h + timedelta(hours=5, minutes=10), tool="codex", input_tokens=999, cost_usd=9.0),
    ])
    now = h + timedelta(hours=6)  # 15:00, inside block 2 ([14:00, 19:00))
    rep = report(db, "blocks", None, "UTC", now=now)
    assert [(r[0].hour, r[1].hour, r[2]) for r in rep.rows] == [(9, 14, "done"), (14, 19, "active")]
    assert rep.rows[0][4:12] == (150, 0, 0, 0, 150, 1.0, 2, 1)
    assert rep.rows[1][4:12] == (0, 60, 0, 0, 60, 1.0, 2, 0)
    # Burn over first..last event of the block: 60 tokens in 30 min = 2/min; $1.0 in 0.5 h = $2/h.
    # 240 minutes remain until 19:00: 60 + 2*240 = 540 tokens, $1 + $2*4 = $9 projected.
    a = rep.extra["active"]
    assert a["burn_tokens_per_min"] == pytest.approx(2.0) and a["burn_cost_per_hour"] == pytest.approx(2.0)
    assert a["projected_tokens"] == 540 and a["projected_cost_usd"] == pytest.approx(9.0)


def test_group_blocks_gap_starts_new_block() -> None:
    t = datetime(2026, 1, 1)
    hours = [
        (t, t + timedelta(minutes=59), t + timedelta(minutes=59), ["m"], 1, 0, 0, 0, 1, None, 1, 1),
        (t + timedelta(hours=11), t + timedelta(hours=11, minutes=1), t + timedelta(hours=11, minutes=2), ["m"], 2, 0, 0, 0, 2, 0.5, 1, 0),
    ]
    blocks = group_blocks(hours)
    assert [b.start for b in blocks] == [t, t + timedelta(hours=11)]


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "table"])
def test_cli_formats_parse(store: Path, rows: list[tuple[Any, ...]], fmt: str) -> None:
    res = CliRunner().invoke(cli, ["--db", str(store), "report", "daily", "--tz", "Asia/Kolkata", "-f", fmt], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    exp = truth(as_dicts(rows), lambda e: (local(e, "Asia/Kolkata").date().isoformat(),))
    if fmt == "csv":
        recs = list(csv.DictReader(io.StringIO(res.stdout)))
    elif fmt == "json":
        recs = json.loads(res.stdout)
    elif fmt == "ndjson":
        recs = [json.loads(x) for x in res.stdout.splitlines()]
    else:
        lines = res.stdout.splitlines()
        assert lines[0].split()[:2] == ["day", "input"] and set(lines[-2]) == {"-"}
        total = lines[-1].split()
        assert total[0] == "TOTAL" and total[5] == f"{sum(v[4] for v in exp.values()):,}"
        return
    assert [r["day"] for r in recs] == sorted(k[0] for k in exp)
    for r in recs:
        e = exp[(r["day"],)]
        assert int(r["total_tokens"]) == e[4] and int(r["unpriced"]) == e[7]
        assert (r["cost_usd"] in ("", None)) if e[5] is None else float(r["cost_usd"]) == pytest.approx(e[5], rel=1e-9)
    assert list(recs[0]) == ["day", *METRICS]


def test_cli_chart_and_errors(store: Path) -> None:
    r = CliRunner().invoke(cli, ["--db", str(store), "report", "monthly", "--chart", "--tz", "UTC"], catch_exceptions=False)
    assert r.exit_code == 0 and "cost (USD) per month" in r.stdout and "█" in r.stdout and "2026-03" in r.stdout
    r = CliRunner().invoke(cli, ["--db", str(store), "report", "daily", "--tz", "Nowhere/Land"])
    assert r.exit_code == 1 and "Unknown time zone" in r.stderr
    r = CliRunner().invoke(cli, ["--db", str(store), "report", "daily", "--since", "2099-01-01"])
    assert r.exit_code == 0 and r.stdout == "" and "No usage" in r.stderr


def test_every_report_command_has_help() -> None:
    for sub in ["daily", "weekly", "monthly", "session", "project", "model", "tool", "blocks", "html"]:
        r = CliRunner().invoke(cli, ["report", sub, "--help"])
        assert r.exit_code == 0 and "logscan report" in r.stdout, sub


def test_blocks_do_not_project_from_seconds_of_data_and_hold_anthropic_usage_only(db: Path) -> None:
    h = datetime(2026, 2, 1, 9, 0)
    build_store(db, [
        event_row(1, h + timedelta(minutes=20), input_tokens=1000, cost_usd=2.0),
        event_row(2, h + timedelta(minutes=20, seconds=8), input_tokens=1000, cost_usd=2.0),
        # z.ai GLM through Claude Code: same tool, another provider; not in Claude's 5-hour window
        event_row(3, h + timedelta(minutes=30), input_tokens=77_777, cost_usd=5.0, provider="zai", model="glm-4.6"),
    ])
    rep = report(db, "blocks", None, "UTC", now=h + timedelta(minutes=25))
    assert len(rep.rows) == 1 and rep.rows[0][4] == 2000 and "glm" not in rep.rows[0][3]
    a = rep.extra["active"]
    assert a["projected_cost_usd"] is None and a["burn_cost_per_hour"] is None
    assert a["too_early"].startswith("too early to project: 2 call(s) over 0 min")
    later = report(db, "blocks", None, "UTC", now=h + timedelta(minutes=25)).extra["active"]
    assert later["tokens"] == 2000  # the GLM call is not in the active block either
