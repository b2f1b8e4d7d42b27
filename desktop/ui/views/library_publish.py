"""Publishing to the library (mentors and admins): "Publish…" (programme-wide), "New version…" (of the selected
item) and "Share privately…" (with a mentee or a circle, end-to-end encrypted). One dialog for the three: the
file, then its title, summary, specialty, language, level and licence; a refusal (a file that is not what it
says, a title too long…) shows in the dialog in the person's language and nothing is stored."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.directory import SPECIALTIES
from desktop.domain.library import LibraryItem
from desktop.domain.library_format import LEVEL_NAMES, LEVELS, LICENCES, LibraryError, PublishMeta
from desktop.domain.session import Session
from desktop.i18n import _
from desktop.ui.common import button, error_label, explain, line_edit
from desktop.ui.file_dialogs import open_file

PUBLISH, NEW_VERSION, SHARE = "publish", "new-version", "share"


def _weak(function: Callable) -> Callable[[], Callable | None]:
    """A weak reference to a bound method (a plain function is held as it is)."""
    if inspect.ismethod(function):
        return weakref.WeakMethod(function)
    return lambda: function


def share_targets(session: Session) -> list[tuple[str, str]]:
    """(account or circle id, name) a mentor can share with: their mentees, then their circles."""
    me = session.program.credentials.account.hex()
    names = {c.account: c.name for c in session.cards()}
    out: list[tuple[str, str]] = []
    if session.mentorships is not None:
        for plan in session.mentorships.mentorships():
            other = plan.student if plan.mentor == me else plan.mentor
            if other != me and other not in {t for t, _n in out}:
                out.append((other, names.get(other, _("someone"))))
    if session.circles is not None:
        for circle in session.circles.circles():
            if circle.my_role is not None:
                out.append((circle.id, _("Circle: {title}").format(title=circle.title)))
    return out


class PublishDialog(QDialog):
    def __init__(
        self, session: Session, mode: str, previous: LibraryItem | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session, self.mode, self.previous = session, mode, previous
        self.result_item: LibraryItem | str | None = None
        titles = {PUBLISH: _("Publish to the library"), NEW_VERSION: _("New version"), SHARE: _("Share privately")}
        self.setWindowTitle(titles[mode])
        self.setAccessibleName(titles[mode])
        layout = QVBoxLayout(self)
        form = QFormLayout()
        row = QHBoxLayout()
        self.path = line_edit(_("File"), _("A PDF, Markdown, image, audio or video file"))
        row.addWidget(self.path, 1)
        row.addWidget(button(_("&Browse…"), _("Choose a file"), self._browse))
        form.addRow(self._label(_("&File:"), self.path), row)
        self.title = line_edit(_("Title"))
        self.title.setMaxLength(200)
        form.addRow(self._label(_("&Title:"), self.title), self.title)
        self.summary = QPlainTextEdit()
        self.summary.setAccessibleName(_("Summary"))
        self.summary.setTabChangesFocus(True)
        self.summary.setMaximumHeight(90)
        form.addRow(self._label(_("S&ummary:"), self.summary), self.summary)
        self.specialty = QComboBox()
        self.specialty.setAccessibleName(_("Specialty"))
        self.specialty.addItem(_("Any specialty"), "")
        for name in SPECIALTIES:
            self.specialty.addItem(_(name), name)
        form.addRow(self._label(_("S&pecialty:"), self.specialty), self.specialty)
        self.language = line_edit(_("Language"), "en")
        self.language.setText("en")
        self.language.setMaxLength(35)
        form.addRow(self._label(_("&Language:"), self.language), self.language)
        self.level = QComboBox()
        self.level.setAccessibleName(_("Level"))
        for level in LEVELS:
            self.level.addItem(_(LEVEL_NAMES[level]), level)
        self.level.setCurrentIndex(LEVELS.index("all"))
        form.addRow(self._label(_("Le&vel:"), self.level), self.level)
        self.licence = QComboBox()
        self.licence.setEditable(True)
        self.licence.setAccessibleName(_("Licence"))
        self.licence.addItems(LICENCES)
        form.addRow(self._label(_("Li&cence:"), self.licence), self.licence)
        self.to = QComboBox()
        self.to.setAccessibleName(_("Share with"))
        if mode == SHARE:
            for target, name in share_targets(session):
                self.to.addItem(name, target)
            form.addRow(self._label(_("Share &with:"), self.to), self.to)
        layout.addLayout(form)
        if previous is not None:
            self._fill(previous)
        self.error = error_label(_("Publishing problem"))
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText({PUBLISH: _("Publish"), NEW_VERSION: _("Publish new version"), SHARE: _("Share")}[mode])
        buttons.accepted.connect(self._go)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @staticmethod
    def _label(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label

    def _fill(self, item: LibraryItem) -> None:
        self.title.setText(item.title)
        self.summary.setPlainText(item.summary)
        index = self.specialty.findData(item.specialty)
        self.specialty.setCurrentIndex(max(index, 0))
        self.language.setText(item.language)
        self.level.setCurrentIndex(max(self.level.findData(item.level), 0))
        if item.licence:
            self.licence.setCurrentText(item.licence)

    def _browse(self) -> None:
        chosen = open_file(self, _("Choose a file to publish"))
        if chosen:
            self.path.setText(chosen)
            if not self.title.text().strip():
                self.title.setText(Path(chosen).stem.replace("_", " "))

    def meta(self) -> PublishMeta:
        return PublishMeta(
            title=self.title.text(),
            summary=self.summary.toPlainText(),
            specialty=self.specialty.currentData() or "",
            language=self.language.text(),
            level=self.level.currentData(),
            licence=self.licence.currentText(),
        )

    def _go(self) -> None:
        library = self.session.library
        path_text = self.path.text().strip()
        try:
            if not path_text and not (self.mode == SHARE and self.previous is not None):
                raise LibraryError("file", _("Choose a file first."))
            path = Path(path_text) if path_text else None
            if self.mode == PUBLISH:
                self.result_item = library.publish(path, self.meta())  # type: ignore[arg-type]
            elif self.mode == NEW_VERSION:
                assert self.previous is not None
                self.result_item = library.new_version(self.previous, path, self.meta())  # type: ignore[arg-type]
            else:
                if self.to.currentData() is None:
                    raise LibraryError("recipient", _("Choose a mentee or a circle to share with."))
                source = path if path is not None else self.previous
                self.result_item = library.share_privately(source, self.meta(), self.to.currentData())  # type: ignore[arg-type]
        except LibraryError as refused:
            self.error.setText(str(refused))
            self.error.show()
            return
        except Exception as exc:  # a vault problem, a circle without keys yet: said, nothing half-done
            self.error.setText(explain(exc))
            self.error.show()
            return
        self.session.scheduler.local_change()
        self.accept()


class PublishButtons(QWidget):
    """The Library page's "Publish…", "New version…" and "Share privately…" (shown to mentors and admins)."""

    def __init__(
        self, session: Session, selected: Callable[[], LibraryItem | None], changed: Callable[[], None]
    ) -> None:
        super().__init__()
        self.session = session
        # the page's methods, held weakly: a strong hold would tie the page and this row in a cycle of Python
        # wrappers that outlives the widgets, and whichever thread's garbage collection met it would delete them
        self._selected, self._changed = _weak(selected), _weak(changed)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.publish = button(_("&Publish…"), _("Publish to the library"), lambda: self.open(PUBLISH))
        self.version = button(_("New &version…"), _("Publish a new version of the selected item"),
                              lambda: self.open(NEW_VERSION))  # fmt: skip
        self.share = button(_("S&hare privately…"), _("Share privately with a mentee or a circle"),
                            lambda: self.open(SHARE))  # fmt: skip
        for widget in (self.publish, self.version, self.share):
            row.addWidget(widget)
        if not session.library.may_publish:
            self.hide()

    def selected(self) -> LibraryItem | None:
        get = self._selected()
        return get() if get is not None else None

    def changed(self) -> None:
        refresh = self._changed()
        if refresh is not None:
            refresh()

    def open(self, mode: str) -> PublishDialog | None:
        previous = self.selected()
        if mode == NEW_VERSION and (previous is None or previous.private):
            return None
        dialog = PublishDialog(self.session, mode, previous if mode != PUBLISH else None, self)
        dialog.setModal(True)
        dialog.accepted.connect(self.changed)
        dialog.open()
        return dialog
