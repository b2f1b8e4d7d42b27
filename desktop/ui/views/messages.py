"""Messages: conversations (threads on the left, the open conversation on the right), written offline, each
message showing queued → sent → delivered → read; drafts kept in the vault; search over every message."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import review
from desktop.domain.messaging import MissingKeys, Thread
from desktop.domain.session import Session
from desktop.i18n import _, format_bytes, ngettext
from desktop.ui.common import ERROR_STYLE, button, explain, heading
from desktop.ui.layout import ElidedLabel, FlowLayout, RememberedSplitter, empty_state
from desktop.ui.theme import primary
from desktop.ui.views.message_models import ConversationModel, ThreadModel
from desktop.ui.views.new_group import NewGroupDialog
from desktop.ui.views.review_queue import ReviewQueuePanel, queue_button_text
from desktop.ui.worker import Task, run_in_background
from desktop.vault import StoredMessage


class MessagesView(QWidget):
    navigate = Signal(str)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.messaging = session.messaging
        self.me = session.program.credentials.account.hex()
        self.current: str | None = None
        self.setAccessibleName(_("Messages"))
        layout = QVBoxLayout(self)
        self.keys_banner = QLabel()
        self.keys_banner.setWordWrap(True)
        self.keys_banner.setStyleSheet(ERROR_STYLE)
        self.keys_banner.setAccessibleName(_("Key change warning"))
        self.keys_banner.hide()
        layout.addWidget(self.keys_banner)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setAccessibleName(_("Search messages"))
        self.search.setPlaceholderText(_("Search all messages…"))
        self.search.returnPressed.connect(self._search)
        search_label = QLabel(_("Sea&rch:"))
        search_label.setBuddy(self.search)
        top.addWidget(search_label)
        top.addWidget(self.search, 1)
        top.addWidget(
            button(
                _("Find a &mentor to write to"), _("Find a mentor to write to"), lambda: self.navigate.emit("mentors")
            )
        )
        layout.addLayout(top)

        splitter = RememberedSplitter("messages", session.settings_store, [300, 640])
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.queue_toggle = button(_("Review &queue"), _("Review queue"), self._toggle_queue)
        self.queue_toggle.setCheckable(True)
        self.queue_toggle.setToolTip(_("Every conversation awaiting your reply, longest wait first"))
        left_layout.addWidget(self.queue_toggle)
        self.lists = QStackedWidget()
        self.thread_model = ThreadModel({}, self.me)
        self.thread_list = QListView()
        self.thread_list.setModel(self.thread_model)
        self.thread_list.setAccessibleName(_("Conversations"))
        self.thread_list.setWordWrap(True)
        self.thread_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.thread_list.selectionModel().currentChanged.connect(self._thread_chosen)
        empty_state(self.thread_list, _("No conversations yet. Find a mentor and write to them to start one."))
        self.queue = ReviewQueuePanel(session)
        self.queue.thread_chosen.connect(self._queue_chosen)
        self.queue.reply_wanted.connect(self.compose_focus)
        self.queue.templates_wanted.connect(self._focus_templates)
        self.queue.said.connect(lambda text: self.status.setText(text))
        self.queue.count_changed.connect(lambda n: self.queue_toggle.setText(queue_button_text(n)))
        self.lists.addWidget(self.thread_list)
        self.lists.addWidget(self.queue)
        left_layout.addWidget(self.lists, 1)
        splitter.addWidget(left)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.title = heading(_("No conversation open"), 1.2)
        self.fingerprints = QLabel()
        self.fingerprints.setWordWrap(True)
        self.fingerprints.setAccessibleName(_("Safety numbers"))
        self.fingerprints.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.conversation_model = ConversationModel(self.me)
        self.conversation = QListView()
        self.conversation.setModel(self.conversation_model)
        self.conversation.setAccessibleName(_("Conversation"))
        self.conversation.setWordWrap(True)
        self.conversation.setSpacing(4)
        self.conversation.setLayoutMode(QListView.LayoutMode.Batched)  # long threads paint before they are laid out
        self.conversation.setBatchSize(60)
        self.compose = QPlainTextEdit()
        self.compose.setAccessibleName(_("Message to send"))
        self.compose.setPlaceholderText(
            _("Write a message. It is kept as a draft and sent when a connection is there.")
        )
        self.compose.setMaximumHeight(110)
        self.compose.setTabChangesFocus(True)
        self.send_button = primary(button(_("&Send"), _("Send"), self._send))
        self.send_button.setToolTip(_("Send (Ctrl+Enter)"))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Messages status"))
        right_layout.addWidget(self.title)
        right_layout.addWidget(self.fingerprints)
        right_layout.addWidget(self.conversation, 1)
        right_layout.addWidget(self.compose)
        files = FlowLayout()  # wraps at 200 % instead of widening the window
        self.attach_button = button(_("&Attach a file…"), _("Attach a file"), self._choose_attachment)
        self.attached = ElidedLabel()  # a long file name is elided, whole in the tooltip
        self.attached.setAccessibleName(_("Attached file"))
        self.download_button = button(_("Do&wnload attachment"), _("Download attachment"), self._download)
        self.save_button = button(_("Save attachment &as…"), _("Save attachment as"), self._save_attachment)
        self.edit_button = button(_("&Edit"), _("Edit message"), self._start_edit)
        self.delete_button = button(_("De&lete"), _("Delete message"), self._delete)
        self.editing: str | None = None
        right_layout.addWidget(self.attached)
        for widget in (
            self.attach_button,
            self.download_button,
            self.save_button,
            self.edit_button,
            self.delete_button,
        ):
            files.addWidget(widget)
        right_layout.addLayout(files)
        self.pending_attachment: Path | None = None
        row = QHBoxLayout()
        self.templates = QComboBox()
        self.templates.setAccessibleName(_("Reply templates"))
        self.templates.activated.connect(self._insert_template)
        self.save_template = button(_("Save as &template"), _("Save as template"), self._save_template)
        row.addWidget(self.templates)
        row.addWidget(self.save_template)
        row.addWidget(self.status, 1)
        row.addWidget(self.send_button)
        right_layout.addLayout(row)
        splitter.addWidget(right)
        layout.addWidget(splitter, 1)
        QShortcut(QKeySequence("Ctrl+Return"), self.compose, activated=self._send)
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(600)
        self._draft_timer.timeout.connect(self._save_draft)
        self.compose.textChanged.connect(self._draft_timer.start)
        self._tasks: set[Task] = set()
        self._set_enabled(False)
        if self.messaging is None:
            self.status.setText(
                _("This device has no encryption key yet: join your programme again to write messages.")
            )
        self.refresh()

    # -- data -----------------------------------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        return {card.account: card.name for card in self.session.cards()}

    def refresh(self) -> None:
        if self.messaging is None:
            return
        names = self._names()
        self.thread_model.set_threads(self.messaging.threads(), names)
        self.queue.refresh(names)
        self._refresh_templates()
        changed = self.messaging.key_changes()
        if changed:
            self.keys_banner.setText(
                _(
                    "The security keys of {names} changed. Before you share anything sensitive, "
                    "compare safety numbers with them."
                ).format(names=", ".join(sorted(changed.values())))
            )
        self.keys_banner.setVisible(bool(changed))
        if self.messaging.refused:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(
                ngettext(
                    "{count} incoming item could not be opened (damaged, forged or not for you) and was not shown.",
                    "{count} incoming items could not be opened (damaged, forged or not for you) and were not shown.",
                    self.messaging.refused,
                ).format(count=self.messaging.refused)
            )
        if self.current is not None:
            self._show_thread(self.current, names)

    def clear(self) -> None:
        self.thread_model.set_threads([], {})
        self.queue.clear()
        self.templates.clear()
        self.conversation_model.set_messages([], {})
        self.compose.blockSignals(True)
        self.compose.clear()
        self.compose.blockSignals(False)

    def _set_enabled(self, enabled: bool) -> None:
        self.compose.setEnabled(enabled)
        self.send_button.setEnabled(enabled)

    # -- actions --------------------------------------------------------------------------------------------

    def open_with(self, account: str) -> None:
        """Open (or start) the 1:1 conversation with ``account``."""
        if self.messaging is None:
            return
        thread = self.messaging.start_direct(account)
        self.refresh()
        self.open_thread(thread)

    def open_thread(self, thread_id: str) -> None:
        for row in range(self.thread_model.rowCount()):
            index = self.thread_model.index(row)
            if index.data(Qt.ItemDataRole.UserRole).id == thread_id:
                self.thread_list.setCurrentIndex(index)
                return
        self._show_thread(thread_id, self._names())

    def _thread_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        thread: Thread | None = current.data(Qt.ItemDataRole.UserRole) if current.isValid() else None
        if thread is not None:
            self._save_draft()
            self._show_thread(thread.id, self.thread_model.names)

    def _show_thread(self, thread_id: str, names: dict[str, str]) -> None:
        assert self.messaging is not None
        changing = thread_id != self.current
        self.current = thread_id
        meta = self.messaging.thread(thread_id) or {"members": [], "title": ""}
        others = [a for a in meta["members"] if a != self.me]
        title = meta.get("title") or ", ".join(names.get(a, _("Someone")) for a in others)
        self.title.setText(title)
        self.title.setAccessibleName(title)
        numbers = []
        peers = self.messaging.peers()
        for account in others:
            peer = peers.get(account)
            if peer is not None:
                numbers.append(
                    _("{name}: {number}").format(name=names.get(account, account[:8]), number=peer.fingerprint)
                )
        mine = peers[self.me].fingerprint
        self.fingerprints.setText(
            _(
                "Safety numbers (compare them with the other person to be sure nobody is in between): "
                "you {mine}; {theirs}"
            ).format(mine=mine, theirs="; ".join(numbers) or "–")
        )
        if self.messaging.mark_read(thread_id):
            self.thread_model.mark_seen(thread_id)
            self.session.scheduler.local_change()
        self.conversation_model.set_messages(
            self.session.vault.messages.in_thread(thread_id),
            names,
            self.messaging.attachments(),
            self.messaging.marks(),
        )
        self.conversation.scrollToBottom()
        if changing:
            self.compose.blockSignals(True)
            self.compose.setPlainText(self.session.vault.threads.draft(thread_id))
            self.compose.blockSignals(False)
        self._set_enabled(True)

    def _save_draft(self) -> None:
        if self.current is not None and self.messaging is not None and not self.session.vault.is_locked:
            self.session.vault.threads.put_draft(self.current, self.compose.toPlainText())

    def _send(self) -> None:
        has_text = bool(self.compose.toPlainText().strip())
        if self.current is None or self.messaging is None or not (has_text or self.pending_attachment):
            return
        self.status.setStyleSheet("")
        if self.editing is not None:
            self.messaging.edit(self.editing, self.compose.toPlainText())
            self.editing = None
            self.compose.clear()
            self.status.setText(_("Edited: the change goes out with the next sync."))
            self.session.scheduler.local_change()
            self.refresh()
            return
        try:
            self.messaging.send(self.current, self.compose.toPlainText(), self.pending_attachment)
        except ValueError as exc:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(
                _("That file is too large: attachments are limited to 25 MB.") if self.pending_attachment else str(exc)
            )
            return
        except MissingKeys:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(
                _(
                    "This person has not published security keys yet, so Osler cannot encrypt to them. "
                    "Your draft is kept; try again after the next sync."
                )
            )
            return
        self._draft_timer.stop()
        self.compose.clear()
        self.set_attachment(None)
        self.status.setText(_("Queued: it goes out with the next sync."))
        self.session.scheduler.local_change()
        self.refresh()

    def group_candidates(self) -> list[tuple[str, str]]:
        """People who can be written to (they published keys), by name."""
        return sorted(
            ((c.account, c.name) for c in self.session.cards() if c.keys is not None and c.account != self.me),
            key=lambda pair: pair[1].casefold(),
        )

    def _new_group(self) -> None:
        dialog = NewGroupDialog(self.group_candidates(), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.create_group(dialog.title.text(), dialog.chosen())

    def create_group(self, title: str, members: list[str]) -> str | None:
        if self.messaging is None:
            return None
        try:
            thread = self.messaging.start_group(title or _("Group"), members)
        except ValueError:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(_("A group has 2 to 20 people, you included: tick between 1 and 19 others."))
            return None
        self.refresh()
        self.open_thread(thread)
        return thread

    # -- edit and delete ------------------------------------------------------------------------------------

    def _own_selected(self) -> StoredMessage | None:
        message = self._selected_message()
        if message is None or message.author != self.me or self.messaging.marks().get(message.id) == "deleted":
            self.status.setText(_("Select one of your own messages first."))
            return None
        return message

    def _start_edit(self) -> None:
        message = self._own_selected()
        if message is not None:
            self.editing = message.id
            self.compose.setPlainText(message.body)
            self.compose.setFocus()
            self.status.setText(_("Editing your message: Send replaces it for everyone."))

    def _delete(self) -> None:
        message = self._own_selected()
        if message is not None:
            self.messaging.delete(message.id)
            self.status.setText(_("Deleted: it disappears for everyone at the next sync."))
            self.session.scheduler.local_change()
            self.refresh()

    # -- attachments ----------------------------------------------------------------------------------------

    def set_attachment(self, path: Path | None) -> None:
        self.pending_attachment = path
        self.attached.setText(
            _("{name} ({size}) will be sent with the message").format(
                name=path.name, size=format_bytes(path.stat().st_size)
            )
            if path
            else ""
        )

    def _choose_attachment(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(self, _("Attach a file"))
        if name:
            self.set_attachment(Path(name))

    def _selected_message(self) -> StoredMessage | None:
        index = self.conversation.currentIndex()
        return index.data(Qt.ItemDataRole.UserRole) if index.isValid() else None

    def _download(self) -> None:
        message = self._selected_message()
        if message is None or self.messaging is None or self.messaging.attachment(message.id) is None:
            self.status.setText(_("Select a message with an attachment first."))
            return
        self.status.setText(_("Downloading…"))

        def done(_result: object) -> None:
            self._tasks.discard(task)
            if not self.session.vault.is_locked:
                self.status.setText(_("The attachment is on this computer."))
                self.refresh()

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(explain(exc))

        task = run_in_background(lambda: self.session.download_attachment(message.id), done, failed)
        self._tasks.add(task)

    def _save_attachment(self) -> None:
        message = self._selected_message()
        entry = self.messaging.attachment(message.id) if message and self.messaging else None
        if entry is None or entry["state"] not in ("downloaded", "pending-upload", "uploaded"):
            self.status.setText(_("Download the attachment first."))
            return
        name, _filter = QFileDialog.getSaveFileName(self, _("Save attachment as"), entry["name"])
        if name:
            self.session.vault.blobs.export(entry["plain"], Path(name))
            self.status.setText(_("Saved to {path}.").format(path=name))

    # -- review queue ---------------------------------------------------------------------------------------

    def _toggle_queue(self) -> None:
        on = self.queue_toggle.isChecked()
        self.lists.setCurrentWidget(self.queue if on else self.thread_list)
        if on:
            self.queue.enter()
        else:
            self.thread_list.setFocus()

    def _queue_chosen(self, thread_id: str, names: dict[str, str]) -> None:
        if thread_id != self.current:
            self._save_draft()
            self._show_thread(thread_id, names)

    def compose_focus(self) -> None:
        self.compose.setFocus()

    # -- templates ------------------------------------------------------------------------------------------

    def _refresh_templates(self) -> None:
        self.templates.blockSignals(True)
        self.templates.clear()
        self.templates.addItem(_("Insert a template…"), "")
        for template in review.templates(self.session.vault):
            self.templates.addItem(template["title"], template["text"])
        self.templates.blockSignals(False)

    def _focus_templates(self) -> None:
        self.templates.setFocus()
        self.templates.showPopup()

    def _insert_template(self, index: int) -> None:
        text = self.templates.itemData(index)
        if text:
            self.compose.insertPlainText(text)
            self.compose.setFocus()
        self.templates.setCurrentIndex(0)

    def _save_template(self) -> None:
        text = self.compose.toPlainText().strip()
        if not text:
            self.status.setText(_("Write the template's text in the message box first."))
            return
        title = text.splitlines()[0][:40]
        review.save_template(self.session.vault, title, text)
        self._refresh_templates()
        self.status.setText(_("Saved as template “{title}”.").format(title=title))

    def _search(self) -> None:
        if self.messaging is None:
            return
        query = self.search.text()
        hits = self.messaging.search(query) if query.strip() else []
        if not query.strip():
            self.refresh()
            return
        self.current = None
        self.title.setText(_("{count} messages found").format(count=len(hits)))
        self.fingerprints.clear()
        self.conversation_model.set_messages(hits, self._names())
        self._set_enabled(False)
