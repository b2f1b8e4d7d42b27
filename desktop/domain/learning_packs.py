"""Specialty learning packs (PROTOCOL.md §7.3): curated, versioned sets of library items.

A pack is a signed public ``pack`` record (JSON v1: pack id, version, title, specialty, summary, items as
``[[item, version], …]``), pushed by mentors and admins only (the server refuses anyone else with 403). A newer
version of a pack (same ``pack`` id, higher ``version``, by the pack's first author) replaces the older in the
list. A person subscribes to a pack: each of its items is queued in the download manager; when an update arrives,
only the items that are new or changed version are queued, and items it dropped stay where they are.
Subscriptions stay on this device, sealed in the vault.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from desktop.domain.sync_adapter import Program, queue_record
from desktop.i18n import _
from desktop.vault import Vault
from sync.protocol import HybridClock, unpack_record

KIND = "pack"
STORE = "pack-subscriptions"
MAX_ITEMS = 500
MAX_TITLE, MAX_SUMMARY, MAX_SPECIALTY = 200, 2_000, 80
PUBLISHERS = ("mentor", "admin")


class PackError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Pack:
    id: str  # the record id of this version
    pack: str  # stable across versions
    version: int
    author: str
    title: str
    specialty: str
    summary: str
    items: tuple[tuple[str, int], ...]  # (item, version)


def pack_body(pack: str, version: int, title: str, specialty: str, summary: str, items: Iterable) -> bytes:
    """The JSON v1 body of a ``pack`` record, checked the way every reader checks it (``parse``)."""
    doc = {
        "v": 1,
        "pack": pack,
        "version": int(version),
        "title": title.strip(),
        "specialty": specialty.strip(),
        "summary": summary.strip(),
        "items": [[str(i), int(v)] for i, v in items],
    }
    if parse(json.dumps(doc).encode()) is None:
        raise PackError("invalid", _("A pack needs a title, at most {count} items, and short texts.").format(
            count=MAX_ITEMS))  # fmt: skip
    return json.dumps(doc, separators=(",", ":")).encode()


def parse(body: bytes) -> dict | None:
    """A pack body's fields, or None when it breaks a rule (ignored, never shown)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("v") != 1:
        return None
    pack, version, items = doc.get("pack"), doc.get("version"), doc.get("items")
    texts = {k: doc.get(k, "") for k in ("title", "specialty", "summary")}
    limits = {"title": MAX_TITLE, "specialty": MAX_SPECIALTY, "summary": MAX_SUMMARY}
    if not isinstance(pack, str) or not 1 <= len(pack) <= 64:
        return None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return None
    if any(not isinstance(v, str) or len(v) > limits[k] for k, v in texts.items()) or not texts["title"].strip():
        return None
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        return None
    pairs = []
    for entry in items:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str) and 1 <= len(entry[0]) <= 64):
            return None
        if not isinstance(entry[1], int) or isinstance(entry[1], bool) or entry[1] < 0:
            return None
        pairs.append((entry[0], entry[1]))
    if len({i for i, _v in pairs}) != len(pairs):
        return None  # an item once per pack
    return {"pack": pack, "version": version, **texts, "items": tuple(pairs)}


class Packs:
    """The programme's learning packs and this person's subscriptions (``session.packs``)."""

    def __init__(
        self,
        vault: Vault,
        program: Program,
        clock: HybridClock,
        queue: Callable[[str, int], bool | None] | None = None,
    ) -> None:
        self.vault, self.program, self.clock = vault, program, clock
        # the download manager's: fetch library item (item, version); False when it cannot yet (the item's record
        # has not arrived), and the item is tried again after the next sync
        self.queue = queue
        self.me = program.credentials.account.hex()

    # -- the list -----------------------------------------------------------------------------------------

    def packs(self) -> list[Pack]:
        """The newest version of each pack, by title. A version counts only from the pack's first author."""
        owners: dict[str, str] = {}
        newest: dict[str, Pack] = {}
        for stored in self.vault.records.by_kind(KIND):  # oldest clock first
            if stored.state == "rejected":  # the server refused it (not a mentor or admin): never shown
                continue
            doc = parse(unpack_record(stored.wire).b)
            if doc is None:
                continue
            owner = owners.setdefault(doc["pack"], stored.author)
            if owner != stored.author:
                continue
            pack = Pack(stored.id, author=stored.author, **doc)
            if doc["pack"] not in newest or pack.version > newest[doc["pack"]].version:
                newest[doc["pack"]] = pack
        return sorted(newest.values(), key=lambda p: (p.title.casefold(), p.pack))

    def pack(self, pack: str) -> Pack | None:
        return next((p for p in self.packs() if p.pack == pack), None)

    # -- publishing (mentors and admins) ------------------------------------------------------------------

    def publish(self, title: str, specialty: str, summary: str, items: Iterable, pack: str | None = None) -> Pack:
        """A new pack, or (``pack`` given) its next version. ``items``: (item, version) pairs or library items."""
        if self.program.role not in PUBLISHERS:
            raise PackError("forbidden", _("Only mentors and admins publish learning packs."))
        pairs = [(i.item, i.version) if hasattr(i, "item") else (i[0], i[1]) for i in items]
        if pack is None:
            pack, version = secrets.token_urlsafe(16)[:22], 1
        else:
            previous = self.pack(pack)
            if previous is None or previous.author != self.me:
                raise PackError("not-owner", _("Only the person who published a pack publishes its new versions."))
            version = previous.version + 1
        body = pack_body(pack, version, title, specialty, summary, pairs)
        record = queue_record(self.vault, self.program, self.clock, KIND, body, None, signed=True)
        doc = parse(body)
        assert doc is not None
        return Pack(record.i.hex(), author=self.me, **doc)

    # -- subscriptions ------------------------------------------------------------------------------------

    def _subs(self) -> dict:
        raw = self.vault.get_secret(STORE)
        return json.loads(raw) if raw else {}

    def _save(self, subs: dict) -> None:
        self.vault.put_secret(STORE, json.dumps(subs, sort_keys=True).encode())

    def subscribed(self) -> set[str]:
        return set(self._subs())

    def subscribe(self, pack: str) -> list[tuple[str, int]]:
        """Follow ``pack``: every item it lists is queued for download. Returns what was queued."""
        found = self.pack(pack)
        if found is None:
            raise PackError("unknown", _("This pack is not on this device yet: sync, then try again."))
        subs = self._subs()
        subs[pack] = {"version": 0, "items": {}}
        self._save(subs)
        return self._bring(subs, found)

    def unsubscribe(self, pack: str) -> None:
        subs = self._subs()
        subs.pop(pack, None)
        self._save(subs)

    def refresh(self) -> list[tuple[str, int]]:
        """After a sync: each subscribed pack queues only the items new or changed since it was last brought
        (a new version changing one item of five queues that one), and any item the download manager could not
        take yet."""
        subs, queued = self._subs(), []
        for pack in list(subs):
            found = self.pack(pack)
            if found is not None:
                queued += self._bring(subs, found)
        return queued

    def _bring(self, subs: dict, pack: Pack) -> list[tuple[str, int]]:
        held = subs[pack.pack]["items"]
        queued = []
        for item, version in pack.items:
            if held.get(item) == version:
                continue
            if self.queue is None or self.queue(item, version) is not False:
                held[item] = version
                queued.append((item, version))
        listed = {i for i, _v in pack.items}
        subs[pack.pack] = {"version": pack.version, "items": {i: v for i, v in held.items() if i in listed}}
        self._save(subs)
        return queued
