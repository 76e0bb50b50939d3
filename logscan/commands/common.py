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


def fill(text: str, first: str = "", rest: str = "") -> str:
    """``text`` wrapped to the terminal's width (100 columns when it has none), after ``first``
    on the first line and ``rest`` on the others; words are never cut, so a long path may
    still pass the edge rather than be broken."""
    import shutil
    import textwrap

    from logscan.reports.output import terminal_width

    width = max(terminal_width(sys.stdout) or shutil.get_terminal_size((100, 24)).columns, 40)
    return textwrap.fill(text, width, initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False)
