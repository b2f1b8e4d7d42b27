"""Page objects: tests say what a person does ("create the vault", "unlock", "open Mentors"), and only these
classes know which widget does it. Everything is driven with keys and clicks on real widgets, offscreen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.app import OslerApp
from desktop.domain.onboarding import Step
from desktop.ui.main_window import MainScreen
from desktop.ui.onboarding import OnboardingScreen
from desktop.ui.unlock import UnlockScreen

WAIT_MS = 30_000


class AppPage:
    def __init__(self, qtbot, app: OslerApp) -> None:
        self.qtbot, self.app = qtbot, app

    # -- where are we ---------------------------------------------------------------------------------------

    @property
    def screen(self):
        return self.app.window.screens.currentWidget()

    def on_onboarding(self, step: Step | None = None) -> bool:
        return isinstance(self.screen, OnboardingScreen) and (step is None or self.screen.flow.step is step)

    def on_unlock(self) -> bool:
        return isinstance(self.screen, UnlockScreen)

    def on_main(self) -> bool:
        return isinstance(self.screen, MainScreen)

    def error(self) -> str:
        page = getattr(self.screen, "page", None)  # first run: the step's page (inside its scroll area)
        if page is None and hasattr(self.screen, "currentWidget"):
            page = self.screen.currentWidget()
        return "" if page is None or page.error.isHidden() else page.error.text()

    def _type(self, field, text: str) -> None:
        field.clear()
        self.qtbot.keyClicks(field, text)

    def _press(self, widget) -> None:
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)

    def _wait_step(self, *steps: Step) -> None:
        self.qtbot.waitUntil(lambda: self.on_onboarding() and self.screen.flow.step in steps, timeout=WAIT_MS)

    # -- first run ------------------------------------------------------------------------------------------

    def choose_language(self, tag: str) -> None:
        screen = self.screen
        for row in range(screen.languages.count()):
            if screen.languages.item(row).data(Qt.ItemDataRole.UserRole) == tag:
                screen.languages.setCurrentRow(row)
        self.qtbot.keyClick(screen.languages, Qt.Key.Key_Return)

    def strength_label(self, passphrase: str) -> str:
        self._type(self.screen.new_passphrase, passphrase)
        return self.screen.strength_label.text()

    def create_vault(self, passphrase: str, repeat: str | None = None) -> None:
        screen = self.screen
        self._type(screen.new_passphrase, passphrase)
        self._type(screen.confirm_passphrase, passphrase if repeat is None else repeat)
        self.qtbot.keyClick(screen.confirm_passphrase, Qt.Key.Key_Return)
        self._wait_step(Step.PASSPHRASE, Step.PROGRAM)

    def recovery_key(self) -> str:
        return self.screen.recovery_label.text()

    def confirm_recovery(self, key: str, correct: bool = True) -> None:
        screen = self.screen
        self.qtbot.keyClick(screen.recovery_confirmed, Qt.Key.Key_Space)
        self.qtbot.keyClick(screen.recovery_continue, Qt.Key.Key_Space)
        screen = self.screen
        groups = key.split("-")
        first, second = screen.flow.confirm_indices
        self._type(screen.group_first, groups[first] if correct else "0000")
        self._type(screen.group_second, groups[second])
        self.qtbot.keyClick(screen.group_second, Qt.Key.Key_Return)

    def explore_demo(self, role: str = "student") -> None:
        """From the choice (or the recovery key its choice showed) into the demo as ``role``."""
        if self.on_onboarding(Step.PROGRAM):
            roles = self.screen.demo_role
            roles.setFocus()
            for _ in range(roles.count()):
                if roles.currentData() == role:
                    break
                self.qtbot.keyClick(roles, Qt.Key.Key_Down)
            assert roles.currentData() == role
            self._press(self.screen.demo_choice)
        if self.on_onboarding(Step.RECOVERY):
            self.confirm_recovery(self.recovery_key())
        self.wait_main()

    def join(self, url: str, invite: str) -> None:
        if self.on_onboarding(Step.PROGRAM):
            self._press(self.screen.join_choice)
        if self.on_onboarding(Step.RECOVERY):
            self.confirm_recovery(self.recovery_key())
        screen = self.screen
        self._type(screen.server_url, url)
        self._type(screen.invite, invite)
        self.qtbot.keyClick(screen.invite, Qt.Key.Key_Return)
        self._wait_step(Step.JOIN, Step.PROFILE)

    def finish_profile(self, name: str) -> None:
        screen = self.screen
        self._type(screen.profile_name, name)
        self.qtbot.keyClick(screen.profile_name, Qt.Key.Key_Return)
        self.wait_main()

    def first_run_to_program(self, passphrase: str) -> None:
        """Language and vault: at the choice (join, link, restore, demo); no recovery key shown yet."""
        self.choose_language("en")
        self.create_vault(passphrase)

    def enter_demo(self, passphrase: str, role: str = "student") -> None:
        """The whole first run into the demo programme, synced."""
        self.first_run_to_program(passphrase)
        self.explore_demo(role)
        self.wait_synced()

    def set_up_in(self, server_url: str, invite: str, name: str, passphrase: str) -> str:
        """The whole first run into a real programme; returns this person's account id."""
        self.first_run_to_program(passphrase)
        self.join(server_url, invite)
        self.finish_profile(name)
        self.wait_synced()
        return self.app.session.program.credentials.account.hex()

    # -- daily use ------------------------------------------------------------------------------------------

    def wait_main(self) -> None:
        self.qtbot.waitUntil(self.on_main, timeout=WAIT_MS)

    def wait_synced(self) -> None:
        bar = self.app.window.sync_bar
        self.qtbot.waitUntil(
            lambda: (
                bar.status is not None
                and bar.status.last_success is not None
                and not bar.status.syncing
                and bar.status.queued == 0
            ),
            timeout=WAIT_MS,
        )

    def open_view(self, name: str) -> None:
        index = self.screen.views.index(name)
        if index >= 10:  # past Ctrl+0 (an admin's Programme): the sidebar list, by the keyboard
            self.screen.nav.setFocus()
            self.screen.nav.setCurrentRow(9)
            for _ in range(index - 9):
                self.qtbot.keyClick(self.screen.nav, Qt.Key.Key_Down)
            return
        key = Qt.Key(Qt.Key.Key_0.value + (index + 1) % 10)  # Ctrl+1 … Ctrl+9, then Ctrl+0 for the tenth
        self.qtbot.keyClick(self.screen, key, Qt.KeyboardModifier.ControlModifier)

    def select_library_item(self, mime: str):  # type: ignore[no-untyped-def]
        """Library: choose the first item of this type in the list; its LibraryItem."""
        library = self.screen.library
        rows = [library.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(library.proxy.rowCount())]
        library.table.selectRow(next(r for r, item in enumerate(rows) if item.mime == mime))
        return library.selected()

    def open_library_item(self, mime: str):  # type: ignore[no-untyped-def]
        """Library: choose the first item of this type, and download it when it is not on this computer yet (the
        reader then shows it); its LibraryItem."""
        item = self.select_library_item(mime)
        if not self.app.session.library.is_offline(item):
            self._press(self.screen.library.download_button)
        return item

    def switch_language(self, tag: str) -> None:
        """Pick ``tag`` in Settings' language list, as a person would (the window switches at once)."""
        self.open_view("settings")
        settings = self.screen.settings
        settings.language.setCurrentIndex(settings.language.findData(tag))
        settings.language.activated.emit(settings.language.currentIndex())

    def lock(self) -> None:
        self.qtbot.keyClick(self.app.window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)

    def sync_now(self) -> None:
        """F5, as a person presses it: in the window they are looking at. F5 is a window shortcut, so with another
        person's window (or another computer's) in front it would do nothing: bring this one to the front first."""
        window = self.app.window
        blocking, owner = QApplication.activeModalWidget(), QApplication.activeModalWidget()
        while owner is not None and owner is not window:
            owner = owner.parentWidget()
        assert owner is None, f"F5 cannot reach the window behind {type(blocking).__name__}: close it first"
        window.activateWindow()
        self.qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)
        self.qtbot.keyClick(window, Qt.Key.Key_F5)

    def unlock(self, passphrase: str) -> None:
        screen = self.screen
        self._type(screen.passphrase, passphrase)
        self.qtbot.keyClick(screen.passphrase, Qt.Key.Key_Return)
        self.qtbot.waitUntil(lambda: self.on_main() or bool(self.error()), timeout=WAIT_MS)

    def mentor_names(self) -> list[str]:
        mentors = self.screen.mentors
        return [mentors.proxy.index(r, 0).data() for r in range(mentors.proxy.rowCount())]

    def search_mentors(self, text: str) -> None:
        self._type(self.screen.mentors.search, text)

    # -- devices (Settings → Devices) -----------------------------------------------------------------------

    @property
    def devices_panel(self):
        return self.screen.settings.devices

    def show_devices(self) -> list[list[str]]:
        """Settings → "Show devices"; the rows as shown (name, fingerprint, added, last sync), direction marks
        taken out."""
        self.open_view("settings")
        panel = self.devices_panel
        self._press(panel.load_button)
        self.qtbot.waitUntil(lambda: not panel._tasks, timeout=WAIT_MS)
        return [[plain(cell) for cell in row] for row in panel.rows()]

    def safety_number(self) -> str:
        return plain(self.devices_panel.safety_number.text())

    def select_other_device(self) -> str:
        """Select the first device in the list that is not this one; returns its name."""
        panel = self.devices_panel
        row = next(r for r, info in enumerate(panel.devices) if not info.this)
        panel.select(row)
        return panel.devices[row].name

    def press_revoke(self) -> None:
        self._press(self.devices_panel.revoke_button)

    def open_add_device(self):
        """Settings → "Add a device…": the dialog, once it shows a code (or an error)."""
        self.open_view("settings")
        panel = self.devices_panel
        self._press(panel.add_button)
        dialog = panel.link_dialog
        self.qtbot.waitUntil(lambda: bool(dialog.code.text()) or dialog.error.isVisible(), timeout=WAIT_MS)
        return dialog

    def link_code_shown(self) -> str:
        return plain(self.devices_panel.link_dialog.code.text())

    # -- link, restore (first run) --------------------------------------------------------------------------

    def link_to_account(self, url: str, code: str) -> None:
        """At the choice: "Link to my account on another device", the address and code typed, Link pressed;
        returns once linked (the main screen) or back on the link page with an error."""
        if self.on_onboarding(Step.PROGRAM):
            self._press(self.screen.link_choice)
        screen = self.screen
        self._type(screen.server_url, url)
        self._type(screen.link_code, code)
        self.qtbot.keyClick(screen.link_code, Qt.Key.Key_Return)
        self.qtbot.waitUntil(lambda: self.on_main() or self.on_onboarding(Step.LINK), timeout=WAIT_MS)

    def restore_account(self, url: str, key: str) -> None:
        if self.on_onboarding(Step.PROGRAM):
            self._press(self.screen.restore_choice)
        screen = self.screen
        self._type(screen.server_url, url)
        self._type(screen.restore_key, key)
        self.qtbot.keyClick(screen.restore_key, Qt.Key.Key_Return)
        self.qtbot.waitUntil(lambda: self.on_main() or self.on_onboarding(Step.RESTORE), timeout=WAIT_MS)


class KeyboardPage(AppPage):
    """The same person with no mouse: every press is Tab until the control has focus, then Space; every field is
    reached with Tab and typed into. A control Tab cannot reach fails the test."""

    TAB_LIMIT = 150

    def focused(self):
        return self.app.window.focusWidget()

    def tab_to(self, widget) -> None:
        for _ in range(self.TAB_LIMIT):
            current = self.focused()
            if current is widget:
                return
            self.qtbot.keyClick(current or self.app.window, Qt.Key.Key_Tab)
        raise AssertionError(f"Tab never reaches {type(widget).__name__} {widget.accessibleName()!r}")

    def _press(self, widget) -> None:
        self.tab_to(widget)
        self.qtbot.keyClick(widget, Qt.Key.Key_Space)

    def _type(self, field, text: str) -> None:
        self.tab_to(field)
        self.qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        self.qtbot.keyClick(field, Qt.Key.Key_Backspace)
        self.qtbot.keyClicks(field, text)

    def choose_language(self, tag: str) -> None:
        languages = self.screen.languages
        self.tab_to(languages)
        self.qtbot.keyClick(languages, Qt.Key.Key_Home)
        for _ in range(languages.count()):
            if languages.currentItem().data(Qt.ItemDataRole.UserRole) == tag:
                break
            self.qtbot.keyClick(languages, Qt.Key.Key_Down)
        self.qtbot.keyClick(languages, Qt.Key.Key_Return)

    def choose_row(self, view, row: int) -> None:
        """Tab into a list or table, then arrow keys to ``row``."""
        self.tab_to(view)
        self.qtbot.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
        for _ in range(row):
            self.qtbot.keyClick(view, Qt.Key.Key_Down)


def plain(text: str) -> str:
    """``text`` without the direction marks (LRI, RLI, FSI, PDI) that keep codes and fingerprints in order."""
    return "".join(ch for ch in text if ch not in "\u2066\u2067\u2068\u2069")
