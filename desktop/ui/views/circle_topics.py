"""A circle's discussion: its topics (announcements and journal clubs among them) with unread counts, a form to
open a topic or post an announcement, mute, and the open topic's thread."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidgetItem,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.discussions import MAX_TITLE, Topic
from desktop.i18n import _, ngettext
from desktop.ui.common import button, date_of_ms
from desktop.ui.layout import row_of, wrapping_list
from desktop.ui.views.circle_sidebar import labelled
from desktop.ui.views.circle_thread import ThreadPane


def topic_text(topic: Topic, unread: int, muted: bool) -> str:
    if topic.kind == "announcement":
        text = _("Announcement: {title}").format(title=topic.title)
    elif topic.kind == "journal":
        text = _("Journal club, {date}: {title}").format(date=date_of_ms(topic.at or 0), title=topic.title)
    else:
        text = topic.title
    text += " · " + ngettext("{count} reply", "{count} replies", topic.replies).format(count=topic.replies)
    if unread:
        text += " · " + ngettext("{count} unread", "{count} unread", unread).format(count=unread)
    if muted:
        text += " · " + _("muted")
    return text


class TopicForm(QWidget):
    """Open a topic, or (for a lead) post an announcement: a title and a text."""

    post_wanted = Signal(str, str, bool)  # title, text, announcement

    def __init__(self) -> None:
        super().__init__()
        self.announcement = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLineEdit()
        self.title.setAccessibleName(_("Title"))
        self.title.setMaxLength(MAX_TITLE)
        layout.addWidget(labelled(_("&Title:"), self.title))
        layout.addWidget(self.title)
        self.text = QPlainTextEdit()
        self.text.setAccessibleName(_("Text"))
        self.text.setTabChangesFocus(True)
        self.text.setMaximumHeight(80)
        layout.addWidget(self.text)
        row = QHBoxLayout()
        self.post_button = button(_("Po&st"), _("Post"), self._post)
        row.addWidget(self.post_button)
        row.addWidget(button(_("Cancel"), _("Cancel"), self.hide))
        row.addStretch(1)
        layout.addLayout(row)
        self.hide()

    def open(self, announcement: bool) -> None:
        self.announcement = announcement
        self.title.setPlaceholderText(_("What is the announcement?") if announcement else _("What is the topic?"))
        self.post_button.setAccessibleName(_("Post announcement") if announcement else _("Post topic"))
        self.show()
        self.title.setFocus()

    def _post(self) -> None:
        self.post_wanted.emit(self.title.text(), self.text.toPlainText(), self.announcement)

    def done(self) -> None:
        self.title.clear()
        self.text.clear()
        self.hide()


class TopicsPanel(QWidget):
    topic_chosen = Signal(str)
    mute_wanted = Signal(str, bool)

    def __init__(self, me: str) -> None:
        super().__init__()
        self.topics: dict[str, Topic] = {}
        self.muted: set[str] = set()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.new_topic_button = button(_("&New topic"), _("New topic"), lambda: self.form.open(False))
        self.announce_button = button(_("Ann&ounce"), _("Post an announcement"), lambda: self.form.open(True))
        self.mute_button = button(_("&Mute topic"), _("Mute topic"), self._mute)
        self.mute_button.setCheckable(True)
        for widget in (self.new_topic_button, self.announce_button, self.mute_button):
            row.addWidget(widget)
        row.addStretch(1)
        layout.addLayout(row)
        self.form = TopicForm()
        layout.addWidget(self.form)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.topic_list = wrapping_list()
        self.topic_list.setAccessibleName(_("Topics"))
        self.topic_list.setWordWrap(True)
        self.topic_list.currentItemChanged.connect(self._chosen)
        left_layout.addWidget(labelled(_("To&pics:"), self.topic_list))
        left_layout.addWidget(self.topic_list)
        splitter.addWidget(left)
        self.thread = ThreadPane(me)
        splitter.addWidget(self.thread)
        splitter.setSizes([220, 420])
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

    def refresh(self, topics: list[Topic], unread: dict[str, int], muted: set[str], lead: bool) -> None:
        self.announce_button.setVisible(lead)
        self.topics = {t.id: t for t in topics}
        self.muted = muted
        current = self.current()
        self.topic_list.blockSignals(True)
        self.topic_list.clear()
        for topic in topics:
            text = topic_text(topic, unread.get(topic.id, 0), topic.id in muted)
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, topic.id)
            item.setToolTip(text)
            self.topic_list.addItem(item)
            if topic.id == current:
                self.topic_list.setCurrentItem(item)
        self.topic_list.blockSignals(False)
        self._sync_mute()

    def current(self) -> str | None:
        item = self.topic_list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def select(self, topic: str) -> None:
        row = row_of(self.topic_list, topic)
        if row >= 0:
            self.topic_list.setCurrentRow(row)

    def _chosen(self, item: QListWidgetItem | None) -> None:
        self._sync_mute()
        if item is not None:
            self.topic_chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def _sync_mute(self) -> None:
        topic = self.current()
        self.mute_button.setEnabled(topic is not None)
        on = topic in self.muted
        self.mute_button.setChecked(on)
        self.mute_button.setText(_("Un&mute topic") if on else _("&Mute topic"))
        self.mute_button.setAccessibleName(_("Unmute topic") if on else _("Mute topic"))

    def _mute(self) -> None:
        topic = self.current()
        if topic is not None:
            self.mute_wanted.emit(topic, topic not in self.muted)
