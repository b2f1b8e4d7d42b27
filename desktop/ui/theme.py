"""Osler's one visual system: palettes (light, dark, high contrast), a type scale, a spacing scale, primary and
secondary buttons and a focus ring everyone can see, applied to the whole app through one palette and one
stylesheet. "system" follows the OS's light or dark scheme (Qt 6 ``QStyleHints.colorScheme``) and changes with it.

Views do not pick colours: they mark a button primary (``primary(button)``) and use the palette roles; an error
line reads ``palette(bright-text)`` (``common.ERROR_STYLE``), which every palette sets to its error colour.
``tests/test_theme.py`` computes the WCAG 2.2 contrast ratio of every foreground/background pair below."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QAbstractButton, QApplication

from desktop.i18n import N_

ICONS = Path(__file__).with_name("icons")
CHOICES = ("system", "light", "dark", "contrast")
CHOICE_LABELS = {
    "system": N_("Follow the system (light or dark)"),
    "light": N_("Light"),
    "dark": N_("Dark"),
    "contrast": N_("High contrast"),
}

# Type scale: multiples of the person's own font size (which the OS sets, 150 % included), never fixed pixels.
TYPE = {"small": 0.9, "body": 1.0, "h3": 1.1, "h2": 1.25, "h1": 1.5}
# Spacing scale in device-independent pixels; margins and paddings take one of these.
SPACE = {"xs": 2, "s": 4, "m": 8, "l": 12, "xl": 16, "xxl": 24}


@dataclass(frozen=True)
class Palette:
    name: str
    window: str  # the page
    surface: str  # fields, lists, tables
    alt_surface: str  # alternate rows, the sidebar
    text: str
    muted: str  # secondary text: placeholders, hints
    border: str  # field and button outlines (non-text contrast, 3:1 against the page)
    button: str
    button_text: str
    primary: str
    on_primary: str
    selection: str
    on_selection: str
    focus: str  # the focus ring
    link: str
    error: str
    success: str
    disabled: str  # disabled text (WCAG exempts it; still kept readable)


LIGHT = Palette(
    name="light",
    window="#f6f7f9",
    surface="#ffffff",
    alt_surface="#eceff3",
    text="#1b1f24",
    muted="#545d69",
    border="#858d99",
    button="#ffffff",
    button_text="#1b1f24",
    primary="#0b5cad",
    on_primary="#ffffff",
    selection="#0b5cad",
    on_selection="#ffffff",
    focus="#c2410c",
    link="#0b5cad",
    error="#b00020",
    success="#1e6b34",
    disabled="#646b75",
)

DARK = Palette(
    name="dark",
    window="#1b1e23",
    surface="#24282e",
    alt_surface="#2b3038",
    text="#e8eaed",
    muted="#b0b7c1",
    border="#7d8795",
    button="#2e343c",
    button_text="#e8eaed",
    primary="#7ab8ff",
    on_primary="#0d1117",
    selection="#3d6fa8",
    on_selection="#ffffff",
    focus="#ffb347",
    link="#8cc4ff",
    error="#ff8a80",
    success="#81c995",
    disabled="#959ca6",
)

CONTRAST = Palette(
    name="contrast",
    window="#000000",
    surface="#000000",
    alt_surface="#101010",
    text="#ffffff",
    muted="#f0f0f0",
    border="#ffffff",
    button="#000000",
    button_text="#ffffff",
    primary="#ffff00",
    on_primary="#000000",
    selection="#00ffff",
    on_selection="#000000",
    focus="#ffff00",
    link="#00ffff",
    error="#ff9e9e",
    success="#7dff7d",
    disabled="#c8c8c8",
)

PALETTES = {"light": LIGHT, "dark": DARK, "contrast": CONTRAST}

# Every foreground on every background it is drawn on, with the ratio WCAG 2.2 AA asks of it: 4.5:1 for text,
# 3:1 for the outlines of controls and for the focus ring (1.4.11 non-text contrast).
TEXT_PAIRS = (
    ("text", "window"),
    ("text", "surface"),
    ("text", "alt_surface"),
    ("muted", "window"),
    ("muted", "surface"),
    ("muted", "alt_surface"),
    ("button_text", "button"),
    ("on_primary", "primary"),
    ("on_selection", "selection"),
    ("link", "window"),
    ("link", "surface"),
    ("error", "window"),
    ("error", "surface"),
    ("success", "window"),
    ("success", "surface"),
    ("disabled", "window"),
    ("disabled", "surface"),
    ("disabled", "alt_surface"),
)
NON_TEXT_PAIRS = (
    ("border", "window"),
    ("border", "surface"),
    ("focus", "window"),
    ("focus", "surface"),
    ("focus", "button"),
    ("primary", "window"),
)


def relative_luminance(colour: str) -> float:
    """WCAG 2.2's relative luminance of an sRGB ``#rrggbb`` colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(first: str, second: str) -> float:
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def system_is_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def resolve(choice: str) -> Palette:
    """The palette for a Settings choice: "system" is light or dark as the OS says."""
    if choice in PALETTES:
        return PALETTES[choice]
    return DARK if system_is_dark() else LIGHT


def qpalette(p: Palette) -> QPalette:
    pal = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for r, value in (
        (role.Window, p.window),
        (role.WindowText, p.text),
        (role.Base, p.surface),
        (role.AlternateBase, p.alt_surface),
        (role.Text, p.text),
        (role.PlaceholderText, p.muted),
        (role.Button, p.button),
        (role.ButtonText, p.button_text),
        (role.Highlight, p.selection),
        (role.HighlightedText, p.on_selection),
        (role.Link, p.link),
        (role.LinkVisited, p.link),
        (role.BrightText, p.error),
        (role.ToolTipBase, p.surface),
        (role.ToolTipText, p.text),
        (role.Mid, p.border),
        (role.Dark, p.border),
        (role.Accent, p.primary),
    ):
        pal.setColor(r, QColor(value))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(group.Disabled, r, QColor(p.disabled))
    return pal


def stylesheet(p: Palette) -> str:
    """The one stylesheet. Every control keeps the same border width focused or not (the ring is a colour and
    a second pixel taken from the padding), so focusing never moves anything."""
    s = SPACE
    ring = 3 if p.name == "contrast" else 2
    pad = ring - 1  # the ring's extra pixels, taken from the padding while focused
    bv, bh = s["s"] + pad, s["l"] + pad  # a button's padding, vertical and horizontal
    dark_mark = relative_luminance(p.on_primary) < 0.5
    check = (ICONS / ("check-black.svg" if dark_mark else "check-white.svg")).as_posix()
    return f"""
QToolTip {{ color: {p.text}; background: {p.surface}; border: 1px solid {p.border}; padding: {s["s"]}px; }}
QPushButton {{
    background: {p.button}; color: {p.button_text}; border: 1px solid {p.border}; border-radius: 4px;
    padding: {bv}px {bh}px; min-height: 1.3em;
}}
QPushButton:hover {{ background: {p.alt_surface}; }}
QPushButton:checked {{ background: {p.selection}; color: {p.on_selection}; }}
QPushButton:disabled {{ color: {p.disabled}; border-color: {p.disabled}; }}
QPushButton[role="primary"] {{
    background: {p.primary}; color: {p.on_primary}; border-color: {p.primary}; font-weight: bold;
}}
QPushButton[role="primary"]:disabled {{ background: {p.alt_surface}; color: {p.disabled}; }}
QPushButton:focus {{ border: {ring}px solid {p.focus}; padding: {bv - pad}px {bh - pad}px; }}
QLineEdit, QPlainTextEdit, QTextEdit, QTextBrowser, QComboBox {{
    background: {p.surface}; color: {p.text}; border: 1px solid {p.border}; border-radius: 3px;
    padding: {pad + 2}px; selection-background-color: {p.selection}; selection-color: {p.on_selection};
}}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QTextBrowser:focus, QComboBox:focus {{
    border: {ring}px solid {p.focus}; padding: 2px; }}
QComboBox QAbstractItemView {{
    background: {p.surface}; color: {p.text}; selection-background-color: {p.selection};
    selection-color: {p.on_selection};
}}
QListView, QListWidget, QTableView, QTableWidget, QTreeView {{
    background: {p.surface}; color: {p.text}; alternate-background-color: {p.alt_surface};
    border: 1px solid {p.border}; selection-background-color: {p.selection}; selection-color: {p.on_selection};
}}
QListView:focus, QListWidget:focus, QTableView:focus, QTableWidget:focus, QTreeView:focus {{
    border: {ring}px solid {p.focus};
}}
QListView::item, QListWidget::item {{ padding: {s["s"]}px; }}
QHeaderView::section {{
    background: {p.alt_surface}; color: {p.text}; border: none; border-bottom: 1px solid {p.border};
    padding: {s["s"]}px {s["m"]}px;
}}
QCheckBox::indicator, QAbstractItemView::indicator {{
    width: 0.9em; height: 0.9em; border: 1px solid {p.border}; border-radius: 2px; background: {p.surface};
}}
QCheckBox::indicator:checked, QAbstractItemView::indicator:checked {{
    background: {p.primary}; border-color: {p.primary}; image: url({check});
}}
QCheckBox::indicator:disabled {{ border-color: {p.disabled}; }}
QCheckBox:focus, QRadioButton:focus {{ outline: none; border: {ring}px solid {p.focus}; border-radius: 3px; }}
QCheckBox, QRadioButton {{ border: {ring}px solid transparent; padding: 1px; }}
QProgressBar {{
    background: {p.surface}; color: {p.text}; border: 1px solid {p.border}; border-radius: 3px; text-align: center;
}}
QProgressBar::chunk {{ background: {p.selection}; }}
QSplitter::handle {{ background: {p.alt_surface}; }}
QSplitter::handle:focus, QSplitter::handle:hover {{ background: {p.border}; }}
QScrollArea, QScrollArea > QWidget > QWidget#scrolled {{ background: transparent; border: none; }}
QStatusBar {{ background: {p.alt_surface}; border-top: 1px solid {p.border}; }}
QListWidget#navigation {{
    background: {p.alt_surface}; border: none; border-right: 1px solid {p.border}; padding-top: {s["m"]}px;
}}
QListWidget#navigation::item {{ padding: {s["m"]}px {s["l"]}px; border-radius: 4px; margin: 1px {s["s"]}px; }}
QListWidget#navigation::item:selected {{ background: {p.selection}; color: {p.on_selection}; }}
QListWidget#navigation:focus {{ border: {ring}px solid {p.focus}; }}
QLabel[role="hint"] {{ color: {p.muted}; }}
QLabel[role="error"] {{ color: {p.error}; }}
"""


def primary(button: QAbstractButton) -> QAbstractButton:
    """Mark the one action a screen is for; the others stay secondary."""
    button.setProperty("role", "primary")
    button.setDefault(False)
    return button


class Theme(QObject):
    """Applies a Settings choice to the app and, for "system", follows the OS when it switches."""

    changed = Signal(object)  # the Palette now in force: icons are drawn again in its colours

    def __init__(self, app: QApplication, choice: str = "system") -> None:
        super().__init__(app)
        self.app = app
        self.choice = choice if choice in CHOICES else "system"
        self.palette = LIGHT
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._scheme_changed)

    @classmethod
    def of(cls, app: QApplication) -> Theme:
        """The app's one theme, made on first use."""
        theme = app.findChild(Theme)
        return theme if theme is not None else cls(app)

    def apply(self, choice: str | None = None) -> Palette:
        if choice is not None:
            self.choice = choice if choice in CHOICES else "system"
        self.palette = resolve(self.choice)
        if self.app.style().name().lower() != "fusion":
            self.app.setStyle("Fusion")  # the same look on every OS; native styles ignore parts of a palette
        self.app.setPalette(qpalette(self.palette))
        self.app.setStyleSheet(stylesheet(self.palette))
        self.changed.emit(self.palette)
        return self.palette

    def _scheme_changed(self, _scheme: object) -> None:
        if self.choice == "system":
            self.apply()


def current(app: QApplication | None = None) -> Palette:
    """The palette in force (for painting code such as the progress chart)."""
    app = app or QApplication.instance()
    theme = app.findChild(Theme) if app is not None else None
    return theme.palette if theme is not None else LIGHT
