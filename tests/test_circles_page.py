"""The Circles page, driven as a person would, with a lead mentor on another (real) client and a real server:
an invitation accepted, a topic with its unread count, threaded replies read and answered, an oversized reply
refused with the text kept, mute, a member offered no announcement button, and the digest's first line."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from desktop.domain.circles import Circles
from desktop.domain.discussions import MAX_TEXT, Discussions
from tests.clients import Client

PASSPHRASE = "violet harbour lantern"
WAIT = 20_000


class Lead:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.messaging = client.messaging()
        self.circles = Circles(client.vault, self.messaging)
        self.talk = Discussions(self.circles, client.vault, client.account.hex(), self.circles.now_ms)

    def sync(self) -> None:
        self.client.engine().sync_once()
        self.messaging.take_in()
        self.circles.take_in()


def sync_app(page) -> None:  # type: ignore[no-untyped-def]
    """Sync now and wait until a sync that started after this call finished."""
    bar = page.app.window.sync_bar

    def count() -> int:
        progress = bar.status.progress if bar.status is not None else None
        return progress.sync if progress is not None and progress.phase == "done" else -1

    before = count()
    page.sync_now()
    page.qtbot.waitUntil(lambda: count() > before and not bar.status.syncing, timeout=WAIT)
    page.wait_synced()


def rows(widget) -> list[str]:  # type: ignore[no-untyped-def]
    return [widget.item(r).text() for r in range(widget.count())]


def until(page, lead: Lead, done) -> None:  # type: ignore[no-untyped-def]
    for _ in range(6):
        lead.sync()
        sync_app(page)
        if done():
            return
    assert done()


def test_a_member_accepts_reads_a_thread_replies_mutes_and_sees_the_digest(make_app, server, client_factory, qtbot):
    page = make_app()
    amina = page.set_up_in(server.url, server.invite(), "Amina Student", PASSPHRASE)
    lead = Lead(client_factory("mentor"))
    lead.client.publish_card("Dr Kofi Mensah", role="mentor")
    lead.sync()
    sync_app(page)
    lead.sync()  # Amina's card and keys
    circle = lead.circles.create("Sepsis research group", about="Weekly")
    lead.circles.invite(circle, amina, "member")
    lead.sync()
    page.open_view("circles")
    view = page.screen.circles
    assert page.screen.current_view == "circles"
    until(page, lead, lambda: view.sidebar.invitations.count() == 1)
    assert view.sidebar.accept_button.isVisible()
    assert "Sepsis research group" in rows(view.sidebar.invitations)[0]
    assert "Dr Kofi Mensah" in rows(view.sidebar.invitations)[0]
    qtbot.mouseClick(view.sidebar.accept_button, Qt.MouseButton.LeftButton)
    until(page, lead, lambda: amina in {m.account for m in lead.circles.circle(circle).members})
    topic = lead.talk.start_topic(circle, "Lactate cut-offs", "Which do you use?")
    lead.talk.reply(circle, topic, "I start with 2 mmol/L.")
    until(page, lead, lambda: any("2 unread" in row for row in rows(view.sidebar.circle_list)))
    assert not view.sidebar.invitations.isVisible()

    view.sidebar.circle_list.setFocus()
    view.sidebar.circle_list.setCurrentRow(0)
    assert view.stack.currentWidget() is view.pane
    assert not view.topics.announce_button.isVisible(), "only a lead is offered announcements"
    [row] = rows(view.topics.topic_list)
    assert "Lactate cut-offs" in row and "2 unread" in row
    view.topics.topic_list.setCurrentRow(0)
    tree = view.thread.tree
    assert tree.topLevelItemCount() == 1 and tree.topLevelItem(0).childCount() == 1
    assert "I start with 2 mmol/L." in tree.topLevelItem(0).child(0).text(0)
    assert not any("unread" in r for r in rows(view.sidebar.circle_list)), "opening the topic read it"

    tree.setCurrentItem(tree.topLevelItem(0).child(0))
    qtbot.keyClicks(view.thread.box, "Same here, then repeat at 2 h.")
    qtbot.keyClick(view.thread.box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert view.thread.box.toPlainText() == ""
    assert "Same here" in tree.topLevelItem(0).child(0).child(0).text(0), "threaded under the chosen post"

    long = "x" * (MAX_TEXT + 1)
    view.thread.box.setPlainText(long)
    qtbot.mouseClick(view.thread.reply_button, Qt.MouseButton.LeftButton)
    assert "8,000" in view.status.text()
    assert view.thread.box.toPlainText() == long, "nothing the person wrote is lost"
    view.thread.box.clear()

    qtbot.mouseClick(view.topics.mute_button, Qt.MouseButton.LeftButton)
    assert "muted" in rows(view.topics.topic_list)[0]
    assert view.topics.mute_button.accessibleName() == "Unmute topic"

    lead.talk.announce(circle, "Ethics approval granted", "We can start")
    until(page, lead, lambda: len(view.discussions.announcements(circle)) == 1)
    qtbot.mouseClick(view.digest_button, Qt.MouseButton.LeftButton)
    assert view.stack.currentWidget() is view.digest
    digest = rows(view.digest.list)
    assert digest[0] == "Announcements" and "Ethics approval granted" in digest[1]
    assert not any("Lactate" in line for line in digest), "a muted topic stays out of the digest"
    view.digest.list.setCurrentRow(1)
    view.digest.list.itemActivated.emit(view.digest.list.item(1))
    assert view.stack.currentWidget() is view.pane and "Ethics approval granted" in view.thread.title.text()


def test_a_lead_creates_a_circle_invites_from_the_directory_and_every_control_is_named(
    make_app, server, client_factory, qtbot
):
    page = make_app()
    page.set_up_in(server.url, server.invite("mentor"), "Dr Kofi Mensah", PASSPHRASE)
    student = client_factory("student")
    student.publish_card("Amina Student", role="student")
    student.engine().sync_once()
    sync_app(page)
    page.open_view("circles")
    view = page.screen.circles
    qtbot.keyClick(view.new_button, Qt.Key.Key_Space)
    assert view.stack.currentWidget() is view.create
    view.create.title.setText("Global surgery research group")
    view.create.listed.setChecked(True)
    create_button = next(b for b in view.create.findChildren(QWidget) if b.accessibleName() == "Create circle")
    qtbot.mouseClick(create_button, Qt.MouseButton.LeftButton)
    assert view.stack.currentWidget() is view.pane
    assert "Global surgery research group" in view.circle_title.text()
    assert view.topics.announce_button.isVisible(), "a lead is offered announcements"
    view.tabs.setCurrentWidget(view.members)
    assert view.members.lead_tools.isVisible()
    assert view.members.people.findText("Amina Student") >= 0, "the directory offers people to invite"
    amina = Lead(student)  # Amina finds the listed circle and asks to join it
    circle = view.current
    for _ in range(4):
        sync_app(page)
        amina.sync()
        if any(c.id == circle for c in amina.circles.listed()):
            break
    amina.circles.ask_to_join(circle)
    amina.sync()
    for _ in range(4):
        sync_app(page)
        if view.members.people.itemText(0) == "Amina Student (asked to join)":
            break
    assert view.members.people.itemText(0) == "Amina Student (asked to join)", "who asked comes first"
    assert view.members.people.findText("Amina Student") < 0, "listed once"
    view.members.people.setCurrentIndex(0)
    view.members.invite_role.setCurrentIndex(view.members.invite_role.findData("peer"))
    invite = next(b for b in view.members.findChildren(QWidget) if b.accessibleName() == "Send invitation")
    qtbot.mouseClick(invite, Qt.MouseButton.LeftButton)
    assert view.status.text() == "Invitation sent."
    unnamed = [
        type(w).__name__
        for w in view.findChildren(QWidget)
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.isVisibleTo(view) and not w.accessibleName()
    ]
    assert unnamed == [], unnamed


def test_a_project_circle_opens_its_board_on_the_projects_page(qapp, tmp_path):
    """In the demo, the newcomer's projects are circles too: chosen on the Circles page, one offers its board, and
    the button opens the Projects page on that project (an ordinary circle offers no such button)."""
    from tests.screenshots import first_run, pump

    osler = first_run(qapp, tmp_path / "profile", "en", "student", shots=False)
    try:
        session, main = osler.session, osler.main
        for _ in range(400):  # the demo's circle and projects arrive with the first syncs
            if session.circles.circles(kind="project") and session.circles.circles(kind="circle"):
                break
            pump(qapp, 0.05)
        project = session.circles.circles(kind="project")[0]
        circle = session.circles.circles(kind="circle")[0]
        main.navigate("circles")
        main.circles.refresh()
        main.circles.open_circle(circle.id)
        assert not main.circles.project_button.isVisibleTo(main.circles)
        main.circles.open_circle(project.id)
        assert main.circles.project_button.isVisibleTo(main.circles)
        main.circles.project_button.click()
        assert main.views[main.nav.currentRow()] == "projects"
        assert main.projects.current == project.id
        assert project.title in main.projects.title.text()
    finally:
        osler.shutdown()
        osler.window.close()
