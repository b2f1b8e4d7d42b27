"""Programme (admins only): cohort figures from metadata, what needs a look and why, and cohort assignment that is
reviewed before it is published as introductions."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.programme import CohortFigures, Concern, Proposal
from desktop.domain.session import Session
from desktop.formatting import format_number, format_relative
from desktop.i18n import C_, _, ngettext
from desktop.ui.common import ERROR_STYLE, button, date_of_ms, heading, paragraph
from desktop.ui.views.mentor_detail import reason_line


def _item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


def _table(name: str, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setAccessibleName(name)
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(True)
    return table


class ProgrammeView(QWidget):
    """What a programme administrator sees: counts and people, never what anyone wrote."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.admin = session.admin
        self.proposals: list[Proposal] = []
        self.setAccessibleName(_("Programme"))
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Programme")))
        layout.addWidget(
            paragraph(
                _(
                    "Figures come from metadata that members' apps share with the programme (requests asked and "
                    "answered, days with activity) and from each account's last sync. You never see messages, "
                    "goals or feedback."
                )
            )
        )
        self.presence_line = QLabel()
        self.presence_line.setAccessibleName(_("Last-sync figures"))
        self.refresh_button = button(_("&Refresh figures"), _("Refresh figures"), self._refresh_figures)
        row = QHBoxLayout()
        row.addWidget(self.presence_line, 1)
        row.addWidget(self.refresh_button)
        layout.addLayout(row)

        grid = QGridLayout()
        self.figures: dict[str, QLabel] = {}
        for column, (key, name) in enumerate(
            (
                ("matched", _("Students matched")),
                ("unmatched", _("Students without a mentor")),
                ("waiting", _("Requests waiting over 7 days")),
                ("quiet", _("Mentorships quiet for 30 days")),
                ("expired", _("Requests expired")),
                ("introduced", _("Introductions not yet followed up")),
                ("held", _("Meetings held")),
            )
        ):
            number = QLabel("–")
            font = number.font()
            font.setPointSizeF(font.pointSizeF() * 1.8)
            font.setBold(True)
            number.setFont(font)
            number.setAccessibleName(name)
            number.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            caption = QLabel(name)
            caption.setWordWrap(True)
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            grid.addWidget(number, 0, column)
            grid.addWidget(caption, 1, column)
            self.figures[key] = number
        layout.addLayout(grid)

        layout.addWidget(heading(_("Needs a look"), 1.15))
        self.concerns = _table(
            _("Requests and mentorships that need a look"),
            [_("What"), _("Student"), _("Mentor"), _("Since"), _("Why")],
        )
        layout.addWidget(self.concerns, 1)

        layout.addWidget(heading(_("Assign the cohort"), 1.15))
        layout.addWidget(
            paragraph(
                _(
                    "Match every student who has no mentor, no open request and no introduction yet, all at once: the "
                    "pairs with the highest total score within each mentor's open places. Review them, untick any "
                    "pair to leave out, then publish: both people receive an introduction and decide themselves."
                )
            )
        )
        actions = QHBoxLayout()
        self.propose_button = button(_("&Propose pairs"), _("Propose pairs"), self.propose)
        self.publish_button = button(_("P&ublish introductions"), _("Publish introductions"), self.publish)
        self.publish_button.setEnabled(False)
        self.cohort_status = QLabel()
        self.cohort_status.setWordWrap(True)
        self.cohort_status.setAccessibleName(_("Cohort assignment status"))
        actions.addWidget(self.propose_button)
        actions.addWidget(self.publish_button)
        actions.addWidget(self.cohort_status, 1)
        layout.addLayout(actions)
        self.pairs = _table(
            _("Proposed pairs"),
            [C_("column: whether to publish this pair", "Publish"), _("Student"), _("Mentor"), _("Score"), _("Why")],
        )
        layout.addWidget(self.pairs, 1)

    # -- figures -------------------------------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        return {c.account: c.name for c in self.session.cards()}

    def refresh(self, figures: CohortFigures | None = None) -> None:
        if self.admin is None:
            return
        figures = figures or self.admin.figures()
        names = self._names()
        total = len(figures.students)
        self.figures["matched"].setText(
            _("{matched} of {total}").format(matched=format_number(len(figures.matched)), total=format_number(total))
        )
        self.figures["unmatched"].setText(format_number(len(figures.unmatched)))
        self.figures["waiting"].setText(format_number(len(figures.waiting)))
        self.figures["quiet"].setText(format_number(len(figures.quiet)))
        self.figures["expired"].setText(format_number(figures.expired))
        self.figures["introduced"].setText(format_number(figures.introduced))
        self.figures["held"].setText(format_number(figures.meetings_held))
        self.figures["introduced"].setToolTip(
            ngettext(
                "{count} introduction was followed by a request.",
                "{count} introductions were followed by a request.",
                figures.followed,
            ).format(count=figures.followed)
        )
        if figures.presence_at is None:
            self.presence_line.setText(_("Last syncs not fetched yet: refresh when you are online."))
        else:
            ago = timedelta(seconds=max(0, int(self.session.wall.time()) - figures.presence_at))
            self.presence_line.setText(_("Last syncs fetched {when}.").format(when=format_relative(-ago)))
        rows = [(_("Request unanswered"), c) for c in figures.waiting]
        rows += [(_("Mentorship quiet"), c) for c in figures.quiet]
        self.concerns.setRowCount(len(rows))
        for row, (what, concern) in enumerate(rows):
            pairing = concern.pairing
            cells = (
                what,
                names.get(pairing.student, _("(no card yet)")),
                names.get(pairing.mentor, _("(no card yet)")),
                date_of_ms(concern.since),
                self._why(concern, names),
            )
            for column, text in enumerate(cells):
                self.concerns.setItem(row, column, _item(text))
        self.concerns.resizeRowsToContents()

    def _why(self, concern: Concern, names: dict[str, str]) -> str:
        who = names.get(concern.who, _("(no card yet)"))
        if concern.reason == "not-synced":
            if concern.last_sync is None:
                return _(
                    "{name} has never synced: the news has not reached them. Try another way (phone, SMS)."
                ).format(name=who)
            return _(
                "{name} has not synced since {date}: the news has not reached them. Try another way (phone, SMS)."
            ).format(name=who, date=date_of_ms(concern.last_sync * 1000))
        if concern.reason == "unresponsive":
            if concern.pairing.answer:
                return _("Both sync regularly but nothing has happened since {date}: ask how it is going.").format(
                    date=date_of_ms(concern.since)
                )
            return _("{name} synced on {date} and has not answered: a reminder may help.").format(
                name=who, date=date_of_ms((concern.last_sync or 0) * 1000)
            )
        return _("Waiting on {name}. Refresh the figures to tell a connection problem from no answer.").format(name=who)

    def _refresh_figures(self) -> None:
        self.session.request_presence()
        self.presence_line.setText(_("Fetching last syncs with the next sync…"))

    # -- cohort ----------------------------------------------------------------------------------------------

    def propose(self) -> None:
        if self.admin is None:
            return
        self.proposals = self.admin.propose()
        self.pairs.setRowCount(len(self.proposals))
        for row, proposal in enumerate(self.proposals):
            check = _item("")
            check.setFlags(check.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            check.setCheckState(Qt.CheckState.Checked)
            check.setData(Qt.ItemDataRole.AccessibleTextRole, _("Publish this pair"))
            why = "; ".join(reason_line(r.text, r.values, about_a_pair=True) for r in proposal.reasons)
            mentor = proposal.mentor.name
            if proposal.mentor.peer:
                mentor = _("{name} (peer mentor)").format(name=mentor)
            cells = (proposal.student.name, mentor, format_number(proposal.score, 1), why)
            self.pairs.setItem(row, 0, check)
            for column, text in enumerate(cells, start=1):
                self.pairs.setItem(row, column, _item(text))
        self.pairs.resizeRowsToContents()
        self.publish_button.setEnabled(bool(self.proposals))
        self.cohort_status.setStyleSheet("")
        if self.proposals:
            self.cohort_status.setText(
                ngettext(
                    "{count} pair proposed. Review, then publish.",
                    "{count} pairs proposed. Review, then publish.",
                    len(self.proposals),
                ).format(count=len(self.proposals))
            )
        else:
            self.cohort_status.setText(_("Nobody to assign: every student has a mentor, a request or an introduction."))

    def chosen(self) -> list[Proposal]:
        return [
            proposal
            for row, proposal in enumerate(self.proposals)
            if self.pairs.item(row, 0).checkState() == Qt.CheckState.Checked
        ]

    def publish(self) -> None:
        if self.admin is None:
            return
        chosen = self.chosen()
        if not chosen:
            self.cohort_status.setStyleSheet(ERROR_STYLE)
            self.cohort_status.setText(_("Tick at least one pair to publish."))
            return
        count = self.admin.publish(chosen)
        self.session.scheduler.local_change()
        self.proposals = []
        self.pairs.setRowCount(0)
        self.publish_button.setEnabled(False)
        self.cohort_status.setStyleSheet("")
        self.cohort_status.setText(
            ngettext(
                "{count} introduction queued: it goes out with the next sync.",
                "{count} introductions queued: they go out with the next sync.",
                count,
            ).format(count=count)
        )
