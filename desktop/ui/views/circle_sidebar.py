"""The Circles page's left side: my circles (with their unread posts), invitations to accept or decline, and the
programme's listed circles to ask to join."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidgetItem, QVBoxLayout, QWidget

from desktop.i18n import _, ngettext
from desktop.ui.common import button
from desktop.ui.layout import row_of, wrapping_list

ROLE_NAMES = {
    "lead": lambda: _("lead mentor"),
    "mentor": lambda: _("mentor"),
    "peer": lambda: _("peer mentor"),
    "member": lambda: _("member"),
}


def role_name(role: str | None) -> str:
    return ROLE_NAMES[role]() if role in ROLE_NAMES else _("not a member")


def labelled(text: str, widget: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(widget)
    return label


class CircleSidebar(QWidget):
    circle_chosen = Signal(str)
    accept_wanted = Signal(str)
    decline_wanted = Signal(str)
    join_wanted = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.circle_list = wrapping_list()
        self.circle_list.setAccessibleName(_("My circles"))
        self.circle_list.currentItemChanged.connect(self._chosen)
        layout.addWidget(labelled(_("My c&ircles:"), self.circle_list))
        layout.addWidget(self.circle_list, 2)

        self.invitations = wrapping_list()
        self.invitations.setAccessibleName(_("Invitations"))
        self.invitation_label = labelled(_("In&vitations:"), self.invitations)
        layout.addWidget(self.invitation_label)
        layout.addWidget(self.invitations, 1)
        row = QHBoxLayout()
        self.accept_button = button(_("&Accept"), _("Accept the invitation"), lambda: self._emit_invitation(True))
        self.decline_button = button(_("Dec&line"), _("Decline the invitation"), lambda: self._emit_invitation(False))
        row.addWidget(self.accept_button)
        row.addWidget(self.decline_button)
        layout.addLayout(row)

        self.listed = wrapping_list()
        self.listed.setAccessibleName(_("Circles you can ask to join"))
        layout.addWidget(labelled(_("&Find circles:"), self.listed))
        layout.addWidget(self.listed, 1)
        self.join_button = button(_("As&k to join"), _("Ask to join the chosen circle"), self._join)
        layout.addWidget(self.join_button)

    def _chosen(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.circle_chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def _emit_invitation(self, ok: bool) -> None:
        item = self.invitations.currentItem()
        if item is not None:
            (self.accept_wanted if ok else self.decline_wanted).emit(item.data(Qt.ItemDataRole.UserRole))

    def _join(self) -> None:
        item = self.listed.currentItem()
        if item is not None:
            self.join_wanted.emit(item.data(Qt.ItemDataRole.UserRole))

    def refresh(self, circles: list, unread: dict[str, int], invitations: list, listed: list, names: dict) -> None:
        current = self.current()
        self.circle_list.blockSignals(True)
        self.circle_list.clear()
        for circle in circles:
            count = unread.get(circle.id, 0)
            text = circle.title or _("Untitled circle")
            if circle.kind == "project":  # a research project is a circle too; its board is on Projects
                text = _("Project: {title}").format(title=text)
            if count:
                text += " · " + ngettext("{count} unread", "{count} unread", count).format(count=count)
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, circle.id)
            item.setToolTip(text)
            self.circle_list.addItem(item)
            if circle.id == current:
                self.circle_list.setCurrentItem(item)
        self.circle_list.blockSignals(False)
        self.invitations.clear()
        for invitation in invitations:
            item = QListWidgetItem(
                _("{title}: as {role}, from {name}").format(
                    title=invitation.title or _("Untitled circle"),
                    role=role_name(invitation.role),
                    name=names.get(invitation.by, invitation.by[:8]),
                )
            )
            item.setData(Qt.ItemDataRole.UserRole, invitation.id)
            self.invitations.addItem(item)
        if self.invitations.count():
            self.invitations.setCurrentRow(0)
        for widget in (self.invitations, self.invitation_label, self.accept_button, self.decline_button):
            widget.setVisible(bool(invitations))
        self.listed.clear()
        mine = {c.id for c in circles}
        for card in listed:
            circle_id = getattr(card, "id", None) or getattr(card, "circle", "")
            if circle_id in mine:
                continue
            count = getattr(card, "count", 0)
            text = _("{title} ({count} members)").format(title=getattr(card, "title", "") or "?", count=count)
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, circle_id)
            item.setToolTip(getattr(card, "about", "") or text)
            self.listed.addItem(item)

    def current(self) -> str | None:
        item = self.circle_list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def select(self, circle_id: str) -> bool:
        row = row_of(self.circle_list, circle_id)
        if row >= 0:
            self.circle_list.setCurrentRow(row)
        return row >= 0
