"""Content packs on the Library page: "Export pack…" (admins) writes the library, or the selected item, to a USB
stick or shared folder; "Import pack…" (anyone) adds a pack from a folder or a zip, with progress and a plain
result ("12 items added, 3 already here"). The work runs off the GUI thread; refusals say why in the reader's
language (``content_packs.PackRefused``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.content_pack_export import ExportResult, export_pack
from desktop.domain.content_pack_import import ImportResult, import_pack
from desktop.domain.content_packs import PackRefused, announce_admin
from desktop.domain.session import Session
from desktop.formatting import format_bytes
from desktop.i18n import _, ngettext
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button, explain
from desktop.ui.worker import Task, run_in_background


class _Progress(QObject):
    changed = Signal(int, int)  # bytes done, bytes in all: emitted on the worker thread, shown on the GUI's


def import_sentence(result: ImportResult) -> str:
    added = ngettext("{n} item added", "{n} items added", result.added).format(n=result.added)
    if not result.already:
        return added
    here = ngettext("{n} already here", "{n} already here", result.already).format(n=result.already)
    return _("{added}, {already}.").format(added=added, already=here)


def export_sentence(result: ExportResult) -> str:
    text = ngettext(
        "{n} item ({size}) written to {path}.", "{n} items ({size}) written to {path}.", result.items
    ).format(n=result.items, size=format_bytes(result.bytes), path=result.path)
    if result.skipped:
        text += " " + ngettext(
            "{n} item is not on this computer and was left out.",
            "{n} items are not on this computer and were left out.",
            result.skipped,
        ).format(n=result.skipped)
    return text


class ExportDialog(QDialog):
    """Name the pack, choose what goes in and in which form; the folder is asked for after."""

    def __init__(self, parent: QWidget | None, selected_title: str | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Export a content pack"))
        self.setAccessibleName(_("Export a content pack"))
        form = QFormLayout(self)
        self.name = QLineEdit(_("library"))
        self.name.setAccessibleName(_("Pack name"))
        self.name.setMaxLength(60)
        form.addRow(_("Pack &name:"), self.name)
        self.only_selected = QCheckBox(
            _("Only the selected item: {title}").format(title=selected_title) if selected_title else ""
        )
        self.only_selected.setAccessibleName(_("Only the selected item"))
        form.addRow(self.only_selected)
        if selected_title is None:
            self.only_selected.hide()
        self.as_zip = QCheckBox(_("As one &zip file (easier to copy; the files are not compressed)"))
        self.as_zip.setAccessibleName(_("As one zip file"))
        form.addRow(self.as_zip)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Choose where…"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class LibraryPacks(QWidget):
    """The two buttons, a progress bar and a result line, placed on the Library page."""

    def __init__(
        self,
        session: Session,
        selected: Callable[[], object | None],
        on_imported: Callable[[], None],
    ) -> None:
        super().__init__()
        self.session, self.selected, self.on_imported = session, selected, on_imported
        self.setAccessibleName(_("Content packs"))
        self.is_admin = session.program.role == "admin"
        if self.is_admin:  # so members' devices learn, at their next sync, that this account signs packs
            announce_admin(session.vault, session.program, session.clock)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.export_button = button(_("&Export pack…"), _("Export a content pack"), self.export)
        self.import_button = button(_("&Import pack…"), _("Import a content pack"), self.choose_import)
        row.addWidget(self.export_button)
        row.addWidget(self.import_button)
        if not self.is_admin:  # hide only: a parentless widget shown becomes a window and takes the focus
            self.export_button.hide()
        self.progress = QProgressBar()
        self.progress.setAccessibleName(_("Content pack progress"))
        self.progress.setRange(0, 1000)
        self.progress.hide()
        row.addWidget(self.progress, 1)
        row.addStretch()
        layout.addLayout(row)
        self.message = LiveLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName(_("Content pack status"))
        layout.addWidget(self.message)
        self._tasks: set[Task] = set()
        self._signal = _Progress(self)  # Qt owns it: never deleted by Python's GC on a worker thread
        self._signal.changed.connect(self._show_progress)

    # -- import --------------------------------------------------------------------------------------------

    def choose_import(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            _("Import a content pack"),
            "",
            _("Content packs (manifest.osler *.zip)"),
        )
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path) -> None:
        self._start(_("Checking and adding the pack…"))
        vault, program, emit = self.session.vault, self.session.program, self._signal.changed.emit
        self._run(lambda: import_pack(vault, program, path, emit), self._imported)

    def _imported(self, result: ImportResult) -> None:
        self.message.setText(import_sentence(result))
        self.on_imported()

    # -- export --------------------------------------------------------------------------------------------

    def export(self) -> None:
        item = self.selected()
        dialog = ExportDialog(self, getattr(item, "title", None) if item is not None else None)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        folder = QFileDialog.getExistingDirectory(self, _("Where to write the pack (a USB stick or a shared folder)"))
        if folder:
            ids = [item.id] if item is not None and dialog.only_selected.isChecked() else None  # type: ignore[attr-defined]
            self.export_to(Path(folder), dialog.name.text(), ids, dialog.as_zip.isChecked())

    def export_to(self, folder: Path, name: str, items: list[str] | None, as_zip: bool) -> None:
        self._start(_("Writing the pack…"))
        session, emit = self.session, self._signal.changed.emit

        def work() -> ExportResult:
            return export_pack(
                session.vault,
                session.program,
                folder,
                name,
                items=items,
                as_zip=as_zip,
                now_ms=session.now_ms(),
                progress=emit,
            )

        self._run(work, lambda result: self.message.setText(export_sentence(result)))

    # -- shared ---------------------------------------------------------------------------------------------

    def _start(self, text: str) -> None:
        self.export_button.setEnabled(False)
        self.import_button.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText(text)
        self.progress.setValue(0)
        self.progress.show()

    def _run(self, work: Callable[[], object], shown: Callable[[object], None]) -> None:
        def finish() -> None:
            self._tasks.discard(task)
            self.export_button.setEnabled(True)
            self.import_button.setEnabled(True)
            self.progress.hide()

        def done(result: object) -> None:
            finish()
            shown(result)

        def failed(exc: Exception) -> None:
            finish()
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText(str(exc) if isinstance(exc, PackRefused) else explain(exc))

        task = run_in_background(work, done, failed)
        self._tasks.add(task)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setValue(1000 if total <= 0 else int(1000 * done / total))
