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
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.directory import Card
from desktop.i18n import _, current_locale, format_time, ngettext

Index = QModelIndex | QPersistentModelIndex


def language_name(tag: str) -> str:
    try:
        return Locale.parse(tag).get_display_name(current_locale()) or tag
    except (ValueError, UnknownLocaleError):
        return tag


def local_time_line(tz: str) -> str:
    """ "Local time: 14:05 (Africa/Dakar)": what a mentor's clock says now, for planning across time zones."""
    try:
        now = datetime.now(ZoneInfo(tz))
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
                "name": card.name,
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

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName(_("Mentors"))
        self.model = MentorModel()
        self.selected: Card | None = None
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
        self.count = QLabel()
        layout.addWidget(self.count)
        splitter = QSplitter()
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
        side_layout.addWidget(self.detail, 1)
        self.write_button = QPushButton(_("&Write to this mentor"))
        self.write_button.setAccessibleName(_("Write to this mentor"))
        self.write_button.setEnabled(False)
        self.write_button.clicked.connect(self._write)
        side_layout.addWidget(self.write_button)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([640, 360])
        layout.addWidget(splitter, 1)
        self.search.textChanged.connect(self._apply)
        self.specialty.currentIndexChanged.connect(self._apply)
        self.language.currentIndexChanged.connect(self._apply)
        self.table.selectionModel().currentRowChanged.connect(self._show_detail)

    def set_cards(self, cards: list[Card]) -> None:
        self.model.set_cards(cards)
        self._fill_combo(self.specialty, _("All specialties"), sorted({s for c in cards for s in c.specialties}), str)
        self._fill_combo(
            self.language, _("All languages"), sorted({t for c in cards for t in c.languages}), language_name
        )
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.resizeColumnsToContents()
        self._apply()

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
        if card is None:
            self.detail.clear()
            return
        speaks = _("Speaks: {languages}").format(languages=", ".join(language_name(t) for t in card.languages))
        interests = _("Interests: {interests}").format(interests=", ".join(card.interests))
        place = f"{', '.join(card.specialties)} · {card.city}, {country_name(card.country)}"
        lines = [
            f"<h3>{card.name}</h3>",
            f"<p>{place}</p>",
            f"<p>{local_time_line(card.tz)}</p>",
            f"<p>{speaks}</p>",
            f"<p>{interests}</p>",
            f"<p>{card.bio}</p>",
        ]
        self.detail.setText("".join(_escape_keep_tags(line) for line in lines))


def _escape_keep_tags(line: str) -> str:
    """Card text comes from other people: escape it, keep only our own wrapping tags."""
    for tag in ("h3", "p"):
        if line.startswith(f"<{tag}>") and line.endswith(f"</{tag}>"):
            return f"<{tag}>{html.escape(line[len(tag) + 2 : -len(tag) - 3])}</{tag}>"
    return html.escape(line)
