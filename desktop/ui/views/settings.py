"""Settings: language (applied at once), auto-lock, data saver and its monthly budget, this server and
device, sync without the internet (desktop/ui/views/carry.py), the account's devices (desktop/ui/views/devices.py)
and the recovery key (recovery_key.py)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop import i18n
from desktop.domain.session import Session
from desktop.domain.settings import AUTO_LOCK_CHOICES, IDLE_KB_PER_HOUR
from desktop.formatting import format_bytes, megabyte_unit
from desktop.i18n import _, ngettext
from desktop.ui import theme
from desktop.ui.common import heading
from desktop.ui.views.carry import CarryPanel
from desktop.ui.views.devices import DevicesPanel
from desktop.ui.views.recovery_key import RecoveryKeyPanel


class SettingsView(QWidget):
    language_changed = Signal(str)
    auto_lock_changed = Signal(int)
    records_changed = Signal()  # an imported answer brought records, as a sync does

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setAccessibleName(_("Settings"))
        settings = session.settings
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(heading(_("Settings")))
        form = QFormLayout()
        self.language = QComboBox()
        self.language.setAccessibleName(_("Language"))
        chosen = i18n.chosen_language()
        for tag in i18n.language_choices(first=chosen):  # each in its own script, the current one first
            self.language.addItem(i18n.language_name(tag), tag)
        self.language.setCurrentIndex(max(0, self.language.findData(chosen)))
        self.language.activated.connect(self._language)
        form.addRow(_("&Language:"), self.language)
        self.language_note = QLabel(i18n.fallback_note())  # the chosen language has no catalog yet
        self.language_note.setWordWrap(True)
        self.language_note.setAccessibleName(_("Language note"))
        self.language_note.setVisible(bool(self.language_note.text()))
        form.addRow("", self.language_note)

        self.theme = QComboBox()
        self.theme.setAccessibleName(_("Appearance"))
        for choice in theme.CHOICES:
            self.theme.addItem(_(theme.CHOICE_LABELS[choice]), choice)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.theme.activated.connect(self._theme)
        form.addRow(_("A&ppearance:"), self.theme)

        self.auto_lock = QComboBox()
        self.auto_lock.setAccessibleName(_("Lock automatically"))
        for minutes in AUTO_LOCK_CHOICES:
            label = (
                _("Never")
                if minutes == 0
                else ngettext("After {count} minute idle", "After {count} minutes idle", minutes).format(count=minutes)
            )
            self.auto_lock.addItem(label, minutes)
        self.auto_lock.setCurrentIndex(max(0, self.auto_lock.findData(settings.auto_lock_minutes)))
        self.auto_lock.activated.connect(self._auto_lock)
        form.addRow(_("Lock a&utomatically:"), self.auto_lock)

        self.data_saver = QCheckBox(_("Data saver: text first, large downloads only when I ask"))
        self.data_saver.setAccessibleName(_("Data saver"))
        self.data_saver.setChecked(settings.data_saver)
        self.data_saver.toggled.connect(self._save_data)
        form.addRow(_("&Data:"), self.data_saver)
        self.live = QCheckBox(_("New messages at once while online"))
        cost = _("One request stays open while you are online: about {size} an hour.").format(
            size=format_bytes(IDLE_KB_PER_HOUR * 1024)
        )
        self.live.setAccessibleName(_("Live delivery"))
        self.live.setAccessibleDescription(cost)
        self.live.setChecked(settings.live_delivery)
        self.live.toggled.connect(self._save_live)
        form.addRow(_("&Live delivery:"), self.live)
        live_cost = QLabel(cost)
        live_cost.setWordWrap(True)
        form.addRow("", live_cost)
        self.budget = QSpinBox()
        self.budget.setAccessibleName(_("Monthly data budget in megabytes"))
        self.budget.setRange(0, 100_000)
        self.budget.setSuffix("\u00a0" + megabyte_unit())  # "MB", "Mo": CLDR's unit
        self.budget.setValue(settings.monthly_budget_mb)
        self.budget.valueChanged.connect(self._save_data)
        form.addRow(_("Monthly &budget:"), self.budget)
        self.usage = QLabel()
        self.usage.setAccessibleName(_("Data used this month"))
        form.addRow(_("Used this month:"), self.usage)

        program = session.program
        server = _("Demo programme on this computer") if program.demo else program.server_url
        self.server = QLabel(server)
        self.server.setAccessibleName(_("Server"))
        form.addRow(_("Server:"), self.server)
        self.device = QLabel(program.credentials.device.hex())
        self.device.setAccessibleName(_("This device"))
        form.addRow(_("This device:"), self.device)
        layout.addLayout(form)

        self.carry = CarryPanel(session)  # Settings → Sync without the internet: export, import, carry for others
        self.carry.changed.connect(self.records_changed)
        layout.addWidget(self.carry)

        self.devices = DevicesPanel(session)  # Settings → Devices: list, add a device, revoke
        layout.addWidget(self.devices)
        self.recovery_key = RecoveryKeyPanel(session)  # Settings → Recovery key: check, make a new one
        layout.addWidget(self.recovery_key)
        layout.addStretch(1)
        self._show_usage()

    def showEvent(self, event: object) -> None:
        self._show_usage()
        super().showEvent(event)

    def _show_usage(self) -> None:
        self.usage.setText(format_bytes(self.session.settings.bytes_this_month()))

    def _language(self) -> None:
        tag = self.language.currentData()
        self.session.settings_store.update(lambda s: replace(s, locale=tag))
        self.language_changed.emit(tag)

    def _theme(self) -> None:
        """Applied at once, to every screen, and kept for the next start."""
        choice = self.theme.currentData()
        self.session.settings_store.update(lambda s: replace(s, theme=choice))
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.Theme.of(app).apply(choice)

    def _auto_lock(self) -> None:
        minutes = int(self.auto_lock.currentData())
        self.session.settings_store.update(lambda s: replace(s, auto_lock_minutes=minutes))
        self.auto_lock_changed.emit(minutes)

    def _save_data(self) -> None:
        saver, budget = self.data_saver.isChecked(), self.budget.value()
        self.session.settings_store.update(lambda s: replace(s, data_saver=saver, monthly_budget_mb=budget))
        self._show_usage()

    def _save_live(self) -> None:
        live = self.live.isChecked()
        self.session.settings_store.update(lambda s: replace(s, live_delivery=live))
        self.session.set_live(live)
