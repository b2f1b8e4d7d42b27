"""Mentors: the programme's directory, offline. A model, a filter proxy and a view (as Electrum builds lists),
with filters by text, specialty and language, and the selected mentor's card beside the list."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.directory import Card
from desktop.domain.matching import ABOUT_A_PAIR, DEFAULT_WEIGHTS, DEFAULT_WINDOWS, InterestIndex, Seeker, suggest
from desktop.i18n import _, current_locale, format_time, ngettext
from desktop.ui.layout import RememberedSplitter, scrolling
from sync.clock import SYSTEM, Clock, utcnow

Index = QModelIndex | QPersistentModelIndex


def language_name(tag: str) -> str:
    try:
        return Locale.parse(tag).get_display_name(current_locale()) or tag
    except (ValueError, UnknownLocaleError):
        return tag


def local_time_line(tz: str, now: datetime) -> str:
    """ "Local time: 14:05 (Africa/Dakar)": what a mentor's clock says ``now``, for planning across time zones."""
    try:
        now = now.astimezone(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return tz
    return _("Local time: {time} ({zone})").format(time=format_time(now), zone=tz)


def country_name(code: str) -> str:
    return current_locale().territories.get(code, code)


class MentorModel(QAbstractTableModel):
    COLUMNS = ("name", "specialty", "country", "languages", "capacity")

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[Card] = []

    def set_cards(self, cards: list[Card]) -> None:
        self.beginResetModel()
        self.cards = cards
        self.endResetModel()

    def clear(self) -> None:
        self.set_cards([])

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.cards)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        return (_("Name"), _("Specialty"), _("Country"), _("Languages"), _("Open places"))[section]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        card = self.cards[index.row()]
        column = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                "name": card.name if card.role == "mentor" else _("{name} (peer mentor)").format(name=card.name),
                "specialty": ", ".join(card.specialties),
                "country": country_name(card.country),
                "languages": ", ".join(language_name(t) for t in card.languages),
                "capacity": str(card.capacity),
            }[column]
        if role == Qt.ItemDataRole.UserRole:
            return card
        return None


class MentorFilter(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.text, self.specialty, self.language = "", "", ""
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_filters(self, text: str, specialty: str, language: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+
            self.beginFilterChange()
            self.text, self.specialty, self.language = text.casefold().strip(), specialty, language
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.text, self.specialty, self.language = text.casefold().strip(), specialty, language
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
        card: Card = self.sourceModel().cards[row]
        if self.specialty and self.specialty not in card.specialties:
            return False
        if self.language and self.language not in card.languages:
            return False
        if self.text:
            haystack = " ".join((card.name, card.city, card.bio, *card.specialties, *card.interests)).casefold()
            return all(word in haystack for word in self.text.split())
        return True


class MentorsView(QWidget):
    write_to = Signal(str)
    ask = Signal(str)

    def __init__(self, clock: Clock = SYSTEM) -> None:
        super().__init__()
        self.clock = clock  # local times and "online at the same hours" are told against it
        self.setAccessibleName(_("Mentors"))
        self.model = MentorModel()
        self.selected: Card | None = None
        self.all_cards: list[Card] = []
        self.suggestions: dict = {}
        self._index = None
        self.seeker_account, self.seeker_languages, self.seeker_tz = "", ("en",), "UTC"
        self.seeker_windows: tuple[tuple[int, int], ...] = DEFAULT_WINDOWS
        self.excluded: set[str] = set()  # mentors who declined: left out of the next suggestions
        self.seeker_background: tuple[str, ...] = ()
        self.proxy = MentorFilter()
        self.proxy.setSourceModel(self.model)
        layout = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Search names, interests, cities…"))
        self.search.setAccessibleName(_("Search mentors"))
        self.specialty = QComboBox()
        self.specialty.setAccessibleName(_("Specialty"))
        self.language = QComboBox()
        self.language.setAccessibleName(_("Language"))
        search_label = QLabel(_("&Search:"))
        search_label.setBuddy(self.search)
        filters.addWidget(search_label)
        filters.addWidget(self.search, 2)
        filters.addWidget(self.specialty, 1)
        filters.addWidget(self.language, 1)
        layout.addLayout(filters)
        suggest_row = QHBoxLayout()
        self.interests = QLineEdit()
        self.interests.setAccessibleName(_("My research interests"))
        self.interests.setPlaceholderText(_("My research interests, e.g. rheumatic heart disease, echo screening"))
        self.interests.returnPressed.connect(self.suggest)
        self.suggest_button = QPushButton(_("Su&ggest mentors for me"))
        self.suggest_button.setAccessibleName(_("Suggest mentors for me"))
        self.suggest_button.clicked.connect(self.suggest)
        self.all_button = QPushButton(_("Show a&ll"))
        self.all_button.setAccessibleName(_("Show all mentors"))
        self.all_button.clicked.connect(self.show_all)
        suggest_row.addWidget(self.interests, 1)
        suggest_row.addWidget(self.suggest_button)
        suggest_row.addWidget(self.all_button)
        layout.addLayout(suggest_row)
        self.weights = QGroupBox(_("What matters most (weights)"))
        self.weights.setCheckable(True)
        self.weights.setChecked(False)
        weights_row = QHBoxLayout(self.weights)
        self.sliders: dict[str, QSlider] = {}
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
        self.weights.toggled.connect(lambda on: [w.setVisible(on) for w in self.sliders.values()])
        for slider in self.sliders.values():
            slider.setVisible(False)
        layout.addWidget(self.weights)
        self.count = QLabel()
        layout.addWidget(self.count)
        splitter = RememberedSplitter("mentors", None, [640, 360])
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName(_("Mentor list"))
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.detail.setAccessibleName(_("Mentor details"))
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        splitter.addWidget(self.table)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(scrolling(self.detail), 1)  # a long card scrolls, at 200 % too
        self.write_button = QPushButton(_("&Write to this mentor"))
        self.write_button.setAccessibleName(_("Write to this mentor"))
        self.write_button.setEnabled(False)
        self.write_button.clicked.connect(self._write)
        side_layout.addWidget(self.write_button)
        self.ask_button = QPushButton(_("As&k to be my mentor"))
        self.ask_button.setAccessibleName(_("Ask to be my mentor"))
        self.ask_button.setEnabled(False)
        self.ask_button.clicked.connect(lambda: self.selected and self.ask.emit(self.selected.account))
        side_layout.addWidget(self.ask_button)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
        self.search.textChanged.connect(self._apply)
        self.specialty.currentIndexChanged.connect(self._apply)
        self.language.currentIndexChanged.connect(self._apply)
        self.table.selectionModel().currentRowChanged.connect(self._show_detail)

    def set_cards(self, cards: list[Card]) -> None:
        self.all_cards = cards
        self._index: InterestIndex | None = None  # built on the first suggestion after the directory changed
        if self.suggestions:
            self.suggest()
            return
        self._show_cards(cards)

    def _show_cards(self, cards: list[Card]) -> None:
        self.model.set_cards(cards)
        self._fill_combo(self.specialty, _("All specialties"), sorted({s for c in cards for s in c.specialties}), str)
        self._fill_combo(
            self.language, _("All languages"), sorted({t for c in cards for t in c.languages}), language_name
        )
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.resizeColumnsToContents()
        self._apply()

    def set_seeker(
        self,
        account: str,
        languages: tuple[str, ...],
        tz: str,
        windows: tuple[tuple[int, int], ...] = (),
        background: tuple[str, ...] = (),
    ) -> None:
        self.seeker_account, self.seeker_languages, self.seeker_tz = account, languages, tz
        self.seeker_windows, self.seeker_background = windows or DEFAULT_WINDOWS, background

    def suggest(self) -> None:
        """Rank the directory for this person, offline, and say why for each mentor."""
        if self._index is None:
            self._index = InterestIndex(self.all_cards)
        seeker = Seeker(
            self.seeker_account,
            self.specialty.currentData() or "",
            self.interests.text(),
            self.seeker_languages,
            self.seeker_tz,
            self.seeker_windows,
            self.seeker_background,
        )
        weights = {part: slider.value() / 2 for part, slider in self.sliders.items()}
        candidates = [c for c in self.all_cards if c.account not in self.excluded]
        found = suggest(seeker, candidates, weights, limit=20, index=self._index, when=utcnow(self.clock))
        self.suggestions = {s.card.account: s for s in found}
        self.table.setSortingEnabled(False)
        self.proxy.sort(-1)
        self.model.set_cards([s.card for s in found])
        self.proxy.set_filters("", "", "")
        self.count.setText(
            ngettext("{count} suggestion, best first", "{count} suggestions, best first", len(found)).format(
                count=len(found)
            )
        )
        if found:
            self.table.selectRow(0)

    def show_all(self) -> None:
        self.suggestions = {}
        self.table.setSortingEnabled(True)
        self._show_cards(self.all_cards)

    def _write(self) -> None:
        if self.selected is not None:
            self.write_to.emit(self.selected.account)

    def clear(self) -> None:
        """Drop every decrypted card (on lock)."""
        self.model.clear()
        self.detail.clear()

    @staticmethod
    def _fill_combo(combo: QComboBox, everything: str, values: list[str], label) -> None:  # type: ignore[no-untyped-def]
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(everything, "")
        for value in values:
            combo.addItem(label(value), value)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)

    def _apply(self) -> None:
        self.proxy.set_filters(
            self.search.text(), self.specialty.currentData() or "", self.language.currentData() or ""
        )
        shown = self.proxy.rowCount()
        self.count.setText(ngettext("{count} mentor", "{count} mentors", shown).format(count=shown))

    def _show_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        card: Card | None = self.proxy.data(current, Qt.ItemDataRole.UserRole) if current.isValid() else None
        self.selected = card
        self.write_button.setEnabled(card is not None)
        self.ask_button.setEnabled(card is not None)
        if card is None:
            self.detail.clear()
            return
        speaks = _("Speaks: {languages}").format(languages=", ".join(language_name(t) for t in card.languages))
        interests = _("Interests: {interests}").format(interests=", ".join(card.interests))
        place = f"{', '.join(card.specialties)} · {card.city}, {country_name(card.country)}"
        lines = [
            f"<h3>{card.name}</h3>",
            f"<p>{place}</p>",
            f"<p>{local_time_line(card.tz, utcnow(self.clock))}</p>",
            f"<p>{speaks}</p>",
            f"<p>{interests}</p>",
            f"<p>{card.bio}</p>",
        ]
        suggestion = self.suggestions.get(card.account)
        if suggestion is not None:
            lines.insert(1, f"<p>{_('Why this mentor (score {score}):').format(score=f'{suggestion.score:.1f}')}</p>")
            for position, reason in enumerate(suggestion.reasons, start=2):
                lines.insert(position, f"<p>• {reason_line(reason.text, reason.values)}</p>")
        self.detail.setText("".join(_escape_keep_tags(line) for line in lines))


def reason_line(text: str, values: dict[str, object], about_a_pair: bool = False) -> str:
    """One part of a match score in words, in the person's language (language codes by their names); said to
    the student, or ``about_a_pair`` for someone else (an admin, the mentor introduced)."""
    if about_a_pair:
        text = ABOUT_A_PAIR.get(text, text)
    shown = {k: (", ".join(language_name(str(t)) for t in v) if isinstance(v, list) else v) for k, v in values.items()}
    try:
        return _(text).format(**shown)
    except (KeyError, IndexError, ValueError):
        return _(text)


def _escape_keep_tags(line: str) -> str:
    """Card text comes from other people: escape it, keep only our own wrapping tags."""
    for tag in ("h3", "p"):
        if line.startswith(f"<{tag}>") and line.endswith(f"</{tag}>"):
            return f"<{tag}>{html.escape(line[len(tag) + 2 : -len(tag) - 3])}</{tag}>"
    return html.escape(line)
