"""The OS's file dialogs, in one place. Tests (and nothing else) set ``answer`` to stand in for the OS dialog:
everything before and after it runs as it does for a person."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFileDialog, QWidget

answer: Callable[[str, str], str] | None = None  # (kind "open", "save" or "folder", suggested) -> chosen path or ""


def open_file(parent: QWidget, title: str) -> str:
    if answer is not None:
        return answer("open", "")
    name, _filter = QFileDialog.getOpenFileName(parent, title)
    return name


def save_file(parent: QWidget, title: str, suggested: str) -> str:
    if answer is not None:
        return answer("save", suggested)
    name, _filter = QFileDialog.getSaveFileName(parent, title, suggested)
    return name


def choose_folder(parent: QWidget, title: str) -> str:
    """A folder (a USB stick, a shared folder), or "" when the person cancelled."""
    if answer is not None:
        return answer("folder", "")
    return QFileDialog.getExistingDirectory(parent, title)
