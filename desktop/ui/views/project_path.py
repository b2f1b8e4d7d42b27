"""A project's stage path as a stepper (question → … → published), and the chosen stage's owner, due date, notes
and done mark. The stepper is a wrapping list: arrow keys walk it, it mirrors right to left."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from PySide6.QtCore import QDate, QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.project_state import STAGES, ProjectState
from desktop.i18n import _
from desktop.ui.common import button, date_of_ms
from desktop.ui.views.project_names import STAGE_NAMES, person


def _ms_of(value: QDate) -> int:
    day = date(value.year(), value.month(), value.day())
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


class PathPanel(QWidget):
    def __init__(self, save: Callable[[str, dict], None]) -> None:
        super().__init__()
        self._save = save
        self.state: ProjectState | None = None
        self._shown: tuple | None = None  # (stage, editor values) as last filled in: what counts as unsaved
        self._project: str | None = None
        layout = QVBoxLayout(self)
        self.stepper = QListWidget()
        self.stepper.setAccessibleName(_("Stages"))
        self.stepper.setViewMode(QListView.ViewMode.ListMode)
        self.stepper.setFlow(QListView.Flow.LeftToRight)
        self.stepper.setWrapping(True)
        self.stepper.setResizeMode(QListView.ResizeMode.Adjust)
        self.stepper.setSpacing(4)
        self.stepper.setMaximumHeight(96)
        self.stepper.setMinimumSize(QSize(120, 40))
        self.stepper.currentRowChanged.connect(self._show)
        layout.addWidget(self.stepper)

        form = QFormLayout()
        self.owner = QComboBox()
        self.owner.setAccessibleName(_("Stage owner"))
        self.has_due = QCheckBox(_("Has a &due date"))
        self.has_due.setAccessibleName(_("The stage has a due date"))
        self.due = QDateEdit()
        self.due.setAccessibleName(_("Due date"))
        self.due.setCalendarPopup(True)
        self.has_due.toggled.connect(self.due.setEnabled)
        self.notes = QPlainTextEdit()
        self.notes.setAccessibleName(_("Stage notes"))
        self.notes.setTabChangesFocus(True)
        self.notes.setMaximumHeight(90)
        self.done = QCheckBox(_("This stage is &done"))
        self.done.setAccessibleName(_("This stage is done"))
        self.save_button = button(_("&Save the stage"), _("Save the stage"), self.save)
        form.addRow(_("&Owner:"), self.owner)
        form.addRow(self.has_due)
        form.addRow(_("D&ue:"), self.due)
        form.addRow(_("&Notes:"), self.notes)
        form.addRow(self.done)
        form.addRow(self.save_button)
        layout.addLayout(form)
        layout.addStretch(1)

    def show_state(self, state: ProjectState, members: list[str], names: dict[str, str], project: str) -> None:
        """Fill the stepper and the chosen stage's fields; another project starts on its current stage, and a
        redraw of the same one keeps what the person is writing."""
        same = project == self._project
        kept = self._editing() if same and self.unsaved() else None
        if not same:
            self._shown = None
        self._project, self.state = project, state
        row = self.stepper.currentRow() if same and self.stepper.count() else STAGES.index(state.current_stage())
        self.stepper.blockSignals(True)
        self.stepper.clear()
        current = state.current_stage()
        for number, stage in enumerate(STAGES, start=1):
            info = state.stages[stage]
            if info.done:
                mark, said = "✓", _("done")
            elif stage == current:
                mark, said = "●", _("current")
            else:
                mark, said = "○", _("to come")
            item = QListWidgetItem(f"{mark} {number}. {_(STAGE_NAMES[stage])}")
            item.setData(Qt.ItemDataRole.UserRole, stage)
            owner = person(names, info.owner)
            due = date_of_ms(info.due) if info.due is not None else _("no due date")
            item.setToolTip(
                _("{stage}: {state}; owner {owner}; {due}").format(
                    stage=_(STAGE_NAMES[stage]), state=said, owner=owner, due=due
                )
            )
            item.setData(Qt.ItemDataRole.AccessibleTextRole, item.toolTip())
            self.stepper.addItem(item)
        self.stepper.setCurrentRow(max(row, 0))
        self.stepper.blockSignals(False)
        self.owner.clear()
        self.owner.addItem(_("nobody yet"), None)
        for account in members:
            self.owner.addItem(person(names, account), account)
        if kept is not None:  # a sync redrew the page while the person was writing: their edits stay
            self.owner.setCurrentIndex(max(self.owner.findData(kept[0]), 0) if kept[0] else 0)
            return
        self._show(row)

    def stage(self) -> str:
        item = self.stepper.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else STAGES[0]

    def _editing(self) -> tuple:
        return (
            self.owner.currentData(),
            self.has_due.isChecked(),
            self.due.date(),
            self.notes.toPlainText(),
            self.done.isChecked(),
        )

    def unsaved(self) -> bool:
        """The person changed the stage's fields since they were filled in and has not saved."""
        return self._shown is not None and self._shown[0] == self.stage() and self._shown[1] != self._editing()

    def _show(self, _row: int) -> None:
        if self.state is None:
            return
        info = self.state.stages[self.stage()]
        index = self.owner.findData(info.owner) if info.owner else 0
        self.owner.setCurrentIndex(max(index, 0))
        self.has_due.setChecked(info.due is not None)
        self.due.setEnabled(info.due is not None)
        if info.due is not None:
            day = datetime.fromtimestamp(info.due / 1000, UTC).date()
            self.due.setDate(QDate(day.year, day.month, day.day))
        self.notes.setPlainText(info.notes)
        self.done.setChecked(info.done)
        self._shown = (self.stage(), self._editing())

    def save(self) -> None:
        """Only the fields that changed travel: someone else's concurrent edit of another field stays."""
        if self.state is None:
            return
        info = self.state.stages[self.stage()]
        wanted = {
            "owner": self.owner.currentData(),
            "due": _ms_of(self.due.date()) if self.has_due.isChecked() else None,
            "notes": self.notes.toPlainText().strip(),
            "done": self.done.isChecked(),
        }
        changed = {k: v for k, v in wanted.items() if getattr(info, k) != v}
        self._shown = None  # saved (or nothing to save): the next redraw shows the project as it is
        if changed:
            self._save(self.stage(), changed)
