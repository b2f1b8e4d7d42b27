"""The vault as the sync engine's ``SyncStore``, and joining a programme (registering this device).

The engine speaks wire records; the vault keeps them sealed with plaintext columns for queries. This adapter is
the only place the two meet, so ``sync`` never imports the desktop app.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgpack

from desktop.vault import Vault
from desktop.vault.records import StoredRecord
from sync.client.engine import Credentials
from sync.client.errors import SyncError
from sync.client.transport import Transport
from sync.envelope import BoxKey, DeviceKey, new_account_secret
from sync.protocol import HybridClock, Record, new_record_id, pack_record, unpack_record

_PROGRAM_SECRET = "program"  # noqa: S105 - the name of a vault entry, not a secret
_JOINING_SECRET = "program-joining"  # noqa: S105 - the keys of a device not yet registered
ACCOUNT_SECRETS = "account-secrets"
CATCHING_UP = "catching-up"  # a linked or restored device's first fetch of the history (PROTOCOL.md §4 ``g``)
JOIN_ATTEMPTS = 3  # on a lost connection: at once, then after 2 s
JOIN_PAUSES_S = (0.0, 2.0)


class VaultSyncStore:
    """Implements ``sync.client.store.SyncStore`` over ``vault.records``."""

    def __init__(self, vault: Vault, server: str, account: bytes) -> None:
        self.vault, self.server, self.account = vault, server, account

    def outbox(self, budget_bytes: int) -> list[Record]:
        return [unpack_record(r.wire) for r in self.vault.records.outbox(budget_bytes)]

    def outbox_totals(self) -> tuple[int, int]:
        return self.vault.records.outbox_totals()

    def mark_sent(self, ids: Sequence[bytes]) -> None:
        self.vault.records.mark([i.hex() for i in ids], "sent")

    def mark_rejected(self, ids: Sequence[bytes], reason: str) -> None:
        self.vault.records.mark([i.hex() for i in ids], "rejected", reason)

    def cursor(self) -> int:
        return self.vault.records.cursor(self.server)

    def catching_up(self) -> bool:
        return self.vault.get_secret(CATCHING_UP) is not None

    def caught_up(self) -> None:
        self.vault.delete_secret(CATCHING_UP)

    def apply(self, records: Sequence[Record], cursor: int) -> None:
        self.vault.records.apply_inbound(
            self.server,
            [StoredRecord(r.i.hex(), r.k, (r.a or b"").hex(), r.h, pack_record(r), "inbound") for r in records],
            cursor,
        )


@dataclass(frozen=True)
class Program:
    """This device's membership of a programme: where, who, and the signing key (kept sealed in the vault)."""

    server_url: str
    credentials: Credentials
    role: str
    demo: bool = False
    box: BoxKey | None = None  # receives the epoch keys of this person's conversations

    @property
    def server_key(self) -> str:
        """What cursors are kept under: the address, except for the demo, whose loopback port may change."""
        return "demo" if self.demo else self.server_url


def default_device_name() -> str:
    """The name a device joins, links or restores under (what the person's other devices and LAN carriers show
    until a card names them): the computer's."""
    return platform.node() or "Osler desktop"


def join_program(
    vault: Vault,
    transport: Transport,
    invite: str,
    device_name: str,
    *,
    demo: bool = False,
    attempts: int = JOIN_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> Program:
    """Register this device with an invite code and keep its identity in the vault.

    Joining may be cut after the server spent the invite and before its answer arrived. The device's keys are
    made once and kept sealed in the vault *before* the first attempt, so every retry (the ones made here on a
    lost connection, the person pressing Join again, even after the app restarts) sends the same invite with
    the same key, which the server answers with the account it already made (PROTOCOL.md §6)."""
    key, box = _joining_identity(vault)
    for attempt in range(attempts):
        try:
            transport.health()
            registration = transport.register(invite, device_name, key, box.public_bytes())
            break
        except SyncError as error:
            if not error.retryable or attempt + 1 == attempts:
                raise
            sleep(JOIN_PAUSES_S[min(attempt, len(JOIN_PAUSES_S) - 1)])
    with vault.transaction():
        program = store_program(
            vault, transport.base_url, registration.account, registration.device, registration.role, key, box, demo
        )
        if not vault.get_secret(ACCOUNT_SECRETS):  # a new account: its first secret (PROTOCOL.md §10)
            vault.put_secret(ACCOUNT_SECRETS, msgpack.packb({"c": [[0, new_account_secret()]]}, use_bin_type=True))
            vault.put_secret("backup-owed", b"1")  # sealed to the recovery key after the first sync
        vault.delete_secret(_JOINING_SECRET)
    return program


def store_program(
    vault: Vault,
    server_url: str,
    account: bytes,
    device: bytes,
    role: str,
    key: DeviceKey,
    box: BoxKey,
    demo: bool = False,
) -> Program:
    """Keep this device's membership (joined, linked or restored) sealed in the vault."""
    doc = {
        "server_url": server_url,
        "account": account.hex(),
        "device": device.hex(),
        "role": role,
        "key": key.private_bytes().hex(),
        "box": box.private_bytes().hex(),
        "demo": demo,
    }
    vault.put_secret(_PROGRAM_SECRET, json.dumps(doc).encode())
    return Program(server_url, Credentials(account, device, key), role, demo, box)


def _joining_identity(vault: Vault) -> tuple[DeviceKey, BoxKey]:
    """The keys of the device being joined: made on the first attempt and kept until the join completes."""
    raw = vault.get_secret(_JOINING_SECRET)
    if raw is not None:
        doc = json.loads(raw)
        return DeviceKey.from_private_bytes(bytes.fromhex(doc["key"])), BoxKey.from_private_bytes(
            bytes.fromhex(doc["box"])
        )
    key, box = DeviceKey.generate(), BoxKey.generate()
    doc = {"key": key.private_bytes().hex(), "box": box.private_bytes().hex()}
    vault.put_secret(_JOINING_SECRET, json.dumps(doc).encode())
    return key, box


def load_program(vault: Vault) -> Program | None:
    raw = vault.get_secret(_PROGRAM_SECRET)
    if raw is None:
        return None
    doc = json.loads(raw)
    credentials = Credentials(
        bytes.fromhex(doc["account"]),
        bytes.fromhex(doc["device"]),
        DeviceKey.from_private_bytes(bytes.fromhex(doc["key"])),
    )
    box = BoxKey.from_private_bytes(bytes.fromhex(doc["box"])) if "box" in doc else None
    return Program(doc["server_url"], credentials, doc["role"], bool(doc.get("demo", False)), box)


def queue_record(
    vault: Vault,
    program: Program,
    clock: HybridClock,
    kind: str,
    body: bytes,
    audience: Sequence[bytes] | None,
    *,
    signed: bool = False,
) -> Record:
    """Make a record authored here and put it in the outbox."""
    record = Record(
        i=new_record_id(), k=kind, t=list(audience) if audience is not None else None, h=clock.now(), b=body
    )
    if signed:
        record = program.credentials.key.sign_record(record, program.credentials.account, program.credentials.device)
    vault.records.enqueue(
        StoredRecord(record.i.hex(), kind, program.credentials.account.hex(), record.h, pack_record(record))
    )
    return record
