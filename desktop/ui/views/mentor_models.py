"""The Mentors directory's table model and its filter: a card per row, filtered by text, specialty and language."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from desktop.domain.directory import SPECIALTIES, Card
from desktop.domain.search import card_matches
from desktop.formatting import country_name, format_time, local_language_name, zone_name
from desktop.i18n import _

Index = QModelIndex | QPersistentModelIndex


def language_name(tag: str) -> str:
    """A card's language by its CLDR name in the UI language ("swahili" in French)."""
    return local_language_name(tag)


def specialty_name(key: str) -> str:
    """A specialty from the controlled list in the UI language; cards keep the English key."""
    return _(key) if key in SPECIALTIES else key


def local_time_line(tz: str, now: datetime) -> str:
    """ "Local time: 14:05 (Africa/Dakar)": what a mentor's clock says ``now``, for planning across time zones."""
    try:
        now = now.astimezone(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return tz
    return _("Local time: {time} ({zone})").format(time=format_time(now), zone=zone_name(tz))


def english_country_name(code: str) -> str:
    """Searching "kenya" finds Kenya whatever the interface language."""
    return Locale("en").territories.get(code, code)


def place_line(specialties: tuple[str, ...] | list[str], city: str, country: str) -> str:
    """ "Paediatrics · Accra, Ghana", leaving out what the card does not say (no " · , Ghana")."""
    where = ", ".join(part for part in (city.strip(), country_name(country) if country else "") if part)
    return " · ".join(part for part in (", ".join(specialty_name(s) for s in specialties), where) if part)


class MentorModel(QAbstractTableModel):
    COLUMNS = ("name", "specialty", "country", "tz", "languages", "capacity")

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
        return (_("Name"), _("Specialty"), _("Country"), _("Time zone"), _("Languages"), _("Open places"))[section]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        card = self.cards[index.row()]
        column = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                "name": _("{name} (peer mentor)").format(name=card.name) if card.peer else card.name,
                "specialty": ", ".join(specialty_name(s) for s in card.specialties),
                "country": country_name(card.country),
                "tz": zone_name(card.tz) if card.tz else "",
                "languages": ", ".join(language_name(t) for t in card.languages),
                "capacity": str(card.capacity),
            }[column]
        if role == Qt.ItemDataRole.UserRole:
            return card
        return None


class MentorFilter(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.text, self.specialty, self.language, self.country, self.tz = "", "", "", "", ""
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_filters(self, text: str, specialty: str, language: str, country: str = "", tz: str = "") -> None:
        def change() -> None:
            self.text, self.specialty, self.language = text.casefold().strip(), specialty, language
            self.country, self.tz = country, tz

        if hasattr(self, "beginFilterChange"):  # Qt 6.9+
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
        card: Card = self.sourceModel().cards[row]
        if self.specialty and self.specialty not in card.specialties:
            return False
        if self.language and self.language not in card.languages:
            return False
        if self.country and card.country != self.country:
            return False
        if self.tz and card.tz != self.tz:
            return False
        if self.text:
            place = (card.city, card.country, country_name(card.country), english_country_name(card.country), card.tz)
            shown = (zone_name(card.tz), *(specialty_name(s) for s in card.specialties))  # as the reader sees them
            return card_matches(card, self.text, (*place, *shown))
        return True
