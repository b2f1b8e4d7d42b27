"""One meeting on the Schedule page: what it is and when (my time and theirs), and what can be done with it: accept
a time, decline with a reason or offer other times for a proposal; reschedule, cancel, cancel or move one
occurrence of a confirmed meeting; start the live text session; add it to a calendar; and, after it, the notes
that become a check-in in the mentorship plan."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop.domain import meeting_time
from desktop.domain.meetings import Meeting, MeetingError
from desktop.formatting import format_date
from desktop.i18n import _
from desktop.ui.common import button, heading, line_edit, paragraph
from desktop.ui.layout import FlowLayout, wrapping_list
from desktop.ui.theme import primary
from desktop.ui.views.meeting_propose import meeting_error
from desktop.ui.views.schedule_text import (
    People,
    kind_label,
    locale_tag,
    meeting_title,
    pair_line,
    recurrence_label,
    state_label,
    waiting_for_me,
)

ROLE = Qt.ItemDataRole.UserRole
SHOWN_OCCURRENCES = 8  # of a repeating meeting, from now on
NOTES_BACK_MS = 60 * meeting_time.DAY_MS  # past occurrences offered for notes


def fit_rows(view: QListWidget, most_lines: int, least_lines: int = 2) -> None:
    """A short list as tall as its rows (between ``least_lines`` and ``most_lines`` lines of text): one proposal
    does not leave a tall empty box, many scroll."""
    line = view.fontMetrics().height()
    rows = sum(max(view.sizeHintForRow(r), line) for r in range(view.count()))
    frame = 2 * view.frameWidth() + 4
    view.setFixedHeight(max(least_lines * line, min(rows, most_lines * line)) + frame)


class MeetingDetail(QWidget):
    changed = Signal(str, bool)  # what happened in words, and whether it is an error
    write_to = Signal(str)  # open the conversation with this account (the live text session)
    # mode ("reschedule" | "move"), meeting id, occurrence start (ms: an object, as it is beyond a C int)
    other_times = Signal(str, str, object)

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        self.meetings = session.meetings
        self.people: People | None = None
        self.meeting: Meeting | None = None
        self.export_one = None  # the calendar's "export one meeting" action, set by the Schedule page
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = heading(_("No meeting selected"), 1.1)
        layout.addWidget(self.title)
        self.facts = paragraph("")
        self.facts.setAccessibleName(_("About this meeting"))
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.facts)

        self.times_label = QLabel(_("&Times:"))
        layout.addWidget(self.times_label)
        self.times = wrapping_list()
        self.times.setAccessibleName(_("Times"))
        self.times_label.setBuddy(self.times)
        layout.addWidget(self.times)

        self.reason = line_edit(_("Reason"), _("Reason (says why you decline or cancel)"))
        layout.addWidget(self.reason)
        actions = FlowLayout()
        self.accept_button = primary(button(_("&Accept this time"), _("Accept this time"), self._accept))
        self.decline_button = button(_("&Decline"), _("Decline the proposal"), self._decline)
        self.other_button = button(_("Propose &other times…"), _("Propose other times"), self._other_times)
        self.cancel_button = button(_("&Cancel the meeting"), _("Cancel the meeting"), self._cancel)
        self.skip_button = button(_("Cancel t&his occurrence"), _("Cancel this occurrence"), self._skip)
        self.move_button = button(_("&Move this occurrence…"), _("Move this occurrence"), self._move)
        self.live_button = button(_("Start the &live text session"), _("Start the live text session"), self._live)
        self.calendar_button = button(_("Add to my calendar (.&ics)…"), _("Add to my calendar"), lambda: self._export())
        self.buttons = (
            self.accept_button,
            self.decline_button,
            self.other_button,
            self.cancel_button,
            self.skip_button,
            self.move_button,
            self.live_button,
            self.calendar_button,
        )
        for widget in self.buttons:
            actions.addWidget(widget)
        layout.addLayout(actions)

        # the voice engineer's recorder (voice_note.VoiceRecorder) goes here for asynchronous meetings
        self.voice_place = QVBoxLayout()
        layout.addLayout(self.voice_place)
        self.voice = None

        self.notes_box = QWidget()
        notes = QFormLayout(self.notes_box)
        notes.setContentsMargins(0, 0, 0, 0)
        notes.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        notes.addRow(heading(_("After the meeting: notes"), 1.0))
        self.occurrence = QComboBox()
        self.occurrence.setAccessibleName(_("Which meeting the notes are for"))
        self.progress = line_edit(_("Progress"))
        self.blockers = line_edit(_("Blockers"))
        self.next_steps = line_edit(_("Next steps"))
        for text, field in (
            (_("&Meeting of:"), self.occurrence),
            (_("&Progress:"), self.progress),
            (_("&Blockers:"), self.blockers),
            (_("&Next steps:"), self.next_steps),
        ):
            label = QLabel(text)
            label.setBuddy(field)
            notes.addRow(label, field)
        self.notes_button = button(_("Save the &notes"), _("Save the notes"), self._save_notes)
        notes.addRow(self.notes_button)
        self.notes_shown = paragraph("")
        self.notes_shown.setAccessibleName(_("Notes so far"))
        notes.addRow(self.notes_shown)
        layout.addWidget(self.notes_box)
        layout.addStretch(1)
        self.show_meeting(None, None)

    def _recorder(self) -> None:
        """The voice-note recorder under an asynchronous meeting, when the voice notes are built in."""
        if self.voice is not None:
            return
        try:
            from desktop.ui.views.voice_note import VoiceRecorder  # the voice engineer's widget
        except ImportError:
            return
        self.voice = VoiceRecorder(parent=self)
        self.voice.send_wanted.connect(self._send_voice)
        self.voice_place.addWidget(self.voice)

    def _send_voice(self, note: bytes) -> None:
        """The recorder's Send: the note goes sealed as an audio/ogg attachment to the other person's
        conversation, titled with the meeting it belongs to."""
        from desktop.domain import voice  # present whenever the recorder is
        from desktop.domain.messaging import MissingKeys

        messaging = self.session.messaging
        if self.meeting is None or self.people is None or messaging is None or self.voice is None:
            return
        other = self.people.other(self.meeting)
        text = _("Voice note for the meeting “{title}”").format(title=self.meeting.title)
        try:
            messaging.send(messaging.start_direct(other), text, voice.attachment(note))
        except voice.VoiceError as exc:
            self.voice.say(str(exc), error=True)
            return
        except MissingKeys:
            self.voice.say(_("This person has not published security keys yet. Try again after the next sync."), True)
            return
        self.voice.sent()
        said = _("Voice note queued for {name}: it goes out with the next sync.").format(name=self._name())
        self.changed.emit(said, False)

    # -- showing --------------------------------------------------------------------------------------------

    def show_meeting(self, meeting: Meeting | None, people: People | None) -> None:
        self.meeting, self.people = meeting, people
        for widget in self.buttons:
            widget.hide()
        self.times.clear()
        if meeting is None or people is None:
            self.title.setText(_("No meeting selected"))
            self.facts.setText(_("Choose a meeting in the list, or propose one."))
            for widget in (self.times_label, self.times, self.reason, self.notes_box):
                widget.hide()
            if self.voice is not None:
                self.voice.hide()
            return
        now, other = self.session.now_ms(), people.other(meeting)
        self.title.setText(meeting_title(meeting, people))
        facts = [
            _("Kind: {kind}").format(kind=kind_label(meeting.kind)),
            _("State: {state}").format(state=state_label(meeting.state)),
            _("Repeats: {how}").format(how=recurrence_label(meeting.rrule)),
        ]
        if meeting.link:
            facts.append(_("Link: {link}").format(link=meeting.link))
        if meeting.reason:
            facts.append(_("Reason given: {reason}").format(reason=meeting.reason))
        if meeting.state == "proposed":
            facts.append(
                _("{name} proposed these times: pick one.").format(name=people.name(other))
                if waiting_for_me(meeting, people.me, now)
                else _("Waiting for {name} to pick a time.").format(name=people.name(other))
            )
        self.facts.setText("\n".join(facts))
        self.times_label.show()
        self.times.show()
        if meeting.state == "proposed":
            self.times_label.setText(_("&Times offered:"))
            for index, slot in enumerate(meeting.slots):
                self._time_row(pair_line(people, other, slot.start, slot.end), index)
        elif meeting.state == "confirmed":
            self.times_label.setText(_("&Times:"))
            for slot in meeting.occurrences(now - meeting_time.DAY_MS, now + 400 * meeting_time.DAY_MS)[
                :SHOWN_OCCURRENCES
            ]:
                self._time_row(pair_line(people, other, slot.start, slot.end), meeting.occurrence_of(slot))
        else:
            for slot in meeting.slots[:1] if meeting.chosen is None else (meeting.chosen,):
                self._time_row(pair_line(people, other, slot.start, slot.end), slot.start)
        if self.times.count():
            self.times.setCurrentRow(0)
        fit_rows(self.times, 10)
        waiting = waiting_for_me(meeting, people.me, now)
        confirmed = meeting.state == "confirmed"
        self.accept_button.setVisible(waiting)
        self.decline_button.setVisible(waiting)
        self.other_button.setVisible(meeting.state == "proposed")
        self.other_button.setText(_("Propose &other times…") if waiting else _("Change the &times…"))
        self.cancel_button.setVisible(confirmed or (meeting.state == "proposed" and meeting.proposer == people.me))
        self.skip_button.setVisible(confirmed and bool(meeting.rrule))
        self.move_button.setVisible(confirmed and bool(meeting.rrule))
        if confirmed and not meeting.rrule:
            self.other_button.setText(_("Re&schedule…"))
            self.other_button.show()
        self.live_button.setVisible(meeting.kind == "live-text" and meeting.state in ("confirmed", "proposed"))
        self.calendar_button.setVisible(confirmed and self.export_one is not None)
        self.reason.setVisible(waiting or self.cancel_button.isVisible())
        if meeting.kind == "async" and meeting.state == "confirmed":
            self._recorder()
        if self.voice is not None:
            self.voice.setVisible(meeting.kind == "async")
        self._show_notes(meeting, people, now)

    def _time_row(self, text: str, value: int) -> None:
        item = QListWidgetItem(text)
        item.setData(ROLE, value)
        self.times.addItem(item)

    def _show_notes(self, meeting: Meeting, people: People, now: int) -> None:
        held = (
            [s for s in meeting.occurrences(now - NOTES_BACK_MS, now + 1) if s.start <= now]
            if (meeting.state == "confirmed")
            else []
        )
        self.notes_box.setVisible(bool(held))
        kept = self.occurrence.currentData()
        self.occurrence.clear()
        for slot in reversed(held):  # the latest first
            when = meeting_time.format_slot(slot.start, slot.end, people.my_zone, locale_tag())
            self.occurrence.addItem(when, meeting.occurrence_of(slot))
        if kept is not None and self.occurrence.findData(kept) >= 0:
            self.occurrence.setCurrentIndex(self.occurrence.findData(kept))
        lines = []
        for start, note in sorted(meeting.notes.items()):
            lines.append(
                _("{when}: {progress} · blockers: {blockers} · next: {next}").format(
                    when=format_date(meeting_time.to_local(start, people.my_zone).date()),
                    progress=note.get("progress", ""),
                    blockers=note.get("blockers") or "—",
                    next=note.get("next", ""),
                )
            )
        self.notes_shown.setText("\n".join(lines))
        self.notes_shown.setVisible(bool(lines))

    # -- actions --------------------------------------------------------------------------------------------

    def _selected(self) -> int | None:
        item = self.times.currentItem()
        return None if item is None else item.data(ROLE)

    def _do(self, action, said: str) -> bool:  # type: ignore[no-untyped-def]
        try:
            action()
        except MeetingError as err:
            self.changed.emit(meeting_error(err), True)
            return False
        self.reason.clear()
        self.changed.emit(said, False)
        return True

    def _name(self) -> str:
        assert self.meeting is not None and self.people is not None
        return self.people.name(self.people.other(self.meeting))

    def _accept(self) -> None:
        index = self._selected()
        if self.meeting is None or index is None:
            self.changed.emit(_("Choose one of the times first."), True)
            return
        meeting_id = self.meeting.id
        self._do(
            lambda: self.meetings.accept(meeting_id, index),
            _("Accepted; {name} hears of it with the next sync.").format(name=self._name()),
        )

    def _decline(self) -> None:
        if self.meeting is None:
            return
        if not self.reason.text().strip():
            self.changed.emit(_("Say in a few words why you decline."), True)
            self.reason.setFocus()
            return
        meeting_id, reason = self.meeting.id, self.reason.text().strip()
        self._do(
            lambda: self.meetings.decline(meeting_id, reason),
            _("Declined; {name} hears of it with the next sync.").format(name=self._name()),
        )

    def _cancel(self) -> None:
        if self.meeting is None:
            return
        meeting_id, reason = self.meeting.id, self.reason.text().strip()
        self._do(
            lambda: self.meetings.cancel(meeting_id, reason),
            _("Meeting cancelled; {name} hears of it with the next sync.").format(name=self._name()),
        )

    def _skip(self) -> None:
        start = self._selected()
        if self.meeting is None or start is None:
            self.changed.emit(_("Choose the occurrence first."), True)
            return
        meeting_id = self.meeting.id
        self._do(
            lambda: self.meetings.move_occurrence(meeting_id, start, None),
            _("That occurrence is cancelled; {name} hears of it with the next sync.").format(name=self._name()),
        )

    def _other_times(self) -> None:
        if self.meeting is not None:
            self.other_times.emit("reschedule", self.meeting.id, 0)

    def _move(self) -> None:
        start = self._selected()
        if self.meeting is None or start is None:
            self.changed.emit(_("Choose the occurrence first."), True)
            return
        self.other_times.emit("move", self.meeting.id, start)

    def _live(self) -> None:
        if self.meeting is not None and self.people is not None:
            self.write_to.emit(self.people.other(self.meeting))

    def _export(self) -> None:
        if self.meeting is not None and self.export_one is not None:
            self.export_one(self.meeting)

    def _save_notes(self) -> None:
        start = self.occurrence.currentData()
        if self.meeting is None or start is None:
            return
        if not self.progress.text().strip():
            self.changed.emit(_("Write at least the progress made."), True)
            self.progress.setFocus()
            return
        meeting_id = self.meeting.id
        progress, blockers, next_steps = (f.text().strip() for f in (self.progress, self.blockers, self.next_steps))
        in_plan = self.meeting.mentorship is not None
        for field in (self.progress, self.blockers, self.next_steps):
            field.clear()  # before the page redraws with the notes kept
        saved = self._do(
            lambda: self.meetings.record_notes(meeting_id, start, progress, blockers, next_steps),
            _("Notes saved, and added to your mentorship plan as a check-in.") if in_plan else _("Notes saved."),
        )
        if not saved:
            fields = (self.progress, self.blockers, self.next_steps)
            for field, text in zip(fields, (progress, blockers, next_steps), strict=True):
                field.setText(text)
