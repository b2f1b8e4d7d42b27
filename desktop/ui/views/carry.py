"""Settings → Sync without the internet: "Export for someone to carry…" (a sealed request file, within a size
budget that fits a small stick or a phone transfer), "Import…" (an answer for this computer is applied like a
sync; another device's request shows whose it is, how many items and how big, to carry or refuse), the list of
requests this computer carries for others (refuse, save their answers), and the classmates' relay on this
network (desktop/ui/views/carry_lan.py). The sync bar's "Without internet…" button opens it while offline.

The domain is ``session.bundles`` (desktop/domain/bundles.py) and ``session.carry`` (desktop/domain/carry.py);
every call that reads or writes a file or the network runs on a worker thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.formatting import format_bytes, format_number
from desktop.i18n import _, ngettext
from desktop.ui import file_dialogs
from desktop.ui.announce import LiveLabel
from desktop.ui.common import (
    append_row,
    button,
    error_label,
    fit_columns,
    heading,
    mono_font,
    paragraph,
    row_list,
    row_texts,
    select_row,
)
from desktop.ui.direction import ltr
from desktop.ui.layout import FlowLayout, empty_state
from desktop.ui.views.carry_lan import LanRelayPanel
from desktop.ui.views.carry_text import applied_sentence, budget_label, refusal_sentence, state_text, who
from desktop.ui.worker import Task, run_in_background

BUDGETS = (1 << 20, 8 << 20, 25 << 20, 64 << 20)  # a phone message, most weeks, with attachments, a USB stick
DEFAULT_BUDGET = 8 << 20  # sync.bundle.DEFAULT_BUDGET
REQUEST_ROLE = Qt.ItemDataRole.UserRole + 1  # the carried request's id, on the first column


class CarryPanel(QWidget):
    """The whole "Sync without the internet" section. ``changed`` fires after an answer was applied (the views
    redraw, as after a sync)."""

    changed = Signal()

    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session
        self.items: list = []  # the Carried entries last shown
        self.offer: Any = None  # another device's request just imported, awaiting "Carry" or "Refuse"
        self._tasks: set[Task] = set()
        self.setAccessibleName(_("Sync without the internet"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = heading(_("Sync without the internet"), 1.1)
        layout.addWidget(self.title)
        layout.addWidget(
            paragraph(
                _(
                    "No internet here? Export a file for someone who goes online with Osler, on a USB stick or "
                    "a phone. They bring back an answer file: import it and you are synced. Nobody who carries "
                    "it can read it."
                )
            )
        )
        size_row = QHBoxLayout()
        size_label = QLabel(_("Si&ze of the file:"))
        self.budget = QComboBox()
        self.budget.setAccessibleName(_("Largest size of the file to carry"))
        for size in BUDGETS:
            self.budget.addItem(budget_label(size), size)
        self.budget.setCurrentIndex(BUDGETS.index(DEFAULT_BUDGET))
        size_label.setBuddy(self.budget)
        size_row.addWidget(size_label)
        size_row.addWidget(self.budget, 1)
        layout.addLayout(size_row)
        actions = FlowLayout()
        self.export_button = button(
            _("&Export for someone to carry…"), _("Export for someone to carry"), self.export_request
        )
        self.export_button.setAccessibleDescription(
            _("Writes one sealed file with what you wrote and what you are waiting for, into a folder you choose")
        )
        self.import_button = button(_("&Import…"), _("Import a file"), self.import_file)
        self.import_button.setAccessibleDescription(
            _("An answer brought back for you, or another student's file that you will carry")
        )
        actions.addWidget(self.export_button)
        actions.addWidget(self.import_button)
        layout.addLayout(actions)
        self.result = LiveLabel()
        self.result.setWordWrap(True)
        self.result.setAccessibleName(_("What happened"))
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.result)
        self.error = error_label(_("Problem with the file"))
        layout.addWidget(self.error)

        # another device's request, just imported: whose, how much, carry or refuse
        self.offer_box = QFrame()
        self.offer_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.offer_box.setAccessibleName(_("A file to carry for someone else"))
        offer_layout = QVBoxLayout(self.offer_box)
        self.offer_text = paragraph("")
        self.offer_text.setAccessibleName(_("Whose file"))
        offer_layout.addWidget(self.offer_text)
        offer_row = FlowLayout()
        self.carry_button = button(_("&Carry it"), _("Carry it"), self.keep_offer)
        self.refuse_offer_button = button(_("Refuse i&t"), _("Refuse to carry it"), self.refuse_offer)
        offer_row.addWidget(self.carry_button)
        offer_row.addWidget(self.refuse_offer_button)
        offer_layout.addLayout(offer_row)
        self.offer_box.hide()
        layout.addWidget(self.offer_box)

        layout.addWidget(heading(_("Carrying for others"), 1.0))
        self.model = QStandardItemModel(0, 5, self)
        self.model.setHorizontalHeaderLabels([_("Person"), _("Device"), _("Items"), _("Size"), _("State")])
        self.table = row_list(self.model, _("Carrying for others"), 90, 180)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selection_changed())
        # Tab into the list makes its first row current without selecting it: the current row is the chosen one
        self.table.selectionModel().currentChanged.connect(lambda current, _old: self._follow_current(current))
        layout.addWidget(self.table)
        empty_state(self.table, _("You carry nothing for anyone. Import a classmate's file to carry it."))
        carry_row = FlowLayout()
        self.refuse_button = button(_("Re&fuse"), _("Refuse the selected file"), self.refuse_selected)
        self.refuse_button.setAccessibleDescription(_("Its file is deleted from this computer; nothing is sent"))
        self.save_answers_button = button(_("Sa&ve answers to…"), _("Save answers to a folder"), self.save_answers)
        self.save_answers_button.setAccessibleDescription(
            _("Writes the answers you brought back into a folder, to hand to the people they are for")
        )
        carry_row.addWidget(self.refuse_button)
        carry_row.addWidget(self.save_answers_button)
        layout.addLayout(carry_row)
        self.carry_status = LiveLabel()
        self.carry_status.setWordWrap(True)
        self.carry_status.setAccessibleName(_("Carrying status"))
        layout.addWidget(self.carry_status)

        self.lan = LanRelayPanel(session, lambda: int(self.budget.currentData()))
        self.lan.applied.connect(self._lan_applied)
        layout.addWidget(self.lan)
        self.refresh()

    def showEvent(self, event: Any) -> None:
        self.refresh()  # the sync thread may have relayed what is carried since the list was drawn
        super().showEvent(event)

    # -- plumbing -------------------------------------------------------------------------------------------

    def _background(self, busy: str, fn: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        self.error.hide()
        self.result.setText(busy)
        self.setEnabled(False)

        def done(value: object) -> None:
            self._tasks.discard(task)
            if shiboken6.isValid(self):  # the screen may be gone (locked, language switched) meanwhile
                self.setEnabled(True)
                self.result.setText("")
                on_done(value)

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            if shiboken6.isValid(self):
                self.setEnabled(True)
                self.result.setText("")
                self.error.setText(refusal_sentence(exc))
                self.error.show()

        task = run_in_background(fn, done, failed)
        self._tasks.add(task)

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def _carry(self) -> Any:
        return getattr(self.session, "carry", None)

    # -- export ---------------------------------------------------------------------------------------------

    def export_request(self) -> None:
        bundles = getattr(self.session, "bundles", None)
        if bundles is None or not bundles.ready():
            self.error.setText(
                _(
                    "Sync online once first: Osler needs your programme's key, which it gets on the first sync, "
                    "to seal a file only your server can open."
                )
            )
            self.error.show()
            return
        folder = file_dialogs.choose_folder(self, _("Where to write the file to carry"))
        if not folder:
            return
        budget = int(self.budget.currentData())
        self._background(_("Writing the file…"), lambda: bundles.export_request(Path(folder), budget), self._exported)

    def _exported(self, exported: Any) -> None:
        where = exported.path
        items = ngettext("{count} item", "{count} items", exported.records).format(
            count=format_number(exported.records)
        )
        self.result.setText(
            _(
                "Wrote “{name}” in {folder}: {items}, {size}. Give it to someone who goes online with Osler; "
                "they import it, sync, and bring back an answer file. Then choose Import… to read it."
            ).format(
                name=ltr(where.name) if where else "",
                folder=ltr(str(where.parent)) if where else "",
                items=items,
                size=format_bytes(exported.size),
            )
        )

    # -- import ---------------------------------------------------------------------------------------------

    def import_file(self) -> None:
        bundles = getattr(self.session, "bundles", None)
        if bundles is None:
            return
        name = file_dialogs.open_file(self, _("Import a file brought to you"))
        if not name:
            return
        self._background(_("Reading the file…"), lambda: bundles.import_file(Path(name)), self._imported)

    def _imported(self, result: Any) -> None:
        if hasattr(result, "fingerprint"):  # another device's request, now held by session.carry
            self._show_offer(result)
            self.refresh()
            return
        self.result.setText(applied_sentence(result))
        self.refresh()
        self.changed.emit()

    def _show_offer(self, carried: Any) -> None:
        self.offer = carried
        size = format_bytes(carried.size)
        items = ngettext("{count} item", "{count} items", carried.records).format(count=format_number(carried.records))
        self.offer_text.setText(
            _(
                "This file is from {who}: {items}, {size}. Carry it, and Osler sends it to your programme the next "
                "time you are online; you hand the answer back with “Save answers to…”. You cannot read it."
            ).format(who=who(carried), items=items, size=size)
        )
        self.offer_box.show()
        self.carry_button.setFocus()

    def keep_offer(self) -> None:
        if self.offer is None:
            return
        self.carry_status.setText(_("You carry the file from {who}.").format(who=who(self.offer)))
        self.offer = None
        self.offer_box.hide()
        self.table.setFocus()

    def refuse_offer(self) -> None:
        if self.offer is not None:
            self._refuse(self.offer)
        self.offer = None
        self.offer_box.hide()

    # -- carrying for others --------------------------------------------------------------------------------

    def refresh(self) -> None:
        carry = self._carry()
        self.show_items(list(carry.items()) if carry is not None else [])

    def show_items(self, items: list) -> None:
        selected = self.selected()
        self.items = items
        self.model.removeRows(0, self.model.rowCount())
        for carried in self.items:
            cells = [
                QStandardItem(carried.person or _("Unknown person")),
                QStandardItem(ltr(carried.fingerprint)),
                QStandardItem(format_number(carried.records)),
                QStandardItem(format_bytes(carried.size)),
                QStandardItem(state_text(carried.state)),
            ]
            cells[0].setData(carried.request, REQUEST_ROLE)
            cells[1].setFont(mono_font())
            append_row(self.model, cells)
        fit_columns(self.table)
        if selected is not None:
            for row, carried in enumerate(self.items):
                if carried.request == selected.request:
                    self.select(row)
        self._selection_changed()

    def rows(self) -> list[list[str]]:
        """What the list shows, row by row (tests and screen readers read the same)."""
        return row_texts(self.model)

    def select(self, row: int) -> None:
        select_row(self.table, row)

    def _follow_current(self, current: Any) -> None:
        if current.isValid() and not self.table.selectionModel().isRowSelected(current.row()):
            self.select(current.row())

    def selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        return self.items[rows[0].row()] if rows and rows[0].row() < len(self.items) else None

    def _selection_changed(self) -> None:
        carried = self.selected()
        self.refuse_button.setEnabled(carried is not None and carried.state not in ("refused", "handed-back"))
        self.save_answers_button.setEnabled(any(c.state == "answered" for c in self.items))

    def refuse_selected(self) -> None:
        carried = self.selected()
        if carried is None:
            self.carry_status.setText(_("Select a file in the list first."))
            return
        self._refuse(carried)

    def _refuse(self, carried: Any) -> None:
        carry = self._carry()

        def done(_value: object) -> None:
            self.refresh()
            self.carry_status.setText(
                _("You refused the file from {who}: it was deleted from this computer.").format(who=who(carried))
            )

        self._background(_("Refusing…"), lambda: carry.refuse(carried.request), done)

    def save_answers(self) -> None:
        carry = self._carry()
        if carry is None:
            return
        folder = file_dialogs.choose_folder(self, _("Where to save the answers"))
        if not folder:
            return

        def done(paths: list) -> None:
            self.refresh()
            self.carry_status.setText(
                ngettext(
                    "Saved {count} answer in {folder}. Give it back to the person it is for: they choose Import….",
                    "Saved {count} answers in {folder}. Give each back to the person it is for: they choose Import….",
                    len(paths),
                ).format(count=format_number(len(paths)), folder=ltr(folder))
            )

        self._background(_("Saving the answers…"), lambda: carry.export_answers(Path(folder)), done)

    def _lan_applied(self, sentence: str) -> None:
        self.result.setText(sentence)
        self.refresh()
        self.changed.emit()
