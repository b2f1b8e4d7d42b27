"""A project's authorship plan (order, people, the corresponding author) and its CRediT contribution log: the 14
roles down, the members across, each cell a level. A member sets levels in their own column (the lead in any);
the lead confirms a member's column as it stands."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.project_state import CREDIT_ROLES, LEVELS, ProjectState
from desktop.i18n import _
from desktop.ui.common import button, line_edit
from desktop.ui.layout import empty_state
from desktop.ui.views.project_names import LEVEL_NAMES, ROLE_NAMES, button_row, person


class AuthorshipPanel(QWidget):
    def __init__(
        self, add: Callable[[str, bool], None], move: Callable[[str, int], None], remove: Callable[[str], None]
    ):
        super().__init__()
        self._add, self._move, self._remove = add, move, remove
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setAccessibleName(_("Authorship plan"))
        empty_state(self.list, _("No authors planned yet."))
        layout.addWidget(self.list, 1)
        row = QWidget()
        grid = QGridLayout(row)
        grid.setContentsMargins(0, 0, 0, 0)
        self.person = line_edit(_("Author's name"), _("Name as it will appear…"))
        self.person.returnPressed.connect(self.add)
        self.corresponding = QCheckBox(_("&Corresponding author"))
        self.corresponding.setAccessibleName(_("Corresponding author"))
        grid.addWidget(self.person, 0, 0)
        grid.addWidget(self.corresponding, 1, 0)
        grid.addWidget(button(_("Add the &author"), _("Add the author"), self.add), 0, 1)
        grid.setColumnStretch(0, 1)
        layout.addWidget(row)
        layout.addWidget(
            button_row(
                button(_("Earl&ier"), _("Move the author earlier"), lambda: self.step(-1)),
                button(_("La&ter"), _("Move the author later"), lambda: self.step(1)),
                button(_("Re&move the author"), _("Remove the author"), self.remove),
            )
        )

    def show_state(self, state: ProjectState) -> None:
        chosen = self.chosen()
        self.list.clear()
        for number, author in enumerate(state.authors, start=1):
            text = f"{number}. {author.person}" + (f" ({_('corresponding')})" if author.corresponding else "")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, author.id)
            self.list.addItem(item)
            if author.id == chosen:
                self.list.setCurrentItem(item)

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def add(self) -> None:
        name = self.person.text().strip()
        if name:
            self._add(name, self.corresponding.isChecked())
            self.person.clear()
            self.corresponding.setChecked(False)

    def step(self, along: int) -> None:
        chosen = self.chosen()
        if chosen is not None:
            self._move(chosen, self.list.currentRow() + along)

    def remove(self) -> None:
        chosen = self.chosen()
        if chosen is not None:
            self._remove(chosen)


class CreditPanel(QWidget):
    """Rows: the 14 CRediT roles, then "Confirmed by the lead"; columns: the project's members."""

    def __init__(self, set_level: Callable[[str, str, str | None], None], confirm: Callable[[str], None]) -> None:
        super().__init__()
        self._set_level, self._confirm = set_level, confirm
        self.members: list[str] = []
        self.me, self.lead = "", False
        layout = QVBoxLayout(self)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.table = QTableWidget(len(CREDIT_ROLES) + 1, 0)
        self.table.setAccessibleName(_("CRediT contributions"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setVerticalHeaderLabels([_(ROLE_NAMES[r]) for r in CREDIT_ROLES] + [_("Confirmed by the lead")])
        layout.addWidget(self.table, 1)
        self.level = QComboBox()
        self.level.setAccessibleName(_("Level of the selected contribution"))
        self.level.addItem(_("none"), None)
        for level in LEVELS:
            self.level.addItem(_(LEVEL_NAMES[level]), level)
        label = QLabel(_("&Level:"))
        label.setBuddy(self.level)
        self.set_button = button(_("S&et the level"), _("Set the level of the selected contribution"), self.set_level)
        self.confirm_button = button(
            _("&Confirm the contributions"), _("Confirm the selected member's contributions"), self.confirm
        )
        layout.addWidget(button_row(label, self.level, self.set_button, self.confirm_button))

    def show_state(self, state: ProjectState, members: list[str], names: dict[str, str], me: str, lead: bool) -> None:
        self.members, self.me, self.lead = members, me, lead
        self.hint.setText(
            _("Set your own contributions; as the project lead you can set anyone's and confirm them.")
            if lead
            else _("Set your own contributions; the project lead confirms them.")
        )
        self.confirm_button.setVisible(lead)
        self.table.setColumnCount(len(members))
        self.table.setHorizontalHeaderLabels([person(names, m) for m in members])
        for column, account in enumerate(members):
            record = state.credits.get(account)
            for row, role in enumerate(CREDIT_ROLES):
                level = record.roles.get(role) if record else None
                item = QTableWidgetItem(_(LEVEL_NAMES[level]) if level else "–")
                item.setData(Qt.ItemDataRole.UserRole, level)
                editable = lead or account == me
                if not editable:
                    item.setForeground(self.palette().color(self.palette().ColorRole.PlaceholderText))
                self.table.setItem(row, column, item)
            confirmed = record is not None and record.confirmed
            said = _("yes") if confirmed else (_("not yet") if record and record.roles else "–")
            self.table.setItem(len(CREDIT_ROLES), column, QTableWidgetItem(said))
        self.table.resizeColumnsToContents()

    def _cell(self) -> tuple[str, str | None] | None:
        row, column = self.table.currentRow(), self.table.currentColumn()
        if not 0 <= column < len(self.members):
            return None
        return self.members[column], CREDIT_ROLES[row] if 0 <= row < len(CREDIT_ROLES) else None

    def set_level(self) -> None:
        cell = self._cell()
        if cell is not None and cell[1] is not None:
            self._set_level(cell[0], cell[1], self.level.currentData())

    def confirm(self) -> None:
        cell = self._cell()
        if cell is not None:
            self._confirm(cell[0])
