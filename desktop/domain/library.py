"""The learning library as this device knows it (``session.library``): the programme's catalogue (signed
``material`` records, JSON v1 and v2: PROTOCOL.md §7.1) and the items shared privately with this person (sealed
messages and circle posts), each with its versions, and what is held in the vault to read offline.

Programme-wide items are public inside the programme: the file and its part list are plain blobs on the
programme's server, the catalogue entry signed by its publisher. A newer version (same ``item``, higher
``version``, by the item's first publisher) replaces the older one in the list; the older stays
readable (``readable``) until the new file is fully in the vault. Publishing keeps the file in the vault at once
and queues the entry; the file and its part list go up before the next push (``upload_pending``, in the sync),
so publishing works offline. Private sharing lives in ``library_share.py``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.domain.library_format import (
    PART_SIZE,
    LibraryError,
    PublishMeta,
    check_file,
    encode_entry,
    entry_body,
    new_item_id,
    parse_entry,
    part_list,
)
from desktop.domain.sync_adapter import Program, queue_record
from desktop.i18n import _
from desktop.vault import Vault
from sync.protocol import HybridClock, unpack_record

if TYPE_CHECKING:
    from desktop.domain.circles import Circles
    from desktop.domain.messaging import Messaging

__all__ = ["Library", "LibraryError", "LibraryItem", "PublishMeta"]
UPLOADS = "library-uploads"  # vault secret: blobs (file, part list) published here and not yet on the server
SHARED = "library-shared"  # vault secret: items shared privately with this person, by message or post id
PUBLISHERS = ("mentor", "admin")


@dataclass(frozen=True)
class LibraryItem:
    """One version of one item."""

    id: str  # record id (programme item) or message / circle post id (private)
    item: str
    version: int
    author: str
    title: str
    summary: str
    specialty: str
    language: str
    level: str
    licence: str
    kind: str
    mime: str
    size: int
    sha256: str
    parts: str
    private: bool  # shared privately (sealed), not the programme's
    shared_by: str  # the sharer's account (hex) for private items; "" for programme items
    replaces: str
    hlc: int = 0  # when it was published or shared (hybrid clock)
    via: str = ""  # private items: the direct thread or circle it came through


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


class Library:
    def __init__(
        self,
        vault: Vault,
        program: Program,
        clock: HybridClock,
        messaging: Messaging | None = None,
        circles: Circles | None = None,
    ) -> None:
        self.vault, self.program, self.clock = vault, program, clock
        self.messaging, self.circles = messaging, circles
        self.me = program.credentials.account.hex()
        self._public: tuple[tuple[int, int], list[LibraryItem]] | None = None
        if messaging is not None:
            from desktop.domain.library_share import attach_receivers

            attach_receivers(self)

    # -- reading the catalogue ------------------------------------------------------------------------------

    def _all_public(self) -> list[LibraryItem]:
        mark = self.vault.records.kind_mark("material")
        if self._public is None or self._public[0] != mark:
            found = []
            for stored in self.vault.records.by_kind("material"):
                fields = parse_entry(_json(unpack_record(stored.wire).b), stored.id)
                if fields is not None:
                    found.append(LibraryItem(id=stored.id, author=stored.author, private=False, shared_by="",
                                             hlc=stored.hlc, **fields))  # fmt: skip
            self._public = (mark, found)
        return list(self._public[1])

    def _all_private(self) -> list[LibraryItem]:
        from desktop.domain.library_share import shared_items

        return shared_items(self)

    @staticmethod
    def _lawful(versions: list[LibraryItem]) -> list[LibraryItem]:
        """The versions of one programme item that count: by its first publisher (the author of its lowest
        version). Nothing this device holds proves another account is an admin (a card's role is self-stated),
        so an admin's version of someone else's item would let anyone claiming "admin" replace it: not counted."""
        first = min(versions, key=lambda v: (v.version, v.hlc))
        return [v for v in versions if v.author == first.author]

    def _grouped(self) -> dict[tuple[bool, str], list[LibraryItem]]:
        groups: dict[tuple[bool, str], list[LibraryItem]] = {}
        for entry in self._all_public():
            groups.setdefault((False, entry.item), []).append(entry)
        for entry in self._all_private():
            groups.setdefault((True, entry.item), []).append(entry)
        out = {}
        for key, versions in groups.items():
            kept = versions if key[0] else self._lawful(versions)
            out[key] = sorted(kept, key=lambda v: (v.version, v.hlc), reverse=True)
        return out

    def items(self) -> list[LibraryItem]:
        """The newest version of each item, programme-wide and private, by title."""
        return sorted((v[0] for v in self._grouped().values()), key=lambda i: (i.title.casefold(), i.id))

    def item(self, item: str) -> LibraryItem | None:
        versions = self.versions(item)
        return versions[0] if versions else None

    def versions(self, item: str) -> list[LibraryItem]:
        """Every version of ``item``, newest first (programme versions first when an id is both)."""
        groups = self._grouped()
        return groups.get((False, item)) or groups.get((True, item)) or []

    def by_id(self, record_id: str) -> LibraryItem | None:
        """One version by its record (or message) id."""
        return next((v for vs in self._grouped().values() for v in vs if v.id == record_id), None)

    def readable(self, item: LibraryItem) -> LibraryItem | None:
        """The newest version held in the vault: the old one until the new one is fetched."""
        versions = self.versions(item.item) if not item.private else [item]
        return next((v for v in versions if self.is_offline(v)), None)

    def is_offline(self, item: LibraryItem) -> bool:
        if item.private:
            entry = self.messaging.attachment(item.id) if self.messaging is not None else None
            return entry is not None and entry["state"] in ("downloaded", "pending-upload", "uploaded")
        info = self.vault.blobs.info(item.sha256)
        return info is not None and info.complete and info.sha256 == item.sha256

    def open_bytes(self, item: LibraryItem) -> bytes:
        """The file, from the vault into memory, verified chunk by chunk and whole (never a file on disk).
        LibraryError("not-here") when it has not been fetched yet."""
        if not self.is_offline(item):
            raise LibraryError("not-here", _("This item is not on this computer yet: download it first."))
        if item.private:
            assert self.messaging is not None
            data = self.messaging.attachment_bytes(item.id)
        else:
            data = self.vault.blobs.read_all(item.sha256)  # the vault checks every chunk and the SHA-256
        if data is None or hashlib.sha256(data).hexdigest() != item.sha256:
            raise LibraryError("damaged", _("This item does not match its catalogue entry."))
        return data

    def label(self, item: LibraryItem, names: Callable[[str], str | None] = lambda _a: None) -> str:
        """ "Shared with you by …" for a private item ("" for programme items); ``names``: account → name."""
        if not item.private:
            return ""
        if item.shared_by == self.me:
            return _("Shared privately by you")
        return _("Shared with you by {name}").format(name=names(item.shared_by) or _("someone"))

    # -- publishing (mentors and admins) ----------------------------------------------------------------------

    @property
    def may_publish(self) -> bool:
        return self.program.role in PUBLISHERS

    def publish(self, path: Path, meta: PublishMeta) -> LibraryItem:
        """Publish a file programme-wide: kept in the vault now, its signed entry queued; the file and its part
        list are uploaded before the next push. Works offline."""
        return self._publish(Path(path), meta, new_item_id(), 1, "")

    def new_version(self, previous: LibraryItem, path: Path, meta: PublishMeta) -> LibraryItem:
        """A new version of a programme item (by its publisher or an admin): it replaces the old one in the
        list; the old one stays readable until the new one is fetched."""
        if previous.private:
            raise LibraryError("private", _("A privately shared item is shared again, not versioned."))
        versions = self.versions(previous.item) or [previous]
        first = min(versions, key=lambda v: (v.version, v.hlc))
        if first.author != self.me:
            raise LibraryError("not-yours", _("Only the item's publisher can publish a new version of it."))
        newest = versions[0]
        return self._publish(Path(path), meta, previous.item, newest.version + 1, newest.id)

    def _publish(self, path: Path, meta: PublishMeta, item: str, version: int, replaces: str) -> LibraryItem:
        if not self.may_publish:
            raise LibraryError("forbidden", _("Only mentors and admins publish to the programme's library."))
        meta = meta.validate()
        mime, size, sha, parts = self._keep(path, meta.title)
        parts_sha = hashlib.sha256(parts).hexdigest() if size > PART_SIZE else ""
        doc = entry_body(meta, item, version, replaces, mime, size, sha, parts_sha)
        with self.vault.transaction():
            if parts_sha:
                self.vault.blobs.put_bytes(parts, f"{meta.title} (parts)", "application/octet-stream")
            record = queue_record(self.vault, self.program, self.clock, "material", encode_entry(doc), None,
                                  signed=True)  # fmt: skip
            pending = self._uploads()
            pending += [s for s in (sha, parts_sha) if s and s not in pending]
            self.vault.put_secret(UPLOADS, json.dumps(pending).encode())
        fields = parse_entry(doc, record.i.hex())
        assert fields is not None
        return LibraryItem(id=record.i.hex(), author=self.me, private=False, shared_by="", hlc=record.h, **fields)

    def _keep(self, path: Path, title: str) -> tuple[str, int, str, bytes]:
        """Check the file and copy it into the vault, named by its SHA-256: (mime, size, sha256, part list)."""
        try:
            size = path.stat().st_size
            with path.open("rb") as handle:
                mime = check_file(path.name, size, handle.read(512))
                handle.seek(0)
                digest, chunks = hashlib.sha256(), []
                for block in iter(lambda: handle.read(PART_SIZE), b""):
                    digest.update(block)
                    chunks.append(hashlib.sha256(block).digest())
                    if mime == "text/markdown" and b"\x00" in block:
                        raise LibraryError("not-what-it-says", _("This file is not a Markdown text."))
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise LibraryError("unreadable", _("This file cannot be read: {reason}").format(reason=reason)) from None
        sha, parts = digest.hexdigest(), b"".join(chunks) or part_list([b""])
        blobs = self.vault.blobs
        blobs.begin(sha, size, sha, title, mime)
        missing = set(blobs.missing_chunks(sha))
        with path.open("rb") as handle:
            for index in range(len(parts) // 32):
                block = handle.read(PART_SIZE)
                if hashlib.sha256(block).digest() != parts[index * 32 : (index + 1) * 32]:
                    raise LibraryError("changed", _("The file changed while it was being published; try again."))
                if index in missing:
                    blobs.put_chunk(sha, index, block)
        return mime, size, sha, parts

    def share_privately(self, path_or_item: Path | LibraryItem, meta: PublishMeta | None, to: str) -> str:
        """Share a file (or an item held here) end-to-end encrypted with one person (``to``: their account) or
        a circle (``to``: its id): a sealed message or circle post carrying the entry and the file as an
        encrypted attachment. Returns the message or post id. Works offline."""
        from desktop.domain.library_share import share

        return share(self, path_or_item, meta, to)

    # -- the sync's side --------------------------------------------------------------------------------------

    def _uploads(self) -> list[str]:
        raw = self.vault.get_secret(UPLOADS)
        return list(json.loads(raw)) if raw else []

    def pending_uploads(self) -> list[str]:
        """Blobs (files, part lists) published here that the server does not hold yet."""
        return self._uploads()

    def upload_pending(self, send: Callable[[str, int, Callable[[], object]], None]) -> int:
        """Upload what publishing queued, one blob at a time from the vault (``send(sha, size, chunks)``:
        the sync's resumable chunked upload). Runs in the sync before the push, so an entry never reaches the
        server before its file. Returns the blobs sent."""
        sent = 0
        for sha in self._uploads():
            info = self.vault.blobs.info(sha)
            if info is not None and info.complete:
                send(sha, info.size, lambda s=sha: self.vault.blobs.read(s))
            with self.vault.transaction():
                self.vault.put_secret(UPLOADS, json.dumps([s for s in self._uploads() if s != sha]).encode())
            sent += 1
        return sent
