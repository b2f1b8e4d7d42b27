"""Numbers, sizes, dates and names are formatted by Babel in the UI language, the same way on every screen: one
decimal separator and one unit system per screen."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from babel import Locale

from desktop import formatting, i18n
from tests.conftest import PASSPHRASE


def test_the_formatters_speak_the_ui_language():
    i18n.set_locale("fr")
    assert formatting.format_bytes(26 * 1024 * 1024 + 300 * 1024) == "26,3\u202fMo"
    assert formatting.format_bytes(812) == "812\u202fo"
    assert formatting.format_number(0.534, 2) == "0,53"
    assert formatting.format_percent(0.53) == "53\u00a0%"
    assert formatting.megabyte_unit() == "Mo"
    noon = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert formatting.format_datetime(noon, "short", "Africa/Nairobi") == "02/03/2026 12:30"
    assert formatting.format_time(noon, tz="Africa/Nairobi") == "12:30"
    assert formatting.format_duration(timedelta(hours=3)) == "3\u00a0heures"
    assert formatting.format_relative(timedelta(days=2)) == "dans 2 jours"
    i18n.set_locale("en")
    assert formatting.format_bytes(26 * 1024 * 1024 + 300 * 1024) == "26.3 MB"
    assert formatting.format_number(1234.5) == "1,234.5"


def test_arabic_numbers_follow_babel(monkeypatch):
    """Arabic: CLDR's default numbering for ar is Latin digits with Arabic separators where CLDR has them;
    whatever Babel says, every number on screen is Babel's."""
    monkeypatch.setattr(i18n, "_locale", Locale.parse("ar"))
    expected = Locale.parse("ar").number_symbols["latn"]["decimal"]
    assert formatting.format_number(0.53, 2) == f"0{expected}53"
    assert formatting.format_bytes(2 * 1024 * 1024) == "2 م.ب"
    monkeypatch.setattr(i18n, "_locale", Locale.parse("fa"))
    assert formatting.format_number(1234.5) == "1٬234٫5"  # Persian: its own separators, as CLDR has them


def _numbers_in(text: str) -> list[str]:
    return re.findall(r"\d+(?:[.,]\d+)+", text)


def test_one_screen_one_decimal_separator_and_one_unit_system_in_french(make_app):
    page = make_app()
    page.enter_demo(PASSPHRASE)
    page.open_view("settings")
    settings = page.screen.settings
    page.switch_language("fr")
    settings = page.screen.settings
    assert settings.budget.suffix().strip() == "Mo"  # the budget and the usage beside it: one unit system
    assert re.search(r"\d\s(o|ko|Mo|Go)$", settings.usage.text()), settings.usage.text()
    assert "Kio" not in settings.live.accessibleDescription() and " KB" not in settings.live.accessibleDescription()
    assert "ko" in settings.live.accessibleDescription()

    page.open_view("mentors")
    mentors = page.screen.mentors
    mentors.specialty.setCurrentIndex(mentors.specialty.findData("Cardiology"))
    page._type(mentors.interests, "rheumatic heart disease and echo screening")
    page._press(mentors.suggest_button)
    detail = mentors.detail.text()
    assert "similarité" in detail
    numbers = _numbers_in(detail)
    assert numbers and all("," in n and "." not in n for n in numbers), numbers  # "4,9" and "0,53", never "0.53"


def _switch(page, tag: str) -> None:
    page.switch_language(tag)


def test_specialty_country_language_and_zone_names_in_french(make_app):
    page = make_app()
    page.enter_demo(PASSPHRASE)
    _switch(page, "fr")

    page.open_view("mentors")
    mentors = page.screen.mentors
    model = mentors.table.model()
    shown = {model.index(r, 1).data() for r in range(model.rowCount())}
    assert "Pédiatrie" in " ".join(shown) and "Paediatrics" not in " ".join(shown)
    specialty_choices = [mentors.specialty.itemText(r) for r in range(mentors.specialty.count())]
    assert "Cardiologie" in specialty_choices
    mentors.specialty.setCurrentIndex(mentors.specialty.findData("Cardiology"))  # filters still use the key
    page._type(mentors.interests, "rheumatic heart disease and echo screening")
    page._press(mentors.suggest_button)
    detail = mentors.detail.text()
    assert "Cardiologie" in detail and "Cardiology" not in detail
    card = mentors.selected
    assert f"({formatting.zone_name(card.tz)})" in detail and card.tz not in detail  # "(Nairobi)", not "Africa/…"
    languages = {model.index(r, 4).data() for r in range(model.rowCount())}
    assert any("anglais" in line.casefold() for line in languages)  # language names in French

    page.open_view("library")
    library = page.screen.library.model
    rows = [[library.index(r, c).data() for c in range(4)] for r in range(library.rowCount())]
    assert rows and {"notes", "liste de contrôle", "étude de cas"} & {row[1] for row in rows}
    assert all(re.search(r"\s(o|ko|Mo)\)$", row[2]) for row in rows), [row[2] for row in rows]  # "(2,9 ko)"
    specialties_searched = {row[3] for row in rows}  # the column the search reads, not shown
    assert "Cardiologie" in specialties_searched and not specialties_searched & {"Paediatrics", "Cardiology"}
    view = page.screen.library
    page._type(view.search, "cardiologie")  # "Search titles and specialties…": a specialty, in French
    assert 0 < view.proxy.rowCount() < library.rowCount()

    page.open_view("profile")
    profile = page.screen.profile
    specialties = [profile.specialties.item(r).text() for r in range(profile.specialties.count())]
    assert "Pédiatrie" in specialties and "Cardiologie" in specialties and "Paediatrics" not in specialties
    countries = [profile.country.itemText(r) for r in range(profile.country.count())]
    assert {"Kenya", "Tanzanie", "Éthiopie", "Nigeria"} <= set(countries)
    assert countries.index("Éthiopie") < countries.index("Kenya") < countries.index("Tanzanie")  # by folded name
    zones = [profile.tz.itemText(r) for r in range(profile.tz.count())]
    assert {"Addis-Abeba", "Le Caire", "Nairobi", "Dar es Salaam"} <= set(zones)
    profile.tz.setCurrentIndex(profile.tz.findData("Africa/Cairo"))
    profile.country.setCurrentIndex(profile.country.findData("TZ"))
    profile.name.setText("Amina")
    page._press(profile.save_button)
    session = page.app.session
    assert session.vault.get_profile(session.program.credentials.account.hex())["country"] == "TZ"  # the code
    assert session.vault.get_profile(session.program.credentials.account.hex())["tz"] == "Africa/Cairo"


def test_zone_and_country_names_come_from_cldr():
    i18n.set_locale("fr")
    assert formatting.country_name("TZ") == "Tanzanie"
    assert formatting.zone_name("Africa/Addis_Ababa") == "Addis-Abeba"
    assert formatting.local_language_name("sw") == "Swahili"
    i18n.set_locale("en")
    assert formatting.zone_name("Africa/Dar_es_Salaam") == "Dar es Salaam"
    assert formatting.zone_name("Not/AZone") == "Not/AZone"
