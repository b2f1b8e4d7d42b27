"""Reader benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_reader``).

A 300-page PDF (text and shapes on every page, ~40 lines each) is kept in a real vault. Measured through the real
PdfPane offscreen, at a 900×560 viewport (the reader's size on a 1024×600 screen is smaller):
1. Open to the first page: the vault's read (decrypting every chunk, SHA-256 checked) + PDFium opening the bytes
   + the first page drawn and shown. Target ≤ 500 ms.
2. Turning a page as a person reads: the next page was drawn in the background while this one was read. Target
   ≤ 100 ms.
3. Turning a page cold (the cache emptied first: a jump by the page box or a search hit), for comparison.
Prints figures beside the targets; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication

from desktop.domain.documents import PdfDocument
from desktop.ui.views.reader_pdf import PdfPane
from desktop.vault import KdfParams, Vault
from tests.benchmarks.report import row
from tests.pdfs import make_pdf

PAGES = 300
TURNS = 40


def _page_text(n: int) -> str:
    lines = [f"Chapter {n // 20 + 1}, page {n + 1}: the cardiac examination"]
    lines += [f"{i:02d}. Inspect, palpate, percuss and auscultate; note the apex beat." for i in range(40)]
    return "\n".join(lines)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    data = make_pdf([_page_text(n) for n in range(PAGES)])
    print(f"Reader: a {PAGES}-page PDF of {len(data) / 1e6:.1f} MB, PdfPane at 900×560 offscreen")
    with tempfile.TemporaryDirectory() as folder:
        vault, _key = Vault.create(Path(folder) / "vault", "violet harbour lantern", params=KdfParams.floor())
        blob = vault.blobs.put_bytes(data, name="guide.pdf", mime="application/pdf").id
        pane = PdfPane()
        pane.resize(900, 600)
        pane.show()
        app.processEvents()
        opens = []
        for _run in range(5):
            pane.close_document()
            app.processEvents()
            t0 = time.perf_counter()
            pane.open(PdfDocument(vault.blobs.read_all(blob)), 0)
            app.processEvents()
            opens.append(time.perf_counter() - t0)
            QThreadPool.globalInstance().waitForDone()
            app.processEvents()
        row("open to the first page (vault read + parse + draw), median", statistics.median(opens) * 1000, "ms", 500)
        row("open to the first page, slowest of 5", max(opens) * 1000, "ms", 500)
        warm = []
        for _turn in range(TURNS):
            QThreadPool.globalInstance().waitForDone()  # the person reads; the next page is drawn meanwhile
            app.processEvents()
            t0 = time.perf_counter()
            pane.next_page()
            app.processEvents()
            warm.append(time.perf_counter() - t0)
        row("page turn while reading (next page prefetched), median", statistics.median(warm) * 1000, "ms", 100)
        row("page turn while reading, slowest", max(warm) * 1000, "ms", 100)
        cold = []
        for turn in range(TURNS):
            QThreadPool.globalInstance().waitForDone()
            pane._cache.clear()
            app.processEvents()
            t0 = time.perf_counter()
            pane.go_to(100 + turn * 3)
            app.processEvents()
            cold.append(time.perf_counter() - t0)
        row("page jump, nothing cached (draw now), median", statistics.median(cold) * 1000, "ms", 100)
        row("page jump, nothing cached, slowest", max(cold) * 1000, "ms", 100)
        t0 = time.perf_counter()
        hits = pane.document.search("page 299")
        row(f"search all {PAGES} pages ({len(hits)} hit)", (time.perf_counter() - t0) * 1000, "ms")
        pane.close_document()
        QThreadPool.globalInstance().waitForDone()
        vault.close()


if __name__ == "__main__":
    main()
