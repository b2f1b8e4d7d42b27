"""The top of Mentors: the search field and filters, the research-interests box that asks for suggestions, and the
weights of what matters most."""

from __future__ import annotations

from PySide6.QtCore import QMargins, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.matching import DEFAULT_WEIGHTS
from desktop.i18n import _
from desktop.ui.layout import FlowLayout


class MentorFilters(QWidget):
    changed = Signal()  # the search text or a filter changed
    suggest_wanted = Signal()
    show_all_wanted = Signal()

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Search names, interests, cities…"))
        self.search.setAccessibleName(_("Search mentors"))
        self.specialty = QComboBox()
        self.specialty.setAccessibleName(_("Specialty"))
        self.language = QComboBox()
        self.language.setAccessibleName(_("Language"))
        self.country = QComboBox()
        self.country.setAccessibleName(_("Country"))
        self.tz = QComboBox()
        self.tz.setAccessibleName(_("Time zone"))
        search_label = QLabel(_("&Search:"))
        search_label.setBuddy(self.search)
        filters.addWidget(search_label)
        filters.addWidget(self.search, 2)
        combos = QWidget()  # four filters wrap under each other at 200 % instead of widening the window
        combos_flow = FlowLayout(combos)
        for combo in (self.specialty, self.language, self.country, self.tz):
            combos_flow.addWidget(combo)
        filters.addWidget(combos, 3)
        layout.addLayout(filters)
        suggest_row = QHBoxLayout()
        self.interests = QLineEdit()
        self.interests.setAccessibleName(_("My research interests"))
        self.interests.setPlaceholderText(_("My research interests, e.g. rheumatic heart disease, echo screening"))
        self.interests.returnPressed.connect(self.suggest_wanted)
        self.suggest_button = QPushButton(_("Su&ggest mentors for me"))
        self.suggest_button.setAccessibleName(_("Suggest mentors for me"))
        self.suggest_button.clicked.connect(self.suggest_wanted)
        self.all_button = QPushButton(_("Show a&ll"))
        self.all_button.setAccessibleName(_("Show all mentors"))
        self.all_button.clicked.connect(self.show_all_wanted)
        suggest_row.addWidget(self.interests, 1)
        suggest_row.addWidget(self.suggest_button)
        suggest_row.addWidget(self.all_button)
        layout.addLayout(suggest_row)
        self.weights = QGroupBox(_("What matters most (weights)"))
        self.weights.setCheckable(True)
        self.weights.setChecked(False)
        self.weights.setAccessibleName(_("What matters most (weights)"))
        self.weights.setAccessibleDescription(_("Tick to adjust how much each part counts in the suggestions"))
        weights_row = QHBoxLayout(self.weights)
        self.sliders: dict[str, QSlider] = {}
        weight_widgets: list[QWidget] = []
        labels = {
            "specialty": _("Specialty"),
            "interests": _("Interests"),
            "language": _("Language"),
            "time": _("Same hours"),
            "background": _("Background"),
            "load": _("Open places"),
        }
        for part, default in DEFAULT_WEIGHTS.items():
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, 10)
            slider.setValue(int(default * 2))
            slider.setAccessibleName(_("Weight of {part}").format(part=labels[part]))
            label = QLabel(labels[part])
            label.setBuddy(slider)
            weights_row.addWidget(label)
            weights_row.addWidget(slider)
            self.sliders[part] = slider
            weight_widgets += [label, slider]
        # Unticked, the box is its title alone: labels without their sliders, or an empty frame, only take a row.
        margins = weights_row.contentsMargins()

        def show_weights(on: bool) -> None:
            for widget in weight_widgets:
                widget.setVisible(on)
            self.weights.setFlat(not on)
            weights_row.setContentsMargins(margins if on else QMargins())

        self.weights.toggled.connect(show_weights)
        show_weights(False)
        layout.addWidget(self.weights)
        self.search.textChanged.connect(self.changed)
        self.specialty.currentIndexChanged.connect(self.changed)
        self.language.currentIndexChanged.connect(self.changed)
        self.country.currentIndexChanged.connect(self.changed)
        self.tz.currentIndexChanged.connect(self.changed)

    def values(self) -> tuple[str, str, str, str, str]:
        """Search text, specialty, language, country and time zone ("" for all)."""
        combos = (self.specialty, self.language, self.country, self.tz)
        return (self.search.text(), *(combo.currentData() or "" for combo in combos))  # type: ignore[return-value]

    def show_suggestions(self, on: bool) -> None:
        """Suggestions are for people looking for a mentor: a mentor browsing students has none."""
        for widget in (self.interests, self.suggest_button, self.all_button, self.weights):
            widget.setVisible(on)

    def weight_values(self) -> dict[str, float]:
        return {part: slider.value() / 2 for part, slider in self.sliders.items()}

    @staticmethod
    def fill_combo(combo: QComboBox, everything: str, values: list[str], label) -> None:  # type: ignore[no-untyped-def]
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(everything, "")
        for value in values:
            combo.addItem(label(value), value)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)
