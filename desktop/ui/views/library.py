"""Library: the programme's learning material and what was shared privately. Download an item once, read it
offline from the vault in the reader beside the list (desktop/ui/views/reader.py); under data saver a download
that would pass the monthly budget waits for an explicit "download anyway".

Layout (1024×600 at 100 % and 200 %): a toolbar row (search, download, then ``self.toolbar``: where Publish…,
Recommend…, Export/Import pack… add their buttons), a status line, then a splitter: the list with ``self.side``
under it (where the Downloads and Packs panels go), and the reader."""

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
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.directory import MATERIAL_KINDS
from desktop.domain.library import LibraryError, LibraryItem
from desktop.domain.library_format import LEVEL_NAMES
from desktop.domain.session import Session
from desktop.formatting import format_bytes
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button, explain
from desktop.ui.direction import BidiDelegate
from desktop.ui.views.downloads import DownloadsPanel
from desktop.ui.views.library_packs import LibraryPacks
from desktop.ui.views.library_recommend import RecommendDialog, RecommendPanel
from desktop.ui.views.media_panes import open_media
from desktop.ui.views.mentor_models import specialty_name
from desktop.ui.views.reader import ReaderView
from desktop.ui.worker import Task, run_in_background

Index = QModelIndex | QPersistentModelIndex


class LibraryModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[LibraryItem, bool]] = []

    def set_items(self, items: list[tuple[LibraryItem, bool]]) -> None:
        self.beginResetModel()
        self.items = items
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else 4  # the specialty is not shown (it is in the line above), but searched

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        return (_("Title"), _("Kind"), _("Availability"), _("Specialty"))[section]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        material, offline = self.items[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return material
        if role == Qt.ItemDataRole.ToolTipRole:
            return material.summary[:300]
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            material.title,
            _(material.kind) if material.kind in MATERIAL_KINDS else material.kind,
            _("On this computer") if offline else _("Not downloaded ({size})").format(size=format_bytes(material.size)),
            specialty_name(material.specialty) if material.specialty else "",
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
        self.download_button = button(_("&Download"), _("Download for offline study"), self._download)
        self.anyway_button = button(_("Download &anyway"), _("Download anyway"), lambda: self._download(force=True))
        self.anyway_button.hide()
        top.addWidget(self.download_button)
        top.addWidget(self.anyway_button)
        layout.addLayout(top)
        # The hook row: Publish…, Recommend…, Export pack…, Import pack…, each module adds its widget here.
        self.toolbar = QHBoxLayout()
        self.toolbar.setContentsMargins(0, 0, 0, 0)
        from desktop.ui.views.library_publish import PublishButtons  # mentors and admins: Publish…, Share privately…

        self.publishing = PublishButtons(session, self.selected, self.refresh)
        self.toolbar.addWidget(self.publishing)
        self.recommend_button = button(_("Recomm&end…"), _("Recommend the chosen item"), self._recommend)
        if session.program.role not in ("mentor", "admin"):  # never setVisible(True) here: still without a parent,
            self.recommend_button.hide()  # it would open as a window of its own and take the keyboard focus
        self.toolbar.addWidget(self.recommend_button)
        self.toolbar.addStretch(1)
        layout.addLayout(self.toolbar)
        self.packs = LibraryPacks(session, self.selected, self.refresh)  # Export pack… / Import pack… (USB)
        layout.addWidget(self.packs)
        self.message = LiveLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName(_("Library status"))
        self.message.setMaximumHeight(self.fontMetrics().lineSpacing() * 3 + 4)
        layout.addWidget(self.message)
        self.splitter = QSplitter()
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setColumnHidden(3, True)  # the specialty: searched ("Search titles and specialties…"), not shown
        self.table.setItemDelegate(BidiDelegate(self.table, align_with_ui=True))  # an Arabic title reads as Arabic
        self.table.setAccessibleName(_("Library items"))
        self.table.setSortingEnabled(True)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside it
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        left = QWidget()
        self.side = QVBoxLayout(left)  # the list, then hooks: the Downloads panel, the Packs list
        self.side.setContentsMargins(0, 0, 0, 0)
        self.side.addWidget(self.table, 1)
        self.downloads_panel = DownloadsPanel(session)  # the queue: desktop/ui/views/downloads.py
        self.downloads_panel.finished.connect(self._downloaded)
        self.recommend_panel = RecommendPanel(session)  # recommended to me, and learning packs
        self.side_tabs = QTabWidget()  # under the list, one at a time: 600 px hold the list and one panel
        self.side_tabs.setAccessibleName(_("Downloads, recommendations and packs"))
        self.side_tabs.addTab(self.downloads_panel, _("D&ownloads"))
        self.side_tabs.addTab(self.recommend_panel, _("Recommended and pac&ks"))
        self.side_tabs.setMaximumHeight(240)
        self.side.addWidget(self.side_tabs)
        self.reader = ReaderView(session.reading, media_hook=open_media)  # images, audio, video: media_panes.py
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.reader)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([380, 620])
        layout.addWidget(self.splitter, 1)
        self.recommend_panel.changed.connect(self.message.setText)
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._show_selected())
        self._tasks: set[Task] = set()
        self.refresh()

    def refresh(self) -> None:
        library = self.session.library
        self.model.set_items([(item, library.is_offline(item)) for item in library.items()])
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), 260))
        self.recommend_panel.refresh()

    def clear(self) -> None:  # locking: nothing of the vault stays on screen
        self.model.set_items([])
        self.reader.clear()

    def selected(self) -> LibraryItem | None:
        index = self.table.currentIndex()
        return self.proxy.data(index, Qt.ItemDataRole.UserRole) if index.isValid() else None

    def _recommend(self) -> None:
        item = self.selected()
        if item is None:
            self.message.setText(_("Select an item in the list first."))
            return
        if RecommendDialog(self.session, item, self).exec():
            self.message.setText(_("Recommended; it goes out with the next sync."))

    def describe(self, item: LibraryItem) -> str:
        """The line above the reader: who shared it, specialty, level, licence, size, summary."""
        parts = [self.session.library.label(item)] if item.private else []
        parts += [specialty_name(item.specialty) if item.specialty else ""]
        parts += [_(LEVEL_NAMES[item.level]) if item.level in LEVEL_NAMES else ""]
        parts += [_("Licence: {licence}").format(licence=item.licence) if item.licence else ""]
        parts += [format_bytes(item.size)]
        head = " · ".join(p for p in parts if p)
        return f"{head}\n{item.summary}" if item.summary else head

    def _show_selected(self) -> None:
        item = self.selected()
        self.anyway_button.hide()
        self.message.setStyleSheet("")
        if item is None:
            self.message.setText("")
            self.reader.clear()
            return
        self.message.setText(self.describe(item))
        readable = self.session.library.readable(item)
        if readable is None:
            self.reader.show_message(_("Download this item to read it offline."))
            return
        if self.reader.item is not None and self.reader.item.id == readable.id:
            return  # already open (the list was redrawn): keep the page and the zoom
        try:
            data = self.session.library.open_bytes(readable)
        except LibraryError as exc:
            self.reader.show_message(str(exc.args[-1]) if exc.args else _("Osler could not read this item."))
            return
        self.reader.show_item(readable, data)
        if readable.id != item.id:
            self.message.setText(_("A newer version is available: download it. Showing the version on this computer."))

    def _download(self, force: bool = False) -> None:
        material = self.selected()
        if material is None:
            self.message.setText(_("Select an item in the list first."))
            return
        if self.session.library.is_offline(material):
            self._show_selected()
            return
        if material.private:  # a sealed attachment: fetched now, on the attachments' resumable path
            task = run_in_background(
                lambda: self.session.download_material(material),
                lambda _r: (self._tasks.discard(task), self._downloaded()),
                lambda exc: (self._tasks.discard(task), self.message.setText(explain(exc))),
            )
            self._tasks.add(task)
            return
        downloads = self.session.downloads
        entry = downloads.enqueue(self.session.library.by_id(material.id) or material, anyway=force)
        self.downloads_panel.refresh()
        self.downloads_panel.select(entry.sha256)
        if not force and downloads.would_pass_budget(entry):
            self.message.setText(
                _("Data saver: this download ({size}) would go past your monthly data budget.").format(
                    size=format_bytes(material.size)
                )
            )
            self.anyway_button.show()
            return
        self.anyway_button.hide()
        self.message.setText(_("{title} is in Downloads: it goes on while you do other things.").format(
            title=material.title))  # fmt: skip

    def _downloaded(self) -> None:
        """A download finished: "On this computer", and the reading pane if it is the one chosen."""
        material = self.selected()
        self.refresh()
        if material is not None:
            self._select(material)

    def _select(self, material: LibraryItem) -> None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if self.proxy.data(index, Qt.ItemDataRole.UserRole).id == material.id:
                self.table.setCurrentIndex(index)
                break
        self._show_selected()
