"""What a conversation's records look like (PROTOCOL.md §9.1), shared by sending and receiving: limits, the
order of a message's states, bundle message ids, people's keys, thread ids."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from desktop.vault import StoredMessage
from sync import envelope

MAX_GROUP = 20
MAX_TEXT = 20_000
MAX_ATTACHMENT = envelope.MAX_ATTACHMENT  # the UI names the limit in the reader's units
ORDER = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}
EPOCH_LIFETIME_MS = 30 * 24 * 3600 * 1000  # a thread's key is replaced at least monthly
BUNDLE_BYTES = 128 * 1024  # a bundle grows while its packed messages stay within this (one compression context)
BUNDLE_SEALED = 48 * 1024  # and while its sealed body does (records carry 64 KiB, with room for frame and signature)
BUNDLE_ITEMS = 500  # and while it holds fewer messages than this: readers take no more of one bundle


def bundle_ids(record_id: bytes, content: dict) -> list[str | None]:
    """The message id (hex) of each item of a bundle, as its author and every reader compute it: the item's own
    ``i`` when it has one (bundles made before derived ids, and messages carried over from one), else the first
    16 bytes of SHA-256("osler-message-id-v1\0" ‖ origin ‖ index u32 BE), where the origin is the bundle's ``o``
    or, for the first bundle of a chain, its record id (PROTOCOL.md §9.1). None for a malformed item."""
    origin = content.get("o", record_id)
    ids: list[str | None] = []
    for index, item in enumerate(content.get("b", [])[:BUNDLE_ITEMS]):
        explicit = item.get("i") if isinstance(item, dict) else None
        if isinstance(explicit, bytes) and len(explicit) == 16:
            ids.append(explicit.hex())
        elif isinstance(item, dict) and "i" not in item and isinstance(origin, bytes) and len(origin) == 16:
            seed = b"osler-message-id-v1\0" + origin + index.to_bytes(4, "big")
            ids.append(hashlib.sha256(seed).digest()[:16].hex())
        else:
            ids.append(None)
    return ids


class MissingKeys(Exception):
    """A member has not published encryption keys yet (their card has none): they cannot be written to."""

    def __init__(self, accounts: list[str]) -> None:
        super().__init__(", ".join(accounts))
        self.accounts = accounts


@dataclass(frozen=True)
class Peer:
    account: str
    device: str
    sign: bytes
    box: bytes

    @property
    def fingerprint(self) -> str:
        return envelope.fingerprint(self.sign, self.box)


@dataclass(frozen=True)
class Thread:
    id: str
    members: tuple[str, ...]
    title: str
    updated_at: int
    unread: int
    last: StoredMessage | None


def direct_thread_id(a: str, b: str) -> str:
    """Both people compute the same id for their 1:1 thread, so it converges whoever writes first."""
    low, high = sorted((a, b))
    return hashlib.sha256(b"osler-thread-v1\0" + bytes.fromhex(low) + bytes.fromhex(high)).digest()[:16].hex()


def card_keys(device: bytes, sign: bytes, box: bytes) -> dict[str, str]:
    """What a directory card says about the device's public keys."""
    return {
        "device": device.hex(),
        "sign": base64.b64encode(sign).decode(),
        "box": base64.b64encode(box).decode(),
    }
