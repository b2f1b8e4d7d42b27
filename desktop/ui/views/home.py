"""Home: what needs the person's attention, each line a door to the view that deals with it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from desktop.domain.meeting_time import format_pair
from desktop.domain.programme import CohortFigures
from desktop.domain.reminders import describe, my_zone, other_side, session_reminders, their_zone
from desktop.domain.session import Attention, Session
from desktop.i18n import _, ngettext
from desktop.ui.common import button, heading, paragraph
from desktop.ui.views.recovery_key import RecoveryReminder


class HomeView(QWidget):
    navigate = Signal(str)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setAccessibleName(_("Home"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        self.greeting = heading(_("Welcome"))
        layout.addWidget(self.greeting)
        self.card_state = QLabel()
        self.card_state.setAccessibleName(_("Profile card status"))
        layout.addWidget(self.card_state)
        self.recovery_reminder = RecoveryReminder(session)  # once, 30 days after the key was last checked
        layout.addWidget(self.recovery_reminder)
        if session.program.demo:
            layout.addWidget(
                paragraph(
                    _(
                        "You are exploring the demo programme. It runs on this computer and everyone in it is "
                        "fictional; nothing you do here leaves this computer."
                    )
                )
            )
        layout.addWidget(heading(_("What needs your attention"), 1.2))
        self.grid = QGridLayout()
        layout.addLayout(self.grid)
        # the next meeting in my time and the other person's, and the reminders due (from the local calendar)
        self.next_meeting = QLabel()
        self.next_meeting.setWordWrap(True)
        self.next_meeting.setAccessibleName(_("Next meeting"))
        layout.addWidget(self.next_meeting)
        self.reminders = QLabel()
        self.reminders.setWordWrap(True)
        self.reminders.setAccessibleName(_("Meeting reminders"))
        layout.addWidget(self.reminders)
        layout.addStretch(1)
        self.lines: dict[str, QLabel] = {}  # filled by refresh(), which the main screen calls once all views exist

    def refresh(self, figures: CohortFigures | None = None) -> None:
        """Redraw; an admin's cohort ``figures`` may come from the caller, who shares them with Programme."""
        card = self.session.my_card()
        self.greeting.setText(_("Welcome, {name}").format(name=card.name) if card else _("Welcome"))
        self.refresh_card_state()
        self.recovery_reminder.refresh()
        self._fill(self.session.attention(), figures)
        self.refresh_meetings()

    def refresh_meetings(self) -> None:
        """The next meeting and the reminders due now (the app's reminder timer calls this too)."""
        meetings = getattr(self.session, "meetings", None)
        now = self.session.now_ms()
        upcoming = meetings.upcoming(now) if meetings is not None else []
        names = {c.account: c.name for c in self.session.cards()}
        mine = my_zone(self.session)
        if upcoming:
            meeting, slot = upcoming[0]
            other = other_side(self.session, meeting)
            name = names.get(other, _("(no card yet)"))
            theirs = their_zone(self.session, other)
            my_time, their_time = format_pair(slot.start, slot.end, mine, theirs)
            title = meeting.title or _("Meeting")
            if meeting.state == "proposed":
                text = _("Proposed: {title} with {name}, {mine} your time ({theirs} for {name})")
            else:
                text = _("Next meeting: {title} with {name}, {mine} your time ({theirs} for {name})")
            self.next_meeting.setText(text.format(title=title, name=name, mine=my_time, theirs=their_time))
        self.next_meeting.setVisible(bool(upcoming))
        due = session_reminders(self.session, now)
        lines = [describe(r, names.get(r.other, _("(no card yet)")), mine, now) for r in due]
        self.reminders.setText("\n".join(lines))
        self.reminders.setAccessibleName(
            _("Meeting reminders: {text}").format(text="; ".join(lines)) if lines else _("Meeting reminders")
        )
        self.reminders.setVisible(bool(lines))

    def refresh_card_state(self) -> None:
        """After a sync sent things: the card's line follows what the status bar says."""
        state = self.session.my_card_state()
        badges = {
            "outbox": _("Your profile card: queued, it will be sent at the next sync"),
            "sent": _("Your profile card: sent, the programme can see it"),
            "rejected": _("Your profile card: refused by the server; edit it and try again"),
        }
        self.card_state.setText(badges.get(state or "", ""))
        self.card_state.setVisible(state is not None)

    def _fill(self, a: Attention, figures: CohortFigures | None) -> None:
        held = getattr(a, "meetings_held", 0)
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        rows = [
            (
                "messages",
                ngettext("{count} reply waiting for you", "{count} replies waiting for you", a.replies_waiting).format(
                    count=a.replies_waiting
                )
                if a.replies_waiting
                else _("No replies waiting"),
                _("Open &messages"),
                _("Open messages"),
            ),
            (
                "mentorships",
                ngettext(
                    "{count} mentorship request pending", "{count} mentorship requests pending", a.pending_requests
                ).format(count=a.pending_requests)
                if a.pending_requests
                else _("No pending requests"),
                _("Open men&torships"),
                _("Open mentorships"),
            ),
            (
                "schedule",
                (
                    ngettext("{count} upcoming meeting", "{count} upcoming meetings", a.upcoming_meetings).format(
                        count=a.upcoming_meetings
                    )
                    if a.upcoming_meetings
                    else _("No meetings planned")
                )
                + (
                    ngettext("; {count} meeting held", "; {count} meetings held", held).format(count=held)
                    if held
                    else ""
                ),
                _("Open sc&hedule"),
                _("Open schedule"),
            ),
            (
                "mentors",
                ngettext("{count} student in your programme", "{count} students in your programme", a.students).format(
                    count=a.students
                ),
                _("&Browse students"),
                _("Browse students"),
            )
            if self.session.is_mentor
            else (
                "mentors",
                ngettext(
                    "{count} mentor in your programme to discover",
                    "{count} mentors in your programme to discover",
                    a.mentors,
                ).format(count=a.mentors),
                _("&Find a mentor"),
                _("Find a mentor"),
            ),
            (
                "library",
                _("{offline} of {total} library items available offline").format(
                    offline=a.offline_items, total=a.library
                ),
                _("Open the &library"),
                _("Open the library"),
            ),
        ]
        if self.session.admin is not None:  # admins first see what in the programme needs a look
            figures = figures or self.session.admin.figures()
            concerns = len(figures.waiting) + len(figures.quiet)
            text = ngettext(
                "Programme: {count} request or mentorship needs a look; {unmatched} students without a mentor",
                "Programme: {count} requests or mentorships need a look; {unmatched} students without a mentor",
                concerns,
            ).format(count=concerns, unmatched=len(figures.unmatched))
            rows.insert(0, ("programme", text, _("Open the &programme"), _("Open the programme")))
        self.lines = {}
        for row, (view, text, label, name) in enumerate(rows):
            line = QLabel(text)
            line.setAccessibleName(text)
            self.lines[view] = line
            self.grid.addWidget(line, row, 0)
            self.grid.addWidget(button(label, name, lambda v=view: self.navigate.emit(v)), row, 1)
