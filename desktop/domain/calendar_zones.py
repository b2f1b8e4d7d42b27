"""A time zone's rules written the way Outlook, Google Calendar and Thunderbird all read them (pure: zoneinfo).

An exported .ics names each meeting's zone (TZID = the IANA name) and carries a VTIMEZONE block that describes it.
Google Calendar and Thunderbird read the IANA name; Outlook reads only the VTIMEZONE, and ignores RDATE lists there
(it wants one STANDARD and one DAYLIGHT part with a yearly RRULE such as "last Sunday of March"). `observances`
finds those yearly rules from zoneinfo's transitions and checks that they hold for several years from the
reference year; a zone whose rules do not fit that shape gets ``None`` and calendar_ics falls back to icalendar's
transition-by-transition VTIMEZONE.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

YEARS_CHECKED = 6  # the yearly rules must reproduce zoneinfo's transitions this many years from the reference year
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Observance:
    kind: str  # "STANDARD" | "DAYLIGHT"
    start: dt.datetime  # naive local wall time of the first onset, in the offset it changes *from*
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str
    rrule: dict | None  # {"FREQ": "YEARLY", "BYMONTH": 3, "BYDAY": "-1SU"} or None for a zone without changes


def _offset(zone: ZoneInfo, instant: dt.datetime) -> dt.timedelta:
    return instant.astimezone(zone).utcoffset() or dt.timedelta()


def _transitions(zone: ZoneInfo, year: int) -> list[tuple[dt.datetime, dt.timedelta, dt.timedelta, str]]:
    """(UTC instant, offset before, offset after, name after) for each change of offset in that year."""
    out = []
    day = dt.timedelta(days=1)
    at = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    before = _offset(zone, at)
    while at < end:
        nxt = at + day
        after = _offset(zone, nxt)
        if after != before:
            lo, hi = at, nxt  # offset(lo) == before, offset(hi) == after: bisect to the minute
            while hi - lo > dt.timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= lo:
                    break
                if _offset(zone, mid) == before:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, before, after, hi.astimezone(zone).tzname() or ""))
            before = after
        at = nxt
    return out


def _byday(day: dt.date) -> tuple[str, str]:
    """The two ways to name that day in its month: n-th weekday and (when it is the last) -1."""
    weekday = _DAYS[day.weekday()]
    nth = f"{(day.day - 1) // 7 + 1}{weekday}"
    last = f"-1{weekday}" if day.day + 7 > calendar.monthrange(day.year, day.month)[1] else nth
    return nth, last


def _on(year: int, month: int, byday: str) -> dt.date | None:
    ordinal, weekday = int(byday[:-2]), _DAYS.index(byday[-2:])
    last = calendar.monthrange(year, month)[1]
    days = [d for d in range(1, last + 1) if dt.date(year, month, d).weekday() == weekday]
    index = ordinal - 1 if ordinal > 0 else ordinal
    return dt.date(year, month, days[index]) if -len(days) <= index < len(days) else None


def observances(tz: str, year: int) -> list[Observance] | None:
    """The STANDARD/DAYLIGHT parts of ``tz`` from ``year`` on, as yearly rules; None when they do not fit."""
    zone = ZoneInfo(tz)
    years = [_transitions(zone, y) for y in range(year, year + YEARS_CHECKED)]
    if not any(years):
        offset = _offset(zone, dt.datetime(year, 1, 1, tzinfo=dt.UTC))
        name = dt.datetime(year, 1, 1, tzinfo=dt.UTC).astimezone(zone).tzname() or ""
        return [Observance("STANDARD", dt.datetime(1970, 1, 1), offset, offset, name, None)]
    if any(len(found) != 2 for found in years):
        return None
    parts = []
    for index in range(2):
        instant, before, after, name = years[0][index]
        local = (instant + before).replace(tzinfo=None)  # wall time in the offset it changes from
        for byday in dict.fromkeys(_byday(local.date())):
            if all(
                _on(y, local.month, byday) is not None
                and (found[index][0] + found[index][1]).replace(tzinfo=None)
                == dt.datetime.combine(_on(y, local.month, byday), local.time())
                and found[index][1:3] == (before, after)
                for y, found in zip(range(year, year + YEARS_CHECKED), years, strict=True)
            ):
                kind = "DAYLIGHT" if after > before else "STANDARD"
                rule = {"FREQ": "YEARLY", "BYMONTH": local.month, "BYDAY": byday}
                parts.append(Observance(kind, local, before, after, name, rule))
                break
        else:
            return None
    return parts
