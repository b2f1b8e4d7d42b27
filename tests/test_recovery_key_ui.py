"""Settings → Recovery key and Home's reminder, as a person meets them, with a real server on loopback: checking a
typed key, making a new key (shown, saved, printed, two groups typed back, then in place: the old key neither
opens this vault nor restores the account), offline (nothing changed), and the reminder shown once."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter

from desktop.ui import file_dialogs
from desktop.ui.views import recovery_key_file as recovery_ui
from desktop.vault import recovery as vault_recovery
from sync.client.errors import RecoveryUnknown
from sync.client.transport import Transport
from sync.clock import SYSTEM, ManualClock
from sync.envelope import BoxKey, DeviceKey, RecoveryKeys
from tests.faultproxy import FaultProxy
from tests.pages import AppPage

PASSPHRASE = "violet harbour lantern"
WAIT = 30_000
DAY = 24 * 3600


def _set_up(page: AppPage, url: str, invite: str, synced: bool = True) -> str:
    """The first run into a real programme; returns the recovery key the person wrote down."""
    page.first_run_to_program(PASSPHRASE)
    page._press(page.screen.join_choice)
    key = page.recovery_key()
    page.join(url, invite)
    page.finish_profile("Amina Laptop")
    if synced:  # (an app on a clock that stands still does not get there: its scheduler waits on that clock)
        page.wait_synced()
    return key


def _restores(url: str, text: str) -> bool:
    keys = RecoveryKeys(vault_recovery.parse_key(text))
    try:
        Transport(url).recover(keys, DeviceKey.generate(), BoxKey.generate().public_bytes(), "new laptop")
    except RecoveryUnknown:
        return False
    return True


def _panel(page: AppPage):
    page.open_view("settings")
    return page.screen.settings.recovery_key


def _new_key_dialog(page: AppPage):
    panel = _panel(page)
    page._press(panel.new_button)
    return panel.dialog


def _type_groups(page: AppPage, dialog, text: str, right: bool = True) -> None:
    groups = text.split("-")
    first, second = dialog.positions
    page._type(dialog.group_first, groups[first].lower())
    page._type(dialog.group_second, groups[second] if right else "0000")
    page.qtbot.keyClick(dialog.group_second, Qt.Key.Key_Return)


def test_checking_the_key_says_right_wrong_or_mistyped_and_remembers_when(make_app, server, tmp_path: Path):
    page = make_app()
    key = _set_up(page, server.url, server.invite())
    panel = _panel(page)
    assert "not checked" in panel.checked.text()
    page._press(panel.check_button)
    dialog = panel.dialog
    assert dialog.isVisible()
    page.qtbot.waitUntil(dialog.key.hasFocus, timeout=WAIT)

    page._type(dialog.key, vault_recovery.new_key().text)  # well formed, someone else's
    page.qtbot.keyClick(dialog.key, Qt.Key.Key_Return)
    assert "not your current recovery key" in dialog.result.text()
    page._type(dialog.key, key[:-1] + ("0" if key[-1] != "0" else "1"))
    page.qtbot.keyClick(dialog.key, Qt.Key.Key_Return)
    assert "typing mistake" in dialog.result.text()
    assert page.app.session.recovery_checked_ms() is None

    assert not dialog.save_button.isVisible()  # only a key checked right may be saved again
    page._type(dialog.key, key.replace("-", " ").lower())
    page.qtbot.keyClick(dialog.key, Qt.Key.Key_Return)
    assert dialog.result.text() == "That is your recovery key. Keep it safe."
    saved = tmp_path / "again.txt"
    file_dialogs.answer = lambda kind, suggested: str(saved)
    try:
        page._press(dialog.save_button)  # "print or save it again"
    finally:
        file_dialogs.answer = None
    assert key in saved.read_text(encoding="utf-8")  # as written down: groups, upper case, dashes
    page._press(dialog.close_button)
    assert "last checked" in panel.checked.text()
    assert page.app.session.recovery_checked_ms() is not None


def test_a_new_key_is_shown_saved_printed_confirmed_then_replaces_the_old_one(make_app, server, tmp_path: Path):
    page = make_app()
    old = _set_up(page, server.url, server.invite())
    dialog = _new_key_dialog(page)
    new = dialog.made.text
    assert new != old
    shown = dialog.key_label.text()
    assert all(group in shown for group in new.split("-"))

    saved = tmp_path / "my-key.txt"
    file_dialogs.answer = lambda kind, suggested: str(saved)
    pdf = tmp_path / "my-key.pdf"

    def printer(_parent):  # the print dialog, answered with a PDF printer
        made = QPrinter()
        made.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        made.setOutputFileName(str(pdf))
        return made

    recovery_ui.print_answer = printer
    try:
        page._press(dialog.save_button)
        page._press(dialog.print_button)
    finally:
        file_dialogs.answer = None
        recovery_ui.print_answer = None
    assert new in saved.read_text(encoding="utf-8")
    assert pdf.stat().st_size > 0

    assert not dialog.continue_button.isEnabled()  # not before the person says it is written down
    page.qtbot.keyClick(dialog.written, Qt.Key.Key_Space)
    page._press(dialog.continue_button)
    assert dialog.pages.currentIndex() == 1
    page.qtbot.waitUntil(dialog.group_first.hasFocus, timeout=WAIT)

    _type_groups(page, dialog, new, right=False)
    assert "do not match" in dialog.status.text()
    session = page.app.session
    assert session.check_recovery_key(old) and _restores(server.url, old)  # nothing changed yet

    _type_groups(page, dialog, new)
    page.qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=WAIT)
    assert dialog.made is None  # not kept once in place
    assert not session.check_recovery_key(old) and session.check_recovery_key(new)
    assert not _restores(server.url, old) and _restores(server.url, new)
    page._press(dialog.done_button)
    assert not dialog.isVisible()


def test_offline_a_new_key_says_so_and_the_old_key_keeps_working(make_app, server):
    with FaultProxy("127.0.0.1", server.port) as proxy:
        page = make_app()
        old = _set_up(page, proxy.url, server.invite())
        dialog = _new_key_dialog(page)
        new = dialog.made.text
        proxy.stop()  # the link is gone: every connection closed, none accepted
        page.qtbot.keyClick(dialog.written, Qt.Key.Key_Space)
        page._press(dialog.continue_button)
        _type_groups(page, dialog, new)
        page.qtbot.waitUntil(lambda: dialog.confirm_button.isEnabled(), timeout=WAIT)
        assert dialog.pages.currentIndex() == 1
        assert "could not reach your programme's server" in dialog.status.text()
        assert "still works" in dialog.status.text()
        assert dialog.confirm_button.accessibleName() == "Try again"
        session = page.app.session
        assert session.check_recovery_key(old) and not session.check_recovery_key(new)
        assert _restores(server.url, old) and not _restores(server.url, new)
        page._press(dialog.cancel_confirm)
        assert not dialog.isVisible()


def test_home_reminds_once_thirty_days_on_and_never_again_once_dismissed(make_app, server):
    clock = ManualClock(SYSTEM.time())  # the server checks signatures' times: start at now, then move
    page = make_app(clock=clock)
    _set_up(page, server.url, server.invite(), synced=False)
    home = page.screen.home
    reminder = home.recovery_reminder
    home.refresh()
    assert not reminder.isVisibleTo(home)
    clock.advance(30 * DAY)
    home.refresh()
    assert reminder.isVisibleTo(home)
    assert reminder.dismiss_button.accessibleName() == "Don't remind me again"
    page._press(reminder.dismiss_button)
    assert not reminder.isVisibleTo(home)
    clock.advance(200 * DAY)
    home.refresh()
    assert not reminder.isVisibleTo(home)


def test_checking_the_key_from_the_reminder_ends_it(make_app, server):
    clock = ManualClock(SYSTEM.time())  # the server checks signatures' times: start at now, then move
    page = make_app(clock=clock)
    key = _set_up(page, server.url, server.invite(), synced=False)
    home = page.screen.home
    clock.advance(31 * DAY)
    home.refresh()
    reminder = home.recovery_reminder
    assert reminder.isVisibleTo(home)
    page._press(reminder.check_button)
    page._type(reminder.dialog.key, key)
    page.qtbot.keyClick(reminder.dialog.key, Qt.Key.Key_Return)
    page._press(reminder.dialog.close_button)
    assert not reminder.isVisibleTo(home)
    clock.advance(100 * DAY)
    home.refresh()
    assert not reminder.isVisibleTo(home)
