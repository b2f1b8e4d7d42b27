"""My profile: the public directory card (signed, synced to the programme) and private notes (sealed in the
vault, never sent). Specialties come from the programme's controlled list, languages are ISO codes shown with
their localized names, time zones are IANA names."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.directory import PEER_FROM_YEAR, SPECIALTIES, YEARS
from desktop.domain.matching import local_zone
from desktop.domain.session import Session
from desktop.formatting import country_name, zone_choices, zone_name
from desktop.i18n import N_, _, current_locale, folded, language_choices, language_name
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button, heading, line_edit
from desktop.ui.views.availability_editor import AvailabilityEditor

LANGUAGES = ("en", "fr", "es", "pt", "ar", "sw", "ha", "yo", "ig", "am", "hi", "bn", "ur", "tl", "wo", "zh", "ru")
FORMATS = {"async": N_("Written messages"), "calls": N_("Calls"), "video": N_("Video calls")}
PRIVATE = "private-profile"


def countries() -> list[tuple[str, str]]:
    """(ISO code, name in the UI language) for every country CLDR knows, sorted by that name."""
    names = current_locale().territories
    return sorted(
        ((code, name) for code, name in names.items() if len(code) == 2 and code.isalpha() and code != "ZZ"),
        key=lambda pair: folded(pair[1]),
    )


class ProfileView(QWidget):
    saved = Signal()

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setAccessibleName(_("My profile"))
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("My profile")))
        layout.addWidget(QLabel(_("Your card is public within your programme; private notes stay on your devices.")))
        form = QFormLayout()
        card = session.my_card()
        self.name = line_edit(_("Name"))
        self.name.setText(card.name if card else "")
        form.addRow(_("&Name:"), self.name)
        self.specialties = self._checklist(
            _("Specialties"),  # the English key is what the card stores; the label is in the reader's language
            sorted(((s, _(s)) for s in SPECIALTIES), key=lambda pair: folded(pair[1])),
            card.specialties if card else (),
        )
        form.addRow(_("&Specialties:"), self.specialties)
        self.interests = line_edit(_("Research interests"), _("Comma-separated, e.g. neonatal sepsis, bubble CPAP"))
        self.interests.setText(", ".join(card.interests) if card else "")
        form.addRow(_("Research &interests:"), self.interests)
        self.languages = self._checklist(  # each language in its own script, sorted by that name
            _("Languages"),
            [(tag, language_name(tag)) for tag in language_choices(LANGUAGES)],
            card.languages if card else (current_locale().language,),
        )
        form.addRow(_("&Languages:"), self.languages)
        # every country and time zone by its CLDR name in the UI language (the card keeps the ISO code and the
        # IANA name); the long lists are filled when the view is first shown, not while unlocking
        self.country = QComboBox()
        self.country.setAccessibleName(_("Country"))
        self.country.addItem(country_name(card.country) if card and card.country else "", card.country if card else "")
        form.addRow(_("&Country:"), self.country)
        self.tz = QComboBox()
        self.tz.setAccessibleName(_("Time zone"))
        mine = card.tz if card and card.tz else local_zone()
        self.tz.addItem(zone_name(mine), mine)
        form.addRow(_("&Time zone:"), self.tz)
        self._places_filled = False
        windows = session.vault.get_profile(session.program.credentials.account.hex()) or {}
        # when I can meet and when I am usually online (the card's "windows" are the whole hours of the latter)
        self.availability = AvailabilityEditor(self.tz)
        meetings = session.meetings
        self.availability.load(
            meetings.my_availability() if meetings is not None else None, windows.get("windows") or ()
        )
        form.addRow(self.availability)
        self.capacity = QSpinBox()
        self.capacity.setRange(0, 20)
        self.capacity.setValue(card.capacity if card else 0)
        self.year, self.peer, self.wants_peer = QSpinBox(), QCheckBox(), QCheckBox()
        if session.program.role == "student":  # a final-year student offering places is a peer mentor
            self.year.setRange(0, max(YEARS))
            self.year.setSpecialValueText(_("Not said"))
            self.year.setValue(card.year if card else 0)
            self.year.setAccessibleName(_("Year of study"))
            form.addRow(_("&Year of study:"), self.year)
            self.peer.setText(_("Offer to be a &peer mentor"))
            self.peer.setAccessibleName(_("Offer to be a peer mentor"))
            self.peer.setToolTip(
                _("Open to students from year {year}: mentor fellow students in earlier years.").format(
                    year=PEER_FROM_YEAR
                )
            )
            self.peer.setChecked(bool(card and card.peer))
            form.addRow("", self.peer)
            self.capacity.setAccessibleName(_("Students I can mentor as a peer mentor"))
            self.capacity.setToolTip(_("Leave at 0 unless you want to mentor fellow students."))
            form.addRow(_("Peer mentoring: students I can &take:"), self.capacity)
            self.wants_peer.setText(_("I would like a peer mentor &too"))
            self.wants_peer.setAccessibleName(_("I would like a peer mentor too"))
            self.wants_peer.setChecked(bool(card and card.wants_peer))
            form.addRow("", self.wants_peer)
            self.year.valueChanged.connect(self._peer_allowed)
            self.peer.toggled.connect(self._peer_allowed)
            self._peer_allowed()
        else:
            self.capacity.setAccessibleName(_("Mentees I can take"))
            form.addRow(_("Mentees I can &take:"), self.capacity)
        self.formats = self._checklist(
            _("Preferred formats"), [(k, _(v)) for k, v in FORMATS.items()], windows.get("formats", ("async",))
        )
        form.addRow(_("Preferred &formats:"), self.formats)
        self.background = line_edit(
            _("Background tags, optional"), _("Only if you wish, e.g. first-generation student")
        )
        self.background.setText(", ".join(windows.get("background", [])))
        form.addRow(_("Shared &background (optional):"), self.background)
        self.private = QPlainTextEdit()
        self.private.setAccessibleName(_("Private notes"))
        self.private.setMaximumHeight(70)
        self.private.setTabChangesFocus(True)
        raw = session.vault.get_secret(PRIVATE)
        self.private.setPlainText(raw.decode() if raw else "")
        form.addRow(_("&Private notes (only on your devices):"), self.private)
        layout.addLayout(form)
        self.save_button = button(_("Sa&ve and publish my card"), _("Save and publish my card"), self.save)
        layout.addWidget(self.save_button)
        self.status = LiveLabel()
        self.status.setAccessibleName(_("Profile status"))
        layout.addWidget(self.status)
        layout.addStretch(1)

    @staticmethod
    def _checklist(name: str, items: list[tuple[str, str]], checked: tuple[str, ...] | list[str]) -> QListWidget:
        widget = QListWidget()
        widget.setAccessibleName(name)
        widget.setMaximumHeight(90)
        for value, label in items:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if value in checked else Qt.CheckState.Unchecked)
            widget.addItem(item)
        return widget

    @staticmethod
    def _checked(widget: QListWidget) -> list[str]:
        return [
            widget.item(r).data(Qt.ItemDataRole.UserRole)
            for r in range(widget.count())
            if widget.item(r).checkState() == Qt.CheckState.Checked
        ]

    def _peer_allowed(self, *_args: object) -> None:
        """Only a student in their final years may offer to be a peer mentor; places count only for one who does."""
        allowed = self.year.value() >= PEER_FROM_YEAR
        self.peer.setEnabled(allowed)
        if not allowed:
            self.peer.setChecked(False)
        self.capacity.setEnabled(self.peer.isChecked())

    def showEvent(self, event: object) -> None:
        self._fill_places()
        super().showEvent(event)  # type: ignore[arg-type]

    def _fill_places(self) -> None:
        if self._places_filled:
            return
        self._places_filled = True
        for combo, choices, blank in ((self.country, countries(), True), (self.tz, zone_choices(), False)):
            kept = combo.currentData()
            combo.clear()
            if blank:
                combo.addItem("", "")
            for value, name in choices:
                combo.addItem(name, value)
            if combo.findData(kept) < 0:  # an alias, or a code CLDR does not list: shown as it is
                combo.addItem(country_name(kept) if blank else zone_name(kept), kept)
            combo.setCurrentIndex(combo.findData(kept))

    def save(self) -> None:
        self._fill_places()
        name = self.name.text().strip()
        if not name:
            self.status.setText(_("Enter the name others will see."))
            return
        me = self.session.program.credentials.account.hex()
        try:
            availability = self.availability.value(me)
        except ValueError as problem:
            self.status.setText(str(problem))
            return
        windows = [list(hours) for hours in availability.online_hours()]
        student: dict[str, object] = {}
        if self.session.program.role == "student":
            peer = self.peer.isChecked() and self.year.value() >= PEER_FROM_YEAR
            student = {"year": self.year.value(), "peer": peer, "wants_peer": self.wants_peer.isChecked()}
            if not peer:
                self.capacity.setValue(0)  # places are a peer mentor's
        background = [t.strip() for t in self.background.text().split(",") if t.strip()][:10]
        meetings = self.session.meetings
        if meetings is not None:  # saved first: the card below carries it (share "card") or leaves it off
            hook, meetings.card_changed = meetings.card_changed, None  # one card, not two
            try:
                meetings.set_availability(availability)
            finally:
                meetings.card_changed = hook
        self.session.publish_profile(
            name,
            specialties=self._checked(self.specialties),
            interests=[t.strip() for t in self.interests.text().split(",") if t.strip()][:20],
            languages=self._checked(self.languages),
            country=self.country.currentData() or "",
            tz=self.tz.currentData() or local_zone(),
            capacity=self.capacity.value(),
            windows=windows,
            formats=self._checked(self.formats),
            background=background,
            **student,
        )
        self.session.vault.put_secret(PRIVATE, self.private.toPlainText().encode())
        self.status.setText(_("Saved. Your card goes to the programme with the next sync."))
        self.saved.emit()
