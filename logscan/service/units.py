"""Install the daemon as a user service: a systemd user unit on Linux, a launchd agent on macOS.

The templates ship as package data (``logscan/data/``; the top-level ``systemd/`` folder holds
identical copies for reading). Every function returns the lines to print and takes the platform
and a command runner as arguments, so tests never touch the real service manager. Service
commands run only when the tool exists and (for systemd) a user bus is reachable; otherwise the
exact commands are printed for the user to run.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from html import escape
from importlib import resources
from pathlib import Path

from logscan.paths import home, xdg_config_home

UNIT = "logscan.service"
LABEL = "com.logscan.daemon"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, check=False)


def template(name: str) -> str:
    return (resources.files("logscan") / "data" / name).read_text(encoding="utf-8")


# What moves the logs or the store: a service starts without the login shell's environment, so
# the values set when 'logscan service install' runs are written into the unit / plist.
CARRIED_ENV = ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "LOGSCAN_DB",
               "LOGSCAN_SOCKET", "LOGSCAN_PRICES", "LOGSCAN_DATA_DIR", "LOGSCAN_CONFIG_DIR")


def carried_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The CARRIED_ENV variables that are set, as absolute paths (the service has no cwd or ~)."""
    env = dict(os.environ) if env is None else env
    return {k: str(Path(env[k]).expanduser().absolute()) for k in CARRIED_ENV if env.get(k)}


def installed_env(path: Path) -> dict[str, str]:
    """The carried variables written in an installed unit or plist (for 'service status')."""
    import re

    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8", errors="replace")
    out: dict[str, str] = {}
    if path.suffix == ".plist":
        for k, v in re.findall(r"<key>([A-Z_]+)</key>\s*<string>([^<]*)</string>", text):
            if k in CARRIED_ENV:
                import html

                out[k] = html.unescape(v)
        return out
    for m in re.finditer(r'^Environment="([A-Z_]+)=((?:[^"\\]|\\.)*)"$', text, re.M):
        if m.group(1) in CARRIED_ENV:
            out[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\\\", "\\").replace("%%", "%")
    return out


def daemon_argv(db: Path | None = None, python: str | None = None) -> list[str]:
    """The command the service runs: this interpreter, so a venv install keeps working."""
    return [python or sys.executable, "-m", "logscan", *(["--db", str(db)] if db else []), "daemon"]


# -- systemd --------------------------------------------------------------------------------
def systemd_unit_path() -> Path:
    return xdg_config_home() / "systemd" / "user" / UNIT


def _systemd_quote(arg: str) -> str:
    arg = arg.replace("%", "%%")  # systemd specifiers
    if arg and all(c.isalnum() or c in "/._-+=:,@" for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_unit(argv: Sequence[str], env: dict[str, str] | None = None) -> str:
    text = template(UNIT).replace("@EXEC_START@", " ".join(_systemd_quote(a) for a in argv))
    lines = "".join(f'Environment="{k}={_systemd_env(v)}"\n' for k, v in sorted((env or {}).items()))
    return text.replace("Environment=PYTHONUNBUFFERED=1\n", "Environment=PYTHONUNBUFFERED=1\n" + lines)


def _systemd_env(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")


def user_bus_available(env: dict[str, str] | None = None) -> bool:
    env = dict(os.environ) if env is None else env
    if env.get("DBUS_SESSION_BUS_ADDRESS"):
        return True
    runtime = env.get("XDG_RUNTIME_DIR")
    return bool(runtime) and Path(runtime, "bus").exists()


def can_run_systemctl() -> bool:
    return shutil.which("systemctl") is not None and user_bus_available()


# -- launchd --------------------------------------------------------------------------------
def launchd_plist_path() -> Path:
    return home() / "Library" / "LaunchAgents" / f"{LABEL}.plist"


def launchd_log_path() -> Path:
    return home() / "Library" / "Logs" / "logscan" / "daemon.log"


def render_plist(argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None) -> str:
    args = "\n".join(f"    <string>{escape(a, quote=False)}</string>" for a in argv)
    text = template(f"{LABEL}.plist").replace("@PROGRAM_ARGUMENTS@", args).replace("@LOG_PATH@", escape(str(log_path), quote=False))
    extra = "".join(f"    <key>{k}</key>\n    <string>{escape(v, quote=False)}</string>\n" for k, v in sorted((env or {}).items()))
    return text.replace("    <key>PYTHONUNBUFFERED</key>\n    <string>1</string>\n", "    <key>PYTHONUNBUFFERED</key>\n    <string>1</string>\n" + extra)


def can_run_launchctl() -> bool:
    return shutil.which("launchctl") is not None


# -- the three commands ---------------------------------------------------------------------
def _commands(cmds: list[list[str]], run: bool, runner: Runner) -> tuple[list[str], bool]:
    """Run each command (stopping at the first failure) or list them for the user."""
    lines: list[str] = []
    if not run:
        lines.append("Run these to apply it (no service manager session was found from here):")
        lines += [f"  {shlex.join(c)}" for c in cmds]
        return lines, False
    for i, c in enumerate(cmds):
        res = runner(c)
        if res.returncode != 0:
            err = (res.stderr or res.stdout or "").strip().splitlines()
            lines.append(f"failed: {shlex.join(c)} (exit {res.returncode}){': ' + err[-1] if err else ''}")
            lines.append("Fix the cause above, then run:")
            lines += [f"  {shlex.join(x)}" for x in cmds[i:]]
            return lines, False
        lines.append(f"ran: {shlex.join(c)}")
    return lines, True


def install(
    db: Path | None = None,
    *,
    start: bool = True,
    platform: str = sys.platform,
    runner: Runner = _run,
    can_run: bool | None = None,
    python: str | None = None,
) -> list[str]:
    argv = daemon_argv(db, python)
    env = carried_env()
    if platform == "darwin":
        path, log_path = launchd_plist_path(), launchd_log_path()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        content = render_plist(argv, log_path, env)
        domain = f"gui/{os.getuid()}"
        cmds = [["launchctl", "bootout", f"{domain}/{LABEL}"], ["launchctl", "bootstrap", domain, str(path)]]
        logs = f"logs: tail -f {log_path}"
        run = can_run_launchctl() if can_run is None else can_run
    elif platform.startswith("linux"):
        path = systemd_unit_path()
        content = render_unit(argv, env)
        cmds = [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", UNIT]]
        logs = "logs: journalctl --user -u logscan -f"
        run = can_run_systemctl() if can_run is None else can_run
    else:
        from logscan.errors import ConfigError

        raise ConfigError(f"'logscan service' supports Linux (systemd) and macOS (launchd), not {platform}. Run 'logscan daemon' yourself.")
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    path.write_text(content, encoding="utf-8")
    lines = [f"{'replaced' if existed else 'wrote'} {path}", f"runs: {shlex.join(argv)}"]
    lines.append("environment: " + (", ".join(f"{k}={v}" for k, v in sorted(env.items())) if env else "(none of " + ", ".join(CARRIED_ENV[:7]) + " is set)"))
    if start:
        if platform == "darwin" and run:
            runner(cmds[0])  # unload a previous copy; failing just means it was not loaded
            cmds = cmds[1:]
        more, _ = _commands(cmds, run, runner)
        lines += more
    else:
        lines.append("not started (--no-start); to start it run:")
        lines += [f"  {shlex.join(c)}" for c in (cmds if platform != "darwin" else cmds[1:])]
    lines.append(logs)
    if platform.startswith("linux"):
        lines.append('to keep it running while you are logged out: loginctl enable-linger "$USER"')
    return lines


def uninstall(*, platform: str = sys.platform, runner: Runner = _run, can_run: bool | None = None) -> list[str]:
    if platform == "darwin":
        path = launchd_plist_path()
        stop = [["launchctl", "bootout", f"gui/{os.getuid()}/{LABEL}"]]
        after: list[list[str]] = []
        run = can_run_launchctl() if can_run is None else can_run
    else:
        path = systemd_unit_path()
        stop = [["systemctl", "--user", "disable", "--now", UNIT]]
        after = [["systemctl", "--user", "daemon-reload"]]
        run = can_run_systemctl() if can_run is None else can_run
    if not path.exists():
        return [f"not installed: {path} does not exist (nothing to do)"]
    lines, ok = _commands(stop, run, runner)
    if run and not ok:
        return [*lines, f"kept {path}"]
    path.unlink()
    lines.append(f"removed {path}")
    if after:
        more, _ = _commands(after, run, runner)
        lines += more
    lines.append("the database is kept; delete it yourself if you no longer need it")
    return lines


def status(db: Path | None = None, *, platform: str = sys.platform, runner: Runner = _run, can_run: bool | None = None) -> list[str]:
    from logscan.service.client import NoDaemon, daemon_status
    from logscan.paths import socket_path

    if platform == "darwin":
        path = launchd_plist_path()
        query = ["launchctl", "print", f"gui/{os.getuid()}/{LABEL}"]
        logs = f"logs: tail -f {launchd_log_path()}"
        run = can_run_launchctl() if can_run is None else can_run
    else:
        path = systemd_unit_path()
        query = ["systemctl", "--user", "is-active", UNIT]
        logs = "logs: journalctl --user -u logscan -f"
        run = can_run_systemctl() if can_run is None else can_run
    lines = [f"unit: {path} ({'installed' if path.exists() else 'not installed'})"]
    if path.exists():
        env = installed_env(path)
        lines.append("environment: " + (", ".join(f"{k}={v}" for k, v in sorted(env.items())) if env else "(none carried)"))
    if run and path.exists():
        res = runner(query)
        state = (res.stdout or "").strip().splitlines()
        if platform == "darwin":
            lines.append(f"launchd: {'loaded' if res.returncode == 0 else 'not loaded'}")
        else:
            lines.append(f"systemd: {state[0] if state else 'unknown'}")
    elif path.exists():
        lines.append(f"service manager: not reachable from here; check with: {shlex.join(query)}")
    try:
        st = daemon_status(db)  # a daemon serving another database answers wrong-db: not this one
        lines.append(f"daemon: answering on {st['socket']} for {st['db']} (pid {st['pid']})")
    except NoDaemon:
        lines.append(f"daemon: none answering on {socket_path()}" + (f" for {db}" if db else ""))
    lines.append(logs)
    return lines
