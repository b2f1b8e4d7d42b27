"""The overlap finder: when people many zones apart can all meet, across daylight-saving weeks, with busy times
kept out; the coverage grid a circle's group meeting reads; availability documents from other people checked."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.domain import directory
from desktop.domain.availability import Availability, OnlineWindow, Window
from desktop.domain.meeting_time import DAY_MS, HOUR_MS, MINUTE_MS, week_start
from desktop.domain.overlap import coverage, intervals, overlap, subtract, suggest

MON, TUE, WED, SUN = 0, 1, 2, 6


def utc(*parts: int) -> int:
    return int(dt.datetime(*parts, tzinfo=dt.UTC).timestamp() * 1000)


def hours(h: float) -> int:
    return int(h * 60)


# Tuesdays 18:00-20:00 in London; Tuesdays 09:00-12:00 in Los Angeles
LONDON = Availability("ldn", "Europe/London", (Window(TUE, hours(18), hours(20)),))
LA = Availability("la", "America/Los_Angeles", (Window(TUE, hours(9), hours(12)),))


def test_london_and_los_angeles_overlap_moves_with_each_change():
    # 3 March: both on standard time. London 18-20 UTC, Los Angeles 17-20 UTC -> 18:00-20:00 UTC
    assert overlap([LONDON, LA], utc(2026, 3, 2)) == [(utc(2026, 3, 3, 18), utc(2026, 3, 3, 20))]
    # 10 March: Los Angeles moved on 8 March (16-19 UTC), London not yet -> one hour
    assert overlap([LONDON, LA], utc(2026, 3, 9)) == [(utc(2026, 3, 10, 18), utc(2026, 3, 10, 19))]
    # 31 March: London moved on 29 March too (17-19 UTC) -> 17:00-19:00 UTC
    assert overlap([LONDON, LA], utc(2026, 3, 30)) == [(utc(2026, 3, 31, 17), utc(2026, 3, 31, 19))]
    # a fortnight across London's change, asked in one call
    assert overlap([LONDON, LA], utc(2026, 3, 23), days=14) == [
        (utc(2026, 3, 24, 18), utc(2026, 3, 24, 19)),
        (utc(2026, 3, 31, 17), utc(2026, 3, 31, 19)),
    ]


def test_a_window_over_the_night_of_the_change_is_an_hour_shorter():
    night = Availability("n", "Europe/London", (Window(SUN, 0, hours(4)),))
    (a, b), *_ = intervals(night, utc(2026, 3, 23), 7)
    assert (a, b) == (utc(2026, 3, 29, 0), utc(2026, 3, 29, 3))  # 00:00 GMT to 04:00 BST: three hours
    (a, b), *_ = intervals(Availability("n", "Europe/London", (Window(SUN, 0, hours(4)),)), utc(2026, 10, 19), 7)
    assert b - a == 5 * HOUR_MS  # 25 October: the clocks go back, five hours


def test_quarter_hour_zones_across_the_date_line_and_busy_times_removed():
    # Monday 20:00-23:00 in Kathmandu (+5:45) is 14:15-17:15 UTC; Tuesday 04:00-06:00 in Chatham (+13:45 in
    # March) is Monday 14:15-16:15 UTC: they overlap on different local days
    kathmandu = Availability("k", "Asia/Kathmandu", (Window(MON, hours(20), hours(23)),))
    chatham = Availability("c", "Pacific/Chatham", (Window(TUE, hours(4), hours(6)),))
    start = utc(2026, 3, 2)
    assert overlap([kathmandu, chatham], start) == [(utc(2026, 3, 2, 14, 15), utc(2026, 3, 2, 16, 15))]
    busy = [(utc(2026, 3, 2, 15), utc(2026, 3, 2, 15, 30))]
    assert overlap([kathmandu, chatham], start, busy=busy) == [
        (utc(2026, 3, 2, 14, 15), utc(2026, 3, 2, 15)),
        (utc(2026, 3, 2, 15, 30), utc(2026, 3, 2, 16, 15)),
    ]
    # what is left shorter than an hour does not count when an hour is asked for
    assert overlap([kathmandu, chatham], start, busy=busy, min_minutes=60) == []
    # nobody in common, or nobody at all
    nairobi_morning = Availability("n", "Africa/Nairobi", (Window(WED, hours(6), hours(7)),))
    assert overlap([kathmandu, nairobi_morning], start) == [] and overlap([], start) == []


def test_subtract_handles_busy_times_in_any_order_and_over_edges():
    spans = [(0, 100), (200, 300)]
    assert subtract(spans, [(250, 400), (-50, 10), (40, 60)]) == [(10, 40), (60, 100), (200, 250)]
    assert subtract(spans, [(0, 300)]) == []


def test_coverage_counts_who_can_come_in_each_half_hour_across_zones():
    sao_paulo = Availability("sp", "America/Sao_Paulo", (Window(TUE, hours(14), hours(17)),))  # 17-20 UTC
    tehran = Availability(
        "th",
        "Asia/Tehran",
        (
            Window(
                TUE,
                hours(21),
                hours(
                    23,
                ),
            ),
        ),
    )  # 17:30-19:30 UTC
    start = utc(2026, 3, 2)
    cells = coverage([LONDON, LA, sao_paulo, tehran], start)
    assert len(cells) == 7 * 48 and cells[0].start == start and cells[-1].end == start + 7 * DAY_MS
    by_start = {c.start: c.free for c in cells}
    assert by_start[utc(2026, 3, 3, 17)] == {"la", "sp"}
    assert by_start[utc(2026, 3, 3, 17, 30)] == {"la", "sp", "th"}
    assert by_start[utc(2026, 3, 3, 18)] == {"ldn", "la", "sp", "th"}
    assert by_start[utc(2026, 3, 3, 19, 30)] == {"ldn", "la", "sp"}
    assert by_start[utc(2026, 3, 3, 20)] == frozenset()
    # a busy hour for one person takes them out of those cells only
    busy = {"ldn": [(utc(2026, 3, 3, 18), utc(2026, 3, 3, 19))]}
    by_start = {c.start: c.free for c in coverage([LONDON, LA, sao_paulo, tehran], start, busy=busy)}
    assert "ldn" not in by_start[utc(2026, 3, 3, 18, 30)] and "ldn" in by_start[utc(2026, 3, 3, 19)]


def test_suggestions_are_spread_over_days_and_never_before_now():
    evenings = Availability("a", "Europe/London", tuple(Window(d, hours(18), hours(21)) for d in range(5)))
    mornings = Availability("b", "America/Sao_Paulo", tuple(Window(d, hours(14), hours(18)) for d in range(5)))
    start = week_start(utc(2026, 3, 4), "Europe/London")
    picked = suggest([evenings, mornings], start, 60, count=3, not_before_ms=utc(2026, 3, 3, 19))
    assert len(picked) == 3 and all(b - a == HOUR_MS for a, b in picked)
    assert len({a // DAY_MS for a, _ in picked}) == 3  # three different days
    assert picked[0] == (utc(2026, 3, 3, 19), utc(2026, 3, 3, 20))  # Monday's evening is gone, Tuesday's late part left
    assert all(a % (30 * MINUTE_MS) == 0 for a, _ in picked)


def test_online_hours_are_what_the_card_windows_say_and_next_online_is_found():
    av = Availability(
        "me",
        "Africa/Nairobi",
        online=(OnlineWindow(MON, hours(19), hours(21.5), "cafe"), OnlineWindow(WED, hours(6), hours(7), "generator")),
    )
    assert av.online_hours() == ((6, 7), (19, 22))
    # Monday 2 March 2026, 18:20 in Nairobi (15:20 UTC): the café window opens at 19:00 (16:00 UTC)
    assert av.next_online(utc(2026, 3, 2, 15, 20)) == utc(2026, 3, 2, 16)
    assert av.next_online(utc(2026, 3, 2, 17)) == utc(2026, 3, 2, 17)  # inside it: now
    assert av.next_online(utc(2026, 3, 2, 19)) == utc(2026, 3, 4, 3)  # next: Wednesday 06:00 Nairobi
    assert Availability("x", "UTC").next_online(0) is None


def test_availability_documents_round_trip_and_hostile_ones_are_refused():
    av = Availability("me", "Asia/Kathmandu", (Window(TUE, 60, 120),), (OnlineWindow(MON, 0, 1440, "wifi"),), hlc=7)
    assert Availability.from_doc(av.to_doc(), "me") == av
    hostile = [
        {"tz": "Nowhere/Land", "w": []},
        {"tz": "UTC", "w": [[7, 0, 60]]},
        {"tz": "UTC", "w": [[0, 60, 60]]},
        {"tz": "UTC", "w": [[0, -5, 60]]},
        {"tz": "UTC", "w": [[0, 0, 1441]]},
        {"tz": "UTC", "w": [[0, 0, 60]] * 29},
        {"tz": "UTC", "o": [[0, 0, 60, "satellite"]]},
        {"tz": "UTC", "o": [[0, 0, 60]]},
        {"tz": "UTC", "o": [[0, 0, 60, ["wifi"]]]},
        {"tz": ["UTC"]},
        {"tz": "UTC", "w": "all week"},
        {"tz": "UTC", "w": [[True, 0, 60]]},
        {"tz": "UTC", "h": -1},
        "not a map",
    ]
    for doc in hostile:
        with pytest.raises(ValueError):
            Availability.from_doc(doc, "them")  # type: ignore[arg-type]
        # on a card (whose record's clock is the availability's): the card is still read, without availability
        if not (isinstance(doc, dict) and "h" in doc):
            assert directory._availability({"avail": doc}, "them", 5) is None
    on_card = directory._availability({"avail": av.to_doc()}, "them", 5)
    assert on_card is not None and on_card.hlc == 5 and on_card.weekly == av.weekly
