"""Small building blocks every screen uses, so each control gets an accessible name and a keyboard path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QFont, QFontDatabase, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.vault_access import VaultError
from desktop.formatting import format_date
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.worker import Task, run_in_background
from sync.client.errors import SyncError

ERROR_STYLE = "color: #b00020;"


def date_of_ms(ms: int) -> str:
    """A record's unix-milliseconds date, in the person's locale."""
    return format_date(datetime.fromtimestamp(ms / 1000, UTC).date())


def password_field(accessible_name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(accessible_name)
    return field


def line_edit(accessible_name: str, placeholder: str = "") -> QLineEdit:
    field = QLineEdit()
    field.setAccessibleName(accessible_name)
    if placeholder:
        field.setPlaceholderText(placeholder)
    return field


def button(text: str, accessible_name: str, slot: Callable[[], Any]) -> QPushButton:
    """``text`` carries the ``&`` mnemonic (Alt+letter); ``accessible_name`` is what a screen reader says."""
    widget = QPushButton(text)
    widget.setAccessibleName(accessible_name)
    widget.clicked.connect(slot)
    return widget


def heading(text: str, scale: float = 1.5) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    label.setAccessibleName(text)
    label.setWordWrap(True)
    return label


def row_list(model: QStandardItemModel, accessible_name: str, min_height: int, max_height: int) -> QTreeView:
    """A read-only list of rows with columns (devices, carried bundles): one row chosen at a time, whole rows
    selected, no tree handles, between ``min_height`` and ``max_height`` so the buttons below stay in sight."""
    table = QTreeView()
    table.setModel(model)
    table.setRootIsDecorated(False)
    table.setUniformRowHeights(True)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAccessibleName(accessible_name)
    table.setMinimumHeight(min_height)
    table.setMaximumHeight(max_height)
    return table


def row_texts(model: QStandardItemModel) -> list[list[str]]:
    """What a ``row_list`` shows, row by row (tests and screen readers read the same)."""
    columns = range(model.columnCount())
    return [[model.item(r, c).text() for c in columns] for r in range(model.rowCount())]


def append_row(model: QStandardItemModel, cells: list[QStandardItem]) -> None:
    """One more row of a ``row_list``, its cells read-only."""
    for cell in cells:
        cell.setEditable(False)
    model.appendRow(cells)


def fit_columns(table: QTreeView) -> None:
    """Every column of a ``row_list`` as wide as what it shows."""
    for column in range(table.model().columnCount()):
        table.resizeColumnToContents(column)


def select_row(table: QTreeView, row: int) -> None:
    """Make ``row`` of a ``row_list`` the current one and the one selection."""
    table.selectionModel().setCurrentIndex(
        table.model().index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )


def mono_font(scale: float = 1.0) -> QFont:
    """The system's fixed-width font, ``scale`` times its size: codes and fingerprints read group by group."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(font.pointSizeF() * scale)
    return font


def paragraph(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def error_label(accessible_name: str) -> LiveLabel:
    """A hidden, wrapping error line in the error style, read out at once by screen readers when it changes."""
    label = LiveLabel(assertive=True)
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.setAccessibleName(accessible_name)
    label.hide()
    return label


def explain(exc: BaseException) -> str:
    """The sentence a person reads for an error: the vault's or sync's own words, translated."""
    if isinstance(exc, VaultError):
        return exc.user_message()
    if isinstance(exc, SyncError):
        from desktop.ui.sync_status import sync_error_sentence

        return sync_error_sentence(exc)
    return _("Something went wrong ({error}). Nothing was lost; try again.").format(error=type(exc).__name__)


class Page(QWidget):
    """A titled page with an intro, an error line and a status line, laid out top to bottom."""

    def __init__(self, title: str, intro: str = "") -> None:
        super().__init__()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(32, 24, 32, 24)
        self.title = heading(title)
        self.intro = paragraph(intro)
        self.error = error_label(_("Error"))
        self.status = LiveLabel()
        self.status.setAccessibleName(_("Status"))
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.intro)
        self._tasks: set[Task] = set()

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.error)
        self.layout_.addWidget(self.status)
        self.layout_.addStretch(1)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def run(
        self,
        busy_text: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_failed: Callable[[Exception], None] | None = None,
    ) -> None:
        """Run ``fn`` off the GUI thread; the page is disabled and says ``busy_text`` meanwhile. A failure is
        shown on the page in plain words, then handed to ``on_failed``."""
        self.show_error("")
        self.status.setText(busy_text)
        self.setEnabled(False)

        def finished(result: Any) -> None:
            self._tasks.discard(task)
            self.setEnabled(True)
            self.status.setText("")
            on_done(result)

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            self.setEnabled(True)
            self.status.setText("")
            self.show_error(explain(exc))
            if on_failed is not None:
                on_failed(exc)

        task = run_in_background(fn, finished, failed)
        self._tasks.add(task)
