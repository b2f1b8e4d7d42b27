"""A mentor finds students (issue 16, item 5): the Students view lists those who asked, those the programme
introduced and those in the mentor's circles (``session.circles``), each with its reasons, and an offer made
from there, by keyboard, reaches the student. Real app, real server, real clients for the students and the
admin."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.domain import directory
from desktop.domain.mentorship import Mentorships
from desktop.domain.programme import ProgrammeAdmin, Proposal, introductions
from desktop.domain.students import students_for
from desktop.i18n import set_locale
from tests.clients import card_holder, synced
from tests.test_keyboard import PASSPHRASE, WAIT, keyboard


def _entries(view) -> dict[str, tuple[str, str]]:
    """student name → (group title line, reasons shown) as the tree and the detail show them."""
    out = {}
    tree = view.tree
    for g in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(g)
        for c in range(top.childCount()):
            tree.setCurrentItem(top.child(c))
            out[view.current.card.name] = (top.text(0), view.reasons.text())
    return out


def test_a_mentor_sees_who_asked_was_introduced_or_shares_a_circle_and_offers_by_keyboard(make_app, server, tmp_path):
    set_locale("en")
    page = keyboard(make_app())
    me = page.set_up_in(server.url, server.invite("mentor"), "Dr Keys", PASSPHRASE)
    session = page.app.session
    session.publish_profile("Dr Keys", languages=["en", "fr"], specialties=["Paediatrics"], capacity=3)
    page.sync_now()
    page.wait_synced()
    asker = card_holder(tmp_path / "asker", server, "Amina Asks", languages=["en"])
    introduced = card_holder(tmp_path / "intro", server, "Bello Introduced", languages=["fr"])
    circled = card_holder(tmp_path / "circle", server, "Chidi Circle", languages=["en"])
    peer = card_holder(tmp_path / "peer", server, "Zainab Peer", languages=["en"], year=6, peer=True, capacity=1)
    card_holder(tmp_path / "other", server, "Dayo Elsewhere", languages=["en"]).vault.close()
    admin = card_holder(tmp_path / "admin", server, "Programme Admin", role="admin")
    Mentorships(asker.vault, asker.messaging()).ask(me, "Could you guide my thesis on sepsis?", [], session.now_ms())
    synced(asker)
    cards = {c.name: c for c in directory.cards(admin.vault)}
    view = ProgrammeAdmin(admin.vault, admin.program, admin.clock)
    assert view.publish([Proposal(cards["Bello Introduced"], cards["Dr Keys"], 4.5, ())]) == 1
    synced(admin)
    page.sync_now()
    page.qtbot.waitUntil(lambda: session.attention().pending_requests == 1, timeout=WAIT)
    page.qtbot.waitUntil(lambda: introductions(session.vault) != [], timeout=WAIT)
    page.wait_synced()
    accounts = {c.name: c.account for c in session.cards()}
    session.circles.create(
        "Sepsis research group", members={accounts["Chidi Circle"]: "member", accounts["Zainab Peer"]: "peer"}
    )
    page.screen.refresh()

    page.open_view("mentors")
    students = page.screen.students
    assert students.tabs.currentWidget() is students.for_you
    for_you = students.for_you
    shown = _entries(for_you)
    assert set(shown) == {"Amina Asks", "Bello Introduced", "Chidi Circle", "Zainab Peer"}, "not Dayo: no link"
    assert shown["Chidi Circle"][0] == "In your circles: 2 students"
    assert "Member of your circle “Sepsis research group”" in shown["Chidi Circle"][1]
    assert "Peer mentor in your circle “Sepsis research group”" in shown["Zainab Peer"][1]
    assert shown["Amina Asks"][0] == "Asked you: 1 student"
    assert "Asked you to mentor them: “Could you guide my thesis on sepsis?”" in shown["Amina Asks"][1]
    assert shown["Bello Introduced"][0] == "Introduced by the programme: 1 student"
    assert "The programme introduced you (match score 4.50)" in shown["Bello Introduced"][1]
    # the one who asked is answered in Mentorships, not offered to
    for_you.tree.setCurrentItem(for_you.tree.topLevelItem(0).child(0))
    assert for_you.answer_button.isVisibleTo(for_you) and not for_you.offer_button.isVisibleTo(for_you)

    # by keyboard: Tab to the tree, arrows to Bello, a short message, Space on "Offer to mentor"
    for_you.tree.setCurrentItem(for_you.tree.topLevelItem(0))
    page.tab_to(for_you.tree)
    for _ in range(6):
        if for_you.current and for_you.current.card.name == "Bello Introduced":
            break
        page.qtbot.keyClick(for_you.tree, Qt.Key.Key_Down)
    assert for_you.current.card.name == "Bello Introduced"
    page._press(for_you.offer_button)
    assert for_you.status.text() == "Write a short message to go with your offer."
    page._type(for_you.message, "Happy to mentor you in paediatrics.")
    page.app._language_changed("fr")  # the screen is built again in French: the chosen student and draft stay
    for_you = page.screen.students.for_you
    assert for_you.tree.topLevelItem(1).text(0) == "Présentés par le programme : 1 étudiant·e"
    assert for_you.current.card.name == "Bello Introduced"
    assert for_you.message.toPlainText() == "Happy to mentor you in paediatrics."
    page.app._language_changed("en")
    for_you = page.screen.students.for_you
    page._press(for_you.offer_button)
    assert "Offer sent to Bello Introduced" in for_you.status.text()
    assert "your offer is waiting for an answer" in for_you.tree.topLevelItem(1).child(0).text(0)
    page.sync_now()
    page.qtbot.waitUntil(lambda: session.vault.records.by_state("outbox") == [], timeout=WAIT)

    chat = introduced.messaging()
    plans = Mentorships(introduced.vault, chat)  # takes the mentorship records in as they arrive
    introduced.engine().sync_once()
    chat.take_in()
    [offer] = plans.pending_for_me(session.now_ms())
    assert (offer.mentor, offer.by, offer.text) == (me, "mentor", "Happy to mentor you in paediatrics.")
    for client in (asker, introduced, admin, circled, peer):
        client.vault.close()


def test_students_are_listed_once_in_the_first_group_that_holds_them_and_mentees_are_left_out():
    """Plain data: a student who asked and was introduced is under "asked" with both reasons; a student the
    mentor already mentors is not listed; another mentor's request is not this mentor's."""
    from desktop.domain.directory import Card
    from desktop.domain.mentorship import Mentorship, Request
    from desktop.domain.programme import Introduction

    def card(account, name, role="student"):
        return Card(account, name, role, (), (), "", "", "UTC", ("en",), "", 0, 1)

    me, other = "m" * 32, "o" * 32
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    cards = [card(me, "Me", "mentor"), card(other, "Other", "mentor"), card(a, "A"), card(b, "B"), card(c, "C")]
    requests = [
        Request("r1", a, me, "Please", [], 1000),
        Request("r2", b, other, "Not you", [], 1000),
        Request("r3", c, me, "Offer", [], 1000, by="mentor"),
    ]
    intros = [Introduction("i1", a, me, 3.0, (), 1), Introduction("i2", c, me, 2.0, (), 1)]
    groups = students_for(me, cards, requests, [Mentorship("x", b, me)], intros, [], 2000)
    assert [e.card.name for e in groups["asked"]] == ["A"]
    assert [r.part for r in groups["asked"][0].reasons][:2] == ["asked", "introduced"]
    assert [(e.card.name, e.offered) for e in groups["introduced"]] == [("C", "r3")]
    assert not groups["introduced"][0].can_offer and groups["circles"] == []
