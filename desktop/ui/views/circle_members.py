"""A circle's members with their roles. A lead also invites people from the directory, removes members and
changes roles; everyone can leave."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop.i18n import _
from desktop.ui.common import button
from desktop.ui.views.circle_sidebar import ROLE_NAMES, labelled, role_name


def role_box(name: str) -> QComboBox:
    box = QComboBox()
    box.setAccessibleName(name)
    for role, label in ROLE_NAMES.items():
        box.addItem(label(), role)
    box.setCurrentIndex(box.findData("member"))
    return box


class MembersPanel(QWidget):
    invite_wanted = Signal(str, str)  # account, role
    remove_wanted = Signal(str)
    role_wanted = Signal(str, str)
    leave_wanted = Signal()

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.members = QListWidget()
        self.members.setAccessibleName(_("Members and roles"))
        layout.addWidget(labelled(_("Mem&bers:"), self.members))
        layout.addWidget(self.members, 1)

        self.lead_tools = QWidget()
        lead = QVBoxLayout(self.lead_tools)
        lead.setContentsMargins(0, 0, 0, 0)
        change = QHBoxLayout()
        self.role = role_box(_("New role for the chosen member"))
        change.addWidget(labelled(_("&Role:"), self.role))
        change.addWidget(self.role)
        change.addWidget(button(_("&Set role"), _("Set the chosen member's role"), self._set_role))
        change.addStretch(1)
        change.addWidget(button(_("Re&move"), _("Remove the chosen member"), self._remove))
        lead.addLayout(change)
        self.people = QComboBox()
        self.people.setAccessibleName(_("Person to invite"))
        self.people.setMinimumContentsLength(12)
        self.people.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        lead.addWidget(labelled(_("Invite &person:"), self.people))
        lead.addWidget(self.people)
        invite = QHBoxLayout()
        self.invite_role = role_box(_("Role of the person invited"))
        invite.addWidget(self.invite_role)
        invite.addWidget(button(_("Send invi&tation"), _("Send invitation"), self._invite))
        invite.addStretch(1)
        lead.addLayout(invite)
        layout.addWidget(self.lead_tools)
        row = QHBoxLayout()
        self.leave_button = button(_("L&eave circle"), _("Leave this circle"), self.leave_wanted.emit)
        row.addWidget(self.leave_button)
        row.addStretch(1)
        self.count = QLabel()
        row.addWidget(self.count)
        layout.addLayout(row)

    def refresh(
        self, members: list, names: dict[str, str], lead: bool, people: list[tuple[str, str]], asks: list[str] = ()
    ) -> None:
        """``asks``: accounts that asked to join (a lead's device), offered first in the invitation list."""
        chosen = self.chosen()
        self.members.clear()
        order = {role: n for n, role in enumerate(ROLE_NAMES)}
        for member in sorted(members, key=lambda m: (order.get(m.role, 9), names.get(m.account, m.account))):
            name = names.get(member.account, member.account[:8])
            item = QListWidgetItem(_("{name} — {role}").format(name=name, role=role_name(member.role)))
            item.setData(Qt.ItemDataRole.UserRole, member.account)
            self.members.addItem(item)
            if member.account == chosen:
                self.members.setCurrentItem(item)
        self.count.setText(_("{count} of {limit} members").format(count=len(members), limit=100))
        self.lead_tools.setVisible(lead)
        inside = {m.account for m in members}
        self.people.clear()
        asked = [a for a in asks if a not in inside]
        for account in asked:
            self.people.addItem(_("{name} (asked to join)").format(name=names.get(account, account[:8])), account)
        for account, name in sorted(people, key=lambda p: p[1].casefold()):
            if account not in inside and account not in asked:
                self.people.addItem(name, account)

    def chosen(self) -> str | None:
        item = self.members.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _set_role(self) -> None:
        account = self.chosen()
        if account is not None:
            self.role_wanted.emit(account, self.role.currentData())

    def _remove(self) -> None:
        account = self.chosen()
        if account is not None:
            self.remove_wanted.emit(account)

    def _invite(self) -> None:
        account = self.people.currentData()
        if account:
            self.invite_wanted.emit(account, self.invite_role.currentData())
