"""The Markdown pane: the safe renderer (desktop/ui/markdown.py), and nothing leaves the computer until the person
clicks. A remote image shows as "[Image: …] Load image from <host>"; clicking it fetches that one image (at most
5 MB, checked to be an image) and shows it in place. A link asks "Open … in your browser?" first; only http(s)
and mailto links are offered at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button
from desktop.ui.markdown import IMAGE_SCHEME, MarkdownReader, to_html_with_images
from desktop.ui.worker import Task, run_in_background

MAX_IMAGE = 5 * 1024 * 1024


def fetch_image(url: str) -> bytes:
    """One remote image the person asked for: http(s) only, at most ``MAX_IMAGE`` bytes, 20 s at most a read."""
    import requests  # only when a person clicks "Load image"

    if urlparse(url).scheme not in ("http", "https"):
        raise ValueError(_("Osler only loads images from http or https addresses."))
    with requests.get(url, stream=True, timeout=20, allow_redirects=True) as response:
        response.raise_for_status()
        data = bytearray()
        for chunk in response.iter_content(65_536):
            data += chunk
            if len(data) > MAX_IMAGE:
                raise ValueError(_("This image is larger than 5 MB; Osler did not load it."))
    return bytes(data)


class _Browser(MarkdownReader):
    """Serves the images the person chose to load; nothing else."""

    def __init__(self, images: dict[int, QImage]) -> None:
        super().__init__()
        self.images = images  # the pane's dict of loaded images (no reference back to the pane)

    def loadResource(self, kind: int, name: QUrl) -> Any:
        if kind == QTextDocument.ResourceType.ImageResource.value and name.scheme() == IMAGE_SCHEME:
            try:
                return self.images.get(int(name.path()))
            except ValueError:
                return None
        return None


class MarkdownPane(QWidget):
    scrolled = Signal(float, float)  # position 0–1, how far the end of the view is 0–1

    def __init__(self, fetch: Callable[[str], bytes] = fetch_image) -> None:
        super().__init__()
        self.fetch = fetch
        self.setAccessibleName(_("Markdown reader"))
        self.text = ""
        self.urls: list[str] = []
        self.images: dict[int, QImage] = {}
        self._tasks: set[Task] = set()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.browser = _Browser(self.images)
        self.browser.setAccessibleName(_("Reading pane"))
        self.browser.anchorClicked.connect(self._clicked)
        self.browser.verticalScrollBar().valueChanged.connect(lambda _v: self._scrolled())
        self.link_bar = QWidget()
        bar = QHBoxLayout(self.link_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        self.link_label = QLabel()
        self.link_label.setWordWrap(True)
        self.pending_link = ""
        self.open_link_button = button(_("&Open link"), _("Open link in your browser"), self._open_link)
        self.cancel_link_button = button(_("Cancel"), _("Do not open the link"), self.link_bar.hide)
        bar.addWidget(self.link_label, 1)
        bar.addWidget(self.open_link_button)
        bar.addWidget(self.cancel_link_button)
        self.link_bar.hide()
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.hide()
        layout.addWidget(self.link_bar)
        layout.addWidget(self.status)
        layout.addWidget(self.browser, 1)

    def show_markdown(self, text: str, position: float = 0.0) -> None:
        self.text = text
        self.images.clear()
        self.link_bar.hide()
        self.status.hide()
        self._render()
        bar = self.browser.verticalScrollBar()
        bar.setValue(round(position * bar.maximum()))

    def clear(self) -> None:
        self.text, self.urls = "", []
        self.images.clear()
        self.browser.clear()

    def _render(self) -> None:
        bar = self.browser.verticalScrollBar()
        keep = bar.value()
        html, self.urls = to_html_with_images(self.text, frozenset(self.images))
        self.browser.setHtml(html)
        bar.setValue(keep)

    def _scrolled(self) -> None:
        bar = self.browser.verticalScrollBar()
        total = bar.maximum() + bar.pageStep()
        position = bar.value() / bar.maximum() if bar.maximum() else 0.0
        seen = (bar.value() + bar.pageStep()) / total if total else 1.0
        self.scrolled.emit(position, seen)

    def _clicked(self, url: QUrl) -> None:
        if url.scheme() == IMAGE_SCHEME:
            self.load_image(int(url.path()) if url.path().isdigit() else -1)
        elif url.scheme() == "" and url.hasFragment():
            self.browser.scrollToAnchor(url.fragment())
        elif url.scheme() in ("http", "https", "mailto"):
            self.pending_link = url.toString()
            self.link_label.setText(_("Open {address} in your browser?").format(address=self.pending_link))
            self.link_bar.show()
            self.open_link_button.setFocus()
        else:
            self._say(_("Osler does not open this kind of link."))

    def _open_link(self) -> None:
        self.link_bar.hide()
        if self.pending_link:
            QDesktopServices.openUrl(QUrl(self.pending_link))

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def load_image(self, number: int) -> None:
        """Fetch image ``number`` of the document (the person clicked "Load image") and show it in place."""
        if not 0 <= number < len(self.urls) or number in self.images:
            return
        url, text = self.urls[number], self.text
        self._say(_("Loading the image from {host}…").format(host=urlparse(url).hostname or url))

        def done(data: bytes) -> None:
            self._tasks.discard(task)
            if self.text != text:
                return  # another document is open now
            image = QImage()
            if not image.loadFromData(data) or image.isNull():
                self._say(_("That address did not send an image Osler can show."))
                return
            if image.width() > 1600:
                image = image.scaledToWidth(1600)
            self.images[number] = image
            self._say("")
            self._render()

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            detail = str(exc) if isinstance(exc, ValueError) else _("the image could not be fetched")
            self._say(_("Image not loaded: {reason}").format(reason=detail))

        task = run_in_background(lambda: self.fetch(url), done, failed)
        self._tasks.add(task)
