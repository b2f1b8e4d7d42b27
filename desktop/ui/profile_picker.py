"""The profile picker at start: whose Osler is this? Names only (a hidden profile's not even that), a keyboard path
through every step, and removal that names the profile and says what it deletes."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QListWidget, QListWidgetItem, QStackedWidget

from desktop.domain.profiles import Profile, ProfileNameError, Profiles
from desktop.i18n import _
from desktop.ui.common import Page, button, line_edit, paragraph
from desktop.ui.layout import FlowLayout
from desktop.ui.theme import primary


def shown_name(profile: Profile) -> str:
    return profile.name or _("Unnamed profile")


def name_problem(error: ProfileNameError) -> str:
    return {
        "empty": _("Type a name for the profile."),
        "too-long": _("That name is too long: use at most 64 characters."),
        "taken": _("A profile on this computer already has that name. Choose another."),
    }.get(error.reason, _("Choose another name."))


class ProfilePicker(QStackedWidget):
    """Emits ``chosen(profile)`` when a person opens a profile (a new one included)."""

    chosen = Signal(object)

    def __init__(self, profiles: Profiles) -> None:
        super().__init__()
        self.profiles = profiles
        self.setAccessibleName(_("Choose a profile"))
        self._build_list_page()
        self._build_new_page()
        self._build_other_page()
        self._build_remove_page()
        self.show_list()

    # -- pages -------------------------------------------------------------------------------------------

    def _build_list_page(self) -> None:
        page = self.list_page = Page(
            _("Who is using Osler?"), _("Choose your profile. Each profile has its own vault and passphrase.")
        )
        self.names = QListWidget()
        self.names.setAccessibleName(_("Profiles on this computer"))
        self.names.itemActivated.connect(lambda _item: self._open_selected())
        page.layout_.addWidget(self.names, 1)
        row = FlowLayout()
        self.open_button = button(_("&Open"), _("Open the selected profile"), self._open_selected)
        primary(self.open_button)
        self.new_button = button(_("&New profile"), _("New profile"), self._show_new)
        self.remove_button = button(_("&Remove profile…"), _("Remove the selected profile"), self._ask_remove)
        self.other_button = button(_("Open &another profile…"), _("Open another profile by its name"), self._show_other)
        self.other_button.setFlat(True)
        for widget in (self.open_button, self.new_button, self.remove_button, self.other_button):
            row.addWidget(widget)
        page.layout_.addLayout(row)
        page.finish_layout()
        self.addWidget(page)

    def _build_new_page(self) -> None:
        page = self.new_page = Page(
            _("New profile"),
            _("A profile keeps one person's messages, plans and settings apart from everyone else's on this computer."),
        )
        self.new_name = line_edit(_("Profile name"))
        self.new_name.returnPressed.connect(self._create)
        self.new_hidden = QCheckBox(_("&Hide this name: to open the profile, type its name"))
        self.new_hidden.setAccessibleName(_("Hide this profile's name from the list"))
        form = QFormLayout()
        form.addRow(_("&Name:"), self.new_name)
        page.layout_.addLayout(form)
        page.layout_.addWidget(self.new_hidden)
        self.create_button = button(_("&Create profile"), _("Create profile"), self._create)
        primary(self.create_button)
        page.layout_.addWidget(self.create_button)
        page.layout_.addWidget(button(_("&Back"), _("Back"), self.show_list))
        page.finish_layout()
        self.addWidget(page)

    def _build_other_page(self) -> None:
        page = self.other_page = Page(_("Open another profile"), _("Type the profile's name."))
        self.other_name = line_edit(_("Profile name"))
        self.other_name.returnPressed.connect(self._open_other)
        form = QFormLayout()
        form.addRow(_("&Name:"), self.other_name)
        page.layout_.addLayout(form)
        self.other_open_button = button(_("&Open"), _("Open this profile"), self._open_other)
        primary(self.other_open_button)
        page.layout_.addWidget(self.other_open_button)
        page.layout_.addWidget(button(_("&Back"), _("Back"), self.show_list))
        page.finish_layout()
        self.addWidget(page)

    def _build_remove_page(self) -> None:
        page = self.remove_page = Page(_("Remove profile"))
        self.remove_text = paragraph("")
        page.layout_.addWidget(self.remove_text)
        self.confirm_remove_button = button(_("&Remove"), _("Remove"), self._remove)
        self.cancel_remove_button = button(_("&Cancel"), _("Cancel"), self.show_list)
        self.cancel_remove_button.setDefault(True)  # Return keeps the profile
        row = FlowLayout()
        row.addWidget(self.cancel_remove_button)
        row.addWidget(self.confirm_remove_button)
        page.layout_.addLayout(row)
        page.finish_layout()
        self.addWidget(page)
        self._removing: Profile | None = None

    # -- navigation --------------------------------------------------------------------------------------

    def show_list(self) -> None:
        self.names.clear()
        for profile in self.profiles.visible():
            item = QListWidgetItem(shown_name(profile))
            item.setData(Qt.ItemDataRole.UserRole, profile)
            self.names.addItem(item)
        if self.names.count():
            self.names.setCurrentRow(0)
        has_names = self.names.count() > 0
        self.open_button.setEnabled(has_names)
        self.remove_button.setEnabled(has_names)
        self.list_page.show_error("")
        self.setCurrentWidget(self.list_page)
        (self.names if has_names else self.new_button).setFocus()

    def _show_new(self) -> None:
        self.new_name.clear()
        self.new_hidden.setChecked(False)
        self.new_page.show_error("")
        self.setCurrentWidget(self.new_page)
        self.new_name.setFocus()

    def _show_other(self) -> None:
        self.other_name.clear()
        self.other_page.show_error("")
        self.setCurrentWidget(self.other_page)
        self.other_name.setFocus()

    def selected(self) -> Profile | None:
        item = self.names.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    # -- actions -----------------------------------------------------------------------------------------

    def _open_selected(self) -> None:
        profile = self.selected()
        if profile is not None:
            self.chosen.emit(profile)

    def _create(self) -> None:
        try:
            profile = self.profiles.create(self.new_name.text(), hidden=self.new_hidden.isChecked())
        except ProfileNameError as error:
            self.new_page.show_error(name_problem(error))
            return
        except OSError as error:
            self.new_page.show_error(
                _("Osler could not make the profile's folder ({reason}).").format(reason=error.strerror or error)
            )
            return
        self.chosen.emit(profile)

    def _open_other(self) -> None:
        profile = self.profiles.open_by_name(self.other_name.text())
        if profile is None:  # no list and no hint: only that this name opens nothing
            self.other_page.show_error(_("No profile with that name on this computer."))
            self.other_name.selectAll()
            return
        self.chosen.emit(profile)

    def _ask_remove(self) -> None:
        profile = self.selected()
        if profile is None:
            return
        self._removing = profile
        name = shown_name(profile)
        self.remove_page.title.setText(_("Remove {name}?").format(name=name))
        self.remove_text.setText(
            _(
                "This deletes everything of {name} on this computer: the vault, messages, plans, files and "
                "settings. It cannot be undone. Other profiles are not touched."
            ).format(name=name)
        )
        self.confirm_remove_button.setText(_("&Remove {name}").format(name=name))
        self.confirm_remove_button.setAccessibleName(_("Remove {name} and everything of it").format(name=name))
        self.remove_page.show_error("")
        self.setCurrentWidget(self.remove_page)
        self.cancel_remove_button.setFocus()

    def _remove(self) -> None:
        profile, self._removing = self._removing, None
        if profile is None:
            return
        try:
            self.profiles.remove(profile)
        except OSError as error:
            self.remove_page.show_error(
                _("Osler could not delete the profile's folder ({reason}).").format(reason=error.strerror or error)
            )
            return
        self.show_list()
