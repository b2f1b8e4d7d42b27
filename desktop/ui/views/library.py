"""Library: the programme's learning material. Download an item once, study it offline from the vault; under
data saver a download that would pass the monthly budget waits for an explicit "download anyway"."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.directory import MATERIAL_KINDS, Material
from desktop.domain.session import Session
from desktop.formatting import format_bytes
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button, explain
from desktop.ui.direction import BidiDelegate
from desktop.ui.markdown import MarkdownReader
from desktop.ui.views.library_packs import LibraryPacks
from desktop.ui.views.mentor_models import specialty_name
from desktop.ui.worker import Task, run_in_background

Index = QModelIndex | QPersistentModelIndex


class LibraryModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[Material, bool]] = []

    def set_items(self, items: list[tuple[Material, bool]]) -> None:
        self.beginResetModel()
        self.items = items
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else 5

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        return (_("Title"), _("Specialty"), _("Kind"), _("Size"), _("Availability"))[section]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        material, offline = self.items[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return material
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            material.title,
            specialty_name(material.specialty),
            _(material.kind) if material.kind in MATERIAL_KINDS else material.kind,
            format_bytes(material.size),
            _("On this computer") if offline else _("Download to study offline"),
        )[index.column()]


class LibraryView(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setAccessibleName(_("Library"))
        self.model = LibraryModel()
        self.proxy = QSortFilterProxyModel()
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setAccessibleName(_("Search the library"))
        self.search.setPlaceholderText(_("Search titles and specialties…"))
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        label = QLabel(_("&Search:"))
        label.setBuddy(self.search)
        top.addWidget(label)
        top.addWidget(self.search, 1)
        self.download_button = button(_("&Download for offline study"), _("Download for offline study"), self._download)
        self.anyway_button = button(_("Download &anyway"), _("Download anyway"), lambda: self._download(force=True))
        self.anyway_button.hide()
        top.addWidget(self.download_button)
        top.addWidget(self.anyway_button)
        layout.addLayout(top)
        from desktop.ui.views.library_publish import PublishButtons  # mentors and admins: Publish…, Share privately…

        self.publishing = PublishButtons(session, self._selected_item, self.refresh)
        layout.addWidget(self.publishing)
        self.packs = LibraryPacks(session, self.selected, self.refresh)  # Export pack… / Import pack… (USB)
        layout.addWidget(self.packs)
        self.message = LiveLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName(_("Library status"))
        layout.addWidget(self.message)
        splitter = QSplitter()
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setItemDelegate(BidiDelegate(self.table, align_with_ui=True))  # an Arabic title reads as Arabic
        self.table.setAccessibleName(_("Library items"))
        self.table.setSortingEnabled(True)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside it
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.reader = MarkdownReader()
        self.reader.setAccessibleName(_("Reading pane"))
        splitter.addWidget(self.table)
        splitter.addWidget(self.reader)
        splitter.setSizes([560, 440])
        layout.addWidget(splitter, 1)
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._show_selected())
        self._tasks: set[Task] = set()
        self.refresh()

    def refresh(self) -> None:
        self.model.set_items([(m, self.session.is_offline(m)) for m in self.session.materials()])
        self.table.resizeColumnsToContents()

    def clear(self) -> None:
        self.model.set_items([])
        self.reader.clear()

    def selected(self) -> Material | None:
        index = self.table.currentIndex()
        return self.proxy.data(index, Qt.ItemDataRole.UserRole) if index.isValid() else None

    def _selected_item(self):  # type: ignore[no-untyped-def] - the LibraryItem of the selected row, for publishing
        material = self.selected()
        return self.session.library.by_id(material.id) if material is not None else None

    def _show_selected(self) -> None:
        material = self.selected()
        self.anyway_button.hide()
        self.message.setStyleSheet("")
        self.message.setText(material.summary if material else "")
        if material is not None and self.session.is_offline(material):
            self.reader.show_markdown(self.session.read_material(material))
        else:
            self.reader.setPlainText("")

    def _download(self, force: bool = False) -> None:
        material = self.selected()
        if material is None:
            self.message.setText(_("Select an item in the list first."))
            return
        if self.session.is_offline(material):
            self._show_selected()
            return
        if not force and not self.session.settings.may_download(material.size):
            self.message.setText(
                _("Data saver: this download ({size}) would go past your monthly data budget.").format(
                    size=format_bytes(material.size)
                )
            )
            self.anyway_button.show()
            return
        self.anyway_button.hide()
        self.download_button.setEnabled(False)
        self.message.setText(_("Downloading {title}…").format(title=material.title))

        def done(_result: object) -> None:
            self._tasks.discard(task)
            self.download_button.setEnabled(True)
            if self.session.vault.is_locked:
                return  # finished as the person locked: the list is redrawn after unlocking
            self.refresh()
            self._select(material)

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            self.download_button.setEnabled(True)
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText(explain(exc))

        task = run_in_background(lambda: self.session.download_material(material), done, failed)
        self._tasks.add(task)

    def _select(self, material: Material) -> None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if self.proxy.data(index, Qt.ItemDataRole.UserRole) == material:
                self.table.setCurrentIndex(index)
                break
        self._show_selected()
