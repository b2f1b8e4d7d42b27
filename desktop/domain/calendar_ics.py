"""Meetings out to .ics, and busy times in from .ics (the only module that imports icalendar).

Export (`export_ics`): one VEVENT per confirmed meeting, DTSTART/DTEND in TZID = the meeting's zone (the organiser's,
the zone its recurrence follows), a VTIMEZONE for every zone used written as yearly rules (calendar_zones: Outlook
reads only the VTIMEZONE and ignores RDATE lists; Google Calendar and Thunderbird read the IANA name), RRULE,
EXDATE for a cancelled occurrence and a RECURRENCE-ID VEVENT for a moved one, UID = "<meeting id>@osler",
DTSTAMP from the injected clock.

Import (`import_busy`): the busy intervals an .ics file holds inside a window, as UTC ms. Checked before parsing:
size (≤ 1 MiB), component count (≤ 5,000 BEGIN lines) and nesting (≤ 8 deep) on the raw lines, so a hostile file
never reaches the parser's recursion. Then every date is resolved (a TZID must be an IANA name or have its own
VTIMEZONE, as Outlook's "GMT Standard Time" does; floating times and all-day dates are the person's zone) and
recurrences are expanded with dateutil, at most `MAX_EXPANDED` occurrences in all. Any problem raises `IcsError`
with a translated message and nothing is returned: the caller stores the result only when the whole file parsed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule as du_rrule
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vRecur
from icalendar.error import BrokenCalendarProperty

from desktop.domain.calendar_zones import observances
from desktop.domain.meeting_fold import KINDS
from desktop.i18n import _

MAX_BYTES = 1024 * 1024
MAX_COMPONENTS = 5_000
MAX_DEPTH = 8
MAX_EXPANDED = 100_000  # recurrence occurrences generated in all (those before the window count too)
PRODID = "-//Osler//Meetings//EN"


class IcsError(ValueError):
    """A calendar file Osler will not use; ``message`` is translated, for the person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def _ms(when: dt.datetime) -> int:
    return round(when.timestamp() * 1000)


# ---------------------------------------------------------------------------------------------------- export


def _vtimezone(tz: str, year: int) -> Timezone:
    parts = observances(tz, year)
    if parts is None:  # rules that are not simply yearly: icalendar's own, transition by transition
        first, last = dt.date(year, 1, 1), dt.date(year + 12, 1, 1)
        return Timezone.from_tzinfo(ZoneInfo(tz), tzid=tz, first_date=first, last_date=last)
    component = Timezone()
    component.add("TZID", tz)
    component.add("X-LIC-LOCATION", tz)
    for part in parts:
        sub = TimezoneDaylight() if part.kind == "DAYLIGHT" else TimezoneStandard()
        sub.add("DTSTART", part.start)
        sub.add("TZOFFSETFROM", part.offset_from)
        sub.add("TZOFFSETTO", part.offset_to)
        sub.add("TZNAME", part.name)
        if part.rrule:
            sub.add("RRULE", part.rrule)
        component.add_component(sub)
    return component


def _description(meeting: Any, names: Sequence[str]) -> str:
    lines = [_(KINDS.get(meeting.kind, meeting.kind))]
    if names:
        lines.append(_("With {names}").format(names=", ".join(names)))
    if meeting.link:
        lines.append(_("Link: {link}").format(link=meeting.link))
    lines.append(_("Planned in Osler."))
    return "\n".join(lines)


def _event(meeting: Any, slot: Any, zone: ZoneInfo, stamp: dt.datetime, names: Sequence[str]) -> Event:
    event = Event()
    event.add("UID", f"{meeting.id}@osler")
    event.add("DTSTAMP", stamp)
    event.add("SEQUENCE", int(getattr(meeting, "round", 0) or 0))
    event.add("DTSTART", _utc(slot.start).astimezone(zone))
    event.add("DTEND", _utc(slot.end).astimezone(zone))
    title = meeting.title or _(KINDS.get(meeting.kind, meeting.kind))
    event.add("SUMMARY", title)
    event.add("DESCRIPTION", _description(meeting, names))
    if meeting.link:
        event.add("LOCATION", meeting.link)
        if re.match(r"^https?://\S+$", meeting.link):
            event.add("URL", meeting.link)
    elif meeting.kind == "live-text":
        event.add("LOCATION", _("Osler (live text session)"))
    event.add("STATUS", "CONFIRMED")
    event.add("TRANSP", "OPAQUE")
    return event


def export_ics(meetings: Iterable[Any], me_name_of: Callable[[str], str], now_ms: int, *, me: str = "") -> bytes:
    """An .ics of the confirmed meetings among ``meetings`` (pass one for "export this meeting").

    ``me_name_of(account)`` names a person for the description ("With Dr Ama"); ``me`` (my account) is left out
    of that list. Raises IcsError("nothing") when none of them is confirmed."""
    chosen = [m for m in meetings if m.state == "confirmed" and m.chosen is not None]
    if not chosen:
        raise IcsError("nothing", _("There is no confirmed meeting to export."))
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("X-WR-CALNAME", _("Osler meetings"))
    stamp = _utc(now_ms)
    first_year = min(_utc(m.chosen.start).year for m in chosen) - 1
    zones: dict[str, Timezone] = {}
    events = []
    for meeting in sorted(chosen, key=lambda m: (m.chosen.start, m.id)):
        zone = ZoneInfo(meeting.tz)
        if meeting.tz not in zones:
            zones[meeting.tz] = _vtimezone(meeting.tz, first_year)
        names = [me_name_of(a) for a in (meeting.organiser, meeting.other) if a and a != me]
        slot = meeting.chosen
        if not meeting.rrule and slot.start in meeting.exceptions:  # a single meeting moved (or called off)
            slot = meeting.exceptions[slot.start]
            if slot is None:
                continue
        event = _event(meeting, slot, zone, stamp, names)
        exceptions = dict(meeting.exceptions) if meeting.rrule else {}
        if meeting.rrule:
            event.add("RRULE", _rrule_dict(meeting.rrule, zone))
            cancelled = sorted(start for start, moved in exceptions.items() if moved is None)
            if cancelled:
                event.add("EXDATE", [_utc(start).astimezone(zone) for start in cancelled])
        events.append(event)
        for start, moved in sorted((s, m) for s, m in exceptions.items() if m is not None):
            override = _event(meeting, moved, zone, stamp, names)
            override.add("RECURRENCE-ID", _utc(start).astimezone(zone))
            events.append(override)
    for event in events:
        calendar.add_component(event)
    used = calendar.get_used_tzids()  # UTC is written with Z and needs no VTIMEZONE
    calendar.subcomponents[:0] = [zones[tz] for tz in sorted(zones) if tz in used]
    return calendar.to_ical()


def _rrule_dict(text: str, zone: ZoneInfo) -> dict[str, Any]:
    """The meeting's RRULE with UNTIL in UTC, as RFC 5545 wants it beside a DTSTART with a TZID (Osler also
    accepts a local date, meaning the end of that day, and a local date-time)."""
    parts = {}
    for item in text.split(";"):
        name, _sep, value = item.partition("=")
        parts[name.strip().upper()] = value.strip().upper()
    until = parts.get("UNTIL", "")
    if until and not until.endswith("Z"):
        local = dt.datetime.strptime(until if "T" in until else until + "T235959", "%Y%m%dT%H%M%S")
        parts["UNTIL"] = local.replace(tzinfo=zone).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return vRecur.from_ical(";".join(f"{k}={v}" for k, v in parts.items()))


# ---------------------------------------------------------------------------------------------------- import


def too_large() -> IcsError:
    return IcsError("too-large", _("This calendar file is larger than 1 MB; Osler does not read it."))


def _precheck(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise too_large()
    if b"\x00" in data:
        raise IcsError("not-calendar", _("This file is not a calendar (.ics) file."))
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if not text[:15].upper().startswith("BEGIN:VCALENDAR"):
        raise IcsError("not-calendar", _("This file is not a calendar (.ics) file."))
    depth = components = 0
    for line in text.splitlines():
        head = line[:6].upper()
        if head == "BEGIN:":
            depth += 1
            components += 1
            if depth > MAX_DEPTH:
                raise IcsError("too-deep", _("This calendar file is nested too deeply to be a real calendar."))
            if components > MAX_COMPONENTS:
                raise IcsError(
                    "too-many-components",
                    _("This calendar file holds more than 5,000 entries; Osler does not read it."),
                )
        elif line[:4].upper() == "END:":
            depth -= 1


def _broken(detail: str = "") -> IcsError:
    message = _("A date in this calendar file cannot be read.")
    if detail:
        message = _("A date in this calendar file cannot be read: {what}.").format(what=detail)
    return IcsError("broken-dates", message)


class _Reader:
    """Resolves one parsed calendar's dates to aware datetimes (in the person's zone when floating)."""

    def __init__(self, calendar: Calendar, tz: str) -> None:
        self.local = ZoneInfo(tz)
        self.expanded = 0

    def when(self, prop: Any, summary: str) -> tuple[dt.datetime, bool]:
        """(aware start, is a whole day) of a date property."""
        try:
            value = prop.dt
        except (BrokenCalendarProperty, AttributeError) as error:
            raise _broken(summary) from error
        return self.aware(value, getattr(prop, "params", {}), summary)

    def aware(self, value: Any, params: Any, summary: str) -> tuple[dt.datetime, bool]:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                tzid = params.get("TZID") if params else None
                if tzid:
                    raise IcsError(
                        "unknown-tzid",
                        _("This calendar file uses the time zone “{tzid}” without describing it.").format(tzid=tzid),
                    )
                return value.replace(tzinfo=self.local), False
            return value, False
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time(), self.local), True
        raise _broken(summary)

    def dates(self, prop: Any, summary: str) -> list[dt.datetime]:
        """Every instant of an EXDATE/RDATE property (one or several lines)."""
        out = []
        for line in prop if isinstance(prop, list) else [prop]:
            try:
                values = line.dts
            except (BrokenCalendarProperty, AttributeError) as error:
                raise _broken(summary) from error
            for value in values:
                try:
                    inner = value.dt
                except (BrokenCalendarProperty, AttributeError) as error:
                    raise _broken(summary) from error
                if isinstance(inner, tuple):  # a PERIOD: its start
                    inner = inner[0]
                out.append(self.aware(inner, line.params, summary)[0])
        return out

    def expand(self, rule: Any, start: dt.datetime, whole_day: bool, limit: dt.datetime, summary: str):
        """The starts of a recurrence, up to ``limit``; counts against MAX_EXPANDED."""
        try:
            parts = dict(rule)
        except (BrokenCalendarProperty, TypeError, ValueError) as error:
            raise _broken(summary) from error
        until = parts.pop("UNTIL", None)
        until_at = None
        if until:
            value = until[0]
            if isinstance(value, dt.datetime):
                until_at = value if value.tzinfo else value.replace(tzinfo=start.tzinfo)
            else:
                until_at = dt.datetime.combine(value + dt.timedelta(days=1), dt.time(), start.tzinfo)
                until_at -= dt.timedelta(microseconds=1)
        text = _recur_text(parts)
        naive = start.replace(tzinfo=None)
        try:
            rule_set = du_rrule.rrulestr(text, dtstart=naive, forceset=True)
        except (ValueError, TypeError, OverflowError) as error:
            raise _broken(summary) from error
        for occurrence in rule_set:
            self.expanded += 1
            if self.expanded > MAX_EXPANDED:
                raise IcsError(
                    "too-many-events",
                    _("A repeating entry in this calendar file repeats too often to be read (“{what}”).").format(
                        what=summary
                    ),
                )
            at = occurrence.replace(tzinfo=start.tzinfo)
            if until_at is not None and at > until_at:
                return
            if at >= limit:
                return
            yield at


def _recur_text(parts: dict[str, Any]) -> str:
    return "RRULE:" + vRecur(parts).to_ical().decode()


def import_busy(data: bytes, start_ms: int, end_ms: int, *, tz: str = "UTC") -> list[tuple[int, int]]:
    """The busy intervals (UTC ms, merged, clipped to the window) an .ics holds between start_ms and end_ms.

    Events marked free (TRANSP:TRANSPARENT, STATUS:CANCELLED, Outlook's busy status FREE) are left out; floating
    times and all-day dates are read in ``tz``, the person's zone. Raises IcsError on anything it cannot read."""
    _precheck(data)
    try:
        calendars = Calendar.from_ical(data, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError, RecursionError, UnicodeError) as error:
        raise IcsError("not-calendar", _("This file is not a calendar (.ics) file.")) from error
    if not calendars or any(c.name != "VCALENDAR" for c in calendars):
        raise IcsError("not-calendar", _("This file is not a calendar (.ics) file."))
    window_start, window_end = _utc(start_ms), _utc(end_ms)
    busy: list[tuple[int, int]] = []
    for calendar in calendars:
        reader = _Reader(calendar, tz)
        masters: dict[str, list[Any]] = {}
        overrides: dict[str, dict[int, Any]] = {}
        for event in calendar.walk("VEVENT"):
            uid = str(event.get("UID", "")) or f"#{id(event)}"
            if "RECURRENCE-ID" in event:
                summary = str(event.get("SUMMARY", ""))
                rid, _day = reader.when(event["RECURRENCE-ID"], summary)
                overrides.setdefault(uid, {})[_ms(rid)] = event
            else:
                masters.setdefault(uid, []).append(event)
        for uid, events in masters.items():
            moved = overrides.pop(uid, {})
            for event in events:
                busy.extend(_event_busy(reader, event, moved, window_start, window_end))
        for moved in overrides.values():  # an override whose series is not in the file: an event of its own
            for event in moved.values():
                busy.extend(_event_busy(reader, event, {}, window_start, window_end))
    return _merge(busy, start_ms, end_ms)


def _is_busy(event: Any) -> bool:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    return str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "BUSY")).upper() != "FREE"


def _span(reader: _Reader, event: Any) -> tuple[dt.datetime, dt.timedelta, bool, str]:
    summary = str(event.get("SUMMARY", "")) or str(event.get("UID", ""))
    if "DTSTART" not in event:
        raise _broken(summary)
    start, whole_day = reader.when(event["DTSTART"], summary)
    if "DTEND" in event:
        end, _day = reader.when(event["DTEND"], summary)
        length = end - start if not whole_day else dt.timedelta(days=(end.date() - start.date()).days)
    elif "DURATION" in event:
        try:
            length = event["DURATION"].dt
        except (BrokenCalendarProperty, AttributeError) as error:
            raise _broken(summary) from error
        if not isinstance(length, dt.timedelta):
            raise _broken(summary)
    else:
        length = dt.timedelta(days=1) if whole_day else dt.timedelta()
    if length < dt.timedelta():
        raise IcsError(
            "broken-dates",
            _("An entry in this calendar file ends before it starts (“{what}”).").format(what=summary),
        )
    return start, length, whole_day, summary


def _event_busy(reader: _Reader, event: Any, moved: dict[int, Any], window_start, window_end):
    start, length, whole_day, summary = _span(reader, event)
    starts: list[dt.datetime]
    if "RRULE" in event or "RDATE" in event:
        starts = []
        rules = event["RRULE"] if isinstance(event.get("RRULE"), list) else [event.get("RRULE")]
        for rule in rules:
            if rule is not None:
                starts.extend(reader.expand(rule, start, whole_day, window_end, summary))
        if "RRULE" not in event:
            starts.append(start)
        if "RDATE" in event:
            starts.extend(reader.dates(event["RDATE"], summary))
        if "EXDATE" in event:
            skipped = {_ms(at) for at in reader.dates(event["EXDATE"], summary)}
            starts = [at for at in starts if _ms(at) not in skipped]
    else:
        starts = [start]
    out = []
    busy = _is_busy(event)
    for at in dict.fromkeys(starts):
        key = _ms(at)
        if key in moved:
            override = moved.pop(key)
            if _is_busy(override):
                o_start, o_length, _day, _s = _span(reader, override)
                out.append(_interval(o_start, o_length, whole_day))
            continue
        if busy:
            out.append(_interval(at, length, whole_day))
    for override in moved.values():  # moved from an occurrence outside the window, or one not generated
        if _is_busy(override):
            o_start, o_length, _day, _s = _span(reader, override)
            out.append(_interval(o_start, o_length, whole_day))
    return [(s, e) for s, e in out if e > _ms(window_start) and s < _ms(window_end)]


def _interval(start: dt.datetime, length: dt.timedelta, whole_day: bool) -> tuple[int, int]:
    if whole_day:  # whole days: local midnight to local midnight, whatever the length of those days
        end = dt.datetime.combine(start.date() + dt.timedelta(days=length.days), dt.time(), start.tzinfo)
        return _ms(start), _ms(end)
    return _ms(start), _ms(start) + round(length.total_seconds() * 1000)


def _merge(intervals: list[tuple[int, int]], start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted((max(s, start_ms), min(e, end_ms)) for s, e in intervals if e > s):
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def import_file(meetings: Any, name: str, data: bytes, start_ms: int, end_ms: int, *, tz: str = "UTC") -> int:
    """Read ``data`` whole, then replace the busy times of source "ics:<name>" at once; returns how many busy
    intervals it holds. A file that cannot be read raises IcsError before anything is stored."""
    intervals = import_busy(data, start_ms, end_ms, tz=tz)
    meetings.set_busy(f"ics:{name}", intervals)
    return len(intervals)
