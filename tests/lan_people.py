"""People for the LAN relay's tests and benchmark (test_lan_relay.py, bench_lan_relay.py): a student, their
mentor and a classmate on one real server, as sessions; the student's link to the server cut once it holds the
server's bundle key. Relays on loopback only: the HTTP server on 127.0.0.1, mDNS on the loopback interface."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from desktop.domain.lan_discovery import Peer
from desktop.domain.lan_relay import device_fingerprint
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from sync.clock import ManualClock
from sync.server.embedded import free_port
from tests.clients import Client, card_holder, synced
from tests.waiting import eventually

CLOCK = datetime(2026, 11, 16, 8, tzinfo=UTC)
LOOPBACK = {"host": "127.0.0.1", "interfaces": ["127.0.0.1"]}


class World:
    """A student, their mentor and a classmate on one real server, as sessions; the student's link to the server
    is cut once it holds the server's bundle key."""

    def __init__(self, server, folder: Path) -> None:
        self.server = server
        self.folder = folder
        self.student_c = card_holder(folder / "student", server, "Amina Student")
        self.mentor_c = card_holder(folder / "mentor", server, "Dr Kofi Mensah", role="mentor")
        self.carrier_c = card_holder(folder / "carrier", server, "Chidi Carrier")
        synced(self.student_c, self.mentor_c, self.carrier_c)
        self.sessions: list[Session] = []
        self.student = self.session(self.student_c, "s")
        self.mentor = self.session(self.mentor_c, "m")
        self.carrier = self.session(self.carrier_c, "c")
        for session in (self.student, self.carrier):
            session.engine.sync_once()
            session._after_online_sync()  # as after any good sync: the server's bundle key is fetched
        self.student.transport.base_url = f"http://127.0.0.1:{free_port()}"  # the student's link is cut

    def session(self, client: Client, name: str) -> Session:
        session = Session(
            client.vault, self.folder / f"{name}-data", SettingsStore(self.folder / f"{name}.json"),
            clock=ManualClock(CLOCK),
        )  # fmt: skip
        session.lan_where = LOOPBACK  # when turned on: HTTP on 127.0.0.1, mDNS on the loopback interface
        self.sessions.append(session)
        return session

    def close(self) -> None:
        for session in self.sessions:
            session.stop()
        for client in (self.student_c, self.mentor_c, self.carrier_c):
            client.vault.close()


def fingerprint_of(session: Session) -> str:
    return device_fingerprint(session.program.credentials.device)


def peer_of(world: World, carrier: Session, timeout: float = 20) -> Peer:
    """``carrier`` as the student finds it on the LAN (the student's relay turned on to browse)."""
    world.student.set_lan_relay(True)
    relay = world.student.lan_relay
    assert relay is not None
    fingerprint = fingerprint_of(carrier)
    assert eventually(lambda: any(p.fingerprint == fingerprint for p in relay.peers()), timeout=timeout)
    return next(p for p in relay.peers() if p.fingerprint == fingerprint)
