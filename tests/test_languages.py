"""The twelve UI languages: which ones Osler offers, what happens when one has no catalog yet, how pickers list
them, and which one the first run proposes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop import i18n
from desktop.app import apply_locale, choose_locale
from tests.conftest import PASSPHRASE

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def only_french(tmp_path, monkeypatch) -> Path:
    """A locales folder holding the French catalog alone, as if no other translation had been written yet."""
    folder = tmp_path / "locales"
    shutil.copytree(ROOT / "locales" / "fr", folder / "fr")
    assert (folder / "fr" / "LC_MESSAGES" / "osler.mo").is_file(), "run `make catalogs`"
    monkeypatch.setattr(i18n, "LOCALES_DIR", folder)
    return folder


def test_osler_offers_twelve_languages():
    assert set(i18n.UI_LANGUAGES) == {"en", "fr", "es", "pt", "ar", "fa", "ur", "sw", "hi", "bn", "am", "ha"}
    assert {tag for tag in i18n.UI_LANGUAGES if i18n.is_rtl(i18n.Locale.parse(tag))} == {"ar", "fa", "ur"}


def test_own_script_names_are_babels():
    for tag, name in i18n.OWN_NAMES.items():
        babel_name = i18n.Locale.parse(tag).get_display_name(tag)
        assert name == babel_name[:1].upper() + babel_name[1:], tag


def test_a_language_without_a_catalog_is_english_with_a_note(only_french):
    i18n.set_locale("sw")
    assert i18n.chosen_language() == "sw"
    assert i18n.current_locale().language == "en"
    assert i18n._("Your vault is locked. Unlock it to continue.") == "Your vault is locked. Unlock it to continue."
    assert i18n.fallback_note() == "Osler has no translation for Kiswahili yet; it is shown in English."
    i18n.set_locale("fr")
    assert i18n.fallback_note() == ""


def test_locale_ar_without_a_catalog_says_so_in_the_window(only_french, make_app, qapp):
    apply_locale(choose_locale("ar", "en_US"))  # `osler --locale ar`
    page = make_app()
    note = page.app.window.note
    assert note.isVisible()
    assert note.text() == "Osler has no translation for العربية yet; it is shown in English."
    assert qapp.layoutDirection() == Qt.LayoutDirection.LeftToRight  # English, laid out as English
    page.choose_language("fr")  # a language with a catalog: the note goes
    assert not note.isVisible()


def test_settings_lists_every_language_in_its_own_script(only_french, make_app):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page.explore_demo()
    page.open_view("settings")
    combo = page.screen.settings.language
    names = [combo.itemText(r) for r in range(combo.count())]
    assert names[0] == "English"  # the current language first
    assert {
        "Français",
        "Español",
        "Português",
        "العربية",
        "فارسی",
        "اردو",
        "Kiswahili",
        "हिन्दी",
        "বাংলা",
        "አማርኛ",
        "Hausa",
    } <= set(names)
    assert len(names) == 12
    latin = names[1 : names.index("Português") + 1]
    assert latin == sorted(latin, key=str.casefold)
    combo.setCurrentIndex(combo.findData("ha"))  # no Hausa catalog yet: English, and Settings says so
    combo.activated.emit(combo.currentIndex())
    settings = page.screen.settings
    assert settings.language_note.text() == "Osler has no translation for Hausa yet; it is shown in English."
    assert settings.language.currentData() == "ha"


def test_first_run_proposes_the_systems_language_when_osler_has_it(make_app):
    assert choose_locale(None, "fr_FR") == "fr"
    assert choose_locale(None, "pt_BR") == "pt"
    assert choose_locale(None, "de_DE") == "en"  # not offered: English
    assert choose_locale("es", "fr_FR") == "es"  # asked for wins
    apply_locale(choose_locale(None, "fr_CA"))
    page = make_app()
    current = page.screen.languages.currentItem()
    assert current.data(Qt.ItemDataRole.UserRole) == "fr"
    assert current.text() == "Français"
    assert page.screen.page.title.text().startswith("Bienvenue")


def test_profile_languages_are_named_in_their_own_script(make_app):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page.explore_demo()
    page.open_view("profile")
    languages = page.screen.profile.languages
    names = {languages.item(r).text() for r in range(languages.count())}
    assert {"Kiswahili", "العربية", "አማርኛ", "Hausa", "Français"} <= names


def test_switching_language_in_settings_retranslates_every_view_and_keeps_the_draft(make_app):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page.explore_demo()
    mentor = page.app.session.mentors()[0]
    page.screen.write_to(mentor.account)  # a conversation open, a message half written
    thread = page.screen.messages.current
    page.qtbot.keyClicks(page.screen.messages.compose, "Draft about rounds")
    page.open_view("mentors")
    page.qtbot.keyClicks(page.screen.mentors.search, "Nai")
    page.open_view("settings")
    assert page.app.window.sync_bar.sync_button.text() == "&Sync now"

    page.switch_language("fr")

    screen = page.screen
    assert screen.current_view == "settings"
    assert screen.settings.accessibleName() == "Paramètres"
    assert screen.home.greeting.text().startswith("Bienvenue")
    assert screen.mentors.search.placeholderText() == "Rechercher un nom, un centre d’intérêt, une ville…"
    assert screen.messages.compose.accessibleName() != "Message to send"
    assert page.app.window.sync_bar.sync_button.text() == "&Synchroniser maintenant"  # the bar outlives the screen
    assert screen.messages.current == thread
    assert screen.messages.box.text() == "Draft about rounds"
    assert screen.mentors.search.text() == "Nai"
    assert page.app.settings_store.load().locale == "fr"
