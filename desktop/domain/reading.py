"""Reading state per library item: the last page opened, progress 0–1, bookmarks and private notes.

Everything is sealed in the vault (one sealed secret per item, keyed by the item's stable id so a new version
keeps its reader's place). It stays on this device: Osler has no sealed channel to the account's own other
devices yet (a message thread to oneself does not exist), so reading state is not synced; recommendations report
progress to a mentor themselves (desktop/domain/recommendations.py).

``Reading.progress(item)`` is what the plan's reading goals show. Progress only grows: it is the furthest point
reached (for a PDF the furthest page over the page count, for Markdown the furthest scroll), so paging back to
re-read a figure does not undo it; ``reset`` starts over.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from desktop.vault.store import Vault

MAX_NOTE = 10_000  # characters in one private note
MAX_NOTES = 1_000  # notes on one item
MAX_BOOKMARKS = 500
MAX_LABEL = 200
_PREFIX = "reading:"


class _HasItem(Protocol):
    item: str


ItemRef = Any  # a LibraryItem (its ``item``), a Material (its ``id``), or the item id itself


def item_key(item: ItemRef) -> str:
    """The stable id reading state hangs on: ``LibraryItem.item`` (same across versions), else the id."""
    if isinstance(item, str):
        return item
    for name in ("item", "id"):
        value = getattr(item, name, "")
        if isinstance(value, str) and value:
            return value
    raise ValueError("a library item needs an id")


@dataclass(frozen=True)
class Bookmark:
    page: int  # 0-based
    label: str
    at_ms: int


@dataclass(frozen=True)
class Note:
    id: str
    page: int  # 0-based; -1 for a note on the whole item
    text: str
    at_ms: int


@dataclass(frozen=True)
class ReadingState:
    item: str
    page: int = 0  # the last page opened (0-based)
    pages: int = 0  # page count when last opened (0: not paged, e.g. Markdown)
    progress: float = 0.0
    position: float = 0.0  # scroll position 0–1 within a non-paged item (where it reopens)
    opened_ms: int = 0
    bookmarks: tuple[Bookmark, ...] = field(default_factory=tuple)
    notes: tuple[Note, ...] = field(default_factory=tuple)

    def bookmarked(self, page: int) -> bool:
        return any(b.page == page for b in self.bookmarks)


def _clamp(value: float) -> float:
    return 0.0 if value != value else max(0.0, min(1.0, float(value)))  # NaN → 0


def _load(doc: dict[str, Any], key: str) -> ReadingState:
    try:
        return ReadingState(
            item=key,
            page=max(0, int(doc.get("page", 0))),
            pages=max(0, int(doc.get("pages", 0))),
            progress=_clamp(doc.get("progress", 0.0)),
            position=_clamp(doc.get("position", 0.0)),
            opened_ms=int(doc.get("opened_ms", 0)),
            bookmarks=tuple(
                Bookmark(int(b["page"]), str(b["label"])[:MAX_LABEL], int(b["at_ms"])) for b in doc.get("bookmarks", [])
            ),
            notes=tuple(
                Note(str(n["id"]), int(n["page"]), str(n["text"])[:MAX_NOTE], int(n["at_ms"]))
                for n in doc.get("notes", [])
            ),
        )
    except (KeyError, TypeError, ValueError):
        return ReadingState(item=key)  # a state this version cannot read starts over rather than failing the reader


class Reading:
    """Sealed per-item reading state. ``listeners`` are called with (item key, progress) when progress grows."""

    def __init__(self, vault: Vault, now_ms: Callable[[], int]) -> None:
        self.vault = vault
        self.now_ms = now_ms
        self.listeners: list[Callable[[str, float], None]] = []

    def state(self, item: ItemRef) -> ReadingState:
        key = item_key(item)
        raw = self.vault.get_secret(_PREFIX + key)
        if raw is None:
            return ReadingState(item=key)
        try:
            doc = json.loads(raw)
        except ValueError:
            return ReadingState(item=key)
        return _load(doc if isinstance(doc, dict) else {}, key)

    def progress(self, item: ItemRef) -> float:
        """How far the person has read ``item``, 0–1 (1: reached the end)."""
        return self.state(item).progress

    def _save(self, before: ReadingState, after: ReadingState) -> ReadingState:
        doc = asdict(after)
        doc.pop("item")
        self.vault.put_secret(_PREFIX + after.item, json.dumps(doc, separators=(",", ":")).encode())
        if after.progress > before.progress:
            for listener in list(self.listeners):
                listener(after.item, after.progress)
        return after

    def opened_page(self, item: ItemRef, page: int, pages: int) -> ReadingState:
        """The person is on ``page`` (0-based) of ``pages``: it is where the item reopens; progress may grow."""
        before = self.state(item)
        pages = max(1, int(pages))
        page = max(0, min(int(page), pages - 1))
        reached = (page + 1) / pages
        after = replace(
            before, page=page, pages=pages, progress=max(before.progress, _clamp(reached)), opened_ms=self.now_ms()
        )
        return self._save(before, after)

    def scrolled(self, item: ItemRef, position: float, seen: float | None = None) -> ReadingState:
        """A non-paged item is at ``position`` (0–1 of its length); ``seen`` is how far its end is (default: same)."""
        before = self.state(item)
        position = _clamp(position)
        reached = _clamp(position if seen is None else seen)
        after = replace(before, position=position, progress=max(before.progress, reached), opened_ms=self.now_ms())
        return self._save(before, after)

    def reset(self, item: ItemRef) -> ReadingState:
        before = self.state(item)
        return self._save(before, replace(before, page=0, progress=0.0, position=0.0))

    def toggle_bookmark(self, item: ItemRef, page: int, label: str = "") -> bool:
        """Bookmark ``page`` or remove its bookmark; True when the page is now bookmarked."""
        before = self.state(item)
        if before.bookmarked(page):
            self._save(before, replace(before, bookmarks=tuple(b for b in before.bookmarks if b.page != page)))
            return False
        if len(before.bookmarks) >= MAX_BOOKMARKS:
            raise ValueError("too many bookmarks")
        mark = Bookmark(max(0, int(page)), label.strip()[:MAX_LABEL], self.now_ms())
        self._save(before, replace(before, bookmarks=tuple(sorted((*before.bookmarks, mark), key=lambda b: b.page))))
        return True

    def add_note(self, item: ItemRef, page: int, text: str) -> Note:
        text = text.strip()
        if not text:
            raise ValueError("empty note")
        before = self.state(item)
        if len(before.notes) >= MAX_NOTES:
            raise ValueError("too many notes")
        note = Note(secrets.token_urlsafe(9), int(page), text[:MAX_NOTE], self.now_ms())
        self._save(before, replace(before, notes=(*before.notes, note)))
        return note

    def remove_note(self, item: ItemRef, note_id: str) -> None:
        before = self.state(item)
        self._save(before, replace(before, notes=tuple(n for n in before.notes if n.id != note_id)))
