"""The Schedule page, driven as two people would, each in their own app on a real loopback server, with one
injected clock (server and both apps) pinned to a fixed date: Amina (Nairobi) proposes a meeting to her mentor
Dr Kofi (London) from the overlap finder; he accepts it from his page; both pages show the confirmed meeting in
their own time with the other's beside it. A time typed by hand that the clocks skip is refused with the reason
and nothing is sent; one that happens twice asks which. After the meeting, Amina's notes become a check-in in the
mentorship plan, on both sides."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import QDate, Qt, QTime

from desktop.domain import meeting_time
from desktop.domain.availability import Availability, Window
from sync.clock import ManualClock
from tests.test_accessibility import unnamed

PASSPHRASE = "violet harbour lantern"
WAIT = 20_000
START = datetime(2031, 3, 24, 8, 0, tzinfo=UTC)  # a Monday, the week before London's clocks go forward
NAIROBI, LONDON = "Africa/Nairobi", "Europe/London"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def server(tmp_path, clock):
    from tests.servers import ThreadServer

    with ThreadServer(tmp_path / "server", clock=clock) as running:
        yield running


def sync_app(page) -> None:  # type: ignore[no-untyped-def]
    """Sync now, and again while something is queued (the clock stands still: no timer syncs for us)."""
    bar = page.app.window.sync_bar

    def count() -> int:
        progress = bar.status.progress if bar.status is not None else None
        return progress.sync if progress is not None and progress.phase == "done" else -1

    for _ in range(4):
        before = count()
        page.app.session.sync_now()  # what F5 does, in whichever of the two windows is not the active one
        page.qtbot.waitUntil(lambda: count() > before and not bar.status.syncing, timeout=WAIT)  # noqa: B023
        if bar.status.queued == 0:
            break
    page.wait_synced()


def rounds(*pages, times: int = 2) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        for page in pages:
            sync_app(page)


def rows(widget) -> list[str]:  # type: ignore[no-untyped-def]
    return [widget.item(r).text() for r in range(widget.count())]


def evenings(account: str, tz: str, start: int, end: int) -> Availability:
    return Availability(account, tz, tuple(Window(day, start * 60, end * 60) for day in range(7)))


def press(qtbot, widget) -> None:  # type: ignore[no-untyped-def]
    assert widget.isVisible() and widget.isEnabled(), widget.accessibleName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def set_up(page, url: str, invite: str, name: str) -> str:  # type: ignore[no-untyped-def]
    """The first run into the programme; the clock stands still, so the first sync is asked for (F5)."""
    page.first_run_to_program(PASSPHRASE)
    page.join(url, invite)
    page.finish_profile(name)
    sync_app(page)
    return page.app.session.program.credentials.account.hex()


@pytest.fixture
def pair(make_app, server, clock, tmp_path):
    """Amina (student, Nairobi) and Dr Kofi (mentor, London) in one mentorship, each sharing evenings."""
    amina = make_app(tmp_path / "amina", clock=clock)
    amina_id = set_up(amina, server.url, server.invite(), "Amina Student")
    kofi = make_app(tmp_path / "kofi", clock=clock)
    kofi_id = set_up(kofi, server.url, server.invite("mentor"), "Dr Kofi Mensah")
    amina.app.session.meetings.set_availability(evenings(amina_id, NAIROBI, 17, 21))  # 14:00–18:00 UTC
    kofi.app.session.meetings.set_availability(evenings(kofi_id, LONDON, 14, 19))  # 14:00–19:00 UTC in March
    rounds(amina, kofi)
    plans = amina.app.session.mentorships
    plans.ask(kofi_id, "Help with my first research question", ["Write the question"], amina.app.session.now_ms())
    rounds(amina, kofi)
    request = next(r for r in kofi.app.session.mentorships.requests() if r.state == "pending")
    kofi.app.session.mentorships.answer(request.id, accept=True)
    rounds(kofi, amina)
    assert amina.app.session.mentorships.mentorships(), "the mentorship both sides hold"
    return amina, kofi, amina_id, kofi_id


def open_schedule(page):  # type: ignore[no-untyped-def]
    """Ctrl+8 in this person's window (brought to the front first: two apps share this test)."""
    page.app.window.activateWindow()
    page.qtbot.waitUntil(page.app.window.isActiveWindow, timeout=WAIT)
    page.open_view("schedule")
    assert page.screen.current_view == "schedule"
    view = page.screen.schedule
    view.refresh()
    return view


def test_propose_accept_and_both_see_it_in_their_own_zone_then_notes_become_a_check_in(pair, qtbot, clock):
    amina, kofi, _amina_id, kofi_id = pair
    view = open_schedule(amina)
    press(qtbot, view.propose_button)
    dialog = view.dialog
    assert dialog is not None and dialog.isVisible()
    assert unnamed(dialog) == [], "every control of the dialog is named"
    assert dialog.person.currentData() == kofi_id, "a mentorship partner comes first"
    assert "(your mentorship)" in dialog.person.currentText()
    dialog.kind.setCurrentIndex(dialog.kind.findData("video"))
    assert dialog.link.isVisible(), "a video call has a link field"
    qtbot.keyClicks(dialog.link, "https://meet.example.org/amina-kofi")
    qtbot.keyClicks(dialog.title, "Research question")
    offered = dialog.finder.slots
    assert offered.count() >= 3, "the finder offers times both are free"
    first = offered.item(0)
    start, end = first.data(Qt.ItemDataRole.UserRole)
    assert meeting_time.to_local(start, NAIROBI).hour >= 17 and meeting_time.to_local(end, LONDON).hour <= 19
    mine, theirs = meeting_time.format_pair(start, end, NAIROBI, LONDON, "en")
    assert mine in first.text() and theirs in first.text(), "my time with his beside it"
    first.setCheckState(Qt.CheckState.Checked)
    offered.item(1).setCheckState(Qt.CheckState.Checked)
    press(qtbot, dialog.send_button)
    assert not dialog.isVisible()
    assert "Proposal queued" in view.status.text()
    [proposal] = amina.app.session.meetings.meetings()
    assert proposal.mentorship is not None and len(proposal.slots) == 2
    assert any("waiting for Dr Kofi Mensah" in row for row in rows(view.upcoming))

    rounds(amina, kofi)
    theirs_view = open_schedule(kofi)
    assert theirs_view.waiting.isVisible(), "a proposal waiting for me comes first"
    [waiting] = rows(theirs_view.waiting)
    his, hers = meeting_time.format_pair(start, end, LONDON, NAIROBI, "en")
    assert "Research question" in waiting and his in waiting and hers in waiting
    assert waiting.index(his) < waiting.index(hers), "his own time first"
    theirs_view.waiting.setCurrentRow(0)
    detail = theirs_view.detail
    assert detail.accept_button.isVisible() and detail.decline_button.isVisible()
    assert unnamed(kofi.app.window) == [], "every control of the page is named"
    detail.times.setCurrentRow(0)
    press(qtbot, detail.accept_button)
    assert "Accepted" in theirs_view.status.text()
    assert not theirs_view.waiting.isVisible()
    his_rows = rows(theirs_view.upcoming)
    assert his_rows[0].startswith("Today"), "grouped under his local day"
    assert his in his_rows[1] and hers in his_rows[1] and "waiting" not in his_rows[1]

    rounds(kofi, amina)
    view.refresh()
    her_rows = rows(view.upcoming)
    assert her_rows[0].startswith("Today")
    assert mine in her_rows[1] and theirs in her_rows[1] and "waiting" not in her_rows[1]
    assert her_rows[1].index(mine) < her_rows[1].index(theirs)
    view.upcoming.setCurrentRow(1)
    assert "Confirmed" in view.detail.facts.text() and "meet.example.org" in view.detail.facts.text()

    clock.set(end / 1000 + 3600)  # an hour after the meeting: its notes
    view.refresh()
    assert not any("Research question" in row for row in rows(view.upcoming))
    view.others.setCurrentRow(0)
    detail = view.detail
    assert detail.notes_box.isVisible()
    assert detail.occurrence.currentData() == start
    qtbot.keyClicks(detail.progress, "Narrowed the question to neonatal sepsis")
    qtbot.keyClicks(detail.blockers, "Ethics form")
    qtbot.keyClicks(detail.next_steps, "Draft the protocol")
    press(qtbot, detail.notes_button)
    assert "check-in" in view.status.text()
    assert "Narrowed the question" in detail.notes_shown.text()
    amina.open_view("mentorships")
    amina.screen.mentorships.list.setCurrentRow(0)
    assert "Narrowed the question to neonatal sepsis" in amina.screen.mentorships.plan.checkins.text()
    rounds(amina, kofi)
    kofi.open_view("mentorships")
    kofi.screen.mentorships.list.setCurrentRow(0)
    assert "Narrowed the question to neonatal sepsis" in kofi.screen.mentorships.plan.checkins.text()


def test_a_typed_time_the_clocks_skip_is_explained_and_nothing_is_sent(pair, qtbot):
    _amina, kofi, _amina_id, _kofi_id = pair
    view = open_schedule(kofi)
    press(qtbot, view.propose_button)
    dialog = view.dialog
    finder = dialog.finder
    reached, widget = set(), dialog.person
    widget.setFocus()
    for _ in range(40):  # Tab from the first field reaches every control, in the dialog's own order
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
        reached.add(dialog.focusWidget())
    for control in (dialog.title, dialog.duration, dialog.repeat, finder.slots, finder.day, finder.time):
        assert control in reached, control.accessibleName()
    for control in (finder.next_button, finder.add_button, dialog.send_button):
        assert control in reached, control.accessibleName()
    qtbot.keyClicks(dialog.title, "Exam plan")
    finder.day.setDate(QDate(2031, 3, 30))  # London's clocks jump from 01:00 to 02:00
    finder.time.setTime(QTime(1, 30))
    press(qtbot, finder.add_button)
    assert finder.error.isVisible()
    assert "does not exist in London: the clocks jump forward" in finder.error.text()
    assert not finder.chosen(), "the time is not offered"
    press(qtbot, dialog.send_button)
    assert dialog.isVisible() and "Tick one" in dialog.status.text()
    assert kofi.app.session.meetings.meetings() == [], "nothing sent"

    finder.day.setDate(QDate(2031, 10, 26))  # London's clocks go back from 02:00 to 01:00: 01:30 twice
    finder.time.setTime(QTime(1, 30))
    press(qtbot, finder.add_button)
    assert finder.fold_box.isVisible() and "happens twice" in finder.fold_text.text()
    assert "UTC+01:00" in finder.fold_first.text() and "UTC+00:00" in finder.fold_second.text()
    finder.fold_second.setChecked(True)
    press(qtbot, finder.fold_button)
    second = meeting_time.local_to_ms(LONDON, date(2031, 10, 26), 90, fold=1)
    assert finder.chosen() == [(second, second + 3_600_000)], "the later 01:30, ticked"


def test_decline_other_times_live_session_one_occurrence_and_cancel(pair, qtbot, clock):
    """Kofi proposes a weekly live text session; Amina's decline asks for a reason, she offers other times
    instead; he accepts one; she opens the live session (the conversation with him), cancels one occurrence and
    moves another; he cancels the series with a reason, which she reads."""
    amina, kofi, _amina_id, kofi_id = pair
    his = open_schedule(kofi)
    press(qtbot, his.propose_button)
    dialog = his.dialog
    dialog.kind.setCurrentIndex(dialog.kind.findData("live-text"))
    assert not dialog.link.isVisible(), "no link for a session inside Osler"
    dialog.repeat.setCurrentIndex(dialog.repeat.findData("FREQ=WEEKLY"))
    qtbot.keyClicks(dialog.title, "Weekly check-in")
    dialog.finder.slots.item(0).setCheckState(Qt.CheckState.Checked)
    press(qtbot, dialog.send_button)
    rounds(kofi, amina)

    view = open_schedule(amina)
    view.waiting.setCurrentRow(0)
    detail = view.detail
    press(qtbot, detail.decline_button)
    assert "why you decline" in view.status.text(), "a decline says why"
    assert amina.app.session.meetings.meetings()[0].state == "proposed"
    press(qtbot, detail.other_button)
    other = view.dialog
    assert other.mode == "reschedule" and not other.person.isEnabled() and not other.kind.isEnabled()
    other.finder.move_week(1)
    assert "Week of" in other.finder.week_label.text()
    other.finder.slots.item(0).setCheckState(Qt.CheckState.Checked)
    new_start, _new_end = other.finder.chosen()[0]
    press(qtbot, other.send_button)
    assert "New times queued" in view.status.text()
    assert not view.waiting.isVisible(), "now Kofi answers"
    rounds(amina, kofi)

    his.refresh()
    his.waiting.setCurrentRow(0)
    assert his.detail.times.count() == 1
    his.detail.times.setCurrentRow(0)
    press(qtbot, his.detail.accept_button)
    rounds(kofi, amina)

    view.refresh()
    meeting = amina.app.session.meetings.meetings()[0]
    assert meeting.state == "confirmed" and meeting.chosen.start == new_start and meeting.rrule == "FREQ=WEEKLY"
    view.select(meeting.id)
    assert detail.live_button.isVisible()
    press(qtbot, detail.live_button)
    assert amina.screen.current_view == "messages"
    assert amina.screen.messages.current == amina.app.session.messaging.start_direct(kofi_id)
    amina.screen.navigate("schedule")

    week = 7 * meeting_time.DAY_MS
    detail.times.setCurrentRow(1)  # the second week's
    press(qtbot, detail.skip_button)
    assert "cancelled" in view.status.text()
    starts = [
        s.start for s in amina.app.session.meetings.meeting(meeting.id).occurrences(new_start, new_start + 4 * week)
    ]
    assert new_start + week not in starts and new_start + 2 * week in starts
    detail.times.setCurrentRow(1)  # now the third week's
    press(qtbot, detail.move_button)
    move = view.dialog
    assert move.mode == "move" and move.occurrence == new_start + 2 * week
    move.finder.move_week(2)
    move.finder.slots.item(0).setCheckState(Qt.CheckState.Checked)
    moved_to = move.finder.chosen()[0]
    press(qtbot, move.send_button)
    assert "moved" in view.status.text()
    kept = amina.app.session.meetings.meeting(meeting.id)
    assert kept.exceptions[new_start + 2 * week].start == moved_to[0]
    rounds(amina, kofi)

    his.refresh()
    his.select(meeting.id)
    qtbot.keyClicks(his.detail.reason, "Rotation abroad until June")
    press(qtbot, his.detail.cancel_button)
    assert "cancelled" in his.status.text()
    rounds(kofi, amina)
    view.refresh()
    assert not any("Weekly check-in" in row for row in rows(view.upcoming))
    [gone] = rows(view.others)
    assert "Weekly check-in" in gone and "Cancelled" in gone and "Rotation abroad until June" in gone
