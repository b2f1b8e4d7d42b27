"""The main screen: navigation to Home, Messages, Mentors, Mentorships, Circles, Projects, Library, Schedule,
Settings, My profile (Ctrl+1…Ctrl+9, then Ctrl+0) and, for programme admins, Programme (reached from the list),
each a view that redraws when sync reports new records."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QHBoxLayout, QListWidget, QListWidgetItem, QStackedWidget, QWidget

from desktop.domain.matching import local_zone
from desktop.domain.session import Session
from desktop.i18n import C_, _, current_locale
from desktop.ui.icons import themed
from desktop.ui.layout import scrolling
from desktop.ui.theme import Theme
from desktop.ui.views.circles import CirclesView
from desktop.ui.views.home import HomeView
from desktop.ui.views.library import LibraryView
from desktop.ui.views.mentors import MentorsView
from desktop.ui.views.mentorships import MentorshipsView
from desktop.ui.views.messages import MessagesView
from desktop.ui.views.profile import ProfileView
from desktop.ui.views.programme import ProgrammeView
from desktop.ui.views.projects import ProjectsView
from desktop.ui.views.schedule import ScheduleView
from desktop.ui.views.settings import SettingsView
from desktop.ui.views.students import StudentsView

BASE_VIEWS = (
    "home",
    "messages",
    "mentors",
    "mentorships",
    "circles",
    "projects",
    "library",
    "schedule",
    "settings",
    "profile",
)


class MainScreen(QWidget):
    language_changed = Signal(str)
    auto_lock_changed = Signal(int)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.settings_store = session.settings_store  # where the side panels' splitters keep their sizes
        self.setAccessibleName(_("Osler"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName(_("Navigation"))
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.pages = QStackedWidget()
        layout.addWidget(self.nav)
        layout.addWidget(self.pages, 1)

        self.home = HomeView(session)
        self.home.navigate.connect(self.navigate)
        self.mentors = MentorsView(session.wall, students=session.is_mentor)
        self.mentors.open_requests.connect(lambda: self.navigate("mentorships"))
        self.library = LibraryView(session)
        self.settings = SettingsView(session)
        self.settings.language_changed.connect(self.language_changed)
        self.settings.auto_lock_changed.connect(self.auto_lock_changed)
        self.settings.records_changed.connect(self.refresh)
        self.messages = MessagesView(session)
        self.messages.navigate.connect(self.navigate)
        self.mentors.write_to.connect(self.write_to)
        card = session.my_card()
        languages = (
            card.languages if card and card.languages else tuple(dict.fromkeys((current_locale().language, "en")))
        )
        self.mentors.set_seeker(session.program.credentials.account.hex(), languages, local_zone())
        self.mentorships = MentorshipsView(session)
        self.mentorships.navigate.connect(self.navigate)
        self.mentorships.suggest_again.connect(self.suggest_again)
        self.mentors.ask.connect(self.ask)
        self.projects = ProjectsView(session)
        self.projects.navigate.connect(self.navigate)
        self.schedule = ScheduleView(session)
        self.schedule.write_to.connect(self.write_to)  # "Start the live text session": the conversation
        self.circles = CirclesView(session)
        self.circles.project_wanted.connect(self.open_project)
        self.profile = ProfileView(session)
        self.profile.saved.connect(self.refresh)
        self.students = StudentsView(session, self.mentors) if session.is_mentor else None
        if self.students is not None:
            self.students.for_you.open_requests.connect(lambda: self.navigate("mentorships"))
        self.programme = ProgrammeView(session) if session.admin is not None else None
        self.views = BASE_VIEWS + (("programme",) if self.programme is not None else ())
        titles = (
            _("Home"),
            _("Messages"),
            _("Students") if session.is_mentor else _("Mentors"),
            _("Mentorships"),
            _("Circles"),
            _("Projects"),
            _("Library"),
            C_("the view of meetings (a noun)", "Schedule"),
            _("Settings"),
            _("My profile"),
        ) + ((_("Programme"),) if self.programme is not None else ())
        widgets = (
            self.home,
            self.messages,
            self.students or self.mentors,
            self.mentorships,
            self.circles,
            self.projects,
            self.library,
            self.schedule,
            self.settings,
            self.profile,
        ) + ((self.programme,) if self.programme is not None else ())
        for number, (name, title, widget) in enumerate(zip(self.views, titles, widgets, strict=True), start=1):
            item = QListWidgetItem(themed(name), title)
            item.setData(Qt.ItemDataRole.UserRole, name)
            key = number % 10  # the tenth view is Ctrl+0; any beyond it is reached by the list (arrow keys)
            if number <= 10:
                item.setToolTip(_("{view} (Ctrl+{number})").format(view=title, number=key))
                QShortcut(QKeySequence(f"Ctrl+{key}"), self, activated=lambda n=name: self.navigate(n))
            self.nav.addItem(item)
            self.pages.addWidget(scrolling(widget, "page"))  # a view taller than the window scrolls, never grows it
        self.nav.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.nav.setCurrentRow(0)
        self._fit_nav()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            Theme.of(app).changed.connect(self._recolour)
        self.refresh()

    def _fit_nav(self) -> None:
        """The sidebar is as wide as its longest label needs, in this language and at this text size."""
        metrics = self.nav.fontMetrics()
        widest = max(metrics.horizontalAdvance(self.nav.item(r).text()) for r in range(self.nav.count()))
        self.nav.setFixedWidth(widest + self.nav.iconSize().width() + 4 * metrics.averageCharWidth() + 40)
        # rows laid out before the style sheet's padding arrived would overlap (the selected row covering the
        # next): lay them out again with the sizes the style gives now
        self.nav.scheduleDelayedItemsLayout()

    def _recolour(self, _palette: object) -> None:
        for row, name in enumerate(self.views):
            self.nav.item(row).setIcon(themed(name))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange) and self.nav.count():
            self._fit_nav()

    def _update_seeker(self) -> None:
        """Suggestions speak for the person: their card's languages, zone, hours and background."""
        card = self.session.my_card()
        fallback = tuple(dict.fromkeys((current_locale().language, "en")))
        self.mentors.set_seeker(
            self.session.program.credentials.account.hex(),
            card.languages if card and card.languages else fallback,
            card.tz if card and card.tz else local_zone(),
            card.windows if card else (),
            card.background if card else (),
            card.year if card else 0,
            card.wants_peer if card else False,
        )
        if card and card.interests and not self.mentors.interests.text():
            self.mentors.interests.setText(", ".join(card.interests))

    # -- switching language: a new MainScreen takes over this one's place, scroll and drafts ------------------

    def snapshot(self) -> dict:
        """What a person would lose if this screen were built again: the view, each page's scroll, the open
        conversation and its unsent text, the mentor search, unsaved profile fields, and an offer being written."""
        self.messages._save_draft()
        profile = self.profile
        return {
            "view": self.current_view,
            "scroll": [self.pages.widget(i).verticalScrollBar().value() for i in range(self.pages.count())],
            "thread": self.messages.current,
            "compose": self.messages.box.text(),
            "search": self.mentors.search.text(),
            "interests": self.mentors.interests.text(),
            "profile": (profile.name.text(), profile.interests.text(), profile.private.toPlainText()),
            "offer": self.students.for_you.draft() if self.students is not None else None,
        }

    def restore(self, state: dict) -> None:
        self.navigate(state["view"])
        if state["thread"] is not None:
            self.messages.open_thread(state["thread"])
            self.messages.box.set_text(state["compose"])
        self.mentors.search.setText(state["search"])
        self.mentors.interests.setText(state["interests"])
        name, interests, private = state["profile"]
        self.profile.name.setText(name)
        self.profile.interests.setText(interests)
        self.profile.private.setPlainText(private)
        if self.students is not None and state.get("offer"):
            self.students.for_you.restore_draft(*state["offer"])

        def scroll() -> None:  # once the pages are laid out in the new language
            for index, value in enumerate(state["scroll"][: self.pages.count()]):
                self.pages.widget(index).verticalScrollBar().setValue(value)

        QTimer.singleShot(0, scroll)

    def navigate(self, name: str) -> None:
        self.nav.setCurrentRow(self.views.index(name))

    def open_carry(self) -> None:
        """Settings, scrolled to "Sync without the internet", its first button in focus (the sync bar's
        "Without internet…" comes here)."""
        self.navigate("settings")
        page = self.pages.currentWidget()
        carry = self.settings.carry

        def scroll() -> None:  # the section's title at the top of the page
            if shiboken6.isValid(carry):
                page.verticalScrollBar().setValue(carry.title.mapTo(page.widget(), QPoint(0, 0)).y() - 8)

        scroll()
        QTimer.singleShot(0, scroll)  # again once laid out
        carry.export_button.setFocus()

    @property
    def current_view(self) -> str:
        return self.views[self.nav.currentRow()]

    def suggest_again(self, excluded: str) -> None:
        self.navigate("mentors")
        self.mentors.excluded = {excluded} if excluded else set()
        self.mentors.suggest()

    def ask(self, account: str) -> None:
        self.navigate("mentorships")
        self.mentorships.ask(account)

    def open_project(self, project_id: str) -> None:
        """The Projects page with ``project_id`` open (the Circles page opens projects this way)."""
        self.navigate("projects")
        self.projects.refresh()
        self.projects.open_project(project_id)

    def write_to(self, account: str) -> None:
        self.navigate("messages")
        self.messages.open_with(account)
        self.messages.compose.setFocus()

    def sent(self) -> None:
        """A sync sent what was queued: lines that said "queued" follow."""
        self.home.refresh_card_state()
        self.messages.refresh()

    def refresh(self) -> None:
        """Re-read what sync may have changed: the directory, the library, conversations, Home's counts."""
        if self.session.is_mentor:
            self.mentors.set_cards(self.session.students())
            self.mentors.show_waiting(self.session.attention().pending_requests)
            if self.students is not None:
                self.students.refresh()
        else:
            self.mentors.set_cards(self.session.mentors())
        self._update_seeker()
        self.library.refresh()
        self.messages.refresh()
        self.mentorships.refresh()
        self.circles.refresh()
        self.projects.refresh()
        self.schedule.refresh()
        self.settings.carry.refresh()  # what this computer carries: relayed after a sync
        figures = self.session.admin.figures() if self.session.admin is not None else None  # worked out once
        self.home.refresh(figures)
        if self.programme is not None:
            self.programme.refresh(figures)

    def clear(self) -> None:
        """Drop decrypted data from every model (on lock)."""
        self.mentors.clear()
        if self.students is not None:
            self.students.clear()
        self.library.clear()
        self.messages.clear()
        self.mentorships.clear()
        self.circles.clear()
        self.projects.clear()
        self.schedule.clear()
