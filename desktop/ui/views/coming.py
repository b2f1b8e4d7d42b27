"""Views whose full capability arrives in a later release: each says what it will hold and offers what already
works, so none is a dead end."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop.ui.common import button, heading, paragraph


class ComingView(QWidget):
    def __init__(self, title: str, description: str, actions: list[tuple[str, str, Callable[[], None]]]) -> None:
        super().__init__()
        self.setAccessibleName(title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(heading(title))
        self.description = paragraph(description)
        layout.addWidget(self.description)
        for text, name, slot in actions:
            layout.addWidget(button(text, name, slot))
        layout.addStretch(1)
