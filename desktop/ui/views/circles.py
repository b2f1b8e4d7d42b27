"""Circles: my circles and invitations, the programme's listed circles, creating one, and inside a circle its
discussion (topics with unread counts, threaded replies, announcements, mute), its members and roles, its pinned
library items and journal clubs; and the digest of what happened while away.

The page is parts, each its own widget: the circle list (``circle_sidebar``), the topics and the open thread
(``circle_topics``, ``circle_thread``), members (``circle_members``), pins and journal clubs (``circle_library``)
and the digest (``circle_digest``). This view lays them out and turns their wishes into domain calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.discussions import MAX_TITLE
from desktop.domain.session import Session
from desktop.domain.vault_access import VaultError
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button, explain, heading, paragraph
from desktop.ui.layout import RememberedSplitter
from desktop.ui.views.circle_digest import DAY_MS, DigestPane
from desktop.ui.views.circle_library import LibraryPanel
from desktop.ui.views.circle_meetings import MeetingsPanel, group_meetings_of
from desktop.ui.views.circle_members import MembersPanel
from desktop.ui.views.circle_sidebar import CircleSidebar, labelled, role_name
from desktop.ui.views.circle_thread import ThreadPane
from desktop.ui.views.circle_topics import TopicsPanel
from sync.client.errors import SyncError


class CreateCircle(QWidget):
    def __init__(self, create: Callable[[str, str, bool], None], cancel: Callable[[], None]) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("New circle"), 1.2))
        self.title = QLineEdit()
        self.title.setAccessibleName(_("Circle name"))
        self.title.setMaxLength(MAX_TITLE)
        self.title.setPlaceholderText(_("For example: Global surgery research group"))
        layout.addWidget(labelled(_("&Name:"), self.title))
        layout.addWidget(self.title)
        self.about = QLineEdit()
        self.about.setAccessibleName(_("What the circle is about"))
        layout.addWidget(labelled(_("A&bout:"), self.about))
        layout.addWidget(self.about)
        self.listed = QCheckBox(_("Lis&t it in the programme"))
        self.listed.setAccessibleName(_("List the circle in the programme"))
        layout.addWidget(self.listed)
        layout.addWidget(
            paragraph(
                _("A listed circle's name and description are visible to everyone in the programme, so they can "
                  "ask to join. Its posts stay end-to-end encrypted.")
            )
        )  # fmt: skip
        row = QHBoxLayout()
        row.addWidget(
            button(
                _("C&reate circle"),
                _("Create circle"),
                lambda: create(self.title.text(), self.about.text(), self.listed.isChecked()),
            )
        )
        row.addWidget(button(_("Cancel"), _("Cancel"), cancel))
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)

    def clear(self) -> None:
        self.title.clear()
        self.about.clear()
        self.listed.setChecked(False)


class CirclesView(QWidget):
    project_wanted = Signal(str)  # a research project's circle: its board is on the Projects page

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.circles = session.circles
        self.me = session.program.credentials.account.hex()
        self.discussions = session.discussions
        self.current: str | None = None
        self.setAccessibleName(_("Circles"))
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading(_("Circles")), 1)
        self.digest_button = button(_("Di&gest"), _("Show the digest"), self.show_digest)
        self.digest_button.setToolTip(_("What happened in your circles while you were away"))
        self.new_button = button(_("New &circle"), _("New circle"), self._new_circle)
        top.addWidget(self.digest_button)
        top.addWidget(self.new_button)
        layout.addLayout(top)
        self.status = LiveLabel(assertive=True)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Circles status"))
        layout.addWidget(self.status)

        self.sidebar = CircleSidebar()
        self.sidebar.circle_chosen.connect(self.open_circle)
        self.sidebar.accept_wanted.connect(lambda i: self._do(lambda: self.circles.accept(i), _("Accepted.")))
        self.sidebar.decline_wanted.connect(lambda i: self._do(lambda: self.circles.decline(i), _("Declined.")))
        self.sidebar.join_wanted.connect(
            lambda c: self._do(lambda: self.circles.ask_to_join(c), _("Asked. A lead of the circle will invite you."))
        )

        self.pane = QWidget()
        pane = QVBoxLayout(self.pane)
        pane.setContentsMargins(0, 0, 0, 0)
        self.circle_title = QLabel()
        self.circle_title.setWordWrap(True)
        self.circle_title.setAccessibleName(_("Circle"))
        pane.addWidget(self.circle_title)
        self.project_button = button(
            _("Open the project &board"),
            _("Open the project board"),
            lambda: self.current and self.project_wanted.emit(self.current),
        )
        self.project_button.hide()
        pane.addWidget(self.project_button)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName(_("Circle sections"))
        self.tabs.tabBar().setAccessibleName(_("Circle sections (Ctrl+Tab for the next)"))
        self.topics = TopicsPanel(self.me)
        self.topics.topic_chosen.connect(self.open_topic)
        self.topics.mute_wanted.connect(self._mute)
        self.topics.form.post_wanted.connect(self._post_topic)
        self.thread: ThreadPane = self.topics.thread
        self.thread.reply_wanted.connect(self._reply)
        self.thread.edit_wanted.connect(self._edit)
        self.thread.delete_wanted.connect(self._delete)
        self.members = MembersPanel()
        self.members.invite_wanted.connect(self._invite)
        self.members.remove_wanted.connect(lambda a: self._circle_do(lambda c: self.circles.remove(c, a)))
        self.members.role_wanted.connect(lambda a, r: self._circle_do(lambda c: self.circles.set_role(c, a, r)))
        self.members.leave_wanted.connect(self._leave)
        self.library = LibraryPanel()
        self.library.pin_wanted.connect(lambda lib, t: self._circle_do(lambda c: self.discussions.pin(c, lib, t)))
        self.library.unpin_wanted.connect(lambda p: self._circle_do(lambda c: self.discussions.unpin(c, p)))
        self.library.journal_wanted.connect(self._journal)
        self.library.open_topic.connect(self._open_club)
        self.tabs.addTab(self.topics, _("Discussion"))
        self.tabs.addTab(self.members, _("Members"))
        self.tabs.addTab(self.library, _("Library and journal club"))
        self.meetings = MeetingsPanel(*group_meetings_of(session))
        self.meetings.said.connect(self.say)
        self.tabs.addTab(self.meetings, _("Meetings"))
        pane.addWidget(self.tabs, 1)

        self.empty = paragraph(
            _("Circles are groups with lead mentors, mentors, peer mentors and members. Choose one, accept an "
              "invitation, or create a circle.")
        )  # fmt: skip
        self.digest = DigestPane()
        self.digest.open_topic.connect(self.open_from_digest)
        self.digest.days_changed.connect(lambda _days: self.show_digest())
        self.create = CreateCircle(self._create, lambda: self.stack.setCurrentWidget(self._back()))
        self.stack = QStackedWidget()
        for widget in (self.empty, self.pane, self.digest, self.create):
            self.stack.addWidget(widget)
        splitter = RememberedSplitter("circles", session.settings_store, [240, 700])
        splitter.addWidget(self.sidebar)
        splitter.addWidget(self.stack)
        layout.addWidget(splitter, 1)
        if self.circles is None:
            self.say(_("This device has no encryption key yet: join your programme again to use circles."), True)
            for widget in (self.digest_button, self.new_button, self.sidebar):
                widget.setEnabled(False)
        self.refresh()

    # -- helpers --------------------------------------------------------------------------------------------

    def say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def _names(self) -> dict[str, str]:
        return {card.account: card.name for card in self.session.cards()}

    def _do(self, action: Callable[[], Any], done: str = "") -> bool:
        """Run a domain call; a refusal (too long, not a lead, left the programme...) is said, never raised."""
        try:
            action()
        except ValueError as exc:  # CircleError, DiscussionError: sentences a person can read
            self.say(str(exc), True)
            return False
        except (VaultError, SyncError) as exc:  # the vault's or sync's own words
            self.say(explain(exc), True)
            return False
        self.say(done)
        self.refresh()
        return True

    def _circle_do(self, action: Callable[[str], Any], done: str = "") -> bool:
        return self.current is not None and self._do(lambda: action(self.current), done)

    def _back(self) -> QWidget:
        return self.pane if self.current is not None else self.empty

    def clear(self) -> None:
        """Drop decrypted text from the widgets (on lock)."""
        self.current = None
        self.sidebar.refresh([], {}, [], [], {})
        self.thread.show_posts(None, "", [], {})
        self.topics.refresh([], {}, set(), False)
        self.members.refresh([], {}, False, [])
        self.digest.show_items([], {})
        self.meetings.clear()
        self.stack.setCurrentWidget(self.empty)

    # -- refresh --------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        if self.circles is None or self.discussions is None:
            return
        names = self._names()
        circles = [c for c in self.circles.circles() if c.my_role is not None]
        unread = {c.id: sum(self.discussions.unread(c.id).values()) for c in circles}
        self.sidebar.refresh(circles, unread, self.circles.invitations(), self.circles.listed(), names)
        if self.current is not None:
            self._show_circle(names)

    def _show_circle(self, names: dict[str, str]) -> None:
        assert self.circles is not None and self.discussions is not None and self.current is not None
        circle = self.circles.circle(self.current)
        if circle is None or circle.my_role is None:
            self.current = None
            self.stack.setCurrentWidget(self.empty)
            return
        lead = circle.my_role == "lead"
        self.circle_title.setText(
            _("{title}: {count} members; you are {role}").format(
                title=circle.title or _("Untitled circle"), count=len(circle.members), role=role_name(circle.my_role)
            )
        )
        self.circle_title.setToolTip(circle.about)
        self.project_button.setVisible(circle.kind == "project")
        topics = self.discussions.topics(circle.id)
        self.topics.refresh(topics, self.discussions.unread(circle.id), self.discussions.muted(circle.id), lead)
        people = [(c.account, c.name) for c in self.session.cards() if c.account != self.me]
        self.members.refresh(list(circle.members), names, lead, people, self.circles.asks(circle.id) if lead else [])
        self.library.refresh(
            self.discussions.pins(circle.id),
            self.discussions.journal_clubs(circle.id),
            self.session.materials(),
            self.session.now_ms(),
            self.session.recommendations.in_circle(circle.id) if self.session.recommendations is not None else [],
        )
        self.meetings.show_circle(circle.id, circle.my_role, names)
        if self.thread.topic is not None:
            if self.isVisible():  # replies arriving in the topic on screen are read as they come
                self.discussions.mark_read(circle.id, self.thread.topic)
            self._show_thread(self.thread.topic, names)

    # -- circles --------------------------------------------------------------------------------------------

    def open_circle(self, circle_id: str) -> None:
        if circle_id != self.current:
            self.thread.show_posts(None, "", [], {})
        self.current = circle_id
        self.sidebar.select(circle_id)
        self.stack.setCurrentWidget(self.pane)
        self._show_circle(self._names())

    def _new_circle(self) -> None:
        self.stack.setCurrentWidget(self.create)
        self.create.title.setFocus()

    def _create(self, title: str, about: str, listed: bool) -> None:
        if not title.strip():
            self.say(_("Give the circle a name."), True)
            return
        made: list[str] = []
        create = self.circles.create
        if self._do(lambda: made.append(create(title.strip(), about, listed=listed)), _("Circle created.")):
            self.create.clear()
            self.open_circle(made[0])

    def _invite(self, account: str, role: str) -> None:
        self._circle_do(lambda c: self.circles.invite(c, account, role), _("Invitation sent."))

    def _leave(self) -> None:
        if self._circle_do(lambda c: self.circles.leave(c), _("You left the circle.")):
            self.current = None
            self.stack.setCurrentWidget(self.empty)

    # -- topics ---------------------------------------------------------------------------------------------

    def open_topic(self, topic: str) -> None:
        if self.current is None or self.discussions is None:
            return
        self.discussions.mark_read(self.current, topic)
        self._show_thread(topic, self._names())
        self.refresh()

    def _show_thread(self, topic: str, names: dict[str, str]) -> None:
        assert self.discussions is not None and self.current is not None
        found = self.topics.topics.get(topic)
        self.thread.show_posts(topic, found.title if found else "", self.discussions.thread(self.current, topic), names)

    def open_from_digest(self, circle: str, topic: str) -> None:
        self.open_circle(circle)
        self.tabs.setCurrentWidget(self.topics)
        self.topics.select(topic)

    def _open_club(self, topic: str) -> None:
        self.tabs.setCurrentWidget(self.topics)
        self.topics.select(topic)

    def _post_topic(self, title: str, text: str, announcement: bool) -> None:
        assert self.discussions is not None
        made: list[str] = []
        write = self.discussions.announce if announcement else self.discussions.start_topic
        if self._circle_do(lambda c: made.append(write(c, title, text))):
            self.topics.form.done()
            self.topics.select(made[0])

    def _reply(self, text: str, parent: str) -> None:
        assert self.discussions is not None
        topic = self.thread.topic
        if topic is not None and self._circle_do(lambda c: self.discussions.reply(c, topic, text, parent)):
            self.thread.sent()

    def _edit(self, post_id: str, text: str) -> None:
        assert self.discussions is not None
        topic = self.thread.topic
        if topic is not None and self._circle_do(lambda c: self.discussions.edit(c, topic, post_id, text)):
            self.thread.sent()

    def _delete(self, post_id: str) -> None:
        assert self.discussions is not None
        topic = self.thread.topic
        if topic is not None:
            self._circle_do(lambda c: self.discussions.delete(c, topic, post_id), _("Post deleted."))

    def _mute(self, topic: str, on: bool) -> None:
        assert self.discussions is not None
        self._circle_do(lambda c: self.discussions.mute(c, topic, on), _("Topic muted.") if on else _("Unmuted."))

    def _journal(self, title: str, lib: str, at: int) -> None:
        assert self.discussions is not None
        if self._circle_do(lambda c: self.discussions.journal_club(c, title, lib, at), _("Journal club planned.")):
            self.library.done()

    # -- digest ---------------------------------------------------------------------------------------------

    def show_digest(self) -> None:
        if self.discussions is None:
            return
        since = self.session.now_ms() - self.digest.days.value() * DAY_MS
        self.digest.show_items(self.discussions.digest(since), self._names())
        self.stack.setCurrentWidget(self.digest)
        self.digest.list.setFocus()
