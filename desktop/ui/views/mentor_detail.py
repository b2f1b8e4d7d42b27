"""The selected mentor's card beside the directory, with why they were suggested and the buttons to write to them
or ask them to be one's mentor."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.domain import topics
from desktop.domain.directory import Card
from desktop.domain.matching import ABOUT_A_PAIR
from desktop.formatting import format_number
from desktop.i18n import _
from desktop.ui.layout import scrolling
from desktop.ui.views.mentor_models import language_name, local_time_line, place_line, specialty_name
from sync.clock import SYSTEM, Clock, utcnow


class MentorDetail(QWidget):
    write_to = Signal(str)
    ask = Signal(str)

    def __init__(self, clock: Clock = SYSTEM, students: bool = False) -> None:
        super().__init__()
        self.clock = clock
        self.card: Card | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.detail.setAccessibleName(_("Student details") if students else _("Mentor details"))
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(scrolling(self.detail), 1)  # a long card scrolls, at 200 % too
        self.write_button = QPushButton(_("&Write to this student") if students else _("&Write to this mentor"))
        self.write_button.setAccessibleName(_("Write to this student") if students else _("Write to this mentor"))
        self.write_button.setEnabled(False)
        self.write_button.clicked.connect(lambda: self.card and self.write_to.emit(self.card.account))
        layout.addWidget(self.write_button)
        self.ask_button = QPushButton(_("As&k to be my mentor"))
        self.ask_button.setAccessibleName(_("Ask to be my mentor"))
        self.ask_button.setEnabled(False)
        self.ask_button.clicked.connect(lambda: self.card and self.ask.emit(self.card.account))
        layout.addWidget(self.ask_button)
        self.ask_button.setVisible(not students)

    def show_card(self, card: Card | None, suggestion=None) -> None:  # type: ignore[no-untyped-def]
        self.card = card
        self.write_button.setEnabled(card is not None)
        self.ask_button.setEnabled(card is not None)
        if card is None:
            self.detail.clear()
            return
        speaks = _("Speaks: {languages}").format(languages=", ".join(language_name(t) for t in card.languages))
        interests = _("Interests: {interests}").format(interests=", ".join(card.interests))
        place = place_line(card.specialties, card.city, card.country)
        lines = [
            f"<h3>{card.name}</h3>",
            f"<p>{place}</p>",
            f"<p>{local_time_line(card.tz, utcnow(self.clock))}</p>",
            f"<p>{speaks}</p>",
            f"<p>{interests}</p>",
            f"<p>{card.bio}</p>",
        ]
        if suggestion is not None:
            why = _("Why this mentor (score {score}):").format(score=format_number(suggestion.score, 1))
            lines.insert(1, f"<p>{why}</p>")
            for position, reason in enumerate(suggestion.reasons, start=2):
                lines.insert(position, f"<p>• {reason_line(reason.text, reason.values)}</p>")
        self.detail.setText("".join(_escape_keep_tags(line) for line in lines))


def reason_line(text: str, values: dict[str, object], about_a_pair: bool = False) -> str:
    """One part of a match score in words, in the person's language (language codes by their names); said to
    the student, or ``about_a_pair`` for someone else (an admin, the mentor introduced)."""
    if about_a_pair:
        text = ABOUT_A_PAIR.get(text, text)
    shown = {k: _shown(k, v) for k, v in values.items()}
    if isinstance(values.get("topics"), list):  # topic ids, named in the reader's language
        shown["topics"] = ", ".join(topics.name(str(t)) for t in values["topics"])
    try:
        return _(text).format(**shown)
    except (KeyError, IndexError, ValueError):
        return _(text)


def _shown(name: str, value: object) -> object:
    """A reason's value as the reader's language writes it: language codes by name, numbers by Babel (a
    similarity of 0.53 reads "0,53" in French, like every other number on the screen)."""
    if isinstance(value, list):
        return ", ".join(language_name(str(t)) for t in value)
    if name == "specialty" and isinstance(value, str):
        return specialty_name(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return format_number(value, 2)
    if isinstance(value, int):
        return format_number(value)
    return value


def _escape_keep_tags(line: str) -> str:
    """Card text comes from other people: escape it, keep only our own wrapping tags."""
    for tag in ("h3", "p"):
        if line.startswith(f"<{tag}>") and line.endswith(f"</{tag}>"):
            return f"<{tag}>{html.escape(line[len(tag) + 2 : -len(tag) - 3])}</{tag}>"
    return html.escape(line)
