"""Translations and locale-aware formatting for every string a person sees.

Babel loads the compiled catalogs under ``locales/`` (built by ``make i18n`` from the ``.po`` files, never
hand-kept) and supplies the locale data for dates, numbers, relative times and text direction. Code marks
strings with ``_()`` / ``ngettext()`` at the point of use so the active language can change at run time; module
constants that must be translated later are marked with ``N_()`` and passed through ``_()`` when shown.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

DOMAIN = "osler"
SOURCE_LOCALE = "en"
LOCALES_DIR = Path(os.environ.get("OSLER_LOCALES_DIR", Path(__file__).resolve().parent.parent / "locales"))

_lock = threading.Lock()
_locale: Locale = Locale.parse(SOURCE_LOCALE)
_translations: NullTranslations = NullTranslations()


def available_locales() -> list[str]:
    """Locale tags with a catalog in ``locales/`` plus the source language, sorted."""
    tags = {SOURCE_LOCALE}
    if LOCALES_DIR.is_dir():
        for entry in LOCALES_DIR.iterdir():
            if (entry / "LC_MESSAGES" / f"{DOMAIN}.po").is_file():
                tags.add(entry.name)
    return sorted(tags)


def set_locale(tag: str) -> Locale:
    """Switch the whole process to ``tag`` (e.g. ``"fr"``, ``"ar"``); unknown tags fall back to English."""
    global _locale, _translations
    try:
        locale = Locale.parse(tag.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        log.warning("unknown locale %r, using %s", tag, SOURCE_LOCALE)
        locale = Locale.parse(SOURCE_LOCALE)
    translations: NullTranslations = NullTranslations()
    if str(locale) != SOURCE_LOCALE:
        loaded = Translations.load(str(LOCALES_DIR), [str(locale), locale.language], DOMAIN)
        if isinstance(loaded, Translations):
            translations = loaded
        else:
            log.warning("no compiled catalog for %s under %s (run `make i18n`)", locale, LOCALES_DIR)
    with _lock:
        _locale, _translations = locale, translations
    return locale


def current_locale() -> Locale:
    return _locale


def _(message: str) -> str:
    """Translate ``message`` into the active language."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message whose form depends on the count ``n`` (plural rules come from the catalog)."""
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message


def is_rtl(locale: Locale | None = None) -> bool:
    """Whether the language is written right to left, so layouts must mirror."""
    return (locale or _locale).text_direction == "rtl"


def format_datetime(value: datetime, fmt: str = "medium") -> str:
    return babel_dates.format_datetime(value, format=fmt, locale=_locale)


def format_date(value: date, fmt: str = "medium") -> str:
    return babel_dates.format_date(value, format=fmt, locale=_locale)


def format_time(value: datetime, fmt: str = "short") -> str:
    return babel_dates.format_time(value, format=fmt, locale=_locale)


def format_number(value: float) -> str:
    return babel_numbers.format_decimal(value, locale=_locale)


def format_relative(delta: timedelta) -> str:
    """A localized relative time such as "3 hours ago" (negative delta) or "in 2 days" (positive)."""
    return babel_dates.format_timedelta(delta, add_direction=True, locale=_locale)


def format_bytes(count: int) -> str:
    """A localized byte size: "812 B", "1.4 MB"."""
    units = [(1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "kB")]
    for size, unit in units:
        if count >= size:
            return _("{amount} {unit}").format(
                amount=babel_numbers.format_decimal(round(count / size, 1), locale=_locale), unit=unit
            )
    return _("{amount} B").format(amount=babel_numbers.format_decimal(count, locale=_locale))
