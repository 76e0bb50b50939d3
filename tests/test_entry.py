"""``logscan statusline`` must not pay for click, duckdb or pydantic: the console script
dispatches it first."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "import sys, atexit\n"
    "atexit.register(lambda: sys.stderr.write(repr(sorted(m for m in ('click','duckdb','pydantic','genai_prices') if m in sys.modules))))\n"
    "sys.argv = ['logscan', 'statusline']\n"
    "from logscan.entry import main\n"
    "main()\n"
)


def test_statusline_imports_nothing_heavy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "LOGSCAN_DATA_DIR": str(tmp_path)}
    p = subprocess.run([sys.executable, "-c", PROBE], input=b'{"model":{"id":"claude-opus-4-6"}}', capture_output=True, env=env, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip(), "prints a status line"
    assert p.stderr.decode().strip().endswith("[]"), p.stderr


def test_other_commands_reach_click() -> None:
    p = subprocess.run([sys.executable, "-c", "import sys; sys.argv=['logscan','--version']; from logscan.entry import main; main()"], capture_output=True, timeout=30)
    assert p.returncode == 0 and b"logscan" in p.stdout
