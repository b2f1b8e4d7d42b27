"""The fonts Osler brings for the scripts a system may lack: Ethiopic (Amharic), Bengali, Devanagari (Hindi),
Arabic (Arabic, Persian) and Nastaliq (Urdu), subsets of Noto under ``desktop/assets/fonts/`` (made by
``packaging/subset_fonts.py``; OFL, see ``OFL.txt`` there).

They hold only their script's letters, digits and punctuation, so they are registered as fallbacks behind the
system's UI font: Latin text keeps the system font, and a character that font lacks (Amharic on a European
Windows, Bengali on a bare Linux) is drawn by the bundled font rather than as a box. Urdu is written in Nastaliq,
a style no UI font has, so in Urdu the Nastaliq font comes first. That one is modified (a wider space, see
packaging/subset_fonts.py) and so named "Osler Nastaliq Urdu", which no system copy can shadow."""

from __future__ import annotations

import logging
from pathlib import Path

from babel import Locale
from PySide6.QtGui import QFont, QFontDatabase, QFontInfo, QGuiApplication

log = logging.getLogger(__name__)

FOLDER = Path(__file__).resolve().parent.parent / "assets" / "fonts"
# file stem -> the family it registers, in the order fallbacks are tried
BUNDLED = {
    "NotoSansArabic-Regular": "Noto Sans Arabic",
    "NotoSansEthiopic-Regular": "Noto Sans Ethiopic",
    "NotoSansBengali-Regular": "Noto Sans Bengali",
    "NotoSansDevanagari-Regular": "Noto Sans Devanagari",
    "OslerNastaliqUrdu-Regular": "Osler Nastaliq Urdu",
}
FIRST_FOR = {"ur": "Osler Nastaliq Urdu"}  # languages whose usual style no UI font has

_registered: list[str] = []
_base: list[str] = []  # the UI font's own families, as the OS set them before Osler added its fallbacks


def register() -> list[str]:
    """Add the bundled fonts to Qt's database (once per process); the families it now knows."""
    if not _registered:
        for stem in BUNDLED:
            path = FOLDER / f"{stem}.ttf"
            font_id = QFontDatabase.addApplicationFont(str(path))
            if font_id < 0:
                log.warning("could not load the bundled font %s", path)
                continue
            _registered.extend(f for f in QFontDatabase.applicationFontFamilies(font_id) if f not in _registered)
    return list(_registered)


def apply_fonts(app: QGuiApplication, locale: Locale) -> None:
    """The application font for ``locale``: the OS's UI font with the bundled scripts behind it."""
    families = register()
    font = QFont(app.font())
    if not _base:  # the family the OS's font resolves to: an alias ("Sans Serif") would let a bundled font lead
        _base.append(QFontInfo(font).family())
    first = FIRST_FOR.get(locale.language)
    order = [first] if first in families else []
    order += _base + [f for f in families if f not in order]
    if font.families() != order:
        font.setFamilies(order)
        app.setFont(font)
