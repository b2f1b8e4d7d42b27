"""Projects: the research projects this person is in (left) and the chosen one (right): its stage path, task
board, files with versions, decisions, authorship plan and CRediT contributions, each a tab. Every change is
saved at once on this computer and goes out at the next sync; a change the project's rules refuse (someone
else's CRediT record, a confirmation by a member, an oversized file) says why and changes nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QListWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.session import Session
from desktop.i18n import _, ngettext
from desktop.ui import file_dialogs
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button, error_label, explain, heading, line_edit
from desktop.ui.layout import RememberedSplitter, empty_state, row_of, wrapping_list
from desktop.ui.views.project_board import BoardPanel
from desktop.ui.views.project_credit import AuthorshipPanel, CreditPanel
from desktop.ui.views.project_files import DecisionsPanel, FilesPanel
from desktop.ui.views.project_names import MEMBER_ROLES
from desktop.ui.views.project_path import PathPanel
from desktop.ui.worker import Task, run_in_background


def refusal(error: ValueError) -> str:
    """The sentence a person reads when the project's rules (or its circle's) refuse a change."""
    sentences = {
        "not-member": _("You are not a member of this project."),
        "not-yours": _("Only its owner or the project lead can change a CRediT record."),
        "not-lead": _("Only the project lead can confirm contributions."),
        "file-too-large": _("This file is larger than the 25 MB limit for shared files."),
        "too-large": _("This text is too long to save."),
        "no-keys": _("This project's key has not reached this device yet: sync, then try again."),
        "unknown": _("This project is not on this device any more."),
    }
    code = getattr(error, "code", None)
    if code is None:
        return explain(error)
    return sentences.get(code, _("This change cannot be saved."))


class ProjectsView(QWidget):
    navigate = Signal(str)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setAccessibleName(_("Projects"))
        self.projects = getattr(session, "projects", None)
        self.me = session.program.credentials.account.hex()
        self.current: str | None = None
        self.names: dict[str, str] = {}
        self._tasks: set[Task] = set()
        layout = QVBoxLayout(self)
        splitter = RememberedSplitter("projects", session.settings_store, [220, 700])

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        mine = heading(_("My projects"), 1.1)
        self.list = wrapping_list()
        self.list.setAccessibleName(_("My projects"))
        self.list.setWordWrap(True)
        mine.setBuddy(self.list)
        empty_state(self.list, _("No projects yet: start one, or accept an invitation in Circles."))
        self.list.currentItemChanged.connect(self._chosen)
        left_layout.addWidget(mine)
        left_layout.addWidget(self.list, 1)
        new_row = QWidget()
        grid = QGridLayout(new_row)
        grid.setContentsMargins(0, 0, 0, 0)
        self.new_title = line_edit(_("New project's title"), _("Title of a new project…"))
        self.new_title.returnPressed.connect(self.create)
        grid.addWidget(self.new_title, 0, 0)
        grid.addWidget(button(_("S&tart a project"), _("Start a project"), self.create), 1, 0)
        left_layout.addWidget(new_row)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.title = heading("", 1.2)
        self.members_line = QLabel()
        self.members_line.setWordWrap(True)
        self.members_line.setAccessibleName(_("Project members"))
        self.error = error_label(_("Project error"))
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Project status"))
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName(_("Project"))
        self.tabs.setUsesScrollButtons(True)
        self.path = PathPanel(lambda stage, fields: self.act(lambda p: self.projects.set_stage(p, stage, **fields)))
        self.board = BoardPanel(
            add=lambda title: self.act(lambda p: self.projects.add_task(p, title)),
            move=lambda task, state, index: self.act(lambda p: self.projects.move_task(p, task, state, index)),
            remove=lambda task: self.act(lambda p: self.projects.remove_task(p, task)),
        )
        self.files = FilesPanel(self.add_file, self.download, self.save_file, self._file_state)
        self.decisions = DecisionsPanel(lambda text: self.act(lambda p: self.projects.add_decision(p, text)))
        self.authorship = AuthorshipPanel(self._add_author, self._move_author, self._remove_author)
        self.credit = CreditPanel(
            lambda account, role, level: self.act(lambda p: self.projects.set_credit(p, account, {role: level})),
            lambda account: self.act(lambda p: self.projects.confirm_credit(p, account)),
        )
        # tabs change with Ctrl+Tab / Ctrl+Page Down (and arrows on the tab bar): no Alt letters of their own,
        # which would collide with the buttons inside them
        self.tabs.addTab(self.path, _("Path"))
        self.tabs.addTab(self.board, _("Board"))
        self.tabs.addTab(self.files, _("Files"))
        self.tabs.addTab(self.decisions, _("Decisions"))
        self.tabs.addTab(self.authorship, _("Authorship"))
        self.tabs.addTab(self.credit, _("CRediT"))
        for widget in (self.title, self.members_line, self.error, self.status, self.tabs):
            right_layout.addWidget(widget)
        right_layout.setStretchFactor(self.tabs, 1)
        splitter.addWidget(left)
        splitter.addWidget(right)
        layout.addWidget(splitter, 1)
        self._show_nothing()

    # -- the list of projects -------------------------------------------------------------------------------

    def refresh(self) -> None:
        if self.projects is None or self.session.vault.is_locked:
            return
        self.names = {card.account: card.name for card in self.session.cards()}
        self.names.setdefault(self.me, _("you"))
        self.list.blockSignals(True)
        self.list.clear()
        for project in self.projects.projects():
            role = _(MEMBER_ROLES.get(project.my_role or "member", MEMBER_ROLES["member"]))
            item = QListWidgetItem(f"{project.title}\n{role}")
            item.setData(Qt.ItemDataRole.UserRole, project.id)
            self.list.addItem(item)
            if project.id == self.current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self.current is not None:
            self.show_project(self.current)

    def clear(self) -> None:
        self.list.clear()
        self.current = None
        self._show_nothing()

    def _chosen(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        if item is not None:
            self.open_project(item.data(Qt.ItemDataRole.UserRole))

    def open_project(self, project_id: str) -> None:
        """Show ``project_id`` (also how the Circles page opens a project here)."""
        self.current = project_id
        row = row_of(self.list, project_id)
        if row >= 0 and self.list.currentRow() != row:
            self.list.blockSignals(True)
            self.list.setCurrentRow(row)
            self.list.blockSignals(False)
        self.error.hide()
        self.status.setText("")
        self.show_project(project_id)

    def _show_nothing(self) -> None:
        self.title.setText(_("Choose a project"))
        self.members_line.setText("")
        self.tabs.setEnabled(False)

    def show_project(self, project_id: str) -> None:
        """Read the project once (one fold of its events) and give each tab its part."""
        assert self.projects is not None
        project = self.projects.project(project_id)
        if project is None:
            self._show_nothing()
            return
        state = self.projects.state(project_id)
        members = [m.account for m in project.members]
        lead = project.my_role == "lead"
        self.tabs.setEnabled(True)
        self.title.setText(project.title)
        self.title.setAccessibleName(project.title)
        people = ", ".join(
            f"{self.names.get(m.account, m.account[:6])} ({_(MEMBER_ROLES.get(m.role, MEMBER_ROLES['member']))})"
            for m in project.members
        )
        self.members_line.setText(
            ngettext("{count} member: {people}", "{count} members: {people}", len(members)).format(
                count=len(members), people=people
            )
        )
        self.path.show_state(state, members, self.names, project_id)
        self.board.show_state(state, self.names)
        self.files.show_state(state, self.names)
        self.decisions.show_state(state, self.names)
        self.authorship.show_state(state)
        self.credit.show_state(state, members, self.names, self.me, lead)

    # -- changes ----------------------------------------------------------------------------------------------

    def act(self, change) -> bool:  # type: ignore[no-untyped-def]
        """Run one change of the open project; say why when it is refused; show the project as it is now."""
        if self.current is None or self.projects is None:
            return False
        try:
            change(self.current)
        except ValueError as error:  # the project's rules (ProjectError) or its circle's (CircleError)
            self.say(refusal(error), error=True)
            return False
        self.error.hide()
        self.status.setText(_("Saved on this computer; it goes out at the next sync."))
        self.show_project(self.current)
        return True

    def say(self, text: str, error: bool = False) -> None:
        if error:
            self.error.setText(text)
            self.error.show()
        else:
            self.error.hide()
            self.status.setText(text)

    def create(self) -> None:
        title = self.new_title.text().strip()
        if not title or self.projects is None:
            return
        try:
            project = self.projects.create(title)
        except ValueError as error:
            self.say(refusal(error), error=True)
            return
        self.new_title.clear()
        self.current = project
        self.refresh()
        self.say(_("Project started. Invite its members from Circles."))

    def _add_author(self, name: str, corresponding: bool) -> None:
        count = len(self.projects.state(self.current).authors) if self.current and self.projects else 0
        self.act(lambda p: self.projects.set_author(p, name, float(count + 1), corresponding))

    def _move_author(self, author_id: str, index: int) -> None:
        if self.current is None or self.projects is None:
            return
        authors = self.projects.state(self.current).authors
        ids = [a.id for a in authors]
        if author_id not in ids or not 0 <= index < len(ids):
            return
        ids.remove(author_id)
        ids.insert(index, author_id)

        def renumber(p: str) -> None:
            with self.session.vault.transaction():
                for number, author in enumerate(ids, start=1):
                    old = next(a for a in authors if a.id == author)
                    if old.order != float(number):
                        self.projects.set_author(p, old.person, float(number), old.corresponding, author)

        self.act(renumber)

    def _remove_author(self, author_id: str) -> None:
        self.act(lambda p: self.projects.remove_author(p, author_id))

    # -- files ----------------------------------------------------------------------------------------------

    def _file_state(self, version: str) -> str | None:
        return self.projects.file_state(version) if self.projects is not None else None

    def add_file(self, file_id: str | None) -> None:
        name = file_dialogs.open_file(self, _("Add a file to the project"))
        if name and self.act(lambda p: self.projects.add_file(p, Path(name), file_id)):
            self.say(_("{name} is saved here and uploads at the next sync.").format(name=Path(name).name))

    def download(self, version: str) -> None:
        if self._file_state(version) != "remote":
            self.say(_("This version is already on this computer."))
            return
        self.say(_("Downloading…"))

        def done(_result: object) -> None:
            self._tasks.discard(task)
            if not self.session.vault.is_locked:
                self.say(_("The file is on this computer."))
                if self.current is not None:
                    self.show_project(self.current)

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            self.say(explain(exc), error=True)

        task = run_in_background(lambda: self.session.download_attachment(version), done, failed)
        self._tasks.add(task)

    def save_file(self, version: str) -> None:
        if self._file_state(version) == "remote":
            self.say(_("Download the file first."), error=True)
            return
        entry = self.session.messaging.attachment(version) if self.session.messaging else None
        suggested = entry["name"] if entry else ""
        name = file_dialogs.save_file(self, _("Save the file as"), suggested)
        if name and self.projects is not None and self.projects.export_file(version, Path(name)):
            self.say(_("Saved to {path}.").format(path=name))
