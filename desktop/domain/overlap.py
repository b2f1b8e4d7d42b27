"""The overlap finder: when everyone can meet, how many can meet in each half hour, and the best slots.

Pure interval arithmetic on UTC milliseconds. Each person's weekly windows are laid out day by day in their own
zone, each local day with its own offset, so a week that crosses a daylight-saving change stays right.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from desktop.domain.availability import Availability
from desktop.domain.meeting_time import DAY_MS, MINUTE_MS

Interval = tuple[int, int]


def merge(spans: Sequence[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined; empty ones dropped."""
    out: list[Interval] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def intersect(first: Sequence[Interval], second: Sequence[Interval]) -> list[Interval]:
    """The intersection of two merged, sorted lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(first) and j < len(second):
        a, b = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if a < b:
            out.append((a, b))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(spans: Sequence[Interval], busy: Sequence[Interval]) -> list[Interval]:
    """``spans`` (merged, sorted) without any part of ``busy`` (any order)."""
    busy = merge(busy)
    out: list[Interval] = []
    j = 0
    for a, b in spans:
        while j < len(busy) and busy[j][1] <= a:
            j += 1
        k, cursor = j, a
        while k < len(busy) and busy[k][0] < b:
            if busy[k][0] > cursor:
                out.append((cursor, busy[k][0]))
            cursor = max(cursor, busy[k][1])
            k += 1
        if cursor < b:
            out.append((cursor, b))
    return out


def intervals(av: Availability, start_ms: int, days: int = 7) -> list[Interval]:
    """When ``av``'s person can meet from ``start_ms`` over ``days`` days, as merged sorted UTC ms intervals."""
    end = start_ms + days * DAY_MS
    laid = av.week_intervals(av.weekly, start_ms - DAY_MS, days + 2)  # their local days around the range
    return [(max(a, start_ms), min(b, end)) for a, b in laid if b > start_ms and a < end]


def overlap(
    people: Sequence[Availability],
    start_ms: int,
    days: int = 7,
    busy: Sequence[Interval] = (),
    min_minutes: int = 30,
) -> list[Interval]:
    """When everyone in ``people`` is free (``busy`` removed), in spans of at least ``min_minutes``."""
    if not people:
        return []
    common = intervals(people[0], start_ms, days)
    for av in people[1:]:
        if not common:
            break
        common = intersect(common, intervals(av, start_ms, days))
    if busy:
        common = subtract(common, busy)
    return [(a, b) for a, b in common if b - a >= min_minutes * MINUTE_MS]


@dataclass(frozen=True)
class Cell:
    start: int
    end: int
    free: frozenset[str]  # accounts free for the whole cell


def coverage(
    people: Sequence[Availability],
    start_ms: int,
    days: int = 7,
    step_minutes: int = 30,
    busy: Mapping[str, Sequence[Interval]] | None = None,
) -> list[Cell]:
    """The range cut into ``step_minutes`` cells, each with the accounts free for the whole of it."""
    step = step_minutes * MINUTE_MS
    count = days * DAY_MS // step
    free: list[set[str]] = [set() for _ in range(count)]
    for av in people:
        spans = intervals(av, start_ms, days)
        if busy and busy.get(av.account):
            spans = subtract(spans, busy[av.account])
        for a, b in spans:
            first = -(-(a - start_ms) // step)  # the first cell starting at or after a
            last = (b - start_ms) // step  # cells ending at or before b
            for n in range(max(first, 0), min(last, count)):
                free[n].add(av.account)
    return [Cell(start_ms + n * step, start_ms + (n + 1) * step, frozenset(f)) for n, f in enumerate(free)]


def suggest(
    people: Sequence[Availability],
    start_ms: int,
    duration_minutes: int,
    count: int = 3,
    busy: Sequence[Interval] = (),
    not_before_ms: int = 0,
    days: int = 7,
) -> list[Interval]:
    """Up to ``count`` slots of ``duration_minutes`` when everyone can meet, spread over different days first,
    each starting on a half hour (earliest first within a day), none before ``not_before_ms``."""
    length = duration_minutes * MINUTE_MS
    half = 30 * MINUTE_MS
    candidates: list[Interval] = []
    for a, b in overlap(people, start_ms, days, busy, min_minutes=duration_minutes):
        a = max(a, not_before_ms)
        a = -(-a // half) * half  # the next half hour (UTC half hours are local ones in every zone but a few)
        if a + length <= b:
            candidates.append((a, a + length))
    chosen: list[Interval] = []
    days_used: set[int] = set()
    for slot in candidates:  # one a day first
        if len(chosen) < count and slot[0] // DAY_MS not in days_used:
            chosen.append(slot)
            days_used.add(slot[0] // DAY_MS)
    for slot in candidates:
        if len(chosen) < count and slot not in chosen:
            chosen.append(slot)
    return sorted(chosen)
