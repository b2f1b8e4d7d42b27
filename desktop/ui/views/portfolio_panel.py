"""The portfolio, on the Mentorships page: this person's record with the state of each entry's confirmation,
"Ask to confirm", "Export portfolio…" (a signed PDF and its CSV, through the OS's save dialog), and the
confirmations others ask of this person, to confirm or decline."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidgetItem, QVBoxLayout, QWidget

from desktop.domain.portfolio import PortfolioError
from desktop.domain.portfolio_file import entries, export
from desktop.domain.session import Session
from desktop.i18n import _
from desktop.ui import file_dialogs
from desktop.ui.common import button, heading
from desktop.ui.layout import FlowLayout, row_of, wrapping_list
from desktop.ui.portfolio_pdf import render_pdf


class PortfolioPanel(QWidget):
    said = Signal(str, bool)  # a message for the page's status line, and whether it is an error

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.portfolio = session.portfolio
        self.setAccessibleName(_("Portfolio"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading(_("Portfolio"), 1.1))
        self.record = wrapping_list()
        self.record.setAccessibleName(_("Your record and its confirmations"))
        self.record.setWordWrap(True)
        self.record.setMaximumHeight(110)
        layout.addWidget(self.record)
        actions = QWidget()
        row = FlowLayout(actions)
        self.ask_button = button(_("Ask to &confirm"), _("Ask the mentor or lead to confirm this entry"), self._ask)
        self.export_button = button(_("E&xport portfolio…"), _("Export portfolio as a signed PDF and CSV"), self.export)
        row.addWidget(self.ask_button)
        row.addWidget(self.export_button)
        layout.addWidget(actions)
        self.asked_heading = heading(_("Confirmations asked of you"), 1.0)
        self.asked = wrapping_list()
        self.asked.setAccessibleName(_("Confirmations asked of you"))
        self.asked.setWordWrap(True)
        self.asked.setMaximumHeight(90)
        self.answer_row = QWidget()
        answer = FlowLayout(self.answer_row)
        self.confirm_button = button(_("Con&firm and sign"), _("Confirm and sign this entry"), self._confirm)
        self.decline_button = button(_("Not &mine to confirm"), _("Decline this confirmation"), self._decline)
        answer.addWidget(self.confirm_button)
        answer.addWidget(self.decline_button)
        for widget in (self.asked_heading, self.asked, self.answer_row):
            layout.addWidget(widget)
        self.last_export: tuple[Path, Path, int] | None = None
        self.refresh()

    def _names(self) -> dict[str, str]:
        return {c.account: c.name for c in self.session.cards()}

    def _line(self, entry: dict, names: dict[str, str]) -> str:
        if entry["kind"] == "mentorship":
            other = names.get(entry["with"], _("Someone"))
            return _("Mentorship with {name}").format(name=other)
        if entry["kind"] == "project":
            return _("Project “{title}” ({role})").format(title=entry.get("title", ""), role=entry.get("role", ""))
        return _("Circle “{title}” ({role})").format(title=entry.get("title", ""), role=entry.get("role", ""))

    def refresh(self) -> None:
        if self.portfolio is None:
            self.setVisible(False)
            return
        names = self._names()
        facts = self.portfolio.facts()
        held, asked = self.portfolio.attestations(), self.portfolio.asked()
        current = self.record.currentItem().data(Qt.ItemDataRole.UserRole) if self.record.currentItem() else None
        self.record.clear()
        for entry in entries(facts):
            if entry["id"] in held:
                state = _("confirmed")
            elif entry["id"] in asked:
                state = _("asked {name}").format(name=names.get(asked[entry["id"]], _("someone")))
            else:
                state = _("not confirmed")
            item = QListWidgetItem(f"{self._line(entry, names)} · {state}")
            item.setData(Qt.ItemDataRole.UserRole, entry["id"])
            self.record.addItem(item)
            if entry["id"] == current:
                self.record.setCurrentItem(item)
        if self.record.currentRow() < 0 and self.record.count():
            self.record.setCurrentRow(0)
        self.ask_button.setEnabled(self.record.count() > 0)
        self.asked.clear()
        for request in self.portfolio.requests():
            who = names.get(request.subject, _("Someone"))
            what = self._line({**request.entry, "with": request.subject}, names)
            item = QListWidgetItem(_("{name} asks you to confirm: {what}").format(name=who, what=what))
            item.setData(Qt.ItemDataRole.UserRole, request.id)
            self.asked.addItem(item)
        shown = self.asked.count() > 0
        for widget in (self.asked_heading, self.asked, self.answer_row):
            widget.setVisible(shown)
        if shown and self.asked.currentRow() < 0:
            self.asked.setCurrentRow(0)

    def select(self, entry_id: str) -> None:
        row = row_of(self.record, entry_id)
        if row >= 0:
            self.record.setCurrentRow(row)

    def _say(self, message: str, error: bool = False) -> None:
        if not error:
            self.session.scheduler.local_change()  # something was queued or written
        self.said.emit(message, error)

    def _ask(self) -> None:
        item = self.record.currentItem()
        if self.portfolio is None or item is None:
            self._say(_("Select an entry of your record first."), error=True)
            return
        try:
            who = self.portfolio.ask(item.data(Qt.ItemDataRole.UserRole))
        except PortfolioError:
            self._say(_("Nobody can confirm this entry yet: it needs a mentor or a lead."), error=True)
            return
        name = self._names().get(who, _("your mentor"))
        self._say(_("Asked {name} to confirm: it goes out with the next sync.").format(name=name))
        self.refresh()

    def _confirm(self) -> None:
        item = self.asked.currentItem()
        if self.portfolio is None or item is None:
            return
        try:
            self.portfolio.confirm(item.data(Qt.ItemDataRole.UserRole))
        except PortfolioError:
            self._say(_("You cannot confirm this: only the mentor or lead of that entry can."), error=True)
            return
        self._say(_("Confirmed and signed: it goes out with the next sync."))
        self.refresh()

    def _decline(self) -> None:
        item = self.asked.currentItem()
        if self.portfolio is not None and item is not None:
            self.portfolio.decline(item.data(Qt.ItemDataRole.UserRole))
            self.refresh()

    def _programme(self) -> str:
        if self.session.program.demo:
            return _("Osler demo programme")
        return urlparse(self.session.program.server_url).hostname or ""

    def export(self) -> None:
        """Ask where, then write the signed PDF and the CSV beside it."""
        if self.portfolio is None:
            return
        chosen = file_dialogs.save_file(self, _("Export portfolio"), str(Path.home() / "portfolio.pdf"))
        if not chosen:
            return
        card = self.session.my_card()
        try:
            self.last_export = export(
                self.portfolio, Path(chosen), render_pdf, card.name if card else "", self._programme()
            )
        except OSError as error:
            self._say(_("Could not save the portfolio: {reason}").format(reason=error.strerror or error), True)
            return
        pdf, csv_path, size = self.last_export
        self._say(
            _("Saved {pdf} ({size} KB) and {csv}. Anyone can check them with: osler verify-portfolio").format(
                pdf=pdf.name, size=max(1, size // 1024), csv=csv_path.name
            )
        )
