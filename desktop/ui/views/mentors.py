"""Mentors: the programme's directory, offline. A model, a filter proxy and a view (as Electrum builds lists),
with filters by text, specialty and language, and the selected mentor's card beside the list.

The screen is three parts, each its own widget: the filters and suggestion controls (``mentor_filters``), the
table (its model and proxy in ``mentor_models``) and the selected mentor's card (``mentor_detail``)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.directory import Card
from desktop.domain.matching import DEFAULT_WINDOWS, InterestIndex, Seeker, suggest
from desktop.formatting import zone_name
from desktop.i18n import _, folded, ngettext
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button
from desktop.ui.direction import BidiDelegate
from desktop.ui.layout import RememberedSplitter
from desktop.ui.views.mentor_detail import MentorDetail, reason_line
from desktop.ui.views.mentor_filters import MentorFilters
from desktop.ui.views.mentor_models import (
    MentorFilter,
    MentorModel,
    country_name,
    language_name,
    local_time_line,
    specialty_name,
)
from sync.clock import SYSTEM, Clock, utcnow

__all__ = ["MentorsView", "country_name", "language_name", "local_time_line", "reason_line"]


class MentorsView(QWidget):
    write_to = Signal(str)
    ask = Signal(str)
    open_requests = Signal()  # a mentor: to the requests waiting for an answer

    def __init__(self, clock: Clock = SYSTEM, students: bool = False) -> None:
        super().__init__()
        self.clock = clock  # local times and "online at the same hours" are told against it
        self.students = students  # a mentor browses the programme's students: no suggestions, no asking
        self.setAccessibleName(_("Students") if students else _("Mentors"))
        self.model = MentorModel()
        self.selected: Card | None = None
        self.all_cards: list[Card] = []
        self.suggestions: dict = {}
        self._index = None
        self.seeker_account, self.seeker_languages, self.seeker_tz = "", ("en",), "UTC"
        self.seeker_windows: tuple[tuple[int, int], ...] = DEFAULT_WINDOWS
        self.excluded: set[str] = set()  # mentors who declined: left out of the next suggestions
        self.seeker_background: tuple[str, ...] = ()
        self.seeker_year, self.seeker_wants_peer = 0, False
        self.proxy = MentorFilter()
        self.proxy.setSourceModel(self.model)
        layout = QVBoxLayout(self)
        self.filters = MentorFilters()
        self.filters.changed.connect(self._apply)
        self.filters.suggest_wanted.connect(self.suggest)
        self.filters.show_all_wanted.connect(self.show_all)
        layout.addWidget(self.filters)
        f = self.filters  # its widgets by the names the rest of the app and the tests use
        self.search, self.specialty, self.language, self.interests = f.search, f.specialty, f.language, f.interests
        self.suggest_button, self.all_button, self.weights, self.sliders = (
            f.suggest_button,
            f.all_button,
            f.weights,
            f.sliders,
        )
        self.filters.show_suggestions(not students)
        waiting_row = QHBoxLayout()
        self.waiting = QLabel()
        self.waiting.setAccessibleName(_("Requests waiting for you"))
        self.waiting_button = button(
            _("Answer &requests"), _("Answer mentorship requests"), lambda: self.open_requests.emit()
        )
        waiting_row.addWidget(self.waiting, 1)
        waiting_row.addWidget(self.waiting_button)
        layout.addLayout(waiting_row)
        self.show_waiting(0)
        self.count = LiveLabel()
        self.count.setAccessibleName(_("Number shown"))
        layout.addWidget(self.count)
        splitter = RememberedSplitter("mentors", None, [640, 360])
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setItemDelegate(BidiDelegate(self.table, align_with_ui=True))  # an Arabic title reads as Arabic
        self.table.setAccessibleName(_("Student list") if students else _("Mentor list"))
        self.table.setSortingEnabled(True)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside it
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.side = MentorDetail(clock, students)
        self.side.write_to.connect(self.write_to)
        self.side.ask.connect(self.ask)
        self.detail, self.write_button, self.ask_button = self.side.detail, self.side.write_button, self.side.ask_button
        splitter.addWidget(self.table)
        splitter.addWidget(self.side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
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
        self.filters.fill_combo(
            self.specialty,
            _("All specialties"),
            sorted({s for c in cards for s in c.specialties}, key=lambda s: folded(specialty_name(s))),
            specialty_name,
        )
        self.filters.fill_combo(
            self.language,
            _("All languages"),
            sorted({t for c in cards for t in c.languages}, key=lambda t: folded(language_name(t))),
            language_name,
        )
        countries = sorted({c.country for c in cards if c.country}, key=lambda code: folded(country_name(code)))
        self.filters.fill_combo(self.filters.country, _("All countries"), countries, country_name)
        zones = sorted({c.tz for c in cards if c.tz}, key=lambda tz: folded(zone_name(tz)))
        self.filters.fill_combo(self.filters.tz, _("All time zones"), zones, zone_name)
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
        year: int = 0,
        wants_peer: bool = False,
    ) -> None:
        self.seeker_account, self.seeker_languages, self.seeker_tz = account, languages, tz
        self.seeker_windows, self.seeker_background = windows or DEFAULT_WINDOWS, background
        self.seeker_year, self.seeker_wants_peer = year, wants_peer

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
            self.seeker_year,
            self.seeker_wants_peer,
        )
        weights = self.filters.weight_values()
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

    def show_waiting(self, count: int) -> None:
        """A mentor sees the requests that wait for their answer above the students."""
        self.waiting.setText(
            ngettext(
                "{count} mentorship request waits for your answer",
                "{count} mentorship requests wait for your answer",
                count,
            ).format(count=count)
        )
        for widget in (self.waiting, self.waiting_button):
            widget.setVisible(self.students and count > 0)

    def clear(self) -> None:
        """Drop every decrypted card (on lock)."""
        self.model.clear()
        self.detail.clear()

    def _apply(self) -> None:
        self.proxy.set_filters(*self.filters.values())
        shown = self.proxy.rowCount()
        if self.students:
            self.count.setText(ngettext("{count} student", "{count} students", shown).format(count=shown))
        else:
            self.count.setText(ngettext("{count} mentor", "{count} mentors", shown).format(count=shown))
        # The card beside the list is the selected row's, or none: never a mentor the filters no longer list.
        current = self.table.currentIndex()
        card = self.proxy.data(current, Qt.ItemDataRole.UserRole) if current.isValid() else None
        if card is not self.selected:
            if card is None:
                self.table.clearSelection()
            self._show_detail(current, current)

    def _show_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        card: Card | None = self.proxy.data(current, Qt.ItemDataRole.UserRole) if current.isValid() else None
        self.selected = card
        self.side.show_card(card, self.suggestions.get(card.account) if card is not None else None)
