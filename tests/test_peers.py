"""Peer mentoring: final-year students offer to mentor fellow students. Their cards say so (``peer: true`` and a
year of study, checked where cards are read), matching suggests them next to senior mentors with the reason
said, and an admin's cohort assignment places them where senior places run out or where a student asked for a
peer. Real clients on a real server: the cards travel as signed records."""

from __future__ import annotations

import pytest

from desktop.domain import directory
from desktop.domain.matching import Seeker, is_mentor, suggest
from desktop.domain.programme import ProgrammeAdmin
from desktop.i18n import set_locale
from desktop.ui.views.mentor_detail import reason_line
from tests.test_messaging import _sync

WHEN = 1_800_000_000_000


def _admin_view(admin) -> ProgrammeAdmin:
    engine = admin.engine()
    engine.sync_once()
    view = ProgrammeAdmin(admin.vault, admin.program, admin.clock)
    view.store_presence(engine.authorized(engine.transport.admin_presence))
    return view


def test_only_a_final_year_student_card_offers_peer_mentoring(client_factory):
    """Cards come from other people: a mentor's ``peer``, a first-year's, a year out of range or a ``peer`` that
    is not ``true`` make no peer mentor, whatever else the card says."""
    cards = {
        "Zainab Final": dict(role="student", year=6, peer=True, capacity=2),
        "Musa First": dict(role="student", year=1, peer=True, capacity=2),
        "Ines Unsaid": dict(role="student", peer=True, capacity=2),
        "Omar Typo": dict(role="student", year="6", peer="yes", capacity=2),
        "Ana Far": dict(role="student", year=40, peer=True, capacity=2),
        "Lia Wishful": dict(role="student", year=2, wants_peer=True),
        "Dr Kofi": dict(role="mentor", year=6, peer=True, capacity=2),
    }
    reader = client_factory()
    for name, card in cards.items():
        client = client_factory(card["role"])
        client.publish_card(name, languages=["en"], **card)
        _sync(client)
    _sync(reader)
    found = {c.name: c for c in directory.cards(reader.vault)}
    assert [n for n, c in found.items() if c.peer] == ["Zainab Final"]
    assert (found["Zainab Final"].year, found["Musa First"].year, found["Omar Typo"].year) == (6, 1, 0)
    assert found["Ana Far"].year == 0 and found["Dr Kofi"].year == 0
    assert found["Lia Wishful"].wants_peer and not found["Zainab Final"].wants_peer
    mentors = sorted(n for n, c in found.items() if is_mentor(c))
    assert mentors == ["Dr Kofi", "Zainab Final"]  # students offering places without being peer mentors: not


def test_peer_mentors_are_suggested_next_to_senior_ones_with_the_reason_said(client_factory):
    """Twelve seniors who share the student's specialty outscore the peer mentor, yet the student's ten
    suggestions keep peer mentors beside them, each saying why; a peer in the student's own year is left out."""
    seekers = client_factory()
    seekers.publish_card("Amina Student", languages=["en", "fr"], year=2)
    people = []
    for n in range(12):
        senior = client_factory("mentor")
        senior.publish_card(
            f"Dr Senior {n:02}", role="mentor", languages=["en"], capacity=3, specialties=["Paediatrics"]
        )
        people.append(senior)
    peer = client_factory()
    peer.publish_card("Zainab Final", languages=["fr", "en"], year=6, peer=True, capacity=2)
    same_year = client_factory()
    same_year.publish_card("Bello Peer", languages=["en"], year=4, peer=True, capacity=2)
    people += [peer, same_year]
    _sync(*people)
    _sync(seekers)
    seeker = Seeker(seekers.account.hex(), "Paediatrics", "", ("en", "fr"), "UTC", year=4)
    found = suggest(seeker, directory.cards(seekers.vault), limit=10, when=None)
    names = [s.card.name for s in found]
    assert len(found) == 10 and "Zainab Final" in names and "Bello Peer" not in names
    assert sum(1 for s in found if s.card.role == "mentor") == 9
    zainab = next(s for s in found if s.card.name == "Zainab Final")
    set_locale("en")
    said = [reason_line(r.text, r.values) for r in zainab.reasons if r.part == "peer"]
    assert said == ["Peer mentor: a student in year 6, who speaks English, French with you"]
    # a student who asked for a peer mentor sees them first
    asked = Seeker(seekers.account.hex(), "", "", ("en", "fr"), "UTC", year=2, wants_peer=True)
    first = suggest(asked, directory.cards(seekers.vault), limit=10)
    assert [s.card.name for s in first[:2]] == ["Zainab Final", "Bello Peer"]
    assert "as you asked" in reason_line(first[0].reasons[-2].text, first[0].reasons[-2].values)


@pytest.fixture
def cohort(client_factory):
    """One senior mentor with three places, one peer mentor with two, an admin, and four students of year 2:
    one of whom asked for a peer mentor."""
    people = {
        "dr_kofi": client_factory("mentor"),
        "zainab": client_factory(),
        "admin": client_factory("admin"),
        **{name: client_factory() for name in ("amina", "bello", "chidi", "dayo")},
    }
    for name, client in people.items():
        if name == "dr_kofi":
            client.publish_card(name, role="mentor", languages=["en"], capacity=3, interests=["cardiology"])
        elif name == "zainab":
            client.publish_card(name, languages=["en"], year=6, peer=True, capacity=2, interests=["cardiology"])
        elif name != "admin":
            client.publish_card(name, languages=["en"], year=2, interests=["cardiology"], wants_peer=name == "dayo")
    for _ in range(2):
        _sync(*people.values())
    return people


def test_cohort_assignment_places_peer_mentors_where_senior_places_run_out(cohort):
    p = cohort
    accounts = {c.account.hex(): name for name, c in p.items()}
    proposals = _admin_view(p["admin"]).propose()
    pairs = {accounts[x.student.account]: accounts[x.mentor.account] for x in proposals}
    # five students (the peer mentor is a student too) and five places: every one placed; the senior's three
    # places go to those who did not ask for a peer, and the one left over goes to the peer mentor
    assert set(pairs) == {"amina", "bello", "chidi", "dayo", "zainab"}
    assert pairs["dayo"] == "zainab", "the student who asked for a peer mentor has one"
    assert pairs["zainab"] == "dr_kofi", "a peer mentor is nobody's mentor of themselves"
    assert sorted(pairs.values()) == ["dr_kofi", "dr_kofi", "dr_kofi", "zainab", "zainab"]
    to_peer = [x for x in proposals if x.mentor.peer]
    assert len(to_peer) == 2 and all(any(r.part == "peer" for r in x.reasons) for x in to_peer)
    set_locale("en")
    why = [reason_line(r.text, r.values, about_a_pair=True) for x in to_peer for r in x.reasons if r.part == "peer"]
    assert "Peer mentor, as the student asked: a student in year 6; both speak English" in why


def test_without_a_peer_mentor_the_cohort_places_whom_seniors_can_take(cohort, client_factory):
    """The peer mentor closes their places: the assignment places three students with the senior, and none
    with a student who is not a peer mentor."""
    p = cohort
    p["zainab"].publish_card("zainab", languages=["en"], year=6, peer=False, capacity=2, interests=["cardiology"])
    _sync(p["zainab"])
    proposals = _admin_view(p["admin"]).propose()
    assert len(proposals) == 3 and all(x.mentor.role == "mentor" for x in proposals)


def test_a_student_offers_peer_mentoring_from_the_profile_and_the_admin_sees_it(make_app, server, tmp_path):
    """By keyboard on My profile: the offer is closed to a second-year and open in year 6; the card that goes
    out says so; the Mentors view of a junior marks the peer mentor and the admin's proposed pairs name them."""
    from tests.clients import card_holder, synced
    from tests.test_keyboard import PASSPHRASE, WAIT, keyboard

    set_locale("en")
    page = keyboard(make_app())
    me = page.set_up_in(server.url, server.invite("student"), "Zainab Final", PASSPHRASE)
    page.open_view("profile")
    profile = page.screen.profile
    page._type(profile.year, "2")
    assert not profile.peer.isEnabled() and not profile.capacity.isEnabled()
    page._type(profile.year, "6")
    assert profile.peer.isEnabled()
    page._press(profile.peer)
    assert profile.peer.isChecked() and profile.capacity.isEnabled()
    page._type(profile.capacity, "2")
    page._press(profile.save_button)
    card = page.app.session.my_card()
    assert (card.year, card.peer, card.capacity) == (6, True, 2)
    page.sync_now()
    page.qtbot.waitUntil(lambda: page.app.session.vault.records.by_state("outbox") == [], timeout=WAIT)

    junior = card_holder(tmp_path / "junior", server, "Amina Junior", languages=list(card.languages), year=2)
    found = {c.name: c for c in directory.cards(junior.vault)}
    assert found["Zainab Final"].peer and is_mentor(found["Zainab Final"])
    page.app.shutdown()

    admin = keyboard(make_app(tmp_path / "admin-app"))
    admin.set_up_in(server.url, server.invite("admin"), "Programme Admin", PASSPHRASE)
    synced(junior)
    admin.sync_now()
    admin.wait_synced()
    admin.open_view("programme")
    programme = admin.screen.programme
    admin._press(programme.propose_button)
    cells = [programme.pairs.item(0, c).text() for c in range(1, 3)]
    assert cells == ["Amina Junior", "Zainab Final (peer mentor)"], f"proposed {cells} to {me}"
    junior.vault.close()
