"""The open conversation in Messages: its title, the safety numbers, and the messages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListView, QVBoxLayout, QWidget

from desktop.domain.messaging import StoredMessage
from desktop.i18n import _
from desktop.ui.common import heading
from desktop.ui.direction import BidiDelegate
from desktop.ui.views.message_models import ConversationModel
from desktop.ui.views.voice_note import VoicePlayer


class ConversationPane(QWidget):
    """One conversation's messages (or the hits of a search), under its title and safety numbers."""

    def __init__(self, me: str) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = heading(_("No conversation open"), 1.2)
        self.fingerprints = QLabel()
        self.fingerprints.setWordWrap(True)
        self.fingerprints.setAccessibleName(_("Safety numbers"))
        self.fingerprints.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = ConversationModel(me)
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(BidiDelegate(self.view))
        self.view.setAccessibleName(_("Conversation"))
        self.view.setWordWrap(True)
        self.view.setSpacing(4)
        self.view.setLayoutMode(QListView.LayoutMode.Batched)  # long threads paint before they are laid out
        self.view.setBatchSize(60)
        layout.addWidget(self.title)
        layout.addWidget(self.fingerprints)
        layout.addWidget(self.view, 1)
        self.player = VoicePlayer()  # shown while the selected message carries a voice note (AttachmentActions)
        self.player.hide()
        layout.addWidget(self.player)

    def set_title(self, title: str) -> None:
        self.title.setText(title)
        self.title.setAccessibleName(title)

    def selected(self) -> StoredMessage | None:
        index = self.view.currentIndex()
        return index.data(Qt.ItemDataRole.UserRole) if index.isValid() else None

    def show_messages(
        self,
        messages: list[StoredMessage],
        names: dict[str, str],
        attachments: dict | None = None,
        marks: dict | None = None,
        keep_selection: bool = False,
    ) -> None:
        """Show ``messages``; with ``keep_selection`` the selected message stays selected (a refresh after a sync
        or a download must not drop what the person chose)."""
        chosen = self.selected() if keep_selection else None
        self.model.set_messages(messages, names, attachments or {}, marks or {})
        if chosen is not None:
            self.select(chosen.id)

    def select(self, message_id: str) -> None:
        for row, message in enumerate(self.model.messages):
            if message.id == message_id:
                self.view.setCurrentIndex(self.model.index(row))
                self.view.scrollTo(self.model.index(row))
                return

    def clear(self) -> None:
        self.model.set_messages([], {})
