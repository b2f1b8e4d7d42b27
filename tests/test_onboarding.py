"""The first-run state machine and the settings file, without a screen."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from desktop.domain.onboarding import Onboarding, Step, check_passphrase
from desktop.domain.settings import Settings, SettingsStore

KEY = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH-JJJJ"


def _to_program(flow: Onboarding) -> None:
    flow.choose_language("en")
    assert flow.submit_passphrase("violet harbour lantern", "violet harbour lantern").acceptable
    flow.vault_created(KEY)
    assert flow.step is Step.PROGRAM, "the choice comes before the key: a linked device never sees a new key"


def _confirm_key(flow: Onboarding) -> None:
    assert flow.step is Step.RECOVERY and flow.recovery_key == KEY
    flow.recovery_written()
    groups = KEY.split("-")
    a, b = flow.confirm_indices
    assert flow.confirm_recovery(groups[a].lower(), groups[b])


def test_the_whole_join_path():
    flow = Onboarding(["en", "fr"], rng=random.Random(1))
    _to_program(flow)
    flow.choose_join()
    _confirm_key(flow)
    assert flow.step is Step.JOIN and flow.recovery_key is None, "the key is not kept once confirmed"
    assert not flow.submit_join("http://mentors.example.org", "ABCD-EFGH-JKLM")
    assert "plain http" in flow.error
    assert not flow.submit_join("mentors.example.org", "nope")
    assert "invite code" in flow.error
    assert flow.submit_join("mentors.example.org", "ABCD-EFGH-JKLM")
    assert flow.step is Step.JOINING and flow.server_url == "https://mentors.example.org"
    flow.failed("the server said no")
    assert flow.step is Step.JOIN and flow.error == "the server said no"
    assert flow.submit_join("https://mentors.example.org", "abcdefghjklm")
    flow.joined("mentor")
    assert flow.step is Step.PROFILE and not flow.can_go_back()
    assert not flow.submit_profile("   ")
    assert flow.submit_profile("Dr Ada Obi") and flow.step is Step.FINISHED


def test_the_demo_path_and_going_back():
    flow = Onboarding(["en"])
    with pytest.raises(ValueError):
        flow.choose_language("xx")
    flow.choose_language("en")
    assert flow.can_go_back()
    assert flow.back() is Step.LANGUAGE
    _to_program(flow)
    flow.choose_demo()
    _confirm_key(flow)
    assert flow.step is Step.DEMO
    flow.demo_started()
    assert flow.step is Step.FINISHED and flow.demo


def test_weak_or_mismatched_passphrases_stay_on_the_step():
    flow = Onboarding(["en"])
    flow.choose_language("en")
    for passphrase, repeat in [("short", "short"), ("password1", "password1"), ("violet harbour lantern", "violet")]:
        check = flow.submit_passphrase(passphrase, repeat)
        assert not check.acceptable and flow.step is Step.PASSPHRASE and flow.error
    assert check_passphrase("password").label == "Very weak"
    assert check_passphrase("correct horse battery staple").score == 4


def test_a_failed_vault_creation_returns_to_the_passphrase():
    flow = Onboarding(["en"])
    flow.choose_language("en")
    flow.submit_passphrase("violet harbour lantern", "violet harbour lantern")
    assert flow.step is Step.CREATING
    flow.failed("disk full")
    assert flow.step is Step.PASSPHRASE and flow.error == "disk full"


def test_wrong_recovery_groups_are_refused():
    flow = Onboarding(["en"], rng=random.Random(3))
    flow.choose_language("en")
    flow.submit_passphrase("violet harbour lantern", "violet harbour lantern")
    flow.vault_created(KEY)
    flow.choose_join()
    flow.recovery_written()
    assert not flow.confirm_recovery("ZZZZ", "ZZZZ") and flow.step is Step.CONFIRM_RECOVERY
    assert flow.back() is Step.RECOVERY and flow.recovery_key == KEY
    assert flow.back() is Step.PROGRAM and flow.recovery_key == KEY, "another choice is still possible"


def test_the_restore_path_shows_no_new_key_and_keeps_what_was_typed():
    flow = Onboarding(["en"])
    _to_program(flow)
    assert flow.choose_restore() is Step.RESTORE
    assert flow.back() is Step.PROGRAM
    flow.choose_restore()
    assert not flow.submit_restore("mentors.example.org", "ABCD") and "whole recovery key" in flow.error
    assert not flow.submit_restore("", KEY) and "server address" in flow.error
    assert flow.submit_restore("mentors.example.org", KEY) and flow.step is Step.RESTORING
    flow.failed("That recovery key is not one this server knows.")
    assert flow.step is Step.RESTORE and (flow.typed_address, flow.typed_key) == ("mentors.example.org", KEY)
    assert flow.submit_restore("mentors.example.org", KEY)
    flow.linked("student")
    assert flow.step is Step.FINISHED and flow.recovery_key is None and flow.typed_key == ""


def test_steps_out_of_order_are_refused():
    flow = Onboarding(["en"])
    with pytest.raises(RuntimeError):
        flow.choose_demo()


def test_settings_survive_damage_and_count_data(tmp_path):
    store = SettingsStore(tmp_path / "settings.json")
    assert store.load() == Settings()
    november = datetime(2026, 11, 20, tzinfo=UTC)
    store.save(Settings(locale="fr", auto_lock_minutes=5).with_usage(1500, november).with_usage(500, november))
    loaded = store.load()
    assert loaded.locale == "fr" and loaded.auto_lock_minutes == 5 and loaded.bytes_this_month(november) == 2000
    assert loaded.bytes_this_month(datetime(2026, 12, 1, tzinfo=UTC)) == 0
    assert loaded.may_download(99_000_000, november) and not loaded.may_download(100_000_000, november)
    (tmp_path / "settings.json").write_text('{"locale": 7, "auto_lock_minutes": 13, "data_saver": "yes"')
    assert store.load() == Settings()
    (tmp_path / "settings.json").write_text('{"locale": 7, "auto_lock_minutes": 13, "data_saver": false}')
    assert store.load() == Settings(data_saver=False)
