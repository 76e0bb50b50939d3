"""Where logscan keeps its files, and where the assistants keep theirs.

Every location honours an environment variable so tests and users can move it.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "logscan"


def data_dir() -> Path:
    if v := os.environ.get("LOGSCAN_DATA_DIR"):
        return Path(v)
    import platformdirs

    return platformdirs.user_data_path(APP)


def config_dir() -> Path:
    if v := os.environ.get("LOGSCAN_CONFIG_DIR"):
        return Path(v)
    import platformdirs

    return platformdirs.user_config_path(APP)


def default_db_path() -> Path:
    if v := os.environ.get("LOGSCAN_DB"):
        return Path(v)
    return data_dir() / "logscan.duckdb"


def home() -> Path:
    return Path(os.path.expanduser("~"))


def xdg_config_home() -> Path:
    v = os.environ.get("XDG_CONFIG_HOME")
    return Path(v) if v else home() / ".config"


def xdg_data_home() -> Path:
    v = os.environ.get("XDG_DATA_HOME")
    return Path(v) if v else home() / ".local" / "share"


def socket_path() -> Path:
    """The daemon's Unix socket: ``$LOGSCAN_SOCKET``, else ``$XDG_RUNTIME_DIR/logscan/sock``, else
    a short per-user path under the temp dir (macOS limits ``sun_path`` to 104 bytes, and its
    ``$TMPDIR`` is already long)."""
    if v := os.environ.get("LOGSCAN_SOCKET"):
        return Path(v).expanduser()
    if v := os.environ.get("XDG_RUNTIME_DIR"):
        return Path(v) / APP / "sock"
    import tempfile

    base = Path(tempfile.gettempdir())
    if len(str(base)) > 60:
        base = Path("/tmp")
    return base / f"{APP}-{os.getuid()}" / "sock"
