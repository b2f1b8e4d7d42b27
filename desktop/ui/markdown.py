"""Library items are Markdown: shown rendered, in a safe subset. Raw HTML in the text stays text (so a
``<script>`` is shown, never run: Qt's rich text has no script engine either), images are not loaded (nothing is
fetched from anywhere until the person asks, see ``to_html_with_images``), and links are shown but never followed
from inside Osler."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlparse

from markdown_it import MarkdownIt
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QTextBrowser

from desktop.i18n import _

_MD = MarkdownIt("commonmark", {"html": False}).disable("image")
IMAGE_SCHEME = "osler-image"  # links and <img> sources for a document's images: "osler-image:<n>"


def to_html(text: str) -> str:
    """CommonMark to HTML; any HTML in ``text`` is escaped, ``![images](...)`` become plain links."""
    return _MD.render(text)


def _image_rule(renderer: Any, tokens: list, idx: int, options: Any, env: dict) -> str:
    token = tokens[idx]
    source = str(token.attrGet("src") or "")
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    images: list[str] = env.setdefault("images", [])
    number = len(images)
    images.append(source)
    if number in env.get("loaded", ()):
        return f'<img src="{IMAGE_SCHEME}:{number}" alt="{escape(alt)}" />'
    host = urlparse(source).hostname or ""
    if not host:  # a file next to the document (not shipped with it) or a data: URL: shown as its description
        return escape(_("[Image: {description}]").format(description=alt or source[:80]))
    offer = _("Load image from {host}").format(host=host)
    label = _("[Image: {description}] {offer}").format(description=alt or _("no description"), offer=offer)
    return f'<a href="{IMAGE_SCHEME}:{number}">{escape(label)}</a>'


_MD_IMAGES = MarkdownIt("commonmark", {"html": False})
_MD_IMAGES.add_render_rule("image", _image_rule)


def to_html_with_images(text: str, loaded: set[int] | frozenset[int] = frozenset()) -> tuple[str, list[str]]:
    """CommonMark to HTML where image number ``n`` is an ``osler-image:n`` link offering to load it (or, when
    ``n`` is in ``loaded``, an ``<img>`` whose source the pane supplies); returns the HTML and the images' URLs."""
    env: dict = {"loaded": set(loaded)}
    html = _MD_IMAGES.render(text, env)
    return html, env.get("images", [])


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
