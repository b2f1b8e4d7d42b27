"""A mentor's Students view: "For you" lists the students who asked, those the programme introduced and those in
the mentor's circles, each with its reasons, and offers to mentor one with a short message; "All students"
is the programme's directory (``MentorsView`` in its students mode)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.programme import introductions
from desktop.domain.session import Session
from desktop.domain.students import GROUP_TITLES, GROUPS, MAX_OFFER, StudentEntry, students_for
from desktop.i18n import _, ngettext
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button, heading
from desktop.ui.theme import primary
from desktop.ui.views.mentor_detail import reason_line
from desktop.ui.views.mentors import MentorsView


class StudentsForYou(QWidget):
    """The three groups in one tree (a group, then its students), the chosen student's reasons, and the offer."""

    open_requests = Signal()

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.me = session.program.credentials.account.hex()
        self.setAccessibleName(_("Students for you"))
        self.entries: dict[str, StudentEntry] = {}
        layout = QVBoxLayout(self)
        intro = QLabel(_("Students who asked you, those the programme introduced to you, and those in your circles."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setAccessibleName(_("Students by group"))
        self.tree.setRootIsDecorated(False)
        self.tree.currentItemChanged.connect(self._chosen)
        layout.addWidget(self.tree, 1)
        self.name = heading("", 1.1)
        self.name.setWordWrap(True)
        layout.addWidget(self.name)
        self.reasons = QLabel()
        self.reasons.setWordWrap(True)
        self.reasons.setAccessibleName(_("Why this student"))
        self.reasons.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard)
        layout.addWidget(self.reasons)
        self.message = QPlainTextEdit()
        self.message.setAccessibleName(_("A short message with your offer"))
        self.message.setPlaceholderText(_("A few words: why you, and how you would like to work together"))
        self.message.setMaximumHeight(70)
        self.message.setTabChangesFocus(True)
        layout.addWidget(self.message)
        self.offer_button = primary(button(_("&Offer to mentor"), _("Offer to mentor"), self.offer))
        self.answer_button = button(_("&Answer in Mentorships"), _("Answer in Mentorships"), self.open_requests.emit)
        actions = QHBoxLayout()
        actions.addWidget(self.offer_button)
        actions.addWidget(self.answer_button)
        actions.addStretch(1)
        layout.addLayout(actions)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Students status"))
        layout.addWidget(self.status)
        self._chosen(None)

    def refresh(self) -> None:
        plans = self.session.mentorships
        if plans is None:
            return
        circles = getattr(self.session, "circles", None)  # the circles of dev-core, once merged
        groups = students_for(
            self.me,
            self.session.cards(),
            plans.requests(),
            plans.mentorships(),
            introductions(self.session.vault),
            circles.circles() if circles is not None else [],
            self.session.now_ms(),
        )
        self.show_groups(groups)

    def show_groups(self, groups: dict[str, list[StudentEntry]]) -> None:
        """Fill the tree, keeping the chosen student chosen."""
        chosen = self.current.card.account if self.current else None
        self.tree.clear()
        self.entries = {}
        again = None
        for group in GROUPS:
            entries = groups[group]
            top = QTreeWidgetItem(
                [
                    ngettext("{title}: {count} student", "{title}: {count} students", len(entries)).format(
                        title=_(GROUP_TITLES[group]), count=len(entries)
                    )
                ]
            )
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            bold = top.font(0)
            bold.setBold(True)
            top.setFont(0, bold)
            self.tree.addTopLevelItem(top)
            for entry in entries:
                label = entry.card.name
                if entry.offered:
                    label = _("{name}: your offer is waiting for an answer").format(name=label)
                item = QTreeWidgetItem([label])
                item.setData(0, Qt.ItemDataRole.UserRole, f"{group}:{entry.card.account}")
                item.setToolTip(0, label)
                top.addChild(item)
                self.entries[f"{group}:{entry.card.account}"] = entry
                if entry.card.account == chosen:
                    again = item
            top.setExpanded(True)
        if again is not None:
            self.tree.setCurrentItem(again)
        else:
            self._chosen(None)

    @property
    def current(self) -> StudentEntry | None:
        item = self.tree.currentItem()
        key = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        return self.entries.get(key) if key else None

    def _chosen(self, *_args: object) -> None:
        entry = self.current
        self.name.setText(entry.card.name if entry else _("Choose a student to see why they are here."))
        self.reasons.setText(
            "\n".join("• " + reason_line(r.text, r.values, about_a_pair=True) for r in entry.reasons) if entry else ""
        )
        self.reasons.setVisible(entry is not None)
        can_offer = entry is not None and entry.can_offer
        self.message.setVisible(can_offer)
        self.offer_button.setVisible(can_offer)
        self.answer_button.setVisible(entry is not None and entry.request is not None)

    def draft(self) -> tuple[str, str] | None:
        """(the chosen student's key, the offer being written), kept when the screen is built again."""
        item = self.tree.currentItem()
        key = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        return (key, self.message.toPlainText()) if key else None

    def restore_draft(self, key: str, text: str) -> None:
        for g in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(g)
            for c in range(top.childCount()):
                if top.child(c).data(0, Qt.ItemDataRole.UserRole) == key:
                    self.tree.setCurrentItem(top.child(c))
                    self.message.setPlainText(text)
                    return

    def offer(self) -> None:
        entry, plans = self.current, self.session.mentorships
        if entry is None or plans is None or not entry.can_offer:
            return
        text = self.message.toPlainText().strip()
        if not text:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(_("Write a short message to go with your offer."))
            self.message.setFocus()
            return
        if len(text) > MAX_OFFER:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(
                _("Keep the message under {count} characters; it is {length}.").format(
                    count=MAX_OFFER, length=len(text)
                )
            )
            self.message.setFocus()
            return
        plans.offer(entry.card.account, text, [], self.session.now_ms())
        self.session.scheduler.local_change()
        self.message.clear()
        self.status.setStyleSheet("")
        self.status.setText(
            _("Offer sent to {name}. It goes out with the next sync; they answer in Mentorships.").format(
                name=entry.card.name
            )
        )
        self.refresh()


class StudentsView(QWidget):
    """The mentor's page in the sidebar's "Students" place: the students for them, and the whole directory."""

    def __init__(self, session: Session, directory: MentorsView) -> None:
        super().__init__()
        self.setAccessibleName(_("Students"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName(_("Students"))
        self.for_you = StudentsForYou(session)
        self.directory = directory
        self.tabs.addTab(self.for_you, _("&For you"))
        self.tabs.addTab(directory, _("All st&udents"))
        layout.addWidget(self.tabs)

    def refresh(self) -> None:
        self.for_you.refresh()

    def clear(self) -> None:
        """Drop decrypted names and reasons (on lock)."""
        self.for_you.tree.clear()
        self.for_you.entries = {}
        self.for_you._chosen(None)
