"""The Downloads panel on the Library page: a download that would pass the month's data budget says so and waits
for "Download anyway"; the queue shows bytes; the Library's Download button queues into it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt

from desktop.domain import downloads as dl
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from desktop.ui.views.downloads import DownloadsPanel
from desktop.vault.blobs import CHUNK_SIZE
from sync.clock import ManualClock, utcnow
from tests.clients import make_client
from tests.download_helpers import file_bytes, publish
from tests.servers import ThreadServer

CLOCK = ManualClock(datetime(2026, 11, 15, 9, tzinfo=UTC))


def test_the_panel_waits_over_the_budget_until_download_anyway(qtbot, tmp_path: Path):
    with ThreadServer(tmp_path / "server") as server:
        mentor = make_client(tmp_path / "mentor", server.url, server.invite("mentor"))
        data = file_bytes(3 * CHUNK_SIZE, seed=1)
        item = publish(mentor.engine(), data, "Renal physiology")
        student = make_client(tmp_path / "student", server.url, server.invite())
        store = SettingsStore(tmp_path / "settings.json")
        store.update(lambda s: replace(s, live_delivery=False, data_saver=True, monthly_budget_mb=1))
        session = Session(student.vault, tmp_path, store, clock=CLOCK)
        session.count_usage()
        month = utcnow(CLOCK).strftime("%Y-%m")
        used = 1_000_000 - (len(data) + 32 * 3) + 1  # this download would pass the budget by one byte
        store.update(lambda s: replace(s, usage_month=month, usage_bytes=used))
        panel = DownloadsPanel(session)
        qtbot.addWidget(panel)
        panel.resize(900, 220)
        panel.show()
        try:
            session.downloads.enqueue(item)
            session.downloads.start()

            def status() -> str:
                return panel.model.index(0, 2).data() if panel.model.rowCount() else ""

            qtbot.waitUntil(lambda: status() == "Waiting: over your data budget", timeout=10_000)
            assert "1 would go past your monthly data budget" in panel.summary.text()
            panel.select(item.sha256)
            assert panel.anyway_button.isVisible()
            assert panel.model.index(0, 1).data() == "0 byte of 192 kB"
            qtbot.mouseClick(panel.anyway_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: status() == "Finished", timeout=10_000)
            assert not panel.anyway_button.isVisible()
            assert panel.model.index(0, 1).data() == "192 kB of 192 kB"
            assert session.downloads.entries()[0].state == dl.DONE
            assert session.vault.blobs.read_all(item.sha256) == data
        finally:
            session.stop()
