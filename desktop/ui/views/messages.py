"""Messages: conversations (threads on the left, the open conversation on the right), written offline, each
message showing queued → sent → delivered → read; drafts kept in the vault; search over every message.

The screen is three parts, each its own widget: the conversation list and review queue (``message_sidebar``), the
open conversation (``message_conversation``) and the message box with its buttons (``message_compose``). This
view lays them out and does what needs more than one of them."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from desktop.domain import voice
from desktop.domain.message_format import MAX_ATTACHMENT
from desktop.domain.messaging import MissingKeys, StoredMessage
from desktop.domain.session import Session
from desktop.formatting import format_bytes
from desktop.i18n import _, ngettext
from desktop.ui.common import ERROR_STYLE, button
from desktop.ui.layout import RememberedSplitter
from desktop.ui.views.message_attachments import AttachmentActions
from desktop.ui.views.message_compose import ComposeBox
from desktop.ui.views.message_conversation import ConversationPane
from desktop.ui.views.message_sidebar import ConversationSidebar
from desktop.ui.views.new_group import NewGroupDialog


class MessagesView(QWidget):
    navigate = Signal(str)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.messaging = session.messaging
        self.me = session.program.credentials.account.hex()
        self.current: str | None = None
        self.editing: str | None = None
        self.group_dialog: NewGroupDialog | None = None
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
        self.new_group_button = button(_("New &group…"), _("New group"), self._new_group)
        self.new_group_button.setToolTip(_("Start a group conversation (Ctrl+G)"))
        QShortcut(QKeySequence("Ctrl+G"), self, activated=self._new_group)
        top.addWidget(self.new_group_button)
        top.addWidget(
            button(
                _("Find a &mentor to write to"), _("Find a mentor to write to"), lambda: self.navigate.emit("mentors")
            )
        )
        layout.addLayout(top)

        self.sidebar = ConversationSidebar(session, self.me)
        self.sidebar.thread_chosen.connect(self._thread_chosen)
        self.pane = ConversationPane(self.me)
        self.pane.view.activated.connect(self._hit_chosen)
        self.pane.view.clicked.connect(self._hit_chosen)
        self.queued_note: str | None = None  # the message "Queued: …" speaks of, while it is queued
        self.searching = False
        self.box = ComposeBox(session)
        self.box.send_wanted.connect(self._send)
        self.box.recorder.send_wanted.connect(self._send_voice)
        self.box.draft_due.connect(self._save_draft)
        self.box.edit_wanted.connect(self._start_edit)
        self.box.delete_wanted.connect(self._delete)
        queue = self.sidebar.queue
        queue.reply_wanted.connect(self.compose_focus)
        queue.templates_wanted.connect(self.box.focus_templates)
        queue.said.connect(self.box.say)
        self.attachments = AttachmentActions(session, self.pane, self.box, self.refresh)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.pane, 1)
        right_layout.addWidget(self.box)
        splitter = RememberedSplitter("messages", session.settings_store, [300, 640])
        splitter.addWidget(self.sidebar)
        splitter.addWidget(right)
        layout.addWidget(splitter, 1)

        # The parts' widgets by the names the rest of the app and the tests use.
        self.queue_toggle, self.queue = self.sidebar.queue_toggle, queue
        self.thread_model, self.thread_list = self.sidebar.thread_model, self.sidebar.thread_list
        self.title, self.fingerprints = self.pane.title, self.pane.fingerprints
        self.conversation, self.conversation_model = self.pane.view, self.pane.model
        box = self.box
        self.compose, self.send_button, self.status, self.attached = (
            box.compose,
            box.send_button,
            box.status,
            box.attached,
        )
        self.attach_button, self.download_button, self.save_button = (
            box.attach_button,
            box.download_button,
            box.save_button,
        )
        self.edit_button, self.delete_button = box.edit_button, box.delete_button
        self.templates, self.save_template = box.templates, box.save_template

        self.box.set_enabled(False)
        if self.messaging is None:
            self.box.say(_("This device has no encryption key yet: join your programme again to write messages."))
        self.refresh()

    # -- data -----------------------------------------------------------------------------------------------

    @property
    def pending_attachment(self):  # type: ignore[no-untyped-def]
        return self.box.pending_attachment

    def set_attachment(self, path) -> None:  # type: ignore[no-untyped-def]
        self.box.set_attachment(path)

    def _names(self) -> dict[str, str]:
        return {card.account: card.name for card in self.session.cards()}

    def refresh(self, keep: str | None = None) -> None:
        if self.messaging is None:
            return
        names = self._names()
        # A conversation nobody wrote in yet (a mentorship request opens one for its keys) is listed only while
        # it is open: "No messages yet" rows say nothing.
        shown = {keep, self.current}
        threads = [t for t in self.messaging.threads() if t.last is not None or t.title or t.id in shown]
        self.sidebar.refresh(threads, names)
        self.box.refresh_templates()
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
            self.box.say(
                ngettext(
                    "{count} incoming item could not be opened (damaged, forged or not for you) and was not shown.",
                    "{count} incoming items could not be opened (damaged, forged or not for you) and were not shown.",
                    self.messaging.refused,
                ).format(count=self.messaging.refused),
                error=True,
            )
        if self.current is not None:
            self._show_thread(self.current, names)
        self._forget_queued_note()

    def _forget_queued_note(self) -> None:
        """ "Queued: …" is true only while that message waits: once it is sent, or another conversation opens,
        the line goes."""
        if self.queued_note is None or self.messaging is None:
            return
        message = self.messaging.message(self.queued_note)
        if message is None or message.state != "queued" or message.thread_id != self.current:
            self.queued_note = None
            self.box.say("")

    def clear(self) -> None:
        self.sidebar.clear()
        self.pane.clear()
        self.box.clear()

    # -- conversations --------------------------------------------------------------------------------------

    def open_with(self, account: str) -> None:
        """Open (or start) the 1:1 conversation with ``account``."""
        if self.messaging is None:
            return
        thread = self.messaging.start_direct(account)
        self.refresh(keep=thread)
        self.open_thread(thread)

    def open_thread(self, thread_id: str) -> None:
        if not self.sidebar.select(thread_id) or self.current != thread_id:
            self._show_thread(thread_id, self._names())

    def _thread_chosen(self, thread_id: str, names: dict[str, str]) -> None:
        if thread_id != self.current:
            self._save_draft()
            self._show_thread(thread_id, names)

    def _show_thread(self, thread_id: str, names: dict[str, str]) -> None:
        assert self.messaging is not None
        changing = thread_id != self.current or self.searching
        self.current, self.searching = thread_id, False
        meta = self.messaging.thread(thread_id) or {"members": [], "title": ""}
        others = [a for a in meta["members"] if a != self.me]
        self.pane.set_title(meta.get("title") or ", ".join(names.get(a, _("Someone")) for a in others))
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
        self.pane.show_messages(
            self.messaging.in_thread(thread_id),
            names,
            self.messaging.attachments(),
            self.messaging.marks(),
            keep_selection=not changing,
        )
        if changing:
            self.conversation.scrollToBottom()
            self.box.set_text(self.messaging.draft(thread_id))
            self._forget_queued_note()
        self.box.set_enabled(True)

    def _save_draft(self) -> None:
        if self.current is not None and self.messaging is not None and self.messaging.is_open:
            self.messaging.put_draft(self.current, self.box.text())

    def compose_focus(self) -> None:
        self.compose.setFocus()

    # -- sending --------------------------------------------------------------------------------------------

    def _send(self) -> None:
        attachment = self.box.pending_attachment
        if self.current is None or self.messaging is None or not (self.box.text().strip() or attachment):
            return
        self.box.say("")
        if self.editing is not None:
            self.messaging.edit(self.editing, self.box.text())
            self.editing = None
            self.compose.clear()
            self.box.say(_("Edited: the change goes out with the next sync."))
            self.session.scheduler.local_change()
            self.refresh()
            return
        try:
            sent = self.messaging.send(self.current, self.box.text(), attachment)
        except ValueError as exc:
            limit = _("That file is too large: attachments are limited to {size}.")
            self.box.say(limit.format(size=format_bytes(MAX_ATTACHMENT)) if attachment else str(exc), error=True)
            return
        except MissingKeys:
            self.box.say(
                _(
                    "This person has not published security keys yet, so Osler cannot encrypt to them. "
                    "Your draft is kept; try again after the next sync."
                ),
                error=True,
            )
            return
        self.box.draft_timer.stop()
        self.compose.clear()
        self.box.set_attachment(None)
        self.session.scheduler.local_change()
        self.refresh()
        self.queued_note = sent
        self.box.say(_("Queued: it goes out with the next sync."))

    def _send_voice(self, note: bytes) -> None:
        """The recorder's Send: the note goes sealed as an audio/ogg attachment, with any text typed beside it."""
        recorder = self.box.recorder
        if self.current is None or self.messaging is None:
            recorder.say(_("Open a conversation first."), error=True)
            return
        try:
            sent = self.messaging.send(self.current, self.box.text(), voice.attachment(note))
        except voice.VoiceError as exc:
            recorder.say(str(exc), error=True)
            return
        except MissingKeys:
            text = _("This person has not published security keys yet. Try again after the next sync.")
            recorder.say(text, error=True)
            return
        self.box.draft_timer.stop()
        self.compose.clear()
        recorder.sent()
        self.session.scheduler.local_change()
        self.refresh()
        self.queued_note = sent
        self.box.say(_("Queued: it goes out with the next sync."))

    def group_candidates(self) -> list[tuple[str, str]]:
        """People who can be written to (they published keys), by name."""
        return sorted(
            ((c.account, c.name) for c in self.session.cards() if c.keys is not None and c.account != self.me),
            key=lambda pair: pair[1].casefold(),
        )

    def _new_group(self) -> None:
        """The new-group dialog (New group… or Ctrl+G), window-modal; OK starts the group."""
        if self.messaging is None:
            return
        self.group_dialog = NewGroupDialog(self.group_candidates(), self)
        dialog = self.group_dialog
        dialog.accepted.connect(lambda: self.create_group(dialog.title.text(), dialog.chosen()))
        dialog.open()
        dialog.title.setFocus()

    def create_group(self, title: str, members: list[str]) -> str | None:
        if self.messaging is None:
            return None
        try:
            thread = self.messaging.start_group(title or _("Group"), members)
        except ValueError:
            self.box.say(_("A group has 2 to 20 people, you included: tick between 1 and 19 others."), error=True)
            return None
        self.refresh(keep=thread)
        self.open_thread(thread)
        return thread

    # -- edit and delete ------------------------------------------------------------------------------------

    def _own_selected(self) -> StoredMessage | None:
        message = self.pane.selected()
        if message is None or message.author != self.me or self.messaging.marks().get(message.id) == "deleted":
            self.box.say(_("Select one of your own messages first."))
            return None
        return message

    def _start_edit(self) -> None:
        message = self._own_selected()
        if message is not None:
            self.editing = message.id
            self.compose.setPlainText(message.body)
            self.compose.setFocus()
            self.box.say(_("Editing your message: Send replaces it for everyone."))

    def _delete(self) -> None:
        message = self._own_selected()
        if message is not None:
            self.messaging.delete(message.id)
            self.box.say(_("Deleted: it disappears for everyone at the next sync."))
            self.session.scheduler.local_change()
            self.refresh()

    # -- search ---------------------------------------------------------------------------------------------

    def _search(self) -> None:
        if self.messaging is None:
            return
        query = self.search.text()
        hits = self.messaging.search(query) if query.strip() else []
        if not query.strip():
            self.refresh()
            return
        self._save_draft()
        self.current, self.searching = None, True
        self.pane.set_title(
            ngettext("{count} message found", "{count} messages found", len(hits)).format(count=len(hits))
        )
        self.fingerprints.setText(_("Open a result (Enter or a click) to see its conversation."))
        self.pane.show_messages(hits, self._names())
        self.box.set_enabled(False)
        if hits:
            self.conversation.setCurrentIndex(self.conversation_model.index(0))
            self.conversation.setFocus()

    def _hit_chosen(self, index: QModelIndex) -> None:
        """A search result opens its conversation."""
        message = index.data(Qt.ItemDataRole.UserRole) if self.searching else None
        if message is not None:
            self.open_thread(message.thread_id)
            self.pane.select(message.id)
