"""Requests and structured mentorships between real clients through a real server, sealed end to end."""

from __future__ import annotations

import time

import pytest

from desktop.domain.mentorship import DAY_MS, Mentorships
from tests.test_messaging import _sync


@pytest.fixture
def pair(client_factory):
    student, mentor = client_factory(), client_factory("mentor")
    student.publish_card("Amina Student")
    mentor.publish_card("Dr Kofi Mensah", role="mentor")
    for _ in range(2):
        _sync(student, mentor)
    return student, mentor


def _sync_all(*sides) -> None:
    for client, messaging, _mentorships in sides:
        client.engine().sync_once()
        messaging.take_in()


def _side(client):
    messaging = client.messaging()
    return client, messaging, Mentorships(client.vault, messaging)


def test_ask_decline_ask_again_accept_and_plan(pair):
    student, mentor = (_side(c) for c in pair)
    now = int(time.time() * 1000)
    first = student[2].ask(
        mentor[0].account.hex(), "Could you mentor me on a cardiology research project?", ["Publish a case series"], now
    )
    _sync_all(student, mentor)
    incoming = mentor[2].pending_for_me(now)
    assert [(r.id, r.goals) for r in incoming] == [(first, ["Publish a case series"])]
    with pytest.raises(ValueError):
        mentor[2].answer(first, accept=False)  # a decline says why
    mentor[2].answer(first, accept=False, reason="My places are full until March.")
    _sync_all(mentor, student)
    declined = next(r for r in student[2].requests() if r.id == first)
    assert declined.state == "declined" and "March" in declined.reason

    second = student[2].ask(
        mentor[0].account.hex(), "Could we start in March then?", ["Case series", "Poster"], now + 1
    )
    _sync_all(student, mentor)
    mentor[2].answer(second, accept=True)
    _sync_all(mentor, student)
    plan = student[2].mentorship(second)
    assert plan is not None and plan.value("goals") == "Case series\nPoster"

    student[2].set(second, "cadence", "every two weeks")
    goal = student[2].add_goal(second, "Draft the introduction", now + 10 * DAY_MS)
    student[2].sign(second)
    _sync_all(student, mentor)
    mentor[2].sign(second)
    mentor[2].check_in(second, "Ethics approved", "none", "collect 20 cases", now)
    _sync_all(mentor, student)
    for side in (student, mentor):
        plan = side[2].mentorship(second)
        assert plan.fully_signed and plan.value("cadence") == "every two weeks"
        assert [g["title"] for g in plan.goals()] == ["Draft the introduction"] and plan.progress() == (0, 1)
        assert plan.checkins[0]["progress"] == "Ethics approved"
    student[2].set(second, f"goal:{goal}:done", True)
    student[2].set(second, "cadence", "weekly")  # changing the agreement asks both to sign again
    _sync_all(student, mentor)
    plan = mentor[2].mentorship(second)
    assert plan.progress() == (1, 1) and not plan.fully_signed
    assert ("Read and sign the agreement.", {}) in plan.next_steps(now, mentor[0].account.hex())


def test_offline_edits_on_both_sides_converge_and_keep_history(pair):
    student, mentor = (_side(c) for c in pair)
    now = int(time.time() * 1000)
    request = student[2].ask(mentor[0].account.hex(), "Mentor me?", [], now)
    _sync_all(student, mentor)
    mentor[2].answer(request, accept=True)
    _sync_all(mentor, student)
    student[2].set(request, "mode", "async text")  # both offline, editing the same field
    time.sleep(0.002)
    mentor[2].set(request, "mode", "monthly call")
    _sync_all(student, mentor)
    _sync_all(student, mentor)
    values = {side[2].mentorship(request).value("mode") for side in (student, mentor)}
    assert values == {"monthly call"}, "last writer by hybrid clock wins on both sides"
    history = [op["v"] for op in mentor[2].mentorship(request).history("mode")]
    assert history == ["async text", "monthly call"], "the overwritten value stays visible"


def test_requests_expire_after_14_days_with_a_reminder_at_7(pair):
    student, mentor = (_side(c) for c in pair)
    asked = int(time.time() * 1000) - 8 * DAY_MS
    request_id = student[2].ask(mentor[0].account.hex(), "Mentor me?", [], asked)
    request = next(r for r in student[2].requests() if r.id == request_id)
    assert request.needs_reminder(asked + 8 * DAY_MS) and request.status(asked + 8 * DAY_MS) == "pending"
    assert request.status(asked + 15 * DAY_MS) == "expired" and not request.needs_reminder(asked + 15 * DAY_MS)


def test_only_the_pair_can_change_their_plan(pair, client_factory):
    student, mentor = (_side(c) for c in pair)
    now = int(time.time() * 1000)
    request = student[2].ask(mentor[0].account.hex(), "Mentor me?", [], now)
    _sync_all(student, mentor)
    with pytest.raises(ValueError):
        student[2].answer(request, accept=True)  # a student cannot accept their own request
    mentor[2].answer(request, accept=True)
    _sync_all(mentor, student)
    forged = {"op": "set", "m": request, "set": {"f": "cadence", "v": "never", "h": 1 << 60, "a": "x" * 32}}
    mentor[2]._take(forged, "x" * 32)
    assert mentor[2].mentorship(request).value("cadence") is None


def test_a_mentor_offers_and_only_the_student_answers(pair):
    student, mentor = (_side(c) for c in pair)
    now = int(time.time() * 1000)
    offer = mentor[2].offer(student[0].account.hex(), "Shall we work on your thesis?", ["Outline"], now)
    with pytest.raises(ValueError):
        mentor[2].answer(offer, accept=True)  # a mentor cannot accept their own offer
    _sync_all(mentor, student)
    assert [r.id for r in student[2].pending_for_me(now)] == [offer]
    student[2].answer(offer, accept=True)
    _sync_all(student, mentor)
    for side in (student, mentor):
        plan = side[2].mentorship(offer)
        assert plan is not None and plan.value("goals") == "Outline"


def test_a_student_has_a_mentor_and_a_peer_mentor_at_once(pair, client_factory):
    from desktop.domain import directory
    from desktop.domain.matching import Seeker, suggest
    from tests.test_messaging import _sync

    student, mentor = (_side(c) for c in pair)
    peer_client = client_factory()  # a fifth-year student who offers two places to juniors
    peer_client.publish_card("Zainab Senior", role="student", languages=["en"], capacity=2, year=5, peer=True)
    idle = client_factory()
    idle.publish_card("Musa Junior", role="student", languages=["en"])  # offers nothing: not a mentor
    for _ in range(2):
        _sync(peer_client, idle, student[0], mentor[0])
    peer = _side(peer_client)
    seeker = Seeker(student[0].account.hex(), "", "", ("en",), "Africa/Lagos")
    found = {s.card.name: s for s in suggest(seeker, directory.cards(student[0].vault))}
    assert "Musa Junior" not in found
    assert any(r.part == "peer" for r in found["Zainab Senior"].reasons)
    now = int(time.time() * 1000)
    with_mentor = student[2].ask(mentor[0].account.hex(), "Mentor me?", ["Thesis"], now)
    with_peer = student[2].ask(peer_client.account.hex(), "Could you show me how you prepared for exams?", [], now)
    _sync_all(student, mentor, peer)
    mentor[2].answer(with_mentor, accept=True)
    peer[2].answer(with_peer, accept=True)
    _sync_all(mentor, peer, student)
    plans = {p.id: p for p in student[2].mentorships()}
    assert set(plans) == {with_mentor, with_peer}
    assert plans[with_peer].mentor == peer_client.account.hex()


def test_the_progress_timeline_counts_checkins_per_week_and_places_goals():
    from desktop.domain.mentorship import Mentorship

    now = 1_800_000_000_000
    plan = Mentorship("m", "s", "t")
    plan.checkins = [{"by": "s", "at": now - d * DAY_MS} for d in (1, 2, 9, 200)]  # the last is out of the window
    plan.ops = [
        {"f": "goal:a:title", "v": "Ethics form", "h": 1, "a": "s"},
        {"f": "goal:a:due", "v": now - 3 * DAY_MS, "h": 2, "a": "s"},
        {"f": "goal:b:title", "v": "Poster", "h": 3, "a": "s"},
        {"f": "goal:b:due", "v": now + 60 * DAY_MS, "h": 4, "a": "s"},
        {"f": "goal:c:title", "v": "Read", "h": 5, "a": "s"},
        {"f": "goal:c:due", "v": now - 10 * DAY_MS, "h": 6, "a": "s"},
        {"f": "goal:c:done", "v": True, "h": 7, "a": "t"},
    ]
    counts, marks = plan.timeline(now)
    assert len(counts) == 12 and sum(counts) == 3 and counts[-1] == 2 and counts[-2] == 1
    assert sorted(marks) == sorted([(11, "overdue"), (12, "open"), (10, "done")])
