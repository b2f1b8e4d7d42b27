"""Translations for every string a person sees, and the list of languages Osler speaks.

Babel loads the compiled catalogs under ``locales/`` (built by ``make i18n`` from the ``.po`` files, never
hand-kept) and supplies the locale data for plural rules and text direction. Code marks strings with ``_()`` /
``ngettext()`` / ``C_()`` (a message with a context, for one English word with two meanings) at the point of use
so the active language can change at run time; module constants that must be translated later are marked with
``N_()`` and passed through ``_()`` when shown. Numbers, sizes, dates and CLDR names are formatted by
``desktop/formatting.py`` in the active language.

A language of ``UI_LANGUAGES`` whose catalog is missing falls back to English entirely (strings, formats and
direction) and ``fallback_note()`` says so, translated, for the window to show. A catalog entry whose ``{name}``
placeholders do not match its source (a translator's slip) is dropped when the catalog loads, so the English
source string is shown instead and ``.format()`` can never fail on it.
"""

from __future__ import annotations

import logging
import os
import string
import threading
import unicodedata
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

DOMAIN = "osler"
SOURCE_LOCALE = "en"
# The languages Osler offers, by tag (the order is only the source's; pickers sort them by their own names).
UI_LANGUAGES = ("en", "fr", "es", "pt", "ar", "fa", "ur", "sw", "hi", "bn", "am", "ha")
# Each language's name in its own script, as Babel's CLDR data has it (tests/test_languages.py checks they still
# match): pickers list them without loading a dozen locales' data while the main screen is built.
OWN_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "ar": "العربية",
    "fa": "فارسی",
    "ur": "اردو",
    "sw": "Kiswahili",
    "hi": "हिन्दी",
    "bn": "বাংলা",
    "am": "አማርኛ",
    "ha": "Hausa",
    "yo": "Èdè Yorùbá",
    "ig": "Asụsụ Igbo",
    "tl": "Filipino (Pilipinas)",
    "wo": "Wolof",
    "zh": "中文",
    "ru": "Русский",
}
LOCALES_DIR = Path(os.environ.get("OSLER_LOCALES_DIR", Path(__file__).resolve().parent.parent / "locales"))

_lock = threading.Lock()
_locale: Locale = Locale.parse(SOURCE_LOCALE)
_translations: NullTranslations = NullTranslations()
_chosen: str = SOURCE_LOCALE  # what the person asked for (may differ from _locale when its catalog is missing)
_missing: str | None = None  # a chosen language shown in English for want of a catalog


def available_locales() -> list[str]:
    """Locale tags with a catalog (``.po``) in ``locales/`` plus the source language, sorted."""
    tags = {SOURCE_LOCALE}
    if LOCALES_DIR.is_dir():
        for entry in LOCALES_DIR.iterdir():
            if (entry / "LC_MESSAGES" / f"{DOMAIN}.po").is_file():
                tags.add(entry.name)
    return sorted(tags)


def language_name(tag: str, in_locale: str | Locale | None = None) -> str:
    """A language's name, in its own script by default ("Kiswahili", "العربية"), else in ``in_locale``."""
    if in_locale is None and tag in OWN_NAMES:
        return OWN_NAMES[tag]
    try:
        name = Locale.parse(tag.replace("-", "_")).get_display_name(in_locale or tag.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return tag
    return (name[:1].upper() + name[1:]) if name else tag


def folded(text: str) -> str:
    """``text`` for sorting a list a person reads: case and accents folded ("Éthiopie" sorts beside "Erythrée")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def language_choices(tags: tuple[str, ...] | list[str] = UI_LANGUAGES, first: str | None = None) -> list[str]:
    """``tags`` in the order a picker lists them: ``first`` (the current language) at the top, then the rest by
    their own names, case- and accent-folded (Latin-script names alphabetically, then each script together)."""
    rest = sorted((t for t in tags if t != first), key=lambda t: (folded(language_name(t)), t))
    return ([first] if first in tags else []) + rest


def _field_names(text: str) -> set[str] | None:
    """The ``{name}`` fields of a format string, or None when ``str.format`` would reject it."""
    try:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return None


def _drop_broken(translations: Translations, tag: str) -> None:
    """Remove entries whose placeholders are not the source's (or not a valid format string): the English source
    is shown for them. Only the message id is logged, never a value."""
    catalog = translations._catalog  # gettext's own dict: msgid -> msgstr, (msgid, n) -> plural form n
    for key, translated in list(catalog.items()):
        source = (key[0] if isinstance(key, tuple) else key).split("\x04")[-1]  # without a msgctxt
        if not source or not isinstance(translated, str):
            continue
        wanted, found = _field_names(source), _field_names(translated)
        if found is None or (wanted is not None and not found <= wanted):
            log.warning("catalog %s: a broken translation of %r is ignored (English is shown)", tag, source)
            del catalog[key]


def has_catalog(tag: str) -> bool:
    return tag == SOURCE_LOCALE or (LOCALES_DIR / tag / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()


def set_locale(tag: str) -> Locale:
    """Switch the whole process to ``tag`` (e.g. ``"fr"``, ``"ar"``). Unknown tags, and languages whose compiled
    catalog is missing, fall back to English; ``fallback_note()`` then says so."""
    global _locale, _translations, _chosen, _missing
    chosen = (tag or SOURCE_LOCALE).replace("-", "_")
    missing: str | None = None
    try:
        locale = Locale.parse(chosen)
    except (ValueError, UnknownLocaleError):
        log.warning("unknown locale %r, using %s", tag, SOURCE_LOCALE)
        chosen, locale = SOURCE_LOCALE, Locale.parse(SOURCE_LOCALE)
    translations: NullTranslations = NullTranslations()
    if locale.language != SOURCE_LOCALE:
        loaded = Translations.load(str(LOCALES_DIR), [str(locale), locale.language], DOMAIN)
        if isinstance(loaded, Translations):
            _drop_broken(loaded, str(locale))
            translations = loaded
        else:
            log.warning("no compiled catalog for %s under %s: showing English (run `make i18n`)", locale, LOCALES_DIR)
            missing, locale = chosen, Locale.parse(SOURCE_LOCALE)
    with _lock:
        _locale, _translations, _chosen, _missing = locale, translations, chosen, missing
    return locale


def current_locale() -> Locale:
    """The language strings and formats are shown in (English when the chosen one has no catalog)."""
    return _locale


def chosen_language() -> str:
    """The language the person chose, as a tag, even when it is shown in English for want of a catalog."""
    return _chosen


def fallback_note() -> str:
    """A translated sentence for the window when the chosen language has no catalog, else ""."""
    if _missing is None:
        return ""
    return _("Osler has no translation for {language} yet; it is shown in English.").format(
        language=language_name(_missing)
    )


def _(message: str) -> str:
    """Translate ``message`` into the active language ("" stays "": gettext would answer the catalog's header)."""
    return _translations.gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message whose form depends on the count ``n`` (plural rules come from the catalog)."""
    return _translations.ngettext(singular, plural, n)


def C_(context: str, message: str) -> str:
    """Translate ``message`` in ``context`` (gettext's msgctxt): one English word with two meanings, such as
    "Open" the verb and "Open" the state, gets one catalog entry per meaning."""
    return _translations.pgettext(context, message)


pgettext = C_


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message


def is_rtl(locale: Locale | None = None) -> bool:
    """Whether the language is written right to left, so layouts must mirror."""
    return (locale or _locale).text_direction == "rtl"
