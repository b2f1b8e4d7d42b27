"""People with several devices for tests: real vaults, real Sessions (not started: each test syncs them by
hand), a real server; linking through the real link calls, on two threads like two computers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa

from desktop.domain.devices import link_device
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from desktop.domain.sync_adapter import join_program
from desktop.vault import KdfParams, Vault
from sync.client.transport import Transport
from sync.protocol import Record
from sync.server.storage import record_of
from sync.server.tables import records as records_table

PASSPHRASE = "devices test passphrase"


def new_vault(folder: Path) -> tuple[Vault, str | None]:
    return Vault.create(folder / "vault", PASSPHRASE, params=KdfParams.floor())


def session_for(vault: Vault, folder: Path) -> Session:
    return Session(vault, folder, SettingsStore(folder / "settings.json"))


def person(folder: Path, server, name: str, role: str = "student") -> tuple[Session, str | None]:
    """Someone who joined with an invite on their first device and published a card; and their recovery key."""
    folder.mkdir(parents=True, exist_ok=True)
    vault, recovery_text = new_vault(folder)
    join_program(vault, Transport(server.url), server.invite(role), f"{name}'s laptop")
    session = session_for(vault, folder)
    session.publish_profile(name)
    return session, recovery_text


def settle(*sessions: Session, rounds: int = 2) -> None:
    """Each session syncs, takes in what came and does its account upkeep, as after a sync in the app."""
    for _ in range(rounds):
        for session in sessions:
            session.engine.sync_once()
            if session.messaging is not None:
                session.messaging.take_in()
            session.account_upkeep()
            session.engine.sync_once()


def link(first: Session, folder: Path, name: str = "phone", url: str | None = None, offer=None) -> Session:  # type: ignore[no-untyped-def]
    """A second device of ``first``'s person, linked with a code: device 2 on a thread, device 1 approving."""
    folder.mkdir(parents=True, exist_ok=True)
    vault, _text = new_vault(folder)
    offer = offer or first.offer_link()
    result: dict = {}

    def device_two() -> None:
        try:
            result["program"] = link_device(
                vault, url or first.transport.base_url, offer.qr_text, name, sleep=lambda _s: time.sleep(0.05)
            )
        except Exception as exc:  # reported by the test thread
            result["error"] = exc

    thread = threading.Thread(target=device_two, daemon=True)
    thread.start()
    linked = None
    for _ in range(20):
        linked = first.await_link(offer, timeout_s=2)
        if linked is not None or not thread.is_alive():
            break
    thread.join(30)
    if "error" in result:
        raise result["error"]
    assert linked is not None and linked.name == name
    return session_for(vault, folder)


def server_records(server) -> list[Record]:
    """Every record the server's database holds, as an operator (or a thief with the disk) could read them."""
    with server.storage.reader.connect() as conn:
        rows = conn.execute(sa.select(records_table).order_by(records_table.c.seq)).all()
    return [record_of(r) for r in rows]


def texts(session: Session) -> set[str]:
    assert session.messaging is not None
    return {m.body for t in session.messaging.threads() for m in session.messaging.in_thread(t.id)}
