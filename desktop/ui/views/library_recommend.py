"""Recommendations and learning packs on the Library page, and reading goals in a plan.

``RecommendDialog``: a mentor recommends the chosen item to a mentee (with a note and a "read by" date) or to a
circle they lead or mentor in. ``RecommendPanel``: what was recommended to this person (directly or in a circle)
with their reading progress, and the programme's learning packs with Subscribe / Unsubscribe. ``ReadingGoals``:
the plan's goals that are recommendations, each with a progress bar (``desktop.domain.recommendations``).
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.learning_packs import PackError
from desktop.domain.recommendations import ItemRef, Recommendation, RecommendError
from desktop.domain.session import Session
from desktop.formatting import format_percent
from desktop.i18n import _, ngettext
from desktop.ui.common import button, date_of_ms, error_label
from desktop.ui.layout import FlowLayout


def item_ref(entry: object) -> ItemRef:
    """A library entry (``LibraryItem``, or a catalogue ``Material`` of JSON v1) as a recommendation names it."""
    item = getattr(entry, "item", "") or getattr(entry, "id", "")
    return ItemRef(str(item), int(getattr(entry, "version", 1) or 1), str(getattr(entry, "title", "")))


def percent(progress: float) -> int:
    return round(max(0.0, min(1.0, progress)) * 100)


class RecommendDialog(QDialog):
    """Recommend ``entry`` to one of my mentees or to a circle: note, and a "read by" date for a mentee."""

    def __init__(self, session: Session, entry: object, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.ref = session, item_ref(entry)
        self.setWindowTitle(_("Recommend “{title}”").format(title=self.ref.title))
        self.setAccessibleName(_("Recommend an item"))
        me = session.program.credentials.account.hex()
        names = {c.account: c.name for c in session.cards()}
        plans = session.mentorships.mentorships() if session.mentorships is not None else []
        self.mentees = sorted({m.student for m in plans if m.mentor == me}, key=lambda a: names.get(a, a).casefold())
        circles = session.circles.circles() if session.circles is not None else []
        self.circles = [c for c in circles if c.my_role in ("lead", "mentor")]
        layout = QVBoxLayout(self)
        self.to_mentee = QRadioButton(_("To a &mentee"))
        self.to_circle = QRadioButton(_("To a &circle"))
        group = QButtonGroup(self)
        group.addButton(self.to_mentee)
        group.addButton(self.to_circle)
        form = QFormLayout()
        self.mentee = QComboBox()
        self.mentee.setAccessibleName(_("Mentee"))
        for account in self.mentees:
            self.mentee.addItem(names.get(account, _("Someone")), account)
        self.circle = QComboBox()
        self.circle.setAccessibleName(_("Circle"))
        for circle in self.circles:
            self.circle.addItem(circle.title, circle.id)
        self.by = QDateEdit()
        self.by.setAccessibleName(_("Read by"))
        self.by.setCalendarPopup(True)
        today = datetime.fromtimestamp(session.now_ms() / 1000, UTC).date()
        self.today = QDate(today.year, today.month, today.day)
        self.by.setMinimumDate(self.today.addDays(1))
        self.by.setDate(self.today.addDays(7))
        self.note = QPlainTextEdit()
        self.note.setAccessibleName(_("Note"))
        self.note.setPlaceholderText(_("Why this, and what to look for (optional)"))
        self.note.setMaximumHeight(90)
        form.addRow(self.to_mentee, self.mentee)
        form.addRow(_("Read &by:"), self.by)
        form.addRow(self.to_circle, self.circle)
        form.addRow(_("&Note:"), self.note)
        layout.addLayout(form)
        self.error = error_label(_("Problem"))
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("&Recommend"))
        buttons.accepted.connect(self._recommend)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.to_mentee.setEnabled(bool(self.mentees))
        self.to_circle.setEnabled(bool(self.circles))
        (self.to_mentee if self.mentees else self.to_circle).setChecked(True)
        if not self.mentees and not self.circles:
            self.error.setText(_("You have no mentees and lead no circle yet: there is nobody to recommend to."))
            self.error.show()
            buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.to_mentee.toggled.connect(self._mode)
        self._mode()
        self.made = ""

    def _mode(self) -> None:
        mentee = self.to_mentee.isChecked()
        self.mentee.setEnabled(mentee)
        self.by.setEnabled(mentee)
        self.circle.setEnabled(not mentee)

    def _recommend(self) -> None:
        recs = self.session.recommendations
        if recs is None:
            return
        note = self.note.toPlainText()
        try:
            if self.to_mentee.isChecked():
                day = self.by.date().toPython()
                by = int(datetime.combine(day, time(23, 59), UTC).timestamp() * 1000)
                self.made = recs.recommend(self.mentee.currentData(), self.ref, note, by)
            else:
                self.made = recs.recommend_to_circle(self.circle.currentData(), self.ref, note)
        except RecommendError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.session.scheduler.local_change()
        self.accept()


class RecommendPanel(QWidget):
    """The Library page's "Recommended to you" and "Learning packs" lists."""

    changed = Signal(str)  # what happened, in words

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        layout = QVBoxLayout(self)  # under the list, in its column: narrow, so one thing under another
        layout.setContentsMargins(0, 0, 0, 0)
        self.recommended = QListWidget()
        self.recommended.setAccessibleName(_("Recommended to you"))
        title = QLabel(_("Recommended to &you:"))
        title.setBuddy(self.recommended)
        layout.addWidget(title)
        layout.addWidget(self.recommended)
        self.packs = QListWidget()
        self.packs.setAccessibleName(_("Learning packs"))
        title = QLabel(_("Learnin&g packs:"))
        title.setBuddy(self.packs)
        layout.addWidget(title)
        layout.addWidget(self.packs)
        row = FlowLayout()  # wraps at 200 % or in a wordy language
        self.subscribe_button = button(_("Subscr&ibe"), _("Subscribe to the chosen pack"), self._subscribe)
        self.unsubscribe_button = button(_("Unsubscribe"), _("Unsubscribe from the chosen pack"), self._unsubscribe)
        row.addWidget(self.subscribe_button)
        row.addWidget(self.unsubscribe_button)
        layout.addLayout(row)
        for listing in (self.recommended, self.packs):
            listing.setMinimumWidth(0)
            listing.setMaximumHeight(self.fontMetrics().lineSpacing() * 4 + 8)

    def refresh(self) -> None:
        names = {c.account: c.name for c in self.session.cards()}
        self.recommended.clear()
        recs = self.session.recommendations.for_library() if self.session.recommendations is not None else []
        for rec in recs:
            self.recommended.addItem(self._line(rec, names))
        chosen = self.packs.currentItem().data(Qt.ItemDataRole.UserRole) if self.packs.currentItem() else None
        self.packs.clear()
        subscribed = self.session.packs.subscribed()
        for pack in self.session.packs.packs():
            mark = _("subscribed") if pack.pack in subscribed else _("not subscribed")
            text = _("{title} ({specialty}), version {version}, {count} items: {mark}").format(
                title=pack.title, specialty=pack.specialty or "—", version=pack.version, count=len(pack.items),
                mark=mark,
            )  # fmt: skip
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, pack.pack)
            item.setToolTip(pack.summary)
            self.packs.addItem(item)
            if pack.pack == chosen:
                self.packs.setCurrentItem(item)

    @staticmethod
    def _line(rec: Recommendation, names: dict[str, str]) -> str:
        who = names.get(rec.mentor, _("Someone"))
        if rec.by:
            text = _("{title}: from {name}, read by {date} ({percent} read)").format(
                title=rec.title, name=who, date=date_of_ms(rec.by), percent=format_percent(percent(rec.progress) / 100)
            )
        else:
            text = _("{title}: from {name} ({percent} read)").format(
                title=rec.title, name=who, percent=format_percent(percent(rec.progress) / 100)
            )
        return f"{text}\n{rec.note}" if rec.note else text

    def _chosen(self) -> str | None:
        item = self.packs.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _subscribe(self) -> None:
        pack = self._chosen()
        if pack is None:
            self.changed.emit(_("Choose a pack in the list first."))
            return
        try:
            queued = self.session.packs.subscribe(pack)
        except PackError as exc:
            self.changed.emit(str(exc))
            return
        self.refresh()
        line = ngettext(
            "Subscribed: {count} item queued for download.",
            "Subscribed: {count} items queued for download.",
            len(queued),
        )
        self.changed.emit(line.format(count=len(queued)))

    def _unsubscribe(self) -> None:
        pack = self._chosen()
        if pack is not None:
            self.session.packs.unsubscribe(pack)
            self.refresh()
            self.changed.emit(_("Unsubscribed: what was downloaded stays on this device."))


class ReadingGoals(QWidget):
    """A plan's reading goals (recommendations): title, note and the mentee's reading progress as a bar."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.bars: dict[str, QProgressBar] = {}
        self.hide()

    def show_plan(self, plan_id: str) -> None:
        while self.layout_.count():
            widget = self.layout_.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.bars = {}
        recs = self.session.recommendations
        goals = recs.reading_goals(plan_id) if recs is not None else {}
        for goal, rec in sorted(goals.items(), key=lambda kv: (kv[1].by or 1 << 62, kv[1].title)):
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setValue(percent(rec.progress))
            line = _("Reading {title}: {percent}").format(
                title=rec.title, percent=format_percent(percent(rec.progress) / 100)
            )
            bar.setFormat(line.replace("%", "%%"))
            bar.setAccessibleName(_("Reading progress"))
            bar.setAccessibleDescription(line)
            if rec.note:
                bar.setToolTip(rec.note)
            self.layout_.addWidget(bar)
            self.bars[goal] = bar
        self.setVisible(bool(goals))
