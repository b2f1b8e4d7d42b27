"""Discussions in a circle between real clients through a real server: topics and threaded replies, unread counts
and mute, edits of one's own posts only, announcements refused to a member, an oversized post refused, pinned
library items, and the digest's order for someone back after two weeks."""

from __future__ import annotations

import pytest

from desktop.domain.circles import CircleError
from desktop.domain.discussions import MAX_TEXT, DiscussionError, Discussions
from tests.circle_people import CirclePerson, rounds
from tests.clients import Client

DAY_MS = 86_400_000


class Person(CirclePerson):
    def __init__(self, client: Client, name: str) -> None:
        super().__init__(client, name)
        self.talk = Discussions(self.circles, client.vault, self.id, self.circles.now_ms)

    def outbox(self) -> int:
        return len(self.client.vault.records.by_state("outbox"))


@pytest.fixture
def circle(client_factory):
    """A lead mentor, a member and a peer mentor in one circle, every roster delivered."""
    people = []
    for name, role in (("Dr Kofi Mensah", "mentor"), ("Amina Student", "student"), ("Lucas Peer", "student")):
        client = client_factory(role)
        client.publish_card(name, role=role)
        people.append(Person(client, name))
    rounds(*people)
    lead, amina, lucas = people
    circle_id = lead.circles.create("Sepsis research group", members={amina.id: "member", lucas.id: "peer"})
    rounds(*people)
    assert amina.circles.circle(circle_id).my_role == "member"
    return circle_id, lead, amina, lucas


def test_a_topic_gets_threaded_replies_unread_counts_and_can_be_muted(circle):
    circle_id, lead, amina, lucas = circle
    topic = amina.talk.start_topic(circle_id, "Lactate in sepsis", "Which cut-off do you use?")
    rounds(amina, lead, lucas)
    first = lead.talk.reply(circle_id, topic, "2 mmol/L, then repeat.")
    rounds(lead, lucas)
    lucas.talk.reply(circle_id, topic, "Our ward uses 4.", parent=first)
    assert lead.talk.unread(circle_id) == {}, "the lead read it when replying"
    rounds(lucas, amina, lead)

    assert amina.talk.unread(circle_id) == {topic: 2}
    [(listed)] = amina.talk.topics(circle_id)
    assert (listed.title, listed.replies, listed.author) == ("Lactate in sepsis", 2, amina.id)
    posts = amina.talk.thread(circle_id, topic)
    assert [(p.author, p.depth, p.text) for p in posts] == [
        (amina.id, 0, "Which cut-off do you use?"),
        (lead.id, 1, "2 mmol/L, then repeat."),
        (lucas.id, 2, "Our ward uses 4."),
    ]
    amina.talk.mark_read(circle_id, topic)
    assert amina.talk.unread(circle_id) == {}
    lucas.talk.reply(circle_id, topic, "And you, Amina?")
    rounds(lucas, amina)
    assert amina.talk.unread(circle_id) == {topic: 1}
    amina.talk.mute(circle_id, topic)
    assert amina.talk.unread(circle_id) == {} and amina.talk.muted(circle_id) == {topic}
    lucas.talk.reply(circle_id, topic, "Anyone?")
    rounds(lucas, amina)
    assert amina.talk.unread(circle_id) == {}, "a muted topic counts nothing new"
    amina.talk.mute(circle_id, topic, on=False)
    assert amina.talk.unread(circle_id) == {topic: 2}


def test_a_member_edits_and_deletes_only_their_own_posts(circle):
    circle_id, lead, amina, lucas = circle
    topic = lead.talk.start_topic(circle_id, "Reading list", "Start here")
    rounds(lead, lucas)
    reply = lucas.talk.reply(circle_id, topic, "Surviving Sepis Campaign")
    lucas.talk.edit(circle_id, topic, reply, "Surviving Sepsis Campaign 2021")
    with pytest.raises(DiscussionError) as refused:
        lucas.talk.delete(circle_id, topic, topic)
    assert refused.value.code == "not-author"
    # a forged edit of someone else's post, sent past the client's check, changes nothing anywhere
    lucas.circles.post(circle_id, "circle-post", {"ref": topic, "y": "edit", "p": topic, "x": "vandalised"})
    rounds(lucas, amina, lead)
    for person in (amina, lead):
        posts = person.talk.thread(circle_id, topic)
        assert [(p.text, p.edited) for p in posts] == [("Start here", False), ("Surviving Sepsis Campaign 2021", True)]
    lucas.talk.delete(circle_id, topic, reply)
    rounds(lucas, amina)
    assert [p.deleted for p in amina.talk.thread(circle_id, topic)] == [False, True]
    assert amina.talk.topics(circle_id)[0].replies == 0


def test_only_a_lead_announces_and_everyone_sees_it(circle):
    circle_id, lead, amina, lucas = circle
    before = amina.outbox()
    with pytest.raises(DiscussionError) as refused:
        amina.talk.announce(circle_id, "Exams moved", "to Friday")
    assert refused.value.code == "not-lead" and "lead" in str(refused.value)
    with pytest.raises(CircleError):  # straight to the circle, past discussions: still refused on this device
        amina.circles.post(circle_id, "circle-announce", {"ref": "a" * 32, "y": "topic", "n": "Fake", "x": ""})
    assert amina.outbox() == before, "nothing was queued"
    ref = lead.talk.announce(circle_id, "Journal club moves", "Thursdays at 18:00 UTC from now on")
    rounds(lead, amina, lucas)
    for person in (amina, lucas):
        [announcement] = person.talk.announcements(circle_id)
        assert (announcement.id, announcement.title, announcement.author) == (ref, "Journal club moves", lead.id)


def test_an_oversized_post_is_refused_clearly_and_one_at_the_limit_arrives_whole(circle):
    circle_id, lead, amina, _lucas = circle
    topic = amina.talk.start_topic(circle_id, "Long read", "")
    before = amina.outbox()
    with pytest.raises(DiscussionError) as refused:
        amina.talk.reply(circle_id, topic, "é" * (MAX_TEXT + 1))
    assert refused.value.code == "too-long" and "8,000" in str(refused.value) and "8,001" in str(refused.value)
    assert amina.outbox() == before
    amina.talk.reply(circle_id, topic, "ب" * MAX_TEXT)
    rounds(amina, lead)
    assert [len(p.text) for p in lead.talk.thread(circle_id, topic)] == [0, MAX_TEXT]


def test_pins_and_journal_clubs_from_the_library(circle):
    circle_id, lead, amina, _lucas = circle
    pin = lead.talk.pin(circle_id, "material-1", "Surviving Sepsis Campaign")
    when = lead.circles.now_ms() + 7 * DAY_MS
    club = lead.talk.journal_club(circle_id, "The FEAST trial", "material-2", when, "Read it before")
    rounds(lead, amina)
    assert [(p.id, p.lib, p.title) for p in amina.talk.pins(circle_id)] == [
        (pin, "material-1", "Surviving Sepsis Campaign")
    ]
    [found] = amina.talk.journal_clubs(circle_id)
    assert (found.id, found.lib, found.at, found.title) == (club, "material-2", when, "The FEAST trial")
    amina.talk.reply(circle_id, club, "Read it, questions on fluid boluses")
    with pytest.raises(DiscussionError):
        amina.talk.unpin(circle_id, pin)
    lead.talk.unpin(circle_id, pin)
    rounds(lead, amina)
    assert amina.talk.pins(circle_id) == []


def test_the_digest_shows_what_matters_first(circle):
    circle_id, lead, amina, lucas = circle
    mine = amina.talk.start_topic(circle_id, "My question on qSOFA", "Is it still used?")
    rounds(amina, lead, lucas)
    since = amina.circles.now_ms()  # Amina goes offline here
    quiet = lead.talk.start_topic(circle_id, "Conference travel", "")
    busy = lead.talk.start_topic(circle_id, "Data cleaning", "")
    lead.talk.announce(circle_id, "Ethics approval granted", "We can start")
    club = lead.talk.journal_club(circle_id, "ARISE trial", "m", lead.circles.now_ms() + 3 * DAY_MS)
    rounds(lead, lucas)
    for n in range(3):
        lucas.talk.reply(circle_id, busy, f"Cleaning note {n}")
    lucas.talk.reply(circle_id, mine, "Mostly replaced by NEWS2")
    rounds(lucas, lead, amina)

    digest = amina.talk.digest(since)
    assert [(i.reason, i.title) for i in digest] == [
        ("announcement", "Ethics approval granted"),
        ("reply", "My question on qSOFA"),
        ("journal", "ARISE trial"),
        ("busy", "Data cleaning"),
        ("other", "Conference travel"),
    ]
    assert digest[1].author == lucas.id and digest[1].snippet == "Mostly replaced by NEWS2"
    assert digest[3].count == 4 and digest[2].topic == club
    amina.talk.mute(circle_id, busy)
    amina.talk.mute(circle_id, quiet)
    assert [i.reason for i in amina.talk.digest(since)] == ["announcement", "reply", "journal"]
