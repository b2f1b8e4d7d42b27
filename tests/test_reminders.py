"""Meeting reminders from the local calendar only: a day, an hour and at the start, each notified once (kept
sealed in the vault), and the one timed against the other person's connectivity windows, across zones and a DST
change. Plain data and fixed dates: no server, no date the test runs on."""

from __future__ import annotations

import datetime

from desktop.domain.availability import Availability, OnlineWindow
from desktop.domain.meetings import Meeting, Slot
from desktop.domain.reminders import Fired, describe, due

ME, AMA = "a" * 32, "b" * 32
MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000


def utc(*args: int) -> int:
    return int(datetime.datetime(*args, tzinfo=datetime.UTC).timestamp() * 1000)


def meeting(start: int, minutes: int = 60, rrule: str = "", tz: str = "Africa/Nairobi", title: str = "Check-in"):
    slot = Slot(start, start + minutes * MIN)
    return Meeting(id="m1", organiser=ME, other=AMA, mentorship=None, kind="video", title=title, link="", tz=tz,
                   slots=(slot,), round=1, state="confirmed", chosen=slot, reason="", rrule=rrule, exceptions={},
                   notes={})  # fmt: skip


def every_day(tz: str, start: int, end: int, account: str = AMA) -> Availability:
    return Availability(account, tz, online=tuple(OnlineWindow(d, start, end, "wifi") for d in range(7)))


def kinds(reminders) -> list[str]:
    return [r.kind for r in reminders]


def test_a_day_an_hour_and_the_start_each_fire_once_and_stay_fired_in_the_vault(vault):
    start = utc(2027, 3, 10, 15, 0)
    meetings = [meeting(start)]
    assert due(meetings, None, {}, start - DAY - MIN, me=ME) == []  # more than a day ahead: nothing yet
    fired = Fired(vault)
    moments = {"day": start - 23 * HOUR, "hour": start - 30 * MIN, "start": start + 5 * MIN}
    for kind, now in moments.items():
        found = due(meetings, None, {}, now, me=ME)
        assert kinds(found) == [kind]
        assert kinds(fired.take(found, now)) == [kind]  # notified the first time...
        assert fired.take(found, now + MIN) == []  # ...never again
    assert due(meetings, None, {}, start + 20 * MIN, me=ME) == []  # a quarter of an hour after the start: over
    reopened = Fired(vault)  # another timer (or after a restart) remembers what was already notified
    assert reopened.take(due(meetings, None, {}, start - 10 * MIN, me=ME), start - 10 * MIN) == []


def test_a_cancelled_or_proposed_meeting_reminds_nobody():
    start = utc(2027, 3, 10, 15, 0)
    from dataclasses import replace

    for state in ("proposed", "cancelled", "declined"):
        assert due([replace(meeting(start), state=state)], None, {}, start - 30 * MIN, me=ME) == []


def test_kathmandu_mentor_online_from_19_00_is_online_in_40_minutes_for_a_student_in_nairobi():
    # Kathmandu is UTC+5:45: 19:00-21:00 there is 13:15-15:15 UTC, 16:15-18:15 in Nairobi (UTC+3)
    mentor = every_day("Asia/Kathmandu", 19 * 60, 21 * 60)
    start = utc(2027, 3, 10, 14, 0)  # 17:00 in Nairobi, 19:45 in Kathmandu: inside her window
    now = utc(2027, 3, 10, 12, 35)  # 15:35 in Nairobi
    found = due([meeting(start)], None, {AMA: mentor}, now, me=ME)
    assert kinds(found) == ["day", "online"]  # (the day's reminder stays due until the hour's)
    assert describe(found[0], "Dr Ama", "Africa/Nairobi", now).startswith("Today at ")
    assert found[1].online_at == utc(2027, 3, 10, 13, 15)
    assert describe(found[1], "Dr Ama", "Africa/Nairobi", now) == "Dr Ama is usually online in 40 minutes"
    # once she is online, no more connectivity reminder; the hour reminder is what remains
    assert kinds(due([meeting(start)], None, {AMA: mentor}, utc(2027, 3, 10, 13, 30), me=ME)) == ["hour"]


def test_a_meeting_outside_their_window_says_so_a_day_ahead_with_the_end_of_their_last_window_in_my_time():
    mentor = every_day("Asia/Kathmandu", 19 * 60, 21 * 60)
    start = utc(2027, 3, 10, 17, 0)  # 20:00 Nairobi, 22:45 Kathmandu: she is usually offline
    now = start - 20 * HOUR
    found = due([meeting(start)], None, {AMA: mentor}, now, me=ME)
    assert kinds(found) == ["day", "offline"]
    offline = found[1]
    assert offline.online_at == utc(2027, 3, 10, 15, 15)  # 21:00 in Kathmandu
    text = describe(offline, "Dr Ama", "Africa/Nairobi", now)
    assert text.startswith("Dr Ama is usually offline at that time")
    assert "18:15" in text or "6:15" in text  # 21:00 Kathmandu in Nairobi time
    assert due([meeting(start)], None, {}, now, me=ME)[0].kind == "day"  # nothing shared: no guess


def test_the_other_side_of_a_meeting_is_reminded_about_the_organiser():
    student = every_day("Africa/Nairobi", 18 * 60, 22 * 60, account=ME)
    start = utc(2027, 3, 10, 16, 0)  # 19:00 Nairobi: inside the student's window that opens at 15:00 UTC
    found = due([meeting(start)], None, {ME: student}, utc(2027, 3, 10, 14, 30), me=AMA)
    assert [(r.kind, r.other) for r in found] == [("day", ME), ("online", ME)]


def test_a_weekly_meeting_across_the_london_dst_change_follows_their_window_in_utc():
    # London online 19:00-21:00: 19:00-21:00 UTC in winter, 18:00-20:00 UTC from 28 March 2027 (BST)
    mentor = every_day("Europe/London", 19 * 60, 21 * 60)
    weekly = meeting(utc(2027, 3, 22, 18, 30), rrule="FREQ=WEEKLY", tz="UTC")  # Mondays 18:30 UTC
    before = due([weekly], None, {AMA: mentor}, utc(2027, 3, 22, 17, 45), me=ME)
    assert kinds(before) == ["hour", "offline"]  # 18:30 GMT: before her window opens
    assert before[1].online_at == utc(2027, 3, 21, 21, 0)  # Sunday's window ended at 21:00 GMT
    after = due([weekly], None, {AMA: mentor}, utc(2027, 3, 29, 17, 30), me=ME)
    assert kinds(after) == ["hour", "online"]  # 19:30 BST: inside her window, which opens at 18:00 UTC
    assert after[1].online_at == utc(2027, 3, 29, 18, 0)
    assert describe(after[1], "Dr Ama", "Africa/Nairobi", utc(2027, 3, 29, 17, 30)).endswith("in 30 minutes")
