"""One open topic: its opening post and replies as a tree (Qt indents it, and mirrors it right to left), and the
box to reply to the topic or to the chosen post, or to edit one's own post."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from desktop.domain.discussions import MAX_TEXT, Post
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button, date_of_ms
from desktop.ui.views.circle_sidebar import labelled, role_name


class ThreadPane(QWidget):
    reply_wanted = Signal(str, str)  # text, parent post id
    edit_wanted = Signal(str, str)  # post id, text
    delete_wanted = Signal(str)  # post id

    def __init__(self, me: str) -> None:
        super().__init__()
        self.me = me
        self.topic: str | None = None
        self.editing: str | None = None
        self.posts: dict[str, Post] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setAccessibleName(_("Topic"))
        layout.addWidget(self.title)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setAccessibleName(_("Posts in this topic"))
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.currentItemChanged.connect(self._post_chosen)
        layout.addWidget(self.tree, 3)
        self.box = QPlainTextEdit()
        self.box.setAccessibleName(_("Your reply"))
        self.box.setPlaceholderText(_("Reply to the topic, or to the post you chose above…"))
        self.box.setTabChangesFocus(True)
        self.box.setMaximumHeight(90)
        self.box.textChanged.connect(self._count)
        layout.addWidget(labelled(_("&Reply:"), self.box))
        layout.addWidget(self.box)
        row = QHBoxLayout()
        self.reply_button = button(_("Send repl&y"), _("Send reply"), self._send)
        self.reply_button.setToolTip(_("Send reply (Ctrl+Enter)"))
        QShortcut(QKeySequence("Ctrl+Return"), self.box, activated=self._send)
        self.edit_button = button(_("&Edit"), _("Edit your post"), self._start_edit)
        self.delete_button = button(_("&Delete"), _("Delete your post"), self._delete)
        self.counter = QLabel()
        self.counter.setAccessibleName(_("Characters"))
        row.addWidget(self.reply_button)
        row.addWidget(self.edit_button)
        row.addWidget(self.delete_button)
        row.addStretch(1)
        row.addWidget(self.counter)
        layout.addLayout(row)
        self.status = LiveLabel(assertive=True)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Reply status"))
        layout.addWidget(self.status)
        self.show_posts(None, "", [], {})

    def say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def _count(self) -> None:
        n = len(self.box.toPlainText())
        self.counter.setText(_("{count} / {limit}").format(count=f"{n:,}", limit=f"{MAX_TEXT:,}"))
        self.counter.setStyleSheet(ERROR_STYLE if n > MAX_TEXT else "")

    def show_posts(self, topic: str | None, title: str, posts: list[Post], names: dict[str, str]) -> None:
        """``posts`` depth first (``discussion_fold.thread``): each hangs under the nearest shallower one."""
        keep = self.current_post() if topic == self.topic else None
        self.topic = topic
        self.title.setText(title)
        self.posts = {p.id: p for p in posts}
        self.tree.setUpdatesEnabled(False)
        self.tree.clear()
        parents: list[QTreeWidgetItem] = []
        chosen = None
        for post in posts:
            who = names.get(post.author, post.author[:8])
            if post.role and post.role != "member":
                who = _("{name} ({role})").format(name=who, role=role_name(post.role))
            text = _("[deleted]") if post.deleted else post.text
            head = _("{name}, {date}").format(name=who, date=date_of_ms(post.hlc >> 16))
            if post.edited and not post.deleted:
                head += " " + _("(edited)")
            item = QTreeWidgetItem([f"{head}\n{text}" if text else head])
            item.setData(0, Qt.ItemDataRole.UserRole, post.id)
            item.setData(0, Qt.ItemDataRole.AccessibleTextRole, f"{head}. {text}")
            depth = post.depth
            del parents[depth:]
            if parents:
                parents[-1].addChild(item)
            else:
                self.tree.addTopLevelItem(item)
            parents.append(item)
            if post.id == keep:
                chosen = item
        self.tree.expandAll()
        self.tree.setUpdatesEnabled(True)
        if chosen is not None:
            self.tree.setCurrentItem(chosen)
        self.set_enabled(topic is not None)
        self._post_chosen()

    def set_enabled(self, on: bool) -> None:
        for widget in (self.box, self.reply_button):
            widget.setEnabled(on)

    def current_post(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)

    def _post_chosen(self, *_args: object) -> None:
        post = self.posts.get(self.current_post() or "")
        own = post is not None and post.author == self.me and not post.deleted
        self.edit_button.setEnabled(own)
        self.delete_button.setEnabled(own)

    def _send(self) -> None:
        if self.topic is None:
            return
        text = self.box.toPlainText()
        if self.editing is not None:
            self.edit_wanted.emit(self.editing, text)
        else:
            self.reply_wanted.emit(text, self.current_post() or self.topic)

    def _start_edit(self) -> None:
        post = self.posts.get(self.current_post() or "")
        if post is None:
            return
        self.editing = post.id
        self.box.setPlainText(post.text)
        self.reply_button.setText(_("Sa&ve edit"))
        self.reply_button.setAccessibleName(_("Save edit"))
        self.box.setFocus()

    def _delete(self) -> None:
        post_id = self.current_post()
        if post_id is not None:
            self.delete_wanted.emit(post_id)

    def sent(self) -> None:
        self.editing = None
        self.box.clear()
        self.reply_button.setText(_("Send repl&y"))
        self.reply_button.setAccessibleName(_("Send reply"))
