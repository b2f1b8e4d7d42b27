"""The mentor's review queue, over real clients exchanging encrypted messages through a real server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from desktop.domain import review
from sync.clock import ManualClock, now_ms
from sync.protocol import HybridClock
from tests.test_messaging import _sync

# Any date will do: every client reads this clock, never the machine's, so the test passes on every day it runs.
EVENING = datetime(2026, 11, 22, 21, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    return ManualClock(EVENING)


@pytest.fixture
def mentor_with_mentees(client_factory, clock):
    mentor = client_factory("mentor")
    mentees = [client_factory() for _ in range(3)]
    for person in (mentor, *mentees):
        person.clock = HybridClock(wall=clock)
    mentor.publish_card("Dr Ama", role="mentor")
    for n, mentee in enumerate(mentees):
        mentee.publish_card(f"Student {n}")
    everyone = [mentor, *mentees]
    _sync(*everyone)
    _sync(*everyone)
    return mentor, mentees


def test_awaiting_my_reply_oldest_first_then_reply_review_flag_snooze(mentor_with_mentees, clock):
    mentor, (a, b, c) = mentor_with_mentees
    me = mentor.account.hex()
    threads = {}
    for mentee, text in ((a, "first question"), (b, "second question"), (c, "third question")):
        chat = mentee.messaging()
        threads[mentee.account] = chat.start_direct(me)
        chat.send(threads[mentee.account], text)
        _sync(mentee)
        clock.advance(60)
    a.messaging().send(threads[a.account], "and a follow-up")
    _sync(a, mentor)
    queue = review.review_queue(mentor.vault, me, now_ms(clock))
    assert [item.people for item in queue] == [(a.account.hex(),), (b.account.hex(),), (c.account.hex(),)]
    assert queue[0].unread == 2 and queue[0].latest.body == "and a follow-up"
    assert review.counts_per_person(queue)[a.account.hex()] == 1

    mentor.messaging().send(threads[a.account], "Happy to help, let's talk Thursday.")
    review.mark_reviewed(mentor.vault, threads[b.account], me)
    review.flag(mentor.vault, threads[c.account], me)
    queue = review.review_queue(mentor.vault, me, now_ms(clock))
    assert [item.thread_id for item in queue] == [threads[c.account]] and queue[0].flagged

    later = review.tomorrow_morning(EVENING)
    assert later.hour == 8 and later > EVENING
    review.snooze(mentor.vault, threads[c.account], me, int(later.timestamp() * 1000))
    assert review.review_queue(mentor.vault, me, now_ms(clock)) == []
    assert len(review.review_queue(mentor.vault, me, int(later.timestamp() * 1000) + 1)) == 1

    c.messaging().send(threads[c.account], "any news?")
    _sync(c, mentor)
    assert [i.thread_id for i in review.review_queue(mentor.vault, me, int(later.timestamp() * 1000) + 1)] == [
        threads[c.account]
    ]


def test_reply_templates_are_kept_sealed(mentor_with_mentees, tmp_path):
    mentor, _ = mentor_with_mentees
    review.save_template(mentor.vault, "Busy week", "Thanks for writing. I will answer properly by Friday.")
    review.save_template(mentor.vault, "CV", "Please send your CV as a PDF.")
    assert [t["title"] for t in review.templates(mentor.vault)] == ["Busy week", "CV"]
    review.delete_template(mentor.vault, "CV")
    assert [t["title"] for t in review.templates(mentor.vault)] == ["Busy week"]
    with pytest.raises(ValueError):
        review.save_template(mentor.vault, "", "x")
    raw = b"".join(p.read_bytes() for p in mentor.vault.folder.iterdir() if p.is_file())
    assert b"answer properly by Friday" not in raw
