"""A project's shared files with their versions (who uploaded which version, when; add a file or a version,
download one, save one elsewhere) and its decisions log."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.project_state import ProjectState
from desktop.formatting import format_bytes
from desktop.i18n import N_, _
from desktop.ui.common import button, date_of_ms, line_edit
from desktop.ui.layout import empty_state
from desktop.ui.views.project_names import button_row, person

FILE_STATES = {
    "pending-upload": N_("waiting to upload"),
    "uploaded": N_("on this computer"),
    "downloaded": N_("on this computer"),
    "remote": N_("not downloaded"),
}


class FilesPanel(QWidget):
    def __init__(
        self,
        add: Callable[[str | None], None],
        download: Callable[[str], None],
        save: Callable[[str], None],
        file_state: Callable[[str], str | None],
    ) -> None:
        super().__init__()
        self._add, self._download, self._save, self._file_state = add, download, save, file_state
        layout = QVBoxLayout(self)
        self.tree = QTreeWidget()
        self.tree.setAccessibleName(_("Files and their versions"))
        self.tree.setHeaderLabels([_("File or version"), _("By"), _("When"), _("State")])
        self.tree.setColumnCount(4)
        empty_state(self.tree, _("No files yet: add the protocol, a data sheet or a draft."))
        layout.addWidget(self.tree, 1)
        layout.addWidget(
            button_row(
                button(_("Add a &file…"), _("Add a file"), lambda: self._add(None)),
                button(_("Add a &version…"), _("Add a new version of the selected file"), self.add_version),
                button(_("Do&wnload"), _("Download the selected version"), self.download),
                button(_("&Save as…"), _("Save the selected version as"), self.save),
            )
        )

    def show_state(self, state: ProjectState, names: dict[str, str]) -> None:
        self.tree.clear()
        for shared in state.files:
            top = QTreeWidgetItem([shared.name, "", "", ""])
            top.setData(0, Qt.ItemDataRole.UserRole, ("file", shared.id))
            for number, version in enumerate(shared.versions, start=1):
                size = format_bytes(int(version.attachment.get("s", 0)))
                where = _(FILE_STATES.get(self._file_state(version.id) or "remote", FILE_STATES["remote"]))
                label = _("Version {number}: {name} ({size})").format(number=number, name=version.name, size=size)
                child = QTreeWidgetItem([label, person(names, version.by), date_of_ms(version.at), where])
                child.setData(0, Qt.ItemDataRole.UserRole, ("version", version.id, shared.id))
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(True)
        for column in range(4):
            self.tree.resizeColumnToContents(column)

    def _chosen(self) -> tuple | None:
        item = self.tree.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def chosen_version(self) -> str | None:
        """The selected version, or the latest one of the selected file."""
        item = self.tree.currentItem()
        if item is None:
            return None
        data = item.data(0, Qt.ItemDataRole.UserRole)
        if data[0] == "version":
            return data[1]
        if item.childCount():
            return item.child(item.childCount() - 1).data(0, Qt.ItemDataRole.UserRole)[1]
        return None

    def add_version(self) -> None:
        data = self._chosen()
        if data is not None:
            self._add(data[1] if data[0] == "file" else data[2])

    def download(self) -> None:
        version = self.chosen_version()
        if version is not None:
            self._download(version)

    def save(self) -> None:
        version = self.chosen_version()
        if version is not None:
            self._save(version)


class DecisionsPanel(QWidget):
    def __init__(self, add: Callable[[str], None]) -> None:
        super().__init__()
        self._add = add
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setAccessibleName(_("Decisions"))
        self.list.setWordWrap(True)
        empty_state(self.list, _("No decisions yet: note what the group agreed and why."))
        layout.addWidget(self.list, 1)
        row = QWidget()
        grid = QGridLayout(row)
        grid.setContentsMargins(0, 0, 0, 0)
        self.text = line_edit(_("New decision"), _("What was decided…"))
        self.text.returnPressed.connect(self.add)
        grid.addWidget(self.text, 0, 0)
        grid.addWidget(button(_("&Log the decision"), _("Log the decision"), self.add), 0, 1)
        grid.setColumnStretch(0, 1)
        layout.addWidget(row)

    def show_state(self, state: ProjectState, names: dict[str, str]) -> None:
        self.list.clear()
        for decision in reversed(state.decisions):  # newest first
            item = QListWidgetItem(
                _("{date}, {person}: {text}").format(
                    date=date_of_ms(decision.at), person=person(names, decision.by), text=decision.text
                )
            )
            item.setData(Qt.ItemDataRole.UserRole, decision.id)
            self.list.addItem(item)

    def add(self) -> None:
        text = self.text.text().strip()
        if text:
            self._add(text)
            self.text.clear()
