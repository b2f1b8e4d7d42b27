"""Containers that keep every screen inside the window it is given: a page that scrolls instead of growing the
window, side panels in splitters that remember their sizes, a row of buttons that wraps instead of widening, a
label that elides (and says the whole text in its tooltip), and a list's empty state that says what to do next.

Views use these instead of laying out fixed rows; ``tests/test_fit.py`` checks the result at 1024×600, 1366×768,
200 % and with large text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QPainter, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLabel,
    QLayout,
    QLayoutItem,
    QListWidget,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QWidget,
    QWidgetItem,
)

from desktop.domain.settings import SettingsStore


def scrolling(widget: QWidget, name: str = "") -> QScrollArea:
    """``widget`` in a frameless area that scrolls vertically when the window is too short for it; it never
    scrolls sideways unless a single control is wider than the window (the fit test forbids that)."""
    area = QScrollArea()
    area.setObjectName(name or "scroller")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setWidget(widget)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the controls inside, never to the frame
    widget.setObjectName(widget.objectName() or "scrolled")
    return area


def row_of(view: QListWidget, value: object) -> int:
    """The row whose item holds ``value`` as its data (lists keep an id there), or -1."""
    for row in range(view.count()):
        if view.item(row).data(Qt.ItemDataRole.UserRole) == value:
            return row
    return -1


def wrapping_list() -> QListWidget:
    """A list whose long rows (a circle's or project's title) wrap onto more lines instead of scrolling sideways."""
    view = QListWidget()
    view.setWordWrap(True)
    view.setTextElideMode(Qt.TextElideMode.ElideNone)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setResizeMode(QListWidget.ResizeMode.Adjust)
    return view


class RememberedSplitter(QSplitter):
    """A splitter whose sizes are kept in the settings file under ``name`` and come back the next time."""

    def __init__(self, name: str, store: SettingsStore | None, default: list[int]) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.name, self.store, self.default = name, store, default
        self.setChildrenCollapsible(False)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(400)
        self._save_timer.timeout.connect(self._save)
        self.splitterMoved.connect(lambda _pos, _index: self._save_timer.start())
        self._restored = False

    def showEvent(self, event: QEvent) -> None:  # sizes are given once the splitter knows its width
        super().showEvent(event)
        if not self._restored:
            self._restored = True
            if self.store is None:  # a view built without the session: the main screen's store
                holder = self.parentWidget()
                while holder is not None and not hasattr(holder, "settings_store"):
                    holder = holder.parentWidget()
                self.store = getattr(holder, "settings_store", None)
            saved = self.store.load().splitters.get(self.name) if self.store is not None else None
            self.setSizes(saved if saved and len(saved) == self.count() else self.default)

    def _save(self) -> None:
        if self.store is None:
            return
        sizes = self.sizes()
        self.store.update(lambda s: replace(s, splitters={**s.splitters, self.name: sizes}))


class ElidedLabel(QLabel):
    """One line that fits whatever width it gets: elided in the middle, the whole text in its tooltip."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 8)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self._elide()

    def fullText(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, max(0, self.width()))
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")
        self.setAccessibleDescription(self._full)


class FlowLayout(QLayout):
    """Lays widgets left to right and wraps onto another line when they do not fit: a row of buttons never makes
    the window wider, at 200 % or in a wordy language."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def addWidget(self, widget: QWidget) -> None:
        self.addChildWidget(widget)
        self.addItem(QWidgetItem(widget))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        width = sum(i.sizeHint().width() for i in self._visible()) + self._spacing * max(0, len(self._visible()) - 1)
        height = max((i.sizeHint().height() for i in self._visible()), default=0)
        m = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _visible(self) -> list[QLayoutItem]:
        return [i for i in self._items if not (i.widget() is not None and i.widget().isHidden())]

    def _arrange(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        rtl = (
            self.parentWidget() is not None and self.parentWidget().layoutDirection() == Qt.LayoutDirection.RightToLeft
        )
        x, y, line = area.x(), area.y(), 0
        for item in self._visible():
            hint = item.sizeHint()
            width = min(hint.width(), area.width())
            if x > area.x() and x + width > area.right() + 1:
                x, y, line = area.x(), y + line + self._spacing, 0
            if move:
                left = area.right() + area.x() - x - width + 1 if rtl else x
                item.setGeometry(QRect(QPoint(left, y), QSize(width, hint.height())))
            x += width + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y() + m.bottom()


class EmptyState(QObject):
    """Paints what to do next in an item view while it has no rows ("No conversations yet: find a mentor…")."""

    def __init__(self, view: QAbstractItemView, text: str | Callable[[], str]) -> None:
        super().__init__(view)
        self.view, self.text = view, text
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._empty():
            painter = QPainter(self.view.viewport())
            painter.setPen(self.view.palette().color(self.view.palette().ColorRole.PlaceholderText))
            rect = self.view.viewport().rect().adjusted(12, 12, -12, -12)
            flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
            painter.drawText(rect, int(flags), self.message())
            painter.end()
        return False

    def message(self) -> str:
        return self.text() if callable(self.text) else self.text

    def _empty(self) -> bool:
        model = self.view.model()
        return model is None or model.rowCount(self.view.rootIndex()) == 0


def empty_state(view: QAbstractItemView, text: str | Callable[[], str]) -> EmptyState:
    """Show ``text`` in ``view`` while it is empty; the view's accessible description says it too."""
    state = EmptyState(view, text)
    view.setAccessibleDescription(state.message())
    return state
