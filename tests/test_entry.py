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


def test_report_and_query_skip_the_duckdb_python_layer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A report answers in well under 0.3 s partly because only DuckDB's C++ extension is
    imported, not the ``duckdb`` package's Python layer (0.1-0.2 s to import), nor prices."""
    db = tmp_path / "x.duckdb"
    env = {**os.environ, "LOGSCAN_DATA_DIR": str(tmp_path), "LOGSCAN_DB": str(db)}
    env.pop("LOGSCAN_SOCKET", None)
    from logscan.store.store import Store

    Store.open(db).close()  # an empty, migrated store
    for args in (["report", "daily", "-f", "json"], ["query", "SELECT count(*) FROM events"]):
        probe = PROBE.replace("'statusline'", ", ".join(repr(a) for a in args)).replace("('click',", "('_duckdb','click',")
        p = subprocess.run([sys.executable, "-c", probe], capture_output=True, env=env, timeout=60)
        assert p.returncode == 0, p.stderr
        loaded = p.stderr.decode().strip().splitlines()[-1]
        assert "'_duckdb'" in loaded and "'duckdb'" not in loaded and "genai_prices" not in loaded, (args, loaded)


def test_exit_runs_handlers_flushes_and_keeps_the_status() -> None:
    """The console script ends the process without finalizing modules; what sys.exit would do
    must still happen: exit handlers run, buffered output arrives, the status is kept."""
    code = (
        "import atexit, sys\n"
        "from logscan.entry import _exit\n"
        "atexit.register(lambda: print('handler ran'))\n"
        "print('buffered', end=' ')\n"
        "_exit(sys.argv[1] if sys.argv[1] != 'none' else None) if not sys.argv[1].isdigit() else _exit(int(sys.argv[1]))\n"
    )
    cases = {"0": (0, b""), "3": (3, b""), "none": (0, b""), "boom": (1, b"boom")}
    for arg, (status, err) in cases.items():
        p = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, timeout=30)
        assert p.returncode == status, (arg, p)
        assert p.stdout == b"buffered handler ran\n", (arg, p.stdout)
        assert p.stderr.strip() == err, (arg, p.stderr)
    p = subprocess.run([sys.executable, "-c", "import sys; sys.argv=['logscan','nosuch']; from logscan.entry import main; main()"], capture_output=True, timeout=30)
    assert p.returncode == 2 and b"No such command" in p.stderr
