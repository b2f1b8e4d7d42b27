"""Issue 15 through the screens, as a person meets it: Settings → Devices (the list, the account's safety number,
"Add a device…", "Revoke…"), linking a second computer with the code its first one shows, restoring the account
on a new computer with the recovery key, and every way linking or restoring can fail. Real servers on loopback,
real vaults, real widgets offscreen."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.domain.devices import LinkProblem, RecoveryProblem
from desktop.domain.onboarding import Step
from sync.clock import SYSTEM, ManualClock
from tests.clients import card_holder, synced
from tests.pages import plain

PASSPHRASE = "violet harbour lantern"
WAIT = 30_000


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_this_device_is_listed_with_its_fingerprint_and_cannot_be_revoked_from_itself(make_app, server):
    page = make_app()
    page.set_up_in(server.url, server.invite(), "Amina Laptop", PASSPHRASE)
    session = page.app.session
    rows = page.show_devices()
    assert len(rows) == 1
    name, fingerprint, added, last_sync = rows[0]
    assert "(this device)" in name
    assert fingerprint == session.this_device_fingerprint() and fingerprint
    assert added and last_sync
    assert page.safety_number() == session.account_fingerprint()
    panel = page.devices_panel
    panel.select(0)
    assert not panel.revoke_button.isEnabled(), "revoking the computer in use would lock the person out"
    panel.revoke()  # even called directly: no confirmation, nothing sent, a sentence saying why
    assert panel.confirm is None
    assert "revoke it from another device" in panel.status.text()
    page.sync_now()
    page.wait_synced()
    assert page.app.window.sync_bar.state.text() == "Online"


def test_a_link_code_that_is_not_one_says_so_and_keeps_what_was_typed(make_app, server):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page.link_to_account(server.url, "K7Q4-M2XP-9A3F")  # a group short
    assert page.on_onboarding(Step.LINK)
    assert page.error() == str(LinkProblem("wrong-code"))
    assert page.screen.server_url.text() == server.url and page.screen.link_code.text() == "K7Q4-M2XP-9A3F"


def test_a_link_to_a_server_that_is_not_running_says_so(make_app, tmp_path):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    address = f"127.0.0.1:{free_port()}"
    page.link_to_account(address, "K7Q4-M2XP-9A3F-RTWZ")
    assert page.on_onboarding(Step.LINK)
    assert page.error() == str(LinkProblem("offline"))
    assert page.screen.server_url.text() == address and page.screen.link_code.text() == "K7Q4-M2XP-9A3F-RTWZ"


def test_a_recovery_key_with_a_typing_mistake_says_so_and_keeps_what_was_typed(make_app, server):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page._press(page.screen.demo_choice)
    key = page.recovery_key()  # a well-formed key; one character changed makes its checksum fail
    typo = key[:-1] + ("0" if key[-1] != "0" else "1")
    page._press(page.screen.back_button)
    page.restore_account(server.url, typo)
    assert page.on_onboarding(Step.RESTORE)
    assert page.error() == str(RecoveryProblem("wrong-key"))
    assert page.screen.restore_key.text() == typo and page.screen.server_url.text() == server.url


def test_a_restore_from_a_server_that_is_not_running_says_so(make_app):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page._press(page.screen.join_choice)
    key = page.recovery_key()
    page._press(page.screen.back_button)
    page.restore_account(f"127.0.0.1:{free_port()}", key)
    assert page.on_onboarding(Step.RESTORE)
    assert page.error() == str(RecoveryProblem("offline"))


# -- linking, restoring, revoking end to end -----------------------------------------------------------------


def _person_with_a_conversation(make_app, server, tmp_path):  # type: ignore[no-untyped-def]
    """Amina on her first computer (her recovery key noted), and a mentor who wrote to her."""
    mentor = card_holder(tmp_path / "mentor", server, "Dr Link Okafor", role="mentor")
    one = make_app(tmp_path / "one")
    one.first_run_to_program(PASSPHRASE)
    one._press(one.screen.join_choice)
    key = one.recovery_key()
    one.join(server.url, server.invite())
    one.finish_profile("Amina Two-Laptops")
    one.wait_synced()
    synced(mentor)  # the mentor takes in Amina's card and keys
    chat = mentor.messaging()
    chat.send(chat.start_direct(one.app.session.program.credentials.account.hex()), "Welcome to the ward, Amina")
    synced(mentor)
    assert "Welcome to the ward, Amina" in _conversation_texts(one), "read on the first computer"
    _sync_once_more(one)  # what reading it queued (the key in the account's keyring) goes to the server
    return mentor, one, key


def _sync_once_more(page) -> None:  # type: ignore[no-untyped-def]
    """Sync now and wait until a sync that started after this call has finished (not the one already shown)."""
    bar = page.app.window.sync_bar

    def count() -> int:
        progress = bar.status.progress if bar.status is not None else None
        return progress.sync if progress is not None and progress.phase == "done" else -1

    before = count()
    page.sync_now()
    page.qtbot.waitUntil(lambda: count() > before and not bar.status.syncing, timeout=WAIT)
    page.wait_synced()


def _conversation_texts(page, *others) -> list[str]:  # type: ignore[no-untyped-def]
    """Sync (``others`` first: the person's other computers, as they stay open) until the messages view lists a
    conversation; the texts of its first one."""
    page.open_view("messages")
    view = page.screen.messages
    for _ in range(4):
        for other in (*others, page):
            _sync_once_more(other)
        view.refresh()
        if view.thread_model.rowCount():
            break
    assert view.thread_model.rowCount(), "no conversation came"
    view.open_thread(view.thread_model.index(0).data(Qt.ItemDataRole.UserRole).id)  # as a click on the first row
    return [message.body for message in view.conversation_model.messages]


def _link_second_computer(make_app, server, tmp_path):  # type: ignore[no-untyped-def]
    mentor, one, key = _person_with_a_conversation(make_app, server, tmp_path)
    dialog = one.open_add_device()
    code = one.link_code_shown()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code), code
    assert not dialog.qr.pixmap().isNull() and "Waiting for your other device" in dialog.status.text()
    two = make_app(tmp_path / "two")
    two.first_run_to_program(PASSPHRASE)
    shown_while_waiting: list[str] = []
    two.screen.waiting.connect(lambda news: shown_while_waiting.append(news[1]))
    two.link_to_account(server.url, code)
    assert two.on_main(), two.error()
    one.qtbot.waitUntil(lambda: "Linked" in dialog.status.text(), timeout=WAIT)
    one.qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # read, and closed: it is window-modal, so F5 waits behind it
    assert not dialog.isVisible()
    return mentor, one, two, dialog, code, shown_while_waiting, key


def test_a_second_computer_links_with_the_code_both_show_one_fingerprint_and_the_history_comes(
    make_app, server, tmp_path
):
    _mentor, one, two, dialog, code, shown_while_waiting, _key = _link_second_computer(make_app, server, tmp_path)
    fingerprint = two.app.session.this_device_fingerprint()
    assert shown_while_waiting and set(shown_while_waiting) == {fingerprint}, "device 2 showed its fingerprint"
    assert fingerprint in plain(dialog.status.text()), "device 1 shows the same fingerprint once linked"
    assert any("Welcome to the ward, Amina" in text for text in _conversation_texts(two, one))
    assert two.app.session.program.credentials.account == one.app.session.program.credentials.account
    rows = two.show_devices()
    assert len(rows) == 2 and [r[1] for r in rows if "(this device)" in r[0]] == [fingerprint]
    assert two.safety_number() == one.app.session.account_fingerprint()

    third = make_app(tmp_path / "three")  # the same code again: spent
    third.first_run_to_program(PASSPHRASE)
    third.link_to_account(server.url, code)
    assert third.on_onboarding(Step.LINK) and third.error() == str(LinkProblem("used"))


def test_revoking_the_other_computer_names_it_and_it_stops_syncing(make_app, server, tmp_path):
    _mentor, one, two, dialog, _code, _seen, _key = _link_second_computer(make_app, server, tmp_path)
    dialog.close()
    rows = one.show_devices()
    assert len(rows) == 2
    name = one.select_other_device()
    panel = one.devices_panel
    assert panel.revoke_button.isEnabled()
    one.press_revoke()
    box = panel.confirm
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert name in box.text() and name in box.informativeText()
    assert "read nothing sent from now on" in box.informativeText() and "new keys" in box.informativeText()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    one._press(next(b for b in box.buttons() if name in b.text()))
    one.qtbot.waitUntil(lambda: "was revoked" in panel.status.text(), timeout=WAIT)
    assert [r for r in one.show_devices() if "(revoked)" in r[0]], "the list says which device was revoked"
    bar = two.app.window.sync_bar
    two.sync_now()
    two.qtbot.waitUntil(lambda: "removed from your programme" in bar.error.text(), timeout=WAIT)


def test_a_new_computer_restores_the_account_with_the_recovery_key(make_app, server, tmp_path):
    _mentor, one, key = _person_with_a_conversation(make_app, server, tmp_path)
    account = one.app.session.program.credentials.account
    one.app.shutdown()  # the laptop is lost
    new = make_app(tmp_path / "new")
    new.first_run_to_program(PASSPHRASE)
    new.restore_account(server.url, key)
    assert new.on_main(), new.error()
    assert new.app.session.program.credentials.account == account
    assert any("Welcome to the ward, Amina" in text for text in _conversation_texts(new))


def test_unknown_link_codes_and_recovery_keys_say_so(make_app, server, tmp_path):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page.link_to_account(server.url, "K7Q4-M2XP-9A3F-RTWZ")  # well formed, but this server made no such slot
    assert page.error() == str(LinkProblem("unknown"))
    page._press(page.screen.back_button)
    page._press(page.screen.join_choice)
    key = page.recovery_key()  # this vault's own key: no account on the server has it
    page._press(page.screen.back_button)
    page.restore_account(server.url, key)
    assert page.on_onboarding(Step.RESTORE) and page.error() == str(RecoveryProblem("unknown"))


def test_an_expired_code_offers_a_new_one(make_app, server, tmp_path):
    start = SYSTEM.time()
    clock = ManualClock(start)  # the app's clock, moved past the code's 10 minutes
    page = make_app(tmp_path / "one", clock=clock)
    page.first_run_to_program(PASSPHRASE)
    page.join(server.url, server.invite())
    page.finish_profile("Amina Laptop")  # the clock stands still: no waiting for the scheduler's syncs
    dialog = page.open_add_device()
    first = page.link_code_shown()
    clock.advance(900)  # past the server's 10 minutes, whatever the seconds the set-up took on the server's clock
    page.qtbot.waitUntil(lambda: dialog.new_code.isVisible(), timeout=WAIT)
    assert "expired" in dialog.error.text() and not dialog.code.text()
    clock.set(start)
    page._press(dialog.new_code)
    page.qtbot.waitUntil(lambda: bool(dialog.code.text()), timeout=WAIT)
    assert page.link_code_shown() != first and not dialog.error.isVisible()


def test_a_code_typed_after_it_expired_says_so_on_both_computers(make_app, tmp_path):
    """The server's clock moves past the code's 10 minutes: device 2 is told to make a new code, and device 1's
    dialog offers one."""
    from tests.servers import ThreadServer

    server_clock = ManualClock(SYSTEM.time())
    with ThreadServer(tmp_path / "server", clock=server_clock) as server:
        one = make_app(tmp_path / "one")
        one.first_run_to_program(PASSPHRASE)
        one.join(server.url, server.invite())
        one.finish_profile("Amina Laptop")
        dialog = one.open_add_device()
        code = one.link_code_shown()
        server_clock.advance(601)
        two = make_app(tmp_path / "two")
        two.first_run_to_program(PASSPHRASE)
        two.link_to_account(server.url, code)
        assert two.on_onboarding(Step.LINK) and two.error() == str(LinkProblem("expired"))
        one.qtbot.waitUntil(lambda: dialog.new_code.isVisible(), timeout=WAIT)
        assert "expired" in dialog.error.text() or dialog.error.text() == str(LinkProblem("expired"))
        for page in (one, two):
            page.app.shutdown()


def test_a_request_made_with_a_mistyped_code_is_not_approved_and_the_dialog_says_why(make_app, server, tmp_path):
    """Someone (or a typing mistake) sends a request to the right slot that the code's secret does not open:
    device 1 approves nothing, says so and offers a new code."""
    from sync.client.accounts_api import AccountsCalls
    from sync.client.transport import Transport

    one = make_app(tmp_path / "one")
    one.set_up_in(server.url, server.invite(), "Amina Laptop", PASSPHRASE)
    dialog = one.open_add_device()
    slot = one.link_code_shown().replace("-", "")[:6]
    transport = Transport(server.url)
    assert isinstance(transport, AccountsCalls)
    transport.post_link_request(slot, b"\x01" * 120)  # not sealed with this code
    one.qtbot.waitUntil(lambda: dialog.new_code.isVisible(), timeout=WAIT)
    assert "does not match" in dialog.error.text() and "Linked" not in dialog.status.text()
    assert len(one.show_devices()) == 1, "nothing was added"
    transport.close()
