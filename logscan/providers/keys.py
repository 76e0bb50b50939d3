"""Where the admin keys come from: the environment, else the system keyring. Never the store, a
log, a problem row or an export (a key is only ever placed in a request header).

``ANTHROPIC_ADMIN_KEY`` (or ``ANTHROPIC_ADMIN_API_KEY``) and ``OPENAI_ADMIN_KEY``; the keyring
entry is service ``logscan``, user = the provider (``logscan api login``). Base URLs come from
``ANTHROPIC_BASE_URL`` (no ``/v1``) and ``OPENAI_BASE_URL`` (with ``/v1``), so a proxy or a test
server can stand in.
"""

from __future__ import annotations

import os

from logscan.errors import ConfigError

PROVIDERS = ("anthropic", "openai")
ENV = {"anthropic": ("ANTHROPIC_ADMIN_KEY", "ANTHROPIC_ADMIN_API_KEY"), "openai": ("OPENAI_ADMIN_KEY",)}
BASE_ENV = {"anthropic": "ANTHROPIC_BASE_URL", "openai": "OPENAI_BASE_URL"}
SERVICE = "logscan"


def key_for(provider: str) -> str | None:
    for name in ENV[provider]:
        v = os.environ.get(name, "").strip()
        if v:
            return v
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
    except Exception as e:  # noqa: BLE001
        raise ConfigError(f"Could not save the key in the system keyring ({type(e).__name__}). "
                          f"Set {ENV[provider][0]} in the environment instead (the daemon sees it only in its own environment: "
                          f"'logscan service install' does not copy keys).") from None
