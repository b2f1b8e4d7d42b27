"""What the account's operations (linking, devices, the recovery key) need of a running session, as a type: they
take the ``Session`` itself, which has these, but name only this, so they sit below the session that calls them."""

from __future__ import annotations

from typing import Protocol

from desktop.domain.messaging import Messaging
from desktop.domain.sync_adapter import Program
from desktop.vault import Vault
from sync.client.engine import SyncEngine
from sync.client.scheduler import SyncScheduler
from sync.client.transport import Transport
from sync.protocol import HybridClock


class AccountContext(Protocol):
    vault: Vault
    program: Program
    transport: Transport
    engine: SyncEngine
    scheduler: SyncScheduler
    messaging: Messaging | None
    clock: HybridClock

    def now_ms(self) -> int: ...
