"""A project's task board: three columns (to do, doing, done). A task moves with the keyboard: Ctrl+→ / Ctrl+←
to the next or previous column (mirrored right to left), Ctrl+↑ / Ctrl+↓ up or down its column; Delete removes
it. The buttons below do the same for the selected task."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.project_state import TASK_STATES, ProjectState
from desktop.i18n import _, ngettext
from desktop.ui.common import button, date_of_ms, line_edit
from desktop.ui.layout import empty_state, row_of, wrapping_list
from desktop.ui.views.project_names import COLUMN_NAMES, STAGE_NAMES, button_row, person


class BoardPanel(QWidget):
    def __init__(
        self,
        add: Callable[[str], None],
        move: Callable[[str, str, int], None],
        remove: Callable[[str], None],
    ) -> None:
        super().__init__()
        self._add, self._move, self._remove = add, move, remove
        self.state: ProjectState | None = None
        layout = QVBoxLayout(self)
        row = QWidget()
        add_row = QGridLayout(row)
        add_row.setContentsMargins(0, 0, 0, 0)
        self.new_task = line_edit(_("New task"), _("A new task…"))
        self.new_task.returnPressed.connect(self.add)
        add_row.addWidget(self.new_task, 0, 0)
        add_row.addWidget(button(_("&Add the task"), _("Add the task"), self.add), 0, 1)
        add_row.setColumnStretch(0, 1)
        layout.addWidget(row)
        grid = QGridLayout()
        self.columns: dict[str, QListWidget] = {}
        self.headings: dict[str, QLabel] = {}
        for index, state in enumerate(TASK_STATES):
            heading = QLabel()
            column = wrapping_list()
            column.setAccessibleName(_(COLUMN_NAMES[state]))
            column.setMinimumWidth(80)
            column.installEventFilter(self)
            empty_state(column, _("No tasks"))
            heading.setBuddy(column)
            self.headings[state], self.columns[state] = heading, column
            grid.addWidget(heading, 0, index)
            grid.addWidget(column, 1, index)
            grid.setColumnStretch(index, 1)
        layout.addLayout(grid, 1)
        layout.addWidget(
            button_row(
                button(_("Move &back"), _("Move the task to the previous column"), lambda: self.step(-1, 0)),
                button(_("Move &on"), _("Move the task to the next column"), lambda: self.step(1, 0)),
                button(_("U&p"), _("Move the task up"), lambda: self.step(0, -1)),
                button(_("Do&wn"), _("Move the task down"), lambda: self.step(0, 1)),
                button(_("&Remove the task"), _("Remove the task"), self.remove),
            )
        )

    def show_state(self, state: ProjectState, names: dict[str, str]) -> None:
        self.state = state
        selected = self.selected()
        for column_state, column in self.columns.items():
            tasks = state.column(column_state)
            count = len(tasks)
            self.headings[column_state].setText(
                ngettext("{column} ({count} task)", "{column} ({count} tasks)", count).format(
                    column=_(COLUMN_NAMES[column_state]), count=count
                )
            )
            column.setUpdatesEnabled(False)
            column.clear()
            for task in tasks:
                details = [person(names, task.owner)] if task.owner else []
                if task.stage:
                    details.append(_(STAGE_NAMES[task.stage]))
                if task.due is not None:
                    details.append(_("due {date}").format(date=date_of_ms(task.due)))
                text = task.title + (f"\n{' · '.join(details)}" if details else "")
                item = QListWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, task.id)
                column.addItem(item)
                if selected and task.id == selected[1]:
                    column.setCurrentItem(item)
            column.setUpdatesEnabled(True)

    def selected(self) -> tuple[str, str] | None:
        """(column, task id) of the selected task: in the focused column, else the first with a selection."""
        ordered = sorted(self.columns.items(), key=lambda kv: not kv[1].hasFocus())
        for state, column in ordered:
            item = column.currentItem()
            if item is not None and item.isSelected():
                return state, item.data(Qt.ItemDataRole.UserRole)
        return None

    def add(self) -> None:
        title = self.new_task.text().strip()
        if title:
            self._add(title)
            self.new_task.clear()

    def remove(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self._remove(chosen[1])

    def step(self, across: int, along: int) -> None:
        chosen = self.selected()
        if chosen is None or self.state is None:
            return
        state, task = chosen
        target = TASK_STATES.index(state) + across
        if not 0 <= target < len(TASK_STATES):
            return
        target_state = TASK_STATES[target]
        if across:
            index = len(self.state.column(target_state))
        else:
            index = self.columns[state].currentRow() + along
            if not 0 <= index < self.columns[state].count():
                return
        self._move(task, target_state, index)
        column = self.columns[target_state]
        row = row_of(column, task)
        if row >= 0:
            column.setCurrentRow(row)
            column.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress and watched in self.columns.values():
            key, ctrl = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            forward = Qt.Key.Key_Left if self.layoutDirection() == Qt.LayoutDirection.RightToLeft else Qt.Key.Key_Right
            backward = Qt.Key.Key_Right if forward == Qt.Key.Key_Left else Qt.Key.Key_Left
            moves = {forward: (1, 0), backward: (-1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
            if ctrl and key in moves:
                self.step(*moves[key])
                return True
            if key == Qt.Key.Key_Delete:
                self.remove()
                return True
        return super().eventFilter(watched, event)
