"""The demo programme's meetings, as plain data (no I/O): when each demo mentor can meet and is usually online
(their card's ``avail``, from the habit their bio names), and what the newcomer's demo mentor sends besides the
offer: a first call already held, with notes that become a check-in in the plan, and a next meeting proposed on
two slots inside both availabilities. ``demo.greet`` seals and stores them in the mentor's thread.
"""

from __future__ import annotations

import hashlib

from desktop.domain.availability import Availability, Window
from desktop.domain.mentorship import DAY_MS
from desktop.domain.overlap import suggest

MINUTE_MS = 60_000
LINKS = ("generator", "4g", "wifi", "cafe", "wifi", "wifi", "3g", "campus", "cafe", "wifi", "2g", "cafe")  # by place
# What a bio's "usually online …" means: connectivity windows (days, from, to in local minutes) and the weekly
# times the mentor can meet (day, from, to); published on the card as its ``avail`` (``Availability.to_doc``).
HABITS = {
    "early mornings": ((range(7), 5 * 60, 8 * 60), ((0, 360, 450), (2, 360, 450), (4, 360, 450))),
    "lunchtimes": ((range(5), 12 * 60, 14 * 60), ((1, 750, 810), (3, 750, 810), (4, 720, 810))),
    "evenings": ((range(7), 18 * 60, 22 * 60), ((0, 1110, 1230), (2, 1110, 1230), (3, 1140, 1260))),
    "weekends": ((range(5, 7), 9 * 60, 18 * 60), ((5, 600, 780), (6, 840, 1020))),
}
# A student's evenings and weekends: what the newcomer is taken to have when the proposal is made
NEWCOMER_WEEKLY = tuple(Window(d, 18 * 60, 22 * 60) for d in range(5)) + tuple(Window(d, 600, 1080) for d in (5, 6))
HELD_DAYS = 6  # the first call was this many days before the newcomer joined
HELD_NOTES = {
    "progress": "Agreed a first topic and skimmed two review papers together. (Fictional demo notes.)",
    "blockers": "The campus library proxy drops on mobile data; PDFs are slow to open.",
    "next": "Pick three key papers and write one paragraph on each before our next call.",
}


def availability_doc(usually: str, tz: str, link: str) -> dict:
    """A demo mentor's availability document from their habit (what a card's ``avail`` carries)."""
    (days, start, end), weekly = HABITS[usually]
    return {"tz": tz, "w": [list(w) for w in weekly], "o": [[d, start, end, link] for d in days]}


def habit_of(bio: str) -> str:
    return next((habit for habit in HABITS if habit in bio), "evenings")


def _id(*parts: object) -> str:
    return hashlib.sha256("\0".join(map(str, ("osler demo meeting", *parts))).encode()).hexdigest()[:32]


def meeting_contents(mentor: str, card: dict, newcomer: str, mentorship: str, now: int, tz: str) -> list[dict]:
    """The ``meeting`` (and one ``mentorship`` check-in) contents the newcomer's demo mentor sends, oldest first,
    each with its own hybrid-clock ``h`` (from ``now``, the moment the newcomer joins) and author ``a``.
    ``tz``: the newcomer's zone (this computer's), used to find slots inside both availabilities."""
    mine = Availability.from_doc(card["avail"], mentor)
    held_at = (now - HELD_DAYS * DAY_MS) // (30 * MINUTE_MS) * (30 * MINUTE_MS)
    held = _id(newcomer, "held")
    notes_at = held_at + 50 * MINUTE_MS

    def stamp(at: int, n: int) -> int:
        return (at << 16) + n

    out: list[dict] = [
        {"op": "propose", "i": held, "o": newcomer, "k": "video", "t": "First call: getting started",
         "l": "", "z": mine.tz, "s": [[held_at, held_at + 45 * MINUTE_MS]], "rr": "", "m": mentorship},
        {"op": "notes", "i": held, "o": held_at, "n": {**HELD_NOTES, "at": notes_at}},
        {"op": "checkin", "m": mentorship, "checkin": {"by": mentor, "at": notes_at, **HELD_NOTES}},
    ]  # fmt: skip
    for n, content in enumerate(out):
        if content["op"] != "checkin":
            content.update(h=stamp(held_at + n * MINUTE_MS, n), a=mentor)
    theirs = Availability(newcomer, tz, weekly=NEWCOMER_WEEKLY)
    start = now + DAY_MS
    slots = suggest([mine, theirs], start, 45, count=2, days=14) or suggest([mine], start, 45, count=2, days=14)
    if slots:
        proposal = {"op": "propose", "i": _id(newcomer, "next"), "o": newcomer, "k": "video",
                    "t": "Next call: your three papers", "l": "", "z": mine.tz, "s": [list(s) for s in slots],
                    "rr": "", "m": mentorship, "h": stamp(now, 9), "a": mentor}  # fmt: skip
        out.append(proposal)
    return out
