"""Meetings out to .ics and busy times in from .ics (desktop/domain/calendar_ics.py), read back with icalendar the
way a calendar program reads them: by the IANA name (Google Calendar, Thunderbird) and by the VTIMEZONE alone
(Outlook). Fixed dates only; the clock is injected."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule as du_rrule
from icalendar import Calendar
from PySide6.QtCore import Qt

from desktop.domain.calendar_ics import MAX_BYTES, IcsError, export_ics, import_busy, import_file
from desktop.domain.meeting_fold import Meeting, Slot
from desktop.domain.meeting_time import DAY_MS
from desktop.domain.meetings import Meetings

DATA = Path(__file__).parent / "data" / "calendars"
NOW = int(dt.datetime(2026, 2, 20, 9, 0, tzinfo=dt.UTC).timestamp() * 1000)
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
HOUR = 3_600_000


def at(tz: str, text: str) -> int:
    """UTC ms of a wall time ("2026-03-09 08:00") in tz."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp() * 1000)


def meeting(tz: str, start: int, minutes: int = 60, *, rrule: str = "", exceptions=None, ident: str = "m1"):
    slot = Slot(start, start + minutes * 60_000)
    return Meeting(
        id=ident,
        organiser="aa" * 8,
        other="bb" * 8,
        mentorship=None,
        kind="video",
        title=f"Mentoring ({tz})",
        link="https://meet.example.org/osler-abc",
        tz=tz,
        slots=(slot,),
        round=1,
        state="confirmed",
        chosen=slot,
        reason="",
        rrule=rrule,
        exceptions=exceptions or {},
    )


def names(account: str) -> str:
    return {"aa" * 8: "Amina Otieno", "bb" * 8: "Dr Ama Mensah"}[account]


def ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def outlook_view(calendar: Calendar, value: dt.datetime, tzid: str) -> dt.datetime:
    """The same wall time read through the file's own VTIMEZONE only, as Outlook reads it."""
    (component,) = [tz for tz in calendar.timezones if tz.tz_name == tzid]
    return value.replace(tzinfo=component.to_tz(lookup_tzid=False))


def expand_parsed(calendar: Calendar, uid: str, until: dt.datetime, *, outlook: bool = False) -> list[tuple[int, int]]:
    """A recurring VEVENT expanded from the parsed file alone: RRULE, EXDATE and RECURRENCE-ID overrides."""
    events = [e for e in calendar.walk("VEVENT") if str(e["UID"]) == uid]
    (master,) = [e for e in events if "RECURRENCE-ID" not in e]
    start, end = master["DTSTART"].dt, master["DTEND"].dt
    tzid = master["DTSTART"].params["TZID"]
    naive = start.replace(tzinfo=None)
    rule = du_rrule.rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)
    zone = outlook_view(calendar, naive, tzid).tzinfo if outlook else start.tzinfo
    exdates = set()
    for line in master.get("EXDATE", []) if isinstance(master.get("EXDATE"), list) else [master.get("EXDATE")]:
        if line is not None:
            exdates |= {ms(d.dt.replace(tzinfo=None).replace(tzinfo=zone)) for d in line.dts}
    moved = {
        ms(e["RECURRENCE-ID"].dt.replace(tzinfo=None).replace(tzinfo=zone)): (
            ms(e["DTSTART"].dt.replace(tzinfo=None).replace(tzinfo=zone)),
            ms(e["DTEND"].dt.replace(tzinfo=None).replace(tzinfo=zone)),
        )
        for e in events
        if "RECURRENCE-ID" in e
    }
    out = []
    for occurrence in rule.between(start, until, inc=True):
        begin = ms(occurrence.replace(tzinfo=None).replace(tzinfo=zone))
        if begin in exdates:
            continue
        out.append(moved.get(begin, (begin, begin + ms(end) - ms(start))))
    return sorted(out)


# ---------------------------------------------------------------------------------------------------- export


def test_instants_round_trip_in_eight_zones():
    meetings = []
    for index, tz in enumerate(ZONES):
        meetings.append(meeting(tz, at(tz, "2026-01-15 18:00"), ident=f"w{index}"))
        meetings.append(meeting(tz, at(tz, "2026-07-15 07:30"), 45, ident=f"s{index}"))
    calendar = Calendar.from_ical(export_ics(meetings, names, NOW))
    assert calendar.get_missing_tzids() == set()
    assert sorted(tz.tz_name for tz in calendar.timezones) == sorted(ZONES)
    by_uid = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    for original in meetings:
        event = by_uid[f"{original.id}@osler"]
        start, end = event["DTSTART"], event["DTEND"]
        assert start.params["TZID"] == original.tz == end.params["TZID"]
        assert (ms(start.dt), ms(end.dt)) == (original.chosen.start, original.chosen.end), original.tz
        # Outlook reads the VTIMEZONE, not the name: it must give the same instants
        assert ms(outlook_view(calendar, start.dt.replace(tzinfo=None), original.tz)) == original.chosen.start
        assert ms(outlook_view(calendar, end.dt.replace(tzinfo=None), original.tz)) == original.chosen.end
        assert str(event["LOCATION"]) == original.link
        assert "Video or voice call" in str(event["DESCRIPTION"])
        assert "Dr Ama Mensah" in str(event["DESCRIPTION"])
        assert ms(event["DTSTAMP"].dt) == NOW
    # Outlook ignores RDATE lists in a VTIMEZONE: every zone is written as yearly rules
    assert b"RDATE" not in export_ics(meetings, names, NOW)


@pytest.mark.parametrize(
    ("tz", "first", "changes"),
    [
        ("Europe/London", "2026-03-03 18:00", ("2026-03-29", "2026-10-25")),
        ("America/Los_Angeles", "2026-03-03 09:00", ("2026-03-08", "2026-11-01")),
    ],
)
def test_weekly_meeting_across_the_daylight_saving_changes(tz, first, changes):
    weekly = meeting(tz, at(tz, first), rrule="FREQ=WEEKLY")
    window = (at(tz, "2026-02-01 00:00"), at(tz, "2026-12-31 00:00"))
    expected = [(s.start, s.end) for s in weekly.occurrences(*window)]
    data = export_ics([weekly], names, NOW, me="aa" * 8)
    calendar = Calendar.from_ical(data)
    until = dt.datetime.fromtimestamp(window[1] / 1000, dt.UTC)
    assert expand_parsed(calendar, "m1@osler", until) == expected
    assert expand_parsed(calendar, "m1@osler", until, outlook=True) == expected
    # the wall time is kept: 18:00 in London before and after each change, so the UTC hour moves
    local = {dt.datetime.fromtimestamp(s / 1000, ZoneInfo(tz)).strftime("%H:%M") for s, _e in expected}
    assert local == {first[-5:]}
    offsets = {dt.datetime.fromtimestamp(s / 1000, ZoneInfo(tz)).utcoffset() for s, _e in expected}
    assert len(offsets) == 2
    # our own import reads the export back to the same instants
    assert import_busy(data, *window) == expected
    assert "Dr Ama Mensah" in str(calendar.walk("VEVENT")[0]["DESCRIPTION"])
    assert "Amina Otieno" not in str(calendar.walk("VEVENT")[0]["DESCRIPTION"])
    assert changes  # (the dates the parametrisation crosses, for the reader)


def test_cancelled_and_moved_occurrences_become_exdate_and_recurrence_id():
    tz = "Europe/London"
    cancelled, moved_from = at(tz, "2026-03-24 18:00"), at(tz, "2026-04-07 18:00")
    moved = Slot(at(tz, "2026-04-08 19:30"), at(tz, "2026-04-08 20:30"))
    weekly = meeting(
        tz,
        at(tz, "2026-03-10 18:00"),
        rrule="FREQ=WEEKLY;UNTIL=20260505",
        exceptions={cancelled: None, moved_from: moved},
    )
    window = (at(tz, "2026-03-01 00:00"), at(tz, "2026-06-01 00:00"))
    expected = [(s.start, s.end) for s in weekly.occurrences(*window)]
    assert cancelled not in [s for s, _e in expected] and (moved.start, moved.end) in expected
    data = export_ics([weekly], names, NOW)
    calendar = Calendar.from_ical(data)
    master, override = calendar.walk("VEVENT")
    assert [ms(d.dt) for d in master["EXDATE"].dts] == [cancelled]
    assert master["EXDATE"].params["TZID"] == tz
    assert ms(override["RECURRENCE-ID"].dt) == moved_from and override["RECURRENCE-ID"].params["TZID"] == tz
    assert (ms(override["DTSTART"].dt), ms(override["DTEND"].dt)) == (moved.start, moved.end)
    assert str(master["UID"]) == str(override["UID"]) == "m1@osler"
    assert str(master["RRULE"].to_ical().decode()).endswith("UNTIL=20260505T225959Z")  # RFC 5545: UTC beside a TZID
    until = dt.datetime.fromtimestamp(window[1] / 1000, dt.UTC)
    assert expand_parsed(calendar, "m1@osler", until) == expected
    assert import_busy(data, *window) == expected


def test_a_single_meeting_moved_is_exported_at_its_new_time():
    tz = "Asia/Kathmandu"
    start = at(tz, "2026-03-10 18:00")
    moved = Slot(at(tz, "2026-03-11 07:15"), at(tz, "2026-03-11 08:15"))
    single = meeting(tz, start, exceptions={start: moved})
    assert single.occurrences(start - DAY_MS, start + 3 * DAY_MS) == [moved]
    (event,) = Calendar.from_ical(export_ics([single], names, NOW)).walk("VEVENT")
    assert (ms(event["DTSTART"].dt), ms(event["DTEND"].dt)) == (moved.start, moved.end)
    assert "RRULE" not in event and "RECURRENCE-ID" not in event


def test_only_confirmed_meetings_are_exported():
    proposed = meeting("Africa/Nairobi", at("Africa/Nairobi", "2026-03-03 18:00"))
    proposed = Meeting(**{**proposed.__dict__, "state": "proposed", "chosen": None})
    with pytest.raises(IcsError) as caught:
        export_ics([proposed], names, NOW)
    assert caught.value.code == "nothing"


# ---------------------------------------------------------------------------------------------------- import


def test_busy_times_from_a_google_calendar_file():
    tz = "Africa/Nairobi"
    window = (at(tz, "2026-03-09 00:00"), at(tz, "2026-03-23 00:00"))
    busy = import_busy((DATA / "google_busy.ics").read_bytes(), *window, tz="Asia/Kathmandu")
    assert busy == [
        (at(tz, "2026-03-09 08:00"), at(tz, "2026-03-09 12:00")),  # ward round, Monday (the all-day "free" note: no)
        (at(tz, "2026-03-10 18:00"), at(tz, "2026-03-10 19:30")),  # exam, in UTC
        # Wednesday 11th: EXDATE
        # the graduation, a whole day in the person's own zone (Kathmandu)
        (at("Asia/Kathmandu", "2026-03-13 00:00"), at("Asia/Kathmandu", "2026-03-14 00:00")),
        # Monday 16th moved to Tuesday 17th afternoon (RECURRENCE-ID)
        (at(tz, "2026-03-17 14:00"), at(tz, "2026-03-17 18:00")),
        (at(tz, "2026-03-18 08:00"), at(tz, "2026-03-18 12:00")),  # the cancelled study group: not busy
        (at(tz, "2026-03-20 17:00"), at(tz, "2026-03-20 18:00")),  # an event with an alarm inside
    ]


def test_busy_times_from_an_outlook_file_with_windows_zone_names():
    london, la = "Europe/London", "America/Los_Angeles"
    window = (at(london, "2026-03-16 00:00"), at(london, "2026-04-30 00:00"))
    busy = import_busy((DATA / "outlook_busy.ics").read_bytes(), *window)
    assert busy == [
        (at(london, "2026-03-19 10:00"), at(london, "2026-03-19 11:30")),  # GMT (UTC+0)
        # "Customized Time Zone": only its VTIMEZONE says it is the Pacific rules (PDT since 8 March)
        (at(la, "2026-03-24 09:00"), at(la, "2026-03-24 10:00")),
        # the "free" lunch is left out
        (at(london, "2026-03-26 10:00"), at(london, "2026-03-26 11:30")),  # still GMT
        (at(london, "2026-04-02 15:00"), at(london, "2026-04-02 16:30")),  # moved occurrence, BST (UTC+1)
        # 9 April: EXDATE; COUNT=4 ends the series there
    ]
    assert busy[0][0] == int(dt.datetime(2026, 3, 19, 10, tzinfo=dt.UTC).timestamp() * 1000)
    assert busy[3][0] == int(dt.datetime(2026, 4, 2, 14, tzinfo=dt.UTC).timestamp() * 1000)


def test_floating_times_are_the_persons_zone_and_utc_times_are_utc():
    data = b"\r\n".join(
        [
            b"BEGIN:VCALENDAR",
            b"VERSION:2.0",
            b"PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
            b"BEGIN:VEVENT",
            b"UID:floating-1",
            b"DTSTAMP:20260301T000000Z",
            b"DTSTART:20260305T190000",
            b"DTEND:20260305T200000",
            b"SUMMARY:Cybercafe hour",
            b"END:VEVENT",
            b"BEGIN:VEVENT",
            b"UID:utc-1",
            b"DTSTAMP:20260301T000000Z",
            b"DTSTART:20260306T120000Z",
            b"DURATION:PT45M",
            b"SUMMARY:Lecture",
            b"END:VEVENT",
            b"END:VCALENDAR",
            b"",
        ]
    )
    tz = "America/Sao_Paulo"
    busy = import_busy(data, at(tz, "2026-03-01 00:00"), at(tz, "2026-03-10 00:00"), tz=tz)
    noon = int(dt.datetime(2026, 3, 6, 12, tzinfo=dt.UTC).timestamp() * 1000)
    assert busy == [(at(tz, "2026-03-05 19:00"), at(tz, "2026-03-05 20:00")), (noon, noon + 45 * 60_000)]


def _event(*lines: str) -> bytes:
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", "UID:x", "DTSTAMP:20260301T000000Z"]
    return "\r\n".join([*head, *lines, "END:VEVENT", "END:VCALENDAR", ""]).encode()


def _padded() -> bytes:
    body = _event("DTSTART:20260305T190000Z", "DTEND:20260305T200000Z", "DESCRIPTION:" + "x" * 70)
    filler = "".join(f"X-FILLER-{i}:{'y' * 60}\r\n" for i in range(int(1.5 * MAX_BYTES) // 75))
    return body.replace(b"END:VEVENT", filler.encode() + b"END:VEVENT")


HOSTILE = {
    "too-large": _padded,
    "too-deep": lambda: b"BEGIN:VCALENDAR\r\n" + b"BEGIN:VEVENT\r\n" * 10_000 + b"END:VEVENT\r\n" * 10_000,
    "too-many-components": lambda: (
        b"BEGIN:VCALENDAR\r\n"
        + b"BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260305T190000Z\r\nEND:VEVENT\r\n" * 6_000
        + b"END:VCALENDAR\r\n"
    ),
    "unknown-tzid": lambda: _event("DTSTART;TZID=Mars/Olympus_Mons:20260305T190000", "DTEND:20260305T200000Z"),
    "not-calendar": lambda: random.Random(17).randbytes(4096),
    "broken-dates": lambda: _event("DTSTART:20260305T190000Z", "DTEND:20260305T180000Z", "SUMMARY:Backwards"),
    "too-many-events": lambda: _event("DTSTART:20200101T000000Z", "DTEND:20200101T000001Z", "RRULE:FREQ=SECONDLY"),
}
MORE = {
    "broken-dates": _event("DTSTART:2026zz", "SUMMARY:Nonsense"),
    "not-calendar": b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ama Mensah\r\nEND:VCARD\r\n",
}


@pytest.mark.parametrize("code", sorted(HOSTILE))
def test_a_hostile_file_is_refused_with_a_clear_message(code):
    data = HOSTILE[code]()
    if code == "too-large":
        assert len(data) > 1.4 * MAX_BYTES
    with pytest.raises(IcsError) as caught:
        import_busy(data, at("UTC", "2026-03-01 00:00"), at("UTC", "2026-04-01 00:00"))
    assert caught.value.code == code
    assert caught.value.message and "Traceback" not in caught.value.message
    if code in MORE:
        with pytest.raises(IcsError) as again:
            import_busy(MORE[code], at("UTC", "2026-03-01 00:00"), at("UTC", "2026-04-01 00:00"))
        assert again.value.code == code


def test_a_bad_file_changes_nothing_stored(client_factory):
    person = client_factory()
    meetings = Meetings(person.vault, person.messaging(), None, lambda: NOW)
    window = (at("UTC", "2026-03-09 00:00"), at("UTC", "2026-03-23 00:00"))
    good = import_file(meetings, "work.ics", (DATA / "google_busy.ics").read_bytes(), *window, tz="Africa/Nairobi")
    assert good == 6
    before = meetings.busy()
    assert meetings.busy_sources() == ["ics:work.ics"]
    for code, make in HOSTILE.items():
        with pytest.raises(IcsError) as caught:
            import_file(meetings, "work.ics", make(), *window, tz="Africa/Nairobi")
        assert caught.value.code == code
        with pytest.raises(IcsError):
            import_file(meetings, "other.ics", make(), *window, tz="Africa/Nairobi")
    assert meetings.busy() == before
    assert meetings.busy_sources() == ["ics:work.ics"]


def test_the_calendar_buttons_keep_earlier_busy_times_when_a_file_is_bad(qtbot, client_factory, tmp_path):
    from PySide6.QtWidgets import QPushButton

    from desktop.ui import file_dialogs
    from desktop.ui.views.schedule_calendar import ScheduleCalendar

    person = client_factory()
    meetings = Meetings(person.vault, person.messaging(), None, lambda: at("Africa/Nairobi", "2026-03-09 07:00"))
    widget = ScheduleCalendar(meetings, meetings.now_ms, names, lambda: "Africa/Nairobi", me="aa" * 8)
    qtbot.addWidget(widget)
    widget.show()
    assert all(b.accessibleName() for b in widget.findChildren(QPushButton))
    assert not widget.forget_button.isEnabled()
    chosen = {"open": str(DATA / "google_busy.ics")}
    file_dialogs.answer = lambda kind, suggested: chosen[kind]

    def import_chosen() -> str:
        qtbot.mouseClick(widget.import_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not widget.importing)  # read off the GUI thread
        return widget.status.text()

    try:
        said = import_chosen()
        now = meetings.now_ms()
        expected = import_busy(
            (DATA / "google_busy.ics").read_bytes(), now - DAY_MS, now + 120 * DAY_MS, tz="Africa/Nairobi"
        )
        assert len(expected) > 30  # the weekly ward round, four months ahead
        assert f"Imported {len(expected)} busy times from google_busy.ics" in said
        before = meetings.busy()
        assert before == expected and widget.forget_button.isEnabled()
        assert "google_busy.ics" in widget.sources.text()

        bad = tmp_path / "google_busy.ics"  # the same name: it would replace the earlier import if it were read
        bad.write_bytes(_event("DTSTART;TZID=Mars/Olympus_Mons:20260310T190000", "DTEND:20260310T200000Z"))
        chosen["open"] = str(bad)
        said = import_chosen()
        assert "google_busy.ics was not imported" in said
        assert "Mars/Olympus_Mons" in said and "Your busy times are unchanged." in said
        assert meetings.busy() == before

        huge = tmp_path / "huge.ics"
        huge.write_bytes(_padded())
        chosen["open"] = str(huge)
        assert "larger than 1 MB" in import_chosen()
        assert meetings.busy() == before

        chosen["save"] = str(tmp_path / "mine.ics")
        widget.export_all()
        assert "no confirmed meeting" in widget.status.text()
        widget.export_one(meeting("Pacific/Chatham", at("Pacific/Chatham", "2026-03-11 08:00")))
        assert "Saved 1 meeting to mine.ics" in widget.status.text()
        (event,) = Calendar.from_ical((tmp_path / "mine.ics").read_bytes()).walk("VEVENT")
        assert ms(event["DTSTART"].dt) == at("Pacific/Chatham", "2026-03-11 08:00")

        qtbot.mouseClick(widget.forget_button, Qt.MouseButton.LeftButton)
        assert meetings.busy() == [] and not widget.forget_button.isEnabled()
    finally:
        file_dialogs.answer = None
