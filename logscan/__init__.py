"""logscan: exact, queryable token usage, cost and quota from AI coding assistants' local logs."""

__version__ = "0.1.0"

__all__ = ["__version__"]
