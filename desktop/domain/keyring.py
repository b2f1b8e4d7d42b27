"""The account secret every device of one person holds (PROTOCOL.md §10), and what it seals for them.

The vault keeps the "secret chain": every generation ``g`` of the account secret this device knows, newest
last, with the recovery key's public halves (``account-secrets``, msgpack ``{c: [[g, S_g]…], r: [auth, box]}``).
The newest generation gives the identity key (what peers trust; it certifies each device in the card) and the
keyring key, which seals ``keyring`` records: the epoch keys the account's devices share, so a device linked
later, or one a grant left out, reads every conversation.

Plain Python over the vault; ``Messaging`` (sending and receiving) and ``devices.py`` (link, restore, revoke)
call it.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable

import msgpack

from desktop.domain.directory import Card, DeviceEntry, card_body, cards
from desktop.domain.message_format import MAX_GROUP
from desktop.vault import Vault
from sync import envelope
from sync.envelope import AccountKeys

log = logging.getLogger(__name__)
SECRETS = "account-secrets"
BACKUP_OWED = "backup-owed"  # this device made a generation the server's backup does not hold yet
KEYRING_STATE = "keyring-state"  # which epoch keys a keyring record carries already, and which wait for one
MAX_KEYRING_ENTRIES = 400
MAX_KEYRING_BYTES = 48_000  # one record stays under the 64 KiB a record carries (~60 B an entry, + members, title)


# -- the chain ---------------------------------------------------------------------------------------------------


def chain(vault: Vault) -> list[tuple[int, bytes]]:
    raw = vault.get_secret(SECRETS)
    if raw is None:
        return []
    doc = msgpack.unpackb(raw, raw=False)
    return [(int(g), bytes(s)) for g, s in doc.get("c", [])]


def recovery_publics(vault: Vault) -> tuple[bytes, bytes] | None:
    """(auth_public, box_public) of the account's recovery key: the ones this vault's slot is sealed to (they
    follow a rotation), else the ones last learnt with the chain."""
    publics = getattr(vault, "recovery_publics", None)
    found = publics() if callable(publics) else None
    if found:
        return bytes(found[0]), bytes(found[1])
    raw = vault.get_secret(SECRETS)
    r = msgpack.unpackb(raw, raw=False).get("r") if raw else None
    return (bytes(r[0]), bytes(r[1])) if r else None


def store_chain(vault: Vault, links: Iterable[tuple[int, bytes]], recovery: tuple[bytes, bytes] | None = None) -> None:
    """Keep these generations (merged with those known, each once) and the recovery publics, if given."""
    known = dict(chain(vault))
    known.update({int(g): bytes(s) for g, s in links})
    current = recovery or recovery_publics(vault)
    doc: dict = {"c": [[g, known[g]] for g in sorted(known)]}
    if current:
        doc["r"] = [current[0], current[1]]
    vault.put_secret(SECRETS, msgpack.packb(doc, use_bin_type=True))


def packed_chain(vault: Vault, extra: dict | None = None) -> bytes:
    """The chain (and the recovery publics) as sealed to another device of the account or into the backup."""
    doc: dict = {"chain": [[g, s] for g, s in chain(vault)], **(extra or {})}
    publics = recovery_publics(vault)
    if publics:
        doc["r"] = {"a": publics[0], "b": publics[1]}
    return msgpack.packb(doc, use_bin_type=True)


def unpack_chain(payload: bytes) -> tuple[list[tuple[int, bytes]], tuple[bytes, bytes] | None, dict]:
    doc = msgpack.unpackb(payload, raw=False)
    links = [(int(g), bytes(s)) for g, s in doc["chain"]]
    if not links or any(len(s) != envelope.ACCOUNT_SECRET_BYTES for _g, s in links):
        raise ValueError("an account chain without a valid secret")
    r = doc.get("r")
    publics = (bytes(r["a"]), bytes(r["b"])) if isinstance(r, dict) else None
    return links, publics, doc


def current(vault: Vault) -> AccountKeys | None:
    links = chain(vault)
    return AccountKeys(links[-1][1], links[-1][0]) if links else None


def generation_keys(vault: Vault, generation: int) -> AccountKeys | None:
    secret = dict(chain(vault)).get(generation)
    return AccountKeys(secret, generation) if secret is not None else None


def ensure(vault: Vault) -> AccountKeys:
    """This device's account keys, made (generation 0) for an account from before accounts had a secret; then
    every epoch key the device holds waits for the first keyring record (a device linked later reads them)."""
    keys = current(vault)
    if keys is not None:
        return keys
    keys = AccountKeys(envelope.new_account_secret(), 0)
    with vault.transaction():
        store_chain(vault, [(0, keys.secret_bytes())])
        vault.put_secret(BACKUP_OWED, b"1")
        _note_pending(vault, held_epoch_keys(vault))
    return keys


def chain_signature(vault: Vault, account: bytes, keys: AccountKeys) -> bytes | None:
    previous = generation_keys(vault, keys.generation - 1) if keys.generation else None
    return previous.chain_to(account, keys) if previous is not None else None


# -- keyring records ---------------------------------------------------------------------------------------------


def held_epoch_keys(vault: Vault) -> list[tuple[str, int]]:
    return [
        (thread, int(epoch))
        for thread, meta, _updated in vault.threads.all()
        for epoch in meta.get("epochs", {})
        if vault.get_secret(f"epoch:{thread}:{epoch}") is not None
    ]


def _state(vault: Vault) -> dict:
    raw = vault.get_secret(KEYRING_STATE)
    return json.loads(raw) if raw else {"carried": [], "pending": []}


def _save_state(vault: Vault, state: dict) -> None:
    vault.put_secret(KEYRING_STATE, json.dumps(state).encode())


def _note_pending(vault: Vault, pairs: Iterable[tuple[str, int]]) -> None:
    state = _state(vault)
    carried, pending = set(state["carried"]), set(state["pending"])
    added = {f"{t}:{e}" for t, e in pairs} - carried - pending
    if added:
        state["pending"] = sorted(pending | added)
        _save_state(vault, state)


def keep_epoch_key(vault: Vault, thread: str, epoch: int, key: bytes) -> None:
    """An epoch key made or opened here: kept, and carried by this device's next keyring record unless one
    already carries it."""
    vault.put_secret(f"epoch:{thread}:{epoch}", key)
    _note_pending(vault, [(thread, epoch)])


def pending_keyring(vault: Vault, recovery: tuple[bytes, bytes, int] | None = None) -> dict | None:
    """The content of the keyring record this device owes (every epoch key no keyring record carries yet, and
    ``recovery``: a new recovery key's (auth, box) public halves with the time it was made), or None. The
    caller seals and queues it, then calls ``keyring_written``."""
    state = _state(vault)
    entries, size = [], 0
    for name in state["pending"][:MAX_KEYRING_ENTRIES]:
        thread, epoch = name.split(":")
        key = vault.get_secret(f"epoch:{thread}:{epoch}")
        if key is None:
            continue
        meta = vault.threads.get(thread) or {}
        members, title = [bytes.fromhex(m) for m in meta.get("members", [])], str(meta.get("title", ""))
        size += 60 + 17 * len(members) + len(title.encode())
        if entries and size > MAX_KEYRING_BYTES:
            break  # the rest in the next record
        # [thread, epoch, key, members, title]: what a device that never sees the grant shows (§10)
        entries.append([bytes.fromhex(thread), int(epoch), key, members, title])
    content: dict = {"e": entries} if entries else {}
    if recovery is not None:
        content["r"] = {"a": recovery[0], "b": recovery[1], "at": recovery[2]}
    return content or None


def keyring_written(vault: Vault, content: dict) -> None:
    _mark_carried(vault, [f"{t.hex()}:{e}" for t, e, *_rest in content.get("e", [])])


def _mark_carried(vault: Vault, names: list[str]) -> None:
    state = _state(vault)
    carried = set(state["carried"]) | set(names)
    state["carried"] = sorted(carried)
    state["pending"] = [p for p in state["pending"] if p not in carried]
    _save_state(vault, state)


def take_keyring(vault: Vault, record_id: bytes, body: bytes) -> list[tuple[str, int]] | None:
    """Open a keyring record of this account with the chain's key of its generation; keeps its epoch keys and
    a newer recovery public pair. None when it cannot be opened (a generation this device does not hold)."""
    try:
        keys = generation_keys(vault, envelope.keyring_generation(body))
        if keys is None:
            return None
        content = msgpack.unpackb(keys.open_keyring(record_id, body), raw=False)
    except (envelope.EnvelopeError, ValueError, msgpack.ExtraData):
        return None
    got: list[tuple[str, int]] = []
    for entry in content.get("e", []) if isinstance(content, dict) else []:
        if not (isinstance(entry, list) and len(entry) >= 3 and isinstance(entry[0], bytes) and len(entry[0]) == 16):
            continue
        thread, epoch, key = entry[0].hex(), entry[1], entry[2]
        if isinstance(epoch, int) and isinstance(key, bytes) and len(key) == 32:
            if vault.get_secret(f"epoch:{thread}:{epoch}") is None:
                vault.put_secret(f"epoch:{thread}:{epoch}", key)
            got.append((thread, epoch))
            _thread_from_entry(vault, thread, entry[3:5])
    r = content.get("r") if isinstance(content, dict) else None
    if isinstance(r, dict) and isinstance(r.get("a"), bytes) and isinstance(r.get("b"), bytes):
        store_chain(vault, [], (r["a"], r["b"]))
        reseal = getattr(vault, "reseal_recovery", None)  # engineer R: this vault's slot follows the new key
        if callable(reseal):
            reseal(r["b"], r["a"])
    _mark_carried(vault, [f"{t}:{e}" for t, e in got])
    return got


def _account_id(value: object) -> bool:
    if isinstance(value, bytes):
        return len(value) == 16
    return isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def _thread_from_entry(vault: Vault, thread: str, extra: list) -> None:
    """A conversation this device knows only from the keyring (a device linked or restored leaves out the
    history's grants that do not name it, PROTOCOL.md §4 ``g``): its members and title, from the entry. A thread
    already known keeps what its grants said; with no epoch current, the first message written here re-keys."""
    if len(extra) < 2 or vault.threads.get(thread) is not None:
        return
    raw, title = extra
    if not isinstance(raw, list) or not isinstance(title, str):
        return
    members = sorted({m.hex() if isinstance(m, bytes) else m for m in raw[:MAX_GROUP] if _account_id(m)})
    if len(members) < 2:
        return
    meta = {"members": members, "title": title[:80], "epochs": {}, "group": len(members) > 2}
    vault.threads.put(thread, meta, 0)


# -- the card's account fields -----------------------------------------------------------------------------------


def my_card(vault: Vault, account: str) -> Card | None:
    return next((c for c in cards(vault) if c.account == account), None)


def card_doc(vault: Vault, account: str) -> dict | None:
    """The newest own card's JSON document (its profile fields), to publish again with new keys."""
    from sync.protocol import unpack_record

    newest = None
    for stored in vault.records.by_kind("card"):
        if stored.author == account:
            newest = stored
    if newest is None:
        return None
    try:
        doc = json.loads(unpack_record(newest.wire).b)
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def entry_doc(keys: AccountKeys, account: bytes, entry: DeviceEntry) -> dict:
    device = bytes.fromhex(entry.device)
    doc = {
        "device": entry.device,
        "sign": base64.b64encode(entry.sign).decode(),
        "box": base64.b64encode(entry.box).decode(),
        "cert": base64.b64encode(keys.certify(account, device, entry.sign, entry.box)).decode(),
    }
    if entry.name:
        doc["name"] = entry.name
    return doc


def account_fields(
    vault: Vault, account: bytes, devices: Iterable[DeviceEntry], keys: AccountKeys | None = None
) -> dict:
    """``id``, ``g``, ``chain`` and ``devices`` of this account's card (spec: PROTOCOL.md §10), every device
    certified by the current generation's identity."""
    keys = keys or ensure(vault)
    fields: dict = {
        "id": base64.b64encode(keys.identity_public).decode(),
        "g": keys.generation,
        "devices": [entry_doc(keys, account, e) for e in devices],
    }
    signature = chain_signature(vault, account, keys)
    if signature is not None:
        fields["chain"] = base64.b64encode(signature).decode()
    return fields


def card_devices(vault: Vault, account: str, me: DeviceEntry, drop: Iterable[str] = ()) -> list[DeviceEntry]:
    """The devices the next own card lists: those the newest own card lists (certified), this one refreshed,
    the revoked ones (``drop``) left out."""
    card = my_card(vault, account)
    dropped = set(drop)
    others = [e for e in (card.devices if card and card.identity else ()) if e.device not in (me.device, *dropped)]
    return [me, *others] if me.device not in dropped else others


def republish_body(vault: Vault, account: bytes, me: DeviceEntry, drop: Iterable[str] = (), add=()) -> bytes | None:  # type: ignore[no-untyped-def]
    """The card body this device publishes after a link, a revoke or a new generation: the newest own card's
    profile with the account fields renewed; None when this person has published no card yet."""
    doc = card_doc(vault, account.hex())
    if doc is None:
        return None
    devices = card_devices(vault, account.hex(), me, drop)
    listed = {d.device for d in devices} | set(drop)
    devices += [e for e in add if e.device not in listed]
    doc.update(account_fields(vault, account, devices))
    doc.pop("keys", None)  # this device's keys are its entry in ``devices`` (PROTOCOL.md §10.1.1)
    doc.pop("v", None)
    return card_body(**doc)
