"""Options and helpers shared by commands."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from logscan.reports.output import FORMATS, write_rows

F = TypeVar("F", bound=Callable[..., Any])


def format_option(fn: F) -> F:
    fn = click.option("--no-headers", is_flag=True, help="Omit the header row (table, csv).")(fn)
    return click.option(  # type: ignore[return-value]
        "-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
    )(fn)


def db_path(ctx: click.Context) -> Path:
    return ctx.find_root().obj["db"]  # type: ignore[no-any-return]


def emit(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, no_headers: bool = False) -> None:
    write_rows(columns, rows, fmt, sys.stdout, headers=not no_headers)


def say(msg: str) -> None:
    """Talk goes to stderr; stdout is data."""
    click.echo(msg, err=True)
