"""Time-zone math for meetings: eight zones with whole, half and three-quarter hour offsets, both daylight-saving
edges in London, Los Angeles and Chatham, and slots shown in both people's local times. Fixed dates only."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop import i18n
from desktop.domain import recurrence
from desktop.domain.meeting_time import (
    HOUR_MS,
    MINUTE_MS,
    LocalTimeError,
    check_local,
    explain,
    format_pair,
    format_slot,
    local_to_ms,
    to_local,
    valid_zone,
    week_start,
)

ZONES = (
    "Africa/Nairobi",
    "Europe/London",
    "America/Sao_Paulo",
    "Asia/Tehran",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Pacific/Apia",
    "America/Los_Angeles",
)


def utc(*parts: int) -> int:
    return int(dt.datetime(*parts, tzinfo=dt.UTC).timestamp() * 1000)


def clean(text: str) -> str:
    """Babel's English times put a narrow no-break space before AM/PM."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


# 09:00 local on 15 January and 15 July 2026, and the UTC instant each is (offsets worked out by hand: Chatham is
# +13:45 in its summer and +12:45 in its winter; Apia, São Paulo and Tehran keep no daylight saving any more).
NINE_AM = {
    "Africa/Nairobi": (utc(2026, 1, 15, 6), utc(2026, 7, 15, 6)),
    "Europe/London": (utc(2026, 1, 15, 9), utc(2026, 7, 15, 8)),
    "America/Sao_Paulo": (utc(2026, 1, 15, 12), utc(2026, 7, 15, 12)),
    "Asia/Tehran": (utc(2026, 1, 15, 5, 30), utc(2026, 7, 15, 5, 30)),
    "Asia/Kathmandu": (utc(2026, 1, 15, 3, 15), utc(2026, 7, 15, 3, 15)),
    "Pacific/Chatham": (utc(2026, 1, 14, 19, 15), utc(2026, 7, 14, 20, 15)),
    "Pacific/Apia": (utc(2026, 1, 14, 20), utc(2026, 7, 14, 20)),
    "America/Los_Angeles": (utc(2026, 1, 15, 17), utc(2026, 7, 15, 16)),
}


@pytest.mark.parametrize("tz", ZONES)
def test_nine_in_the_morning_in_eight_zones_is_the_right_instant_and_back(tz):
    assert valid_zone(tz)
    for day, expected in zip((dt.date(2026, 1, 15), dt.date(2026, 7, 15)), NINE_AM[tz], strict=True):
        assert check_local(tz, day, 9 * 60) == "ok"
        at = local_to_ms(tz, day, 9 * 60)
        assert at == expected
        back = to_local(at, tz)
        assert (back.date(), back.hour, back.minute) == (day, 9, 0)


def test_unknown_zones_are_refused_plainly():
    for bad in ("Mars/Olympus_Mons", "", "../../etc/passwd", "x" * 500):
        assert not valid_zone(bad)
        with pytest.raises(LocalTimeError) as caught:
            local_to_ms(bad, dt.date(2026, 1, 1), 60)
        assert caught.value.code == "zone"
    assert "not a time zone" in explain(LocalTimeError("zone", "Mars/Olympus_Mons"), "en")


# (zone, day, minute): the spring-forward gap and the fall-back fold, on each zone's own dates in 2026
GAPS = [
    ("Europe/London", dt.date(2026, 3, 29), 90),  # last Sunday of March: 01:00 → 02:00
    ("America/Los_Angeles", dt.date(2026, 3, 8), 150),  # second Sunday of March: 02:00 → 03:00
    ("Pacific/Chatham", dt.date(2026, 9, 27), 3 * 60),  # last Sunday of September: 02:45 → 03:45
]
FOLDS = [
    # zone, day, minute, first instant (daylight time), second instant (standard time)
    ("Europe/London", dt.date(2026, 10, 25), 90, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
    ("America/Los_Angeles", dt.date(2026, 11, 1), 90, utc(2026, 11, 1, 8, 30), utc(2026, 11, 1, 9, 30)),
]


@pytest.mark.parametrize(("tz", "day", "minute"), GAPS)
def test_a_wall_time_the_clocks_jump_over_is_refused_with_an_explanation(tz, day, minute):
    assert check_local(tz, day, minute) == "gap"
    with pytest.raises(LocalTimeError) as caught:
        local_to_ms(tz, day, minute)
    assert caught.value.code == "gap"
    with pytest.raises(LocalTimeError):
        local_to_ms(tz, day, minute, fold=1)  # no fold makes a time that does not exist
    sentence = explain(caught.value, "en")
    assert "does not exist" in sentence and tz.split("/")[1].replace("_", " ") in sentence  # "London", "Chatham"
    # the minutes on either side of the gap exist
    assert check_local(tz, day, minute - 60) == "ok" and check_local(tz, day, minute + 60) == "ok"


@pytest.mark.parametrize(("tz", "day", "minute", "first", "second"), FOLDS)
def test_a_wall_time_that_happens_twice_asks_which_one(tz, day, minute, first, second):
    assert check_local(tz, day, minute) == "fold"
    with pytest.raises(LocalTimeError) as caught:
        local_to_ms(tz, day, minute)
    assert caught.value.code == "fold" and "happens twice" in explain(caught.value, "en")
    assert local_to_ms(tz, day, minute, fold=0) == first
    assert local_to_ms(tz, day, minute, fold=1) == second == first + HOUR_MS


def test_zones_without_daylight_saving_have_no_gaps_or_folds():
    for tz in ("Africa/Nairobi", "America/Sao_Paulo", "Asia/Tehran", "Asia/Kathmandu", "Pacific/Apia"):
        for day in (dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2026, 3, 8), dt.date(2026, 11, 1)):
            assert {check_local(tz, day, m) for m in range(0, 1440, 15)} == {"ok"}


def test_explanations_are_translated():
    i18n.set_locale("fr")
    try:
        sentence = explain(LocalTimeError("gap", "Europe/London", dt.datetime(2026, 3, 29, 1, 30)), "fr")
    finally:
        i18n.set_locale("en")
    assert sentence.startswith("dim. 29 mars, 01:30 n’existe pas") and "Londres" in sentence


def test_a_slot_shows_each_persons_local_time_and_the_others_day_when_it_differs():
    # Tuesday 3 March 2026, 09:00-10:00 in Apia (+13) is Monday 2 March, 12:00-13:00 in Los Angeles (-8)
    start = local_to_ms("Pacific/Apia", dt.date(2026, 3, 3), 9 * 60)
    assert start == utc(2026, 3, 2, 20)
    mine, theirs = (clean(s) for s in format_pair(start, start + HOUR_MS, "Pacific/Apia", "America/Los_Angeles", "en"))
    assert mine == "Tue, Mar 3, 9:00 AM–10:00 AM"
    assert theirs == "Mon, Mar 2, 12:00 PM–1:00 PM"
    # seen from Los Angeles, the other person's day (Tuesday) is named
    mine, theirs = (clean(s) for s in format_pair(start, start + HOUR_MS, "America/Los_Angeles", "Pacific/Apia", "en"))
    assert mine.startswith("Mon, Mar 2") and theirs.startswith("Tue, Mar 3") and "9:00 AM" in theirs
    # London and Nairobi share the day: the other side is only times
    evening = local_to_ms("Europe/London", dt.date(2026, 3, 3), 18 * 60)
    mine, theirs = format_pair(evening, evening + 30 * MINUTE_MS, "Europe/London", "Africa/Nairobi", "fr")
    assert mine == "mar. 3 mars, 18:00–18:30" and theirs == "21:00–21:30"


def test_slots_in_odd_offsets_and_a_slot_over_midnight():
    start = local_to_ms("Asia/Kathmandu", dt.date(2026, 5, 5), 23 * 60 + 15)
    assert clean(format_slot(start, start + 45 * MINUTE_MS, "Asia/Kathmandu", "en")) == "Tue, May 5, 11:15 PM–12:00 AM"
    assert clean(format_slot(start, start + 90 * MINUTE_MS, "Asia/Kathmandu", "en")) == (
        "Tue, May 5, 11:15 PM – Wed, May 6, 12:45 AM"
    )
    tehran, chatham = format_pair(start, start + 45 * MINUTE_MS, "Asia/Tehran", "Pacific/Chatham", "en")
    assert clean(tehran) == "Tue, May 5, 9:00 PM–9:45 PM"  # +3:30
    assert clean(chatham) == "Wed, May 6, 6:15 AM–7:00 AM"  # +12:45 (winter)


def test_week_start_is_local_monday_midnight_across_a_change():
    # Wednesday 1 April 2026 in London (after the change on 29 March): the week began Monday 30 March, 00:00 BST
    assert week_start(utc(2026, 4, 1, 12), "Europe/London") == utc(2026, 3, 29, 23)
    # the week holding the change itself began in GMT
    assert week_start(utc(2026, 3, 29, 12), "Europe/London") == utc(2026, 3, 23, 0)
    # late Sunday evening UTC is already Monday in Apia
    assert week_start(utc(2026, 3, 8, 20), "Pacific/Apia") == utc(2026, 3, 8, 11)


def test_recurrence_rules_outside_what_osler_repeats_are_refused():
    for good in ("FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "FREQ=MONTHLY;BYDAY=2TU;COUNT=12",
                 "FREQ=DAILY;UNTIL=20260401", "FREQ=WEEKLY;UNTIL=20260401T170000Z"):  # fmt: skip
        assert recurrence.valid(good), good
    for bad in ("FREQ=SECONDLY", "FREQ=YEARLY", "FREQ=WEEKLY;INTERVAL=9", "FREQ=WEEKLY;COUNT=201",
                "FREQ=WEEKLY;BYHOUR=3", "FREQ=WEEKLY;BYDAY=2TU", "FREQ=WEEKLY;COUNT=3;UNTIL=20260401",
                "FREQ=WEEKLY;FREQ=DAILY", "", "FREQ=WEEKLY;UNTIL=20261341", "x" * 300):  # fmt: skip
        assert not recurrence.valid(bad), bad


def test_an_endless_series_expands_at_most_500_occurrences_and_count_is_honoured():
    first = utc(2026, 1, 1, 9)
    endless = list(recurrence.expand("FREQ=DAILY", first, "UTC", first, first + 2000 * 86_400_000))
    assert len(endless) == recurrence.MAX_OCCURRENCES
    counted = list(recurrence.expand("FREQ=WEEKLY;COUNT=3", first, "UTC", first, first + 400 * 86_400_000))
    assert counted == [first, first + 7 * 86_400_000, first + 14 * 86_400_000]
    until = list(recurrence.expand("FREQ=WEEKLY;UNTIL=20260115", first, "UTC", 0, first + 400 * 86_400_000))
    assert len(until) == 3


def test_a_monthly_series_counts_its_chosen_first_occurrence_and_keeps_wall_time():
    def days(first: int) -> list[str]:
        found = recurrence.expand("FREQ=MONTHLY;BYDAY=2TU;COUNT=3", first, "Europe/London", 0, first + 400 * 86_400_000)
        return [to_local(at, "Europe/London").strftime("%Y-%m-%d %H:%M") for at in found]

    # chosen on a second Tuesday: three second Tuesdays, 18:00 London before and after 29 March
    assert days(utc(2026, 3, 10, 18)) == ["2026-03-10 18:00", "2026-04-14 18:00", "2026-05-12 18:00"]
    # chosen on another day: that day is the first of the three (RFC 5545: DTSTART counts)
    assert days(utc(2026, 3, 5, 18)) == ["2026-03-05 18:00", "2026-03-10 18:00", "2026-04-14 18:00"]
