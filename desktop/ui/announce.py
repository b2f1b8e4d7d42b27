"""Status changes spoken by screen readers: Qt's accessibility announcement (Qt 6.8+) for a line that changed, and a
label that announces its new text by itself."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent
from PySide6.QtWidgets import QLabel

listeners: list[Callable[[QObject, str, bool], None]] = []  # also told each announcement (tests)


def announce(source: QObject, text: str, assertive: bool = False) -> None:
    """Ask assistive technology to read ``text`` (politely: after what it is reading; ``assertive``: at once)."""
    if not text:
        return
    event = QAccessibleAnnouncementEvent(source, text)
    if assertive:
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)
    for listener in listeners:
        listener(source, text, assertive)


class LiveLabel(QLabel):
    """A status or error line: each new, non-empty text is announced (a live region)."""

    def __init__(self, text: str = "", assertive: bool = False) -> None:
        super().__init__(text)
        self.assertive = assertive

    def setText(self, text: str) -> None:
        changed = text != self.text()
        super().setText(text)
        if changed:
            announce(self, text, self.assertive)
