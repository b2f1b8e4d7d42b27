"""Issue 15 through the screens, as a person meets it: Settings → Devices (the list, the account's safety number,
"Add a device…", "Revoke…"), linking a second computer with the code its first one shows, restoring the account
on a new computer with the recovery key, and every way linking or restoring can fail. Real servers on loopback,
real vaults, real widgets offscreen."""

from __future__ import annotations

from desktop.domain.devices import LinkProblem, RecoveryProblem
from desktop.domain.onboarding import Step

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
