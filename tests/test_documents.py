"""PDFs read from memory: good ones render and search; hostile ones are refused with a clear message, never a
crash; a private document's words never reach the temp folder; reading state is sealed and reopens the last page."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from desktop import i18n
from desktop.domain import documents
from desktop.domain.documents import MAX_PAGES, DocumentError, PdfDocument
from desktop.domain.reading import Reading
from desktop.vault.kdf import KdfParams
from desktop.vault.store import Vault
from tests.conftest import PASSPHRASE
from tests.pdfs import broken_xref, huge_page_count, lying_page_count, make_pdf


def test_a_pdf_opens_from_memory_renders_reads_and_searches():
    pages = ["Cardiac cycle\nsystole and diastole", "Murmurs: aortic stenosis", "stenosis again"]
    with PdfDocument(make_pdf(pages)) as doc:
        assert doc.page_count == 3
        image = doc.render(1, scale=0.5)
        assert (image.width, image.height) == (298, 421)
        assert len(image.data) == image.stride * image.height
        assert set(image.data[:4]) == {255}  # white paper, opaque
        assert any(image.data[i] != 255 for i in range(0, len(image.data), 4))  # something drawn
        assert "aortic stenosis" in doc.text(1)
        assert [hit.page for hit in doc.search("STENOSIS")] == [1, 2]
        assert doc.search("   ") == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + os.urandom(2000), "not-pdf"),
        (b"%PDF-1.7\n" + os.urandom(5000), "not-pdf"),
        (make_pdf(["one page"])[:150], "not-pdf"),
        (huge_page_count(MAX_PAGES + 1), "too-many-pages"),
    ],
    ids=["empty", "png", "garbage", "truncated", "huge-page-count"],
)
def test_hostile_pdfs_are_refused_with_a_clear_translated_message(data, reason):
    with pytest.raises(DocumentError) as refused:
        PdfDocument(data)
    assert refused.value.reason == reason
    english = refused.value.user_message()
    assert english and "PDFium" not in english
    if reason == "too-many-pages":
        assert "5,001" in english and "5,000" in english
    i18n.set_locale("fr")
    assert refused.value.user_message() != english


def test_a_broken_xref_or_a_lying_page_count_still_reads_what_is_there():
    with PdfDocument(broken_xref(["first", "second page with words"])) as doc:
        assert doc.page_count == 2
        assert "words" in doc.text(1)
        doc.render(1, 0.3)
    with PdfDocument(lying_page_count()) as doc:
        assert doc.page_count == 1
        doc.render(0, 2.0)


def test_a_giant_zoom_is_drawn_smaller_instead_of_exhausting_memory(monkeypatch):
    monkeypatch.setattr(documents, "MAX_PIXELS", 1_000_000)  # the real bound (25 Mpx) takes seconds to draw
    with PdfDocument(make_pdf(["big"], width=14_400, height=14_400)) as doc:
        image = doc.render(0, scale=8.0)
        assert 900_000 < image.width * image.height <= 1_000_000


def _files_containing(folder: Path, needle: bytes, since: float) -> list[Path]:
    """Files under ``folder`` written since ``since`` that contain ``needle`` (older files cannot hold it)."""
    found = []
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root, name)
            try:
                if path.stat().st_mtime >= since and needle in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


def test_a_private_pdf_canary_never_reaches_the_temp_folder(tmp_path: Path):
    canary = "CANARY-7f3a9-osler-private"
    started = time.time() - 2  # a file-age filter for the scan, not a decision of the code under test
    vault, _key = Vault.create(tmp_path / "vault", PASSPHRASE, params=KdfParams.floor())
    try:
        info = vault.blobs.put_bytes(make_pdf([f"Patient notes {canary}", "page two"]), name="private.pdf")
        data = vault.blobs.read_all(info.id)
        with PdfDocument(data) as doc:
            doc.render(0, 1.5)
            assert doc.search(canary)[0].page == 0
            doc.text(1)
    finally:
        vault.close()
    needle = canary.encode()
    folders = {Path(tempfile.gettempdir()), tmp_path}
    for folder in folders:
        assert _files_containing(folder, needle, started) == []


def test_reading_state_is_sealed_and_reopens_at_the_last_page(tmp_path: Path):
    clock = iter(range(1_000, 10_000, 10))
    vault, _key = Vault.create(tmp_path / "vault", PASSPHRASE, params=KdfParams.floor())
    reading = Reading(vault, lambda: next(clock))
    seen: list[tuple[str, float]] = []
    reading.listeners.append(lambda item, progress: seen.append((item, progress)))
    reading.opened_page("item-secret-1", 0, 40)
    reading.opened_page("item-secret-1", 29, 40)
    reading.opened_page("item-secret-1", 11, 40)  # paging back: progress stays at the furthest page
    assert reading.toggle_bookmark("item-secret-1", 11, "Figure 3 BOOKMARKCANARY")
    reading.add_note("item-secret-1", 11, "NOTECANARY ask about the murmur")
    assert reading.progress("item-secret-1") == 30 / 40
    assert seen == [("item-secret-1", 1 / 40), ("item-secret-1", 30 / 40)]
    vault.close()
    for path in (tmp_path / "vault").rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            assert b"NOTECANARY" not in raw and b"BOOKMARKCANARY" not in raw and b"murmur" not in raw
    again = Vault.open(tmp_path / "vault")
    again.unlock(PASSPHRASE)
    try:
        state = Reading(again, lambda: 0).state("item-secret-1")
        assert (state.page, state.pages) == (11, 40)
        assert state.bookmarks[0].label == "Figure 3 BOOKMARKCANARY"
        assert state.notes[0].text.startswith("NOTECANARY")
        assert Reading(again, lambda: 0).progress("never-opened") == 0.0
    finally:
        again.close()
