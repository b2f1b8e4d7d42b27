"""A person's weekly availability (when they can meet) and connectivity windows (when they are usually online,
and on what link), in their own time zone.

It travels as a small JSON-able document: on their directory card (``avail``) when they share it with the whole
programme, or sealed to each mentorship partner (a ``meeting`` record ``{op: "avail"}``) when they share it only
with their mentorships. The documents come from other people, so ``from_doc`` checks everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from desktop.domain.meeting_time import DAY_MS, to_local, valid_zone, wall_to_ms
from desktop.i18n import N_

LINKS: dict[str, str] = {
    "2g": N_("2G mobile data"),
    "3g": N_("3G mobile data"),
    "4g": N_("4G mobile data"),
    "wifi": N_("Wi-Fi"),
    "cafe": N_("Cybercafé"),
    "campus": N_("Campus network"),
    "generator": N_("While the generator runs"),
}
SHARES = ("card", "mentorships")
MAX_WINDOWS = 28  # of each list: four a day


@dataclass(frozen=True, order=True)
class Window:
    day: int  # 0 = Monday … 6 = Sunday
    start: int  # local minutes 0..1440, start < end
    end: int

    def __post_init__(self) -> None:
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (self.day, self.start, self.end))
        if not ok or not 0 <= self.day <= 6 or not 0 <= self.start < self.end <= 1440:
            raise ValueError("a window is a day 0-6 and minutes 0 <= start < end <= 1440")


@dataclass(frozen=True, order=True)
class OnlineWindow(Window):
    link: str = "2g"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.link, str) or self.link not in LINKS:
            raise ValueError("unknown kind of link")


def _windows(value: object, online: bool) -> tuple:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_WINDOWS:
        raise ValueError("windows are a list of at most 28")
    out = []
    for item in value:
        if not isinstance(item, list) or len(item) != (4 if online else 3):
            raise ValueError("a window is [day, start, end] (and a link when online)")
        out.append(OnlineWindow(*item) if online else Window(*item))
    return tuple(sorted(set(out)))


@dataclass(frozen=True)
class Availability:
    account: str
    tz: str
    weekly: tuple[Window, ...] = ()  # when they can meet
    online: tuple[OnlineWindow, ...] = ()  # connectivity windows: when they are usually online, on what link
    share: str = "card"  # "card" (everyone in the programme) | "mentorships" (only partners)
    hlc: int = 0
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def to_doc(self) -> dict:
        """The document a card's ``avail`` (or a sealed ``avail`` op) carries: zone, weekly, online, hlc."""
        return {
            "tz": self.tz,
            "w": [[w.day, w.start, w.end] for w in self.weekly],
            "o": [[w.day, w.start, w.end, w.link] for w in self.online],
            "h": self.hlc,
        }

    @staticmethod
    def from_doc(doc: dict, account: str, share: str = "card") -> Availability:
        """Read a document someone else wrote; ValueError on anything out of bounds (an unknown zone, more
        than 28 windows of a kind, minutes out of range, an unknown link)."""
        if not isinstance(doc, dict):
            raise ValueError("availability is a map")
        tz, hlc = doc.get("tz"), doc.get("h", 0)
        if not isinstance(tz, str) or not valid_zone(tz):
            raise ValueError("availability names an unknown time zone")
        if not isinstance(hlc, int) or isinstance(hlc, bool) or not 0 <= hlc < 2**64:
            raise ValueError("bad clock")
        if share not in SHARES:
            raise ValueError("share is card or mentorships")
        return Availability(account, tz, _windows(doc.get("w"), False), _windows(doc.get("o"), True), share, hlc)

    def online_hours(self) -> tuple[tuple[int, int], ...]:
        """The whole local hours they are online on any day, as (from, to) hour ranges: what a card's
        ``windows`` means to matching ("same hours"), so the two never disagree. At most 7 ranges."""
        hours: set[int] = set()
        for w in self.online:
            hours.update(range(w.start // 60, -(-w.end // 60)))
        ranges: list[list[int]] = []
        for hour in sorted(hours):
            if ranges and ranges[-1][1] == hour:
                ranges[-1][1] = hour + 1
            else:
                ranges.append([hour, hour + 1])
        return tuple((a, b) for a, b in ranges[:7])

    def week_intervals(self, windows: tuple[Window, ...], start_ms: int, days: int) -> list[tuple[int, int]]:
        """``windows`` as UTC ms intervals over ``days`` local days from the local day holding ``start_ms``; each
        local day is converted with its own offset (so a daylight-saving change moves them correctly)."""
        key = (id(windows), start_ms, days)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        by_day: dict[int, list[Window]] = {}
        for w in windows:
            by_day.setdefault(w.day, []).append(w)
        first = to_local(start_ms, self.tz).date()
        out: list[tuple[int, int]] = []
        for n in range(days):
            day = first + dt.timedelta(days=n)
            todays = by_day.get(day.weekday())
            if not todays:
                continue
            base = dt.datetime(day.year, day.month, day.day)
            for w in todays:
                a = wall_to_ms(self.tz, base + dt.timedelta(minutes=w.start), strict=False)
                b = wall_to_ms(self.tz, base + dt.timedelta(minutes=w.end), strict=False)
                if b > a:
                    out.append((a, b))
        out.sort()
        merged: list[tuple[int, int]] = []
        for a, b in out:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[key] = merged
        return merged

    def next_online(self, now_ms: int) -> int | None:
        """The start of the next connectivity window (UTC ms), ``now_ms`` when inside one; None without any."""
        if not self.online:
            return None
        for a, b in self.week_intervals(self.online, now_ms - DAY_MS, 9):
            if b > now_ms:
                return max(a, now_ms)
        return None

    def online_now(self, now_ms: int) -> OnlineWindow | None:
        """The connectivity window holding ``now_ms``, if any."""
        local = to_local(now_ms, self.tz)
        minute = local.hour * 60 + local.minute
        return next((w for w in self.online if w.day == local.weekday() and w.start <= minute < w.end), None)
