"""The dialog that starts a group conversation: a name and up to 20 members, ticked from the directory."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import _


class NewGroupDialog(QDialog):
    """Name a group and tick its members (up to 20 people, you included)."""

    def __init__(self, people: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("New group"))
        layout = QVBoxLayout(self)
        self.title = QLineEdit()
        self.title.setAccessibleName(_("Group name"))
        self.title.setPlaceholderText(_("For example: Sepsis paper, Journal club"))
        label = QLabel(_("&Name:"))
        label.setBuddy(self.title)
        layout.addWidget(label)
        layout.addWidget(self.title)
        self.people = QListWidget()
        self.people.setAccessibleName(_("Members"))
        for account, name in people:
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, account)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.people.addItem(item)
        layout.addWidget(self.people, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen(self) -> list[str]:
        return [
            self.people.item(r).data(Qt.ItemDataRole.UserRole)
            for r in range(self.people.count())
            if self.people.item(r).checkState() == Qt.CheckState.Checked
        ]
