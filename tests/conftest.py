"""Shared fixtures: real vault folders on disk, created at the KDF floor (the floor is still enforced; the
calibration that would raise it is skipped only to keep the suite fast)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from desktop import i18n
from desktop.vault import KdfParams, Vault

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _english():
    i18n.set_locale("en")
    yield
    i18n.set_locale("en")


@pytest.fixture
def vault_dir(tmp_path: Path) -> Path:
    return tmp_path / "vault"


@pytest.fixture
def created(vault_dir: Path) -> tuple[Vault, str]:
    vault, recovery_key = Vault.create(vault_dir, PASSPHRASE, params=KdfParams.floor())
    yield vault, recovery_key
    vault.close()


@pytest.fixture
def vault(created: tuple[Vault, str]) -> Vault:
    return created[0]


def snapshot(folder: Path) -> dict[str, str]:
    """Name → SHA-256 of every file in ``folder``: to prove an operation changed nothing on disk."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def server(tmp_path: Path):
    from tests.servers import ThreadServer

    with ThreadServer(tmp_path / "server") as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def any_server(request, tmp_path: Path):
    """A real server on SQLite, then on PostgreSQL (skipped without one, see tests/pg.py)."""
    from tests.servers import ThreadServer

    url = None
    if request.param == "postgresql":
        from tests.pg import require_postgres, reset_database

        url = require_postgres()
        reset_database(url)
    with ThreadServer(tmp_path / "server", url) as running:
        yield running


@pytest.fixture
def client_factory(tmp_path: Path, server):
    from tests.clients import make_client

    made = []

    def make(role: str = "student"):
        client = make_client(tmp_path / f"client{len(made)}", server.url, server.invite(role))
        made.append(client)
        return client

    yield make
    for client in made:
        client.vault.close()


@pytest.fixture
def make_app(qtbot, tmp_path: Path):
    """The whole desktop app, offscreen, driven through its page object."""
    from desktop.app import OslerApp
    from tests.pages import AppPage

    made: list = []

    def make(data_dir: Path | None = None, clock=None) -> AppPage:  # type: ignore[no-untyped-def]
        options = {} if clock is None else {"clock": clock}
        app = OslerApp(data_dir or tmp_path / "osler", kdf_params=KdfParams.floor(), **options)
        qtbot.addWidget(app.window)
        app.window.show()
        made.append(app)
        return AppPage(qtbot, app)

    yield make
    for app in made:
        app.shutdown()
