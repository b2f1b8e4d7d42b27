"""Meeting reminders, worked out from the local calendar alone (so they come offline too): a day before, an hour
before and at the start of every confirmed meeting, and one timed against the other person's connectivity
windows ("Dr Ama is usually online in 40 minutes", or "usually offline at that time"). ``due`` is pure; ``Fired``
remembers, sealed in the vault, which reminders already made a desktop notification, so each fires once.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desktop.domain.availability import Availability
from desktop.domain.meetings import Meeting
from desktop.i18n import _
from desktop.vault import Vault

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
START_GRACE_MS = 15 * MINUTE_MS  # "starting now" stays on Home this long after the start
ONLINE_LEAD_MS = HOUR_MS  # "usually online in 40 minutes" comes an hour before they come online
FIRED = "reminders-fired"
KEEP_MS = 3 * DAY_MS  # fired marks are forgotten this long after their meeting started

# kind -> how long before the start it becomes due, and until when (relative to the start) it stays due
ORDER = ("day", "hour", "start", "online", "offline")
TIMED = {"day": (DAY_MS, HOUR_MS), "hour": (HOUR_MS, 0), "start": (0, -START_GRACE_MS)}


@dataclass(frozen=True)
class Reminder:
    kind: str  # "day" | "hour" | "start" | "online" (they come online before it) | "offline" (outside their windows)
    meeting: str  # meeting id
    title: str
    other: str  # the other person's account
    start: int  # the occurrence's start, UTC ms
    end: int
    due: int  # when it became due, UTC ms
    online_at: int = 0  # "online": when their window opens; "offline": when their last window before it ends

    @property
    def key(self) -> str:
        """What "fired once" remembers: this kind of reminder for this occurrence of this meeting."""
        return f"{self.meeting}:{self.start}:{self.kind}"


def _zone(tz: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def due(
    meetings: Iterable[Meeting],
    me_av: Availability | None,
    their_av: Mapping[str, Availability | None] | Callable[[str], Availability | None],
    now_ms: int,
    *,
    me: str = "",
) -> list[Reminder]:
    """The reminders due at ``now_ms`` for confirmed ``meetings`` (core's Meeting: occurrences in a window),
    soonest meeting first. ``their_av`` gives the other person's Availability by account (or None when they
    shared none: then no connectivity reminder). ``me`` (or ``me_av.account``) tells which side of each
    meeting is mine."""
    lookup = their_av.get if isinstance(their_av, Mapping) else their_av
    out: list[Reminder] = []
    for meeting in meetings:
        if getattr(meeting, "state", "confirmed") != "confirmed":
            continue
        for slot in meeting.occurrences(now_ms - START_GRACE_MS, now_ms + DAY_MS + 1):
            if slot.start + START_GRACE_MS <= now_ms or slot.start - DAY_MS > now_ms:
                continue

            other = _other(meeting, me or getattr(me_av, "account", ""))

            def add(kind: str, at: int, online_at: int = 0, slot=slot, meeting=meeting, other=other) -> None:
                out.append(Reminder(kind, meeting.id, meeting.title, other, slot.start, slot.end, at, online_at))

            for kind, (before, until) in TIMED.items():
                if slot.start - before <= now_ms < slot.start - until:
                    add(kind, slot.start - before)
            av = lookup(other) if other else None
            if av is None or not getattr(av, "online", ()):
                continue
            windows = av.week_intervals(av.online, slot.start - 2 * DAY_MS, 4)  # UTC, DST-correct per day
            inside = next((w for w in windows if w[0] <= slot.start < w[1]), None)
            if inside is None:  # they are usually offline when it starts: say so a day ahead
                before = [w for w in windows if w[1] <= slot.start]
                if slot.start - DAY_MS <= now_ms < slot.start:
                    add("offline", slot.start - DAY_MS, before[-1][1] if before else 0)
            elif inside[0] > now_ms:  # they come online before it: say when, an hour ahead
                at = min(slot.start, inside[0]) - ONLINE_LEAD_MS
                if at <= now_ms < inside[0]:
                    add("online", at, inside[0])
    return sorted(out, key=lambda r: (r.start, ORDER.index(r.kind)))


def _other(meeting: Meeting, me: str) -> str:
    """The other person of a meeting, whichever side of it I am."""
    return meeting.partner(me) if me else meeting.other


def describe(reminder: Reminder, name: str, my_tz: str, now_ms: int) -> str:
    """A sentence for a person, in the UI language, times in ``my_tz``."""
    from desktop.formatting import format_time

    zone = _zone(my_tz)
    start = datetime.datetime.fromtimestamp(reminder.start / 1000, datetime.UTC)
    when = format_time(start, tz=zone)
    title = reminder.title or _("Meeting")
    if reminder.kind == "day":
        today = datetime.datetime.fromtimestamp(now_ms / 1000, zone).date() == start.astimezone(zone).date()
        sentence = _("Today at {time}: {title} with {name}") if today else _("Tomorrow at {time}: {title} with {name}")
        return sentence.format(time=when, title=title, name=name)
    if reminder.kind == "hour":
        minutes = max(1, -(-(reminder.start - now_ms) // MINUTE_MS))
        return _("In {minutes} min ({time}): {title} with {name}").format(
            minutes=minutes, time=when, title=title, name=name
        )
    if reminder.kind == "start":
        return _("Starting now ({time}): {title} with {name}").format(time=when, title=title, name=name)
    if reminder.kind == "online":
        minutes = max(1, -(-(reminder.online_at - now_ms) // MINUTE_MS))
        return _("{name} is usually online in {minutes} minutes").format(name=name, minutes=minutes)
    if reminder.online_at:
        ends = format_time(datetime.datetime.fromtimestamp(reminder.online_at / 1000, datetime.UTC), tz=zone)
        return _("{name} is usually offline at that time ({time}): last online window ends {end} your time").format(
            name=name, time=when, end=ends
        )
    return _("{name} is usually offline at that time ({time})").format(name=name, time=when)


class Fired:
    """Which reminders already made a notification, sealed in the vault (a small JSON map key -> start)."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def _load(self) -> dict[str, int]:
        raw = self.vault.get_secret(FIRED)
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = {}
        return {k: v for k, v in doc.items() if isinstance(k, str) and isinstance(v, int)}

    def take(self, reminders: Iterable[Reminder], now_ms: int) -> list[Reminder]:
        """The reminders not fired before, now marked fired (marks older than a few days dropped)."""
        fired = self._load()
        new = [r for r in reminders if r.key not in fired]
        if not new:
            return []
        fired.update({r.key: r.start for r in new})
        fired = {k: v for k, v in fired.items() if v > now_ms - KEEP_MS}
        self.vault.put_secret(FIRED, json.dumps(fired, separators=(",", ":")).encode())
        return new


# -- a session's reminders (Home and the app's reminder timer) -------------------------------------------------


def other_side(session: object, meeting: object) -> str:
    """The other person of ``meeting`` for this session's person."""
    return _other(meeting, session.program.credentials.account.hex())  # type: ignore[attr-defined]


def my_zone(session: object) -> str:
    """My zone: my availability's, else my card's, else this computer's."""
    from desktop.domain.matching import local_zone

    meetings = getattr(session, "meetings", None)
    mine = meetings.my_availability() if meetings is not None else None
    card = session.my_card()  # type: ignore[attr-defined]
    return (mine.tz if mine is not None else "") or (card.tz if card is not None else "") or local_zone()


def their_zone(session: object, account: str) -> str:
    """Their zone: from the availability they shared, else their card, else UTC."""
    meetings = getattr(session, "meetings", None)
    theirs = meetings.availability(account) if meetings is not None else None
    if theirs is not None and theirs.tz:
        return theirs.tz
    card = next((c for c in session.cards() if c.account == account), None)  # type: ignore[attr-defined]
    return (card.tz if card is not None else "") or "UTC"


def session_reminders(session: object, now_ms: int) -> list[Reminder]:
    """The reminders due now for this session's person, from the meetings in the vault (offline)."""
    meetings = getattr(session, "meetings", None)
    if meetings is None or session.vault.is_locked:  # type: ignore[attr-defined]
        return []
    me = session.program.credentials.account.hex()  # type: ignore[attr-defined]
    return due(meetings.meetings(), meetings.my_availability(), meetings.availability, now_ms, me=me)
