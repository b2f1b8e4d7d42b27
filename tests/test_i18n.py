"""Languages: the catalogs cover every string in the code, the second language works end to end, and locale
data (plural rules, relative times, direction) comes from Babel."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from desktop import formatting, i18n
from desktop.catalog_check import catalog_path, check_catalog

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "C_": ((1, "c"), 2), "pgettext": ((1, "c"), 2)}


def _code_entries() -> set[tuple[str, str | None]]:
    """(message, context) for every string the code marks, msgctxt included."""
    found = set()
    for folder in ("desktop", "sync"):
        for _file, _line, message, _comments, context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add((message if isinstance(message, str) else message[0], context))
    return found


def _code_messages() -> set[str]:
    return {message for message, _context in _code_entries()}


def _catalog(lang: str):
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "osler.po").open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.mark.parametrize("lang", [tag for tag in i18n.available_locales() if tag != i18n.SOURCE_LOCALE])
def test_every_string_in_the_code_is_translated(lang: str):
    catalog = _catalog(lang)
    missing, broken = [], []
    for message, context in sorted(_code_entries(), key=lambda e: (e[0], e[1] or "")):
        entry = catalog.get(message, context=context)
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
        template = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in read_po(handle) if m.id}
    assert _code_entries() == template, "run `make i18n`"


def test_one_english_word_with_two_meanings_gets_a_context():
    """msgctxt: "Read" the message state and "Schedule" the view are entries of their own, so a translator
    can tell them from the verbs."""
    contexts = {context for message, context in _code_entries() if message in ("Read", "Schedule", "Publish")}
    assert {"message state", "the view of meetings (a noun)", "column: whether to publish this pair"} <= contexts
    i18n.set_locale("fr")
    assert i18n.C_("message state", "Read") == "Lu"
    assert i18n.pgettext("the view of meetings (a noun)", "Schedule") == "Agenda"


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


# -- the catalogs' own consistency (desktop/catalog_check.py), for every catalog present -------------------------

CATALOGS = [tag for tag in i18n.available_locales() if tag != i18n.SOURCE_LOCALE]


@pytest.mark.parametrize("lang", CATALOGS)
def test_catalog_placeholders_plurals_and_completeness(lang: str):
    """Every {placeholder} in each translation and plural form, nothing untranslated or fuzzy, and as many plural
    forms as Babel's rule for the language (header and entries)."""
    problems = check_catalog(catalog_path(lang, ROOT / "locales"))
    assert [str(p) for p in problems] == []


def _broken_copy(tmp_path: Path, edits: dict[str, str]) -> Path:
    """The French catalog with some translations replaced, as a translator's slip would leave it."""
    source = (ROOT / "locales" / "fr" / "LC_MESSAGES" / "osler.po").read_text(encoding="utf-8")
    for msgid, broken in edits.items():
        good = re.search(rf'^msgid "{re.escape(msgid)}"\nmsgstr "(.*)"$', source, re.M)
        assert good, msgid
        source = source.replace(good.group(0), f'msgid "{msgid}"\nmsgstr "{broken}"')
    target = tmp_path / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "osler.po").write_text(source, encoding="utf-8")
    return target / "osler.po"


BROKEN = {
    "Welcome, {name}": "Bienvenue, {nom}",  # a renamed placeholder: KeyError at .format()
    "Local time: {time} ({zone})": "Heure locale : {time} ({zone)",  # unbalanced: ValueError
    "Speaks: {languages}": "Parle : {}",  # positional: IndexError
}


def test_the_placeholder_check_reports_a_broken_catalog(tmp_path):
    path = _broken_copy(tmp_path, BROKEN)
    problems = check_catalog(path)
    assert {p.message for p in problems if p.kind == "placeholder"} == set(BROKEN)


def test_a_broken_catalog_never_crashes_the_app(tmp_path):
    """Compiled and loaded by the real app in its own process: the broken entries show in English and the app
    runs its self-test (vault, demo server, sync, main window) to the end."""
    po = _broken_copy(tmp_path / "locales", BROKEN)
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    with po.with_suffix(".mo").open("wb") as handle:
        write_mo(handle, catalog)
    (tmp_path / "locales" / "osler.pot").write_bytes((ROOT / "locales" / "osler.pot").read_bytes())
    probe = (
        "from desktop import i18n; i18n.set_locale('fr'); "
        "print(i18n._('Welcome, {name}').format(name='Amina')); "
        "print(i18n._('Local time: {time} ({zone})').format(time='12:00', zone='Nairobi')); "
        "print(i18n._('Speaks: {languages}').format(languages='swahili')); "
        "print(i18n._('Settings'))"
    )
    env = {**os.environ, "OSLER_LOCALES_DIR": str(tmp_path / "locales"), "PYTHONPATH": str(ROOT)}
    env["QT_QPA_PLATFORM"] = "offscreen"
    shown = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert shown.stdout.splitlines() == [
        "Welcome, Amina",
        "Local time: 12:00 (Nairobi)",
        "Speaks: swahili",
        "Paramètres",  # the rest of the catalog still works
    ]
    assert "Welcome, {name}" in shown.stderr and "Amina" not in shown.stderr  # the warning names no value
    app = subprocess.run(
        [sys.executable, "-m", "desktop.app", "--self-test", "--locale", "fr", "--data-dir", str(tmp_path)],
        env={**env, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert app.returncode == 0, app.stdout + app.stderr


def test_i18n_report_lists_every_language_with_its_percentage():
    """`make i18n-report`: one row per UI language, exit 0 whatever is missing."""
    result = subprocess.run(
        [sys.executable, "-m", "desktop.catalog_check"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["language", "name", "translated", "percent", "fuzzy", "direction"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == set(i18n.UI_LANGUAGES)
    assert rows["fr"][1] == "Français" and rows["fr"][3] == "100.0" and rows["fr"][-1] == "ltr"
    assert rows["ar"][1] == "العربية" and rows["ar"][-1] == "rtl"
    assert "i18n-report:" in (ROOT / "Makefile").read_text()
