"""Mentorships: introductions from the programme, requests (asked, waiting, answered), the list of this person's
mentorships, and the chosen one's plan (``plan_panel.PlanPanel``)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.mentorship import DAY_MS, REQUEST_DAYS
from desktop.domain.programme import introductions
from desktop.domain.session import Session
from desktop.i18n import N_, _, ngettext
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button, heading, line_edit
from desktop.ui.layout import RememberedSplitter, empty_state, scrolling
from desktop.ui.theme import primary
from desktop.ui.views.mentor_detail import reason_line
from desktop.ui.views.plan_panel import PlanPanel
from desktop.ui.views.portfolio_panel import PortfolioPanel

STATUS = {
    "pending": N_("waiting for an answer"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "expired": N_("expired after 14 days without an answer"),
    "withdrawn": N_("withdrawn"),
}


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
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Mentorships status"))

        # a new request, shown when the person asks from the Mentors view
        self.ask_box = QWidget()
        ask_layout = QFormLayout(self.ask_box)
        self.ask_title = heading("", 1.1)
        self.ask_text = QPlainTextEdit()
        self.ask_text.setAccessibleName(_("Your request"))
        self.ask_text.setMaximumHeight(80)
        self.ask_text.setTabChangesFocus(True)  # Tab leaves the box: a tab character means nothing in a request
        self.ask_goals = QPlainTextEdit()
        self.ask_goals.setAccessibleName(_("Your goals, one per line"))
        self.ask_goals.setMaximumHeight(60)
        self.ask_goals.setTabChangesFocus(True)
        ask_layout.addRow(self.ask_title)
        ask_layout.addRow(_("&Message:"), self.ask_text)
        ask_layout.addRow(_("&Goals (one per line):"), self.ask_goals)
        self.send_request = primary(button(_("Send the &request"), _("Send the request"), self._send_request))
        ask_layout.addRow(self.send_request)
        self.ask_box.hide()
        layout.addWidget(self.ask_box)

        splitter = RememberedSplitter("mentorships", session.settings_store, [360, 600])
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
        empty_state(self.list, _("No mentorship yet. Find a mentor in Mentors and send them a request."))
        empty_state(self.requests, _("No requests. Requests you send or receive wait here for an answer."))
        left_layout.addWidget(self.list, 1)
        self.portfolio = PortfolioPanel(session)
        self.portfolio.said.connect(self._said)
        left_layout.addWidget(self.portfolio)
        splitter.addWidget(scrolling(left))

        self.plan = PlanPanel(session)
        self.plan.changed.connect(self._changed)
        splitter.addWidget(scrolling(self.plan))  # a long plan scrolls; it never makes the window taller
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self.refresh()

    # -- data -----------------------------------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        return {c.account: c.name for c in self.session.cards()} | {self.me: _("you")}

    def refresh(self) -> None:
        if self.plans is None:
            return
        names, now = self._names(), self.session.now_ms()
        self._show_introductions(names)
        self.requests.clear()
        for request in self.plans.requests():
            mine = request.answerer != self.me  # I asked (or offered); the other answers
            who = names.get(request.mentor if request.student == self.me else request.student, _("Someone"))
            status = _(STATUS[request.status(now)])
            if request.reason:
                status += " — " + request.reason
            line = (_("To {name}: {status}") if mine else _("From {name}: {status}")).format(name=who, status=status)
            if request.needs_reminder(now):  # a week without an answer: say so, and what happens next
                days = (now - request.created) // DAY_MS
                left = max(1, REQUEST_DAYS - days)
                reminder = (
                    ngettext(
                        "No answer yet; it expires in {left} day. You can write to them or find another mentor.",
                        "No answer yet; it expires in {left} days. You can write to them or find another mentor.",
                        left,
                    )
                    if mine
                    else ngettext(
                        "Reminder: this waits for your answer and expires in {left} day.",
                        "Reminder: this waits for your answer and expires in {left} days.",
                        left,
                    )
                )
                line += "\n" + reminder.format(left=left)
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
            self.plan.show_plan(self.current, names)
        self.portfolio.refresh()

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
            why = "; ".join(reason_line(r.text, r.values, about_a_pair=not i_am_student) for r in intro.reasons[:3])
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
        self.plan.clear()

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
            send(
                self.asking,
                self.ask_text.toPlainText(),
                self.ask_goals.toPlainText().splitlines(),
                self.session.now_ms(),
            )
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
        now = self.session.now_ms()
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
            self.current = current.data(Qt.ItemDataRole.UserRole)
            self.plan.show_plan(self.current, self._names())
            self.portfolio.select(self.current)

    def _said(self, message: str, error: bool) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(message)
        if not error:
            self.refresh()

    def _changed(self, message: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(message)
        self.session.scheduler.local_change()
        self.refresh()
