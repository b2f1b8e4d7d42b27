"""A programme admin in the app: the demo's cohort figures, what needs a look and why, and a cohort assignment
reviewed and published as introductions that the people introduced can follow up."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from desktop.domain import demo
from desktop.domain.programme import introductions

PASSPHRASE = "violet harbour lantern"


def _column(table, column: int) -> list[str]:
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_an_admin_sees_cohort_figures_and_publishes_introductions(make_app):
    page = make_app()
    page.enter_demo(PASSPHRASE, role="admin")
    main = page.screen
    assert main.views[-1] == "programme"
    page.qtbot.waitUntil(lambda: main.programme.figures["waiting"].text() == "2", timeout=15_000)
    view = main.programme
    students = sum(1 for p in demo.people() if p.role == "student")
    matched = len({row[0] for row in demo.ACTIVITY if row[4] == "accepted"})
    assert view.figures["matched"].text() == f"{matched} of {students}"
    assert view.figures["unmatched"].text() == str(students - matched)
    assert view.figures["quiet"].text() == "2"
    held = sum(len(days) for days in demo.MEETINGS_HELD.values())  # from meeting-held statuses: when, never what
    assert view.figures["held"].text() == str(held) and view.figures["held"].accessibleName() == "Meetings held"
    assert "fetched" in view.presence_line.text()
    home = main.home.lines["programme"].text()
    assert "4 requests or mentorships need a look" in home and f"{students - matched} students" in home
    page.open_view("programme")
    why = _column(view.concerns, 4)
    assert sum("has not synced since" in w for w in why) == 2  # one request, one quiet mentorship
    assert sum("and has not answered" in w for w in why) == 1
    assert sum("Both sync regularly" in w for w in why) == 1

    unasked = students - matched - len({row[0] for row in demo.ACTIVITY if row[4] == ""})
    page.qtbot.keyClick(view, Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)  # a mnemonic clicks after 100 ms
    page.qtbot.waitUntil(lambda: view.pairs.rowCount() == unasked)
    assert all(_column(view.pairs, 4))
    view.pairs.item(0, 0).setCheckState(Qt.CheckState.Unchecked)  # reviewed: leave the first pair out
    page.qtbot.keyClick(view, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)
    page.qtbot.waitUntil(lambda: "queued" in view.cohort_status.text())
    page.wait_synced()
    published = introductions(page.app.session.vault)
    assert len(published) == unasked - 1
    # Proposing again leaves out those already introduced.
    view.propose()
    assert view.pairs.rowCount() == 1


def test_a_student_follows_up_an_introduction(make_app, server, tmp_path):
    from tests.clients import make_client

    page = make_app()
    me = page.set_up_in(server.url, server.invite("student"), "Amina Student", PASSPHRASE)
    mentor = make_client(tmp_path / "mentor", server.url, server.invite("mentor"))
    mentor.publish_card("Dr Kofi Mensah", role="mentor", languages=["en"], capacity=2)
    admin = make_client(tmp_path / "admin", server.url, server.invite("admin"))
    for client in (mentor, admin, mentor, admin):
        client.engine().sync_once()
    from desktop.domain.programme import ProgrammeAdmin

    programme = ProgrammeAdmin(admin.vault, admin.program, admin.clock)
    [proposal] = [p for p in programme.propose() if p.student.account == me]
    programme.publish([proposal])
    admin.engine().sync_once()
    page.sync_now()
    view = page.screen.mentorships
    page.qtbot.waitUntil(lambda: view.intros.count() == 1, timeout=15_000)
    assert "Dr Kofi Mensah" in view.intros.item(0).text()
    page.open_view("mentorships")
    page.qtbot.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)
    page.qtbot.waitUntil(view.ask_box.isVisible)
    assert "Dr Kofi Mensah" in view.ask_title.text()
    view.ask_text.setPlainText("The programme introduced us: could we work on a cardiology project?")
    page.qtbot.keyClick(view.ask_text, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    page.qtbot.waitUntil(lambda: view.intros.count() == 0)  # followed up: a request now
    assert not view.intros.isVisible()
    for client in (admin, mentor):
        client.vault.close()


def test_a_request_unanswered_for_a_week_reminds_both_sides(make_app, server, tmp_path):
    from desktop.domain.mentorship import DAY_MS, Mentorships
    from tests.clients import card_holder

    page = make_app()
    me = page.set_up_in(server.url, server.invite("mentor"), "Dr Busy", PASSPHRASE)
    student = card_holder(tmp_path / "student", server, "Patient Student")
    plans = Mentorships(student.vault, student.messaging())
    plans.ask(me, "Mentor me?", [], int(time.time() * 1000) - 8 * DAY_MS - 60_000)
    student.engine().sync_once()
    page.sync_now()
    view = page.screen.mentorships
    page.qtbot.waitUntil(lambda: view.requests.count() == 1, timeout=10_000)
    assert "Reminder: this waits for your answer and expires in 6 days." in view.requests.item(0).text()
    [request] = plans.requests()
    assert request.needs_reminder(int(time.time() * 1000))
    student.vault.close()
