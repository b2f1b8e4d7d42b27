"""The reader through its real widgets, offscreen: a PDF pages by keyboard, zooms, finds words, keeps bookmarks and
notes and reopens on the last page; Markdown with a script and remote images renders safely and fetches nothing
until the person clicks "Load image"; the whole app's Library page opens the demo PDF and reopens it where the
person left it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImage

from desktop.domain.reading import Reading
from desktop.ui.markdown import IMAGE_SCHEME
from desktop.ui.views.reader import ReaderView
from desktop.vault import KdfParams, Vault
from tests.conftest import PASSPHRASE
from tests.pdfs import make_pdf


def _item(item: str, mime: str) -> SimpleNamespace:
    return SimpleNamespace(id=f"rec-{item}", item=item, mime=mime, kind="guide", title=item)


@pytest.fixture
def reader(qtbot, tmp_path: Path):
    vault, _key = Vault.create(tmp_path / "vault", PASSPHRASE, params=KdfParams.floor())
    view = ReaderView(Reading(vault, lambda: 1_700_000_000_000))
    qtbot.addWidget(view)
    view.resize(900, 560)
    view.show()
    yield view
    view.clear()
    vault.close()


PAGES = [f"Page {n} of the cardiology guide" + ("\nmitral regurgitation" if n in (4, 9) else "") for n in range(1, 13)]


def test_a_pdf_pages_by_keyboard_finds_words_and_reopens_on_the_last_page(qtbot, reader):
    reader.show_item(_item("cardio", "application/pdf"), make_pdf(PAGES))
    pane = reader.pdf
    assert reader.stack.currentWidget() is pane and pane.page == 0
    assert not pane.image.pixmap().isNull()
    pane.view.setFocus()
    qtbot.keyClick(pane.view, Qt.Key.Key_Right)
    qtbot.keyClick(pane.view, Qt.Key.Key_Right)
    assert pane.spin.value() == 3
    qtbot.keyClick(pane.view, Qt.Key.Key_End)
    assert pane.page == 11
    qtbot.keyClick(pane.view, Qt.Key.Key_Home)
    width = pane.image.width()
    qtbot.keyClick(pane, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert pane.zoom > 1.0 and pane.image.width() > width
    qtbot.keyClicks(reader.find_box, "Mitral  REGURGITATION")
    qtbot.keyClick(reader.find_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pane.page == 3)
    assert "1 of 2" in reader.find_label.text()
    reader.find_next()
    assert pane.page == 8
    reader.toggle_bookmark()
    reader.toggle_notes()
    qtbot.keyClicks(reader.notes.box, "Ask about the murmur grading")
    reader.notes.add_button.click()
    assert reader.notes.bookmarks.item(0).text().startswith("Page 9")
    assert "murmur grading" in reader.notes.notes.item(0).text()
    assert reader.reading.progress("cardio") == 12 / 12  # End was pressed: the last page was reached
    reader.clear()
    assert reader.pdf.document is None
    reader.show_item(_item("cardio", "application/pdf"), make_pdf(PAGES))
    assert reader.pdf.page == 8 and reader.pdf.spin.value() == 9
    assert reader.notes.notes.count() == 1 and reader.notes.bookmarks.count() == 1
    reader.notes.bookmarks.setCurrentRow(0)
    reader.notes.bookmarks.itemClicked.emit(reader.notes.bookmarks.item(0))
    assert reader.pdf.page == 8


def test_a_broken_pdf_shows_a_clear_message_in_the_reader(reader):
    reader.show_item(_item("bad", "application/pdf"), b"%PDF-1.7\n" + b"\x00garbage" * 500)
    assert reader.stack.currentWidget() is reader.placeholder
    assert "not a PDF Osler can read" in reader.placeholder.text()
    reader.show_item(_item("good", "application/pdf"), make_pdf(["fine"]))  # and the reader still works
    assert reader.pdf.page == 0 and not reader.pdf.image.pixmap().isNull()


class _Counting(BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012

    def do_GET(self) -> None:
        _Counting.hits.append(self.path)
        image = QImage(40, 30, QImage.Format.Format_RGB32)
        image.fill(0x3366CC)
        from PySide6.QtCore import QBuffer, QIODevice

        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        body = bytes(buffer.data())
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_markdown_runs_no_script_and_fetches_no_image_until_the_person_clicks(qtbot, reader):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Counting.hits = []
    base = f"http://127.0.0.1:{server.server_port}"
    text = (
        "# Sepsis\n\n<script>document.title='pwned'</script>\n\n"
        f'<img src="{base}/raw.png">\n\n![Gram stain]({base}/gram.png)\n\n![Tracker]({base}/pixel.gif)\n\n'
        f"[WHO guideline]({base}/guideline) and [bad](javascript:alert(1))\n"
    )
    try:
        reader.show_item(_item("sepsis", "text/markdown"), text.encode())
        browser = reader.markdown.browser
        shown = browser.toPlainText()
        assert "<script>document.title='pwned'</script>" in shown  # a script is text, never run
        assert f'<img src="{base}/raw.png">' in shown  # raw HTML stays text
        assert "[Image: Gram stain] Load image from 127.0.0.1" in shown
        qtbot.wait(300)
        assert _Counting.hits == []  # nothing fetched by opening it
        browser.anchorClicked.emit(QUrl(f"{base}/guideline"))
        assert reader.markdown.link_bar.isVisible() and "guideline" in reader.markdown.link_label.text()
        reader.markdown.cancel_link_button.click()
        assert _Counting.hits == []  # a link is only offered
        browser.anchorClicked.emit(QUrl(f"{IMAGE_SCHEME}:0"))
        qtbot.waitUntil(lambda: 0 in reader.markdown.images, timeout=5000)
        assert _Counting.hits == ["/gram.png"]  # only the image the person chose
        assert "Load image from" in browser.toPlainText()  # the tracker is still only offered
        assert browser.loadResource(2, QUrl(f"{IMAGE_SCHEME}:0")).width() == 40
        assert browser.loadResource(2, QUrl(f"{base}/pixel.gif")) is None
    finally:
        server.shutdown()
        server.server_close()


def test_markdown_reopens_where_the_person_stopped_reading(qtbot, reader):
    text = "\n\n".join(f"Paragraph {n}: " + "words " * 40 for n in range(200)).encode()
    reader.show_item(_item("long", "text/markdown"), text)
    bar = reader.markdown.browser.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum() // 2)
    qtbot.waitUntil(lambda: 0.4 < reader.reading.state("long").position < 0.6, timeout=3000)
    reader.clear()
    reader.show_item(_item("long", "text/markdown"), text)
    assert abs(bar.value() - bar.maximum() // 2) <= 2
    assert 0.5 < reader.reading.progress("long") < 0.8


def test_another_kind_goes_to_the_media_hook_or_says_what_is_missing(qtbot, reader):
    reader.show_item(_item("clip", "video/webm"), b"\x1aE\xdf\xa3")
    assert "cannot show this kind of file (video/webm)" in reader.placeholder.text()
    from PySide6.QtWidgets import QLabel

    reader.media_hook = lambda item, data: QLabel(f"playing {item.title} ({len(data)} bytes)")
    reader.show_item(_item("clip", "video/webm"), b"\x1aE\xdf\xa3")
    assert reader.stack.currentWidget() is reader.media
    assert reader.media.findChild(QLabel).text() == "playing clip (4 bytes)"


def test_the_library_page_reads_the_demo_pdf_and_reopens_it_where_the_person_left_it(make_app):
    page = make_app()
    page.enter_demo(PASSPHRASE)
    page.open_view("library")
    library = page.screen.library
    pdf = page.open_library_item("application/pdf")
    page.qtbot.waitUntil(lambda: library.reader.pdf.document is not None, timeout=15_000)
    pane = library.reader.pdf
    assert pane.page == 0 and pane.document.page_count > 5
    pane.view.setFocus()
    for _turn in range(4):
        page.qtbot.keyClick(
            pane.view, Qt.Key.Key_PageDown if pane.view.verticalScrollBar().maximum() == 0 else Qt.Key.Key_Right
        )
    assert pane.page == 4
    page.select_library_item("text/markdown")
    page.qtbot.waitUntil(lambda: library.reader.pdf.document is None, timeout=5_000)
    page.select_library_item("application/pdf")
    page.qtbot.waitUntil(lambda: library.reader.pdf.document is not None, timeout=15_000)
    assert library.reader.pdf.page == 4 and library.reader.pdf.spin.value() == 5
    assert page.app.session.reading.progress(pdf) == pytest.approx(5 / pane.document.page_count)


def test_a_private_pdf_read_and_searched_in_the_reader_leaves_no_canary_in_the_temp_folder(qtbot, reader, tmp_path):
    import tempfile
    import time

    from tests.test_documents import _files_containing

    canary = "CANARY-reader-5c1e-private"
    started = time.time() - 2  # a file-age filter for the scan, not a decision of the code under test
    vault = reader.reading.vault
    blob = vault.blobs.put_bytes(make_pdf(["cover", f"Patient Z {canary}", "end"]), name="private.pdf").id
    reader.show_item(_item("private", "application/pdf"), vault.blobs.read_all(blob))
    qtbot.keyClicks(reader.find_box, canary)
    qtbot.keyClick(reader.find_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reader.pdf.page == 1)
    reader.pdf.zoom_by(2)
    reader.toggle_bookmark()
    reader.clear()
    for folder in {Path(tempfile.gettempdir()), tmp_path}:
        assert _files_containing(folder, canary.encode(), started) == []
