"""Click commands, one module per area; ``logscan.cli`` loads them lazily."""
