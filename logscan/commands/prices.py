"""``logscan prices``: where the price override file is, what it overrides, and which models in
the store have no price (their cost is NULL, never 0), with the line that would price them."""

from __future__ import annotations

from typing import Any

import click

from logscan.commands.common import db_path, emit, format_option


@click.command()
@click.option("--path", "path_only", is_flag=True, help="Print only the override file's path (e.g. $EDITOR \"$(logscan prices --path)\").")
@format_option
@click.pass_context
def prices(ctx: click.Context, path_only: bool, fmt: str, no_headers: bool) -> None:
    """The price override file, what it overrides, and the models that have no price.

    Prices come from genai-prices' bundled data. A model it does not know is priced by an
    [aliases] entry (name glob -> "provider:model") or a [models."name"] entry (USD per million
    tokens) in the override file; then 'logscan reprice' updates the stored costs.

    \b
    logscan prices
    logscan prices --path
    logscan prices -f json        # the unpriced models
    """
    from logscan.pricing import Pricer, _override_path

    path = _override_path()
    if path_only:
        click.echo(str(path))
        return
    pricer = Pricer(path)  # refuses an invalid file with a one-line error
    rows = _unpriced(ctx)
    if fmt != "table":
        emit(["tool", "provider", "model", "price_status", "events", "tokens"], rows, fmt, no_headers)
        return
    click.echo(f"override file: {path} ({'present' if path.exists() else 'not present: create it to add prices'})")
    click.echo(f"price data:    {pricer.version}")
    for pattern, prov, model in pricer.aliases:
        click.echo(f"  alias   {pattern} -> {prov or '(any provider)'}:{model or '(same name)'}")
    for pattern, p in pricer.custom:
        click.echo(f"  model   {pattern}: input ${p['input']}/M, output ${p['output']}/M"
                   + "".join(f", {k} ${p[k]}/M" for k in ("cache_read", "cache_write_5m", "cache_write_1h") if k in p))
    if not rows:
        click.echo("\nEvery event in the store has a price.")
        return
    click.echo(f"\nModels without a price ({sum(r[4] for r in rows):,} events; their cost is NULL, so totals are lower bounds):")
    emit(["tool", "provider", "model", "price_status", "events", "tokens"], rows, "table", no_headers)
    example = rows[0][2]
    click.echo(f"\nTo price one, add to {path}:\n\n    [aliases]\n    \"{example}\" = \"openai:gpt-5\"    # the model it is billed as\n\n"
               "then run 'logscan reprice'.")


def _unpriced(ctx: click.Context) -> list[tuple[Any, ...]]:
    from logscan.service.client import run_query

    db = db_path(ctx)
    if not db.exists():
        return []
    _, rows = run_query(db, "SELECT tool, provider, model, price_status, count(*) AS events, sum(total_tokens) AS tokens FROM events "
                            "WHERE cost_usd IS NULL AND price_status <> 'synthetic' GROUP BY ALL ORDER BY events DESC, model")
    return [tuple(r) for r in rows]
