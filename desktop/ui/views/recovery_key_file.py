"""The recovery key on paper and on disk: how it is drawn (groups, left to right in every language), saved as a
text file (owner-only) and printed. Used by the Settings block and the new-key dialog."""

from __future__ import annotations

import html
import os
from collections.abc import Callable

from PySide6.QtGui import QFont, QFontDatabase, QTextDocument
from PySide6.QtWidgets import QDialog, QLabel, QWidget

from desktop.i18n import _
from desktop.ui import file_dialogs
from desktop.ui.direction import isolated

SUGGESTED_FILE = "osler-recovery-key.txt"

# Tests (and nothing else) set this to stand in for the OS's print dialog: (parent) -> a QPrinter or None.
print_answer: Callable[[QWidget], object | None] | None = None


def key_font(scale: float = 1.3) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setWeight(QFont.Weight.Bold)
    return font


def key_lines(text: str) -> str:
    """The key in two lines of groups (5 + 4), left to right in every UI language."""
    groups = text.split("-")
    return "\n".join(isolated(" ".join(part), rtl=False) for part in (groups[:5], groups[5:]))


def key_file_text(text: str) -> str:
    return "\n".join(
        [
            _("Osler recovery key"),
            "",
            text,
            "",
            _(
                "With this key you can get back into your account on a new computer, and open Osler here if you "
                "forget your passphrase. Keep it somewhere safe, away from this computer. Anyone who has it can "
                "restore your account."
            ),
            "",
        ]
    )


def save_key(parent: QWidget, text: str, status: QLabel) -> None:
    """ "Save as text file…": the key and what it is for, owner-only, where the person chooses."""
    path = file_dialogs.save_file(parent, _("Save your recovery key"), SUGGESTED_FILE)
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_file_text(text).encode("utf-8"))
    except OSError as exc:
        status.setText(_("The file could not be saved ({reason}).").format(reason=exc.strerror))
        return
    status.setText(_("Saved to {path}. Keep that file away from this computer.").format(path=path))


def print_key(parent: QWidget, text: str, status: QLabel) -> None:
    """ "Print…": the OS's print dialog, then one page with the key in large monospace and what it is for."""
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    if print_answer is not None:
        printer = print_answer(parent)
    else:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if QPrintDialog(printer, parent).exec() != QDialog.DialogCode.Accepted:
            printer = None
    if printer is None:
        return
    document = QTextDocument()
    paragraphs = key_file_text(text).strip().split("\n\n")
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[2:])
    document.setHtml(
        f"<h2>{html.escape(paragraphs[0])}</h2>"
        f"<p style='font-family: monospace; font-size: 16pt; font-weight: bold'>{html.escape(text)}</p>"
        f"{body}"
    )
    document.print_(printer)
    status.setText(_("Sent to the printer."))
