"""The Schedule page: proposals waiting for my answer first, then upcoming meetings grouped by my local day, each
with my time and the other person's beside it; "Propose a meeting…"; the chosen meeting's detail
(``meeting_detail.MeetingDetail``); the calendar buttons (``schedule_calendar.ScheduleCalendar``, when built in)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop.domain import meeting_time
from desktop.domain.meetings import Meeting
from desktop.domain.session import Session
from desktop.formatting import zone_name
from desktop.i18n import C_, _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button, heading, paragraph
from desktop.ui.layout import FlowLayout, RememberedSplitter, empty_state, row_of, scrolling, wrapping_list
from desktop.ui.theme import primary
from desktop.ui.views.meeting_detail import MeetingDetail, fit_rows
from desktop.ui.views.meeting_propose import ProposeDialog
from desktop.ui.views.schedule_text import (
    People,
    by_day,
    day_heading,
    kind_label,
    meeting_title,
    pair_line,
    state_label,
    waiting_for_me,
)

ROLE = Qt.ItemDataRole.UserRole
AHEAD_DAYS = 90  # upcoming: the next 14 days and later, up to three months
SOON_DAYS = 14  # every occurrence of a series within these days; after, only its next one
PAST_DAYS = 30  # meetings of the last month stay listed (their notes are written after)


class ScheduleView(QWidget):
    write_to = Signal(str)  # the live text session: the conversation with this account

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.meetings = session.meetings
        self.people: People | None = None
        self.current: str | None = None
        self.dialog: ProposeDialog | None = None
        self.setAccessibleName(C_("the view of meetings (a noun)", "Schedule"))
        layout = QVBoxLayout(self)
        layout.addWidget(heading(C_("the view of meetings (a noun)", "Schedule")))
        self.zone_line = paragraph("")
        self.zone_line.setAccessibleName(_("Your time zone"))
        layout.addWidget(self.zone_line)
        top = FlowLayout()
        self.propose_button = primary(button(_("&Propose a meeting…"), _("Propose a meeting"), self.propose))
        top.addWidget(self.propose_button)
        layout.addLayout(top)
        self.calendar = self._calendar()  # its own row: its buttons wrap by themselves
        if self.calendar is not None:
            layout.addWidget(self.calendar)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Schedule status"))
        layout.addWidget(self.status)

        splitter = RememberedSplitter("schedule", session.settings_store, [420, 540])
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.waiting_heading = heading(_("Waiting for your answer"), 1.1)
        self.waiting = wrapping_list()
        self.waiting.setAccessibleName(_("Proposals waiting for your answer"))
        left_layout.addWidget(self.waiting_heading)
        left_layout.addWidget(self.waiting)
        left_layout.addWidget(heading(_("Upcoming meetings"), 1.1))
        self.upcoming = wrapping_list()
        self.upcoming.setAccessibleName(_("Upcoming meetings, by day"))
        # the scroll bar always there: rows wrapped for a width without it would be cut when it appears
        self.upcoming.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        empty_state(
            self.upcoming,
            _("No meetings planned. Propose one: Osler finds times that suit you both, in both your time zones."),
        )
        left_layout.addWidget(self.upcoming, 1)
        self.others_heading = heading(_("Recent, declined and cancelled"), 1.1)
        self.others = wrapping_list()
        self.others.setAccessibleName(_("Recent, declined and cancelled meetings"))
        left_layout.addWidget(self.others_heading)
        left_layout.addWidget(self.others)
        splitter.addWidget(scrolling(left))
        self.detail = MeetingDetail(session)
        self.detail.changed.connect(self._changed)
        self.detail.write_to.connect(self.write_to)
        self.detail.other_times.connect(self.other_times)
        if self.calendar is not None and hasattr(self.calendar, "export_one"):
            self.detail.export_one = self.calendar.export_one
        splitter.addWidget(scrolling(self.detail))
        layout.addWidget(splitter, 1)
        for view in (self.waiting, self.upcoming, self.others):
            view.currentItemChanged.connect(lambda item, _prev, v=view: self._chosen(v, item))
        self.refresh()

    def _calendar(self) -> QWidget | None:
        """The calendar engineer's buttons (export all, import busy times), when the app has them."""
        try:
            from desktop.ui.views.schedule_calendar import ScheduleCalendar
        except ImportError:
            return None
        if hasattr(ScheduleCalendar, "for_session"):
            calendar = ScheduleCalendar.for_session(self.session, self)
        else:
            calendar = ScheduleCalendar(self.session, self)
        if hasattr(calendar, "changed"):  # busy times imported or forgotten: the finder's week changes
            calendar.changed.connect(self._busy_changed)
        return calendar

    def _busy_changed(self) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.refill()

    # -- data -----------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        if self.meetings is None:
            self.propose_button.setEnabled(False)
            self.zone_line.setText(_("Meetings need a programme: join one to plan them."))
            return
        people = self.people = People.of(self.session)
        now = self.session.now_ms()
        self.zone_line.setText(
            _("Times are in your time zone, {zone}, with the other person's beside them.").format(
                zone=zone_name(people.my_zone)
            )
        )
        everything = self.meetings.meetings()
        waiting = sorted(
            (m for m in everything if waiting_for_me(m, people.me, now)), key=lambda m: min(m.slots, default=None) or 0
        )
        self._fill(self.waiting, [(self._waiting_text(m, people), m.id, True) for m in waiting])
        self.waiting_heading.setVisible(bool(waiting))
        self.waiting.setVisible(bool(waiting))
        fit_rows(self.waiting, 8)

        ahead, later = [], set()
        for meeting, slot in self.meetings.upcoming(now, AHEAD_DAYS):
            if waiting_for_me(meeting, people.me, now):
                continue
            if slot.start >= now + SOON_DAYS * meeting_time.DAY_MS:  # after two weeks, a series' next one only
                if meeting.id in later:
                    continue
                later.add(meeting.id)
            ahead.append((meeting, slot))
        today = meeting_time.to_local(now, people.my_zone).date()
        rows: list[tuple[str, str | None, bool]] = []
        for day, items in by_day(ahead, people.my_zone):
            rows.append((day_heading(day, today), None, False))
            for meeting, slot in items:
                rows.append((self._upcoming_text(meeting, slot, people), meeting.id, True))
        self._fill(self.upcoming, rows)

        shown = {m.id for m in waiting} | {m.id for m, _s in ahead}
        recent = [
            m for m in everything if m.id not in shown and self._last_time(m) >= now - PAST_DAYS * meeting_time.DAY_MS
        ]
        recent.sort(key=self._last_time, reverse=True)
        self._fill(self.others, [(self._other_text(m, people, now), m.id, True) for m in recent])
        self.others_heading.setVisible(bool(recent))
        self.others.setVisible(bool(recent))
        fit_rows(self.others, 8)
        self.detail.show_meeting(self.meetings.meeting(self.current) if self.current else None, people)

    @staticmethod
    def _last_time(meeting: Meeting) -> int:
        if meeting.chosen is not None:
            return meeting.chosen.end
        return max((s.end for s in meeting.slots), default=0)

    def _fill(self, view: QListWidget, rows: list[tuple[str, str | None, bool]]) -> None:
        view.blockSignals(True)
        view.clear()
        for text, meeting_id, selectable in rows:
            item = QListWidgetItem(text)
            item.setData(ROLE, meeting_id)
            if not selectable:  # a day's heading: read by screen readers, skipped by the arrow keys
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            view.addItem(item)
        if self.current is not None and row_of(view, self.current) >= 0:
            view.setCurrentRow(row_of(view, self.current))
        view.blockSignals(False)

    def _waiting_text(self, meeting: Meeting, people: People) -> str:
        other = people.other(meeting)
        lines = [
            _("{title} · {kind}").format(title=meeting_title(meeting, people), kind=kind_label(meeting.kind)),
            *(pair_line(people, other, s.start, s.end, two_lines=True) for s in meeting.slots),
        ]
        return "\n".join(lines)

    def _upcoming_text(self, meeting: Meeting, slot, people: People) -> str:  # type: ignore[no-untyped-def]
        other = people.other(meeting)
        head = _("{title} · {kind}").format(title=meeting_title(meeting, people), kind=kind_label(meeting.kind))
        if meeting.state == "proposed":
            head += " · " + _("waiting for {name} to pick a time").format(name=people.name(other))
        return head + "\n" + pair_line(people, other, slot.start, slot.end, two_lines=True)

    def _other_text(self, meeting: Meeting, people: People, now: int) -> str:
        other = people.other(meeting)
        slot = meeting.chosen or (meeting.slots[0] if meeting.slots else None)
        head = _("{title} · {state}").format(title=meeting_title(meeting, people), state=state_label(meeting.state))
        if meeting.reason:
            head += " — " + meeting.reason
        return head if slot is None else head + "\n" + pair_line(people, other, slot.start, slot.end, two_lines=True)

    def clear(self) -> None:
        for view in (self.waiting, self.upcoming, self.others):
            view.clear()
        self.current = None
        self.detail.show_meeting(None, None)

    # -- choosing and acting ----------------------------------------------------------------------------------

    def _chosen(self, view: QListWidget, item: QListWidgetItem | None) -> None:
        if item is None or item.data(ROLE) is None or self.meetings is None:
            return
        self.current = item.data(ROLE)
        for other in (self.waiting, self.upcoming, self.others):
            if other is not view:
                other.blockSignals(True)
                other.setCurrentRow(-1)
                other.blockSignals(False)
        self.detail.show_meeting(self.meetings.meeting(self.current), self.people)

    def select(self, meeting_id: str) -> None:
        """Show ``meeting_id`` (from Home, or after proposing it)."""
        self.current = meeting_id
        self.refresh()

    def propose(self, other: str = "") -> None:
        """The "Propose a meeting…" dialog, window-modal (``other``: the person chosen first)."""
        if self.meetings is None:
            return
        self._open(ProposeDialog(self.session, self.people or People.of(self.session), self, other=other))

    def other_times(self, mode: str, meeting_id: str, occurrence: int) -> None:
        people = self.people or People.of(self.session)
        self._open(ProposeDialog(self.session, people, self, mode=mode, meeting_id=meeting_id, occurrence=occurrence))

    def _open(self, dialog: ProposeDialog) -> None:
        self.dialog = dialog
        dialog.done.connect(lambda text: self._sent(dialog.meeting_id, text))
        dialog.open()
        dialog.person.setFocus() if dialog.person.isEnabled() else dialog.finder.slots.setFocus()

    def _sent(self, meeting_id: str, text: str) -> None:
        self.current = meeting_id  # the meeting just proposed (or changed) is the one shown
        self._changed(text, False)

    def _changed(self, text: str, error: bool) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)
        if not error:
            self.session.scheduler.local_change()
            self.refresh()
