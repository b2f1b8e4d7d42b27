"""Downloading an attachment and saving it elsewhere, for the message selected in the open conversation; a voice
note (audio/ogg) on this computer is loaded into the conversation's player, from the vault, in memory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject

from desktop.domain import voice
from desktop.domain.session import Session
from desktop.i18n import _
from desktop.ui import file_dialogs
from desktop.ui.common import explain
from desktop.ui.views.message_compose import ComposeBox
from desktop.ui.views.message_conversation import ConversationPane
from desktop.ui.worker import Task, run_in_background


class AttachmentActions(QObject):
    """Answers the compose box's Download and Save buttons; says how it went on the box's status line."""

    def __init__(self, session: Session, pane: ConversationPane, box: ComposeBox, refresh: Callable[[], None]):
        super().__init__(box)
        self.session, self.pane, self.box, self.refresh = session, pane, box, refresh
        self.messaging = session.messaging
        self._tasks: set[Task] = set()
        box.download_wanted.connect(self.download)
        box.save_wanted.connect(self.save)
        pane.view.selectionModel().currentChanged.connect(lambda *_args: self.show_player())
        pane.model.modelReset.connect(self.show_player)
        self._playing: str | None = None

    def show_player(self) -> None:
        """The player follows the selected message: a voice note that is here is loaded (once), else it hides."""
        message = self.pane.selected()
        entry = self.messaging.attachment(message.id) if message and self.messaging else None
        data = None
        if message is not None and entry is not None and entry["mime"] == voice.MIME and self.messaging is not None:
            if message.id == self._playing:
                return
            data = self.messaging.attachment_bytes(message.id)
        self._playing = message.id if data is not None and message is not None else None
        self.pane.player.load(data)
        self.pane.player.setVisible(data is not None)

    def download(self) -> None:
        message = self.pane.selected()
        if message is None or self.messaging is None or self.messaging.attachment(message.id) is None:
            self.box.say(_("Select a message with an attachment first."))
            return
        self.box.say(_("Downloading…"))
        messaging = self.messaging

        def done(_result: object) -> None:
            self._tasks.discard(task)
            if messaging.is_open:
                self.box.say(_("The attachment is on this computer."))
                self.refresh()
                self.show_player()

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            self.box.say(explain(exc), error=True)

        task = run_in_background(lambda: self.session.download_attachment(message.id), done, failed)
        self._tasks.add(task)

    def save(self) -> None:
        message = self.pane.selected()
        entry = self.messaging.attachment(message.id) if message and self.messaging else None
        if message is None or entry is None or self.messaging is None:
            self.box.say(_("Select a message with an attachment first."))
            return
        if entry["state"] not in ("downloaded", "pending-upload", "uploaded"):
            self.box.say(_("Download the attachment first."))
            return
        name = file_dialogs.save_file(self.box, _("Save attachment as"), entry["name"])
        if name and self.messaging.export_attachment(message.id, Path(name)):
            self.box.say(_("Saved to {path}.").format(path=name))
