"""A circle's pinned library items and its journal clubs (a library item, a date, and a topic to discuss it)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.discussions import MAX_TITLE, Pin, Topic
from desktop.i18n import _
from desktop.ui.common import button, date_of_ms
from desktop.ui.views.circle_sidebar import labelled


class LibraryPanel(QWidget):
    pin_wanted = Signal(str, str)  # library item id, title
    unpin_wanted = Signal(str)
    journal_wanted = Signal(str, str, int)  # title, library item id, date (ms)
    open_topic = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.material = QComboBox()
        self.material.setAccessibleName(_("Library item"))
        self.material.setMinimumContentsLength(12)
        self.material.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        row = QHBoxLayout()
        row.addWidget(labelled(_("Librar&y item:"), self.material))
        row.addWidget(self.material, 1)
        layout.addLayout(row)

        self.pins = QListWidget()
        self.pins.setAccessibleName(_("Pinned resources"))
        layout.addWidget(labelled(_("&Pinned resources:"), self.pins))
        layout.addWidget(self.pins, 1)
        pin_row = QHBoxLayout()
        pin_row.addWidget(button(_("Pi&n the item"), _("Pin the chosen library item"), self._pin))
        pin_row.addWidget(button(_("&Unpin"), _("Unpin the chosen resource"), self._unpin))
        pin_row.addStretch(1)
        layout.addLayout(pin_row)

        self.clubs = QListWidget()
        self.clubs.setAccessibleName(_("Journal clubs"))
        self.clubs.itemActivated.connect(lambda item: self.open_topic.emit(item.data(Qt.ItemDataRole.UserRole)))
        layout.addWidget(labelled(_("&Journal clubs:"), self.clubs))
        layout.addWidget(self.clubs, 1)
        self.club_title = QLineEdit()
        self.club_title.setAccessibleName(_("Journal club title"))
        self.club_title.setMaxLength(MAX_TITLE)
        self.club_title.setPlaceholderText(_("For example: the FEAST trial"))
        self.club_date = QDateEdit()
        self.club_date.setAccessibleName(_("Journal club date"))
        self.club_date.setCalendarPopup(True)
        title_row = QHBoxLayout()
        title_row.addWidget(labelled(_("Ti&tle:"), self.club_title))
        title_row.addWidget(self.club_title, 1)
        layout.addLayout(title_row)
        club_row = QHBoxLayout()
        club_row.addWidget(labelled(_("&Date:"), self.club_date))
        club_row.addWidget(self.club_date)
        club_row.addWidget(button(_("Plan clu&b"), _("Plan a journal club on the chosen item"), self._journal))
        club_row.addStretch(1)
        layout.addLayout(club_row)

    def refresh(
        self, pins: list[Pin], clubs: list[Topic], materials: list, today_ms: int, recommended: list | None = None
    ) -> None:
        chosen = self.material.currentData()
        self.material.clear()
        for material in materials:
            self.material.addItem(material.title, material.id)
        if chosen is not None and self.material.findData(chosen) >= 0:
            self.material.setCurrentIndex(self.material.findData(chosen))
        self.pins.clear()
        for pin in pins:
            item = QListWidgetItem(pin.title)
            item.setData(Qt.ItemDataRole.UserRole, pin.id)
            self.pins.addItem(item)
        for rec in recommended or []:  # a lead's or mentor's recommendation (recommendations.in_circle)
            text = _("Recommended: {title}").format(title=rec.title)
            item = QListWidgetItem(f"{text}\n{rec.note}" if rec.note else text)
            item.setData(Qt.ItemDataRole.UserRole, "")  # not a pin: Unpin leaves it
            self.pins.addItem(item)
        self.clubs.clear()
        for club in clubs:
            when = date_of_ms(club.at or 0)
            item = QListWidgetItem(_("{date}: {title}").format(date=when, title=club.title))
            item.setData(Qt.ItemDataRole.UserRole, club.id)
            self.clubs.addItem(item)
        if not self.club_title.text():
            today = datetime.fromtimestamp(today_ms / 1000, UTC).date()
            self.club_date.setDate(QDate(today.year, today.month, today.day).addDays(7))

    def _pin(self) -> None:
        if self.material.currentData():
            self.pin_wanted.emit(self.material.currentData(), self.material.currentText())

    def _unpin(self) -> None:
        item = self.pins.currentItem()
        if item is not None and item.data(Qt.ItemDataRole.UserRole):
            self.unpin_wanted.emit(item.data(Qt.ItemDataRole.UserRole))

    def _journal(self) -> None:
        lib = self.material.currentData()
        if not lib:
            return
        day = self.club_date.date().toPython()
        at = int(datetime.combine(day, time(12), UTC).timestamp() * 1000)
        self.journal_wanted.emit(self.club_title.text() or self.material.currentText(), lib, at)

    def done(self) -> None:
        self.club_title.clear()
