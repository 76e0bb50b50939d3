"""Options and helpers shared by commands."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from logscan.reports.output import FORMATS, write_rows

F = TypeVar("F", bound=Callable[..., Any])


class ToolName(click.ParamType):
    """A tool id or an alias (claude, cc -> claude-code; oc -> opencode), checked against the
    known tools (``logscan.tools``)."""

    name = "tool"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from logscan.tools import canonical

        try:
            return canonical(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


TOOL = ToolName()


def format_option(fn: F) -> F:
    """-f/--format, --json (ccusage's spelling of ``-f json``) and --no-headers."""

    @functools.wraps(fn)
    def wrapper(*args: Any, json_flag: bool = False, **kwargs: Any) -> Any:
        if json_flag:
            kwargs["fmt"] = "json"
        return fn(*args, **kwargs)

    out: Any = click.option("--no-headers", is_flag=True, help="Omit the header row (table, csv).")(wrapper)
    out = click.option("--json", "json_flag", is_flag=True, help="Same as -f json.")(out)
    return click.option(  # type: ignore[no-any-return]
        "-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
    )(out)


def table_options(fn: F) -> F:
    """--compact / --wide for tables that fit the terminal."""
    fn = click.option("--wide", is_flag=True, help="Show every column, whatever the terminal's width.")(fn)
    return click.option("--compact", is_flag=True, help="Only the main columns (labels, total tokens, cost).")(fn)  # type: ignore[return-value]


def db_path(ctx: click.Context) -> Path:
    return ctx.find_root().obj["db"]  # type: ignore[no-any-return]


def emit(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, no_headers: bool = False, **table: Any) -> None:
    """Rows to stdout in ``fmt``; a table fits the terminal (``table``: write_table's options)."""
    write_rows(columns, rows, fmt, sys.stdout, headers=not no_headers, **table)


def say(msg: str) -> None:
    """Talk goes to stderr; stdout is data."""
    click.echo(msg, err=True)


def fill(text: str, first: str = "", rest: str = "", *, pipe: int | None = None) -> str:
    """``text`` after ``first``, wrapped to the terminal's width (``$COLUMNS``, else the
    terminal's) with ``rest`` before every further line; on a pipe or a file, to ``pipe``
    columns, or not at all when ``pipe`` is None (one line per item, for scripts). Words are
    never cut, so a long path may still pass the edge rather than be broken."""
    import textwrap

    from logscan.reports.output import terminal_width

    width = terminal_width(sys.stdout) or pipe
    if width is None:
        return first + text
    return textwrap.fill(text, max(width, 40), initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False)
