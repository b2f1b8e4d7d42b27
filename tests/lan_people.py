"""People for the LAN relay's tests and benchmark (test_lan_relay.py, bench_lan_relay.py): a student, their
mentor and a classmate on one real server, as sessions; the student's link to the server cut once it holds the
server's bundle key. Relays on loopback only: the HTTP server on 127.0.0.1, mDNS on the loopback interface."""

from __future__ import annotations

from pathlib import Path

from desktop.domain.lan_discovery import Peer
from desktop.domain.lan_relay import device_fingerprint
from desktop.domain.session import Session
from tests import bundle_people
from tests.bundle_people import CLOCK
from tests.clients import Client
from tests.waiting import eventually

__all__ = ["CLOCK", "LOOPBACK", "World", "fingerprint_of", "peer_of"]
LOOPBACK = {"host": "127.0.0.1", "interfaces": ["127.0.0.1"]}


class World(bundle_people.World):
    """The bundle tests' people (tests/bundle_people.py), whose LAN relay, when turned on, serves and announces on
    loopback only."""

    def __init__(self, server, folder: Path) -> None:
        self.server = server
        super().__init__(server, folder)

    def session(self, client: Client, name: str) -> Session:
        session = super().session(client, name)
        session.lan_where = LOOPBACK  # when turned on: HTTP on 127.0.0.1, mDNS on the loopback interface
        return session


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
