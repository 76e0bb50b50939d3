"""``logscan api pull|login`` (the providers' billing APIs) and ``logscan reconcile``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click

from logscan.commands.common import db_path, emit, format_option, say, table_options

PROVIDER = click.Choice(["anthropic", "openai", "all"])


def _day(value: str | None, end: bool = False) -> datetime | None:
    if value is None:
        return None
    from logscan.reports.report import parse_bound

    return parse_bound(value, "UTC", end=end)  # the providers' buckets are UTC days


@click.group("api")
def api() -> None:
    """Usage and cost from the providers' admin APIs (Anthropic, OpenAI), beside the logs.

    Keys: ANTHROPIC_ADMIN_KEY (or ANTHROPIC_ADMIN_API_KEY) and OPENAI_ADMIN_KEY, or the system
    keyring ('logscan api login'); they are never stored in the database, logs or exports.

    \b
    logscan api pull all
    logscan api pull anthropic --since 2026-11-01
    logscan reconcile --since 30d
    """


@api.command("pull")
@click.argument("provider", type=PROVIDER)
@click.option("--since", help="First UTC day (YYYY-MM-DD, YYYYMMDD or 7d) [default: the newest stored bucket, or 30 days back].")
@click.option("--until", help="Last UTC day, included [default: now].")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
def pull_cmd(ctx: click.Context, provider: str, since: str | None, until: str | None, as_json: bool) -> None:
    """Pull PROVIDER's usage and cost buckets into api_usage and api_costs.

    A pull replaces the buckets of its range, so pulling twice adds nothing and a day that was
    still open is updated. 'all' pulls every provider that has a key and skips the others.
    """
    from logscan.errors import ConfigError
    from logscan.providers.keys import PROVIDERS, key_for
    from logscan.providers.pull import pull

    names = [p for p in PROVIDERS if key_for(p)] if provider == "all" else [provider]
    if not names:
        raise ConfigError("No admin key for any provider: set ANTHROPIC_ADMIN_KEY or OPENAI_ADMIN_KEY, or run 'logscan api login PROVIDER'.")
    out = []
    for name in names:
        res = pull(db_path(ctx), name, _day(since), _day(until, end=True))
        out.append(res)
        if not as_json:
            say(f"{name}: {res['usage_rows']:,} usage rows, {res['cost_rows']:,} cost rows for {res['since']:%Y-%m-%d %H:%M} to "
                f"{res['until']:%Y-%m-%d %H:%M} UTC" + (f"; {res['problems']} results could not be read (see 'logscan problems')" if res["problems"] else ""))
    if as_json:
        import orjson

        click.echo(orjson.dumps(out, default=str).decode())


@api.command("login")
@click.argument("provider", type=click.Choice(["anthropic", "openai"]))
def login(provider: str) -> None:
    """Save PROVIDER's admin key in the system keyring (asked for, never echoed)."""
    from logscan.providers.keys import save_key

    key = click.prompt(f"{provider} admin key", hide_input=True).strip()
    if not key:
        raise click.UsageError("no key given")
    save_key(provider, key)
    say(f"saved in the system keyring (service 'logscan', user '{provider}')")


@click.command()
@click.option("--since", default="30d", show_default=True, help="First UTC day (YYYY-MM-DD, YYYYMMDD or 30d).")
@click.option("--until", help="Last UTC day, included [default: today].")
@click.option("--by", type=click.Choice(["day", "model"]), default="day", show_default=True)
@table_options
@format_option
@click.pass_context
def reconcile(ctx: click.Context, since: str, until: str | None, by: str, compact: bool, wide: bool, fmt: str, no_headers: bool) -> None:
    """What the providers' APIs billed next to what the logs in this store account for.

    Run 'logscan api pull all' first. log_share is the logs' tokens over the API's.

    \b
    logscan reconcile --since 2026-11-01
    logscan reconcile --by model --json
    """
    from logscan.providers.reconcile import REASONS
    from logscan.providers.reconcile import reconcile as run

    end = _day(until, end=True) or (datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(days=1))
    columns, rows = run(db_path(ctx), _day(since) or end - timedelta(days=30), end, by)
    if not rows:
        say("Nothing to compare: no API data in this range. Run 'logscan api pull all' (it needs an admin key).")
        return
    emit(columns, rows, fmt, no_headers, compact=compact, wide=wide, drop_order=["diff_usd", "diff_tokens"])
    if fmt == "table":
        say("\n" + REASONS)
