"""What sync without the internet (bundles.py, bundle_blobs.py, carry.py, lan_relay.py) needs of a running session,
as a type: they take the ``Session`` itself, which has these, but name only this, so they sit below the session
that makes them (as ``account_context.AccountContext`` does for linking, devices and the recovery key)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from desktop.domain.directory import Card
from desktop.domain.downloads import Downloads
from desktop.domain.messaging import Messaging
from desktop.domain.settings import Settings
from desktop.domain.sync_adapter import Program, VaultSyncStore
from desktop.vault import Vault
from sync.client.transport import Transport
from sync.clock import Clock

if TYPE_CHECKING:
    from desktop.domain.bundles import Bundles
    from desktop.domain.carry import Carry


class OfflineContext(Protocol):
    vault: Vault
    program: Program
    transport: Transport
    store: VaultSyncStore
    messaging: Messaging | None
    downloads: Downloads
    data_dir: Path
    wall: Clock

    @property
    def settings(self) -> Settings: ...

    @property
    def bundles(self) -> Bundles: ...

    @property
    def carry(self) -> Carry: ...

    def now_ms(self) -> int: ...

    def count_usage(self) -> None: ...

    def after_sync(self, records_down: int, *, online: bool = False) -> None: ...

    def cards(self) -> list[Card]: ...

    def my_card(self) -> Card | None: ...
