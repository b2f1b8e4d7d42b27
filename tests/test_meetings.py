"""Meetings between real people: real vaults, real Sessions (not started: each test syncs them by hand), a real
server on loopback, sealed ``meeting`` records. Every clock is a ManualClock on fixed dates in 2026."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from desktop.domain.availability import Availability, OnlineWindow, Window
from desktop.domain.meeting_time import DAY_MS, HOUR_MS, MINUTE_MS, format_pair, local_to_ms, to_local
from desktop.domain.meetings import MeetingError
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from desktop.domain.sync_adapter import join_program
from desktop.vault import KdfParams, Vault
from sync.client.transport import Transport
from sync.clock import ManualClock
from sync.protocol import unpack_record

START = dt.datetime(2026, 2, 23, 9, tzinfo=dt.UTC)  # a Monday, before either March change


def utc(*parts: int) -> int:
    return int(dt.datetime(*parts, tzinfo=dt.UTC).timestamp() * 1000)


def person(folder: Path, server, name: str, tz: str, role: str = "student") -> Session:
    folder.mkdir(parents=True, exist_ok=True)
    vault, _ = Vault.create(folder / "vault", "meetings test passphrase", params=KdfParams.floor())
    join_program(vault, Transport(server.url), server.invite(role), f"{name}'s laptop")
    session = Session(vault, folder, SettingsStore(folder / "settings.json"), clock=ManualClock(START))
    session.publish_profile(name, tz=tz)
    return session


def settle(*sessions: Session, rounds: int = 1) -> None:
    """Each session in turn syncs (pushing what it wrote, pulling what came) and takes in what came."""
    for _ in range(rounds):
        for session in sessions:
            session.engine.sync_once()
            session.messaging.take_in()


def me(session: Session) -> str:
    return session.program.credentials.account.hex()


@pytest.fixture(scope="module")
def _people(tmp_path_factory):
    """Amina, a student in Nairobi, and Dr Ama, her mentor in London, in a mentorship; Carlos, a student in
    Los Angeles, who knows them both but shares no meeting. Built once for the module (it is most of the time):
    every test makes its own meetings."""
    from tests.servers import ThreadServer

    folder = tmp_path_factory.mktemp("meetings")
    with ThreadServer(folder / "server") as server:
        amina = person(folder / "amina", server, "Amina", "Africa/Nairobi")
        ama = person(folder / "ama", server, "Dr Ama", "Europe/London", role="mentor")
        carlos = person(folder / "carlos", server, "Carlos", "America/Los_Angeles")
        settle(amina, ama, carlos, rounds=2)
        asked = amina.mentorships.ask(me(ama), "Could you mentor me?", ["A case report"], amina.now_ms())
        settle(amina, ama)
        ama.mentorships.answer(asked, accept=True)
        settle(ama, amina)
        assert amina.mentorships.mentorship(asked) is not None
        yield amina, ama, carlos, asked
        for session in (amina, ama, carlos):
            session.vault.close()


@pytest.fixture
def people(_people):
    for session in _people[:3]:
        session.wall.set(START)  # a test may have moved its clock
    return _people


def slot(tz: str, day: dt.date, hour: float, minutes: int = 60) -> tuple[int, int]:
    start = local_to_ms(tz, day, int(hour * 60))
    return start, start + minutes * MINUTE_MS


def test_propose_offline_then_accept_and_both_see_it_confirmed_in_their_own_zone(people):
    amina, ama, _carlos, plan = people
    first, second = slot("Africa/Nairobi", dt.date(2026, 3, 3), 20), slot("Africa/Nairobi", dt.date(2026, 3, 5), 19)
    meeting_id = amina.meetings.propose(me(ama), "video", "Case report outline", [first, second],
                                        link="https://meet.example.org/amina", mentorship=plan)  # fmt: skip
    assert amina.meetings.meeting(meeting_id).state == "proposed"  # offline: kept and queued
    assert [m.id for m, _slot in amina.meetings.upcoming(amina.now_ms())].count(meeting_id) == 1
    settle(amina, ama)
    seen = ama.meetings.meeting(meeting_id)
    assert seen.state == "proposed" and seen.waiting_on() == me(ama) and seen.link.endswith("/amina")
    assert meeting_id in [m.id for m in ama.meetings.waiting_for_me()]
    with pytest.raises(MeetingError) as refused:
        amina.meetings.accept(meeting_id, 0)  # the one who proposed does not answer
    assert refused.value.code == "state"
    # Dr Ama sees 20:00 Nairobi as 17:00 London, with Amina's time beside it
    mine, theirs = format_pair(*first, "Europe/London", "Africa/Nairobi", "en")
    assert "5:00\u202fPM" in mine and "8:00\u202fPM" in theirs
    ama.meetings.accept(meeting_id, 1)
    settle(ama, amina)
    for session, tz, hour in ((amina, "Africa/Nairobi", 19), (ama, "Europe/London", 16)):
        meeting = session.meetings.meeting(meeting_id)
        assert meeting.state == "confirmed" and meeting.chosen.start == second[0]
        assert to_local(meeting.chosen.start, tz).hour == hour
        upcoming = session.meetings.upcoming(session.now_ms())
        assert [s for m, s in upcoming if m.id == meeting_id] == [meeting.chosen]
        assert session.attention().upcoming_meetings == len(upcoming) >= 1


def test_a_decline_carries_its_reason(people):
    amina, ama, _carlos, _plan = people
    meeting_id = amina.meetings.propose(
        me(ama), "phone", "Quick call", [slot("Africa/Nairobi", dt.date(2026, 3, 3), 8)]
    )
    settle(amina, ama)
    ama.meetings.decline(meeting_id, "I am in theatre all morning.")
    settle(ama, amina)
    meeting = amina.meetings.meeting(meeting_id)
    assert meeting.state == "declined" and meeting.reason == "I am in theatre all morning."
    assert meeting_id not in {m.id for m, _slot in amina.meetings.upcoming(amina.now_ms())}


def test_a_reschedule_starts_a_new_round_and_an_accept_of_the_old_round_is_ignored(people):
    amina, ama, _carlos, _plan = people
    old = slot("Africa/Nairobi", dt.date(2026, 3, 3), 20)
    new = slot("Africa/Nairobi", dt.date(2026, 3, 4), 20)
    meeting_id = amina.meetings.propose(me(ama), "live-text", "Chat", [old])
    settle(amina, ama)
    amina.meetings.reschedule(meeting_id, [new])  # offline, while Dr Ama accepts the first round offline
    ama.meetings.accept(meeting_id, 0)
    settle(ama, amina, rounds=2)
    for session in (amina, ama):
        meeting = session.meetings.meeting(meeting_id)
        assert (meeting.round, meeting.state, meeting.chosen) == (2, "proposed", None)
        assert [(s.start, s.end) for s in meeting.slots] == [new]
        assert meeting.waiting_on() == me(ama)
    ama.meetings.accept(meeting_id, 0)
    settle(ama, amina)
    assert {
        (s.meetings.meeting(meeting_id).state, s.meetings.meeting(meeting_id).chosen.start) for s in (amina, ama)
    } == {("confirmed", new[0])}


def test_both_change_the_same_meeting_offline_and_converge(people):
    amina, ama, _carlos, _plan = people
    meeting_id = amina.meetings.propose(me(ama), "video", "Outline", [slot("Africa/Nairobi", dt.date(2026, 3, 3), 20)])
    settle(amina, ama)
    ama.meetings.accept(meeting_id, 0)
    settle(ama, amina)
    # offline on both sides: Amina reschedules and renames; Dr Ama cancels and renames
    amina.meetings.reschedule(meeting_id, [slot("Africa/Nairobi", dt.date(2026, 3, 6), 18)])
    amina.meetings.edit(meeting_id, title="Outline, second try")
    ama.meetings.cancel(meeting_id, "Travelling that week")
    ama.meetings.edit(meeting_id, title="Outline (Dr Ama)")
    settle(amina, ama, rounds=2)
    ours, theirs = amina.meetings.meeting(meeting_id), ama.meetings.meeting(meeting_id)
    assert ours == theirs
    assert ours.title in ("Outline, second try", "Outline (Dr Ama)")
    assert ours.state in ("cancelled", "proposed")


def test_a_weekly_meeting_keeps_london_wall_time_across_both_changes(people):
    _amina, ama, carlos, _plan = people
    ama.meetings.set_availability(Availability(me(ama), "Europe/London", (Window(1, 17 * 60, 20 * 60),)))
    first = slot("Europe/London", dt.date(2026, 3, 3), 18)
    meeting_id = ama.meetings.propose(me(carlos), "video", "Weekly", [first], rrule="FREQ=WEEKLY;COUNT=10")
    assert ama.meetings.meeting(meeting_id).tz == "Europe/London"  # her zone, from her availability
    settle(ama, carlos)
    carlos.meetings.accept(meeting_id, 0)
    settle(carlos, ama)
    for session in (ama, carlos):
        found = session.meetings.meeting(meeting_id).occurrences(utc(2026, 3, 1), utc(2026, 4, 12))
        assert [to_local(s.start, "Europe/London").hour for s in found] == [18] * 6
        # the UTC instant moves an hour on 29 March (London)
        assert [to_local(s.start, "UTC").hour for s in found] == [18, 18, 18, 18, 17, 17]
        # Los Angeles moves on 8 March: Carlos sees 10:00, then 11:00 for three weeks, then 10:00 again
        assert [to_local(s.start, "America/Los_Angeles").hour for s in found] == [10, 11, 11, 11, 10, 10]
        assert all(s.end - s.start == HOUR_MS for s in found)
    # in October London changes first (25 October), Los Angeles a week later (1 November)
    autumn = ama.meetings.propose(me(carlos), "video", "Autumn", [slot("Europe/London", dt.date(2026, 10, 20), 18)],
                                  rrule="FREQ=WEEKLY")  # fmt: skip
    settle(ama, carlos)
    carlos.meetings.accept(autumn, 0)
    settle(carlos, ama)
    found = carlos.meetings.meeting(autumn).occurrences(utc(2026, 10, 19), utc(2026, 11, 9))
    assert [to_local(s.start, "Europe/London").hour for s in found] == [18, 18, 18]
    assert [to_local(s.start, "America/Los_Angeles").hour for s in found] == [10, 11, 10]


def test_cancel_one_occurrence_and_move_another(people):
    amina, ama, _carlos, _plan = people
    first = slot("Africa/Nairobi", dt.date(2026, 3, 3), 20)
    meeting_id = amina.meetings.propose(me(ama), "video", "Fortnightly", [first], rrule="FREQ=WEEKLY;INTERVAL=2")
    settle(amina, ama)
    ama.meetings.accept(meeting_id, 0)
    settle(ama, amina)
    second, third = first[0] + 14 * DAY_MS, first[0] + 28 * DAY_MS
    amina.meetings.move_occurrence(meeting_id, second, None)
    moved = (third + DAY_MS, third + DAY_MS + HOUR_MS)
    ama.meetings.move_occurrence(meeting_id, third, moved)
    with pytest.raises(MeetingError):
        ama.meetings.move_occurrence(meeting_id, first[0] + 7 * DAY_MS, None)  # not an occurrence
    settle(amina, ama, rounds=2)
    for session in (amina, ama):
        meeting = session.meetings.meeting(meeting_id)
        starts = [s.start for s in meeting.occurrences(utc(2026, 3, 1), utc(2026, 4, 20))]
        assert starts == [first[0], moved[0], first[0] + 42 * DAY_MS]
        assert meeting.occurrence_of(meeting.occurrences(moved[0], moved[1])[0]) == third


def test_notes_after_a_meeting_become_a_check_in_and_count_as_held(people):
    amina, ama, _carlos, plan = people
    first = slot("Africa/Nairobi", dt.date(2026, 2, 24), 20)
    meeting_id = amina.meetings.propose(me(ama), "async", "Async week", [first], mentorship=plan)
    settle(amina, ama)
    ama.meetings.accept(meeting_id, 0)
    settle(ama, amina)
    held = amina.attention().meetings_held
    amina.wall.set(dt.datetime(2026, 2, 24, 19, tzinfo=dt.UTC))  # after it ended
    assert amina.attention().meetings_held == held + 1  # confirmed and over
    amina.meetings.record_notes(meeting_id, first[0], "Outline drafted", "No access to journals", "Ask the library")
    settle(amina, ama)
    for session in (amina, ama):
        checkin = session.mentorships.mentorship(plan).checkins[-1]
        assert (checkin["progress"], checkin["blockers"], checkin["next"]) == (
            "Outline drafted",
            "No access to journals",
            "Ask the library",
        )
        assert session.meetings.meeting(meeting_id).notes[first[0]]["progress"] == "Outline drafted"
    assert amina.meetings.held_count(amina.now_ms()) == held + 1  # notes on an occurrence already over
    statuses = [json.loads(unpack_record(r.wire).b) for r in amina.vault.records.by_kind("status")]
    assert {"e": "meeting-held", "r": plan, "at": first[0]} in statuses  # metadata only, dated by the meeting
    assert {r.state for r in amina.vault.records.by_kind("status")} == {"sent"}  # the server took them


def _forge(session: Session, to: str, content: dict) -> None:
    thread = session.messaging.start_direct(to)
    session.messaging._sealed_record(thread, "meeting", content)


def test_a_change_by_a_third_person_is_ignored_and_hostile_records_never_break_taking_in(people):
    amina, ama, carlos, _plan = people
    meeting_id = amina.meetings.propose(me(ama), "video", "Ours", [slot("Africa/Nairobi", dt.date(2026, 3, 3), 20)])
    settle(amina, ama)
    before = amina.meetings.meeting(meeting_id)
    ignored, refused = amina.meetings.ignored, amina.meetings.refused
    h = carlos.messaging.clock.now()
    # Carlos learnt the id somehow: his cancel, in his own thread with Amina, is not a change by one of the two
    _forge(carlos, me(amina), {"op": "cancel", "i": meeting_id, "h": h, "a": me(carlos), "why": "ha"})
    # claiming to be Dr Ama does not help: the record's author is Carlos
    _forge(carlos, me(amina), {"op": "cancel", "i": meeting_id, "h": h, "a": me(ama)})
    hostile = [
        {"op": "explode", "i": meeting_id, "h": h, "a": me(carlos)},
        {"op": "accept", "i": meeting_id, "h": "soon", "a": me(carlos), "r": 1, "c": 0},
        {"op": "propose", "i": "not hex", "h": h, "a": me(carlos), "o": me(amina), "k": "video", "t": "x",
         "z": "UTC", "s": [[1, 2]]},
        {"op": "propose", "i": "ab" * 16, "h": h, "a": me(carlos), "o": me(amina), "k": "video", "t": "x",
         "z": "Mars/Base", "s": [[1, 2]]},
        {"op": "propose", "i": "cd" * 16, "h": h, "a": me(carlos), "o": me(amina), "k": "video", "t": "x",
         "z": "UTC", "s": [[1, 2]] * 4},
        {"op": "propose", "i": "ef" * 16, "h": h, "a": me(carlos), "o": me(amina), "k": "video", "t": "x",
         "z": "UTC", "s": [[1, 2]], "rr": "FREQ=SECONDLY"},
        {"op": "propose", "i": "12" * 16, "h": h, "a": me(carlos), "o": me(ama), "k": "video", "t": "x",
         "z": "UTC", "s": [[1, 2]]},  # a meeting between two other people
        {"op": "avail", "i": "", "h": h, "a": me(carlos), "av": {"tz": "UTC", "w": [[0, 0, 99999]], "h": 1}},
        {"op": "propose", "i": "34" * 16, "h": h, "a": me(carlos), "o": me(amina), "k": "video", "t": ["x"],
         "z": "UTC", "s": [[1, 2]]},
    ]  # fmt: skip
    for content in hostile:
        _forge(carlos, me(amina), content)
    fair = [[utc(2026, 3, 9), utc(2026, 3, 9, 1)]]
    _forge(carlos, me(amina), {"op": "propose", "i": "56" * 16, "h": h, "a": me(carlos), "o": me(amina),
                               "k": "phone", "t": "A fair question", "z": "UTC", "s": fair})  # fmt: skip
    settle(carlos, amina)
    assert amina.meetings.meeting(meeting_id) == before
    assert amina.meetings.ignored == ignored + 1
    assert amina.meetings.refused == refused + 1 + len(hostile)
    titles = [m.title for m in amina.meetings.meetings()]
    assert "A fair question" in titles and "x" not in titles  # the valid one after them


def _card_doc(session: Session) -> dict:
    mine = [r for r in session.vault.records.by_kind("card") if r.author == me(session)]
    return json.loads(unpack_record(mine[-1].wire).b)


def test_availability_shared_only_with_mentorships_stays_off_the_card(people):
    amina, ama, carlos, _plan = people
    weekly = (Window(1, 18 * 60, 21 * 60), Window(3, 18 * 60, 21 * 60))
    online = (OnlineWindow(1, 17 * 60, 22 * 60, "cafe"),)
    amina.meetings.set_availability(Availability(me(amina), "Africa/Nairobi", weekly, online, share="mentorships"))
    card = _card_doc(amina)
    assert "avail" not in card and "windows" not in card
    raw = b"".join(r.wire for r in amina.vault.records.by_kind("card") if r.author == me(amina))
    assert b"cafe" not in raw and b"avail" not in raw
    settle(amina, ama, carlos)
    shared = ama.meetings.availability(me(amina))
    assert shared is not None and shared.weekly == weekly and shared.online == online
    assert carlos.meetings.availability(me(amina)) is None
    # the same availability shared with everyone: on the card, and its online hours are the card's windows
    amina.meetings.set_availability(Availability(me(amina), "Africa/Nairobi", weekly, online, share="card"))
    card = _card_doc(amina)
    assert card["windows"] == [[17, 22]] and card["avail"]["w"] == [[1, 1080, 1260], [3, 1080, 1260]]
    settle(amina, carlos)
    published = next(c for c in carlos.cards() if c.account == me(amina))
    assert published.windows == ((17, 22),) and published.availability.online == online
    assert carlos.meetings.availability(me(amina)).weekly == weekly


def test_availability_reaches_a_mentorship_that_starts_later(people):
    amina, ama, carlos, _plan = people
    weekly = (Window(0, 6 * 60, 8 * 60),)
    carlos.meetings.set_availability(Availability(me(carlos), "America/Los_Angeles", weekly, share="mentorships"))
    asked = carlos.mentorships.ask(me(ama), "Mentor me too?", [], carlos.now_ms())
    settle(carlos, ama)
    ama.mentorships.answer(asked, accept=True)
    settle(ama, carlos)  # Carlos takes in the new mentorship; his next sync sends it his availability
    settle(carlos, ama)
    assert ama.meetings.availability(me(carlos)).weekly == weekly
    assert amina.meetings.availability(me(carlos)) is None


def test_proposals_people_cannot_make_are_refused_with_a_reason(people):
    amina, ama, _carlos, _plan = people
    good = slot("Africa/Nairobi", dt.date(2026, 3, 3), 20)
    cases = [
        ((me(ama), "video", "x", []), {}, "no-slots"),
        ((me(ama), "video", "x", [good] * 4), {}, "too-many-slots"),
        ((me(ama), "video", "x", [(good[1], good[0])]), {}, "bad-slot"),
        ((me(ama), "video", "x", [(utc(2026, 2, 1), utc(2026, 2, 1, 1))]), {}, "past"),
        ((me(ama), "fax", "x", [good]), {}, "kind"),
        ((me(ama), "video", " ", [good]), {}, "title"),
        ((me(amina), "video", "x", [good]), {}, "person"),
        ((me(ama), "video", "x", [good]), {"rrule": "FREQ=YEARLY"}, "rrule"),
        ((me(ama), "video", "x", [good]), {"rrule": "FREQ=WEEKLY;INTERVAL=12"}, "rrule"),
        ((me(ama), "video", "x", [good]), {"tz": "Mars/Base"}, "zone"),
    ]
    before = amina.meetings.meetings()
    queued = len(amina.vault.records.by_kind("meeting"))
    for args, options, code in cases:
        with pytest.raises(MeetingError) as refused:
            amina.meetings.propose(*args, **options)
        assert refused.value.code == code and refused.value.message()
    assert amina.meetings.meetings() == before and len(amina.vault.records.by_kind("meeting")) == queued


def test_a_stored_meeting_record_is_sealed(people):
    amina, ama, _carlos, _plan = people
    amina.meetings.propose(me(ama), "video", "Very private title", [slot("Africa/Nairobi", dt.date(2026, 3, 3), 20)])
    record = unpack_record(amina.vault.records.by_kind("meeting")[-1].wire)
    assert b"Very private" not in record.b and set(record.t) == {bytes.fromhex(me(amina)), bytes.fromhex(me(ama))}
