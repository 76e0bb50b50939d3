"""Errors the library raises. The CLI turns each into one line for the user; none imports click."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    INPUT_PROBLEMS = 3
    DAMAGED_STORE = 78  # EX_CONFIG: the service manager must not restart into the same error


class LogscanError(Exception):
    """An error with a message that says what went wrong, where, and what to do next."""


class NoDatabase(LogscanError):
    pass


class DatabaseBusy(LogscanError):
    pass


class ReadOnlyViolation(LogscanError):
    pass


class QueryError(LogscanError):
    pass


class UnknownParser(LogscanError):
    pass


class MigrationError(LogscanError):
    pass


class ConfigError(LogscanError):
    pass
