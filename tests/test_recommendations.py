"""Recommendations and learning packs between real clients through a real server: a mentor's recommendation
becomes the mentee's plan goal whose reading progress reaches the mentor in steps; one made before the plan exists
becomes a goal once it does; a circle recommendation shows in a member's Library; packs are published by mentors
only (403 for a student) and a pack update queues only the changed items."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from desktop.domain.learning_packs import PackError, Packs, pack_body
from desktop.domain.mentorship import DAY_MS, Mentorships
from desktop.domain.recommendations import ItemRef, Recommendations, RecommendError, goal_id, goal_title
from desktop.domain.sync_adapter import queue_record
from tests.circle_people import CirclePerson, rounds
from tests.clients import Client, synced

ITEM = ItemRef("k3Vq9sLmT0aBcDeFgHiJkL", 2, "Sepsis bundles: a field guide")


class Side(CirclePerson):
    """One person's device as the session wires it: messaging and circles (CirclePerson), plans and
    recommendations; reading progress by item (what the reader's ``reading.progress`` gives the session)."""

    def __init__(self, client: Client) -> None:
        super().__init__(client, "")
        self.plans = Mentorships(client.vault, self.messaging)
        self.read: dict[str, float] = {}
        self.recs = Recommendations(client.vault, self.plans, self.circles, lambda item: self.read.get(item, 0.0))

    def sync(self) -> None:
        super().sync()
        self.recs.settle()
        self.recs.report()


@pytest.fixture
def pair(client_factory):
    student, mentor = client_factory(), client_factory("mentor")
    student.publish_card("Amina Student")
    mentor.publish_card("Dr Kofi Mensah", role="mentor")
    synced(student, mentor, student, mentor)
    return Side(student), Side(mentor)


def _plan(student: Side, mentor: Side) -> str:
    now = student.plans.now_ms()
    request = student.plans.ask(mentor.id, "Could you mentor me on sepsis?", ["Read the basics"], now)
    rounds(student, mentor)
    mentor.plans.answer(request, accept=True)
    rounds(mentor, student)
    return request


def _goal(side: Side, plan: str, rid: str) -> dict | None:
    found = side.plans.mentorship(plan)
    return next((g for g in found.goals() if g["id"] == goal_id(rid)), None) if found else None


def test_a_recommendation_becomes_a_goal_whose_reading_progress_reaches_the_mentor(pair):
    student, mentor = pair
    plan = _plan(student, mentor)
    by = mentor.plans.now_ms() + 5 * DAY_MS
    with pytest.raises(RecommendError):
        mentor.recs.recommend(student.id, ITEM, "x" * 2_001, by)
    rid = mentor.recs.recommend(student.id, ITEM, "Chapters 1-3 before our call.", by)
    rounds(mentor, student)

    goal = _goal(student, plan, rid)
    assert goal is not None and goal["title"] == goal_title(ITEM.title, by, student.recs.date_of)
    assert goal["due"] == by and not goal["done"]
    got = student.recs.received()
    assert [(r.title, r.note, r.mentorship) for r in got] == [(ITEM.title, "Chapters 1-3 before our call.", plan)]
    assert set(student.recs.reading_goals(plan)) == {goal_id(rid)}

    outbox = lambda: len(student.client.vault.records.by_state("outbox"))  # noqa: E731
    student.read[ITEM.item] = 0.05  # under the step: nothing is sent
    assert student.recs.report() == 0 and outbox() == 0
    student.read[ITEM.item] = 0.42
    assert student.recs.report() == 1
    student.read[ITEM.item] = 0.47  # 5 % more: not yet
    assert student.recs.report() == 0
    rounds(student, mentor)
    assert [r.progress for r in mentor.recs.made()] == [pytest.approx(0.42)]
    assert mentor.recs.reading_goals(plan)[goal_id(rid)].progress == pytest.approx(0.42)

    student.read[ITEM.item] = 1.0  # finished: reported, and the goal ticked done on both sides
    assert student.recs.report() == 1
    rounds(student, mentor)
    assert mentor.recs.made()[0].progress == 1.0
    assert _goal(mentor, plan, rid)["done"] and _goal(student, plan, rid)["done"]
    assert student.recs.report() == 0  # told once


def test_a_recommendation_before_the_plan_becomes_a_goal_once_the_offer_is_accepted(pair):
    student, mentor = pair
    offer = mentor.plans.offer(student.id, "I can mentor you this term.", ["Sepsis"], mentor.plans.now_ms())
    rid = mentor.recs.recommend(student.id, ITEM, "Start here.")
    rounds(mentor, student)
    assert student.recs.received()[0].mentorship == ""  # no plan yet: it waits
    student.plans.answer(offer, accept=True)
    rounds(student, mentor)
    assert _goal(student, offer, rid)["title"] == goal_title(ITEM.title, 0, student.recs.date_of)
    assert _goal(mentor, offer, rid) is not None  # the mentee's device wrote it; the mentor's plan has it too


def test_a_circle_recommendation_shows_in_the_members_library_and_only_mentors_make_one(client_factory, qapp):
    people = []
    for name, role in (("Dr Kofi Mensah", "mentor"), ("Amina Student", "student")):
        client = client_factory(role)
        client.publish_card(name, role=role)
        people.append(Side(client))
    rounds(*people)
    lead, amina = people
    circle = lead.circles.create("Sepsis research group", members={amina.id: "member"})
    rounds(*people)
    lead.recs.recommend_to_circle(circle, ITEM, "Everyone: read this before the journal club.")
    with pytest.raises(RecommendError):
        amina.recs.recommend_to_circle(circle, ITEM, "me too")
    rounds(lead, amina)
    shown = amina.recs.for_library()
    assert [(r.circle, r.title, r.note, r.mentor) for r in shown] == [
        (circle, ITEM.title, "Everyone: read this before the journal club.", lead.id)
    ]
    assert [r.title for r in amina.recs.in_circle(circle)] == [ITEM.title]
    from desktop.ui.views.circle_library import LibraryPanel  # the circle's Library and journal club tab

    tab = LibraryPanel()
    tab.refresh([], [], [], amina.plans.now_ms(), amina.recs.in_circle(circle))
    shown = tab.pins.item(0).text()
    assert shown == f"Recommended: {ITEM.title}\nEveryone: read this before the journal club."


def test_packs_only_from_mentors_and_an_update_queues_only_the_changed_items(pair):
    student, mentor = pair
    queued: list[tuple[str, int]] = []
    mine = Packs(mentor.client.vault, mentor.client.program, mentor.client.clock)
    theirs = Packs(
        student.client.vault, student.client.program, student.client.clock, queue=lambda i, v: queued.append((i, v))
    )
    items = [(f"item{n:018d}abcd", 1) for n in range(5)]
    first = mine.publish("Sepsis starter pack", "Emergency medicine", "Five short reads.", items)
    with pytest.raises(PackError):  # refused on the student's device before anything is queued
        theirs.publish("Mine", "", "", items)
    # past the device's own check, straight to the server: 403, marked rejected, nothing stored

    forged = queue_record(
        student.client.vault, student.client.program, student.client.clock, "pack",
        pack_body("forgedpack", 1, "Forged", "", "", items), None, signed=True,
    )  # fmt: skip
    rounds(mentor, student)
    rejected = student.client.vault.records.by_state("rejected")
    assert [r.id for r in rejected] == [forged.i.hex()] and "forbidden" in rejected[0].note
    assert [p.title for p in theirs.packs()] == ["Sepsis starter pack"]

    assert theirs.subscribe(first.pack) == items and queued == items
    queued.clear()
    changed = [*items[:2], (items[2][0], 2), *items[3:]]
    second = mine.publish("Sepsis starter pack", "Emergency medicine", "Five short reads, one updated.", changed,
                          pack=first.pack)  # fmt: skip
    assert second.version == 2
    rounds(mentor, student)
    assert theirs.refresh() == [(items[2][0], 2)] and queued == [(items[2][0], 2)]
    assert theirs.pack(first.pack).version == 2 and theirs.refresh() == []


def test_recommend_dialog_plan_bar_and_packs_on_the_library_page(pair, qapp, tmp_path):
    """The apps of both people (sessions and the real widgets, offscreen): the mentor publishes a Markdown item and
    recommends it from the Recommend… dialog; the mentee's Library lists it and the plan shows a reading bar; the
    mentee reads half of it (desktop.domain.reading), the mentor's plan bar shows 50 %; a pack subscribed from the
    Library page."""
    from desktop.domain.library_format import PublishMeta
    from desktop.domain.session import Session
    from desktop.domain.settings import SettingsStore
    from desktop.ui.views.library_recommend import RecommendDialog, RecommendPanel
    from desktop.ui.views.plan_panel import PlanPanel

    student, mentor = pair
    plan = _plan(student, mentor)
    sessions = [Session(s.client.vault, tmp_path / n, SettingsStore(tmp_path / f"{n}.json"))
                for s, n in ((student, "amina"), (mentor, "kofi"))]  # fmt: skip
    amina, kofi = sessions

    def sync(*which: Session) -> None:
        for session in which:
            session.engine.sync_once()
            session.messaging.take_in()
            session.circles.take_in()
            session.library_upkeep()

    guide = tmp_path / "guide.md"
    guide.write_text("# Fluids in sepsis\n\n30 ml/kg within three hours.\n")
    item = kofi.library.publish(guide, PublishMeta("Fluids in sepsis", "A one-page guide.", "emergency-medicine"))
    kofi.packs.publish("Sepsis starter pack", "Emergency medicine", "What to read first.", [item])
    sync(kofi, amina)

    dialog = RecommendDialog(kofi, item)
    assert dialog.to_mentee.isChecked() and dialog.mentee.currentData() == student.id
    assert dialog.by.date() == dialog.today.addDays(7)
    dialog.note.setPlainText("Before Friday's call.")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.made and dialog.result() == QDialog.DialogCode.Accepted
    sync(kofi, amina, kofi)

    panel = RecommendPanel(amina)
    panel.refresh()
    line = panel.recommended.item(0).text()
    assert line.startswith("Fluids in sepsis: from Dr Kofi Mensah, read by ") and "0% read" in line
    assert "Before Friday's call." in line
    mine = PlanPanel(amina)
    mine.show_plan(plan, {})
    goal = [
        mine.goal_list.item(r).text()
        for r in range(mine.goal_list.count())
        if "Fluids" in mine.goal_list.item(r).text()
    ]
    assert goal and goal[0].startswith("Read Fluids in sepsis by ")
    assert [b.value() for b in mine.reading.bars.values()] == [0] and mine.reading.isVisibleTo(mine)

    amina.reading.scrolled(item, 0.5)  # the reader's Markdown pane: half way; the report is queued at once
    sync(amina, kofi)
    theirs = PlanPanel(kofi)
    theirs.show_plan(plan, {})
    assert [b.value() for b in theirs.reading.bars.values()] == [50]
    assert "Reading Fluids in sepsis: 50%" in next(iter(theirs.reading.bars.values())).accessibleDescription()

    panel.packs.setCurrentRow(0)
    assert "Sepsis starter pack" in panel.packs.item(0).text() and "not subscribed" in panel.packs.item(0).text()
    said: list[str] = []
    panel.changed.connect(said.append)
    panel.subscribe_button.click()
    assert "subscribed" in panel.packs.item(0).text() and "not subscribed" not in panel.packs.item(0).text()
    assert said[-1] == "Subscribed: 1 item queued for download."
    assert [e.sha256 for e in amina.downloads.entries()] == [item.sha256]  # in the download manager's queue
