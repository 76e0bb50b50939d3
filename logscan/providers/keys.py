"""Where the admin keys come from: the environment, else the system keyring. Never the store, a
log, a problem row or an export (a key is only ever placed in a request header).

``ANTHROPIC_ADMIN_KEY`` (or ``ANTHROPIC_ADMIN_API_KEY``) and ``OPENAI_ADMIN_KEY``; the keyring
entry is service ``logscan``, user = the provider, saved by ``logscan api login`` (which also notes
the provider's name in the config dir, so that the keyring is asked only for providers that have
a saved key). Base URLs come from
``ANTHROPIC_BASE_URL`` (no ``/v1``) and ``OPENAI_BASE_URL`` (with ``/v1``), so a proxy or a test
server can stand in.
"""

from __future__ import annotations

import os
from pathlib import Path

from logscan.errors import ConfigError

PROVIDERS = ("anthropic", "openai")
ENV = {"anthropic": ("ANTHROPIC_ADMIN_KEY", "ANTHROPIC_ADMIN_API_KEY"), "openai": ("OPENAI_ADMIN_KEY",)}
BASE_ENV = {"anthropic": "ANTHROPIC_BASE_URL", "openai": "OPENAI_BASE_URL"}
SERVICE = "logscan"


def _saved_marker() -> Path:
    """Which providers ``logscan api login`` saved a key for (provider names, one per line; never
    a key): the keyring is asked only for those, so the daemon's periodic look for keys does not
    load and probe the keyring (a few MiB and a D-Bus round-trip) for a user who never saved one."""
    from logscan.paths import config_dir

    return config_dir() / "keyring-providers"


def _saved_in_keyring(provider: str) -> bool:
    try:
        return provider in _saved_marker().read_text().split()
    except OSError:
        return False


def key_for(provider: str) -> str | None:
    for name in ENV[provider]:
        v = os.environ.get(name, "").strip()
        if v:
            return v
    if not _saved_in_keyring(provider):
        return None
    try:
        import keyring

        return keyring.get_password(SERVICE, provider) or None
    except Exception:  # noqa: BLE001  (no keyring backend, a locked keyring: no key, say so upstream)
        return None


def base_url(provider: str) -> str:
    return os.environ.get(BASE_ENV[provider], "").strip()


def save_key(provider: str, key: str) -> None:
    try:
        import keyring

        keyring.set_password(SERVICE, provider, key)
        marker = _saved_marker()
        saved = set(marker.read_text().split()) if marker.exists() else set()
        if provider not in saved:
            from logscan.paths import make_private_dir

            make_private_dir(marker.parent)
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("".join(f"{p}\n" for p in sorted(saved | {provider})))
    except Exception as e:  # noqa: BLE001
        raise ConfigError(f"Could not save the key in the system keyring ({type(e).__name__}). "
                          f"Set {ENV[provider][0]} in the environment instead (the daemon sees it only in its own environment: "
                          f"'logscan service install' does not copy keys).") from None
