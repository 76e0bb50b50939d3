"""``logscan compare A B``: two options (filters such as tool=codex or model=claude-sonnet-4-5)
compared per session or per day, with a bootstrap interval and an always-valid verdict
(``logscan.reports.compare``)."""

from __future__ import annotations

from typing import Any

import click

from logscan.commands.common import db_path, say

KEYS = ("tool", "model", "project", "host")


def parse_filter(text: str) -> list[tuple[str, str]]:
    """``tool=codex,model=gpt-5`` -> [("tool", "codex"), ("model", "gpt-5")]; errors name the form."""
    from logscan.tools import canonical

    out = []
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or key not in KEYS or not value:
            raise click.BadParameter(f"{text!r}: use KEY=VALUE[,KEY=VALUE...] with KEY one of {', '.join(KEYS)} (e.g. tool=codex,model=gpt-5)")
        if key == "tool":
            try:
                value = canonical(value)
            except ValueError as e:
                raise click.BadParameter(str(e)) from None
        out.append((key, value))
    return out


def units(db: Any, filt: list[tuple[str, str]], by: str, since: Any, until: Any,
          usd_per_pct: dict[str, float] | None = None) -> tuple[list[tuple[float, float, int, int, int, float]], int]:
    """Per unit (cost, tokens, calls, output, 1, percent) for priced units, and how many units
    were left out: some of their calls have no price, or (with ``usd_per_pct``: each tool's
    dollars per 1 % of its bar) a tool of theirs has no value per percent yet."""
    from logscan.service.client import run_query

    where, params = [], []
    by_key: dict[str, list[str]] = {}
    for key, value in filt:
        by_key.setdefault(key, []).append(value)
    for key, values in by_key.items():  # different keys must all match, one key any of its values
        test = f"{key} = ?" if key in ("tool", "host") else f"contains(lower({key}), lower(?))"
        where.append("(" + " OR ".join([test] * len(values)) + ")")
        params.extend(values)
    if since is not None:
        where.append("ts >= ?")
        params.append(since)
    if until is not None:
        where.append("ts < ?")
        params.append(until)
    unit = "tool, session_id" if by == "session" else "CAST(ts AS DATE)"
    _, rows = run_query(db, f"SELECT {unit} AS u, tool, sum(cost_usd), sum(total_tokens), count(*), sum(output_tokens), "
                            f"count(*) FILTER (WHERE cost_usd IS NULL) FROM events WHERE {' AND '.join(where)} "
                            f"GROUP BY ALL ORDER BY ALL", params)  # ordered: same seed, same interval
    per: dict[Any, list[Any]] = {}
    for *key, tool, c, t, n, o, unpriced in rows:
        acc = per.setdefault(tuple(key) if by == "session" else key[0], [0.0, 0.0, 0, 0, 1, 0.0, False])
        value = (usd_per_pct or {}).get(tool)
        if unpriced or (usd_per_pct is not None and not value):
            acc[6] = True
            continue
        acc[0] += float(c or 0)
        acc[1] += float(t or 0)
        acc[2] += int(n)
        acc[3] += int(o or 0)
        acc[5] += float(c or 0) / value if value else 0.0
    kept = [tuple(a[:6]) for a in per.values() if not a[6]]
    return kept, len(per) - len(kept)  # type: ignore[return-value]


@click.command()
@click.argument("a")
@click.argument("b")
@click.option("--metric", type=click.Choice(["cost_per_session", "tokens_per_session", "cost_per_call", "output_per_dollar", "percent_per_session"]),
              default="cost_per_session", show_default=True)
@click.option("--by", type=click.Choice(["session", "day"]), default="session", show_default=True, help="The unit resampled and counted.")
@click.option("--since", help="From this day (YYYY-MM-DD, YYYYMMDD or 30d).")
@click.option("--until", help="Up to and including this day.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap (same data, same interval).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def compare(ctx: click.Context, a: str, b: str, metric: str, by: str, since: str | None, until: str | None, seed: int, as_json: bool) -> None:
    """Compare option A with option B: which gives more work per dollar, per session, per call.

    A and B are filters: tool=codex, model=claude-sonnet-4-5, project=api, host=laptop
    (comma-separated to combine: different keys must all match, a key given twice matches
    either value, as repeated report filters do). The interval is a bootstrap over sessions (or days); the
    verdict is an always-valid sequential rule, so asking again after every session does not
    inflate the error rate (see README, "Compare tools and models").

    \b
    logscan compare tool=claude-code tool=codex
    logscan compare model=claude-sonnet-4-5 model=claude-opus-4-6 --metric cost_per_call --since 30d
    """
    from logscan.reports.compare import METRICS, compare as run
    from logscan.reports.report import machine_zone, parse_bound, resolve_zone

    fa, fb = parse_filter(a), parse_filter(b)
    z = resolve_zone(machine_zone())
    lo = parse_bound(since, z) if since else None
    hi = parse_bound(until, z, end=True) if until else None
    num, den = METRICS[metric]
    pick = {"cost": 0, "tokens": 1, "calls": 2, "output": 3, "units": 4, "percent": 5}
    per_pct = bar_values(db_path(ctx)) if metric == "percent_per_session" else None
    if per_pct is not None and not per_pct:
        raise click.UsageError("percent_per_session needs quota readings with a value per percent: see 'logscan quota value'.")
    data = []
    dropped = 0
    for f in (fa, fb):
        us, d = units(db_path(ctx), f, by, lo, hi, per_pct)
        dropped += d
        data.append([(u[pick[num]], u[pick[den]]) for u in us])
    c = run(data[0], data[1], metric, unit=by, seed=seed)
    if as_json:
        import orjson

        click.echo(orjson.dumps({"a": a, "b": b, **c.__dict__}).decode())
        return
    fmt = ((lambda v: "-" if v is None else f"{'-' if v < 0 else ''}${abs(v):,.4f}") if metric.startswith("cost")
           else (lambda v: "-" if v is None else f"{v:,.3f} %") if metric.startswith("percent") else (lambda v: "-" if v is None else f"{v:,.1f}"))
    click.echo(f"{metric} (unit: {by}):  A ({a}) {fmt(c.est_a)} over {c.n_a};  B ({b}) {fmt(c.est_b)} over {c.n_b}")
    if c.diff_ci and c.ratio_ci:
        click.echo(f"B - A: {fmt(c.est_b - c.est_a) if c.est_a is not None and c.est_b is not None else '-'}, 95 % bootstrap interval "
                   f"{fmt(c.diff_ci[0])} to {fmt(c.diff_ci[1])}; B / A: {c.ratio_ci[0]:.2f} to {c.ratio_ci[1]:.2f}")
    click.echo(c.verdict)
    if dropped:
        say(f"({dropped} {by}s left out: some of their calls have no price ('logscan prices' lists the models)"
            + (" or their tool has no value per percent yet ('logscan quota value')" if per_pct is not None else "") + ")")
    if per_pct:
        say("(percent of each tool's bar: " + ", ".join(f"{t} ${v:,.2f} per 1 %" for t, v in sorted(per_pct.items())) + ", from 'logscan quota value')")


def bar_values(db: Any) -> dict[str, float]:
    """Each tool's dollars per 1 % of its quota bar (its weekly bar, else its 5-hour bar), as
    'quota value' estimates them from the readings."""
    from logscan.quota.plan import group, values
    from logscan.quota.storage import load_snapshots

    out: dict[str, tuple[int, float]] = {}
    for v in values(db, group(load_snapshots(db, None))):
        tool, window, scope = v.key
        if scope is not None or not v.dollars.ratio or v.dollars.ratio <= 0:
            continue
        rank = {"weekly": 0, "five_hour": 1}.get(window, 2)
        if tool not in out or rank < out[tool][0]:
            out[tool] = (rank, v.dollars.ratio)
    return {t: r for t, (_, r) in out.items()}
