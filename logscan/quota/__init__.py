"""Quota tracking: subscription bars (Claude Code /usage, Codex /status, rate_limits in logs,
the statusline feed), what a percent of a bar is worth, and a plan for spending what is left.

Modules: ``timeparse`` (reset texts to UTC instants), ``text`` (pasted panels), ``ratelimits``
(structured readings in logs and statusline JSON), ``rows``/``spool``/``storage`` (getting
snapshots into the store), ``estimate`` (value per percent), ``plan`` (forecast and knapsack),
``statusline`` (the stdlib-only Claude Code statusLine command) and ``cache`` (what it reads).
This package file stays import-free: the statusline path must not pay for pydantic or duckdb.
"""
