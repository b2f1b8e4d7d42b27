"""Circles between real clients through a real server (PROTOCOL.md §11): joining by invitation, roles enforced by
every client and by the server, a removed member who reads nothing new, refusals a person understands."""

from __future__ import annotations

import msgpack
import pytest

from desktop.domain.circles import MAX_CIRCLE, CircleError
from tests.circle_people import CirclePerson as Person
from tests.circle_people import rounds

STEADY_SERVER = True  # its servers and clients share a clock on a fixed day (tests/conftest.py)


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


def _forge(person: Person, circle: str, kind: str, content: dict, epoch: int | None = None):
    """A record sealed and signed by ``person`` as their client would never make it (no client-side check)."""
    from sync import envelope
    from sync.protocol import Record, new_record_id

    c = person.circles.meta(circle)["circle"]
    epoch = epoch or c["epoch"]
    key = person.client.vault.get_secret(f"epoch:{circle}:{epoch}")
    record_id = new_record_id()
    body = envelope.seal(key, epoch, bytes.fromhex(circle), record_id, kind, msgpack.packb(content))
    audience = [bytes.fromhex(a) for a in sorted(c["roster"])]
    record = Record(i=record_id, k=kind, t=audience, h=person.messaging.clock.now(), b=body)
    person.messaging._enqueue(record, signed=True)
    return record_id.hex()


def _rejected(person: Person) -> dict[str, str]:
    return {r.id: r.note for r in person.client.vault.records.by_state("rejected")}


def test_a_removed_member_reads_nothing_new(group):
    lead, amina, lucas, _outsider = group
    circle = lead.circles.create("Cardiology circle", members={amina.id: "member", lucas.id: "member"})
    lead.circles.post(circle, "circle-post", {"ref": "t", "x": "before"})
    rounds(lead, amina, lucas)
    assert [e.content["x"] for e in lucas.circles.events(circle, "circle-post")] == ["before"]
    old_epoch = lucas.circles.meta(circle)["circle"]["epoch"]
    lead.circles.remove(circle, lucas.id)
    lead.circles.post(circle, "circle-post", {"ref": "t", "x": "after removal"})
    rounds(lead, amina, lucas, times=3)  # lucas keeps syncing
    assert [e.content["x"] for e in amina.circles.events(circle, "circle-post")] == ["before", "after removal"]
    assert [e.content["x"] for e in lucas.circles.events(circle, "circle-post")] == ["before"]
    new_epoch = lead.circles.meta(circle)["circle"]["epoch"]
    assert new_epoch != old_epoch and lucas.client.vault.get_secret(f"epoch:{circle}:{new_epoch}") is None
    assert lucas.circles.circles() == [] and lucas.circles.circle(circle).my_role is None, "told they are out"
    with pytest.raises(CircleError) as refused:
        lucas.circles.post(circle, "circle-post", {"ref": "t", "x": "still here?"})
    assert refused.value.code == "not-member"
    forged = _forge(lucas, circle, "circle-post", {"ref": "t", "x": "sneaking in"}, epoch=old_epoch)
    lucas.sync()
    assert "forbidden" in _rejected(lucas)[forged], "the server refuses a post from someone no longer a member"
    rounds(amina)
    assert len(amina.circles.events(circle, "circle-post")) == 2


def test_roles_are_enforced_by_the_server_and_by_every_client(group, server, monkeypatch):
    lead, amina, lucas, _outsider = group
    circle = lead.circles.create("Journal club", members={amina.id: "member", lucas.id: "peer"})
    rounds(lead, amina, lucas)
    with pytest.raises(CircleError) as refused:
        amina.circles.post(circle, "circle-announce", {"x": "I am the lead now"})
    assert refused.value.code == "not-lead"
    for call in (lambda: amina.circles.remove(circle, lucas.id), lambda: amina.circles.invite(circle, lead.id)):
        with pytest.raises(CircleError) as refused:
            call()
        assert refused.value.code == "not-lead"
    # around her client: the server refuses (403) a member's announcement and a member's roster
    from desktop.domain import circle_keys

    announce = _forge(amina, circle, "circle-announce", {"x": "forged announcement"})
    amina.circles.meta(circle)["circle"]["roster"][amina.id] = "lead"
    meta = amina.circles.meta(circle)
    meta["circle"]["roster"][amina.id] = "lead"
    amina.circles.save(circle, meta)
    with amina.client.vault.transaction():
        circle_keys.rotate(amina.circles, circle, {**meta["circle"]["roster"], lucas.id: "member"})
    roster_ids = [r.id for r in amina.client.vault.records.by_state("outbox") if r.kind == "circle-key"]
    amina.sync()
    rejected = _rejected(amina)
    assert "forbidden" in rejected[announce] and all("forbidden" in rejected[i] for i in roster_ids)
    # and around the server's check (a hostile or buggy server): every other client drops them
    monkeypatch.setattr(server.storage, "_check_circles", lambda *args: None)
    refused_before = lucas.messaging.refused
    amina_state = amina.circles.meta(circle)
    amina_state["circle"]["epoch"] -= 1  # her forged epoch was never accepted: forge it again
    amina.circles.save(circle, amina_state)
    with amina.client.vault.transaction():
        circle_keys.rotate(amina.circles, circle, {**amina_state["circle"]["roster"], lucas.id: "member"})
    _forge(amina, circle, "circle-announce", {"x": "forged announcement"}, epoch=1)
    amina.sync()
    rounds(lucas, lead)
    for person in (lucas, lead):
        assert person.circles.events(circle, "circle-announce") == []
        assert person.circles.role(circle, amina.id) == "member" and person.circles.role(circle, lucas.id) == "peer"
    assert lucas.messaging.refused >= refused_before + 2
    real = lead.circles.post(circle, "circle-announce", {"x": "Journal club moves to Thursday"})
    rounds(lead, lucas)
    assert [e.id for e in lucas.circles.events(circle, "circle-announce")] == [real]


def test_an_invitation_to_someone_who_left_the_programme_is_refused(group, server):
    lead, amina, lucas, leaver = group
    circle = lead.circles.create("Surgery circle", members={amina.id: "member"})
    # Lucas leaves the programme: his last card lists no devices. His client-side refusal is clear at once.
    lucas.client.send(b'{"v":1,"name":"Lucas Peer","role":"student"}', None, kind="card", signed=True)
    rounds(lucas, lead)
    for call in (
        lambda: lead.circles.invite(circle, lucas.id),
        lambda: lead.circles.create("Another", members={lucas.id: "member"}),
    ):
        with pytest.raises(CircleError) as refused:
            call()
        assert refused.value.code == "member-left"
    # Mo accepts, then leaves before the lead's device takes the answer in: the server refuses the roster
    invite = lead.circles.invite(circle, leaver.id)
    rounds(lead, leaver)
    leaver.circles.accept(invite)
    leaver.sync()
    server.storage.revoke_device(leaver.client.program.credentials.device)
    post = lead.circles.post(circle, "circle-post", {"ref": "t", "x": "kept"})
    lead.sync()  # the post goes; the acceptance comes in and the lead's device rotates
    assert lead.client.vault.records.get(post).state == "sent"
    lead.sync()  # the rotation is refused; the device goes back to the roster before it
    rotation = _rejected(lead)
    assert rotation and all("member-left" in note for note in rotation.values()), rotation
    assert {m.account for m in lead.circles.circle(circle).members} == {lead.id, amina.id}
    later = lead.circles.post(circle, "circle-post", {"ref": "t", "x": "still reaches everyone"})
    rounds(lead, amina)
    assert lead.client.vault.records.get(later).state == "sent" and not set(_rejected(lead)) - set(rotation)
    assert [e.content["x"] for e in amina.circles.events(circle, "circle-post")] == ["kept", "still reaches everyone"]


def test_over_a_hundred_members_and_oversized_posts_are_refused_clearly(group):
    lead, amina, _lucas, _outsider = group
    too_many = {f"{n:032x}": "member" for n in range(1, MAX_CIRCLE + 1)}
    with pytest.raises(CircleError) as refused:
        lead.circles.create("Too big", members=too_many)
    assert refused.value.code == "full"
    circle = lead.circles.create("Big posts", members={amina.id: "member"})
    with pytest.raises(CircleError) as refused:
        lead.circles.post(circle, "circle-post", {"ref": "t", "x": "x" * 60_000})
    assert refused.value.code == "too-large"
    assert lead.circles.events(circle, "circle-post") == [], "nothing half-stored"
    lead.circles.post(circle, "circle-post", {"ref": "t", "x": "a normal post"})
    rounds(lead, amina)
    assert [e.content["x"] for e in amina.circles.events(circle, "circle-post")] == ["a normal post"]


def test_the_server_checks_rosters_and_kinds_on_sqlite_and_postgresql(any_server, tmp_path):
    """Raw records, as a modified client would push them: refused with 403/422 in the one error shape."""
    import os

    from sync import envelope
    from tests.clients import make_client

    lead, member = (make_client(tmp_path / n, any_server.url, any_server.invite()) for n in ("a", "b"))
    a, b = lead.account, member.account
    circle = os.urandom(16)

    def roster(client, members, leads, epoch=1):
        body = msgpack.packb({"t": circle, "e": epoch, "lv": 1, "m": members, "l": leads, "w": {}, "s": b""})
        return client.send(body, members, kind="circle-key", signed=True).i.hex()

    def notes(client):
        client.engine().sync_once()
        return {r.id: r.note for r in client.vault.records.by_state("rejected")}

    too_many = roster(lead, [a, *(os.urandom(16) for _ in range(MAX_CIRCLE))], [a])
    stranger = roster(lead, [a, os.urandom(16)], [a])
    good = roster(lead, [a, b], [a])
    refused = notes(lead)
    assert refused[too_many].startswith("circle-full") and refused[stranger].startswith("member-left")
    assert good not in refused
    forged_roster = roster(member, [a, b], [a, b], epoch=2)
    sealed = envelope.seal(os.urandom(32), 1, circle, os.urandom(16), "circle-announce", b"\x80")
    announce = member.send(sealed, [a, b], kind="circle-announce", signed=True).i.hex()
    post = member.send(
        envelope.seal(os.urandom(32), 1, circle, os.urandom(16), "circle-post", b"\x80"), [a, b], "circle-post", True
    ).i.hex()
    refused = notes(member)
    assert refused[forged_roster].startswith("forbidden") and refused[announce].startswith("forbidden")
    assert post not in refused, "a member posts"
    outsider = make_client(tmp_path / "c", any_server.url, any_server.invite())
    intruder = outsider.send(
        envelope.seal(os.urandom(32), 1, circle, os.urandom(16), "circle-post", b"\x80"), [a], "circle-post", True
    ).i.hex()
    assert notes(outsider)[intruder].startswith("forbidden")
    hostile = [
        lead.send(body, [a], kind=kind, signed=True).i.hex()
        for kind, body in (
            ("circle-key", b"\xc1"),
            ("circle-key", msgpack.packb([1, 2])[:1]),
            ("circle-key", msgpack.packb({"t": 10**12, "e": 1, "m": [a], "l": [a]})),
            ("circle-card", msgpack.packb({"c": 10**12})),
            ("circle-post", b"not sealed"),
        )
    ]
    refused = notes(lead)
    assert all(refused[i].startswith("invalid") for i in hostile), refused
    for client in (lead, member, outsider):
        client.vault.close()


def test_removing_a_lead_renews_the_lead_key_and_every_member_follows(group, monkeypatch):
    """A rotation's grants travel in several records (40 each; here 1, so two members make two records): the
    server takes them all, each telling the removed lead."""
    from desktop.domain import circle_keys

    monkeypatch.setattr(circle_keys, "GRANTS_PER_RECORD", 1)
    lead, amina, lucas, other = group
    circle = lead.circles.create("Two leads", members={amina.id: "lead", lucas.id: "member", other.id: "member"})
    rounds(lead, amina, lucas, other)
    assert amina.circles.circle(circle).my_role == "lead"
    old_lv = lead.circles.meta(circle)["circle"]["lv"]
    lead.circles.remove(circle, amina.id)
    lead.circles.post(circle, "circle-post", {"ref": "t", "x": "after the lead key changed"})
    rounds(lead, lucas, amina)
    assert not _rejected(lead)
    assert lead.circles.meta(circle)["circle"]["lv"] == old_lv + 1
    assert [e.content["x"] for e in lucas.circles.events(circle, "circle-post")] == ["after the lead key changed"]
    assert amina.circles.events(circle, "circle-post") == [] and amina.circles.circle(circle).my_role is None


def test_a_newly_linked_device_of_a_member_catches_up_from_the_keyring(server, tmp_path):
    """The member secret and the epoch keys travel in the account's keyring: a phone linked later reads the
    circle, its history and what comes next, though no grant ever named it."""
    from tests.devices_helpers import link, person

    def settle(*sessions):
        for _ in range(2):
            for s in sessions:
                s.engine.sync_once()
                s.messaging.take_in()
                s.circles.take_in()
                s.account_upkeep()
                s.engine.sync_once()

    lead, _ = person(tmp_path / "lead", server, "Dr Kofi Mensah", "mentor")
    amina, _ = person(tmp_path / "amina", server, "Amina Student")
    settle(lead, amina)
    me = amina.program.credentials.account.hex()
    circle = lead.circles.create("Paediatrics circle", members={me: "member"})
    lead.circles.post(circle, "circle-post", {"ref": "t", "x": "before the phone"})
    settle(lead, amina)
    assert [e.content["x"] for e in amina.circles.events(circle, "circle-post")] == ["before the phone"]
    phone = link(amina, tmp_path / "phone")
    settle(amina, phone, lead)
    lead.circles.post(circle, "circle-post", {"ref": "t", "x": "after the phone"})
    settle(lead, phone)
    assert phone.circles.circle(circle).my_role == "member"
    assert [e.content["x"] for e in phone.circles.events(circle, "circle-post")] == [
        "before the phone",
        "after the phone",
    ]
    phone.circles.post(circle, "circle-post", {"ref": "t", "x": "from my phone"})
    settle(phone, lead)
    assert [e.content["x"] for e in lead.circles.events(circle, "circle-post")][-1] == "from my phone"
    # the phone is lost and revoked: the lead's device moves Amina's number on (a new m_a the phone never holds)
    epoch = lead.circles.meta(circle)["circle"]["epoch"]
    amina.revoke_device(phone.program.credentials.device.hex())
    settle(amina, lead, amina)
    state = lead.circles.meta(circle)["circle"]
    assert state["epoch"] == epoch + 1 and state["n"][me] == 1
    lead.circles.post(circle, "circle-post", {"ref": "t", "x": "after the phone was revoked"})
    settle(lead, amina)
    assert amina.circles.events(circle, "circle-post")[-1].content["x"] == "after the phone was revoked"
    assert phone.vault.get_secret(f"epoch:{circle}:{epoch + 1}") is None
    for s in (lead, amina, phone):
        s.vault.close()


def test_leaving_setting_roles_and_listed_circles(group):
    lead, amina, lucas, outsider = group
    circle = lead.circles.create(
        "Open neurology circle", about="All welcome", listed=True, members={amina.id: "member", lucas.id: "member"}
    )
    rounds(lead, amina, lucas, outsider)
    [card] = outsider.circles.listed()
    assert (card.id, card.title, card.count, card.leads) == (circle, "Open neurology circle", 3, (lead.id,))
    outsider.circles.ask_to_join(circle)
    rounds(outsider, lead)
    assert lead.circles.asks(circle) == [outsider.id]
    lead.circles.set_role(circle, amina.id, "mentor")
    lucas.circles.leave(circle)
    rounds(lucas, lead, amina, lucas)
    assert {m.account: m.role for m in amina.circles.circle(circle).members} == {lead.id: "lead", amina.id: "mentor"}
    assert lucas.circles.circle(circle).my_role is None
    lead.circles.post(circle, "circle-post", {"ref": "t", "x": "after Lucas left"})
    rounds(lead, amina, lucas)
    assert [e.content["x"] for e in amina.circles.events(circle, "circle-post")] == ["after Lucas left"]
    assert lucas.circles.events(circle, "circle-post") == []
