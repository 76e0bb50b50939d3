"""A real PostgreSQL server for the sync tests: ``initdb`` into a temporary directory and ``pg_ctl``
on 127.0.0.1 with a free port, once per test session (Debian's ``postgresql`` package;
scripts/test.sh installs it on CI). As root, the server runs as the ``postgres`` OS user (initdb
refuses root). Where no server can be started, the tests that need one skip and say why.

TCP logins need a password (scram-sha-256): the superuser ``postgres`` for the tests' own
administration (terminating backends, making databases), and ``hub_url`` hands each test a fresh
database owned by the ordinary role ``team``, as the README's team set-up makes.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

SUPER_PW = "super-secret-pw"
TEAM_PW = "team-pw"


@dataclass
class PgServer:
    port: int
    datadir: str

    def url(self, user: str = "postgres", password: str = SUPER_PW, db: str = "postgres") -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{db}"

    def admin(self) -> object:
        import psycopg

        return psycopg.connect(self.url(), autocommit=True)


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    cands = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return cands[-1] if cands else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start() -> tuple[PgServer | None, str]:
    """Start a server; (server, "") or (None, why not)."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        return None, "no PostgreSQL server binaries (install Debian's 'postgresql' package; scripts/test.sh does as root)"
    if importlib.util.find_spec("psycopg") is None:
        return None, "psycopg is not installed"
    prefix: list[str] = []
    base = tempfile.mkdtemp(prefix="logscan-pg-")
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if not runuser:
            return None, "running as root without runuser: cannot start PostgreSQL as another user"
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            return None, "running as root and there is no 'postgres' OS user to run the server as"
        os.chown(base, pw.pw_uid, pw.pw_gid)
        prefix = [runuser, "-u", "postgres", "--"]
    data = os.path.join(base, "data")
    pwfile = os.path.join(base, "pw")
    with open(pwfile, "w") as f:
        f.write(SUPER_PW + "\n")
    if prefix:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    try:
        subprocess.run([*prefix, initdb, "-D", data, "-U", "postgres", "-E", "UTF8", "--auth-local=trust",
                        "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "--no-sync"],
                       check=True, capture_output=True, env=env, timeout=120)
        subprocess.run([*prefix, pg_ctl, "-D", data, "-l", os.path.join(base, "log"), "-w", "-t", "60", "-o",
                        f"-h 127.0.0.1 -p {port} -k {base} -F -c fsync=off -c full_page_writes=off", "start"],
                       check=True, capture_output=True, env=env, timeout=90)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        out = getattr(e, "stderr", b"") or b""
        shutil.rmtree(base, ignore_errors=True)
        return None, f"could not start PostgreSQL: {e} {out.decode(errors='replace')[-300:]}"
    server = PgServer(port, data)
    server._stop = [*prefix, pg_ctl, "-D", data, "-m", "immediate", "stop"]  # type: ignore[attr-defined]
    server._base = base  # type: ignore[attr-defined]
    with server.admin() as con:  # type: ignore[attr-defined]
        con.execute(f"CREATE ROLE team LOGIN PASSWORD '{TEAM_PW}'")
    return server, ""


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server, why = start()
    if server is None:
        pytest.skip(f"sync tests need a PostgreSQL server: {why}")
    try:
        yield server
    finally:
        subprocess.run(server._stop, capture_output=True, timeout=60)  # type: ignore[attr-defined]
        shutil.rmtree(server._base, ignore_errors=True)  # type: ignore[attr-defined]


@pytest.fixture
def hub_url(pg_server: PgServer) -> str:
    """A fresh database owned by the role ``team``; its URL with the password in it."""
    name = "hub_" + uuid.uuid4().hex[:12]
    with pg_server.admin() as con:  # type: ignore[attr-defined]
        con.execute(f"CREATE DATABASE {name} OWNER team ENCODING 'UTF8' TEMPLATE template0")
    return pg_server.url("team", TEAM_PW, name)
