"""Circles between real clients through a real server (PROTOCOL.md §11): joining by invitation, roles enforced by
every client and by the server, a removed member who reads nothing new, refusals a person understands."""

from __future__ import annotations

import msgpack
import pytest

from desktop.domain.circles import MAX_CIRCLE, CircleError, Circles
from tests.clients import Client


class Person:
    def __init__(self, client: Client, name: str) -> None:
        self.client, self.name = client, name
        self.messaging = client.messaging()
        self.circles = Circles(client.vault, self.messaging)

    @property
    def id(self) -> str:
        return self.client.account.hex()

    def sync(self) -> None:
        self.client.engine().sync_once()
        self.messaging.take_in()
        self.circles.take_in()


def rounds(*people: Person, times: int = 2) -> None:
    for _ in range(times):
        for person in people:
            person.sync()


@pytest.fixture
def group(client_factory):
    names = [
        ("Dr Kofi Mensah", "mentor"),
        ("Amina Student", "student"),
        ("Lucas Peer", "student"),
        ("Mo Out", "student"),
    ]
    people = []
    for name, role in names:
        client = client_factory(role)
        client.publish_card(name, role=role)
        people.append(Person(client, name))
    rounds(*people)
    return people


def test_a_circle_is_made_joined_and_posted_in(group):
    lead, amina, lucas, outsider = group
    circle = lead.circles.create("Sepsis research group", about="Weekly", members={amina.id: "member"})
    first = lead.circles.post(circle, "circle-post", {"ref": "t1", "y": "topic", "n": "Kick-off", "x": "Hello all"})
    assert [e.id for e in lead.circles.events(circle, "circle-post", "t1")] == [first], "the author sees it at once"
    rounds(lead, amina)
    [seen] = amina.circles.circles()
    assert (seen.title, seen.about, seen.my_role) == ("Sepsis research group", "Weekly", "member")
    [event] = amina.circles.events(circle, "circle-post", "t1")
    assert (event.content["x"], event.author, event.role) == ("Hello all", lead.id, "lead")
    invite = lead.circles.invite(circle, lucas.id, "peer")
    rounds(lead, lucas)
    [invitation] = lucas.circles.invitations()
    assert (invitation.id, invitation.title, invitation.role, invitation.by) == (
        invite,
        "Sepsis research group",
        "peer",
        lead.id,
    )
    lucas.circles.accept(invite)
    rounds(lucas, lead, lucas, amina)
    assert lucas.circles.circle(circle).my_role == "peer"
    assert {m.account: m.role for m in amina.circles.circle(circle).members} == {
        lead.id: "lead",
        amina.id: "member",
        lucas.id: "peer",
    }
    lucas.circles.post(circle, "circle-post", {"ref": "t1", "y": "reply", "x": "Glad to join"})
    rounds(lucas, amina, lead)
    assert [e.content["x"] for e in amina.circles.events(circle, "circle-post", "t1")] == ["Hello all", "Glad to join"]
    assert outsider.circles.circles() == [] and outsider.client.vault.circle_events.find(circle) == []
