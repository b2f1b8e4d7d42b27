"""Several people on one computer (issue 15 part 4): one folder per profile, a picker of names, removal that
deletes one profile whole and nothing else, and no data of one profile anywhere another can read it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QAbstractButton

from desktop.domain.profiles import LEGACY_ID, Profiles
from desktop.vault import KdfParams, Vault

ROOT = Path(__file__).resolve().parent.parent
PASS_A = "amber falcon orchard seven"
PASS_B = "cobalt meadow lantern nine"


def _vault(folder: Path, passphrase: str) -> None:
    vault, _key = Vault.create(folder, passphrase, params=KdfParams.floor())
    vault.close()


def _opens(folder: Path, passphrase: str) -> bool:
    vault = Vault.open(folder / "vault")
    try:
        vault.unlock(passphrase)
        return True
    finally:
        vault.close()


# -- the folder layout ----------------------------------------------------------------------------------------


def test_an_older_install_becomes_the_first_profile_with_its_vault_and_settings(tmp_path):
    root = tmp_path / "osler"
    _vault(root / "vault", PASS_A)
    (root / "settings.json").write_text('{"locale": "fr"}', encoding="utf-8")
    profiles = Profiles(root)
    profiles.prepare()
    first = profiles.start_with()  # the only person: no picker
    assert first is not None and first.id == LEGACY_ID
    folder = profiles.folder(first)
    assert _opens(folder, PASS_A)
    assert json.loads((folder / "settings.json").read_text(encoding="utf-8"))["locale"] == "fr"
    assert not (root / "vault").exists() and not (root / "settings.json").exists()
    profiles.prepare()  # again: nothing moves twice
    assert [p.id for p in profiles.visible()] == [LEGACY_ID] and _opens(folder, PASS_A)


def test_a_migration_stopped_midway_finishes_at_the_next_start(tmp_path):
    root = tmp_path / "osler"
    _vault(root / "vault", PASS_A)
    (root / "settings.json").write_text('{"locale": "fr"}', encoding="utf-8")
    (root / "profiles" / LEGACY_ID).mkdir(parents=True)  # the state after the vault's rename, before the rest
    os.replace(root / "vault", root / "profiles" / LEGACY_ID / "vault")
    profiles = Profiles(root)
    profiles.prepare()
    assert [p.id for p in profiles.visible()] == [LEGACY_ID]
    folder = root / "profiles" / LEGACY_ID
    assert _opens(folder, PASS_A) and (folder / "settings.json").exists()


def test_a_new_computer_starts_in_one_new_profile_and_two_profiles_need_the_picker(tmp_path):
    profiles = Profiles(tmp_path / "osler")
    profiles.prepare()
    first = profiles.start_with()
    assert first is not None and profiles.folder(first).is_dir()
    assert profiles.start_with() == first  # the same one next time
    profiles.create("Baraka")
    assert profiles.start_with() is None


def test_a_hidden_profile_is_neither_listed_nor_written_down(tmp_path):
    root = tmp_path / "osler"
    profiles = Profiles(root)
    profiles.create("Amina")
    zed = profiles.create("Zainab Hidden", hidden=True)
    assert [p.name for p in profiles.visible()] == ["Amina"]
    assert profiles.start_with() is None  # one name shown, but a hidden one exists: the picker asks
    assert b"Zainab" not in (root / "profiles.json").read_bytes()
    found = profiles.open_by_name("  zainab hidden ")  # as typed: case and outer spaces do not matter
    assert found is not None and found.id == zed.id and found.hidden
    assert profiles.open_by_name("Zainab") is None and profiles.open_by_name("") is None
    assert profiles.name_taken("ZAINAB HIDDEN") and profiles.name_taken("amina")


def test_removing_a_profile_deletes_its_folder_and_touches_no_other(tmp_path):
    profiles = Profiles(tmp_path / "osler")
    a, b = profiles.create("Amina"), profiles.create("Baraka")
    _vault(profiles.folder(a) / "vault", PASS_A)
    _vault(profiles.folder(b) / "vault", PASS_B)
    profiles.remove(a)
    assert not profiles.folder(a).exists()
    assert [p.name for p in profiles.visible()] == ["Baraka"] and _opens(profiles.folder(b), PASS_B)
    assert sorted(p.name for p in (tmp_path / "osler" / "profiles").iterdir()) == [b.id]


REMOVE_AND_DIE = """
import os, shutil, signal, sys
from pathlib import Path
from desktop.domain import profiles as module

real = shutil.rmtree
def rmtree(path, *args, **kwargs):  # delete the vault's first file, then the power goes
    first = sorted(p for p in Path(path).rglob("*") if p.is_file())[0]
    first.unlink()
    os.kill(os.getpid(), signal.SIGKILL)
module.shutil.rmtree = rmtree
profiles = module.Profiles(Path(sys.argv[1]))
profiles.remove(next(p for p in profiles.visible() if p.name == "Amina"))
"""


def test_a_removal_killed_midway_leaves_nothing_usable_of_it_and_the_other_profile_whole(tmp_path):
    root = tmp_path / "osler"
    profiles = Profiles(root)
    a, b = profiles.create("Amina"), profiles.create("Baraka")
    _vault(profiles.folder(a) / "vault", PASS_A)
    _vault(profiles.folder(b) / "vault", PASS_B)
    done = subprocess.run(
        [sys.executable, "-c", REMOVE_AND_DIE, str(root)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert not profiles.folder(a).exists()  # renamed aside before anything was deleted: nothing opens it
    assert profiles.open_by_name("Amina") is None
    profiles.prepare()  # the next start finishes the removal
    assert sorted(p.name for p in (root / "profiles").iterdir()) == [b.id]
    assert [p.name for p in profiles.visible()] == ["Baraka"] and _opens(profiles.folder(b), PASS_B)


# -- the app ----------------------------------------------------------------------------------------------------


@pytest.fixture
def profiled_app(qtbot, tmp_path, monkeypatch):
    """The app as `osler` starts it (a data root with profiles), with a temp folder of its own to search."""
    from desktop.app import OslerApp
    from tests.pages import AppPage

    temp = tmp_path / "TMPDIR"
    temp.mkdir()
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.setenv(name, str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    made: list = []

    def make(root: Path) -> AppPage:
        profiles = Profiles(root)
        profiles.prepare()
        app = OslerApp(root, kdf_params=KdfParams.floor(), profiles=profiles)
        qtbot.addWidget(app.window)
        app.window.resize(1024, 600)
        app.window.show()
        made.append(app)
        return AppPage(qtbot, app)

    yield make, temp
    for app in made:
        app.shutdown()


def _picker(page):
    from desktop.ui.profile_picker import ProfilePicker

    return page.screen if isinstance(page.screen, ProfilePicker) else None


def _send_canaries(page, text: str, file_name: str, tmp_path: Path) -> None:
    """A message and a file with the profile's canaries, sent and synced."""
    source = tmp_path / "sources" / file_name
    source.parent.mkdir(exist_ok=True)
    source.write_text(f"{text} inside the file", encoding="utf-8")
    chat = page.app.session.messaging
    chat.send(chat.threads()[0].id, text, attachment=source)
    source.unlink()  # the only copies are now Osler's
    page.sync_now()
    page.wait_synced()


def _files_holding(folder: Path, canaries: list[str]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found += [f"{path}: {c}" for c in canaries if c.encode() in data or c.encode("utf-16-le") in data]
        found += [f"{path} (its name)" for c in canaries if c in path.name]
    return found


def test_two_profiles_never_see_each_others_data(profiled_app, tmp_path):
    make, temp = profiled_app
    root = tmp_path / "osler"
    page = make(root)
    assert page.on_onboarding()  # a new computer: straight into its first profile, no picker
    page.enter_demo(PASS_A)
    profiles, a = page.app.profiles, page.app.profile
    a = profiles.rename(a, "Canary-A-Name")
    folder_a = profiles.folder(a)
    assert page.app.data_dir == folder_a and tempfile.gettempdir() == str(folder_a / "tmp")
    qt_settings = QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, "QtProject")
    assert Path(qt_settings.fileName()).is_relative_to(folder_a)  # the file dialog's history stays in the profile
    _send_canaries(page, "canary-a-message-text", "canary-a-file-name.txt", tmp_path)

    page.lock()  # one profile: back to its unlock screen, with the way to another profile
    assert page.on_unlock()
    assert list((folder_a / "tmp").iterdir()) == []  # its temp files went with it
    page._press(page.app.switch_button)
    picker = _picker(page)
    assert picker is not None
    page._press(picker.new_button)
    page._type(picker.new_name, "Canary-B-Name")
    page.qtbot.keyClick(picker.new_name, Qt.Key.Key_Return)
    assert page.on_onboarding()
    page.enter_demo(PASS_B)
    folder_b = profiles.folder(page.app.profile)
    assert page.app.data_dir == folder_b != folder_a and tempfile.gettempdir() == str(folder_b / "tmp")
    session_b = page.app.session
    assert session_b.vault.folder == folder_b / "vault"  # it opened its own vault, and only that one
    _send_canaries(page, "canary-b-message-text", "canary-b-file-name.txt", tmp_path)
    bodies_b = [m.body for t in session_b.messaging.threads() for m in session_b.vault.messages.newest(10_000, t.id)]
    assert "canary-b-message-text" in bodies_b and "canary-a-message-text" not in bodies_b

    page.lock()  # two profiles now: whoever comes next chooses
    picker = _picker(page)
    assert picker is not None and sorted(picker.names.item(i).text() for i in range(picker.names.count())) == [
        "Canary-A-Name",
        "Canary-B-Name",
    ]
    page.app.shutdown()

    canaries_a = ["canary-a-message-text", "canary-a-file-name", "Canary-A-Name"]
    canaries_b = ["canary-b-message-text", "canary-b-file-name", "Canary-B-Name"]
    assert _files_holding(folder_a, canaries_b) == []
    assert _files_holding(folder_b, canaries_a) == []
    assert _files_holding(temp, canaries_a + canaries_b) == []
    assert list((folder_a / "tmp").iterdir()) == [] and list((folder_b / "tmp").iterdir()) == []


def test_the_picker_by_keyboard_hidden_profiles_and_removal(profiled_app, tmp_path):
    make, _temp = profiled_app
    root = tmp_path / "osler"
    profiles = Profiles(root)
    amina, baraka = profiles.create("Amina"), profiles.create("Baraka")
    hidden = profiles.create("Zawadi", hidden=True)
    _vault(profiles.folder(baraka) / "vault", PASS_B)
    page = make(root)
    picker = _picker(page)
    assert picker is not None  # two names: the picker, showing names only and never the hidden one
    assert [picker.names.item(i).text() for i in range(picker.names.count())] == ["Amina", "Baraka"]
    for control in picker.findChildren(QAbstractButton):
        assert control.accessibleName(), control.text()
    assert picker.names.accessibleName()
    assert picker.minimumSizeHint().width() <= 1024 and picker.minimumSizeHint().height() <= 600

    # Removal names the profile, says what it deletes, and Return on the question keeps the profile
    picker.names.setCurrentRow(0)
    page._press(picker.remove_button)
    assert "Amina" in picker.remove_page.title.text()
    assert "deletes everything of Amina on this computer" in picker.remove_text.text()
    assert page.app.window.focusWidget() is picker.cancel_remove_button
    page.qtbot.keyClick(picker.cancel_remove_button, Qt.Key.Key_Return)
    assert picker.currentWidget() is picker.list_page and profiles.folder(amina).exists()
    page._press(picker.remove_button)
    page._press(picker.confirm_remove_button)
    assert not profiles.folder(amina).exists() and profiles.folder(baraka).exists()
    assert [picker.names.item(i).text() for i in range(picker.names.count())] == ["Baraka"]

    # A hidden profile opens only by its typed name; a wrong name says so and lists nothing
    page._press(picker.other_button)
    assert page.app.window.focusWidget() is picker.other_name
    page._type(picker.other_name, "Zawad")
    page.qtbot.keyClick(picker.other_name, Qt.Key.Key_Return)
    assert "No profile with that name" in picker.other_page.error.text()
    assert "Zawadi" not in picker.other_page.error.text()
    page._type(picker.other_name, "zawadi")
    page.qtbot.keyClick(picker.other_name, Qt.Key.Key_Return)
    assert page.on_onboarding() and page.app.data_dir == profiles.folder(hidden)

    # Back to the picker from the unlock screen, then Baraka by keyboard alone: Down, Return
    page.app.switch_profile()
    picker = _picker(page)
    assert page.app.window.focusWidget() is picker.names
    page.qtbot.keyClick(picker.names, Qt.Key.Key_Return)
    assert page.on_unlock() and page.app.data_dir == profiles.folder(baraka)
    page._type(page.screen.passphrase, PASS_B)
    page.qtbot.keyClick(page.screen.passphrase, Qt.Key.Key_Return)
    page.qtbot.waitUntil(page.on_onboarding)  # its vault opened (it has no programme yet: set-up continues)


@pytest.mark.parametrize("tag", ["fr", "ar"])
def test_the_picker_fits_1024_by_600_in_french_and_mirrors_in_arabic(profiled_app, tmp_path, tag):
    from PySide6.QtWidgets import QApplication

    from desktop.app import apply_locale

    make, _temp = profiled_app
    root = tmp_path / "osler"
    profiles = Profiles(root)
    profiles.create("Amina")
    profiles.create("Baraka")
    apply_locale(tag)
    try:
        page = make(root)
        picker = _picker(page)
        assert picker is not None
        for shown in (picker.list_page, picker.new_page, picker.other_page, picker.remove_page):
            picker.setCurrentWidget(shown)
            hint = page.app.window.minimumSizeHint()
            assert hint.width() <= 1024 and hint.height() <= 600, (tag, shown.title.text(), hint)
        picker.show_list()
        if tag == "fr":
            assert picker.open_button.text() == "&Ouvrir"
        leading_first = picker.new_button.mapTo(picker, picker.new_button.rect().topLeft()).x() < (
            picker.open_button.mapTo(picker, picker.open_button.rect().topLeft()).x()
        )
        rtl = tag == "ar"
        assert (picker.layoutDirection() == Qt.LayoutDirection.RightToLeft) is rtl
        assert leading_first is rtl  # Open, the first button, sits at the leading edge: the right in Arabic
    finally:
        apply_locale("en")
        assert QApplication.layoutDirection() == Qt.LayoutDirection.LeftToRight


def test_a_data_folder_osler_cannot_write_to_is_named_with_what_to_do(profiled_app, tmp_path):
    make, _temp = profiled_app
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    page = make(blocker / "osler")
    picker = _picker(page)
    assert picker is not None
    assert f"cannot write to {blocker / 'osler'}" in picker.list_page.error.text()
    assert "--data-dir" in picker.list_page.error.text()
