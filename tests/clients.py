"""A real client for sync tests: a vault file, a registered device, and the engine, as the app wires them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from desktop.domain.directory import card_body
from desktop.domain.messaging import Messaging, card_keys
from desktop.domain.sync_adapter import Program, VaultSyncStore, join_program, queue_record
from desktop.vault import KdfParams, Vault
from sync.client.engine import SyncEngine
from sync.client.transport import Transport
from sync.clock import SYSTEM, Clock
from sync.protocol import HybridClock, Record, unpack_record

_names = itertools.count(1)


@dataclass
class Client:
    vault: Vault
    program: Program
    server_url: str
    clock: HybridClock = field(default_factory=HybridClock)

    @property
    def account(self) -> bytes:
        return self.program.credentials.account

    def engine(self, url: str | None = None, **options: object) -> SyncEngine:
        store = VaultSyncStore(self.vault, self.server_url, self.account)
        options.setdefault("clock", self.clock.wall)  # the device's one wall clock signs and times its tokens
        return SyncEngine(Transport(url or self.server_url), store, self.program.credentials, **options)

    def send(self, body: bytes, to: list[bytes] | None, kind: str = "message", signed: bool = False) -> Record:
        return queue_record(self.vault, self.program, self.clock, kind, body, to, signed=signed)

    def publish_card(self, name: str, role: str = "student", **fields: object) -> None:
        """This person's directory card, with their device's public keys, queued for the next sync."""
        creds = self.program.credentials
        keys = card_keys(creds.device, creds.key.public_bytes(), self.program.box.public_bytes())
        body = card_body(name=name, role=role, keys=keys, **fields)
        queue_record(self.vault, self.program, self.clock, "card", body, None, signed=True)

    def messaging(self) -> Messaging:
        return Messaging(self.vault, self.program, self.clock)

    def inbound(self) -> list[Record]:
        return [unpack_record(r.wire) for r in self.vault.records.by_state("inbound")]

    def cursor(self) -> int:
        return self.vault.records.cursor(self.server_url)


def make_client(folder: Path, server_url: str, invite: str, name: str | None = None, clock: Clock = SYSTEM) -> Client:
    """``clock``: the device's wall clock (a test's server and its clients share one: tests/servers.py)."""
    vault, _ = Vault.create(folder, "client passphrase", params=KdfParams.floor())
    program = join_program(vault, Transport(server_url), invite, name or f"device {next(_names)}")
    return Client(vault, program, server_url, HybridClock(wall=clock))


def card_holder(folder: Path, server, name: str, role: str = "student", **card: object) -> Client:
    """A person on their own device who has joined ``server``, published a card and synced until they hold
    everyone's card (the second sync brings cards published while the first ran)."""
    client = make_client(folder, server.url, server.invite(role), clock=server.clock)
    client.publish_card(name, role=role, **card)
    for _ in range(2):
        client.engine().sync_once()
        client.messaging().take_in()
    return client


def synced(*clients: Client) -> None:
    """Each client syncs once and takes in what came, in the order given."""
    for client in clients:
        client.engine().sync_once()
        client.messaging().take_in()


def acquainted(student: Client, mentor: Client) -> None:
    """A student and a mentor with cards published and synced twice, so each holds the other's keys (the second
    round brings what was published while the first ran)."""
    student.publish_card("Amina Student")
    mentor.publish_card("Dr Kofi Mensah", role="mentor")
    synced(student, mentor, student, mentor)
