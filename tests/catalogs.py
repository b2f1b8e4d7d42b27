"""Catalogs written for a test: a compiled ``.mo`` (and its ``.po``) under a temporary locales folder, for a
language whose real catalog may not exist yet, or with a deliberately broken entry."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po


def write_catalog(folder: Path, tag: str, entries: dict[str, str] | None = None) -> Path:
    """``folder/tag/LC_MESSAGES/osler.{po,mo}`` holding ``entries`` (msgid -> msgstr); returns the .po path."""
    catalog = Catalog(locale=tag, domain="osler")
    for msgid, msgstr in (entries or {}).items():
        catalog.add(msgid, msgstr)
    target = folder / tag / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with (target / "osler.po").open("wb") as handle:
        write_po(handle, catalog)
    with (target / "osler.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return target / "osler.po"
