"""The reader on the Library page: an item held in the vault, read in memory. PDFs page by page (reader_pdf.py),
Markdown in the safe renderer (reader_markdown.py); images, audio and video through ``media_hook`` (another
module's panes). Find in the document (Ctrl+F), bookmarks (Ctrl+D) and private notes beside it; the item reopens
where the person left it (desktop/domain/reading.py)."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.documents import DocumentError, Hit, PdfDocument
from desktop.domain.reading import Reading, ReadingState, item_key
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button
from desktop.ui.views.reader_markdown import MarkdownPane
from desktop.ui.views.reader_pdf import PdfPane
from desktop.ui.worker import Task, run_in_background

PDF = "application/pdf"
MARKDOWN = ("text/markdown", "text/plain")
MediaHook = Callable[[Any, bytes], QWidget | None]  # (item, bytes) → a pane that shows it, or None


def _short_list() -> QListWidget:
    """A list that asks for little height: the notes panel must fit beside a page on a 600-pixel screen."""
    widget = QListWidget()
    widget.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
    widget.setMinimumHeight(60)
    return widget


class NotesPanel(QWidget):
    """Bookmarks and private notes of the open item (sealed in the vault)."""

    def __init__(self, view: ReaderView) -> None:
        super().__init__()
        self._view = weakref.ref(view)  # no reference cycle between Qt wrappers for the collector to break
        self.setAccessibleName(_("Bookmarks and notes"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        heading = QLabel(_("&Bookmarks"))
        self.bookmarks = _short_list()
        self.bookmarks.setAccessibleName(_("Bookmarks"))
        heading.setBuddy(self.bookmarks)
        self.bookmarks.itemActivated.connect(lambda row: self._go(row.data(Qt.ItemDataRole.UserRole)))
        self.bookmarks.itemClicked.connect(lambda row: self._go(row.data(Qt.ItemDataRole.UserRole)))
        notes_heading = QLabel(_("Private &notes"))
        self.notes = _short_list()
        self.notes.setAccessibleName(_("Private notes"))
        self.notes.setWordWrap(True)
        notes_heading.setBuddy(self.notes)
        self.notes.itemActivated.connect(lambda row: self._go(row.data(Qt.ItemDataRole.UserRole)[1]))
        self.box = QPlainTextEdit()
        self.box.setAccessibleName(_("New private note"))
        self.box.setPlaceholderText(_("A note only you can read…"))
        self.box.setMaximumHeight(80)
        self.box.setMinimumHeight(40)
        self.add_button = button(_("Add &note"), _("Add private note"), self._add)
        self.remove_button = button(_("Remove"), _("Remove the selected note"), self._remove)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        for widget in (heading, self.bookmarks, notes_heading, self.notes, self.box):
            layout.addWidget(widget, 1 if isinstance(widget, QListWidget) else 0)
        layout.addLayout(buttons)

    @property
    def view(self) -> ReaderView:
        view = self._view()
        assert view is not None  # the panel is the reader's child: it goes with it
        return view

    def _go(self, page: int) -> None:
        self.view.go_to_page(page)

    def show_state(self, state: ReadingState | None) -> None:
        self.bookmarks.clear()
        self.notes.clear()
        if state is None:
            return
        for mark in state.bookmarks:
            text = _("Page {page}").format(page=mark.page + 1) + (f" — {mark.label}" if mark.label else "")
            row = QListWidgetItem(text)
            row.setData(Qt.ItemDataRole.UserRole, mark.page)
            self.bookmarks.addItem(row)
        for note in state.notes:
            where = _("Page {page}").format(page=note.page + 1) if note.page >= 0 else _("Whole document")
            row = QListWidgetItem(f"{where}: {note.text}")
            row.setData(Qt.ItemDataRole.UserRole, (note.id, note.page))
            self.notes.addItem(row)

    def _add(self) -> None:
        text = self.box.toPlainText().strip()
        if text and self.view.key:
            self.view.reading.add_note(self.view.key, self.view.current_page(), text)
            self.box.clear()
            self.view.refresh_notes()

    def _remove(self) -> None:
        row = self.notes.currentItem()
        if row is not None and self.view.key:
            self.view.reading.remove_note(self.view.key, row.data(Qt.ItemDataRole.UserRole)[0])
            self.view.refresh_notes()


class ReaderView(QWidget):
    """Shows one item: ``show_item(item, data)``; ``show_message(text)`` when there is nothing to read."""

    def __init__(self, reading: Reading, media_hook: MediaHook | None = None) -> None:
        super().__init__()
        self.reading = reading
        self.media_hook = media_hook  # set by the media panes (desktop/ui/views/media_panes.py)
        self.item: Any = None
        self.key = ""
        self.hits: list[Hit] = []
        self._hit = -1
        self._tasks: set[Task] = set()
        self.setAccessibleName(_("Reader"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        tools = QHBoxLayout()
        self.find_box = QLineEdit()
        self.find_box.setAccessibleName(_("Find in document"))
        self.find_box.setPlaceholderText(_("Find in document…"))
        self.find_box.returnPressed.connect(self.find_next)
        self.find_label = QLabel()
        self.find_button = button(_("Find ne&xt"), _("Find next"), self.find_next)
        self.bookmark_button = button(_("Book&mark"), _("Bookmark this page"), self.toggle_bookmark)
        self.notes_button = button(_("No&tes"), _("Show bookmarks and notes"), self.toggle_notes)
        self.notes_button.setCheckable(True)
        for widget in (self.find_box, self.find_label, self.find_button, self.bookmark_button, self.notes_button):
            tools.addWidget(widget, 1 if widget is self.find_box else 0)
        self.tools = QWidget()
        self.tools.setLayout(tools)
        tools.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tools)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Reader status"))
        layout.addWidget(self.status)
        self.stack = QStackedWidget()
        self.placeholder = QLabel(_("Choose an item in the list to read it here."))
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.pdf = PdfPane()
        self.markdown = MarkdownPane()
        self.media = QWidget()  # filled by media_hook's pane
        QVBoxLayout(self.media).setContentsMargins(0, 0, 0, 0)
        for page in (self.placeholder, self.pdf, self.markdown, self.media):
            self.stack.addWidget(page)
        self.notes = NotesPanel(self)
        self.notes.hide()
        split = QSplitter()
        split.addWidget(self.stack)
        split.addWidget(self.notes)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)
        self.pdf.page_changed.connect(self._page_changed)
        self.pdf.failed.connect(self.status.setText)
        self._scroll_timer = QTimer(self, singleShot=True, interval=600)
        self._scroll_timer.timeout.connect(self._save_scroll)
        self._scroll: tuple[float, float] = (0.0, 0.0)
        self.markdown.scrolled.connect(self._scrolled)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.find_box.setFocus)
        QShortcut(QKeySequence("Ctrl+D"), self, activated=self.toggle_bookmark)
        self._set_tools(False)

    # -- showing -----------------------------------------------------------------------------------------------

    def _set_tools(self, paged: bool, findable: bool = False) -> None:
        self.find_box.setEnabled(findable)
        self.find_button.setEnabled(findable)
        self.bookmark_button.setEnabled(paged)
        self.notes_button.setEnabled(bool(self.key))

    def show_message(self, text: str) -> None:
        self._close()
        self.placeholder.setText(text or _("Choose an item in the list to read it here."))
        self.stack.setCurrentWidget(self.placeholder)

    def clear(self) -> None:
        self.show_message("")

    def _close(self) -> None:
        self._scroll_timer.stop()
        self._save_scroll()
        self._drop_media()
        self.pdf.close_document()
        self.markdown.clear()
        self.item, self.key, self.hits, self._hit = None, "", [], -1
        self.status.setText("")
        self.find_label.setText("")
        self.notes.show_state(None)
        self._set_tools(False)

    def show_item(self, item: Any, data: bytes) -> None:
        """Open ``item`` (a LibraryItem) from ``data`` held in memory, where the person last left it."""
        self._close()
        mime = getattr(item, "mime", "") or ("text/markdown" if getattr(item, "kind", "") else "")
        self.item, self.key = item, item_key(item)
        state = self.reading.state(self.key)
        if mime == PDF:
            try:
                document = PdfDocument(data)
            except DocumentError as exc:
                self.key = ""
                self.show_message(exc.user_message())
                return
            self.stack.setCurrentWidget(self.pdf)
            self.pdf.open(document, state.page)
            self._set_tools(True, True)
        elif mime in MARKDOWN:
            self.stack.setCurrentWidget(self.markdown)
            self.markdown.show_markdown(data.decode("utf-8", "replace"), state.position)
            self._scrolled(*self._current_scroll())
            self._set_tools(False, True)
        else:
            pane = self.media_hook(item, data) if self.media_hook is not None else None
            if pane is None:
                self.show_message(_("Osler cannot show this kind of file ({kind}) yet.").format(kind=mime or "?"))
                return
            self.media.layout().addWidget(pane)
            self.stack.setCurrentWidget(self.media)
            self.reading.scrolled(self.key, 0.0, 1.0)  # opened: a picture or a clip counts as seen
            self._set_tools(False)
        self.refresh_notes()

    def _drop_media(self) -> None:
        """The media pane goes with its item: playback stops and the decoded bytes are let go (media_panes)."""
        holder = self.media.layout()
        while holder.count():
            old = holder.takeAt(0).widget()
            if old is not None:
                unload = getattr(old, "unload", None)
                if unload is not None:
                    unload()
                old.deleteLater()

    def _current_scroll(self) -> tuple[float, float]:
        bar = self.markdown.browser.verticalScrollBar()
        total = bar.maximum() + bar.pageStep()
        return (bar.value() / bar.maximum() if bar.maximum() else 0.0, (bar.value() + bar.pageStep()) / total)

    # -- reading state -----------------------------------------------------------------------------------------

    def current_page(self) -> int:
        return self.pdf.page if self.stack.currentWidget() is self.pdf else -1

    def go_to_page(self, page: int) -> None:
        if self.stack.currentWidget() is self.pdf and page >= 0:
            self.pdf.go_to(page)

    def _page_changed(self, page: int, count: int) -> None:
        if self.key:
            self.reading.opened_page(self.key, page, count)
            self.bookmark_button.setText(
                _("Un&bookmark") if self.reading.state(self.key).bookmarked(page) else _("Book&mark")
            )

    def _scrolled(self, position: float, seen: float) -> None:
        self._scroll = (position, seen)
        self._scroll_timer.start()

    def _save_scroll(self) -> None:
        if self.key and self.stack.currentWidget() is self.markdown:
            self.reading.scrolled(self.key, *self._scroll)

    def toggle_bookmark(self) -> None:
        if self.key and self.stack.currentWidget() is self.pdf:
            on = self.reading.toggle_bookmark(self.key, self.pdf.page)
            self.bookmark_button.setText(_("Un&bookmark") if on else _("Book&mark"))
            self.status.setText(
                (_("Page {page} bookmarked.") if on else _("Bookmark on page {page} removed.")).format(
                    page=self.pdf.page + 1
                )
            )
            self.refresh_notes()

    def toggle_notes(self) -> None:
        self.notes.setVisible(not self.notes.isVisible())
        self.notes_button.setChecked(self.notes.isVisible())
        if self.notes.isVisible():
            self.notes.box.setFocus()

    def refresh_notes(self) -> None:
        self.notes.show_state(self.reading.state(self.key) if self.key else None)

    # -- find --------------------------------------------------------------------------------------------------

    def find_next(self) -> None:
        words = self.find_box.text().strip()
        if not words:
            return
        if self.stack.currentWidget() is self.markdown:
            found = self.markdown.browser.find(words) or (
                self.markdown.browser.moveCursor(self.markdown.browser.textCursor().MoveOperation.Start)
                or self.markdown.browser.find(words)
            )
            self.find_label.setText("" if found else _("Not found"))
            return
        document = self.pdf.document
        if document is None:
            return
        if self.hits and self._hits_for == (words, document):
            self._show_hit(self._hit + 1)
            return
        self.find_label.setText(_("Searching…"))

        def done(hits: list[Hit]) -> None:
            self._tasks.discard(task)
            if self.pdf.document is not document:
                return
            self.hits, self._hits_for, self._hit = hits, (words, document), -1
            if not hits:
                self.find_label.setText(_("Not found"))
                return
            after = next((i for i, h in enumerate(hits) if h.page >= self.pdf.page), 0)
            self._show_hit(after)

        def failed(_exc: Exception) -> None:
            self._tasks.discard(task)
            self.find_label.setText(_("Not found"))

        task = run_in_background(lambda: document.search(words), done, failed)
        self._tasks.add(task)

    _hits_for: tuple[str, object] = ("", None)

    def _show_hit(self, index: int) -> None:
        self._hit = index % len(self.hits)
        hit = self.hits[self._hit]
        self.find_label.setText(
            _("{n} of {count}, page {page}").format(n=self._hit + 1, count=len(self.hits), page=hit.page + 1)
        )
        self.find_label.setToolTip(hit.context)
        self.pdf.go_to(hit.page)


__all__ = ["MediaHook", "ReaderView"]
