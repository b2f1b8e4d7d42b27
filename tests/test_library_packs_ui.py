"""The Library page's content pack controls: an admin exports through them, a member imports through them and
reads the result in plain words; a refusal is shown, not raised. A real server, real vaults and sessions."""

from __future__ import annotations

import json
import os

from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from desktop.ui.views.library_packs import LibraryPacks
from sync.clock import ManualClock
from tests.clients import make_client

CLOCK = ManualClock(1_780_000_000.0)


def session_of(client, folder):
    return Session(client.vault, folder, SettingsStore(folder / "settings.json"), clock=CLOCK)


def test_an_admin_exports_and_a_member_imports_from_the_library_page(qtbot, tmp_path, server):
    admin = make_client(tmp_path / "admin", server.url, server.invite("admin"))
    admin.publish_card("Ada Admin", role="admin")
    for n in range(3):
        info = admin.vault.blobs.put_bytes(os.urandom(70_000 + n), f"item {n}")
        body = {"v": 1, "title": f"Item {n}", "specialty": "", "kind": "guide", "language": "en", "summary": ""}
        admin.send(json.dumps(body | {"size": info.size, "sha256": info.sha256}).encode(), None, "material", True)
    admin_session = session_of(admin, tmp_path / "a")
    exporter = LibraryPacks(admin_session, lambda: None, lambda: None)  # queues the programme-admin record
    qtbot.addWidget(exporter)
    assert not exporter.export_button.isHidden()
    admin.engine().sync_once()
    exporter.export_to(tmp_path / "stick", "Week 1", None, as_zip=True)
    qtbot.waitUntil(lambda: "written to" in exporter.message.text(), timeout=20_000)
    assert "3 items" in exporter.message.text()
    pack = tmp_path / "stick" / "osler-pack-Week-1.zip"
    assert pack.is_file()

    member = make_client(tmp_path / "member", server.url, server.invite())
    member.engine().sync_once()
    refreshed = []
    importer = LibraryPacks(session_of(member, tmp_path / "m"), lambda: None, lambda: refreshed.append(1))
    qtbot.addWidget(importer)
    assert importer.export_button.isHidden(), "only admins export"
    importer.import_from(pack)
    qtbot.waitUntil(lambda: "added" in importer.message.text(), timeout=20_000)
    assert importer.message.text() == "3 items added"
    assert refreshed == [1]
    importer.import_from(pack)
    qtbot.waitUntil(lambda: "already" in importer.message.text(), timeout=20_000)
    assert importer.message.text() == "0 items added, 3 already here."
    (tmp_path / "not-a-pack.zip").write_bytes(b"PK nothing")
    importer.import_from(tmp_path / "not-a-pack.zip")
    qtbot.waitUntil(lambda: "damaged" in importer.message.text(), timeout=20_000)
    assert importer.import_button.isEnabled()
