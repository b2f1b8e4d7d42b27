"""Every task done with the keyboard alone (issue 13): a page object that reaches each control with Tab and
presses it with Space or Return, against a real server. The OS's file dialog is the one thing answered for the
test (desktop/ui/file_dialogs.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.clients import card_holder
from tests.pages import KeyboardPage

PASSPHRASE = "violet harbour lantern"
WAIT = 20_000


def keyboard(page) -> KeyboardPage:
    return KeyboardPage(page.qtbot, page.app)


def test_a_student_joins_finds_asks_writes_attaches_locks_and_recovers_by_keyboard(
    make_app, server, tmp_path, monkeypatch
):
    from desktop.ui import file_dialogs

    mentor = card_holder(tmp_path / "mentor", server, "Dr Keyboard Okafor", role="mentor", capacity=2)
    page = keyboard(make_app())
    page.choose_language("en")
    page.create_vault(PASSPHRASE)
    page._press(page.screen.join_choice)
    key = page.recovery_key()
    page.confirm_recovery(key)
    page.join(server.url, server.invite())
    page.finish_profile("Amina Keys")
    page.wait_synced()
    page.sync_now()
    page.wait_synced()

    # find a mentor
    page.open_view("mentors")
    mentors = page.screen.mentors
    page.qtbot.waitUntil(lambda: mentors.model.rowCount() >= 1, timeout=WAIT)
    page._type(mentors.search, "Okafor")
    page.choose_row(mentors.table, 0)
    assert mentors.selected is not None and mentors.selected.name == "Dr Keyboard Okafor"

    # ask them to be my mentor: Tab leaves the request box for the goals box
    page._press(mentors.ask_button)
    view = page.screen.mentorships
    page._type(view.ask_text, "Could you mentor me?")
    page.qtbot.keyClick(view.ask_text, Qt.Key.Key_Tab)
    assert page.focused() is view.ask_goals and "\t" not in view.ask_text.toPlainText()
    page.qtbot.keyClicks(view.ask_goals, "Choose a topic")
    page._press(view.send_request)
    assert "Dr Keyboard Okafor" in view.requests.item(0).text()

    # write, with an attachment
    page.open_view("mentors")
    page._press(mentors.write_button)
    messages = page.screen.messages
    notes = tmp_path / "notes.txt"
    notes.write_text("notes\n")
    monkeypatch.setattr(file_dialogs, "answer", lambda kind, suggested: str(notes))  # the OS dialog only
    page._press(messages.attach_button)
    assert "notes.txt" in messages.attached.text()
    page._type(messages.compose, "Hello from the keyboard")
    page.qtbot.keyClick(messages.compose, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert messages.conversation_model.messages[-1].body == "Hello from the keyboard"
    assert messages.attached.text() == ""

    # lock, unlock, and recover with the recovery key: Return moves through the form and submits it
    page.lock()
    assert page.on_unlock()
    page.unlock(PASSPHRASE)
    assert page.on_main()
    page.lock()
    screen = page.screen
    page._press(screen.forgot_button)
    page._type(screen.recovery_input, key)
    page.qtbot.keyClick(screen.recovery_input, Qt.Key.Key_Return)
    assert page.focused() is screen.reset_passphrase
    page.qtbot.keyClicks(screen.reset_passphrase, "a brand new passphrase")
    page.qtbot.keyClick(screen.reset_passphrase, Qt.Key.Key_Return)
    assert page.focused() is screen.reset_confirm
    page.qtbot.keyClicks(screen.reset_confirm, "a brand new passphrase")
    page.qtbot.keyClick(screen.reset_confirm, Qt.Key.Key_Return)
    page.wait_main()
    mentor.vault.close()


def test_a_mentor_accepts_plans_and_triages_by_keyboard(make_app, server, tmp_path):
    from desktop.domain.mentorship import Mentorships

    page = keyboard(make_app())
    me = page.set_up_in(server.url, server.invite("mentor"), "Dr Keys", PASSPHRASE)
    student = card_holder(tmp_path / "student", server, "Student Keys")
    chat = student.messaging()
    Mentorships(student.vault, chat).ask(me, "Mentor me?", ["Pass the exam"], page.app.session.now_ms())
    chat.send(chat.start_direct(me), "A first question")
    student.engine().sync_once()
    page.sync_now()
    page.qtbot.waitUntil(lambda: page.app.session.attention().pending_requests == 1, timeout=WAIT)
    page.screen.refresh()

    # accept
    page.open_view("mentorships")
    view = page.screen.mentorships
    page.choose_row(view.requests, 0)
    page._press(view.accept_button)
    assert view.list.count() == 1

    # plan: Return in the goal field adds the goal
    page.choose_row(view.list, 0)
    plan = view.plan
    page._type(plan.goal_title, "Mock exam")
    page.qtbot.keyClick(plan.goal_title, Qt.Key.Key_Return)
    assert plan.goal_list.count() == 1 and plan.goal_title.text() == ""

    # triage the review queue
    page.qtbot.waitUntil(lambda: page.app.session.messaging.threads() != [], timeout=WAIT)
    page.open_view("messages")
    messages = page.screen.messages
    page.qtbot.waitUntil(lambda: messages.queue.queue_model.rowCount() == 1, timeout=WAIT)
    page._press(messages.queue_toggle)
    queue = messages.queue.queue_list
    assert page.focused() is queue
    page.qtbot.keyClick(queue, Qt.Key.Key_R)
    assert page.focused() is messages.compose
    page.qtbot.keyClicks(messages.compose, "Happy to help")
    page.qtbot.keyClick(messages.compose, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert messages.conversation_model.messages[-1].body == "Happy to help"
    student.vault.close()
