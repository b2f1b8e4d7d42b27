"""The onboarding steps for a person who already has an account: "Link to my account on another device" (server
address + code, or the QR text pasted) and "Restore my account with my recovery key"; then the working page,
which shows this computer's fingerprint while it waits for the other device. Mixed into ``OnboardingScreen``
(desktop/ui/onboarding.py), which owns the flow, the vault and the ``waiting`` signal."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel

from desktop.domain.onboarding import Step
from desktop.domain.sync_adapter import default_device_name
from desktop.i18n import _
from desktop.ui.common import Page, button, line_edit


class LinkPages:
    # -- link to my account, restore my account ---------------------------------------------------------------

    def _choose_link(self) -> None:
        self.flow.choose_link()
        self.show_step()

    def _choose_restore(self) -> None:
        self.flow.choose_restore()
        self.show_step()

    def _link_page(self) -> Page:
        page = Page(
            _("Link to your account"),
            _(
                "On the computer that already has your account, open Settings and choose “Add a device…”. Type "
                "the server address and the code it shows, or paste its whole link (the text of the QR code)."
            ),
        )
        self.server_url = line_edit(_("Server address"), "mentors.example.org")
        self.link_code = line_edit(_("Link code"), "K7Q4-M2XP-9A3F-RTWZ")
        self.server_url.setText(self.flow.typed_address)  # after an error, what was typed is still there
        self.link_code.setText(self.flow.link_code)
        form = QFormLayout()
        form.addRow(_("Server &address:"), self.server_url)
        form.addRow(_("Link &code:"), self.link_code)
        page.layout_.addLayout(form)
        self.link_button = button(_("&Link this computer"), _("Link this computer"), self._link)
        self.link_button.setDefault(True)
        self.link_code.returnPressed.connect(self._link)
        page.layout_.addWidget(self.link_button)
        page.layout_.addWidget(self._back_button())
        page.first_field = self.server_url
        page.finish_layout()
        return page

    def _link(self) -> None:
        if not self.flow.submit_link(self.server_url.text(), self.link_code.text()):
            self.page.show_error(_(self.flow.error or ""))
            return
        self.show_step()

    def _linking_page(self) -> Page:
        page = Page(
            _("Linking this computer"),
            _("Keep Osler open on your other computer: it confirms this one by itself when the code arrives."),
        )
        self.this_fingerprint = QLabel("")
        self.this_fingerprint.setWordWrap(True)
        self.this_fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.this_fingerprint.setAccessibleName(_("Fingerprint of this computer"))
        page.layout_.addWidget(self.this_fingerprint)
        page.finish_layout()
        vault, url, code = self.vault, self.flow.server_url or "", self.flow.code
        assert vault is not None

        def link():  # type: ignore[no-untyped-def]
            from desktop.domain.devices import link_device
            from desktop.domain.linking import linking_fingerprint

            fingerprint = linking_fingerprint(vault, url, code)
            self.waiting.emit(("sending", fingerprint))
            return link_device(
                vault, url, code, default_device_name(), on_waiting=lambda: self.waiting.emit(("waiting", fingerprint))
            )

        page.run(_("Sending the request to your other device…"), link, self._linked, self._failed)
        return page

    def _waiting(self, news: tuple[str, str]) -> None:
        """From the linking worker: ("sending" or "waiting", this computer's fingerprint)."""
        if self.flow.step is not Step.LINKING:
            return
        state, fingerprint = news
        if state == "waiting":
            self.page.status.setText(_("Waiting for your other device…"))
        self.this_fingerprint.setText(
            _("Your other device will show this fingerprint: {fingerprint}").format(
                fingerprint="\u2066" + fingerprint + "\u2069"
            )
        )

    def _linked(self, program) -> None:  # type: ignore[no-untyped-def]
        self.flow.linked(program.role)
        self.finished.emit(self.vault, None, "")

    def _restore_page(self) -> Page:
        page = Page(
            _("Restore your account"),
            _(
                "Type the server address and the recovery key you wrote down when you set Osler up on your first "
                "computer. Your conversations come back with the first sync. If a computer was lost or stolen, "
                "revoke it afterwards in Settings."
            ),
        )
        self.server_url = line_edit(_("Server address"), "mentors.example.org")
        self.restore_key = line_edit(_("Recovery key"), "XXXX-XXXX-XXXX-…")
        self.server_url.setText(self.flow.typed_address)
        self.restore_key.setText(self.flow.typed_key)
        form = QFormLayout()
        form.addRow(_("Server &address:"), self.server_url)
        form.addRow(_("Recovery &key:"), self.restore_key)
        page.layout_.addLayout(form)
        self.restore_button = button(_("&Restore my account"), _("Restore my account"), self._restore)
        self.restore_button.setDefault(True)
        self.restore_key.returnPressed.connect(self._restore)
        page.layout_.addWidget(self.restore_button)
        page.layout_.addWidget(self._back_button())
        page.first_field = self.server_url
        page.finish_layout()
        return page

    def _restore(self) -> None:
        if not self.flow.submit_restore(self.server_url.text(), self.restore_key.text()):
            self.page.show_error(_(self.flow.error or ""))
            return
        self.show_step()

    def _restoring_page(self) -> Page:
        page = Page(_("Restoring your account"), _("Osler checks your recovery key with the server."))
        page.finish_layout()
        vault, url, key = self.vault, self.flow.server_url or "", self.flow.typed_key
        assert vault is not None

        def restore():  # type: ignore[no-untyped-def]
            from desktop.domain.devices import restore_account

            return restore_account(vault, url, key, default_device_name())

        page.run(_("Restoring your account…"), restore, self._linked, self._failed)
        return page
