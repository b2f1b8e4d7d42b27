"""Composition root: builds the vault window and wires it; nothing else creates long-lived objects."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import platformdirs

from desktop import i18n


def default_data_dir() -> Path:
    return Path(os.environ.get("OSLER_DATA_DIR") or platformdirs.user_data_path("Osler", appauthor=False))


def choose_locale(requested: str | None, system_name: str) -> str:
    """The requested language, else the system's when Osler has a catalog for it, else English."""
    available = i18n.available_locales()
    for candidate in (requested, system_name, system_name.split("_")[0]):
        if candidate and candidate in available:
            return candidate
    return i18n.SOURCE_LOCALE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="osler", description="Osler: mentorship for medical students.")
    parser.add_argument("--data-dir", type=Path, default=None, help="folder holding the vault")
    parser.add_argument("--locale", default=os.environ.get("OSLER_LOCALE"), help="UI language, e.g. fr")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from PySide6.QtCore import QLocale, Qt
    from PySide6.QtWidgets import QApplication

    from desktop.ui.vault_window import VaultWindow

    app = QApplication(sys.argv[:1])
    app.setApplicationName("Osler")
    locale = i18n.set_locale(choose_locale(args.locale, QLocale.system().name()))
    if i18n.is_rtl(locale):
        app.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    window = VaultWindow((args.data_dir or default_data_dir()) / "vault")
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
