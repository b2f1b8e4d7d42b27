"""The vault as the screens before a session see it: create, unlock and recover it, and name its errors and
settings. The UI imports these from here, never from ``desktop.vault``: views reach the vault only through the
domain (ARCHITECTURE.md, "Which way imports point")."""

from __future__ import annotations

from pathlib import Path

from desktop.vault import KdfParams, Vault, VaultError, VaultNotFound

__all__ = ["KdfParams", "Vault", "VaultError", "VaultNotFound", "create_vault"]


def create_vault(folder: Path, passphrase: str, params: KdfParams | None = None) -> tuple[Vault, str]:
    """A new vault in ``folder``, unlocked; returns it and its recovery key (worker thread: the KDF is slow)."""
    return Vault.create(folder, passphrase, params=params)
