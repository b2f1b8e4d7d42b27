"""List models of the Messages view: conversations, the review queue, and one conversation's messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from desktop.domain.messaging import StoredMessage, Thread
from desktop.domain.review import QueueItem
from desktop.formatting import format_bytes, format_datetime, format_relative
from desktop.i18n import C_, _, is_rtl, ngettext
from desktop.ui.direction import BODY_ROLE, first_strong_isolated, isolated

Index = QModelIndex | QPersistentModelIndex


def state_badge(message: StoredMessage, me: str) -> str:
    if message.author != me:
        return ""
    return {
        "queued": C_("message state", "Queued"),
        "sent": C_("message state", "Sent"),
        "delivered": C_("message state", "Delivered"),
        "read": C_("message state", "Read"),  # has been read, not the verb
    }.get(message.state, message.state)


class ThreadModel(QAbstractListModel):
    def __init__(self, names: dict[str, str], me: str) -> None:
        super().__init__()
        self.threads: list[Thread] = []
        self.names, self.me = names, me

    def set_threads(self, threads: list[Thread], names: dict[str, str]) -> None:
        self.beginResetModel()
        self.threads, self.names = threads, names
        self.endResetModel()

    def mark_seen(self, thread_id: str) -> None:
        """The person opened this thread: its "new" count goes, without rebuilding the list."""
        for row, thread in enumerate(self.threads):
            if thread.id == thread_id and thread.unread:
                self.threads[row] = replace(thread, unread=0)
                self.dataChanged.emit(self.index(row), self.index(row))

    def title(self, thread: Thread) -> str:
        if thread.title:
            return thread.title
        others = [self.names.get(a, _("Someone")) for a in thread.members if a != self.me]
        return ", ".join(others) or _("Notes to self")

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.threads)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        thread = self.threads[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return thread
        if role == BODY_ROLE:  # the row reads in the direction of the last message
            return thread.last.body if thread.last else None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            snippet = thread.last.body.replace("\n", " ")[:60] if thread.last else _("No messages yet")
            title = self.title(thread)
            if thread.unread:  # one whole pattern for the translator, never a piece glued to the title
                title = ngettext(
                    "{conversation} · {count} new message", "{conversation} · {count} new messages", thread.unread
                ).format(conversation=title, count=thread.unread)
            return f"{title}\n{snippet}"
        return None


class QueueModel(QAbstractListModel):
    """The review queue: one line per thread awaiting the mentor's reply, longest wait first."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[QueueItem] = []
        self.names: dict[str, str] = {}
        self.now_ms = 0

    def set_items(self, items: list[QueueItem], names: dict[str, str], now_ms: int) -> None:
        """``now_ms``: the session clock's time, what "waiting since" is told against."""
        self.beginResetModel()
        self.items, self.names, self.now_ms = items, names, now_ms
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self.items[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return item
        if role == BODY_ROLE:
            return item.latest.body
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            who = ", ".join(self.names.get(a, _("Someone")) for a in item.people)
            waited = format_relative(timedelta(milliseconds=item.waiting_since - self.now_ms))
            parts = [who, _("waiting since {when}").format(when=waited)]
            if item.unread:
                parts.append(
                    ngettext("{count} new message", "{count} new messages", item.unread).format(count=item.unread)
                )
            if item.flagged:
                parts.append(_("flagged"))
            return " · ".join(parts) + "\n" + item.latest.body.replace("\n", " ")[:80]
        return None


class ConversationModel(QAbstractListModel):
    def __init__(self, me: str) -> None:
        super().__init__()
        self.me = me
        self.messages: list[StoredMessage] = []
        self.names: dict[str, str] = {}
        self.attachments: dict[str, dict] = {}
        self.marks: dict[str, str] = {}
        self._texts: dict[int, str] = {}

    def set_messages(
        self,
        messages: list[StoredMessage],
        names: dict[str, str],
        attachments: dict[str, dict] | None = None,
        marks: dict[str, str] | None = None,
    ) -> None:
        self.beginResetModel()
        self.messages, self.names = messages, names
        self.attachments, self.marks = attachments or {}, marks or {}
        self._texts: dict[int, str] = {}
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.messages)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        message = self.messages[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return message
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            text = self._texts.get(index.row())
            if text is None:  # a view asks for each row many times while laying out: format it once
                text = self._texts[index.row()] = self._text(message)
            return text
        if role == BODY_ROLE:  # a message reads in its own direction, whatever the UI language (BidiDelegate)
            return message.body
        return None

    def _text(self, message: StoredMessage) -> str:
        who = _("You") if message.author == self.me else self.names.get(message.author, _("Someone"))
        when = format_datetime(datetime.fromtimestamp(message.sent_at / 1000, UTC).astimezone(), "short")
        badge = state_badge(message, self.me)
        mark = {"edited": _("edited"), "deleted": _("deleted")}.get(self.marks.get(message.id, ""), "")
        # the UI's line, isolated in the UI's direction: the message below may be written the other way
        parts = (first_strong_isolated(part) for part in (who, when, badge, mark) if part)
        head = isolated(" · ".join(parts), is_rtl())
        if self.marks.get(message.id) == "deleted":
            return f"{head}\n" + _("This message was deleted.")
        text = f"{head}\n{message.body}" if message.body else head
        entry = self.attachments.get(message.id)
        if entry is not None:
            where = (
                _("on this computer")
                if entry["state"] in ("downloaded", "pending-upload", "uploaded")
                else _("select it and press Download")
            )
            text += "\n" + _("Attachment: {name} ({size}), {where}").format(
                name=entry["name"], size=format_bytes(entry["size"]), where=where
            )
        return text
