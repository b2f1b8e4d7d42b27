"""The library's formats and publishing (issue 18, core): material v2 with part lists, who may publish (over a
real server), new versions, private sharing to a mentee and a circle, and the checks on files to publish."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import pytest
import requests

from desktop.domain.demo_library import heart_diagram, lecture_pages, pdf
from desktop.domain.directory import Material
from desktop.domain.library_format import (
    PART_SIZE,
    LibraryError,
    PublishMeta,
    check_chunk,
    check_file,
    check_part_list,
    parse_entry,
)
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from sync.protocol import unpack_record
from tests.clients import make_client

CANARY = "OSLER-CANARY-7d41c2"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One real server for the module: a mentor, a student (mentee) and a second student, each with a card."""
    from tests.servers import ThreadServer

    root = tmp_path_factory.mktemp("library")
    with ThreadServer(root / "server") as server:
        people = {}
        for name, role in (("mentor", "mentor"), ("amina", "student"), ("lucas", "student"), ("kofi", "mentor")):
            client = make_client(root / name, server.url, server.invite(role))
            client.publish_card(name.capitalize(), role=role)
            people[name] = client
        sessions = {
            n: Session(c.vault, root / f"{n}-data", SettingsStore(root / f"{n}.json")) for n, c in people.items()
        }
        rounds(*sessions.values())
        yield server, people, sessions, root
        for session in sessions.values():
            session.stop()
        for client in people.values():
            client.vault.close()


def rounds(*sessions: Session, times: int = 2) -> None:
    for _ in range(times):
        for s in sessions:
            s.engine.sync_once()
            s.messaging.take_in()
            s.circles.take_in()


def fetch(session: Session, material_id: str) -> None:
    item = session.library.by_id(material_id)
    assert item is not None
    session.download_material(Material(item.id, item.author, item.title, "", "", "", "", item.size, item.sha256))


def server_bytes(server) -> bytes:
    return b"".join(p.read_bytes() for p in Path(server.data_dir).rglob("*") if p.is_file())


def test_a_published_pdf_reaches_the_mentee_with_its_part_list_and_a_new_version_replaces_it(world):
    server, _people, s, root = world
    mentor, amina = s["mentor"], s["amina"]
    handbook = pdf(lecture_pages("Renal physiology", 150), "Renal physiology")
    assert len(handbook) > PART_SIZE  # two chunks at least: addressed by a part list
    path = root / "renal.pdf"
    path.write_bytes(handbook)
    meta = PublishMeta("Renal physiology", "Lecture notes", "Nephrology", "en", "clinical", "CC-BY-4.0")
    first = mentor.library.publish(path, meta)
    assert mentor.library.is_offline(first) and mentor.library.open_bytes(first) == handbook  # at once, offline
    assert mentor.library.pending_uploads() == [first.sha256, first.parts]
    rounds(mentor, amina)
    assert mentor.library.pending_uploads() == []
    theirs = amina.library.item(first.item)
    assert theirs is not None and (theirs.version, theirs.mime, theirs.level) == (1, "application/pdf", "clinical")
    assert not amina.library.is_offline(theirs) and amina.library.readable(theirs) is None
    parts = requests.get(f"{server.url}/v1/blobs/{theirs.parts}", headers=_auth(amina), timeout=10).content
    check_part_list(parts, theirs.size, theirs.parts)  # the part list names every chunk
    assert all(check_chunk(i, handbook[i * PART_SIZE : (i + 1) * PART_SIZE], parts) for i in range(len(parts) // 32))
    assert not check_chunk(0, b"x" + handbook[1:PART_SIZE], parts)  # a bad chunk is noticed alone
    fetch(amina, theirs.id)
    assert amina.library.open_bytes(theirs) == handbook
    record = next(r for r in amina.vault.records.by_kind("material") if r.id == theirs.id)
    assert json.loads(unpack_record(record.wire).b)["v"] == 2

    revised = pdf(lecture_pages("Renal physiology (revised)", 3), "Renal physiology")
    path.write_bytes(revised)
    second = mentor.library.new_version(first, path, meta)
    assert (second.version, second.replaces, second.parts) == (2, first.id, "")  # one chunk: no part list
    rounds(mentor, amina)
    newest = amina.library.item(first.item)
    assert (
        newest is not None
        and newest.id == second.id
        and [v.version for v in amina.library.versions(first.item)] == [2, 1]
    )
    assert [i.item for i in amina.library.items()].count(first.item) == 1  # the list shows one entry
    assert amina.library.readable(newest) == theirs  # the old one stays readable until the new one is fetched
    fetch(amina, second.id)
    assert amina.library.readable(newest) == newest and amina.library.open_bytes(newest) == revised
    with pytest.raises(LibraryError) as refused:
        s["lucas"].library.publish(path, meta)
    assert refused.value.code == "forbidden"


def _auth(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {session.engine._token_value(session.transport)}"}


def test_only_mentors_and_admins_may_push_material_the_server_answers_403(world):
    server, people, s, _root = world
    body = json.dumps({"v": 2, "item": "x" * 22, "title": "Not mine to publish", "size": 1, "sha256": "0" * 64})
    record = people["lucas"].send(body.encode(), None, kind="material", signed=True)
    s["lucas"].engine.sync_once()
    rejected = {r.id: r.note for r in people["lucas"].vault.records.by_state("rejected")}
    assert rejected[record.i.hex()].startswith("forbidden")
    s["amina"].engine.sync_once()
    assert "Not mine to publish" not in {i.title for i in s["amina"].library.items()}
    # the raw answer: 403 in the one JSON error shape, never a 500
    from sync import PROTOCOL_VERSION
    from sync.protocol import MEDIA_MSGPACK, SyncRequest, encode

    again = people["lucas"].send(body.encode(), None, kind="material", signed=True)
    answer = requests.post(
        f"{server.url}/v1/sync",
        data=encode(SyncRequest(v=PROTOCOL_VERSION, p=[again]), MEDIA_MSGPACK),
        headers={**_auth(s["lucas"]), "Content-Type": MEDIA_MSGPACK},
        timeout=10,
    )
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"


def test_a_document_shared_privately_reaches_the_mentee_only_and_its_canary_never_reaches_the_server(world):
    server, people, s, root = world
    mentor, amina, lucas = s["mentor"], s["amina"], s["lucas"]
    secret = f"# Case notes\n\nPrivate to Amina. {CANARY}\n".encode() * 40
    path = root / "case.md"
    path.write_bytes(secret)
    meta = PublishMeta(
        "Case notes for Amina", "Our patient from Tuesday", "Cardiology", "en", "clinical", "all-rights-reserved"
    )
    shared = mentor.library.share_privately(path, meta, people["amina"].account.hex())
    rounds(mentor, amina, lucas)
    mine = next(i for i in amina.library.items() if i.private)
    assert (mine.id, mine.title, mine.shared_by) == (shared, "Case notes for Amina", people["mentor"].account.hex())
    assert amina.library.label(mine, lambda a: "Dr Mentor") == "Shared with you by Dr Mentor"
    if not amina.library.is_offline(mine):
        amina.download_attachment(shared)
    assert amina.library.open_bytes(mine) == secret
    assert not any(i.private for i in lucas.library.items())
    held = server_bytes(server)
    assert CANARY.encode() not in held and b"Case notes for Amina" not in held
    assert hashlib.sha256(secret).hexdigest().encode() not in held


def test_an_item_shared_with_a_circle_shows_for_its_members(world):
    server, people, s, root = world
    mentor, amina, lucas = s["mentor"], s["amina"], s["lucas"]
    circle = mentor.circles.create("Cardiology circle", members={people["amina"].account.hex(): "member"})
    rounds(mentor, amina, lucas)
    image = heart_diagram(64, 48)
    path = root / "heart.png"
    path.write_bytes(image)
    post = mentor.library.share_privately(path, PublishMeta("Heart diagram", level="preclinical"), circle)
    rounds(mentor, amina, lucas)
    theirs = next(i for i in amina.library.items() if i.id == post)
    assert theirs.private and theirs.via == circle and theirs.mime == "image/png"
    if not amina.library.is_offline(theirs):
        amina.download_attachment(post)
    assert amina.library.open_bytes(theirs) == image
    assert post not in {i.id for i in lucas.library.items()}
    assert b"Heart diagram" not in server_bytes(server)


def test_files_are_checked_by_their_content_not_their_name(tmp_path):
    png = heart_diagram(8, 8)
    assert check_file("diagram.png", len(png), png[:512]) == "image/png"
    with pytest.raises(LibraryError) as renamed:
        check_file("paper.pdf", len(png), png[:512])  # a PNG named .pdf
    assert renamed.value.code == "not-what-it-says" and "PDF" in str(renamed.value)
    with pytest.raises(LibraryError) as binary:
        check_file("tool.exe", 100, b"MZ\x90\x00\x03\x00\x00\x00")
    assert binary.value.code == "type"
    with pytest.raises(LibraryError):
        check_file("big.pdf", 513 * 1024 * 1024, b"%PDF-1.4")
    assert check_file("notes.md", 20, "# Notes — été\n".encode()) == "text/markdown"
    for bad in (
        PublishMeta(""),
        PublishMeta("x" * 201),
        PublishMeta("ok", level="expert"),
        PublishMeta("ok", "s" * 2001),
    ):
        with pytest.raises(LibraryError):
            bad.validate()
    assert PublishMeta("  A   title ").validate().title == "A title"


def test_entries_from_others_are_checked_and_v1_is_still_read():
    v1 = {"v": 1, "title": "Old notes", "kind": "notes", "size": 10, "sha256": "a" * 64}
    fields = parse_entry(v1, "r" * 32)
    assert fields is not None and (fields["item"], fields["version"], fields["mime"]) == ("r" * 32, 1, "text/markdown")
    big = {
        "v": 2,
        "item": "i" * 22,
        "version": 1,
        "title": "Big",
        "mime": "video/mp4",
        "size": PART_SIZE + 1,
        "sha256": "b" * 64,
    }
    assert parse_entry(big, "r") is None  # several chunks and no part list
    assert parse_entry({**big, "parts": "c" * 64}, "r") is not None
    assert parse_entry({**big, "parts": "c" * 64, "mime": "application/x-msdownload"}, "r") is None
    assert parse_entry({**big, "parts": "c" * 64, "version": True}, "r") is None
    assert parse_entry({**big, "parts": "c" * 64, "size": -1}, "r") is None


def test_the_publish_dialog_refuses_a_file_that_is_not_what_it_says_then_publishes_a_real_one(world, qtbot):
    from PySide6.QtWidgets import QDialog, QDialogButtonBox, QWidget

    from desktop.ui.views.library_publish import PUBLISH, PublishButtons, PublishDialog

    _server, _people, s, root = world
    mentor = s["mentor"]
    page = QWidget()
    qtbot.addWidget(page)
    shown = {n: PublishButtons(s[n], lambda: None, lambda: None) for n in ("mentor", "amina")}
    for buttons in shown.values():
        buttons.setParent(page)
    assert not shown["mentor"].isHidden() and shown["amina"].isHidden()  # students do not publish
    fake = root / "fake.pdf"
    fake.write_bytes(heart_diagram(8, 8))
    dialog = PublishDialog(mentor, PUBLISH)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(fake))
    dialog.title.setText("Fake paper")
    before = len(mentor.vault.records.by_kind("material"))
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    ok.click()
    assert not dialog.error.isHidden() and dialog.error.text() == "This file is not a PDF."
    assert len(mentor.vault.records.by_kind("material")) == before and dialog.result() != QDialog.DialogCode.Accepted
    good = root / "ward-round.md"
    good.write_text("# Ward round checklist\n\n- Vitals\n- Drug chart\n", encoding="utf-8")
    dialog.path.setText(str(good))
    dialog.title.setText("Ward round checklist")
    ok.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    published = mentor.library.item(dialog.result_item.item)
    assert published is not None and published.mime == "text/markdown" and published.title == "Ward round checklist"


def test_published_offline_the_file_goes_with_the_next_sync_and_a_cut_upload_resumes(world):
    """A mentor behind a link that is down publishes a 4-chunk file: it is readable here at once and waits; a
    sync cut half way through the upload sends, next time, only what the server lacks."""
    from sync.client.errors import SyncError
    from tests.faultproxy import FaultProxy

    server, _people, s, root = world
    port = int(server.url.rsplit(":", 1)[1])
    with FaultProxy("127.0.0.1", port) as proxy:
        proxy_url = f"http://127.0.0.1:{proxy.port}"
        client = make_client(root / "ward-mentor", proxy_url, server.invite("mentor"))
        client.publish_card("Ward Mentor", role="mentor")
        proxy.configure(cut_after_bytes=0)  # the link is down (for every connection from now on)
        mentor = Session(client.vault, root / "ward-mentor-data", SettingsStore(root / "ward-mentor.json"))
        try:
            lines = [f"{n}. Check the drug chart of bed {n % 40} before the round.\n" for n in range(4000)]
            data = ("# Ward guide\n" + "".join(lines)).encode()
            assert 3 * PART_SIZE < len(data) <= 4 * PART_SIZE  # four chunks
            path = root / "ward-guide.md"
            path.write_bytes(data)
            item = mentor.library.publish(path, PublishMeta("Ward guide", level="clinical"))
            assert mentor.library.open_bytes(item) == data
            with pytest.raises(SyncError):
                mentor.engine.sync_once()
            assert mentor.library.pending_uploads() == [item.sha256, item.parts]
            assert any(r.id == item.id for r in client.vault.records.by_state("outbox"))
            proxy.configure(cut_after_bytes=None)  # up again, and the first connection cut in the upload
            proxy.configure(cut_after_bytes=2 * PART_SIZE, cut_once=True)
            before = proxy.bytes_up
            with contextlib.suppress(SyncError):
                mentor.engine.sync_once()
            rounds(mentor)
            assert mentor.library.pending_uploads() == []
            # the chunks cut went again, not the whole file: at most one chunk more than the file, with the headers
            assert proxy.bytes_up - before < len(data) + PART_SIZE + 20_000
        finally:
            mentor.stop()
            client.vault.close()
    amina = s["amina"]
    rounds(amina)
    fetch(amina, item.id)
    assert amina.library.open_bytes(amina.library.item(item.item)) == data


def test_a_version_by_another_mentor_does_not_replace_the_publishers_item(world):
    _server, _people, s, root = world
    mentor, kofi, amina = s["mentor"], s["kofi"], s["amina"]
    path = root / "asthma.md"
    path.write_text("# Asthma\n\nStep up, step down.\n", encoding="utf-8")
    original = mentor.library.publish(path, PublishMeta("Asthma steps"))
    path.write_text("# Asthma\n\nSomething else entirely.\n", encoding="utf-8")
    forged = kofi.library.publish(path, PublishMeta("Asthma steps (hijacked)"))
    kofi.vault.records.withdraw(forged.id)  # made into a "version 9" of the other mentor's item, signed by kofi
    from desktop.domain.library_format import encode_entry, entry_body
    from desktop.domain.sync_adapter import queue_record

    doc = entry_body(PublishMeta("Asthma steps (hijacked)"), original.item, 9, original.id, forged.mime,
                     forged.size, forged.sha256, "")  # fmt: skip
    queue_record(kofi.vault, kofi.program, kofi.clock, "material", encode_entry(doc), None, signed=True)
    rounds(mentor, kofi, amina)
    with pytest.raises(LibraryError) as refused:
        kofi.library.new_version(original, path, PublishMeta("Asthma steps"))
    assert refused.value.code == "not-yours"
    shown = amina.library.item(original.item)
    assert shown is not None and shown.id == original.id and shown.title == "Asthma steps"


def test_the_demo_library_files_are_real_documents_an_image_and_audio(qapp):
    from PySide6.QtGui import QImage

    from desktop.domain import voice
    from desktop.domain.demo_library import media_items

    files = {fields["title"]: data for fields, data in media_items()}
    handbook = files["Clinical examination: a handbook"]
    assert len(handbook) > PART_SIZE and handbook.startswith(b"%PDF-1.4") and handbook.rstrip().endswith(b"%%EOF")
    xref = int(handbook.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    offsets = [int(line[:10]) for line in handbook[xref:].split(b"\n")[3:] if line.endswith(b" n ")]
    assert all(handbook[o:].split(b" ", 1)[0] == str(n).encode() for n, o in enumerate(offsets, 1))  # exact xref
    pdfium = pytest.importorskip("pypdfium2")
    document = pdfium.PdfDocument(handbook)
    assert len(document) == 150 and "Clinical examination: part 7" in document[6].get_textpage().get_text_range()
    image = QImage.fromData(files["The heart: a diagram"])
    assert not image.isNull() and (image.width(), image.height()) == (320, 240)
    assert voice.check(files["Heart sounds: a normal rhythm"]) == pytest.approx(6.0, abs=0.1)
