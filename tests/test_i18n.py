"""Languages: the catalogs cover every string in the code, the second language works end to end, and locale
data (plural rules, relative times, direction) comes from Babel."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from desktop import formatting, i18n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _code_messages() -> set[str]:
    found = set()
    for folder in ("desktop", "sync"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords={"_": None, "N_": None, "ngettext": (1, 2)}
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(lang: str):
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "osler.po").open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.mark.parametrize("lang", [tag for tag in i18n.available_locales() if tag != i18n.SOURCE_LOCALE])
def test_every_string_in_the_code_is_translated(lang: str):
    catalog = _catalog(lang)
    missing, broken = [], []
    for message in sorted(_code_messages()):
        entry = catalog.get(message)
        translated = entry.string if entry else None
        if isinstance(translated, tuple):
            translated = translated[0]
        if not translated or (entry and entry.fuzzy):
            missing.append(message)
        elif set(PLACEHOLDER.findall(message)) != set(PLACEHOLDER.findall(translated)):
            broken.append(message)
    assert missing == [], f"untranslated in {lang} (run `make i18n` and translate)"
    assert broken == [], f"placeholders differ in {lang}"


def test_template_is_current():
    with (ROOT / "locales" / "osler.pot").open("rb") as handle:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert _code_messages() == template, "run `make i18n`"


def test_french_end_to_end():
    i18n.set_locale("fr")
    assert i18n._("Your vault is locked. Unlock it to continue.").startswith("Votre coffre est verrouillé")
    assert formatting.format_relative(timedelta(hours=-3)) == "il y a 3 heures"
    assert formatting.format_number(1234.5) == "1\u202f234,5"


def test_unknown_language_falls_back_to_english():
    i18n.set_locale("xx")
    assert i18n.current_locale().language == "en"
    assert i18n._("Your vault is locked. Unlock it to continue.") == "Your vault is locked. Unlock it to continue."


def test_right_to_left_languages_are_known():
    from babel import Locale

    assert i18n.is_rtl(Locale.parse("ar")) and i18n.is_rtl(Locale.parse("fa"))
    assert not i18n.is_rtl(Locale.parse("fr"))
