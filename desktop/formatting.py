"""Numbers, percentages, byte sizes, dates, times, relative times, durations and CLDR names (languages,
countries, time zones), formatted by Babel in the UI language, the same way on every screen.

Numbers use the symbols of CLDR's default numbering system for the language (Babel's
``numbering_system="default"``: "1٬234٫5" in Persian, "1,234.5" in Arabic as CLDR now has it);
Babel writes every digit, in numbers, dates and times alike, as 0-9, so one screen never mixes two digit systems.
Byte sizes use CLDR's translated digital units ("26,3 Mo" in French) over multiples of 1024, as Osler has always
counted them (the 25 MB attachment limit is 25 × 1024 × 1024 bytes) and as Windows' file sizes read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel import units as babel_units

from desktop.i18n import current_locale, language_name

__all__ = [
    "country_name",
    "format_bytes",
    "format_date",
    "format_datetime",
    "format_duration",
    "format_number",
    "format_percent",
    "format_relative",
    "format_time",
    "language_name",
    "local_language_name",
    "zone_name",
]
_NUMBERING = "default"
_BYTE_UNITS = ((1 << 30, "digital-gigabyte"), (1 << 20, "digital-megabyte"), (1 << 10, "digital-kilobyte"))


def format_number(value: float, digits: int | None = None) -> str:
    """1234.5 → "1 234,5" in French; ``digits`` fixes the number of decimals shown (rounded)."""
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, pattern, locale=current_locale(), numbering_system=_NUMBERING)


def format_percent(fraction: float) -> str:
    """0.53 → "53 %" in French, "53%" in English."""
    return babel_numbers.format_percent(fraction, locale=current_locale(), numbering_system=_NUMBERING)


def format_bytes(count: int) -> str:
    """A byte size with a unit CLDR translates: "812 B", "1.4 MB", "26,3 Mo"."""
    for size, unit in _BYTE_UNITS:
        if count >= size:
            value = round(count / size, 1)
            return babel_units.format_unit(
                value, unit, length="short", locale=current_locale(), numbering_system=_NUMBERING
            )
    return babel_units.format_unit(
        max(0, count), "digital-byte", length="short", locale=current_locale(), numbering_system=_NUMBERING
    )


def format_megabytes(count: int) -> str:
    """A budget in whole megabytes: "100 MB", "100 Mo"."""
    return babel_units.format_unit(
        count, "digital-megabyte", length="short", locale=current_locale(), numbering_system=_NUMBERING
    )


def megabyte_unit() -> str:
    """The megabyte's short symbol in the UI language, for a number field's suffix ("MB", "Mo")."""
    return format_megabytes(0).replace(format_number(0), "").strip()


def _zone(tz: str | tzinfo | None) -> tzinfo | None:
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC
    return tz


def format_datetime(value: datetime, fmt: str = "medium", tz: str | tzinfo | None = None) -> str:
    """A date and time, in the time zone ``tz`` when given (else the value's own)."""
    zone = _zone(tz)
    if zone is not None:
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    return babel_dates.format_datetime(value, format=fmt, locale=current_locale())


def format_date(value: date, fmt: str = "medium") -> str:
    return babel_dates.format_date(value, format=fmt, locale=current_locale())


def format_time(value: datetime, fmt: str = "short", tz: str | tzinfo | None = None) -> str:
    zone = _zone(tz)
    if zone is not None:
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    return babel_dates.format_time(value, format=fmt, locale=current_locale())


def format_relative(delta: timedelta) -> str:
    """A localized relative time such as "3 hours ago" (negative delta) or "in 2 days" (positive)."""
    return babel_dates.format_timedelta(delta, add_direction=True, locale=current_locale())


def format_duration(delta: timedelta, fmt: str = "long") -> str:
    """A length of time without direction: "3 hours", "3 heures"."""
    return babel_dates.format_timedelta(delta, format=fmt, locale=current_locale())


def local_language_name(tag: str) -> str:
    """A language's name in the UI language ("swahili" in French), for cards and filters."""
    return language_name(tag, current_locale())


def country_name(code: str) -> str:
    """A country's name from CLDR in the UI language ("Tanzanie" in French); the code itself when unknown."""
    return current_locale().territories.get(code.upper(), code) if code else ""


def zone_name(tz: str) -> str:
    """A time zone as a place, in the UI language ("Nairobi" → "نيروبي" in Arabic); the IANA name when unknown."""
    try:
        return babel_dates.get_timezone_location(tz, locale=current_locale(), return_city=True)
    except (LookupError, ValueError, UnknownLocaleError):
        return tz


_REGIONS = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/")


def zone_choices() -> list[tuple[str, str]]:
    """(IANA name, place in the UI language) for a time-zone picker: one entry per place (aliases such as
    Africa/Asmera left out), sorted by the place's folded name."""
    return list(_zone_choices(str(current_locale())))


@lru_cache(maxsize=4)
def _zone_choices(_tag: str) -> tuple[tuple[str, str], ...]:
    from desktop.i18n import folded

    seen: dict[str, str] = {}
    for tz in sorted(available_timezones()):
        if tz.startswith(_REGIONS):
            seen.setdefault(zone_name(tz), tz)
    return tuple(sorted(((tz, name) for name, tz in seen.items()), key=lambda pair: folded(pair[1])))


def locale_of(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None
