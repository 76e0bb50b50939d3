"""Every test runs with HOME, XDG dirs, LOGSCAN_* and the tools' env vars pointed into tmp_path:
no test ever reads the real ~/.claude or writes the real store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pgserver"]  # fixtures pg_server, hub_url: a real PostgreSQL for the sync tests

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    for var in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "LOGSCAN_DEBUG", "LOGSCAN_PRICES", "LOGSCAN_SOCKET",
                "LOGSCAN_SYNC_URL", "PGPASSWORD", "PGPASSFILE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LOGSCAN_DB", str(tmp_path / "logscan.duckdb"))
    monkeypatch.setenv("LOGSCAN_DATA_DIR", str(tmp_path / "logscan-data"))
    monkeypatch.setenv("LOGSCAN_CONFIG_DIR", str(tmp_path / "logscan-config"))
    monkeypatch.setenv("TZ", "UTC")
    return home


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "logscan.duckdb"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst
