"""Issue 19 through the screens: Settings → Sync without the internet, as a student without internet and the
classmate who carries for them meet it. Real app windows offscreen, a real server on loopback, real vaults and
real bundle files; the OS's folder and file dialogs are the one thing answered for the test
(desktop/ui/file_dialogs.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from desktop.ui import file_dialogs
from sync import bundle
from sync.envelope import ServerKeys
from tests.devices_helpers import person, settle
from tests.pages import KeyboardPage, plain

PASSPHRASE = "violet harbour lantern"
WAIT = 30_000


def hold_bundle_key(*sessions, keys: ServerKeys | None = None) -> None:  # type: ignore[no-untyped-def]
    """Each session holds a programme bundle key, as after its first online sync: the server's when the server
    gave it, else one key made here (the screens under test never open what is sealed to it)."""
    keys = keys or ServerKeys.generate()
    for session in sessions:
        if not session.bundles.ready():
            session.bundles.keep_server_keys(keys.box_public, keys.sign_public)


def answer_dialogs(monkeypatch, **chosen: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The OS dialogs answered: ``folder=``, ``open=``; returns the kinds asked, in order."""
    asked: list[str] = []

    def answer(kind: str, _suggested: str) -> str:
        asked.append(kind)
        return chosen.get(kind, "")

    monkeypatch.setattr(file_dialogs, "answer", answer)
    return asked


def carry_panel(page):  # type: ignore[no-untyped-def]
    page.open_view("settings")
    return page.screen.settings.carry


def wait_idle(page, panel) -> None:  # type: ignore[no-untyped-def]
    page.qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT)


def test_offline_the_sync_bar_leads_to_export_which_writes_a_file_and_says_so(make_app, server, tmp_path, monkeypatch):
    page = KeyboardPage(*(lambda p: (p.qtbot, p.app))(make_app()))
    page.set_up_in(server.url, server.invite(), "Amina Carry", PASSPHRASE)
    session = page.app.session
    hold_bundle_key(session)
    server.stop()  # the internet is gone
    session.publish_profile("Amina Wanjiru")  # a change waiting to be sent
    bar = page.app.window.sync_bar
    page.sync_now()
    page.qtbot.waitUntil(lambda: bar.state.text() == "Offline" and bar.carry_button.isVisible(), timeout=WAIT)
    page._press(bar.carry_button)  # "Without internet…": Settings, at Sync without the internet
    panel = page.screen.settings.carry
    assert page.screen.current_view == "settings" and page.focused() is panel.export_button
    stick = tmp_path / "stick"
    stick.mkdir()
    asked = answer_dialogs(monkeypatch, folder=str(stick))
    page.qtbot.keyClick(panel.export_button, Qt.Key.Key_Space)
    wait_idle(page, panel)
    assert asked == ["folder"]
    files = list(stick.glob(f"*{bundle.SUFFIX}"))
    assert len(files) == 1, "one sealed file on the stick"
    header = bundle.read_header(files[0].read_bytes())
    assert header.kind == "request" and header.device == session.program.credentials.device
    said = plain(panel.result.text())
    assert files[0].name in said and str(stick) in said
    assert f"{header.records} item" in said, said
    assert "bring back an answer file" in said and panel.error.isHidden()


def test_export_before_any_online_sync_says_to_sync_once_first(make_app, server, tmp_path, monkeypatch):
    page = make_app()
    page.set_up_in(server.url, server.invite(), "Amina Early", PASSPHRASE)
    session = page.app.session
    if session.bundles.ready():  # the server gave its key on the first sync: forget it, as before that sync
        session.vault.put_secret("bundle-server-key", b"")
    asked = answer_dialogs(monkeypatch, folder=str(tmp_path))
    panel = carry_panel(page)
    page._press(panel.export_button)
    assert asked == [], "no folder asked for a file that cannot be sealed"
    assert "Sync online once first" in panel.error.text() and not panel.error.isHidden()
    assert not list(tmp_path.glob(f"*{bundle.SUFFIX}"))


def _classmates_request(server, tmp_path: Path, carrier_page) -> tuple[Path, object]:  # type: ignore[no-untyped-def]
    """Baraka, a classmate on his own computer, exports a request; the carrier's Osler holds his card, and then
    the internet is gone (online, the carrier's Osler would relay what it takes at once)."""
    other, _key = person(tmp_path / "baraka", server, "Baraka Otieno")
    settle(other)
    carrier = carrier_page.app.session
    hold_bundle_key(other, carrier)
    exported = other.bundles.export_request(tmp_path / "baraka")
    carrier_page.sync_now()
    carrier_page.wait_synced()
    server.stop()
    return exported.path, other


def test_importing_a_classmates_request_shows_whose_and_refusing_it_shows_refused(
    make_app, server, tmp_path, monkeypatch
):
    page = make_app()
    page.set_up_in(server.url, server.invite(), "Chidi Carrier", PASSPHRASE)
    path, _other = _classmates_request(server, tmp_path, page)
    header = bundle.read_header(path.read_bytes())
    answer_dialogs(monkeypatch, open=str(path))
    panel = carry_panel(page)
    page._press(panel.import_button)
    wait_idle(page, panel)
    assert panel.error.isHidden(), panel.error.text()
    assert not panel.offer_box.isHidden(), "whose file it is, and Carry or Refuse"
    offer = plain(panel.offer_text.text())
    assert header.fingerprint() in offer
    assert "Baraka Otieno" in offer, offer
    assert f"{header.records} item" in offer
    assert panel.carry_button.hasFocus()
    rows = [[plain(cell) for cell in row] for row in panel.rows()]
    assert len(rows) == 1 and rows[0][1] == header.fingerprint() and rows[0][4] == "Waiting for internet"
    page._press(panel.refuse_offer_button)
    wait_idle(page, panel)
    assert panel.offer_box.isHidden()
    rows = [[plain(cell) for cell in row] for row in panel.rows()]
    assert rows[0][4] == "Refused"
    assert "You refused the file from" in plain(panel.carry_status.text())
    assert [c.state for c in page.app.session.carry.items()] == ["refused"]
    # brought again, it is refused with the carrier's own words, and the list does not grow
    page._press(panel.import_button)
    wait_idle(page, panel)
    assert not panel.error.isHidden() and panel.error.text()
    assert len(panel.rows()) == 1


def test_carry_it_keeps_the_file_in_the_list_and_refuse_from_the_list_by_keyboard(
    make_app, server, tmp_path, monkeypatch
):
    page = KeyboardPage(*(lambda p: (p.qtbot, p.app))(make_app()))
    page.set_up_in(server.url, server.invite(), "Chidi Keys", PASSPHRASE)
    path, _other = _classmates_request(server, tmp_path, page)
    answer_dialogs(monkeypatch, open=str(path))
    page.open_view("settings")
    panel = page.screen.settings.carry
    page._press(panel.import_button)
    wait_idle(page, panel)
    page.qtbot.keyClick(panel.carry_button, Qt.Key.Key_Space)  # focus is on "Carry it" already
    assert panel.offer_box.isHidden() and "You carry the file from" in plain(panel.carry_status.text())
    assert [c.state for c in page.app.session.carry.items()] == ["waiting"]
    assert not panel.save_answers_button.isEnabled(), "no answer to save yet"
    page.choose_row(panel.table, 0)
    assert panel.refuse_button.isEnabled()
    page._press(panel.refuse_button)
    wait_idle(page, panel)
    assert plain(panel.rows()[0][4]) == "Refused" and not panel.refuse_button.isEnabled()


def test_a_damaged_file_shows_the_translated_sentence_and_changes_nothing(make_app, server, tmp_path, monkeypatch):
    page = make_app()
    page.set_up_in(server.url, server.invite(), "Chidi Careful", PASSPHRASE)
    path, _other = _classmates_request(server, tmp_path, page)
    damaged = tmp_path / "damaged.oslersync"
    data = path.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])  # a stick pulled out mid-copy
    not_one = tmp_path / "holiday.jpg"
    not_one.write_bytes(b"\xff\xd8\xff\xe0 a photo, not a bundle")
    session = page.app.session
    queued_before = session.queued_now()
    panel = carry_panel(page)
    for file, sentence in (
        (damaged, "This bundle is damaged or was cut short. Ask for it to be copied again."),
        (not_one, "This file is not an Osler sync bundle."),
    ):
        answer_dialogs(monkeypatch, open=str(file))
        page._press(panel.import_button)
        wait_idle(page, panel)
        assert panel.error.text() == sentence and not panel.error.isHidden()
        assert panel.offer_box.isHidden() and panel.rows() == [] and session.carry.items() == []
        assert session.queued_now() == queued_before
    # in French, the same sentence in French
    page.app._language_changed("fr")
    panel = carry_panel(page)
    answer_dialogs(monkeypatch, open=str(not_one))
    page._press(panel.import_button)
    wait_idle(page, panel)
    assert panel.error.text() and panel.error.text() != "This file is not an Osler sync bundle."
    assert panel.export_button.text() != "&Export for someone to carry…"


def test_every_control_has_a_name_and_the_relay_switch_is_off_by_default(make_app, server) -> None:
    page = make_app()
    page.set_up_in(server.url, server.invite(), "Amina Names", PASSPHRASE)
    panel = carry_panel(page)
    lan = panel.lan
    assert not lan.switch.isChecked() and not page.app.session.settings.lan_relay
    assert getattr(page.app.session, "lan_relay", None) is None, "nothing served or announced until turned on"
    assert lan.switch.accessibleDescription(), "the switch is explained"
    for control in (
        panel.budget,
        panel.export_button,
        panel.import_button,
        panel.carry_button,
        panel.refuse_offer_button,
        panel.table,
        panel.refuse_button,
        panel.save_answers_button,
        lan.switch,
        lan.list,
        lan.hand_button,
        lan.address,
    ):
        assert control.accessibleName(), type(control).__name__
    assert [panel.budget.itemData(i) for i in range(panel.budget.count())] == [1 << 20, 8 << 20, 25 << 20, 64 << 20]
    # a clinic's relay address is kept and listed to hand the outbox to
    page._type(lan.address, "http://clinic-pc:8080")
    page.qtbot.keyClick(lan.address, Qt.Key.Key_Return)
    assert page.app.session.settings.relay_address == "http://clinic-pc:8080"
    assert lan.list.count() == 1 and "clinic-pc" in plain(lan.list.item(0).text())


def test_an_answer_carried_back_is_imported_and_says_what_came_and_what_went(make_app, server, tmp_path, monkeypatch):
    page = make_app()
    page.set_up_in(server.url, server.invite(), "Amina Far", PASSPHRASE)
    student = page.app.session
    student.scheduler.stop(timeout=5.0)  # from here this computer reaches no server: the stick is its only way
    assert student.bundles.ready(), "the first online sync brought the programme's bundle key"
    student.publish_profile("Amina Wanjiru Far")  # waits in the outbox
    assert student.queued_now() >= 1
    stick = tmp_path / "stick"
    stick.mkdir()
    answer_dialogs(monkeypatch, folder=str(stick))
    panel = carry_panel(page)
    page._press(panel.export_button)
    wait_idle(page, panel)
    (request,) = stick.glob(f"*{bundle.SUFFIX}")

    # a classmate in town: takes the file, syncs, saves the answer on the same stick
    carrier, _key = person(tmp_path / "carrier", server, "Baraka Town")
    settle(carrier)
    assert carrier.bundles.fetch_server_keys() or carrier.bundles.ready()
    carrier.carry.take(request.read_bytes())
    assert carrier.carry.relay() == 1
    (answer,) = carrier.carry.export_answers(stick)

    answer_dialogs(monkeypatch, open=str(answer))
    page._press(panel.import_button)
    wait_idle(page, panel)
    said = plain(panel.result.text())
    assert panel.error.isHidden(), panel.error.text()
    assert said.startswith("Imported:") and "received" in said and "1 sent" in said, said
    assert student.queued_now() == 0, "what waited was sent through the stick"
    # the same answer imported again changes nothing and says so
    page._press(panel.import_button)
    wait_idle(page, panel)
    assert plain(panel.result.text()) == "This answer was already imported: nothing new."


def test_the_relay_switch_finds_a_classmate_and_hands_the_outbox_to_them(make_app, server, tmp_path):
    from sync.server.embedded import free_port
    from tests.lan_people import LOOPBACK, fingerprint_of

    page = KeyboardPage(*(lambda p: (p.qtbot, p.app))(make_app()))
    page.set_up_in(server.url, server.invite(), "Amina Wifi", PASSPHRASE)
    student = page.app.session
    student.lan_where = LOOPBACK  # the campus Wi-Fi of the test: HTTP and mDNS on loopback
    carrier, _key = person(tmp_path / "carrier", server, "Chidi Online")
    settle(carrier)
    assert carrier.bundles.fetch_server_keys() or carrier.bundles.ready()
    carrier.lan_where = LOOPBACK
    carrier.set_lan_relay(True)
    try:
        student.transport.base_url = f"http://127.0.0.1:{free_port()}"  # the student's link is cut
        student.publish_profile("Amina Wanjiru Wifi")  # waits in the outbox
        page.open_view("settings")
        lan = page.screen.settings.carry.lan
        page._press(lan.switch)  # Space on the switch: on, saved, the relay started off the GUI thread
        page.qtbot.waitUntil(lambda: student.lan_relay is not None and not lan._tasks, timeout=WAIT)
        assert student.settings.lan_relay
        fingerprint = fingerprint_of(carrier)
        page.qtbot.waitUntil(
            lambda: any(fingerprint in plain(lan.list.item(r).text()) for r in range(lan.list.count())), timeout=WAIT
        )
        row = next(r for r in range(lan.list.count()) if fingerprint in plain(lan.list.item(r).text()))
        page.choose_row(lan.list, row)
        page._press(lan.hand_button)
        page.qtbot.waitUntil(lambda: not lan._tasks, timeout=WAIT)
        said = plain(lan.status.text())
        assert said.startswith("Imported:") and "1 sent" in said, said
        assert student.queued_now() == 0
        # off again: nothing served or announced
        page._press(lan.switch)
        page.qtbot.waitUntil(lambda: not lan._tasks, timeout=WAIT)
        assert not student.lan_relay.running and not student.settings.lan_relay
    finally:
        carrier.stop()


def test_a_carrier_online_relays_then_saves_the_answer_to_hand_back(make_app, server, tmp_path, monkeypatch):
    page = make_app()
    page.set_up_in(server.url, server.invite(), "Chidi Town", PASSPHRASE)
    student, _key = person(tmp_path / "amina", server, "Amina Village")
    settle(student)
    assert student.bundles.fetch_server_keys() or student.bundles.ready()
    student.publish_profile("Amina Wanjiru Village")  # waits in her outbox
    exported = student.bundles.export_request(tmp_path / "amina")
    answer_dialogs(monkeypatch, open=str(exported.path))
    panel = carry_panel(page)
    page._press(panel.import_button)
    wait_idle(page, panel)
    page._press(panel.carry_button)
    page.sync_now()  # online: after its own sync, the carrier's Osler relays what it carries

    def answered() -> bool:
        panel.refresh()
        return [plain(row[4]) for row in panel.rows()] == ["Answer ready to hand back"]

    page.qtbot.waitUntil(answered, timeout=WAIT)
    assert panel.save_answers_button.isEnabled()
    back = tmp_path / "back"
    back.mkdir()
    answer_dialogs(monkeypatch, folder=str(back))
    page._press(panel.save_answers_button)
    wait_idle(page, panel)
    (answer,) = back.glob(f"*{bundle.SUFFIX}")
    assert bundle.read_header(answer.read_bytes()).kind == "answer"
    assert "Saved 1 answer in" in plain(panel.carry_status.text())
    assert [plain(row[4]) for row in panel.rows()] == ["Handed back"]
    applied = student.bundles.import_file(answer)  # back on the student's computer: what waited was sent
    assert applied.accepted == 1 and student.queued_now() == 0


def test_an_answer_cut_to_its_size_says_more_is_waiting(qapp) -> None:
    from desktop.domain.bundles import Applied
    from desktop.ui.views.carry_text import applied_sentence

    whole = applied_sentence(Applied(records_in=12, accepted=3, refused=0, blobs=0, nothing_new=False))
    assert whole == "Imported: 12 items received, 3 sent."
    cut = applied_sentence(Applied(records_in=12, accepted=3, refused=0, blobs=0, nothing_new=False, more=True))
    assert cut.startswith(whole) and "More is waiting for you" in cut
