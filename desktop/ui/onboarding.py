"""First run, drawn over the Qt-free ``desktop.domain.onboarding`` state machine: each step's page is built when
the step is reached, in the language chosen by then. Slow work (vault creation, registration, the demo server)
runs on worker threads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QStackedWidget,
)

from desktop import i18n
from desktop.domain.onboarding import Onboarding, Step, check_passphrase
from desktop.domain.session import join_demo
from desktop.domain.sync_adapter import default_device_name, join_program
from desktop.domain.vault_access import KdfParams, Vault, create_vault
from desktop.i18n import _
from desktop.ui.common import Page, button, line_edit, password_field
from desktop.ui.common import explain as explain_error
from desktop.ui.layout import scrolling
from desktop.ui.onboarding_link import LinkPages
from sync.client.errors import Offline, WrongServer
from sync.client.transport import Transport
from sync.clock import SYSTEM, Clock, now_ms


def join_failure(exc: Exception, url: str) -> str:
    """What went wrong joining the server at ``url``, exactly enough to fix it (not "offline, will retry": the
    person is at the join page and needs the address checked, or the server started)."""
    address = url.split("://", 1)[-1]
    host = urlsplit(url).hostname or address
    if isinstance(exc, Offline):
        sentences = {
            "refused": _(
                "Nothing answers at {address}: the server is not running there, or the port is wrong. Check the "
                "address and try again."
            ),
            "name": _("“{host}” is not a known server name. Check its spelling, and that this computer is connected."),
            "tls": _(
                "No secure (https) connection to {address}. Check the address your programme gave you; a server "
                "on this computer is typed as 127.0.0.1:PORT."
            ),
            "timeout": _("{address} did not answer in time. The connection may be slow or down: try again."),
        }
        default = _("{address} could not be reached. Check this computer's connection and the address, then try again.")
        return sentences.get(exc.reason, default).format(address=address, host=host)
    if isinstance(exc, WrongServer):
        return _(
            "{address} answered, but it is not an Osler server. Check the address your programme gave you."
        ).format(address=address)
    return explain_error(exc)


class OnboardingScreen(LinkPages, QStackedWidget):
    """Emits ``language_chosen(tag)`` (the app applies it) and ``finished(vault, demo_server, profile_name)``."""

    language_chosen = Signal(str)
    finished = Signal(object, object, str)
    waiting = Signal(object)  # from the linking worker: the request is sent, this device's fingerprint

    def __init__(self, data_dir: Path, kdf_params: KdfParams | None = None, flow: Onboarding | None = None) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.flow = flow or Onboarding(list(i18n.UI_LANGUAGES))
        self.kdf_params = kdf_params
        self.vault: Vault | None = None
        self.clock: Clock = SYSTEM  # the app's: the demo's history and meetings are timed from it
        self.demo_server = None
        self.setAccessibleName(_("Set up Osler"))
        self.waiting.connect(self._waiting)
        self.show_step()

    # -- drawing ------------------------------------------------------------------------------------------

    def show_step(self) -> None:
        builders = {
            Step.LANGUAGE: self._language_page,
            Step.PASSPHRASE: self._passphrase_page,
            Step.RECOVERY: self._recovery_page,
            Step.CONFIRM_RECOVERY: self._confirm_page,
            Step.PROGRAM: self._program_page,
            Step.JOIN: self._join_page,
            Step.PROFILE: self._profile_page,
            Step.LINK: self._link_page,
            Step.RESTORE: self._restore_page,
            Step.LINKING: self._linking_page,
            Step.RESTORING: self._restoring_page,
        }
        builder = builders.get(self.flow.step)
        if builder is None:
            return
        old = self.currentWidget()
        self.page = builder()
        if self.flow.error:
            self.page.show_error(_(self.flow.error))
        area = scrolling(self.page, "onboarding-page")  # 200 % text on a small screen: the page scrolls
        self.addWidget(area)
        self.setCurrentWidget(area)
        if old is not None:
            self.removeWidget(old)
            old.deleteLater()
        focus = getattr(self.page, "first_field", None)
        if focus is not None:
            focus.setFocus()

    def _back_button(self) -> object:
        self.back_button = button(_("&Back"), _("Back"), self._back)
        return self.back_button

    def _back(self) -> None:
        self.flow.back()
        self.show_step()

    # -- language -----------------------------------------------------------------------------------------

    def _language_page(self) -> Page:
        page = Page(_("Welcome to Osler"), _("Choose the language Osler speaks. You can change it later in Settings."))
        self.languages = QListWidget()
        self.languages.setAccessibleName(_("Language"))
        current = i18n.chosen_language()  # the system's language when Osler offers it (app.choose_locale)
        for tag in i18n.language_choices(self.flow.locales, first=current):
            item = QListWidgetItem(i18n.language_name(tag))
            item.setData(Qt.ItemDataRole.UserRole, tag)
            self.languages.addItem(item)
            if tag == current:
                self.languages.setCurrentItem(item)
        if self.languages.currentItem() is None:
            self.languages.setCurrentRow(0)
        self.languages.itemActivated.connect(lambda _item: self._choose_language())
        page.layout_.addWidget(self.languages)
        page.layout_.addWidget(button(_("&Continue"), _("Continue"), self._choose_language))
        page.first_field = self.languages
        page.finish_layout()
        return page

    def _choose_language(self) -> None:
        tag = self.languages.currentItem().data(Qt.ItemDataRole.UserRole)
        self.flow.choose_language(tag)
        self.language_chosen.emit(tag)
        self.show_step()

    # -- passphrase ---------------------------------------------------------------------------------------

    def _passphrase_page(self) -> Page:
        page = Page(
            _("Create your vault"),
            _(
                "Osler keeps your messages, profile and study material encrypted on this computer. Choose a "
                "passphrase of at least 8 characters: a few unrelated words are easy to remember and hard to guess."
            ),
        )
        self.new_passphrase = password_field(_("New passphrase"))
        self.confirm_passphrase = password_field(_("Repeat the passphrase"))
        form = QFormLayout()
        form.addRow(_("&Passphrase:"), self.new_passphrase)
        form.addRow(_("&Repeat it:"), self.confirm_passphrase)
        page.layout_.addLayout(form)
        self.strength = QProgressBar()
        self.strength.setRange(0, 4)
        self.strength.setTextVisible(False)
        self.strength.setAccessibleName(_("Passphrase strength"))
        self.strength_label = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.strength, 1)
        row.addWidget(self.strength_label)
        page.layout_.addLayout(row)
        self.new_passphrase.textChanged.connect(self._update_strength)
        self._update_strength("")
        self.create_button = button(_("&Create vault"), _("Create vault"), self._create)
        self.create_button.setDefault(True)
        self.confirm_passphrase.returnPressed.connect(self._create)
        page.layout_.addWidget(self.create_button)
        page.first_field = self.new_passphrase
        page.finish_layout()
        return page

    def _update_strength(self, text: str) -> None:
        check = check_passphrase(text)
        self.strength.setValue(check.score if text else 0)
        label = _(check.label) if text else ""
        self.strength_label.setText(label)
        self.strength.setAccessibleDescription(label)

    def _create(self) -> None:
        passphrase = self.new_passphrase.text()
        check = self.flow.submit_passphrase(passphrase, self.confirm_passphrase.text())
        if not check.acceptable:
            self.page.show_error(" ".join(_(p) for p in check.problems))
            return
        folder, params = self.data_dir / "vault", self.kdf_params

        def created(result: tuple[Vault, str]) -> None:
            self.vault, key = result
            self.flow.vault_created(key)
            self.show_step()

        def create() -> tuple[Vault, str]:
            return create_vault(folder, passphrase, params)

        self._run(_("Protecting your vault… this takes a moment."), create, created)

    def _run(self, busy: str, fn: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        self.page.run(busy, fn, on_done, self._failed)

    def _failed(self, exc: Exception) -> None:
        if self.flow.step in (Step.JOINING, Step.LINKING, Step.RESTORING):
            if type(exc).__name__ in ("LinkProblem", "RecoveryProblem"):
                self.flow.failed(str(exc))  # the domain's translated sentence for its reason
            else:
                self.flow.failed(join_failure(exc, self.flow.server_url or ""))
            self.show_step()
        elif self.flow.step in (Step.CREATING, Step.DEMO):
            self.flow.failed(explain_error(exc))
            self.show_step()

    # -- recovery key -------------------------------------------------------------------------------------

    def _recovery_page(self) -> Page:
        page = Page(
            _("Write down your recovery key"),
            _(
                "If you forget your passphrase, this key is the only way back into your vault. Write it on paper "
                "and keep it somewhere safe. Osler will not show it again."
            ),
        )
        self.recovery_label = QLabel(self.flow.recovery_key or "")
        self.recovery_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(mono.pointSizeF() * 1.3)
        mono.setWeight(QFont.Weight.Bold)
        self.recovery_label.setFont(mono)
        self.recovery_label.setAccessibleName(_("Recovery key"))
        page.layout_.addWidget(self.recovery_label)
        self.recovery_confirmed = QCheckBox(_("I have &written down my recovery key"))
        self.recovery_confirmed.setAccessibleName(_("I have written down my recovery key"))
        page.layout_.addWidget(self.recovery_confirmed)
        self.recovery_continue = button(_("C&ontinue"), _("Continue"), self._recovery_written)
        self.recovery_continue.setEnabled(False)
        self.recovery_confirmed.toggled.connect(self.recovery_continue.setEnabled)
        page.layout_.addWidget(self.recovery_continue)
        page.layout_.addWidget(self._back_button())  # back to the choice: linking shows no new key
        page.first_field = self.recovery_confirmed
        page.finish_layout()
        return page

    def _recovery_written(self) -> None:
        self.flow.recovery_written()
        self.show_step()

    def _confirm_page(self) -> Page:
        first, second = (i + 1 for i in self.flow.confirm_indices)
        page = Page(
            _("Check your recovery key"),
            _("Type group {first} and group {second} of the key you wrote down.").format(first=first, second=second),
        )
        self.group_first = line_edit(_("Group {number}").format(number=first), "XXXX")
        self.group_second = line_edit(_("Group {number}").format(number=second), "XXXX")
        form = QFormLayout()
        form.addRow(_("Group {number}:").format(number=first), self.group_first)
        form.addRow(_("Group {number}:").format(number=second), self.group_second)
        page.layout_.addLayout(form)
        self.confirm_button = button(_("C&onfirm"), _("Confirm"), self._confirm)
        self.confirm_button.setDefault(True)
        self.group_second.returnPressed.connect(self._confirm)
        page.layout_.addWidget(self.confirm_button)
        page.layout_.addWidget(self._back_button())
        page.first_field = self.group_first
        page.finish_layout()
        return page

    def _confirm(self) -> None:
        if not self.flow.confirm_recovery(self.group_first.text(), self.group_second.text()):
            self.page.show_error(_(self.flow.error or ""))
            return
        if self.flow.step is Step.DEMO:
            self._start_demo()
            return
        self.show_step()

    # -- programme ----------------------------------------------------------------------------------------

    def _program_page(self) -> Page:
        page = Page(
            _("Connect to your programme"),
            _(
                "If your mentorship programme gave you an invite code, join it now. Already use Osler on another "
                "computer? Link this one to your account, or restore your account with your recovery key. "
                "Otherwise explore the demo programme: it runs on this computer, needs no internet, and everyone "
                "in it is fictional."
            ),
        )
        self.join_choice = button(_("&Join my programme"), _("Join my programme"), self._choose_join)
        self.demo_choice = button(_("Explore the &demo programme"), _("Explore the demo programme"), self._choose_demo)
        self.demo_choice.setDefault(True)  # with no programme configured, Enter opens the demo
        self.demo_role = QComboBox()
        self.demo_role.setAccessibleName(_("Explore the demo as"))
        for role, label in (
            ("student", _("a student looking for mentors")),
            ("mentor", _("a mentor")),
            ("admin", _("a programme administrator")),
        ):
            self.demo_role.addItem(label, role)
        demo_row = QHBoxLayout()
        role_label = QLabel(_("Explore &as:"))
        role_label.setBuddy(self.demo_role)
        demo_row.addWidget(role_label)
        demo_row.addWidget(self.demo_role, 1)
        self.link_choice = button(
            _("&Link to my account on another device"), _("Link to my account on another device"), self._choose_link
        )
        self.restore_choice = button(
            _("&Restore my account with my recovery key"),
            _("Restore my account with my recovery key"),
            self._choose_restore,
        )
        page.layout_.addWidget(self.join_choice)
        page.layout_.addWidget(self.link_choice)
        page.layout_.addWidget(self.restore_choice)
        page.layout_.addLayout(demo_row)
        page.layout_.addWidget(self.demo_choice)
        page.first_field = self.demo_choice
        page.finish_layout()
        return page

    def _choose_join(self) -> None:
        self.flow.choose_join()
        self.show_step()

    def _choose_demo(self) -> None:
        self.demo_role_chosen = self.demo_role.currentData() or "student"
        if self.flow.choose_demo() is Step.DEMO:  # no key to show (set-up resumed after the vault was made)
            self._start_demo()
        else:
            self.show_step()

    def _start_demo(self) -> None:
        vault, data_dir = self.vault, self.data_dir
        assert vault is not None

        def joined(result) -> None:  # type: ignore[no-untyped-def]
            _program, self.demo_server = result
            self.flow.demo_started()
            self.finished.emit(self.vault, self.demo_server, "")

        role = getattr(self, "demo_role_chosen", "student")
        self._run(
            _("Starting the demo programme…"),
            lambda: join_demo(vault, data_dir, "demo", role, now_ms=now_ms(self.clock)),
            joined,
        )

    def _join_page(self) -> Page:
        page = Page(
            _("Join your programme"),
            _("Enter the server address and the invite code your programme sent you. You need a connection now."),
        )
        self.server_url = line_edit(_("Server address"), "mentors.example.org")
        self.invite = line_edit(_("Invite code"), "ABCD-EFGH-JKLM")
        self.server_url.setText(self.flow.typed_address)  # after an error, what was typed is still there
        self.invite.setText(self.flow.invite)
        form = QFormLayout()
        form.addRow(_("Server &address:"), self.server_url)
        form.addRow(_("&Invite code:"), self.invite)
        page.layout_.addLayout(form)
        self.join_button = button(_("&Join"), _("Join"), self._join)
        self.join_button.setDefault(True)
        self.invite.returnPressed.connect(self._join)
        page.layout_.addWidget(self.join_button)
        page.layout_.addWidget(self._back_button())
        page.first_field = self.server_url
        page.finish_layout()
        return page

    def _join(self) -> None:
        if not self.flow.submit_join(self.server_url.text(), self.invite.text()):
            self.page.show_error(_(self.flow.error or ""))
            return
        vault, url, invite = self.vault, self.flow.server_url or "", self.invite.text()
        assert vault is not None

        def joined(program) -> None:  # type: ignore[no-untyped-def]
            self.flow.joined(program.role)
            self.show_step()

        self._run(_("Joining…"), lambda: join_program(vault, Transport(url), invite, default_device_name()), joined)

    def _profile_page(self) -> Page:
        role = {"mentor": _("mentor"), "student": _("student"), "admin": _("programme administrator")}
        page = Page(
            _("Your profile"),
            _("You joined as a {role}. Enter the name others in the programme will see.").format(
                role=role.get(self.flow.role or "", self.flow.role or "")
            ),
        )
        self.profile_name = line_edit(_("Your name"))
        form = QFormLayout()
        form.addRow(_("&Name:"), self.profile_name)
        page.layout_.addLayout(form)
        self.finish_button = button(_("&Finish"), _("Finish"), self._finish)
        self.finish_button.setDefault(True)
        self.profile_name.returnPressed.connect(self._finish)
        page.layout_.addWidget(self.finish_button)
        page.first_field = self.profile_name
        page.finish_layout()
        return page

    def _finish(self) -> None:
        if not self.flow.submit_profile(self.profile_name.text()):
            self.page.show_error(_(self.flow.error or ""))
            return
        self.finished.emit(self.vault, None, self.profile_name.text().strip())
