"""The "Propose a meeting…" dialog (and the same form to offer other times, reschedule, or move one occurrence):
who (mentorship partners first, then anyone with a card), kind, title, link for a video call, length, how it
repeats, and the overlap finder's week to tick one to three times."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.meetings import KINDS, MAX_SLOTS, MeetingError
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button, heading
from desktop.ui.layout import scrolling
from desktop.ui.theme import primary
from desktop.ui.views.meeting_finder import MeetingFinder
from desktop.ui.views.schedule_text import DURATIONS, RECURRENCES, People, kind_label


def meeting_error(err: MeetingError) -> str:
    """The domain's own sentence for a refused change (meeting_checks.MESSAGES), translated."""
    return err.message()


def partners(session, me: str) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    """(account, mentorship id) of everyone I share a mentorship with."""
    plans = session.mentorships
    found: list[tuple[str, str | None]] = []
    for plan in plans.mentorships() if plans is not None else []:
        other = plan.mentor if plan.student == me else plan.student
        if other not in (a for a, _m in found):
            found.append((other, plan.id))
    return found


class ProposeDialog(QDialog):
    """``mode`` is "propose" (a new meeting), "reschedule" (a new round of times for ``meeting``, also how a
    proposal is answered with other times) or "move" (one occurrence of a repeating meeting to one new time)."""

    done = Signal(str)  # what happened, in words

    def __init__(
        self,
        session,  # type: ignore[no-untyped-def]
        people: People,
        parent: QWidget | None = None,
        *,
        mode: str = "propose",
        meeting_id: str = "",
        occurrence: int = 0,
        other: str = "",
    ) -> None:
        super().__init__(parent)
        self.session, self.people, self.mode = session, people, mode
        self.meetings = session.meetings
        self.meeting_id, self.occurrence = meeting_id, occurrence
        meeting = self.meetings.meeting(meeting_id) if meeting_id else None
        titles = {
            "propose": _("Propose a meeting"),
            "reschedule": _("Propose other times"),
            "move": _("Move this occurrence"),
        }
        self.setWindowTitle(titles[mode])
        self.setAccessibleName(titles[mode])
        outer = QVBoxLayout(self)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(heading(titles[mode], 1.2))
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.person = QComboBox()
        self.person.setAccessibleName(_("With"))
        self.mentorship_of: dict[str, str | None] = {}
        for account, plan in partners(session, people.me):
            self.mentorship_of[account] = plan
            self.person.addItem(_("{name} (your mentorship)").format(name=people.name(account)), account)
        for card in sorted(session.cards(), key=lambda c: c.name.casefold()):
            if card.account != people.me and card.account not in self.mentorship_of:
                self.person.addItem(card.name, card.account)
        if meeting is not None:
            other = people.other(meeting)
        if other:
            index = self.person.findData(other)
            if index < 0:
                self.person.addItem(people.name(other), other)
                index = self.person.count() - 1
            self.person.setCurrentIndex(index)
        self.person.setEnabled(mode == "propose")
        self._row(form, _("&With:"), self.person)
        self.kind = QComboBox()
        self.kind.setAccessibleName(_("Kind of meeting"))
        for kind in KINDS:
            self.kind.addItem(kind_label(kind), kind)
        self.kind_row = self._row(form, _("&Kind:"), self.kind)
        self.link = QLineEdit()
        self.link.setAccessibleName(_("Call link"))
        self.link.setPlaceholderText(_("The link of the call, in any tool"))
        self.link_label = self._row(form, _("&Link:"), self.link)
        self.title = QLineEdit()
        self.title.setAccessibleName(_("Title"))
        self.title.setPlaceholderText(_("For example: Research question, Exam plan"))
        self.title_label = self._row(form, _("&Title:"), self.title)
        self.duration = QComboBox()
        self.duration.setAccessibleName(_("How long"))
        for minutes in DURATIONS:
            self.duration.addItem(_("{minutes} minutes").format(minutes=minutes), minutes)
        self.duration.setCurrentIndex(DURATIONS.index(60))
        self._row(form, _("How l&ong:"), self.duration)
        self.repeat = QComboBox()
        self.repeat.setAccessibleName(_("Repeats"))
        for value, label in RECURRENCES:
            self.repeat.addItem(_(label), value)
        self.repeat_label = self._row(form, _("&Repeats:"), self.repeat)
        layout.addLayout(form)
        if meeting is not None:  # reschedule / move: what the meeting is stays; only its times change
            for widget in (self.kind, self.link, self.title, self.repeat):
                widget.setEnabled(False)
            self.kind.setCurrentIndex(self.kind.findData(meeting.kind))
            self.title.setText(meeting.title)
            self.link.setText(meeting.link)
            self.repeat.setCurrentIndex(max(0, self.repeat.findData(meeting.rrule)))
            slot = meeting.chosen or (meeting.slots[0] if meeting.slots else None)
            if slot is not None:
                minutes = (slot.end - slot.start) // 60_000
                if self.duration.findData(minutes) < 0:
                    self.duration.addItem(_("{minutes} minutes").format(minutes=minutes), minutes)
                self.duration.setCurrentIndex(self.duration.findData(minutes))
        layout.addWidget(heading(_("When"), 1.1))
        self.finder = MeetingFinder()
        self.finder.said.connect(self._say)
        layout.addWidget(self.finder, 1)
        outer.addWidget(scrolling(body, "propose"), 1)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Status"))
        outer.addWidget(self.status)
        buttons = QHBoxLayout()
        sends = {"propose": _("&Send the proposal"), "reschedule": _("&Send these times"), "move": _("&Move it")}
        self.send_button = primary(button(sends[mode], sends[mode].replace("&", ""), self.send))
        self.cancel_button = button(_("Close"), _("Close without sending"), self.reject)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.send_button)
        outer.addLayout(buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.person.currentIndexChanged.connect(self.refill)
        self.duration.currentIndexChanged.connect(self.refill)
        self._kind_changed()
        self.refill()
        if parent is not None and parent.window() is not None:
            room = parent.window().size()
            self.resize(min(room.width(), 760), min(room.height(), 720))

    @staticmethod
    def _row(form: QFormLayout, text: str, field: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(field)
        form.addRow(label, field)
        return label

    def _kind_changed(self) -> None:
        video = self.kind.currentData() == "video"
        self.link.setVisible(video)
        self.link_label.setVisible(video)

    def other(self) -> str:
        return self.person.currentData() or ""

    def refill(self) -> None:
        other = self.other()
        if not other:
            return
        avails = [a for a in (self.meetings.my_availability(), self.meetings.availability(other)) if a is not None]
        self.finder.set_people(
            self.people, other, avails, self.meetings.busy(), self.duration.currentData(), self.session.now_ms()
        )

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def send(self) -> None:
        slots = self.finder.chosen()
        other = self.other()
        most = 1 if self.mode == "move" else MAX_SLOTS
        if not other:
            self._say(_("Choose who the meeting is with."), True)
            return
        if not 1 <= len(slots) <= most:
            self._say(
                _("Tick one time.") if most == 1 else _("Tick one to three times: the other person picks one."), True
            )
            return
        try:
            if self.mode == "propose":
                self.meeting_id = self.meetings.propose(
                    other,
                    self.kind.currentData(),
                    self.title.text().strip(),
                    slots,
                    link=self.link.text().strip() if self.kind.currentData() == "video" else "",
                    mentorship=self.mentorship_of.get(other),
                    rrule=self.repeat.currentData(),
                    tz=self.people.my_zone,
                )
                said = _("Proposal queued for {name}: it goes out with the next sync.")
            elif self.mode == "reschedule":
                self.meetings.reschedule(self.meeting_id, slots)
                said = _("New times queued for {name}: they go out with the next sync.")
            else:
                self.meetings.move_occurrence(self.meeting_id, self.occurrence, slots[0])
                said = _("Occurrence moved; {name} hears of it with the next sync.")
        except MeetingError as err:
            self._say(meeting_error(err), True)
            return
        self.done.emit(said.format(name=self.people.name(other)))
        self.accept()
