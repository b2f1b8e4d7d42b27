"""The visual system: every palette meets WCAG 2.2 AA contrast (the high-contrast one AAA for text), every
foreground the stylesheet draws on a background is one of the checked pairs, the theme chosen in Settings
applies at once and comes back at the next start, and "system" follows the OS's light or dark scheme."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from desktop.app import OslerApp
from desktop.ui import theme
from desktop.vault import KdfParams
from tests.pages import AppPage

PASSPHRASE = "violet harbour lantern"


def ratio(p: theme.Palette, fg: str, bg: str) -> float:
    return theme.contrast_ratio(getattr(p, fg), getattr(p, bg))


def test_contrast_formula_matches_wcag_examples() -> None:
    assert theme.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert theme.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss


@pytest.mark.parametrize("name", sorted(theme.PALETTES))
def test_every_pair_in_every_palette_meets_wcag_aa(name: str) -> None:
    p = theme.PALETTES[name]
    text_floor = 7.0 if name == "contrast" else 4.5  # high contrast goes to AAA for text
    weak = [f"{fg} on {bg}: {ratio(p, fg, bg):.2f}:1" for fg, bg in theme.TEXT_PAIRS if ratio(p, fg, bg) < text_floor]
    weak += [f"{fg} on {bg}: {ratio(p, fg, bg):.2f}:1" for fg, bg in theme.NON_TEXT_PAIRS if ratio(p, fg, bg) < 3.0]
    assert weak == []


@pytest.mark.parametrize("name", sorted(theme.PALETTES))
def test_the_stylesheet_only_pairs_colours_that_were_checked(name: str) -> None:
    """Each rule that sets both a text colour and a background uses a pair from the checked lists."""
    p = theme.PALETTES[name]
    by_value: dict[str, set[str]] = {}
    for field in theme.Palette.__dataclass_fields__:
        if field != "name":
            by_value.setdefault(getattr(p, field), set()).add(field)
    checked = set(theme.TEXT_PAIRS)
    for rule in re.findall(r"\{([^{}]*)\}", theme.stylesheet(p)):
        fg = re.search(r"(?<![-\w])color:\s*(#[0-9a-f]{6})", rule)
        bg = re.search(r"background:\s*(#[0-9a-f]{6})", rule)
        if fg and bg:
            pairs = {(f, b) for f in by_value[fg.group(1)] for b in by_value[bg.group(1)]}
            assert pairs & checked, f"unchecked pair in rule {rule.strip()!r}"
            assert theme.contrast_ratio(fg.group(1), bg.group(1)) >= 4.5


@pytest.mark.parametrize("name", sorted(theme.PALETTES))
def test_the_qt_palette_roles_read(name: str) -> None:
    pal = theme.qpalette(theme.PALETTES[name])
    role = QPalette.ColorRole
    for fg, bg in (
        (role.WindowText, role.Window),
        (role.Text, role.Base),
        (role.ButtonText, role.Button),
        (role.HighlightedText, role.Highlight),
        (role.PlaceholderText, role.Base),
        (role.BrightText, role.Window),
        (role.ToolTipText, role.ToolTipBase),
    ):
        assert theme.contrast_ratio(pal.color(fg).name(), pal.color(bg).name()) >= 4.5, (fg, bg)


def test_focus_ring_is_drawn_on_every_kind_of_control() -> None:
    sheet = theme.stylesheet(theme.LIGHT)
    for control in ("QPushButton:focus", "QLineEdit:focus", "QPlainTextEdit:focus", "QComboBox:focus"):
        assert control in sheet
    assert f"solid {theme.LIGHT.focus}" in sheet


def test_system_follows_the_os_scheme(qapp) -> None:
    hints = QGuiApplication.styleHints()
    before = hints.colorScheme()
    try:
        hints.setColorScheme(Qt.ColorScheme.Dark)
        if hints.colorScheme() != Qt.ColorScheme.Dark:
            pytest.skip("this Qt platform cannot be told a colour scheme")
        assert theme.Theme.of(qapp).apply("system") is theme.DARK
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == theme.DARK.window
        hints.setColorScheme(Qt.ColorScheme.Light)
        assert theme.Theme.of(qapp).palette is theme.LIGHT  # switched with the OS, no restart
    finally:
        hints.setColorScheme(before)
        theme.Theme.of(qapp).apply("system")


def test_high_contrast_chosen_in_settings_applies_at_once_and_after_a_restart(qtbot, tmp_path) -> None:
    app = OslerApp(tmp_path, kdf_params=KdfParams.floor())
    page = AppPage(qtbot, app)
    try:
        page.enter_demo(PASSPHRASE)
        page.open_view("settings")
        settings = page.screen.settings
        combo = settings.theme
        combo.setFocus()
        # typing the first letter picks "High contrast" straight away, as the arrow keys would after passing (and
        # applying, each a restyle of every widget) the light and dark themes on the way
        qtbot.keyClick(combo, Qt.Key.Key_H)
        qapp = QApplication.instance()
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == theme.CONTRAST.window
        assert theme.CONTRAST.focus in qapp.styleSheet()
    finally:
        app.shutdown()
    theme.Theme.of(QApplication.instance()).apply("light")
    again = OslerApp(tmp_path, kdf_params=KdfParams.floor())
    try:
        assert QApplication.instance().palette().color(QPalette.ColorRole.Window).name() == theme.CONTRAST.window
    finally:
        again.shutdown()
        theme.Theme.of(QApplication.instance()).apply("system")
