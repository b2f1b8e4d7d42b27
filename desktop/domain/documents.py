"""PDF documents read from memory: page count, a page rendered at a scale, the text of a page, search.

The bytes come from the vault (``Library.open_bytes``) and stay in memory: PDFium reads them from a buffer, so no
plaintext copy is ever written to disk, not even a temp file. A file that is not a PDF, is damaged beyond PDFium's
repair, asks for a password or claims more than ``MAX_PAGES`` pages is refused with a ``DocumentError`` whose
``user_message()`` says so; rendering or reading a page that fails raises the same error, never anything else.

PDFium is not thread-safe: every call into it holds ``_PDFIUM`` so the reader may render the next page in the
background while the person reads this one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from desktop.formatting import format_number
from desktop.i18n import _

MAX_PAGES = 5_000  # a 5,000-page guide is already a library; a larger count is a broken or hostile file
MAX_BYTES = 512 * 1024 * 1024  # the largest item a programme may publish
MAX_PIXELS = 25_000_000  # one rendered page (5,000 × 5,000, 100 MB): a giant page at a high zoom is drawn smaller
MAX_HITS = 1_000  # search stops counting here; the person refines the words
_PDFIUM = threading.RLock()


def _pdfium():  # type: ignore[no-untyped-def]
    """PDFium, loaded the first time a PDF is opened (not at start: most sessions open none)."""
    import pypdfium2

    return pypdfium2


class DocumentError(Exception):
    """A document Osler will not open or a page it could not draw; ``user_message()`` is translated."""

    def __init__(self, reason: str, detail: str = "", count: int = 0) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.count = reason, count

    def user_message(self) -> str:
        messages = {
            "empty": _("This file is empty."),
            "too-large": _("This file is larger than Osler opens (512 MB)."),
            "not-pdf": _("This file is not a PDF Osler can read. It may be damaged or of another kind."),
            "password": _("This PDF is protected with a password. Osler does not open protected PDFs."),
            "too-many-pages": _(
                "This PDF says it has {count} pages, more than Osler opens ({limit}). The file may be damaged."
            ),
            "no-pages": _("This PDF has no pages."),
            "page": _("Osler could not draw this page. The file may be damaged; the other pages may still open."),
            "closed": _("This document was closed."),
        }
        text = messages.get(self.reason, _("Osler could not read this document."))
        if self.reason == "too-many-pages":
            return text.format(count=format_number(self.count), limit=format_number(MAX_PAGES))
        return text


@dataclass(frozen=True)
class PageImage:
    """One rendered page: RGBA pixels, 4 bytes each, rows of ``stride`` bytes."""

    width: int
    height: int
    stride: int
    data: bytes


@dataclass(frozen=True)
class Hit:
    page: int  # 0-based
    start: int  # character index on the page
    length: int
    context: str  # the words around the match, for the results list


class PdfDocument:
    """One PDF opened from bytes held in memory."""

    def __init__(self, data: bytes) -> None:
        if not data:
            raise DocumentError("empty")
        if len(data) > MAX_BYTES:
            raise DocumentError("too-large")
        if b"%PDF" not in data[:1024]:
            raise DocumentError("not-pdf", "no PDF header")
        self._data = data  # PDFium reads this buffer for as long as the document is open
        pdfium = _pdfium()
        with _PDFIUM:
            try:
                self._pdf = pdfium.PdfDocument(data)
            except pdfium.PdfiumError as exc:
                raise DocumentError("password" if "password" in str(exc).lower() else "not-pdf", str(exc)) from None
            count = len(self._pdf)
            if count > MAX_PAGES:
                self._pdf.close()
                raise DocumentError("too-many-pages", str(count), count)
            if count <= 0:
                self._pdf.close()
                raise DocumentError("no-pages")
        self.page_count = count
        self._closed = False

    def close(self) -> None:
        with _PDFIUM:
            if not self._closed:
                self._closed = True
                self._pdf.close()
                self._data = b""  # the plaintext goes with the document

    def __enter__(self) -> PdfDocument:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _check(self, index: int) -> None:
        if self._closed:
            raise DocumentError("closed")
        if not 0 <= index < self.page_count:
            raise IndexError(index)

    def page_size(self, index: int) -> tuple[float, float]:
        """Width and height of a page in points (1/72 inch)."""
        with _PDFIUM:
            self._check(index)
            try:
                width, height = self._pdf.get_page_size(index)
            except (_pdfium().PdfiumError, ValueError, OSError) as exc:
                raise DocumentError("page", str(exc)) from None
        return max(1.0, float(width)), max(1.0, float(height))

    def render(self, index: int, scale: float = 1.0) -> PageImage:
        """Page ``index`` drawn at ``scale`` pixels per point on white; a page too big to draw is drawn smaller."""
        width, height = self.page_size(index)
        scale = max(0.05, min(float(scale), 8.0))
        if width * height * scale * scale > MAX_PIXELS:
            scale = 0.999 * (MAX_PIXELS / (width * height)) ** 0.5
        with _PDFIUM:
            self._check(index)
            try:
                page = self._pdf[index]
                try:
                    bitmap = page.render(
                        scale=scale,
                        fill_color=(255, 255, 255, 255),
                        force_bitmap_format=_pdfium().raw.FPDFBitmap_BGRA,
                        rev_byteorder=True,
                    )
                    image = PageImage(bitmap.width, bitmap.height, bitmap.stride, bytes(bitmap.buffer))
                    bitmap.close()
                finally:
                    page.close()
            except (_pdfium().PdfiumError, ValueError, OSError, MemoryError) as exc:
                raise DocumentError("page", str(exc)) from None
        return image

    def text(self, index: int) -> str:
        """The text of a page where it can be extracted ("" for a scanned page)."""
        with _PDFIUM:
            self._check(index)
            try:
                page = self._pdf[index]
                try:
                    textpage = page.get_textpage()
                    try:
                        return textpage.get_text_range().replace("\r\n", "\n").replace("\x00", "")
                    finally:
                        textpage.close()
                finally:
                    page.close()
            except (_pdfium().PdfiumError, ValueError, OSError) as exc:
                raise DocumentError("page", str(exc)) from None

    def search(self, words: str, limit: int = MAX_HITS) -> list[Hit]:
        """Every place ``words`` occur (case-insensitive), page by page; a page that cannot be read is skipped."""
        needle = " ".join(words.split()).casefold()
        if not needle:
            return []
        hits: list[Hit] = []
        for index in range(self.page_count):
            try:
                text = self.text(index)
            except DocumentError:
                continue
            flat = text.replace("\n", " ").casefold()
            start = flat.find(needle)
            while start >= 0:
                context = text[max(0, start - 30) : start + len(needle) + 30].replace("\n", " ").strip()
                hits.append(Hit(index, start, len(needle), context))
                if len(hits) >= limit:
                    return hits
                start = flat.find(needle, start + max(1, len(needle)))
        return hits
