"""Progress a person can read: a long pull, a large push and an attachment moving each report how far along they
are with a real total (the server says how many records still wait), and the status bar shows the percentage
with items and bytes instead of a bar that only moves."""

from __future__ import annotations

import os

from desktop.ui.sync_status import SyncStatusBar
from sync.client.engine import SyncProgress
from sync.client.scheduler import SyncStatus


def reports(engine) -> list[SyncProgress]:
    seen: list[SyncProgress] = []
    engine.on_progress = seen.append
    return seen


def test_a_long_pull_reports_a_real_total_from_the_start(client_factory):
    student, mentor = client_factory(), client_factory("mentor")
    for i in range(40):
        mentor.send(bytes([i]) * 1000, [student.account])
    mentor.engine().sync_once()
    engine = student.engine(pull_budget=8 * 1024)
    seen = reports(engine)
    engine.sync_once()
    pulls = [p for p in seen if p.phase == "syncing"]
    assert len(pulls) >= 5
    assert pulls[0].items_total == 40, "the first answer already says how many records wait in all"
    fractions = [p.fraction for p in pulls]
    assert all(f is not None for f in fractions)
    assert fractions == sorted(fractions) and fractions[0] < 0.5 and fractions[-1] == 1.0


def test_a_large_push_counts_what_is_queued(client_factory):
    student, mentor = client_factory(), client_factory("mentor")
    for i in range(150):
        student.send(bytes([i]) * 400, [mentor.account])
    engine = student.engine(push_budget=16 * 1024)
    seen = reports(engine)
    engine.sync_once()
    known = [p for p in seen if p.phase == "syncing" and p.items_total]
    assert known and all(p.items_total == 150 for p in known)
    assert known[-1].fraction == 1.0
    assert any(0 < (p.fraction or 0) < 1 for p in known), "the push was shown going along, not only done"


def test_an_attachment_up_and_down_reports_its_bytes(client_factory, tmp_path):
    writer, reader = client_factory(), client_factory()
    blob = os.urandom(700 * 1024)  # several chunks
    engine = writer.engine()
    seen = reports(engine)
    sha = engine.upload_blob(blob)
    moving = [(p.blob_done, p.blob_total) for p in seen if p.blob_total]
    assert moving[-1] == (len(blob), len(blob)) and len(moving) >= 3
    assert seen[-1].blob_total == 0, "finished: no attachment shown as moving"
    down = reader.engine()
    seen = reports(down)
    down.download_blob(sha, tmp_path / sha)
    fetched = [(p.blob_done, p.blob_total) for p in seen if p.blob_total]
    assert fetched and fetched[-1] == (len(blob), len(blob)) and fetched[0][0] < len(blob)


def test_the_status_bar_shows_a_percentage_with_items_and_bytes(qtbot):
    bar = SyncStatusBar()
    qtbot.addWidget(bar)
    halfway = SyncProgress("syncing", records_down=20, bytes_down=30_000, requests=3, down_waiting=20)
    bar.show_status(SyncStatus(online=True, syncing=True, progress=halfway))
    assert bar.progress.isVisibleTo(bar) and bar.progress.maximum() == 1000 and bar.progress.value() == 500
    assert bar.progress.format().startswith("50%") and "20 of 40 items" in bar.progress.format()
    attachment = SyncProgress("done", blob_done=3_000_000, blob_total=12_000_000)
    bar.show_status(SyncStatus(online=True, syncing=False, progress=attachment))
    assert bar.progress.isVisibleTo(bar) and bar.progress.value() == 250
    assert "Attachment" in bar.progress.format() and "25%" in bar.progress.format()
    bar.show_status(SyncStatus(online=True, syncing=False, progress=SyncProgress("done")))
    assert not bar.progress.isVisibleTo(bar)
