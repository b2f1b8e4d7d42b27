"""The digest: what happened in one's circles while away, what matters first (announcements, replies to me,
upcoming journal clubs, the busiest topics, then the rest). Activating a line opens its topic."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QSpinBox, QVBoxLayout, QWidget

from desktop.domain.discussions import DigestItem
from desktop.i18n import _, ngettext
from desktop.ui.common import button, date_of_ms
from desktop.ui.views.circle_sidebar import labelled

DAY_MS = 86_400_000


def group_name(reason: str) -> str:
    return {
        "announcement": _("Announcements"),
        "reply": _("Replies to you"),
        "journal": _("Upcoming journal clubs"),
        "busy": _("Busiest topics"),
        "other": _("Everything else"),
    }[reason]


class DigestPane(QWidget):
    open_topic = Signal(str, str)  # circle, topic
    days_changed = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.days = QSpinBox()
        self.days.setRange(1, 365)
        self.days.setValue(14)
        self.days.setAccessibleName(_("Days to look back"))
        self.days.setSuffix(" " + _("days"))
        row.addWidget(labelled(_("&Since the last:"), self.days))
        row.addWidget(self.days)
        row.addWidget(button(_("&Update"), _("Update the digest"), lambda: self.days_changed.emit(self.days.value())))
        row.addStretch(1)
        layout.addLayout(row)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(_("Digest summary"))
        layout.addWidget(self.summary)
        self.list = QListWidget()
        self.list.setAccessibleName(_("Digest"))
        self.list.setWordWrap(True)
        self.list.itemActivated.connect(self._open)
        layout.addWidget(self.list, 1)

    def show_items(self, items: list[DigestItem], names: dict[str, str]) -> None:
        self.list.clear()
        group = None
        for entry in items:
            if entry.reason != group:
                group = entry.reason
                header = QListWidgetItem(group_name(group))
                font = header.font()
                font.setBold(True)
                header.setFont(font)
                header.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.list.addItem(header)
            who = names.get(entry.author, entry.author[:8])
            if entry.reason == "journal":
                text = _("{date}: {title} ({circle})").format(
                    date=date_of_ms(entry.at or 0), title=entry.title, circle=entry.circle_title
                )
            elif entry.reason in ("busy", "other"):
                text = ngettext(
                    "{title} ({circle}): {count} new post, the last by {name}",
                    "{title} ({circle}): {count} new posts, the last by {name}",
                    entry.count,
                ).format(title=entry.title, circle=entry.circle_title, count=entry.count, name=who)
            elif entry.reason == "reply" and entry.count > 1:
                text = ngettext(
                    "{title} ({circle}): {count} reply to you, the last by {name}: {snippet}",
                    "{title} ({circle}): {count} replies to you, the last by {name}: {snippet}",
                    entry.count,
                ).format(
                    title=entry.title, circle=entry.circle_title, count=entry.count, name=who, snippet=entry.snippet
                )
            else:
                text = _("{title} ({circle}), {name}: {snippet}").format(
                    title=entry.title, circle=entry.circle_title, name=who, snippet=entry.snippet
                )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, (entry.circle, entry.topic))
            item.setToolTip(entry.snippet or text)
            self.list.addItem(item)
        self.summary.setText(
            ngettext("{count} thing to look at.", "{count} things to look at.", len(items)).format(count=len(items))
            if items
            else _("Nothing new in your circles.")
        )

    def _open(self, item: QListWidgetItem) -> None:
        data = item.data(Qt.ItemDataRole.UserRole)
        if data:
            self.open_topic.emit(*data)
