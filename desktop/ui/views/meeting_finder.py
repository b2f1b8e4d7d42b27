"""The overlap finder's week in the "Propose a meeting" dialog: times when both people are free (their weekly
availability, less my busy times), best ones first, to tick one to three; week navigation; and a time typed by
hand, checked in my zone (a time the clocks skip is refused with the reason, a time that happens twice asks
which of the two)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from PySide6.QtCore import QDate, Qt, QTime, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateEdit,
    QLabel,
    QListWidgetItem,
    QRadioButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import meeting_time, overlap
from desktop.domain.availability import Availability
from desktop.domain.meetings import MAX_SLOTS
from desktop.formatting import format_date
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button, error_label, paragraph
from desktop.ui.layout import FlowLayout, empty_state, wrapping_list
from desktop.ui.views.schedule_text import People, locale_tag, pair_line

STEP_MS = 30 * meeting_time.MINUTE_MS  # starts offered inside a shared window: on the half hour
MAX_OFFERED = 40  # times listed for one week (the best three first)
ROLE = Qt.ItemDataRole.UserRole


def candidates(
    people: Sequence[Availability],
    start_ms: int,
    duration_minutes: int,
    busy: Sequence[tuple[int, int]],
    not_before_ms: int,
) -> list[tuple[int, int]]:
    """The week's times that suit everyone in ``people``: the overlap finder's suggestions first, then every half
    hour inside the shared windows, at most ``MAX_OFFERED``."""
    if not people:
        return []
    length = duration_minutes * meeting_time.MINUTE_MS
    best = overlap.suggest(people, start_ms, duration_minutes, count=MAX_SLOTS, busy=busy, not_before_ms=not_before_ms)
    offered = list(best)
    for first, last in overlap.overlap(people, start_ms, 7, busy, min_minutes=duration_minutes):
        at = max(first, not_before_ms)
        at += -at % STEP_MS if at != first else 0
        while at + length <= last and len(offered) < MAX_OFFERED:
            if (at, at + length) not in offered:
                offered.append((at, at + length))
            at += STEP_MS
    return offered


class MeetingFinder(QWidget):
    """One week of times to tick; ``chosen()`` is what is ticked, in order."""

    said = Signal(str, bool)  # a sentence for the dialog's status line, and whether it is an error

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.people: People | None = None
        self.other = ""
        self.avails: list[Availability] = []
        self.busy: list[tuple[int, int]] = []
        self.duration = 60
        self.now = 0
        self.week = 0  # UTC ms of the shown week's Monday 00:00 in my zone
        self.typed: list[tuple[int, int]] = []  # times typed by hand: kept across weeks, listed first
        self._fold: tuple[int, int] | None = None  # the two instants of a time typed that happens twice
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.note = paragraph("")
        self.note.setAccessibleName(_("About these times"))
        layout.addWidget(self.note)
        nav = FlowLayout()
        self.previous_button = button(_("&Previous week"), _("Previous week"), lambda: self.move_week(-1))
        self.week_label = QLabel()
        self.week_label.setAccessibleName(_("Week shown"))
        self.next_button = button(_("Ne&xt week"), _("Next week"), lambda: self.move_week(1))
        for widget in (self.previous_button, self.week_label, self.next_button):
            nav.addWidget(widget)
        layout.addLayout(nav)
        self.slots = wrapping_list()
        self.slots.setAccessibleName(_("Times to offer (tick one to three)"))
        self.slots.setMinimumHeight(self.fontMetrics().height() * 4)
        self.slots.setMaximumHeight(self.fontMetrics().height() * 7)  # the time typed by hand stays in sight
        empty_state(self.slots, _("No time suits you both this week: try the next week, or type a time below."))
        self.slots.itemChanged.connect(lambda _item: self._count())
        layout.addWidget(self.slots, 1)
        self.count_label = LiveLabel()
        self.count_label.setAccessibleName(_("Times ticked"))
        layout.addWidget(self.count_label)

        typed = FlowLayout()
        day_label = QLabel(_("Or a time of &your own:"))
        self.day = QDateEdit()
        self.day.setCalendarPopup(True)
        self.day.setAccessibleName(_("Day (your time)"))
        day_label.setBuddy(self.day)
        self.time = QTimeEdit()
        self.time.setDisplayFormat("HH:mm")
        self.time.setAccessibleName(_("Start (your time)"))
        self.add_button = button(_("&Add this time"), _("Add this time"), self.add_typed)
        for widget in (day_label, self.day, self.time, self.add_button):
            typed.addWidget(widget)
        layout.addLayout(typed)
        self.fold_box = QWidget()
        fold_layout = QVBoxLayout(self.fold_box)
        fold_layout.setContentsMargins(0, 0, 0, 0)
        self.fold_text = paragraph("")
        self.fold_text.setAccessibleName(_("This time happens twice"))
        self.fold_first = QRadioButton()
        self.fold_second = QRadioButton()
        self.fold_group = QButtonGroup(self)
        for index, radio in enumerate((self.fold_first, self.fold_second)):
            self.fold_group.addButton(radio, index)
            radio.setAccessibleName(_("The first one") if index == 0 else _("The second one"))
        self.fold_first.setChecked(True)
        self.fold_button = button(_("Add the &one chosen"), _("Add the one chosen"), self.add_fold)
        for widget in (self.fold_text, self.fold_first, self.fold_second, self.fold_button):
            fold_layout.addWidget(widget)
        self.fold_box.hide()
        layout.addWidget(self.fold_box)
        self.error = error_label(_("Error"))
        layout.addWidget(self.error)

    # -- what the finder works over --------------------------------------------------------------------------

    def set_people(
        self,
        people: People,
        other: str,
        avails: Sequence[Availability],
        busy: Sequence[tuple[int, int]],
        duration: int,
        now_ms: int,
    ) -> None:
        self.people, self.other, self.avails, self.busy = people, other, list(avails), list(busy)
        self.duration, self.now = duration, now_ms
        if not self.week:
            self.week = meeting_time.week_start(now_ms, people.my_zone)
            local = meeting_time.to_local(now_ms, people.my_zone)
            self.day.setDate(QDate(local.year, local.month, local.day))
            self.time.setTime(QTime(18, 0))
        known = {a.account for a in self.avails}
        if people.me not in known and other not in known:
            self.note.setText(
                _("Neither of you has shared when you can meet: type a time below. Add yours in My profile.")
            )
        elif other not in known:
            self.note.setText(
                _("{name} has not shared when they can meet: these are your free times.").format(
                    name=people.name(other)
                )
            )
        elif people.me not in known:
            self.note.setText(
                _("These are {name}'s free times; you have not shared yours (My profile).").format(
                    name=people.name(other)
                )
            )
        else:
            self.note.setText(_("Times when you are both free, less your busy times; the best first."))
        self.fill()

    def move_week(self, step: int) -> None:
        if self.people is None:
            return
        middle = self.week + step * 7 * meeting_time.DAY_MS + meeting_time.DAY_MS // 2
        self.week = meeting_time.week_start(middle, self.people.my_zone)
        self.fill()

    def fill(self) -> None:
        if self.people is None:
            return
        ticked = set(self.chosen())
        tz = self.people.my_zone
        monday = meeting_time.to_local(self.week, tz).date()
        self.week_label.setText(_("Week of {date}").format(date=format_date(monday, "medium")))
        length = self.duration * meeting_time.MINUTE_MS
        self.typed = [(start, start + length) for start, _end in self.typed]
        offered = candidates(self.avails, self.week, self.duration, self.busy, self.now)
        self.slots.blockSignals(True)
        self.slots.clear()
        for start, stop in self.typed + [s for s in offered if s not in self.typed]:
            item = QListWidgetItem(pair_line(self.people, self.other, start, stop))
            item.setData(ROLE, (start, stop))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = (start, stop) in ticked or (start, stop) in self.typed
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.slots.addItem(item)
        self.slots.blockSignals(False)
        self._count()

    def chosen(self) -> list[tuple[int, int]]:
        return [
            tuple(self.slots.item(r).data(ROLE))  # type: ignore[misc]
            for r in range(self.slots.count())
            if self.slots.item(r).checkState() == Qt.CheckState.Checked
        ]

    def _count(self) -> None:
        count = len(self.chosen())
        self.count_label.setText(_("{count} of {most} times ticked").format(count=count, most=MAX_SLOTS))

    # -- a time typed by hand -------------------------------------------------------------------------------

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def typed_day_minute(self) -> tuple[date, int]:
        qdate, qtime = self.day.date(), self.time.time()
        return date(qdate.year(), qdate.month(), qdate.day()), qtime.hour() * 60 + qtime.minute()

    def add_typed(self) -> None:
        if self.people is None:
            return
        self.fold_box.hide()
        self._show_error("")
        day, minute = self.typed_day_minute()
        tz = self.people.my_zone
        try:
            start = meeting_time.local_to_ms(tz, day, minute)
        except meeting_time.LocalTimeError as err:
            if err.code != "fold":  # a time the clocks skip (or a zone no longer known): refused, with why
                self._show_error(meeting_time.explain(err, locale_tag()))
                return
            self._ask_fold(err, day, minute)
            return
        self._add(start)

    def _ask_fold(self, err: meeting_time.LocalTimeError, day: date, minute: int) -> None:
        tz, length = self.people.my_zone, self.duration * meeting_time.MINUTE_MS  # type: ignore[union-attr]
        first = meeting_time.local_to_ms(tz, day, minute, fold=0)
        second = meeting_time.local_to_ms(tz, day, minute, fold=1)
        self._fold = (first, second)
        self.fold_text.setText(meeting_time.explain(err, locale_tag()))
        for radio, start, which in (
            (self.fold_first, first, _("The first one (before the clocks go back)")),
            (self.fold_second, second, _("The second one (after the clocks go back)")),
        ):
            offset = _offset(meeting_time.to_local(start, tz))
            radio.setText(_("{which}, UTC{offset}").format(which=which, offset=offset))
            radio.setAccessibleDescription(pair_line(self.people, self.other, start, start + length))  # type: ignore[arg-type]
        self.fold_first.setChecked(True)
        self.fold_box.show()
        self.fold_first.setFocus()

    def add_fold(self) -> None:
        if self._fold is None:
            return
        self._add(self._fold[self.fold_group.checkedId() if self.fold_group.checkedId() >= 0 else 0])
        self.fold_box.hide()
        self._fold = None

    def _add(self, start: int) -> None:
        if start < self.now:
            self._show_error(_("That time has already passed."))
            return
        length = self.duration * meeting_time.MINUTE_MS
        if (start, start + length) not in self.typed:
            self.typed.insert(0, (start, start + length))
        self.fill()
        self.said.emit(_("Time added and ticked."), False)


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "+" if minutes >= 0 else "−"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
