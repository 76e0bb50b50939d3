"""`logscan service install|uninstall|status`: files land under the (temporary) HOME/XDG dirs and
the service manager is a recorded fake; nothing touches the real system."""

from __future__ import annotations

import plistlib
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from logscan.service import units as service
from logscan.cli import cli

ROOT = Path(__file__).resolve().parent.parent


class FakeRunner:
    def __init__(self, fail: str | None = None, stdout: str = "") -> None:
        self.calls: list[list[str]] = []
        self.fail = fail
        self.stdout = stdout

    def __call__(self, cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(cmd))
        if self.fail and self.fail in cmd:
            return subprocess.CompletedProcess(list(cmd), 1, "", "Failed to connect to bus: No medium found\n")
        return subprocess.CompletedProcess(list(cmd), 0, self.stdout, "")


@pytest.mark.parametrize("name", ["logscan.service", "com.logscan.daemon.plist"])
def test_top_level_and_package_copies_are_identical(name: str) -> None:
    assert (ROOT / "systemd" / name).read_bytes() == (ROOT / "logscan" / "data" / name).read_bytes()
    assert service.template(name) == (ROOT / "systemd" / name).read_text()


def test_install_linux_writes_the_unit_and_runs_systemctl(isolated: Path, tmp_path: Path) -> None:
    run = FakeRunner()
    db = tmp_path / "my db%.duckdb"
    lines = service.install(db=db, platform="linux", runner=run, can_run=True, python="/opt/py 3/bin/python")
    unit = isolated.parent / "xdg_config_home" / "systemd" / "user" / "logscan.service"
    assert lines[0] == f"wrote {unit}"
    text = unit.read_text()
    # quoted for systemd: spaces in quotes, % doubled
    assert f'ExecStart="/opt/py 3/bin/python" -m logscan --db "{str(db).replace("%", "%%")}" daemon\n' in text
    assert "Type=notify" in text and "WatchdogSec=" in text and "@EXEC_START@" not in text
    assert run.calls == [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", "logscan.service"]]
    assert "logs: journalctl --user -u logscan -f" in lines
    # again: replaced, not duplicated
    assert service.install(platform="linux", runner=run, can_run=True)[0] == f"replaced {unit}"


def test_install_without_a_user_bus_prints_the_commands(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert not service.user_bus_available()  # XDG_RUNTIME_DIR points into tmp: no bus there
    run = FakeRunner()
    lines = service.install(platform="linux", runner=run)
    assert run.calls == []
    assert "  systemctl --user daemon-reload" in lines and "  systemctl --user enable --now logscan.service" in lines


def test_install_reports_a_failing_systemctl_and_what_to_run(isolated: Path) -> None:
    run = FakeRunner(fail="enable")
    lines = service.install(platform="linux", runner=run, can_run=True)
    failed = [ln for ln in lines if ln.startswith("failed:")]
    assert failed == ["failed: systemctl --user enable --now logscan.service (exit 1): Failed to connect to bus: No medium found"]
    assert "  systemctl --user enable --now logscan.service" in lines


def test_install_macos_writes_a_valid_plist(isolated: Path) -> None:
    run = FakeRunner()
    lines = service.install(db=Path("/data/a&b.duckdb"), platform="darwin", runner=run, can_run=True, python="/usr/bin/python3")
    plist = isolated / "Library" / "LaunchAgents" / "com.logscan.daemon.plist"
    data = plistlib.loads(plist.read_bytes())
    assert data["Label"] == "com.logscan.daemon"
    assert data["ProgramArguments"] == ["/usr/bin/python3", "-m", "logscan", "--db", "/data/a&b.duckdb", "daemon"]
    log = isolated / "Library" / "Logs" / "logscan" / "daemon.log"
    assert data["StandardErrorPath"] == str(log) and data["RunAtLoad"] is True
    assert [c[:2] for c in run.calls] == [["launchctl", "bootout"], ["launchctl", "bootstrap"]]
    assert f"logs: tail -f {log}" in lines


def test_uninstall_and_status(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGSCAN_SOCKET", "/tmp/logscan-test-no-such.sock")
    run = FakeRunner(stdout="active\n")
    assert service.uninstall(platform="linux", runner=run, can_run=True)[0].startswith("not installed")
    service.install(platform="linux", runner=run, can_run=True)
    st = service.status(platform="linux", runner=run, can_run=True)
    assert st[0].endswith("(installed)") and "systemd: active" in st and any(s.startswith("daemon: none answering") for s in st)
    run.calls.clear()
    lines = service.uninstall(platform="linux", runner=run, can_run=True)
    assert run.calls == [["systemctl", "--user", "disable", "--now", "logscan.service"], ["systemctl", "--user", "daemon-reload"]]
    assert not service.systemd_unit_path().exists() and any(s.startswith("removed ") for s in lines)


def test_cli_service_install_no_start_and_unsupported_platform(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    r = CliRunner().invoke(cli, ["service", "install", "--no-start"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    unit = service.systemd_unit_path() if sys.platform.startswith("linux") else service.launchd_plist_path()
    assert f"wrote {unit}" in r.stdout and "not started (--no-start)" in r.stdout
    assert sys.executable in unit.read_text()
    from logscan.errors import ConfigError

    with pytest.raises(ConfigError, match="supports Linux"):
        service.install(platform="win32", runner=FakeRunner())


def test_install_carries_the_environment_that_moves_logs_and_store(isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A service starts without the login shell's environment: what moves the logs or the store
    is written into the unit and the plist, and 'service status' shows it."""
    odd = tmp_path / 'my "claude" 100%'
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(odd))
    monkeypatch.setenv("CODEX_HOME", "~/elsewhere/codex")
    monkeypatch.setenv("LOGSCAN_PRICES", str(tmp_path / "prices.toml"))
    monkeypatch.setenv("LOGSCAN_SOCKET", "/tmp/logscan-test-no-such.sock")
    lines = service.install(platform="linux", runner=FakeRunner(), can_run=True)
    env_line = next(s for s in lines if s.startswith("environment: "))
    assert f"CLAUDE_CONFIG_DIR={odd}" in env_line and f"CODEX_HOME={isolated}/elsewhere/codex" in env_line
    text = service.systemd_unit_path().read_text()
    assert 'Environment="CLAUDE_CONFIG_DIR=' + str(odd).replace('"', '\\"').replace("%", "%%") + '"' in text
    got = service.installed_env(service.systemd_unit_path())
    assert got["CLAUDE_CONFIG_DIR"] == str(odd) and got["LOGSCAN_PRICES"] == str(tmp_path / "prices.toml")
    assert got["CODEX_HOME"] == f"{isolated}/elsewhere/codex"
    st = service.status(platform="linux", runner=FakeRunner(stdout="active\n"), can_run=True)
    assert any(s.startswith("environment: ") and f"CLAUDE_CONFIG_DIR={odd}" in s for s in st)
    # launchd: the same variables in EnvironmentVariables
    service.install(platform="darwin", runner=FakeRunner(), can_run=False)
    plist = plistlib.loads(service.launchd_plist_path().read_bytes())
    assert plist["EnvironmentVariables"]["CLAUDE_CONFIG_DIR"] == str(odd)
    assert plist["EnvironmentVariables"]["PYTHONUNBUFFERED"] == "1"
    assert service.installed_env(service.launchd_plist_path())["CLAUDE_CONFIG_DIR"] == str(odd)


def test_service_status_does_not_take_another_databases_daemon_for_this_one(isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from daemon_helpers import DaemonProc

    sock_dir = Path(tempfile.mkdtemp(prefix="lsv", dir="/tmp"))
    monkeypatch.setenv("LOGSCAN_SOCKET", str(sock_dir / "sock"))
    other = tmp_path / "other.duckdb"
    (tmp_path / "none").mkdir()
    d = DaemonProc(tmp_path, str(tmp_path / "none"), env=dict(__import__("os").environ, LOGSCAN_DB=str(other)))
    try:
        from daemon_helpers import wait_for
        from logscan.service.client import NoDaemon, daemon_status

        def up() -> bool:
            try:
                return bool(daemon_status(other))
            except NoDaemon:
                return False

        wait_for(up, 20, "the other database's daemon")
        st = service.status(tmp_path / "mine.duckdb", platform="linux", runner=FakeRunner(), can_run=False)
        assert any(s.startswith("daemon: none answering") and "mine.duckdb" in s for s in st), st
        st = service.status(other, platform="linux", runner=FakeRunner(), can_run=False)
        assert any(s.startswith("daemon: answering") and "other.duckdb" in s for s in st), st
    finally:
        assert d.stop() == 0
        import shutil

        shutil.rmtree(sock_dir, ignore_errors=True)
