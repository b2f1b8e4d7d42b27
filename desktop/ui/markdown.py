"""Library items are Markdown: shown rendered, in a safe subset. Raw HTML in the text stays text, images are not
rendered (nothing is fetched from anywhere), and links are shown but never followed from inside Osler."""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QTextBrowser

_MD = MarkdownIt("commonmark", {"html": False}).disable("image")


def to_html(text: str) -> str:
    """CommonMark to HTML; any HTML in ``text`` is escaped, ``![images](...)`` become plain links."""
    return _MD.render(text)


class MarkdownReader(QTextBrowser):
    """A read-only pane for Markdown that loads no resource: no remote image, no local file."""

    def __init__(self) -> None:
        super().__init__()
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)

    def show_markdown(self, text: str) -> None:
        self.setHtml(to_html(text))

    def loadResource(self, kind: int, name: QUrl) -> Any:
        return None
