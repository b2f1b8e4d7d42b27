"""Right-to-left: the layout direction of the whole app (from the UI language), and the direction of each piece
of text a person wrote (from the text itself, whatever the UI language).

Qt mirrors layouts, splitters, scroll bars, progress bars and item views by itself once the application's layout
direction is right to left, and reads ``AlignLeft``/``AlignRight`` as leading/trailing unless ``AlignAbsolute``
is added. What it cannot know is the direction of a message: an Arabic message in an English UI is a right-to-left
paragraph, right-aligned, and an English message in an Arabic UI a left-to-right one. ``text_direction`` decides
that from the first character with a strong direction (the Unicode bidi algorithm's rule P2), and
``BidiDelegate`` draws each row of a list in its own direction. Within the paragraph, Qt's bidi algorithm orders
the runs (a drug name or a URL in an Arabic sentence)."""

from __future__ import annotations

import unicodedata

from babel import Locale
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

STRONG_RTL = {"R", "AL"}
BODY_ROLE = Qt.ItemDataRole.UserRole + 1  # a model's text written by a person, whose direction decides the row's


def layout_direction(locale: Locale) -> Qt.LayoutDirection:
    return Qt.LayoutDirection.RightToLeft if locale.text_direction == "rtl" else Qt.LayoutDirection.LeftToRight


def apply_direction(app: QGuiApplication, locale: Locale) -> None:
    """Mirror the whole app for a right-to-left ``locale`` (every widget follows the application's direction,
    those already shown too), or un-mirror it."""
    app.setLayoutDirection(layout_direction(locale))


def text_direction(text: str, default: Qt.LayoutDirection | None = None) -> Qt.LayoutDirection:
    """The paragraph direction of ``text``: that of its first strongly directional character (Arabic, Hebrew,
    Syriac, Thaana... are right to left; Latin, Ethiopic, Bengali, Devanagari... left to right). Text with none
    (digits, punctuation, empty) takes ``default``, else the application's direction."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in STRONG_RTL:
            return Qt.LayoutDirection.RightToLeft
        if kind == "L":
            return Qt.LayoutDirection.LeftToRight
    if default is not None:
        return default
    return QGuiApplication.layoutDirection()


def text_alignment(text: str) -> Qt.AlignmentFlag:
    """Where ``text`` starts: the right edge for right-to-left text, the left edge otherwise, in any UI."""
    rtl = text_direction(text) == Qt.LayoutDirection.RightToLeft
    return (Qt.AlignmentFlag.AlignRight if rtl else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignAbsolute


class BidiDelegate(QStyledItemDelegate):
    """Draws each row in the direction of its own text (the model's ``BODY_ROLE`` if it has one, else its
    display text), so a list mixes Arabic and English rows each aligned and ordered as written."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        body = index.data(BODY_ROLE)
        text = body if isinstance(body, str) else option.text
        direction = text_direction(text, option.direction)
        option.direction = direction
        vertical = option.displayAlignment & Qt.AlignmentFlag.AlignVertical_Mask
        # leading edge in the row's own direction: the right for an Arabic message, the left for an English one
        option.displayAlignment = Qt.AlignmentFlag(vertical) | Qt.AlignmentFlag.AlignLeading
