"""Osler's bundled icons (``desktop/ui/icons/*.svg``, drawn for Osler: see ``icons/LICENSE.md``), drawn in the
theme's text colour so they read in light, dark and high contrast alike."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

FOLDER = Path(__file__).with_name("icons")
NAMES = tuple(sorted(p.stem for p in FOLDER.glob("*.svg")))


@cache
def _svg(name: str) -> str:
    return (FOLDER / f"{name}.svg").read_text(encoding="utf-8")


@cache
def icon(name: str, colour: str = "#000000") -> QIcon:
    """The icon ``name`` stroked in ``colour``, sharp at 100 % to 200 % (drawn at 16 to 64 pixels)."""
    renderer = QSvgRenderer(QByteArray(_svg(name).replace("#000000", colour).encode()))
    result = QIcon()
    for size in (16, 24, 32, 48, 64):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result


def themed(name: str) -> QIcon:
    from desktop.ui.theme import current

    return icon(name, current().text)
