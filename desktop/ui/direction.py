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
from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPlainTextEdit, QStyle, QStyledItemDelegate, QStyleOptionViewItem

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


def isolated(text: str, rtl: bool) -> str:
    """``text`` as a directional isolate (LRI/RLI … PDI): inside a paragraph of the other direction it keeps its
    own order, as a UI line ("You · 30/11/2026، 8:26 ص") above a message written in another script."""
    return ("\u2067" if rtl else "\u2066") + text + "\u2069"


def ltr(text: str) -> str:
    """A code, a fingerprint: left to right in every UI (an Arabic window must not reverse its groups)."""
    return isolated(text, rtl=False)


def first_strong_isolated(text: str) -> str:
    """``text`` as a first-strong isolate (FSI … PDI): a name or a date that keeps its own direction and does
    not pull the numbers beside it into its run ("Dr Wanjiru Castillo · 30/11/2026" in an Arabic line)."""
    return "\u2068" + text + "\u2069"


def follow_text_direction(edit: QPlainTextEdit) -> None:
    """Align what is typed in ``edit`` as it will be shown: Arabic on the right, English on the left, in any UI
    (QTextEdit does this itself; QPlainTextEdit orders the text but always aligns it left)."""

    def realign() -> None:
        document = edit.document()
        rtl = text_direction(edit.toPlainText()) == Qt.LayoutDirection.RightToLeft
        wanted = (Qt.AlignmentFlag.AlignRight if rtl else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignAbsolute
        option = document.defaultTextOption()
        if option.alignment() != wanted:
            option.setAlignment(wanted)
            document.setDefaultTextOption(option)

    edit.textChanged.connect(realign)
    realign()


class BidiDelegate(QStyledItemDelegate):
    """Draws each row in the direction of its own text (the model's ``BODY_ROLE`` if it has one, else its
    display text), so a list mixes Arabic and English rows each ordered as written: aligned to that direction's
    leading edge (a conversation's messages), or with ``align_with_ui`` where the UI puts it (the list of
    conversations, the Library's and the mentors' tables: the UI's own columns)."""

    def __init__(self, parent: QObject | None = None, align_with_ui: bool = False) -> None:
        super().__init__(parent)
        self.align_with_ui = align_with_ui

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        body = index.data(BODY_ROLE)
        text = body if isinstance(body, str) else option.text
        ui = option.direction
        option.direction = text_direction(text, ui)
        vertical = Qt.AlignmentFlag(option.displayAlignment & Qt.AlignmentFlag.AlignVertical_Mask)
        if self.align_with_ui:  # where the row would sit in the UI's direction, made absolute
            option.displayAlignment = (
                QStyle.visualAlignment(ui, option.displayAlignment) | Qt.AlignmentFlag.AlignAbsolute
            )
        else:  # leading edge in the row's own direction: the right for an Arabic message, the left for English
            option.displayAlignment = vertical | Qt.AlignmentFlag.AlignLeading

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        """Qt measures a line drawn in a fallback font (Devanagari, Bengali, Ethiopic behind a Latin UI font) a
        pixel or two shorter than it then needs to draw it, and elides a row's last line: 2 px more a line."""
        size = super().sizeHint(option, index)
        lines = max(1, round(size.height() / max(1, option.fontMetrics.lineSpacing())))
        return QSize(size.width(), size.height() + 2 * lines)
