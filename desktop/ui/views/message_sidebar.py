"""The left part of Messages: the conversation list, or the review queue in its place."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import QListView, QStackedWidget, QVBoxLayout, QWidget

from desktop.domain.messaging import Thread
from desktop.domain.session import Session
from desktop.i18n import _
from desktop.ui.common import button
from desktop.ui.direction import BidiDelegate
from desktop.ui.layout import empty_state
from desktop.ui.views.message_models import ThreadModel
from desktop.ui.views.review_queue import ReviewQueuePanel, queue_button_text


class ConversationSidebar(QWidget):
    """The conversations, newest first, and the review-queue toggle that swaps them for the queue."""

    thread_chosen = Signal(str, object)  # thread id, names

    def __init__(self, session: Session, me: str) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.queue_toggle = button(_("Review &queue"), _("Review queue"), self._toggle_queue)
        self.queue_toggle.setCheckable(True)
        self.queue_toggle.setAccessibleDescription(_("Every conversation awaiting your reply, longest wait first"))
        self.queue_toggle.setToolTip(_("Every conversation awaiting your reply, longest wait first"))
        layout.addWidget(self.queue_toggle)
        self.lists = QStackedWidget()
        self.thread_model = ThreadModel({}, me)
        self.thread_list = QListView()
        self.thread_list.setModel(self.thread_model)
        self.thread_list.setItemDelegate(BidiDelegate(self.thread_list, align_with_ui=True))
        self.thread_list.setAccessibleName(_("Conversations"))
        self.thread_list.setWordWrap(True)
        self.thread_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.thread_list.selectionModel().currentChanged.connect(self._thread_chosen)
        empty_state(self.thread_list, _("No conversations yet. Find a mentor and write to them to start one."))
        self.queue = ReviewQueuePanel(session)
        self.queue.thread_chosen.connect(self.thread_chosen)
        self.queue.count_changed.connect(lambda n: self.queue_toggle.setText(queue_button_text(n)))
        self.lists.addWidget(self.thread_list)
        self.lists.addWidget(self.queue)
        layout.addWidget(self.lists, 1)

    def refresh(self, threads: list[Thread], names: dict[str, str]) -> None:
        self.thread_model.set_threads(threads, names)
        self.queue.refresh(names)

    def clear(self) -> None:
        self.thread_model.set_threads([], {})
        self.queue.clear()

    def select(self, thread_id: str) -> bool:
        """Select ``thread_id`` in the list (which opens it); False when it is not listed."""
        for row in range(self.thread_model.rowCount()):
            index = self.thread_model.index(row)
            if index.data(Qt.ItemDataRole.UserRole).id == thread_id:
                self.thread_list.setCurrentIndex(index)
                return True
        return False

    def _thread_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        thread: Thread | None = current.data(Qt.ItemDataRole.UserRole) if current.isValid() else None
        if thread is not None:
            self.thread_chosen.emit(thread.id, self.thread_model.names)

    def _toggle_queue(self) -> None:
        on = self.queue_toggle.isChecked()
        self.lists.setCurrentWidget(self.queue if on else self.thread_list)
        if on:
            self.queue.enter()
        else:
            self.thread_list.setFocus()
