"""Mentorships: requests (asked, waiting, answered) and each mentorship's plan: the agreement both sign, goals
with due dates and a progress bar, check-ins, and next steps suggested from the plan."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.mentorship import DAY_MS, Mentorship
from desktop.domain.programme import introductions
from desktop.domain.session import Session
from desktop.i18n import N_, _, format_date
from desktop.ui.common import ERROR_STYLE, button, heading, line_edit
from desktop.ui.views.mentors import reason_line
from desktop.ui.views.progress_chart import ProgressChart

STATUS = {
    "pending": N_("waiting for an answer"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "expired": N_("expired after 14 days without an answer"),
    "withdrawn": N_("withdrawn"),
}


def _now() -> int:
    return int(time.time() * 1000)


class MentorshipsView(QWidget):
    navigate = Signal(str)
    suggest_again = Signal(str)  # the mentor who declined: suggestions without them

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setAccessibleName(_("Mentorships"))
        self.me = session.program.credentials.account.hex()
        self.plans = session.mentorships
        self.current: str | None = None
        self.asking: str | None = None
        self.offering = False
        layout = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Mentorships status"))

        # a new request, shown when the person asks from the Mentors view
        self.ask_box = QWidget()
        ask_layout = QFormLayout(self.ask_box)
        self.ask_title = heading("", 1.1)
        self.ask_text = QPlainTextEdit()
        self.ask_text.setAccessibleName(_("Your request"))
        self.ask_text.setMaximumHeight(80)
        self.ask_goals = QPlainTextEdit()
        self.ask_goals.setAccessibleName(_("Your goals, one per line"))
        self.ask_goals.setMaximumHeight(60)
        ask_layout.addRow(self.ask_title)
        ask_layout.addRow(_("&Message:"), self.ask_text)
        ask_layout.addRow(_("&Goals (one per line):"), self.ask_goals)
        self.send_request = button(_("Send the &request"), _("Send the request"), self._send_request)
        ask_layout.addRow(self.send_request)
        self.ask_box.hide()
        layout.addWidget(self.ask_box)

        splitter = QSplitter()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.intro_heading = heading(_("Introductions from the programme"), 1.1)
        self.intros = QListWidget()
        self.intros.setAccessibleName(_("Introductions from the programme"))
        self.intros.setWordWrap(True)
        self.intros.setMaximumHeight(110)
        self.intro_button = button(_("&Follow up the introduction"), _("Follow up the introduction"), self._follow_up)
        for widget in (self.intro_heading, self.intros, self.intro_button):
            left_layout.addWidget(widget)
        left_layout.addWidget(heading(_("Requests"), 1.1))
        self.requests = QListWidget()
        self.requests.setAccessibleName(_("Requests"))
        self.requests.setWordWrap(True)
        left_layout.addWidget(self.requests, 1)
        answer = QHBoxLayout()
        self.reason = line_edit(_("Reason for declining"), _("Reason, if you decline"))
        self.accept_button = button(_("&Accept"), _("Accept request"), lambda: self._answer(True))
        self.decline_button = button(_("&Decline"), _("Decline request"), lambda: self._answer(False))
        answer.addWidget(self.reason, 1)
        answer.addWidget(self.accept_button)
        answer.addWidget(self.decline_button)
        left_layout.addLayout(answer)
        self.another_button = button(_("Find &another mentor"), _("Find another mentor"), self._next_suggestions)
        left_layout.addWidget(self.another_button)
        left_layout.addWidget(heading(_("Your mentorships"), 1.1))
        self.list = QListWidget()
        self.list.setAccessibleName(_("Your mentorships"))
        self.list.currentItemChanged.connect(self._chosen)
        left_layout.addWidget(self.list, 1)
        splitter.addWidget(left)

        right = self.plan_panel = QWidget()
        form_layout = QVBoxLayout(right)
        self.plan_title = heading(_("No mentorship selected"), 1.1)
        form_layout.addWidget(self.plan_title)
        self.progress = QProgressBar()
        self.progress.setAccessibleName(_("Goals done"))
        self.progress.setFormat(_("%v of %m goals done"))
        form_layout.addWidget(self.progress)
        self.chart = ProgressChart()
        form_layout.addWidget(self.chart)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        labels = {
            "goals": _("Goals:"),
            "expectations": _("Expectations:"),
            "cadence": _("Meeting cadence:"),
            "duration": _("Duration:"),
            "mode": _("Communication:"),
        }
        for name, label in labels.items():
            widget = line_edit(label.rstrip(" :"))
            self.fields[name] = widget
            form.addRow(label, widget)
        form_layout.addLayout(form)
        row = QHBoxLayout()
        self.save_button = button(_("Sa&ve the agreement"), _("Save the agreement"), self._save)
        self.sign_button = button(_("&Sign the agreement"), _("Sign the agreement"), self._sign)
        self.signatures = QLabel()
        self.signatures.setAccessibleName(_("Signatures"))
        row.addWidget(self.save_button)
        row.addWidget(self.sign_button)
        row.addWidget(self.signatures, 1)
        form_layout.addLayout(row)
        self.goal_list = QListWidget()
        self.goal_list.setAccessibleName(_("Goals and milestones"))
        self.goal_list.itemChanged.connect(self._goal_ticked)
        form_layout.addWidget(self.goal_list)
        goal_row = QHBoxLayout()
        self.goal_title = line_edit(_("New goal"), _("New goal or milestone"))
        self.goal_days = QSpinBox()
        self.goal_days.setRange(0, 365)
        self.goal_days.setValue(14)
        self.goal_days.setSuffix(_(" days"))
        self.goal_days.setAccessibleName(_("Due in days"))
        goal_row.addWidget(self.goal_title, 1)
        goal_row.addWidget(self.goal_days)
        self.add_goal_button = button(_("Add &goal"), _("Add goal"), self._add_goal)
        goal_row.addWidget(self.add_goal_button)
        form_layout.addLayout(goal_row)
        check = QFormLayout()
        self.check_progress = line_edit(_("Progress"))
        self.check_blockers = line_edit(_("Blockers"))
        self.check_next = line_edit(_("Next steps"))
        check.addRow(_("Progress:"), self.check_progress)
        check.addRow(_("Blockers:"), self.check_blockers)
        check.addRow(_("Next steps:"), self.check_next)
        form_layout.addLayout(check)
        form_layout.addWidget(button(_("Send a &check-in"), _("Send a check-in"), self._check_in))
        feedback = QFormLayout()
        self.feedback_mid = line_edit(_("Mid-point feedback"))
        self.feedback_end = line_edit(_("Closing feedback"))
        self.outcome = line_edit(_("Outcome"), _("e.g. paper submitted, residency match, exam passed"))
        feedback.addRow(_("Mid-point feedback:"), self.feedback_mid)
        feedback.addRow(_("Closing feedback:"), self.feedback_end)
        feedback.addRow(_("Outcome:"), self.outcome)
        form_layout.addLayout(feedback)
        self.feedback_button = button(_("Save my &feedback"), _("Save my feedback"), self._save_feedback)
        form_layout.addWidget(self.feedback_button)
        self.next_steps = QLabel()
        self.next_steps.setWordWrap(True)
        self.next_steps.setAccessibleName(_("Suggested next steps"))
        form_layout.addWidget(self.next_steps)
        self.checkins = QLabel()
        self.checkins.setWordWrap(True)
        self.checkins.setAccessibleName(_("Check-ins"))
        form_layout.addWidget(self.checkins)
        form_layout.addStretch(1)
        splitter.addWidget(right)
        right.setEnabled(False)  # until a mentorship is chosen
        self.progress.hide()
        self.chart.hide()
        splitter.setSizes([360, 600])
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self.refresh()

    # -- data -----------------------------------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        return {c.account: c.name for c in self.session.cards()} | {self.me: _("you")}

    def refresh(self) -> None:
        if self.plans is None:
            return
        names, now = self._names(), _now()
        self._show_introductions(names)
        self.requests.clear()
        for request in self.plans.requests():
            mine = request.answerer != self.me  # I asked (or offered); the other answers
            who = names.get(request.mentor if request.student == self.me else request.student, _("Someone"))
            status = _(STATUS[request.status(now)])
            if request.reason:
                status += " — " + request.reason
            line = (_("To {name}: {status}") if mine else _("From {name}: {status}")).format(name=who, status=status)
            item = QListWidgetItem(f"{line}\n{request.text[:120]}")
            item.setData(Qt.ItemDataRole.UserRole, request.id)
            self.requests.addItem(item)
        self.list.blockSignals(True)
        self.list.clear()
        for plan in self.plans.mentorships():
            other = plan.mentor if plan.student == self.me else plan.student
            done, total = plan.progress()
            item = QListWidgetItem(
                _("With {name} · {done}/{total} goals").format(
                    name=names.get(other, _("Someone")), done=done, total=total
                )
            )
            item.setData(Qt.ItemDataRole.UserRole, plan.id)
            self.list.addItem(item)
            if plan.id == self.current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self.current:
            self._show(self.current)

    def _show_introductions(self, names: dict[str, str]) -> None:
        """The programme's introductions of this person that no request has followed yet."""
        asked = {(r.student, r.mentor) for r in self.plans.requests()} if self.plans else set()
        self.intros.clear()
        for intro in introductions(self.session.vault):
            if self.me not in (intro.student, intro.mentor) or (intro.student, intro.mentor) in asked:
                continue
            i_am_student = intro.student == self.me
            other = intro.mentor if i_am_student else intro.student
            text = (
                _("The programme suggests {name} as your mentor.")
                if i_am_student
                else _("The programme suggests you mentor {name}.")
            ).format(name=names.get(other, _("Someone")))
            why = "; ".join(reason_line(r.text, r.values) for r in intro.reasons[:3])
            item = QListWidgetItem(f"{text}\n{why}" if why else text)
            item.setData(Qt.ItemDataRole.UserRole, (other, not i_am_student))
            self.intros.addItem(item)
        shown = self.intros.count() > 0
        for widget in (self.intro_heading, self.intros, self.intro_button):
            widget.setVisible(shown)
        if shown and self.intros.currentRow() < 0:
            self.intros.setCurrentRow(0)

    def _follow_up(self) -> None:
        item = self.intros.currentItem()
        if item is None:
            return
        other, offer = item.data(Qt.ItemDataRole.UserRole)
        self.ask(other, offer=offer)

    def clear(self) -> None:
        self.intros.clear()
        self.requests.clear()
        self.list.clear()
        self.goal_list.clear()

    # -- requests -------------------------------------------------------------------------------------------

    def ask(self, account: str, offer: bool = False) -> None:
        """Prepare a request to ``account`` (from the Mentors view), or a mentor's offer to a student."""
        self.asking, self.offering = account, offer
        name = self._names().get(account, _("this mentor") if not offer else _("this student"))
        self.ask_title.setText(
            (_("Offer to mentor {name}") if offer else _("Ask {name} to be your mentor")).format(name=name)
        )
        self.ask_box.show()
        self.ask_text.setFocus()

    def _send_request(self) -> None:
        if self.plans is None or self.asking is None:
            return
        try:
            send = self.plans.offer if self.offering else self.plans.ask
            send(self.asking, self.ask_text.toPlainText(), self.ask_goals.toPlainText().splitlines(), _now())
        except ValueError:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(_("Write a few words about what you hope to work on."))
            return
        self.status.setStyleSheet("")
        self.status.setText(_("Request queued: it goes out with the next sync. Requests expire after 14 days."))
        self.ask_text.clear()
        self.ask_goals.clear()
        self.ask_box.hide()
        self.asking = None
        self.session.scheduler.local_change()
        self.refresh()

    def _next_suggestions(self) -> None:
        """After a decline, the next suggestions: the directory ranked again, without the mentor who declined."""
        now = _now()
        declined = [
            r
            for r in (self.plans.requests() if self.plans else [])
            if r.student == self.me and r.status(now) in ("declined", "expired")
        ]
        self.suggest_again.emit(declined[0].mentor if declined else "")

    def _answer(self, accept: bool) -> None:
        item = self.requests.currentItem()
        if self.plans is None or item is None:
            self.status.setText(_("Select a request first."))
            return
        try:
            self.plans.answer(item.data(Qt.ItemDataRole.UserRole), accept, self.reason.text())
        except ValueError:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(_("Only a pending request to you can be answered, and a decline says why."))
            return
        self.status.setStyleSheet("")
        self.status.setText(_("Answer queued: it goes out with the next sync."))
        self.reason.clear()
        self.session.scheduler.local_change()
        self.refresh()

    # -- the plan -------------------------------------------------------------------------------------------

    def _chosen(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None:
            self._show(current.data(Qt.ItemDataRole.UserRole))

    def _show(self, plan_id: str) -> None:
        assert self.plans is not None
        plan = self.plans.mentorship(plan_id)
        if plan is None:
            return
        self.current = plan_id
        self.plan_panel.setEnabled(True)
        self.progress.show()
        self.chart.show()
        names = self._names()
        other = plan.mentor if plan.student == self.me else plan.student
        self.plan_title.setText(_("Mentorship with {name}").format(name=names.get(other, _("Someone"))))
        for name, widget in self.fields.items():
            if not widget.hasFocus():
                widget.setText(str(plan.value(name, "") or ""))
        self.signatures.setText(self._signatures(plan, names))
        done, total = plan.progress()
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.chart.set_data(*plan.timeline(_now()), done, total)
        self.goal_list.blockSignals(True)
        self.goal_list.clear()
        for goal in plan.goals():
            due = format_date(datetime.fromtimestamp(goal["due"] / 1000, UTC)) if goal["due"] else _("no date")
            item = QListWidgetItem(_("{title} (due {due})").format(title=goal["title"], due=due))
            item.setData(Qt.ItemDataRole.UserRole, goal["id"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if goal["done"] else Qt.CheckState.Unchecked)
            self.goal_list.addItem(item)
        self.goal_list.blockSignals(False)
        for widget, name in (
            (self.feedback_mid, f"feedback:mid:{self.me}"),
            (self.feedback_end, f"feedback:end:{self.me}"),
            (self.outcome, "outcome"),
        ):
            if not widget.hasFocus():
                widget.setText(str(plan.value(name, "") or ""))
        steps = plan.next_steps(_now(), self.me)
        self.next_steps.setText(
            _("Suggested next steps:") + "\n" + "\n".join("• " + _(text).format(**values) for text, values in steps)
            if steps
            else _("Nothing pressing: keep going.")
        )
        self.checkins.setText(
            "\n".join(
                _("{who}, {when}: {progress} · blockers: {blockers} · next: {next}").format(
                    who=names.get(c["by"], _("Someone")),
                    when=format_date(datetime.fromtimestamp(c["at"] / 1000, UTC)),
                    progress=c["progress"],
                    blockers=c["blockers"] or "—",
                    next=c["next"],
                )
                for c in plan.checkins[-5:]
            )
        )

    def _signatures(self, plan: Mentorship, names: dict[str, str]) -> str:
        if plan.fully_signed:
            return _("Signed by both of you.")
        missing = [names.get(a, _("Someone")) for a in (plan.student, plan.mentor) if not plan.signed_by(a)]
        return _("Waiting for a signature from: {names}").format(names=", ".join(missing))

    def _changed(self, message: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(message)
        self.session.scheduler.local_change()
        self.refresh()

    def _save(self) -> None:
        if self.plans is None or self.current is None:
            return
        plan = self.plans.mentorship(self.current)
        for name, widget in self.fields.items():
            if widget.text() != (plan.value(name, "") or ""):
                self.plans.set(self.current, name, widget.text())
        self._changed(_("Agreement saved; both of you sign it again if it changed."))

    def _sign(self) -> None:
        if self.plans is not None and self.current is not None:
            self.plans.sign(self.current)
            self._changed(_("You signed the agreement."))

    def _add_goal(self) -> None:
        if self.plans is None or self.current is None or not self.goal_title.text().strip():
            return
        due = _now() + self.goal_days.value() * DAY_MS if self.goal_days.value() else 0
        self.plans.add_goal(self.current, self.goal_title.text(), due)
        self.goal_title.clear()
        self._changed(_("Goal added."))

    def _goal_ticked(self, item: QListWidgetItem) -> None:
        if self.plans is not None and self.current is not None:
            done = item.checkState() == Qt.CheckState.Checked
            self.plans.set(self.current, f"goal:{item.data(Qt.ItemDataRole.UserRole)}:done", done)
            self._changed(_("Goal updated."))

    def _save_feedback(self) -> None:
        if self.plans is None or self.current is None:
            return
        plan = self.plans.mentorship(self.current)
        for widget, name in (
            (self.feedback_mid, f"feedback:mid:{self.me}"),
            (self.feedback_end, f"feedback:end:{self.me}"),
            (self.outcome, "outcome"),
        ):
            if widget.text() != (plan.value(name, "") or ""):
                self.plans.set(self.current, name, widget.text())
        self._changed(_("Feedback saved; it goes to your mentorship partner with the next sync."))

    def _check_in(self) -> None:
        if self.plans is None or self.current is None or not self.check_progress.text().strip():
            self.status.setText(_("Write at least your progress."))
            return
        self.plans.check_in(
            self.current, self.check_progress.text(), self.check_blockers.text(), self.check_next.text(), _now()
        )
        for field in (self.check_progress, self.check_blockers, self.check_next):
            field.clear()
        self._changed(_("Check-in sent with the next sync."))
