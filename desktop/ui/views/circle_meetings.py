"""A circle's Meetings tab: the week grid of how many members can come (7 days × half hours in my time zone,
arrow keys move between cells, each cell says "Tuesday 18:00–18:30: 24 of 30 can come"), the best times first,
proposing a group meeting from the cells chosen, answering yes / maybe / no for each time, and fixing one."""

from __future__ import annotations

from collections.abc import Callable

from babel.dates import format_date
from PySide6.QtCore import QAbstractTableModel, QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import meeting_time
from desktop.domain.group_meeting_fold import KIND_NAMES, MAX_SLOTS
from desktop.domain.group_meetings import ROWS, GridCell, GroupMeeting, GroupMeetings, Option, WeekGrid
from desktop.domain.meetings import KINDS
from desktop.i18n import _, current_locale
from desktop.ui.common import button
from desktop.ui.layout import scrolling
from desktop.ui.views.circle_sidebar import labelled

WEEK_MS = 7 * meeting_time.DAY_MS
ANSWER_NAMES: dict[str, Callable[[], str]] = {
    "yes": lambda: _("Yes"),
    "maybe": lambda: _("Maybe"),
    "no": lambda: _("No"),
}


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def cell_text(day_name: str, row: int, free: int, members: int) -> str:
    """What a screen reader says for one cell."""
    return _("{day} {start}–{end}: {count} of {total} can come").format(
        day=day_name, start=clock(row * 30), end=clock(row * 30 + 30), count=free, total=members
    )


class WeekModel(QAbstractTableModel):
    """The week grid as a model: 48 half hours (rows) × 7 days (columns). Qt asks for what it paints; nothing is
    stored per cell (items set one by one would cost far more, see bench_meetings)."""

    def __init__(self) -> None:
        super().__init__()
        self.grid: WeekGrid | None = None
        self.long_names: list[str] = [""] * 7
        self.short_names: list[str] = [""] * 7
        self.shades: list[QBrush] = []
        self.ink = self.white = QBrush()

    def show_grid(self, grid: WeekGrid, long_names: list[str], short_names: list[str], palette: QPalette) -> None:
        self.beginResetModel()
        self.grid, self.long_names, self.short_names = grid, long_names, short_names
        total = max(grid.members, 1)
        self.ink = QBrush(palette.color(QPalette.ColorRole.Text))
        self.white = QBrush(QColor("white"))
        self.shades = [QBrush(palette.color(QPalette.ColorRole.Base))]  # by how many can come: greener the more
        for count in range(1, total + 1):
            shade = QColor(46, 125, 50)
            shade.setAlphaF(0.12 + 0.78 * count / total)
            self.shades.append(QBrush(shade))
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if self.grid is None else ROWS

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if self.grid is None else 7

    def cell(self, row: int, col: int) -> GridCell | None:
        return None if self.grid is None else self.grid.cells[col][row]

    def count(self, row: int, col: int) -> int:
        cell = self.cell(row, col)
        return 0 if cell is None else min(len(cell.free), max(self.grid.members, 1))  # type: ignore[union-attr]

    def text(self, row: int, col: int) -> str:
        """What a screen reader says for the cell (and its tooltip)."""
        if self.cell(row, col) is None:
            return _("{day} {start}: does not exist (clocks go forward)").format(
                day=self.long_names[col], start=clock(row * 30)
            )
        return cell_text(self.long_names[col], row, self.count(row, col), self.grid.members)  # type: ignore[union-attr]

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if self.grid is None or not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if self.cell(row, col) is None:
                return "–"
            count = self.count(row, col)
            return str(count) if count else ""
        if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
            return self.text(row, col)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self.shades[self.count(row, col)]
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.white if self.count(row, col) / max(self.grid.members, 1) > 0.55 else self.ink
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if orientation == Qt.Orientation.Horizontal and 0 <= section < 7:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.short_names[section]
            if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
                return self.long_names[section]
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return clock(section * 30)
        return None


class WeekTable(QTableView):
    """7 days (columns, mirrored right to left with the layout) × 48 half hours (rows that scroll); arrow keys move
    between cells, Shift+arrows choose several."""

    def __init__(self) -> None:
        super().__init__()
        self.week = WeekModel()
        self.setModel(self.week)
        self.setAccessibleName(_("Who can come, by half hour"))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setTabKeyNavigation(False)  # Tab leaves the grid; arrows move inside it
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumSectionSize(36)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    @property
    def grid(self) -> WeekGrid | None:
        return self.week.grid

    def show_grid(self, grid: WeekGrid, long_names: list[str], short_names: list[str]) -> None:
        current = self.currentIndex()
        self.week.show_grid(grid, long_names, short_names, self.palette())
        if current.isValid():
            self.setCurrentIndex(self.week.index(current.row(), current.column()))

    def text_at(self, row: int, col: int) -> str:
        return self.week.data(self.week.index(row, col))

    def accessible_at(self, row: int, col: int) -> str:
        return self.week.text(row, col)

    def move_to(self, row: int, col: int) -> None:
        self.setCurrentIndex(self.week.index(row, col))

    def chosen_slots(self) -> list[tuple[int, int]]:
        """The selected cells as times: each run of adjacent half hours in a day is one slot."""
        slots: list[tuple[int, int]] = []
        for index in sorted(self.selectionModel().selectedIndexes(), key=lambda i: (i.column(), i.row())):
            cell = self.week.cell(index.row(), index.column())
            if cell is None:
                continue
            if slots and slots[-1][1] == cell.start:
                slots[-1] = (slots[-1][0], cell.end)
            else:
                slots.append((cell.start, cell.end))
        return slots

    def select_span(self, start: int, end: int) -> None:
        """Select the cells inside ``start``-``end`` and show the first."""
        chosen = QItemSelection()
        first = None
        for col in range(7):
            for row in range(ROWS):
                cell = self.week.cell(row, col)
                if cell is not None and start <= cell.start and cell.end <= end:
                    index = self.week.index(row, col)
                    chosen.select(index, index)
                    first = first or index
        flags = QItemSelectionModel.SelectionFlag
        self.selectionModel().select(chosen, flags.ClearAndSelect)
        if first is not None:
            self.selectionModel().setCurrentIndex(first, flags.NoUpdate)
            self.scrollTo(first, QAbstractItemView.ScrollHint.PositionAtCenter)


class MeetingsPanel(QWidget):
    """The Meetings tab; it calls ``GroupMeetings`` itself and says what happened through ``said``."""

    said = Signal(str, bool)  # text, error

    def __init__(self, group: GroupMeetings | None, my_zone: Callable[[], str], now_ms: Callable[[], int]) -> None:
        super().__init__()
        self.group, self.my_zone, self.now_ms = group, my_zone, now_ms
        self.circle: str | None = None
        self.role: str | None = None
        self.names: dict[str, str] = {}
        self.week = 0  # weeks from this one
        self.options: list[Option] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        nav = QHBoxLayout()
        nav.addWidget(button(_("&Previous week"), _("Previous week"), lambda: self._move(-1)))
        self.week_label = QLabel()
        self.week_label.setWordWrap(True)
        self.week_label.setAccessibleName(_("Week shown"))
        nav.addWidget(self.week_label, 1)
        nav.addWidget(button(_("Ne&xt week"), _("Next week"), lambda: self._move(1)))
        layout.addLayout(nav)

        self.table = WeekTable()
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        self.best = QListWidget()
        self.best.setWordWrap(True)
        self.best.setAccessibleName(_("Best times, most can come first"))
        self.best.currentRowChanged.connect(self._best_chosen)
        column.addWidget(labelled(_("&Best times (most can come):"), self.best))
        column.addWidget(self.best)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAccessibleName(_("Proposed group meetings"))
        self.list.currentRowChanged.connect(lambda _row: self._show_meeting())
        column.addWidget(labelled(_("Proposed &meetings:"), self.list))
        column.addWidget(self.list)
        self.detail = QWidget()
        self.detail_layout = QGridLayout(self.detail)
        self.detail_layout.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.detail)
        self.answer_button = button(_("Send my &answers"), _("Send my answers"), self._answer)
        column.addWidget(self.answer_button)
        self.fix_slot = QComboBox()
        self.fix_slot.setAccessibleName(_("Time to fix"))
        self.fix_slot.setMinimumContentsLength(10)
        self.fix_slot.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        column.addWidget(self.fix_slot)
        self.fix_button = button(_("&Fix the chosen time"), _("Fix the chosen time"), self._fix)
        column.addWidget(self.fix_button)

        self.propose_box = QWidget()
        form = QVBoxLayout(self.propose_box)
        form.setContentsMargins(0, 0, 0, 0)
        self.title = QLineEdit()
        self.title.setAccessibleName(_("Meeting title"))
        self.title.setPlaceholderText(_("For example: Monthly research check-in"))
        form.addWidget(labelled(_("Meeting &title:"), self.title))
        form.addWidget(self.title)
        self.kind = QComboBox()
        self.kind.setAccessibleName(_("Kind of meeting"))
        self.kind.setMinimumContentsLength(10)
        self.kind.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        for kind in KIND_NAMES:
            self.kind.addItem(_(KINDS[kind]), kind)
        form.addWidget(self.kind)
        self.link = QLineEdit()
        self.link.setAccessibleName(_("Call link"))
        self.link.setPlaceholderText(_("Link for the call (any tool)"))
        form.addWidget(self.link)
        form.addWidget(button(_("Pr&opose the chosen times"), _("Propose the times chosen in the grid"), self._propose))
        column.addWidget(self.propose_box)
        self.share_button = button(_("&Share my availability"), _("Share my availability with the circle"), self._share)
        column.addWidget(self.share_button)
        column.addStretch(1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(scrolling(side, "meetings-side"))
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)
        self.answers: list[QComboBox] = []
        self.labels: list[QLabel] = []
        self.detail_key: str | None = None
        self.grid: WeekGrid | None = None

    # -- showing --------------------------------------------------------------------------------------------

    def clear(self) -> None:
        """Drop what the circle said from the widgets (on lock)."""
        self.circle = self.grid = None
        self.table.week.beginResetModel()
        self.table.week.grid = None
        self.table.week.endResetModel()
        self.best.clear()
        self.list.clear()
        self._detail([])

    def show_circle(self, circle: str, role: str | None, names: dict[str, str]) -> None:
        if circle != self.circle:
            self.week = 0
        self.circle, self.role, self.names = circle, role, names
        self.refresh()

    def _move(self, weeks: int) -> None:
        self.week += weeks
        self.refresh()

    def _day_names(self, grid: WeekGrid) -> tuple[list[str], list[str]]:
        locale = current_locale()
        return (
            [format_date(d, "EEEE d MMMM", locale=locale) for d in grid.days],
            [format_date(d, "EEE d", locale=locale) for d in grid.days],
        )

    def refresh(self) -> None:
        if self.group is None or self.circle is None:
            return
        tz = self.my_zone()
        start = meeting_time.week_start(self.now_ms(), tz)
        start = meeting_time.week_start(start + self.week * WEEK_MS + meeting_time.DAY_MS, tz)
        first_show = self.table.grid is None
        grid = self.grid = self.group.grid(self.circle, start, tz)
        long_names, short_names = self._day_names(grid)
        self.table.show_grid(grid, long_names, short_names)
        self.week_label.setText(
            _("Week of {day} ({zone}): availability known for {known} of {total} members").format(
                day=long_names[0], zone=tz, known=grid.known, total=grid.members
            )
        )
        if first_show:
            self.table.scrollTo(self.table.week.index(16, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        self.options = self.group.best(grid)
        self.best.blockSignals(True)
        self.best.clear()
        for option in self.options:
            self.best.addItem(
                _("{time}: {count} of {total} can come").format(
                    time=self._when(option.start, option.end), count=len(option.free), total=grid.members
                )
            )
        if not self.options:
            self.best.addItem(_("No time yet: nobody in the circle has shared their availability."))
        self.best.blockSignals(False)
        row = self.list.currentRow()
        chosen = self.list.item(row).data(Qt.ItemDataRole.UserRole) if row >= 0 else None
        self.list.blockSignals(True)
        self.list.clear()
        for meeting in self.group.meetings(self.circle):
            item = QListWidgetItem(self._meeting_line(meeting))
            item.setData(Qt.ItemDataRole.UserRole, meeting.id)
            self.list.addItem(item)
            if meeting.id == chosen:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self.propose_box.setVisible(self.role in ("lead", "mentor"))
        self._show_meeting()

    def _when(self, start: int, end: int) -> str:
        return meeting_time.format_slot(start, end, self.my_zone(), str(current_locale()))

    def _meeting_line(self, meeting: GroupMeeting) -> str:
        by = self.names.get(meeting.proposer, _("someone"))
        if meeting.fixed is not None:
            when = self._when(*meeting.slots[meeting.fixed])
            return _("{title}, fixed: {time} (proposed by {name})").format(title=meeting.title, time=when, name=by)
        return _("{title}: {count} times proposed by {name}").format(
            title=meeting.title, count=len(meeting.slots), name=by
        )

    def _best_chosen(self, row: int) -> None:
        if 0 <= row < len(self.options):
            self.table.select_span(self.options[row].start, self.options[row].end)

    def current(self) -> GroupMeeting | None:
        row = self.list.currentRow()
        if row < 0 or self.group is None or self.circle is None:
            return None
        return self.group.meeting(self.circle, self.list.item(row).data(Qt.ItemDataRole.UserRole))

    def _detail(self, rows: list[tuple[str, str | None]], key: str | None = None) -> None:
        """One line per slot with my answer beside it. The same meeting shown again (an answer arrived while I
        was choosing) keeps the choices not yet sent and only updates the counts."""
        if key is not None and key == self.detail_key and len(rows) == len(self.answers):
            for (text, _mine), label, box in zip(rows, self.labels, self.answers, strict=True):
                label.setText(text)
                box.setAccessibleName(_("My answer for: {time}").format(time=text))
            return
        self.detail_key = key
        self.labels = []
        while self.detail_layout.count():
            widget = self.detail_layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.answers = []
        for index, (text, mine) in enumerate(rows):
            label = QLabel(text)
            label.setWordWrap(True)
            box = QComboBox()
            box.setAccessibleName(_("My answer for: {time}").format(time=text))
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            for answer, name in ANSWER_NAMES.items():
                box.addItem(name(), answer)
            box.setCurrentIndex(max(0, box.findData(mine or "yes")))
            self.detail_layout.addWidget(label, index, 0)
            self.detail_layout.addWidget(box, index, 1)
            self.answers.append(box)
            self.labels.append(label)

    def _show_meeting(self) -> None:
        meeting = self.current()
        rows = []
        fixing = self.fix_slot.currentIndex()
        self.fix_slot.clear()
        if meeting is not None:
            mine = meeting.answers.get(self.group.me) if self.group else None
            for index, (start, end) in enumerate(meeting.slots):
                counts = meeting.counts(index)
                when = self._when(start, end)
                if meeting.fixed == index:
                    when = _("{time} (fixed)").format(time=when)
                line = _("{time}: {yes} yes, {maybe} maybe, {no} no").format(time=when, **counts)
                rows.append((line, mine[index] if mine else None))
                self.fix_slot.addItem(line, index)
        self._detail(rows, meeting.id if meeting is not None else None)
        if 0 <= fixing < self.fix_slot.count():
            self.fix_slot.setCurrentIndex(fixing)
        self.answer_button.setEnabled(meeting is not None)
        mine_to_fix = meeting is not None and self.group is not None and meeting.proposer == self.group.me
        self.fix_button.setVisible(mine_to_fix)
        self.fix_slot.setVisible(mine_to_fix)

    # -- acting ---------------------------------------------------------------------------------------------

    def _do(self, action: Callable[[], object], done: str) -> bool:
        try:
            action()
        except ValueError as exc:
            self.said.emit(str(exc), True)
            return False
        self.said.emit(done, False)
        self.refresh()
        return True

    def _propose(self) -> None:
        if self.group is None or self.circle is None:
            return
        slots = self.table.chosen_slots()
        if not slots:
            self.said.emit(_("Choose up to {count} times in the grid first.").format(count=MAX_SLOTS), True)
            return
        group, circle = self.group, self.circle
        title, kind, link = self.title.text(), self.kind.currentData(), self.link.text()
        if self._do(lambda: group.propose(circle, title, kind, slots, link, self.my_zone()), _("Meeting proposed.")):
            self.title.clear()
            self.link.clear()

    def _answer(self) -> None:
        meeting = self.current()
        if meeting is None or self.group is None or self.circle is None:
            return
        answers = [box.currentData() for box in self.answers]
        group, circle = self.group, self.circle
        self._do(lambda: group.answer(circle, meeting.id, answers), _("Answers sent."))

    def _fix(self) -> None:
        meeting = self.current()
        if meeting is None or self.group is None or self.circle is None or self.fix_slot.currentIndex() < 0:
            return
        group, circle, index = self.group, self.circle, self.fix_slot.currentData()
        self._do(lambda: group.fix(circle, meeting.id, index), _("Time fixed."))

    def _share(self) -> None:
        if self.group is None or self.circle is None:
            return
        mine = self.group.availability_of(self.group.me)
        if mine is None:
            self.said.emit(_("Set your weekly availability on your profile first."), True)
            return
        group, circle = self.group, self.circle
        self._do(lambda: group.share_availability(circle, mine), _("Your availability is shared with the circle."))


def group_meetings_of(session) -> tuple[GroupMeetings | None, Callable[[], str], Callable[[], int]]:
    """What the Meetings tab needs from the session: group meetings over its circles (None without circles or
    meetings), my time zone (my availability's, else UTC until I set one) and the session's clock."""
    meetings = getattr(session, "meetings", None)
    if session.circles is None or meetings is None:
        return None, lambda: "UTC", session.now_ms
    me = session.program.credentials.account.hex()

    def availability_of(account: str):
        return meetings.my_availability() if account == me else meetings.availability(account)

    def my_zone() -> str:
        mine = meetings.my_availability()
        return mine.tz if mine is not None else "UTC"

    return GroupMeetings(session.circles, me, availability_of, session.now_ms), my_zone, session.now_ms
