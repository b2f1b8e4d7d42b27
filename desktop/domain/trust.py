"""Whom this device trusts and what it shares with the person's other devices (PROTOCOL.md §10): trust on first
use of each person's identity key and the new identities that follow from a known one; the keyring record; a new
epoch everywhere after a revoke. A mixin of ``Messaging``: it reads the directory through the vault."""

from __future__ import annotations

import base64
import json
import logging

import msgpack

from desktop.domain import directory, keyring
from desktop.domain.message_format import MissingKeys
from sync import envelope
from sync.clock import now_ms as wall_ms
from sync.protocol import Record, new_record_id

log = logging.getLogger(__name__)


class Trust:
    def key_changes(self) -> dict[str, str]:
        """Members whose identity changed since this device first saw it: account → their name. Shown to the
        person, who can compare safety numbers with them. A new generation whose chain signature verifies from
        the identity known (a revoke on their side), or a first identity that certifies the very device known
        before accounts had one, is followed silently (PROTOCOL.md §10)."""
        seen = self._known_keys()
        changed = {}
        for card in directory.cards(self.vault):
            if card.account == self.me or (card.keys is None and card.identity is None):
                continue
            if card.identity is None:
                print_ = envelope.fingerprint(card.keys[1], card.keys[2])  # type: ignore[index]
            else:
                print_ = "id:" + base64.b64encode(card.identity).decode()
            known = seen.get(card.account)
            if known is not None and known != print_ and not self._follows(card, known):
                changed[card.account] = card.name
                continue
            seen[card.account] = print_
        self._save_known_keys(seen)
        return changed

    @staticmethod
    def _follows(card: directory.Card, known: str) -> bool:
        if card.identity is None:
            return False
        if not known.startswith("id:"):  # a device's fingerprint: fine if the new identity certifies that device
            return any(e.fingerprint == known for e in card.devices)
        old = base64.b64decode(known[3:])
        account = bytes.fromhex(card.account)
        return card.chain is not None and envelope.verify_chain(
            old, account, card.generation, card.identity, card.chain
        )

    def accept_key_change(self, account: str) -> None:
        seen = self._known_keys()
        card = next((c for c in directory.cards(self.vault) if c.account == account), None)
        if card is not None and card.identity is not None:
            seen[account] = "id:" + base64.b64encode(card.identity).decode()
            self._save_known_keys(seen)
            return
        peer = self.peer(account)
        if peer is not None:
            seen[account] = peer.fingerprint
            self._save_known_keys(seen)

    def _known_keys(self) -> dict[str, str]:
        raw = self.vault.get_secret("known-keys")
        return json.loads(raw) if raw else {}

    def _save_known_keys(self, seen: dict[str, str]) -> None:
        self.vault.put_secret("known-keys", json.dumps(seen).encode())

    def rekey_all(self) -> int:
        """A new epoch in every thread this device can write to (after a revoke); returns how many."""
        count = 0
        for thread, _meta, _updated in self.vault.threads.all():
            try:
                self._epoch(thread, force=True)
                count += 1
            except MissingKeys:
                log.info("thread %s not re-keyed: a member has no keys yet", thread)
        return count

    def flush_keyring(self, recovery: tuple[bytes, bytes] | None = None) -> bool:
        """Queue this device's one keyring record for the epoch keys no keyring record carries yet (sealed
        with the account's current keyring key, audience: the person's own account), with ``recovery`` (a new
        recovery key's auth and box public halves) for the other devices to re-seal their vaults. True when
        one was queued."""
        keys = keyring.ensure(self.vault)
        made = (*recovery, wall_ms(self.clock.wall)) if recovery is not None else None
        content = keyring.pending_keyring(self.vault, made)
        if content is None:
            return False
        with self.vault.transaction():
            record_id = new_record_id()
            account = self.program.credentials.account
            body = keys.seal_keyring(account, record_id, msgpack.packb(content, use_bin_type=True))
            self._enqueue(Record(i=record_id, k="keyring", t=[account], h=self.clock.now(), b=body))
            keyring.keyring_written(self.vault, content)
        return True
