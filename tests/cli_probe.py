"""The ``logscan`` console script run in a child process that also reports which heavy modules
it imported: how the tests see that a report was answered without click, DuckDB or pydantic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write('MODULES ' + ','.join(sorted(m for m in ('click', 'duckdb', '_duckdb', 'pydantic') if m in sys.modules)) + '\\n'))\n"
    "from logscan.entry import main\n"
    "sys.argv = ['logscan', *sys.argv[1:]]\n"
    "main()\n"
)


def write_probe(folder: Path) -> Path:
    probe = folder / "probe.py"
    probe.write_text(PROBE)
    return probe


def run_probe(probe: Path, db: Path, *argv: str, **env: str) -> tuple[str, str, int, str]:
    """(stdout, stderr, exit code, the heavy modules imported, comma-separated) of
    ``logscan --db DB ARGV...`` with COLUMNS=80 unless ``env`` says otherwise."""
    e = {**os.environ, "COLUMNS": "80", **env}
    e.pop("LOGSCAN_DEBUG", None)
    r = subprocess.run([sys.executable, str(probe), "--db", str(db), *argv], capture_output=True, text=True, env=e, timeout=60)
    err, _, mods = r.stderr.rpartition("MODULES ")
    return r.stdout, err, r.returncode, mods.strip()
