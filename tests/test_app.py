"""The whole desktop app as a person meets it, offscreen, against real servers on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QAbstractSpinBox, QComboBox, QLineEdit

from desktop import i18n
from desktop.domain.onboarding import Step
from tests.servers import ProcessServer

PASSPHRASE = "violet harbour lantern"


def test_first_run_into_the_demo_and_studying_offline(make_app):
    page = make_app()
    assert page.on_onboarding(Step.LANGUAGE)
    page.choose_language("en")
    assert page.strength_label("password") == "Very weak"
    assert page.strength_label("violet harbour lantern") in ("Strong", "Very strong")
    page.create_vault("password1", "password1")
    assert page.on_onboarding(Step.PASSPHRASE) and "easy to guess" in page.error()
    page.create_vault(PASSPHRASE, PASSPHRASE + "!")
    assert "differ" in page.error()
    page.create_vault(PASSPHRASE)
    assert page.on_onboarding(Step.PROGRAM)
    page._press(page.screen.demo_choice)  # a new account: its recovery key is shown first
    key = page.recovery_key()
    assert len(key) == 44
    page.confirm_recovery(key, correct=False)
    assert page.on_onboarding(Step.CONFIRM_RECOVERY) and "do not match" in page.error()
    page._type(page.screen.group_first, key.split("-")[page.screen.flow.confirm_indices[0]])
    page.qtbot.keyClick(page.screen.group_second, Qt.Key.Key_Return)
    page.explore_demo()
    page.wait_synced()
    home = page.screen.home
    page.qtbot.waitUntil(lambda: "36 mentors" in home.lines["mentors"].text(), timeout=10_000)
    page.open_view("mentors")
    assert page.screen.current_view == "mentors"
    assert len(page.mentor_names()) == 36
    page.search_mentors("cardiology")
    assert 0 < len(page.mentor_names()) < 36

    page.open_view("library")
    library = page.screen.library
    library.table.selectRow(0)
    title = library.selected().title
    page.qtbot.mouseClick(library.download_button, Qt.MouseButton.LeftButton)
    page.qtbot.waitUntil(lambda: "Demo material" in library.reader.markdown.browser.toPlainText(), timeout=10_000)
    assert library.selected().title == title
    assert "On this computer" in [library.proxy.index(r, 2).data() for r in range(library.proxy.rowCount())]


def test_join_a_real_programme_and_publish_a_card(make_app, server):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page.join("http://mentors.example.org", "ABCD-EFGH-JKLM")
    assert "plain http" in page.error()
    page.join(server.url, "ABCD-EFGH-JKLM")
    assert page.on_onboarding(Step.JOIN) and "invite code is unknown" in page.error()
    page.join(server.url, server.invite("mentor"))
    assert page.on_onboarding(Step.PROFILE)
    page.finish_profile("Dr Ada Obi")
    page.wait_synced()
    with server.storage.reader.connect() as conn:
        kinds = [row[0] for row in conn.execute(sa.text("SELECT kind FROM records"))]
    assert kinds == ["card"]
    page.screen.refresh()
    assert "Welcome, Dr Ada Obi" in page.screen.home.greeting.text()
    assert "sent" in page.screen.home.card_state.text()


def test_lock_unlock_and_auto_lock(make_app):
    page = make_app()
    page.enter_demo(PASSPHRASE)
    vault = page.app.vault
    page.lock()
    assert page.on_unlock() and vault.is_locked and vault.cached_plaintexts == 0
    assert page.app.main is None, "the decrypted views are gone"
    page.unlock("not the passphrase")
    assert page.on_unlock() and "does not unlock" in page.error()
    page.unlock(PASSPHRASE)
    assert page.on_main() and not vault.is_locked
    page.app._arm_auto_lock(300)
    page.qtbot.waitUntil(page.on_unlock, timeout=5_000)
    assert vault.is_locked


def test_the_app_reopens_to_the_unlock_screen(make_app, tmp_path):
    first = make_app(tmp_path / "data")
    first.first_run_to_program(PASSPHRASE)
    first.explore_demo()
    first.wait_synced()
    first.app.shutdown()
    again = make_app(tmp_path / "data")
    assert again.on_unlock()
    again.unlock(PASSPHRASE)
    again.open_view("mentors")
    again.qtbot.waitUntil(lambda: len(again.mentor_names()) == 36, timeout=10_000)


def test_sync_status_goes_offline_and_back(make_app, tmp_path):
    server = ProcessServer(tmp_path / "srv").start()
    try:
        page = make_app()
        page.set_up_in(server.url, server.invite(), "Kofi Student", PASSPHRASE)
        bar = page.app.window.sync_bar
        assert bar.state.text() == "Online" and bar.error.isHidden()
        server.stop()
        page.sync_now()
        page.qtbot.waitUntil(lambda: bar.state.text() == "Offline", timeout=20_000)
        assert "could not be reached" in bar.error.text() and not bar.error.isHidden()
        assert "ago" in bar.last_sync.text() or "now" in bar.last_sync.text()
        server.start()
        page.sync_now()
        page.qtbot.waitUntil(lambda: bar.state.text() == "Online", timeout=20_000)
        assert bar.error.isHidden()
    finally:
        server.stop()


def test_the_os_saying_online_ends_a_long_back_off(make_app, tmp_path):
    """After an outage with the back-off at minutes, the OS's "online" (Qt's network information) syncs at
    once: the queued card goes within seconds, not at the next attempt 150-450 s away."""
    from PySide6.QtNetwork import QNetworkInformation

    from tests.faultproxy import FaultProxy
    from tests.servers import ThreadServer

    with ThreadServer(tmp_path / "srv") as server, FaultProxy("127.0.0.1", server.port) as proxy:
        page = make_app()
        page.set_up_in(proxy.url, server.invite(), "Kofi Student", PASSPHRASE)
        bar, scheduler = page.app.window.sync_bar, page.app.session.scheduler
        scheduler.backoff_base = scheduler.backoff_cap = 300.0
        proxy.configure(cut_after_bytes=0)  # the link goes down: new connections fail, open ones are cut
        for connection in list(proxy._conns):
            connection.abort(reset=True)
        page.app.session.publish_profile("Kofi Student", bio="written offline")
        page.qtbot.waitUntil(lambda: bar.state.text() == "Offline", timeout=20_000)
        assert "1 item waiting" in bar.queued.text()
        proxy.configure(cut_after_bytes=None)
        page.app.link_watch.reachability_changed(QNetworkInformation.Reachability.Online)
        # the queue empties during the sync; "Online" follows when it ends
        page.qtbot.waitUntil(
            lambda: bar.queued.text() == "Everything sent" and bar.state.text() == "Online", timeout=20_000
        )
        assert bar.error.isHidden()


def test_the_status_bar_says_back_online_while_the_queue_goes(qtbot):
    from desktop.ui.sync_status import SyncStatusBar
    from sync.client.scheduler import SyncStatus

    bar = SyncStatusBar()
    qtbot.addWidget(bar)
    bar.show_status(SyncStatus(online=False, syncing=True, back_online=True, queued=12))
    assert bar.state.text() == "Back online: sending 12 messages"
    bar.show_status(SyncStatus(online=False, syncing=True, back_online=True, queued=1))
    assert bar.state.text() == "Back online: sending 1 message"
    bar.show_status(SyncStatus(online=True, syncing=False, queued=0))
    assert bar.state.text() == "Online"
    try:
        i18n.set_locale("fr")
        bar.show_status(SyncStatus(online=False, syncing=True, back_online=True, queued=12))
        assert bar.state.text() == "De retour en ligne : envoi de 12 messages"
    finally:
        i18n.set_locale("en")


def test_language_changes_at_once(make_app):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page.explore_demo()
    page.switch_language("fr")
    assert i18n.current_locale().language == "fr"
    nav = page.screen.nav
    assert [nav.item(r).text() for r in range(3)] == ["Accueil", "Messages", "Mentors"]
    assert page.screen.current_view == "settings"
    assert page.app.settings_store.load().locale == "fr"


@pytest.mark.parametrize("role", ["student", "admin"])
def test_every_control_has_an_accessible_name(make_app, role):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page.explore_demo(role)
    if role == "admin":  # the Programme view's tables filled too
        page.open_view("programme")
        page.screen.programme.propose()
    unnamed = []
    for kind in (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView, QAbstractSpinBox):
        for widget in page.app.window.findChildren(kind):
            parent = widget.parentWidget()
            if widget.window() is not page.app.window:
                continue  # a combo box's popup list, a window of Qt's own
            if isinstance(parent, QAbstractItemView | QAbstractSpinBox | QComboBox) or widget.objectName().startswith(
                "qt_"
            ):
                continue  # Qt's own parts of a composite control
            if not widget.accessibleName():
                unnamed.append(f"{type(widget).__name__} {widget.text() if hasattr(widget, 'text') else ''}")
    assert unnamed == []


def test_right_to_left_languages_mirror_the_layout(qapp, tmp_path, monkeypatch):
    from desktop.app import apply_locale
    from tests.catalogs import write_catalog

    write_catalog(tmp_path, "ar", {"Osler": "أوسلر"})  # an Arabic catalog, whether or not the real one exists yet
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    try:
        apply_locale("ar")
        assert qapp.layoutDirection() == Qt.LayoutDirection.RightToLeft
    finally:
        apply_locale("en")
    assert qapp.layoutDirection() == Qt.LayoutDirection.LeftToRight


def test_forgotten_passphrase_with_the_recovery_key(make_app, tmp_path):
    first = make_app(tmp_path / "data")
    first.choose_language("en")
    first.create_vault(PASSPHRASE)
    first._press(first.screen.demo_choice)
    key = first.recovery_key()
    first.confirm_recovery(key)
    first.explore_demo()
    first.app.shutdown()
    page = make_app(tmp_path / "data")
    screen = page.screen
    page._press(screen.forgot_button)
    page._type(screen.recovery_input, key[:-1] + ("0" if key[-1] != "0" else "1"))
    page._type(screen.reset_passphrase, "a brand new passphrase")
    page._type(screen.reset_confirm, "a brand new passphrase")
    page._press(screen.recover_button)
    page.qtbot.waitUntil(lambda: "typing mistake" in page.error(), timeout=10_000)
    page._type(screen.recovery_input, key)
    page._press(screen.recover_button)
    page.wait_main()
    page.lock()
    page.unlock("a brand new passphrase")
    assert page.on_main()


def test_devices_are_listed_in_settings(make_app, server):
    page = make_app()
    page.set_up_in(server.url, server.invite(), "Lost Laptop", PASSPHRASE)
    rows = page.show_devices()
    assert len(rows) == 1 and "(this device)" in rows[0][0]


def test_data_saver_asks_before_a_download_over_the_budget(make_app):
    from dataclasses import replace

    page = make_app()
    page.enter_demo(PASSPHRASE)
    page.app.settings_store.update(lambda s: replace(s, monthly_budget_mb=0))
    page.open_view("library")
    library = page.screen.library
    library.table.selectRow(0)
    page._press(library.download_button)
    assert "data budget" in library.message.text() and not library.anyway_button.isHidden()
    assert not page.app.session.is_offline(library.selected())
    page._press(library.anyway_button)
    shown = library.reader.markdown.browser
    page.qtbot.waitUntil(
        lambda: library.download_button.isEnabled() and "Demo material" in shown.toPlainText(), timeout=10_000
    )
    assert page.app.session.is_offline(library.selected())


def test_messages_in_the_demo_from_reading_to_writing(make_app, tmp_path):
    page = make_app()
    page.enter_demo(PASSPHRASE)
    home = page.screen.home
    page.qtbot.waitUntil(lambda: "4 replies waiting" in home.lines["messages"].text(), timeout=10_000)
    page.open_view("messages")
    view = page.screen.messages
    assert view.thread_model.rowCount() == 2
    view.thread_list.setCurrentIndex(view.thread_model.index(0))
    assert view.conversation_model.rowCount() == 2
    assert "Welcome to the programme" in view.conversation_model.index(0).data() or "journal club" in (
        view.conversation_model.index(0).data()
    )
    assert "Safety numbers" in view.fingerprints.text()

    page.open_view("mentors")
    mentors = page.screen.mentors
    mentors.table.selectRow(5)
    name = mentors.selected.name
    page._press(mentors.write_button)
    assert page.screen.current_view == "messages" and view.title.text() == name
    page.qtbot.keyClicks(view.compose, "Hello! Could we talk about research electives?")
    page.qtbot.keyClick(view.compose, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert view.compose.toPlainText() == ""
    last = view.conversation_model.messages[-1]
    assert last.body.startswith("Hello!") and last.state in ("queued", "sent")
    page.sync_now()
    page.qtbot.waitUntil(lambda: page.app.vault.messages.get(last.id).state == "sent", timeout=10_000)
    notes = tmp_path / "notes.txt"
    notes.write_text("case notes for discussion\n" * 50)
    view.set_attachment(notes)
    assert "notes.txt" in view.attached.text()
    page._press(view.send_button)
    assert "Attachment: notes.txt" in view.conversation_model.index(view.conversation_model.rowCount() - 1).data()
    assert view.attached.text() == ""

    first_mine = next(r for r, m in enumerate(view.conversation_model.messages) if m.id == last.id)
    view.conversation.setCurrentIndex(view.conversation_model.index(first_mine))
    page._press(view.edit_button)
    assert view.compose.toPlainText().startswith("Hello!")
    view.compose.setPlainText("Hello! Could we talk about research electives in paediatrics?")
    page._press(view.send_button)
    assert "edited" in view.conversation_model.index(first_mine).data()
    assert "paediatrics" in view.conversation_model.index(first_mine).data()
    view.conversation.setCurrentIndex(view.conversation_model.index(first_mine))
    page._press(view.delete_button)
    assert "This message was deleted." in view.conversation_model.index(first_mine).data()


def test_a_mentor_triages_the_review_queue_with_the_keyboard(make_app, server, tmp_path):
    from tests.clients import make_client
    from tests.test_messaging import _sync

    page = make_app()
    me = page.set_up_in(server.url, server.invite("mentor"), "Dr Queue", PASSPHRASE)
    students = [make_client(tmp_path / f"s{n}", server.url, server.invite()) for n in range(2)]
    for n, student in enumerate(students):
        student.publish_card(f"Student {n}")
        _sync(student)
        _sync(student)
        chat = student.messaging()
        chat.send(chat.start_direct(me), f"Question from student {n}")
        _sync(student)
    page.sync_now()
    page.qtbot.waitUntil(lambda: page.app.vault.messages.count() == 2, timeout=10_000)
    page.open_view("messages")
    view = page.screen.messages
    page.qtbot.waitUntil(lambda: view.queue.queue_model.rowCount() == 2, timeout=10_000)
    page._press(view.queue_toggle)
    first = view.queue.queue_model.items[0]
    assert view.current == first.thread_id and "student 0" in first.latest.body
    page.qtbot.keyClick(view.queue.queue_list, Qt.Key.Key_F)
    assert view.queue.queue_model.items[0].flagged
    page.qtbot.keyClick(view.queue.queue_list, Qt.Key.Key_D)
    assert [i.latest.body for i in view.queue.queue_model.items] == ["Question from student 1"]
    page.qtbot.keyClick(view.queue.queue_list, Qt.Key.Key_S)
    assert view.queue.queue_model.rowCount() == 0 and "Snoozed until" in view.status.text()
    for student in students:
        student.vault.close()


def test_starting_a_group_from_messages(make_app):
    from desktop.ui.views.new_group import NewGroupDialog

    page = make_app()
    page.enter_demo(PASSPHRASE)
    page.open_view("messages")
    view = page.screen.messages
    candidates = view.group_candidates()
    assert len(candidates) >= 36
    dialog = NewGroupDialog(candidates[:3])
    dialog.title.setText("Sepsis paper")
    for row in (0, 2):
        dialog.people.item(row).setCheckState(Qt.CheckState.Checked)
    assert view.create_group(dialog.title.text(), []) is None and "2 to 20" in view.status.text()
    thread = view.create_group(dialog.title.text(), dialog.chosen())
    assert thread is not None and view.title.text() == "Sepsis paper"
    view.compose.setPlainText("Kick-off on Monday?")
    page._press(view.send_button)
    assert view.conversation_model.messages[-1].body == "Kick-off on Monday?"


def test_mentor_suggestions_explain_themselves(make_app):
    page = make_app()
    page.enter_demo(PASSPHRASE)
    page.open_view("mentors")
    mentors = page.screen.mentors
    mentors.specialty.setCurrentIndex(mentors.specialty.findData("Cardiology"))
    page._type(mentors.interests, "rheumatic heart disease and echo screening")
    page._press(mentors.suggest_button)
    assert "suggestions, best first" in mentors.count.text()
    top = mentors.selected
    assert top is not None and "Cardiology" in top.specialties
    detail = mentors.detail.text()
    assert "Why this mentor" in detail and "Same specialty: Cardiology" in detail
    mentors.specialty.setCurrentIndex(0)
    page._press(mentors.all_button)
    assert len(page.mentor_names()) == 36


def test_asking_a_mentor_from_the_directory(make_app):
    page = make_app()
    page.enter_demo(PASSPHRASE)
    page.open_view("mentors")
    mentors = page.screen.mentors
    mentors.table.selectRow(3)
    name = mentors.selected.name
    page._press(mentors.ask_button)
    view = page.screen.mentorships
    assert page.screen.current_view == "mentorships" and name in view.ask_title.text()
    view.ask_text.setPlainText("Could you help me plan a research elective?")
    view.ask_goals.setPlainText("Choose a topic\nWrite a protocol")
    page._press(view.send_request)
    texts = [view.requests.item(r).text() for r in range(view.requests.count())]
    assert len(texts) == 2, "the demo's own offer, and this request"
    assert f"To {name}: waiting for an answer" in texts[0], "newest first"


def test_a_mentor_accepts_and_plans_in_the_app(make_app, server, tmp_path):
    import time

    from desktop.domain.mentorship import Mentorships
    from tests.clients import card_holder

    page = make_app()
    me = page.set_up_in(server.url, server.invite("mentor"), "Dr Planner", PASSPHRASE)
    student = card_holder(tmp_path / "student", server, "Student Planner")
    chat = student.messaging()
    plans = Mentorships(student.vault, chat)
    plans.ask(me, "Mentor me?", ["Pass the exam"], int(time.time() * 1000))
    student.engine().sync_once()
    page.sync_now()
    home = page.screen.home
    page.qtbot.waitUntil(lambda: "1 mentorship request pending" in home.lines["mentorships"].text(), timeout=10_000)
    page.open_view("mentorships")
    view = page.screen.mentorships
    view.requests.setCurrentRow(0)
    page._press(view.accept_button)
    assert view.list.count() == 1
    view.list.setCurrentRow(0)
    assert view.plan.fields["goals"].text() == "Pass the exam"
    view.plan.fields["cadence"].setText("every two weeks")
    page._press(view.plan.save_button)
    page._press(view.plan.sign_button)
    view.plan.goal_title.setText("Mock exam")
    page._press(view.plan.add_goal_button)
    assert "Waiting for a signature from: Student Planner" in view.plan.signatures.text()
    assert view.plan.goal_list.count() == 1 and "Mock exam" in view.plan.goal_list.item(0).text()
    assert view.plan.chart.isVisible() and "0 of 1 goals done" in view.plan.chart.accessibleDescription()
    view.plan.goal_list.item(0).setCheckState(Qt.CheckState.Checked)
    page.qtbot.waitUntil(lambda: "1 of 1 goals done" in view.plan.chart.accessibleDescription())
    view.plan.outcome.setText("exam passed")
    page._press(view.plan.feedback_button)
    page.sync_now()
    page.qtbot.waitUntil(lambda: page.app.vault.records.outbox_totals()[0] == 0, timeout=10_000)
    student.engine().sync_once()
    chat.take_in()
    plan = plans.mentorships()[0]
    assert plan.value("cadence") == "every two weeks" and plan.signed_by(me)
    assert [g["title"] for g in plan.goals()] == ["Mock exam"]
    assert plan.value("outcome") == "exam passed"
    student.vault.close()


def test_after_a_decline_the_next_suggestions_leave_that_mentor_out(make_app, server, tmp_path):
    from desktop.domain.mentorship import Mentorships
    from tests.clients import make_client
    from tests.test_messaging import _sync

    page = make_app()
    mentor = make_client(tmp_path / "mentor", server.url, server.invite("mentor"))
    mentor.publish_card("Dr Busy", role="mentor")
    _sync(mentor)
    page.set_up_in(server.url, server.invite(), "Keen Student", PASSPHRASE)
    page.sync_now()
    page.open_view("mentors")
    mentors = page.screen.mentors
    page.qtbot.waitUntil(lambda: mentors.model.rowCount() == 1, timeout=10_000)
    mentors.table.selectRow(0)
    page._press(mentors.ask_button)
    view = page.screen.mentorships
    view.ask_text.setPlainText("Mentor me?")
    page._press(view.send_request)
    page.sync_now()
    page.qtbot.waitUntil(lambda: page.app.vault.records.outbox_totals()[0] == 0, timeout=10_000)
    _sync(mentor)
    _sync(mentor)
    chat = mentor.messaging()
    plans = Mentorships(mentor.vault, chat)
    mentor.engine().sync_once()
    chat.take_in()
    plans.answer(plans.requests()[0].id, accept=False, reason="No places this term.")
    mentor.engine().sync_once()
    page.sync_now()
    page.qtbot.waitUntil(lambda: "declined" in view.requests.item(0).text(), timeout=10_000)
    assert "No places this term." in view.requests.item(0).text()
    page._press(view.another_button)
    assert page.screen.current_view == "mentors" and mentors.model.rowCount() == 0
    mentor.vault.close()


def test_my_profile_publishes_a_card_and_keeps_private_notes_sealed(make_app, server):
    page = make_app()
    page.set_up_in(server.url, server.invite("mentor"), "Dr Card", PASSPHRASE)
    page.open_view("profile")
    view = page.screen.profile
    for widget, wanted in ((view.specialties, "Cardiology"), (view.languages, "fr")):
        for row in range(widget.count()):
            if widget.item(row).data(Qt.ItemDataRole.UserRole) == wanted:
                widget.item(row).setCheckState(Qt.CheckState.Checked)
    view.interests.setText("rheumatic heart disease, echo screening")
    view.tz.setCurrentIndex(view.tz.findData("Africa/Lagos"))
    view.capacity.setValue(3)
    view.background.setText("first-generation student")
    view.private.setPlainText("PRIVATE-NOTE-CANARY only for me")
    page._press(view.save_button)
    card = page.app.session.my_card()
    assert card.name == "Dr Card" and "Cardiology" in card.specialties and "fr" in card.languages
    assert card.interests == ("rheumatic heart disease", "echo screening") and card.tz == "Africa/Lagos"
    assert card.capacity == 3 and card.windows and card.background == ("first-generation student",)
    page.sync_now()
    page.qtbot.waitUntil(lambda: page.app.vault.records.outbox_totals()[0] == 0, timeout=10_000)

    stored = b"".join(p.read_bytes() for p in Path(server.data_dir).rglob("*") if p.is_file())
    stored += b"".join(p.read_bytes() for p in page.app.vault.folder.rglob("*") if p.is_file())
    assert b"PRIVATE-NOTE-CANARY" not in stored


def test_my_profile_keeps_when_i_can_meet_and_when_i_am_online_by_keyboard(make_app, server):
    from desktop.domain.availability import OnlineWindow, Window
    from desktop.domain.matching import card_windows
    from desktop.ui.views.availability_editor import EVERY_DAY
    from tests.pages import KeyboardPage

    page = make_app()
    page.set_up_in(server.url, server.invite("mentor"), "Dr Hours", PASSPHRASE)
    page.open_view("profile")
    keys = KeyboardPage(page.qtbot, page.app)
    view = page.screen.profile
    editor = view.availability
    # today's single "usually online 18-22" becomes one every-day connectivity window
    assert [row.value() for row in editor.online.rows] == [(EVERY_DAY, 18 * 60, 22 * 60, "2g")]
    keys._press(editor.weekly.add_button)  # Tab to "Add a time I can meet", Space: the new row's day has focus
    row = editor.weekly.rows[0]
    assert keys.focused() is row.day and row.day.accessibleName() == "Day, meeting time 1"
    row.set(1, 18 * 60, 19 * 60 + 30)
    page.qtbot.keyClick(row.day, Qt.Key.Key_Tab)
    assert keys.focused() is row.start  # the row's fields follow one another on the Tab path
    keys.tab_to(row.end)
    keys._press(editor.online.add_button)
    online = editor.online.rows[1]
    assert online.link.accessibleName() == "Link, online window 2"
    online.set(5, 9 * 60, 12 * 60, "cafe")
    view.tz.setCurrentIndex(view.tz.findData("Asia/Kathmandu"))
    keys._press(view.save_button)
    card = page.app.session.my_card()
    av = card.availability
    assert av is not None and av.tz == "Asia/Kathmandu" and av.weekly == (Window(1, 1080, 1170),)
    assert len(av.online) == 8 and OnlineWindow(5, 540, 720, "cafe") in av.online
    assert card.windows == ((9, 12), (18, 22)) == card_windows(card)  # what "same hours" matching reads
    row.set(1, 20 * 60, 19 * 60)  # a window that ends before it starts is refused, with the row named
    keys._press(view.save_button)
    assert view.status.text() == "Meeting time 1: the end must be after the start."
    keys._press(row.remove)  # removing a row leaves the focus in the list
    assert editor.weekly.rows == [] and keys.focused() is editor.weekly.add_button
    view.availability.share.setCurrentIndex(view.availability.share.findData("mentorships"))
    keys._press(view.save_button)
    card = page.app.session.my_card()
    assert card.availability is None and card.windows == ()  # only my mentorships see it now
    assert page.app.session.meetings.my_availability().share == "mentorships"


def test_home_shows_the_next_meeting_in_both_times_and_reminders_notify_once(make_app):
    from sync.clock import SYSTEM, ManualClock

    clock = ManualClock(SYSTEM.time())  # the demo server checks signatures' times: start now, then move
    page = make_app(clock=clock)
    page.first_run_to_program(PASSPHRASE)
    page.explore_demo()
    home, session = page.screen.home, page.app.session
    page.qtbot.waitUntil(lambda: len(session.meetings.meetings()) == 2, timeout=10_000)  # the first sync's
    page.screen.refresh()
    assert "1 upcoming meeting" in home.lines["schedule"].text()
    assert "1 meeting held" in home.lines["schedule"].text()  # the demo mentor's first call, with notes
    assert home.next_meeting.text().startswith("Proposed: Next call: your three papers with Dr ")
    assert "your time" in home.next_meeting.text()
    [(meeting, _slot)] = session.meetings.upcoming(session.now_ms())
    session.meetings.accept(meeting.id, 1)  # (the Schedule page's Accept)
    chosen = session.meetings.meeting(meeting.id).chosen
    shown: list[tuple[str, str]] = []
    page.app.window.notify = lambda title, text: shown.append((title, text)) or True
    clock.set((chosen.start - 30 * 60_000) / 1000)  # half an hour before: the hour's reminder, offline or not
    texts = page.app.remind()
    assert any(t.startswith("In 30 min") and "Next call: your three papers" in t for t in texts)
    assert [text for _title, text in shown] == texts
    assert page.app.remind() == [] and len(shown) == len(texts)  # each reminder notifies once
    assert "In 30 min" in home.reminders.text() and home.reminders.isVisible()
    assert home.next_meeting.text().startswith("Next meeting: Next call: your three papers")
    clock.set((chosen.start + 60_000) / 1000)
    assert [t for t in page.app.remind() if t.startswith("Starting now")]


def test_the_demo_offers_a_mentorship_to_explore(make_app):
    page = make_app()
    page.enter_demo(PASSPHRASE)
    page.open_view("mentorships")
    view = page.screen.mentorships
    page.qtbot.waitUntil(lambda: view.requests.count() == 1, timeout=10_000)
    assert "waiting for an answer" in view.requests.item(0).text()
    view.requests.setCurrentRow(0)
    page._press(view.accept_button)
    assert view.list.count() == 1
    view.list.setCurrentRow(0)
    assert view.plan.isEnabled() and "Read three key papers" in view.plan.fields["goals"].text()
    goals = view.plan.fields["goals"].text()
    assert "; Draft a one-page research question" in goals  # one goal per line, read on one line
    plan_id = view.current
    before = page.app.session.mentorships.mentorship(plan_id).value("goals")
    page._press(view.plan.save_button)  # nothing edited: nothing changes, nobody has to sign again
    assert page.app.session.mentorships.mentorship(plan_id).value("goals") == before and "\n" in before


def test_a_message_arrives_live_by_default_and_notifies_by_name_only(make_app, server, tmp_path):
    from tests.clients import card_holder

    page = make_app()
    me = page.set_up_in(server.url, server.invite("mentor"), "Dr Live", PASSPHRASE)
    student = card_holder(tmp_path / "student", server, "Student Live")
    scheduler = page.app.session.scheduler
    assert scheduler.live_on  # on by default, data saver or not: about 19 KB an hour while online
    page.qtbot.waitUntil(lambda: scheduler.live.running, timeout=20_000)
    shown: list[tuple[str, str]] = []
    notify = page.app.window.notify
    page.app.window.notify = lambda title, text: shown.append((title, text)) or notify(title, text)
    chat = student.messaging()
    chat.send(chat.start_direct(me), "the ward round moved to 7")
    student.engine().sync_once()
    page.qtbot.waitUntil(lambda: bool(shown), timeout=30_000)  # no F5, and the periodic sync is 5 minutes away
    assert shown == [("Osler", "New message from Student Live")]  # who, never what
    page.open_view("settings")
    page.screen.settings.live.setChecked(False)  # the person turns it off
    page.qtbot.waitUntil(lambda: not scheduler.live.running, timeout=20_000)
    assert not page.app.settings_store.load().live_delivery
    student.vault.close()
