"""Time math for meetings: wall times in a person's zone to UTC instants and back, the daylight-saving edges
(a wall time that does not exist, or exists twice), and slots formatted by Babel in the UI language.

Pure Python: zones come from ``zoneinfo`` (the tzdata package where the system has none), formatting from
Babel. Instants are UTC milliseconds (ints) everywhere; a local time is a day and a minute of that day.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates

from desktop.i18n import _, current_locale

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 86_400_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class LocalTimeError(ValueError):
    """A local time that cannot name one instant: ``code`` is "gap" (it does not exist in ``tz``: the clocks
    jump forward over it), "fold" (it exists twice: the clocks go back over it) or "zone" (an unknown zone)."""

    def __init__(self, code: str, tz: str, wall: dt.datetime | None = None) -> None:
        super().__init__(f"{code}: {tz} {wall.isoformat() if wall else ''}".strip())
        self.code, self.tz, self.wall = code, tz, wall


@lru_cache(maxsize=256)
def zone(tz: str) -> ZoneInfo:
    """The zone named ``tz``; LocalTimeError("zone") for a name zoneinfo does not know."""
    if not isinstance(tz, str) or not tz or len(tz) > 64:
        raise LocalTimeError("zone", str(tz)[:64])
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise LocalTimeError("zone", tz) from error


def valid_zone(tz: str) -> bool:
    try:
        zone(tz)
    except LocalTimeError:
        return False
    return True


def ms_of(value: dt.datetime) -> int:
    """An aware datetime as UTC ms."""
    return (value - _EPOCH) // dt.timedelta(milliseconds=1)


def to_local(ms: int, tz: str) -> dt.datetime:
    """The instant ``ms`` as an aware datetime in ``tz``."""
    return (_EPOCH + dt.timedelta(milliseconds=ms)).astimezone(zone(tz))


def _wall(day: dt.date, minute: int) -> dt.datetime:
    if not 0 <= minute <= 1440:
        raise ValueError("a minute of the day is 0..1440")
    return dt.datetime(day.year, day.month, day.day) + dt.timedelta(minutes=minute)


def classify(tz: str, wall: dt.datetime) -> str:
    """ "ok", "gap" or "fold" for the naive wall time ``wall`` in ``tz``."""
    z = zone(tz)
    first, second = wall.replace(tzinfo=z, fold=0), wall.replace(tzinfo=z, fold=1)
    if first.utcoffset() == second.utcoffset():
        return "ok"
    # Around a transition zoneinfo gives fold=0 the offset before it: if the wall time survives a round trip
    # through UTC it exists (twice: a fold), else the clocks jumped over it (a gap).
    back = first.astimezone(dt.UTC).astimezone(z).replace(tzinfo=None)
    return "fold" if back == wall else "gap"


def wall_to_ms(tz: str, wall: dt.datetime, *, fold: int | None = None, strict: bool = True) -> int:
    """The naive wall time ``wall`` in ``tz`` as UTC ms. Strict: a gap raises, and a fold raises unless ``fold``
    (0: the first, 1: the second) says which. Not strict (recurrences keep wall time): a gap time is taken with
    the offset before the change (so 02:30 in a spring-forward gap becomes 03:30), a fold's first one."""
    kind = classify(tz, wall)
    if strict and kind == "gap":
        raise LocalTimeError("gap", tz, wall)
    if strict and kind == "fold" and fold is None:
        raise LocalTimeError("fold", tz, wall)
    return ms_of(wall.replace(tzinfo=zone(tz), fold=fold or 0))


def local_to_ms(tz: str, day: dt.date, minute: int, *, fold: int | None = None) -> int:
    """The instant of ``minute`` (0..1440) of the local ``day`` in ``tz``. Raises LocalTimeError("gap") for a
    wall time that does not exist, LocalTimeError("fold") when it exists twice and ``fold`` is None (callers
    then ask the person, or pass fold=0 for the first, 1 for the second), LocalTimeError("zone")."""
    return wall_to_ms(tz, _wall(day, minute), fold=fold)


def check_local(tz: str, day: dt.date, minute: int) -> str:
    """ "ok" | "gap" | "fold" for that local time (LocalTimeError("zone") for an unknown zone)."""
    return classify(tz, _wall(day, minute))


def day_start(tz: str, day: dt.date) -> int:
    """The first instant of the local ``day`` (its midnight, or the end of a gap over midnight)."""
    return wall_to_ms(tz, _wall(day, 0), strict=False)


def week_start(ms: int, tz: str) -> int:
    """The Monday 00:00 local of the week holding ``ms``, as UTC ms."""
    local = to_local(ms, tz).date()
    return day_start(tz, local - dt.timedelta(days=local.weekday()))


def _locale(locale: str | Locale | None) -> Locale:
    if isinstance(locale, Locale):
        return locale
    if locale:
        try:
            return Locale.parse(locale.replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            pass
    return current_locale()


def _day(value: dt.datetime, loc: Locale) -> str:
    return babel_dates.format_skeleton("MMMEd", value, locale=loc)


def _times(start: dt.datetime, end: dt.datetime, loc: Locale) -> str:
    first = babel_dates.format_time(start, format="short", locale=loc)
    last = babel_dates.format_time(end, format="short", locale=loc)
    return f"{first}\u2013{last}"


def _join(day: str, times: str, loc: Locale) -> str:
    pattern = loc.datetime_formats.get("medium")
    pattern = str(pattern) if pattern else "{1}, {0}"
    return pattern.replace("'", "").format(times, day)


def format_slot(start_ms: int, end_ms: int, tz: str, locale: str | None = None) -> str:
    """A slot in ``tz`` in the language ``locale`` (the UI's when None): "Tue, Mar 3, 6:00 PM–7:00 PM" in English,
    "mar. 3 mars, 18:00–19:00" in French. A slot ending on a later local day names both days."""
    loc = _locale(locale)
    start, end = to_local(start_ms, tz), to_local(end_ms, tz)
    if end.date() != start.date() and end_ms - start_ms > 0 and (end.hour, end.minute) != (0, 0):
        return "{} \u2013 {}".format(
            _join(_day(start, loc), babel_dates.format_time(start, "short", locale=loc), loc),
            _join(_day(end, loc), babel_dates.format_time(end, "short", locale=loc), loc),
        )
    return _join(_day(start, loc), _times(start, end, loc), loc)


def format_pair(start_ms: int, end_ms: int, mine: str, theirs: str, locale: str | None = None) -> tuple[str, str]:
    """(the slot in my zone, in theirs): mine with its day; theirs with only the times when their local day is
    mine, else with their day too ("Wed, Mar 4, 5:00 AM–6:00 AM" when my Tuesday evening is their Wednesday)."""
    loc = _locale(locale)
    own = format_slot(start_ms, end_ms, mine, loc)
    there = to_local(start_ms, theirs)
    if there.date() == to_local(start_ms, mine).date():
        return own, _times(there, to_local(end_ms, theirs), loc)
    return own, format_slot(start_ms, end_ms, theirs, loc)


def _place(tz: str, loc: Locale) -> str:
    """A zone as its place in the language ("London", "Los Angeles", "Chatham Islands")."""
    try:
        return babel_dates.get_timezone_location(tz, locale=loc, return_city=True)
    except (LookupError, ValueError, UnknownLocaleError):
        return tz


def explain(err: LocalTimeError, locale: str | None = None) -> str:
    """A sentence for a person about why that local time cannot be used as it is."""
    loc = _locale(locale)
    when = (
        _join(_day(err.wall, loc), babel_dates.format_time(err.wall, "short", locale=loc), loc)
        if err.wall is not None
        else ""
    )
    place = _place(err.tz, loc)
    if err.code == "gap":
        return _("{when} does not exist in {zone}: the clocks jump forward over it. Choose another time.").format(
            when=when, zone=place
        )
    if err.code == "fold":
        return _("{when} happens twice in {zone}: the clocks go back over it. Choose which one you mean.").format(
            when=when, zone=place
        )
    return _("{zone} is not a time zone Osler knows.").format(zone=err.tz)
