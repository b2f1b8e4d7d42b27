"""The availability editor on My profile: the time zone, when I can meet (weekly rows: day, from, to), when I
am usually online and on what link (connectivity windows: a day or every day, from, to, link), and who sees them
(everyone in the programme, on my card; or only my mentorships, sealed to each partner).

Rows are plain widgets in a column (combo boxes, reached with Tab, each with an accessible name that says its
row), so the keyboard path is the reading order and right-to-left layouts mirror them like any form."""

from __future__ import annotations

import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.domain.availability import LINKS, Availability, OnlineWindow, Window
from desktop.formatting import format_time, zone_name
from desktop.i18n import _, current_locale
from desktop.ui.common import button

STEP = 30  # minutes between the times offered
MAX_ROWS = 28  # what an availability document may hold of each kind
EVERY_DAY = -1
SHARES = ("card", "mentorships")


def day_names() -> list[str]:
    """Monday … Sunday in the UI language."""
    wide = current_locale().days["format"]["wide"]
    return [str(wide[d]) for d in range(7)]


def time_label(minute: int) -> str:
    if minute >= 1440:
        return _("24:00 (end of day)")
    moment = datetime.datetime(2001, 1, 1, minute // 60, minute % 60)
    return format_time(moment)


class _Row(QWidget):
    """One window: day (or every day), from, to, and for a connectivity window the link."""

    removed = Signal(object)

    def __init__(self, kind: str, number: int, every_day: bool, links: bool) -> None:
        super().__init__()
        self.kind = kind
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.day = QComboBox()
        if every_day:
            self.day.addItem(_("Every day"), EVERY_DAY)
        for index, name in enumerate(day_names()):
            self.day.addItem(name, index)
        self.start, self.end = QComboBox(), QComboBox()
        for box, first, last in ((self.start, 0, 1440 - STEP), (self.end, STEP, 1440)):
            for minute in range(first, last + 1, STEP):
                box.addItem(time_label(minute), minute)
        self.link = QComboBox() if links else None
        if self.link is not None:
            for key, label in LINKS.items():
                self.link.addItem(_(label), key)
        self.remove = QPushButton(_("Remove"))
        self.remove.clicked.connect(lambda: self.removed.emit(self))
        layout.addWidget(self.day, 2)
        layout.addWidget(self.start, 1)
        layout.addWidget(QLabel("–"))
        layout.addWidget(self.end, 1)
        if self.link is not None:
            layout.addWidget(self.link, 2)
        layout.addWidget(self.remove)
        self.number(number)

    def number(self, n: int) -> None:
        """Accessible names say which row a control belongs to (a screen reader hears "From, online window 2")."""
        what = self.kind
        self.day.setAccessibleName(_("Day, {what} {n}").format(what=what, n=n))
        self.start.setAccessibleName(_("From, {what} {n}").format(what=what, n=n))
        self.end.setAccessibleName(_("Until, {what} {n}").format(what=what, n=n))
        if self.link is not None:
            self.link.setAccessibleName(_("Link, {what} {n}").format(what=what, n=n))
        self.remove.setAccessibleName(_("Remove {what} {n}").format(what=what, n=n))

    def set(self, day: int, start: int, end: int, link: str = "") -> None:
        for box, value, text in ((self.day, day, None), (self.start, start, start), (self.end, end, end)):
            if box.findData(value) < 0 and text is not None:  # a time off the half-hour grid, kept as it is
                box.addItem(time_label(text), value)
            box.setCurrentIndex(max(0, box.findData(value)))
        if self.link is not None and link:
            self.link.setCurrentIndex(max(0, self.link.findData(link)))

    def value(self) -> tuple[int, int, int, str]:
        link = self.link.currentData() if self.link is not None else ""
        return self.day.currentData(), self.start.currentData(), self.end.currentData(), link


class _Rows(QWidget):
    """A list of rows with "Add"."""

    changed = Signal()

    def __init__(self, kind: str, add_text: str, add_name: str, every_day: bool, links: bool) -> None:
        super().__init__()
        self.kind, self.every_day, self.links = kind, every_day, links
        self.rows: list[_Row] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.column = QVBoxLayout()
        outer.addLayout(self.column)
        self.empty = QLabel(_("None yet."))
        outer.addWidget(self.empty)
        self.add_button = button(add_text, add_name, lambda: self.add())
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)
        outer.addLayout(add_row)

    def add(self, day: int | None = None, start: int = 18 * 60, end: int = 20 * 60, link: str = "") -> _Row | None:
        if len(self.rows) >= MAX_ROWS:
            return None
        row = _Row(self.kind, len(self.rows) + 1, self.every_day, self.links)
        row.set(day if day is not None else (EVERY_DAY if self.every_day else 0), start, end, link)
        row.removed.connect(self._remove)
        self.rows.append(row)
        self.column.addWidget(row)
        row.show()  # now, not at the next layout pass: Tab goes on through its fields at once
        self._renumber()
        if day is None:  # added by the person: they go on from its first field
            row.day.setFocus()
        return row

    def _remove(self, row: _Row) -> None:
        index = self.rows.index(row)
        self.rows.remove(row)
        self._drop(row)
        self._renumber()
        # focus stays in the list: the row that took its place, else the one above, else "Add"
        following = self.rows[min(index, len(self.rows) - 1)].day if self.rows else self.add_button
        following.setFocus()

    def _drop(self, row: _Row) -> None:
        """Out of the list at once, deleted once its own click (which may have called this) has returned."""
        self.column.removeWidget(row)
        row.hide()
        row.deleteLater()

    def _renumber(self) -> None:
        for n, row in enumerate(self.rows, start=1):
            row.number(n)
        self.empty.setVisible(not self.rows)
        self.add_button.setEnabled(len(self.rows) < MAX_ROWS)
        self.changed.emit()

    def clear(self) -> None:
        for row in self.rows:
            self._drop(row)
        self.rows = []
        self._renumber()


class AvailabilityEditor(QWidget):
    """Time zone, weekly availability, connectivity windows and who may see them."""

    def __init__(self, tz: QComboBox) -> None:
        """``tz``: the profile's time-zone box (one zone for the card and the availability)."""
        super().__init__()
        self.setAccessibleName(_("Availability"))
        self.tz = tz
        self.account = ""
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.weekly = _Rows(_("meeting time"), _("Add a &time I can meet"), _("Add a time I can meet"), False, False)
        self.weekly.setAccessibleName(_("When I can meet"))
        self.online = _Rows(_("online window"), _("Add an online &window"), _("Add an online window"), True, True)
        self.online.setAccessibleName(_("When I am usually online"))
        self.share = QComboBox()
        self.share.addItem(_("Everyone in the programme"), "card")
        self.share.addItem(_("Only my mentorships"), "mentorships")
        self.share.setAccessibleName(_("Share my availability with"))
        weekly_label = QLabel(_("When I can &meet (my local time):"))
        weekly_label.setBuddy(self.weekly.add_button)
        layout.addRow(weekly_label)
        layout.addRow(self.weekly)
        online_label = QLabel(_("When I am usually &online, and on what link:"))
        online_label.setBuddy(self.online.add_button)
        layout.addRow(online_label)
        layout.addRow(self.online)
        layout.addRow(_("S&hare with:"), self.share)

    def load(self, av: Availability | None, hours: list | tuple = ()) -> None:
        """Show ``av``; without one, today's "usually online" hours (the card's ``windows``) as every-day windows."""
        self.weekly.clear()
        self.online.clear()
        if av is None:
            for start, end in hours or ((18, 22),):
                self.online.add(EVERY_DAY, start * 60, min(1440, end * 60))
            return
        self.account = av.account
        for w in av.weekly:
            self.weekly.add(w.day, w.start, w.end)
        grouped: dict[tuple[int, int, str], set[int]] = {}
        for w in av.online:
            grouped.setdefault((w.start, w.end, w.link), set()).add(w.day)
        for (start, end, link), days in grouped.items():
            if days == set(range(7)):
                self.online.add(EVERY_DAY, start, end, link)
            else:
                for day in sorted(days):
                    self.online.add(day, start, end, link)
        self.share.setCurrentIndex(max(0, self.share.findData(av.share)))

    def value(self, account: str) -> Availability:
        """What the rows say; ValueError (a sentence for the person) when a row ends before it starts or there
        are more windows than a card may carry."""
        weekly, online = [], []
        for n, row in enumerate(self.weekly.rows, start=1):
            day, start, end, _link = row.value()
            if end <= start:
                raise ValueError(_("Meeting time {n}: the end must be after the start.").format(n=n))
            weekly.append(Window(day, start, end))
        for n, row in enumerate(self.online.rows, start=1):
            day, start, end, link = row.value()
            if end <= start:
                raise ValueError(_("Online window {n}: the end must be after the start.").format(n=n))
            days = range(7) if day == EVERY_DAY else (day,)
            online += [OnlineWindow(d, start, end, link) for d in days]
        if len(weekly) > MAX_ROWS or len(online) > MAX_ROWS:
            raise ValueError(_("Too many windows: keep at most {count} of each.").format(count=MAX_ROWS))
        tz = self.tz.currentData() or "UTC"
        return Availability(account, tz, weekly=tuple(weekly), online=tuple(online), share=self.share.currentData())

    def zone_text(self) -> str:
        return zone_name(self.tz.currentData() or "UTC")
