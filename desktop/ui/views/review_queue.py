"""The mentor's review queue: every conversation awaiting their reply across mentees, longest wait first, with
counts per mentee and keyboard triage (J/K next and previous, R reply, D done, F flag, S snooze, T templates).
The Messages view shows it in place of the conversation list and opens the conversation it points at."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QListView, QVBoxLayout, QWidget

from desktop.domain import review
from desktop.domain.review import QueueItem
from desktop.domain.session import Session
from desktop.formatting import format_datetime
from desktop.i18n import _, ngettext
from desktop.ui.direction import BidiDelegate
from desktop.ui.views.message_models import QueueModel
from sync.clock import utcnow


class ReviewQueuePanel(QWidget):
    thread_chosen = Signal(str, object)  # thread id, names: open this conversation
    reply_wanted = Signal()  # R: write in the open conversation
    templates_wanted = Signal()  # T: pick a reply template
    said = Signal(str)  # a line for the view's status
    count_changed = Signal(int)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.me = session.program.credentials.account.hex()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.queue_model = QueueModel()
        self.queue_list = QListView()
        self.queue_list.setModel(self.queue_model)
        self.queue_list.setItemDelegate(BidiDelegate(self.queue_list, align_with_ui=True))
        self.queue_list.setAccessibleName(_("Review queue"))
        self.queue_list.setWordWrap(True)
        self.queue_list.selectionModel().currentChanged.connect(self._chosen)
        self.queue_counts = QLabel()
        self.queue_counts.setWordWrap(True)
        self.queue_counts.setAccessibleName(_("Waiting per mentee"))
        self.queue_help = QLabel(
            _(
                "Keys in the queue: J / K next and previous · R reply · D done (reviewed) · F flag · "
                "S snooze until tomorrow 08:00 · T reply templates"
            )
        )
        self.queue_help.setWordWrap(True)
        layout.addWidget(self.queue_list, 1)
        layout.addWidget(self.queue_counts)
        layout.addWidget(self.queue_help)
        for key, action in (
            ("J", lambda: self._step(1)),
            ("K", lambda: self._step(-1)),
            ("R", self._reply),
            ("D", self._done),
            ("F", self._flag),
            ("S", self._snooze),
            ("T", self.templates_wanted.emit),
        ):
            shortcut = QShortcut(QKeySequence(key), self.queue_list, activated=action)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

    def refresh(self, names: dict[str, str]) -> None:
        selected = self.selected()
        items = review.review_queue(self.session.vault, self.me, self.session.now_ms())
        self.queue_model.set_items(items, names, self.session.now_ms())
        counts = review.counts_per_person(items)
        self.queue_counts.setText(
            ", ".join(f"{names.get(a, _('Someone'))} ({n})" for a, n in counts.most_common())
            or _("Nobody is waiting for a reply.")
        )
        self.count_changed.emit(len(items))
        if selected is not None:
            for row, item in enumerate(items):
                if item.thread_id == selected.thread_id:
                    self.queue_list.setCurrentIndex(self.queue_model.index(row))

    def clear(self) -> None:
        self.queue_model.set_items([], {}, 0)

    def enter(self) -> None:
        """Shown: keys go to the queue, and the first item is chosen."""
        self.queue_list.setFocus()
        if self.queue_model.rowCount() and not self.queue_list.currentIndex().isValid():
            self.queue_list.setCurrentIndex(self.queue_model.index(0))

    def selected(self) -> QueueItem | None:
        index = self.queue_list.currentIndex()
        return index.data(Qt.ItemDataRole.UserRole) if index.isValid() else None

    def _chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item: QueueItem | None = current.data(Qt.ItemDataRole.UserRole) if current.isValid() else None
        if item is not None:
            self.thread_chosen.emit(item.thread_id, self.queue_model.names)

    def _step(self, delta: int) -> None:
        rows = self.queue_model.rowCount()
        if rows:
            row = (self.queue_list.currentIndex().row() + delta) % rows
            self.queue_list.setCurrentIndex(self.queue_model.index(row))

    def _reply(self) -> None:
        if self.selected() is not None:
            self.reply_wanted.emit()

    def _after_triage(self) -> None:
        row = max(0, self.queue_list.currentIndex().row())
        self.refresh(self.queue_model.names)
        if self.queue_model.rowCount():
            self.queue_list.setCurrentIndex(self.queue_model.index(min(row, self.queue_model.rowCount() - 1)))
        self.queue_list.setFocus()

    def _done(self) -> None:
        item = self.selected()
        if item is not None:
            review.mark_reviewed(self.session.vault, item.thread_id, self.me)
            self._after_triage()

    def _flag(self) -> None:
        item = self.selected()
        if item is not None:
            review.flag(self.session.vault, item.thread_id, self.me, not item.flagged)
            self._after_triage()

    def _snooze(self) -> None:
        item = self.selected()
        if item is not None:
            until = review.tomorrow_morning(utcnow(self.session.wall))
            review.snooze(self.session.vault, item.thread_id, self.me, int(until.timestamp() * 1000))
            self.said.emit(_("Snoozed until {when}.").format(when=format_datetime(until, "short")))
            self._after_triage()


def queue_button_text(count: int) -> str:
    return ngettext("Review &queue ({count} waiting)", "Review &queue ({count} waiting)", count).format(count=count)
