"""Recurring meetings: the small part of RFC 5545 RRULE Osler speaks, checked, and expanded in the meeting's
zone so the wall time is kept across daylight-saving changes (18:00 London stays 18:00 London; the UTC instant
moves by an hour).

Accepted: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL 1-8, BYDAY (MO..SU; with an ordinal -5..5 for MONTHLY),
COUNT 1-200, UNTIL (a date, a local date-time or a UTC one ending in Z). Anything else is refused.
Expansion uses python-dateutil's ``rrule`` over naive local date-times, each then placed in the zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from dateutil import rrule as du

from desktop.domain.meeting_time import to_local, wall_to_ms

MAX_OCCURRENCES = 500  # per query
MAX_COUNT = 200
MAX_INTERVAL = 8
_STEPS = 20_000  # occurrences walked through at most to reach a window (a daily meeting for 50 years)
_FREQ = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY}
_DAYS = {"MO": du.MO, "TU": du.TU, "WE": du.WE, "TH": du.TH, "FR": du.FR, "SA": du.SA, "SU": du.SU}
_BYDAY = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL = re.compile(r"^(\d{8})(T(\d{6})(Z?))?$")


class RuleError(ValueError):
    """An RRULE Osler does not accept."""


def parse(rule: str) -> dict:
    """The parts of ``rule`` (an RRULE value such as "FREQ=WEEKLY;INTERVAL=2"), checked; RuleError if not ours."""
    if not isinstance(rule, str) or len(rule) > 200:
        raise RuleError("a recurrence rule is a short text")
    parts: dict[str, str] = {}
    for item in rule.strip().split(";"):
        name, sep, value = item.partition("=")
        name = name.strip().upper()
        if not sep or name in parts or name not in ("FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL"):
            raise RuleError(f"unsupported part {name[:20]!r}")
        parts[name] = value.strip().upper()
    freq = _FREQ.get(parts.get("FREQ", ""))
    if freq is None:
        raise RuleError("FREQ is DAILY, WEEKLY or MONTHLY")
    out: dict = {"freq": freq, "interval": _bounded(parts.get("INTERVAL", "1"), 1, MAX_INTERVAL, "INTERVAL")}
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("COUNT or UNTIL, not both")
    if "COUNT" in parts:
        out["count"] = _bounded(parts["COUNT"], 1, MAX_COUNT, "COUNT")
    if "UNTIL" in parts:
        match = _UNTIL.match(parts["UNTIL"])
        if not match:
            raise RuleError("UNTIL is a date or date-time")
        try:
            day = dt.datetime.strptime(match.group(1) + (match.group(3) or "235959"), "%Y%m%d%H%M%S")
        except ValueError as error:
            raise RuleError("UNTIL is not a real date") from error
        out["until"] = (day, match.group(4) == "Z")
    if "BYDAY" in parts:
        days = []
        for text in parts["BYDAY"].split(",")[:7]:
            found = _BYDAY.match(text.strip())
            if not found or (found.group(1) and freq != du.MONTHLY):
                raise RuleError("BYDAY is MO..SU (with a week number only when monthly)")
            day = _DAYS[found.group(2)]
            days.append(day(int(found.group(1))) if found.group(1) else day)
        out["byweekday"] = days
    return out


def _bounded(text: str, low: int, high: int, name: str) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise RuleError(f"{name} is {low} to {high}")
    return int(text)


def valid(rule: str) -> bool:
    try:
        parse(rule)
    except RuleError:
        return False
    return True


def _rule(rule: str, first_start: int, tz: str) -> du.rrule:
    parts = parse(rule)
    start = to_local(first_start, tz).replace(tzinfo=None)
    until = parts.pop("until", None)
    if until is not None:
        day, utc = until
        if utc:  # a UTC UNTIL as the meeting zone's wall time
            day = to_local(int(day.replace(tzinfo=dt.UTC).timestamp() * 1000), tz).replace(tzinfo=None)
        parts["until"] = day
    return du.rrule(dtstart=start, cache=False, **parts)


def expand(rule: str, first_start: int, tz: str, start_ms: int, end_ms: int) -> Iterator[int]:
    """The occurrence starts (UTC ms) of a series whose first occurrence starts at ``first_start``, that fall in
    [start_ms, end_ms), at most MAX_OCCURRENCES. A wall time a change skips is taken an hour later (as every
    calendar does); one that happens twice, the first time."""
    if not rule:
        if start_ms <= first_start < end_ms:
            yield first_start
        return
    produced, count = 0, parse(rule).get("count")
    if start_ms <= first_start < end_ms:  # the first occurrence is the chosen slot, whatever BYDAY says (RFC 5545)
        produced += 1
        yield first_start
    series = 1  # occurrences of the series so far, the first included (COUNT counts it)
    for steps, wall in enumerate(_rule(rule, first_start, tz)):
        at = wall_to_ms(tz, wall, strict=False)
        if at == first_start:
            continue
        series += 1
        if steps >= _STEPS or produced >= MAX_OCCURRENCES or at >= end_ms or (count and series > count):
            return
        if at >= start_ms:
            produced += 1
            yield at
