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
    ``run/sock`` in the user's own data dir: never a directory in a shared temp dir, where another
    user could create it first (``check_socket`` refuses such a place anyway)."""
    if v := os.environ.get("LOGSCAN_SOCKET"):
        return Path(v).expanduser()
    if v := os.environ.get("XDG_RUNTIME_DIR"):
        return Path(v) / APP / "sock"
    return data_dir() / "run" / "sock"


class InsecurePath(Exception):
    """A socket or its directory that another local user could have made or could replace."""


def check_socket(sock: Path, *, exists: bool) -> None:
    """Raise ``InsecurePath`` (one line: what, where, what next) unless ``sock`` is safe to bind or
    to talk to: its directory is a real directory (not a symlink) owned by this user with no
    group/other bits, or (for an explicit ``LOGSCAN_SOCKET`` such as ``/tmp/x.sock``) a
    root-owned sticky directory; with ``exists``, the socket itself is a socket (not a symlink)
    owned by this user with no group/other bits. Checked with ``lstat``: links are never followed."""
    import stat

    uid = os.getuid()
    parent = sock.parent
    try:
        st = os.lstat(parent)
    except OSError as e:
        raise InsecurePath(f"cannot check the socket directory {parent}: {e.strerror}") from None
    fix = "remove it or set LOGSCAN_SOCKET to a path in a directory of your own (mode 0700)"
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise InsecurePath(f"the socket directory {parent} is a symlink or not a directory; {fix}")
    shared_sticky = st.st_uid == 0 and st.st_mode & stat.S_ISVTX
    if not shared_sticky and (st.st_uid != uid or st.st_mode & 0o077):
        owner = "another user" if st.st_uid != uid else f"you, but with mode {stat.S_IMODE(st.st_mode):04o}"
        raise InsecurePath(f"the socket directory {parent} is owned by {owner}, so it is not private; {fix}")
    if not exists:
        return
    try:
        ss = os.lstat(sock)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(ss.st_mode) or ss.st_uid != uid or ss.st_mode & 0o077:
        raise InsecurePath(f"{sock} is not a private socket of this user (owner uid {ss.st_uid}, mode {stat.S_IMODE(ss.st_mode):04o}); {fix}")


def make_private_dir(d: Path) -> None:
    """Create ``d`` (and its parents) as 0700 where missing; tighten ``d`` if it is ours."""
    old = os.umask(0o077)
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
    finally:
        os.umask(old)
    st = os.lstat(d)
    if st.st_uid == os.getuid() and st.st_mode & 0o077 and not os.path.islink(d):
        os.chmod(d, 0o700)
