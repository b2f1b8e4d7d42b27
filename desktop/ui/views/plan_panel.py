"""One mentorship's plan: the agreement both sign, goals and milestones with due dates, progress (a bar and a
chart), check-ins from either side, mid-point and closing feedback, the outcome, and next steps suggested from
the plan. Every change is an operation that syncs to the other person (``desktop.domain.mentorship``)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.mentorship import DAY_MS, Mentorship
from desktop.domain.session import Session
from desktop.i18n import _, ngettext
from desktop.ui.common import button, date_of_ms, heading, line_edit
from desktop.ui.layout import FlowLayout
from desktop.ui.views.library_recommend import ReadingGoals
from desktop.ui.views.progress_chart import ProgressChart


def _one_line(value: object) -> str:
    """An agreement field for a one-line editor: goals asked for one per line read "a; b"."""
    return "; ".join(line.strip() for line in str(value or "").splitlines() if line.strip())


class PlanPanel(QWidget):
    changed = Signal(str)  # what happened, in words: the view says it and refreshes

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.plans = session.mentorships
        self.me = session.program.credentials.account.hex()
        self.current: str | None = None
        form_layout = QVBoxLayout(self)
        form_layout.setContentsMargins(0, 0, 0, 0)
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
        row = FlowLayout()  # wraps at 200 % or in a wordy language
        self.save_button = button(_("Sa&ve the agreement"), _("Save the agreement"), self._save)
        self.sign_button = button(_("&Sign the agreement"), _("Sign the agreement"), self._sign)
        self.signatures = QLabel()
        self.signatures.setAccessibleName(_("Signatures"))
        row.addWidget(self.save_button)
        row.addWidget(self.sign_button)
        self.signatures.setWordWrap(True)
        form_layout.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.signatures, 1)
        form_layout.addLayout(row)
        self.goal_list = QListWidget()
        self.goal_list.setAccessibleName(_("Goals and milestones"))
        self.goal_list.itemChanged.connect(self._goal_ticked)
        form_layout.addWidget(self.goal_list)
        self.reading = ReadingGoals(session)  # recommended reading: the mentee's progress as a bar per goal
        form_layout.addWidget(self.reading)
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
        self.goal_title.returnPressed.connect(self._add_goal)  # Return adds the goal typed
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
        self.setEnabled(False)  # until a mentorship is chosen
        self.progress.hide()
        self.chart.hide()

    def clear(self) -> None:
        self.goal_list.clear()
        self.checkins.clear()

    def show_plan(self, plan_id: str, names: dict[str, str]) -> None:
        """Show the mentorship ``plan_id``; fields being edited keep what the person is typing."""
        plan = self.plans.mentorship(plan_id) if self.plans is not None else None
        if plan is None:
            return
        self.current = plan_id
        self.setEnabled(True)
        self.progress.show()
        self.chart.show()
        other = plan.mentor if plan.student == self.me else plan.student
        self.plan_title.setText(_("Mentorship with {name}").format(name=names.get(other, _("Someone"))))
        for name, widget in self.fields.items():
            if not widget.hasFocus():
                widget.setText(_one_line(plan.value(name, "")))
        self.signatures.setText(self._signatures(plan, names))
        done, total = plan.progress()
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        goals_line = (
            ngettext("{done} of {total} goal done", "{done} of {total} goals done", total).format(
                done=done, total=total
            )
            if total
            else _("No goals yet: add the first one below")
        )
        self.progress.setFormat(goals_line.replace("%", "%%"))
        self.progress.setAccessibleDescription(goals_line)
        self.chart.set_data(*plan.timeline(self.session.now_ms()), done, total)
        self.goal_list.blockSignals(True)
        self.goal_list.clear()
        for goal in plan.goals():
            due = date_of_ms(goal["due"]) if goal["due"] else _("no date")
            item = QListWidgetItem(_("{title} (due {due})").format(title=goal["title"], due=due))
            item.setData(Qt.ItemDataRole.UserRole, goal["id"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if goal["done"] else Qt.CheckState.Unchecked)
            self.goal_list.addItem(item)
        self.goal_list.blockSignals(False)
        self.reading.show_plan(plan_id)
        for widget, name in (
            (self.feedback_mid, f"feedback:mid:{self.me}"),
            (self.feedback_end, f"feedback:end:{self.me}"),
            (self.outcome, "outcome"),
        ):
            if not widget.hasFocus():
                widget.setText(str(plan.value(name, "") or ""))
        steps = plan.next_steps(self.session.now_ms(), self.me)
        self.next_steps.setText(
            _("Suggested next steps:") + "\n" + "\n".join("• " + _(text).format(**values) for text, values in steps)
            if steps
            else _("Nothing pressing: keep going.")
        )
        self.checkins.setText(
            "\n".join(
                _("{who}, {when}: {progress} · blockers: {blockers} · next: {next}").format(
                    who=names.get(c["by"], _("Someone")),
                    when=date_of_ms(c["at"]),
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

    def _save(self) -> None:
        if self.plans is None or self.current is None:
            return
        plan = self.plans.mentorship(self.current)
        for name, widget in self.fields.items():
            if widget.text() != _one_line(plan.value(name, "")):  # untouched fields stay as they were
                self.plans.set(self.current, name, widget.text())
        self.changed.emit(_("Agreement saved; both of you sign it again if it changed."))

    def _sign(self) -> None:
        if self.plans is not None and self.current is not None:
            self.plans.sign(self.current)
            self.changed.emit(_("You signed the agreement."))

    def _add_goal(self) -> None:
        if self.plans is None or self.current is None or not self.goal_title.text().strip():
            return
        due = self.session.now_ms() + self.goal_days.value() * DAY_MS if self.goal_days.value() else 0
        self.plans.add_goal(self.current, self.goal_title.text(), due)
        self.goal_title.clear()
        self.changed.emit(_("Goal added."))

    def _goal_ticked(self, item: QListWidgetItem) -> None:
        if self.plans is not None and self.current is not None:
            done = item.checkState() == Qt.CheckState.Checked
            self.plans.set(self.current, f"goal:{item.data(Qt.ItemDataRole.UserRole)}:done", done)
            self.changed.emit(_("Goal updated."))

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
        self.changed.emit(_("Feedback saved; it goes to your mentorship partner with the next sync."))

    def _check_in(self) -> None:
        if self.plans is None or self.current is None or not self.check_progress.text().strip():
            self.changed.emit(_("Write at least your progress."))
            return
        self.plans.check_in(
            self.current,
            self.check_progress.text(),
            self.check_blockers.text(),
            self.check_next.text(),
            self.session.now_ms(),
        )
        for field in (self.check_progress, self.check_blockers, self.check_next):
            field.clear()
        self.changed.emit(_("Check-in sent with the next sync."))
