"""The PDF pane: one page at a time from a ``PdfDocument`` in memory, with a small page cache, the next page drawn
in the background while this one is read, keyboard paging (PageUp/PageDown, arrows, Home/End) and zoom (Ctrl+=,
Ctrl+-, Ctrl+0 fits the width)."""

from __future__ import annotations

import functools
import weakref
from collections import OrderedDict

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QKeyEvent, QKeySequence, QPixmap, QShortcut, QWheelEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QSpinBox, QStyle, QVBoxLayout, QWidget

from desktop.domain.documents import DocumentError, PageImage, PdfDocument
from desktop.i18n import _
from desktop.ui.common import button
from desktop.ui.worker import Task, run_in_background

CACHE_PAGES = 8  # rendered pages kept (at 150 % a page is ~4 MB)
ZOOMS = (0.5, 0.67, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0)


def to_qimage(image: PageImage) -> QImage:
    """The rendered RGBA pixels as a QImage that owns a copy (the bytes object may go)."""
    return QImage(image.data, image.width, image.height, image.stride, QImage.Format.Format_RGBA8888).copy()


def _close_all(documents: list[PdfDocument], *_args: object) -> None:
    """Close PDFium's documents here, under its lock, rather than whenever the collector finalizes them."""
    while documents:
        documents.pop().close()


class _PageView(QScrollArea):
    """The scrolling page; paging keys go to the pane rather than scrolling past the page's end."""

    def __init__(self, pane: PdfPane) -> None:
        super().__init__()
        self._pane = weakref.ref(pane)  # no reference cycle between Qt wrappers for the collector to break

    def keyPressEvent(self, event: QKeyEvent) -> None:
        pane = self._pane()
        if pane is None or not pane.page_key(event):
            super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        pane = self._pane()
        if pane is not None and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            pane.zoom_by(1 if event.angleDelta().y() > 0 else -1)
            return
        super().wheelEvent(event)


class PdfPane(QWidget):
    page_changed = Signal(int, int)  # page (0-based), page count
    failed = Signal(str)  # a translated sentence

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName(_("PDF reader"))
        self.document: PdfDocument | None = None
        self.page = 0
        self.zoom = 1.0  # × the fit-width scale
        self._fit = 1.0  # pixels per point that fit the page to the viewport's width
        self._cache: OrderedDict[tuple[int, float], QImage] = OrderedDict()
        self._rendering: set[tuple[int, float]] = set()
        self._tasks: set[Task] = set()
        self._open: list[PdfDocument] = []  # closed when the widget goes, without a reference to it
        self.destroyed.connect(functools.partial(_close_all, self._open))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        style = self.style()
        self.previous_button = button("", _("Previous page"), self.previous_page)
        self.previous_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowBack))  # mirrored right to left
        self.next_button = button("", _("Next page"), self.next_page)
        self.next_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowForward))
        self.spin = QSpinBox()
        self.spin.setAccessibleName(_("Page number"))
        self.spin.setMinimum(1)
        self.spin.setKeyboardTracking(False)
        self.spin.valueChanged.connect(lambda value: self.go_to(value - 1))
        self.of_label = QLabel()
        self.zoom_out_button = button("−", _("Zoom out"), lambda: self.zoom_by(-1))
        self.zoom_label = QLabel("100 %")
        self.zoom_label.setAccessibleName(_("Zoom"))
        self.zoom_in_button = button("+", _("Zoom in"), lambda: self.zoom_by(1))
        self.fit_button = button(_("&Fit width"), _("Fit the page to the width"), self.fit_width)
        for widget in (self.previous_button, self.next_button, self.zoom_out_button, self.zoom_in_button):
            widget.setMaximumWidth(40)
        label = QLabel(_("Pa&ge"))
        label.setBuddy(self.spin)
        for widget in (self.previous_button, label, self.spin, self.of_label, self.next_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        for widget in (self.zoom_out_button, self.zoom_label, self.zoom_in_button, self.fit_button):
            bar.addWidget(widget)
        layout.addLayout(bar)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.image.setAccessibleName(_("Page"))
        self.view = _PageView(self)
        self.view.setWidget(self.image)
        self.view.setWidgetResizable(False)
        self.view.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.view.setAccessibleName(_("Page view"))
        self.view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout.addWidget(self.view, 1)
        QShortcut(QKeySequence.StandardKey.ZoomIn, self, activated=lambda: self.zoom_by(1))
        QShortcut(QKeySequence("Ctrl+="), self, activated=lambda: self.zoom_by(1))
        QShortcut(QKeySequence.StandardKey.ZoomOut, self, activated=lambda: self.zoom_by(-1))
        QShortcut(QKeySequence("Ctrl+0"), self, activated=self.fit_width)

    # -- document ----------------------------------------------------------------------------------------------

    def open(self, document: PdfDocument, page: int = 0) -> None:
        self.close_document()
        self.document = document
        self._open.append(document)
        self.spin.blockSignals(True)
        self.spin.setMaximum(document.page_count)
        self.spin.blockSignals(False)
        self.of_label.setText(_("of {count}").format(count=document.page_count))
        self.zoom = 1.0
        self.page = -1
        self.go_to(max(0, min(page, document.page_count - 1)))

    def close_document(self) -> None:
        self._cache.clear()
        self._rendering.clear()
        _close_all(self._open)
        self.document = None
        self.image.clear()

    # -- paging ------------------------------------------------------------------------------------------------

    def go_to(self, page: int) -> None:
        if self.document is None:
            return
        page = max(0, min(page, self.document.page_count - 1))
        changed = page != self.page
        self.page = page
        self.spin.blockSignals(True)
        self.spin.setValue(page + 1)
        self.spin.blockSignals(False)
        self.previous_button.setEnabled(page > 0)
        self.next_button.setEnabled(page < self.document.page_count - 1)
        self._show()
        if changed:
            self.view.verticalScrollBar().setValue(0)
            self.page_changed.emit(page, self.document.page_count)

    def next_page(self) -> None:
        self.go_to(self.page + 1)

    def previous_page(self) -> None:
        self.go_to(self.page - 1)

    def page_key(self, event: QKeyEvent) -> bool:
        """Paging keys: True when ``event`` turned a page."""
        if self.document is None or event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            return False
        key, bar = event.key(), self.view.verticalScrollBar()
        forward = Qt.Key.Key_Right if self.layoutDirection() == Qt.LayoutDirection.LeftToRight else Qt.Key.Key_Left
        back = Qt.Key.Key_Left if forward == Qt.Key.Key_Right else Qt.Key.Key_Right
        if key == forward or (key in (Qt.Key.Key_PageDown, Qt.Key.Key_Space) and bar.value() >= bar.maximum()):
            self.next_page()
        elif key == back or (key == Qt.Key.Key_PageUp and bar.value() <= bar.minimum()):
            self.previous_page()
        elif key == Qt.Key.Key_Home and event.modifiers() & Qt.KeyboardModifier.ShiftModifier == 0:
            self.go_to(0)
        elif key == Qt.Key.Key_End:
            self.go_to(self.document.page_count - 1)
        else:
            return False
        return True

    # -- zoom --------------------------------------------------------------------------------------------------

    def zoom_by(self, steps: int) -> None:
        nearest = min(range(len(ZOOMS)), key=lambda i: abs(ZOOMS[i] - self.zoom))
        self.zoom = ZOOMS[max(0, min(len(ZOOMS) - 1, nearest + steps))]
        self._show()

    def fit_width(self) -> None:
        self.zoom = 1.0
        self._show()

    def scale(self) -> float:
        """Pixels per point for the current page at the current zoom, in device pixels (sharp at 200 %)."""
        if self.document is None:
            return 1.0
        width, _height = self.document.page_size(self.page)
        available = max(200, self.view.viewport().width() - 8)
        self._fit = available / width
        return round(self._fit * self.zoom * self.devicePixelRatioF(), 3)

    # -- rendering ---------------------------------------------------------------------------------------------

    def rendered(self, page: int, scale: float) -> QImage:
        """The page at ``scale`` from the cache, else drawn now (and kept)."""
        key = (page, scale)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        assert self.document is not None
        image = to_qimage(self.document.render(page, scale))
        self._keep(key, image)
        return image

    def _keep(self, key: tuple[int, float], image: QImage) -> None:
        self._cache[key] = image
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_PAGES:
            self._cache.popitem(last=False)

    def _show(self) -> None:
        if self.document is None:
            return
        try:
            scale = self.scale()
            image = self.rendered(self.page, scale)
        except DocumentError as exc:
            self.image.setText(exc.user_message())
            self.image.adjustSize()
            self.failed.emit(exc.user_message())
            return
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self.image.setPixmap(pixmap)
        self.image.resize(pixmap.deviceIndependentSize().toSize())
        self.zoom_label.setText(f"{round(self.zoom * 100)} %")
        self.image.setAccessibleDescription(
            _("Page {page} of {count}").format(page=self.page + 1, count=self.document.page_count)
        )
        self._prefetch(self.page + 1, scale)

    def _prefetch(self, page: int, scale: float) -> None:
        """Draw ``page`` in the background so turning to it is a cache hit."""
        document = self.document
        key = (page, scale)
        if document is None or page >= document.page_count or key in self._cache or key in self._rendering:
            return
        self._rendering.add(key)

        def done(image: QImage) -> None:
            self._tasks.discard(task)
            self._rendering.discard(key)
            if self.document is document:
                self._keep(key, image)

        def failed(_exc: Exception) -> None:  # drawn again (and its error shown) when the person turns to it
            self._tasks.discard(task)
            self._rendering.discard(key)

        task = run_in_background(lambda: to_qimage(document.render(page, scale)), done, failed)
        self._tasks.add(task)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.document is not None:
            self._show()
