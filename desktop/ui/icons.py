"""Osler's bundled icons (``desktop/ui/icons/*.svg``, drawn for Osler: see ``icons/LICENSE.md``), drawn in the
theme's text colour so they read in light, dark and high contrast alike."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

FOLDER = Path(__file__).with_name("icons")
NAMES = tuple(sorted(p.stem for p in FOLDER.glob("*.svg")))
DIRECTIONAL = frozenset({"send"})  # icons that point the way text runs: mirrored in right-to-left languages


@cache
def _svg(name: str) -> str:
    return (FOLDER / f"{name}.svg").read_text(encoding="utf-8")


@cache
def icon(name: str, colour: str = "#000000", mirrored: bool = False) -> QIcon:
    """The icon ``name`` stroked in ``colour``, sharp at 100 % to 200 % (drawn at 16 to 64 pixels);
    ``mirrored`` left to right, for right-to-left languages."""
    renderer = QSvgRenderer(QByteArray(_svg(name).replace("#000000", colour).encode()))
    result = QIcon()
    for size in (16, 24, 32, 48, 64):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if mirrored:
            painter.translate(size, 0)
            painter.scale(-1, 1)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result


def themed(name: str) -> QIcon:
    """``name`` in the theme's text colour, mirrored when it has a direction and the UI reads right to left."""
    from desktop.ui.theme import current

    rtl = QGuiApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft
    return icon(name, current().text, mirrored=rtl and name in DIRECTIONAL)
