"""Checks that keep the catalogs true, for tests/test_i18n.py and ``make i18n-report``: every ``{placeholder}`` of
a message appears in its translation (and in each plural form), nothing is untranslated or fuzzy, and a catalog
has as many plural forms as Babel's plural rule for its language (Arabic six, French three) in its header and in
every plural entry. ``python -m desktop.catalog_check`` prints the per-language table."""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from desktop.i18n import DOMAIN, LOCALES_DIR, SOURCE_LOCALE, UI_LANGUAGES, language_name

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass(frozen=True)
class Problem:
    kind: str  # placeholder, untranslated, fuzzy, plural-forms
    message: str  # the msgid (or "" for the header)
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.message!r} {self.detail}".rstrip()


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def catalog_path(tag: str, folder: Path | None = None) -> Path:
    return (folder or LOCALES_DIR) / tag / "LC_MESSAGES" / f"{DOMAIN}.po"


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def check_catalog(path: Path) -> list[Problem]:
    """Every problem of one ``.po`` file (an empty list when it is complete and consistent)."""
    catalog = read_catalog(path)
    problems: list[Problem] = []
    wanted = get_plural(str(catalog.locale)).num_plurals if catalog.locale else catalog.num_plurals
    if catalog.num_plurals != wanted:
        problems.append(Problem("plural-forms", "", f"header has {catalog.num_plurals}, Babel's rule has {wanted}"))
    for message in catalog:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        strings = (message.string,) if isinstance(message.string, str) else tuple(message.string or ())
        label = ids[0]
        if message.fuzzy:
            problems.append(Problem("fuzzy", label))
        if not any(strings):
            problems.append(Problem("untranslated", label))
            continue
        if len(ids) > 1 and (len(strings) != wanted or not all(strings)):
            problems.append(Problem("plural-forms", label, f"{sum(1 for s in strings if s)} of {wanted} forms"))
        needed = set().union(*(_placeholders(i) for i in ids))  # in every form, plural ones included
        for form in filter(None, strings):
            found = _placeholders(form)
            if found != needed:
                missing, unknown = needed - found, found - needed
                problems.append(Problem("placeholder", label, f"missing {sorted(missing)}, unknown {sorted(unknown)}"))
    return problems


@dataclass(frozen=True)
class Row:
    tag: str
    name: str
    translated: int
    total: int
    fuzzy: int
    direction: str

    @property
    def percent(self) -> float:
        return 100.0 * self.translated / self.total if self.total else 100.0


def report_rows(folder: Path | None = None) -> list[Row]:
    """One row per UI language: a missing catalog counts 0 translated of the template's total."""
    folder = folder or LOCALES_DIR
    with (folder / f"{DOMAIN}.pot").open("rb") as handle:
        total = sum(1 for m in read_po(handle) if m.id)
    rows = []
    for tag in UI_LANGUAGES:
        direction = Locale.parse(tag).text_direction
        if tag == SOURCE_LOCALE:
            rows.append(Row(tag, language_name(tag), total, total, 0, direction))
            continue
        path = catalog_path(tag, folder)
        translated = fuzzy = 0
        if path.is_file():
            for message in read_catalog(path):
                if not message.id:
                    continue
                strings = (message.string,) if isinstance(message.string, str) else tuple(message.string or ())
                if message.fuzzy:
                    fuzzy += 1
                elif strings and all(strings):
                    translated += 1
        rows.append(Row(tag, language_name(tag), translated, total, fuzzy, direction))
    return rows


def _width(text: str) -> int:
    """Columns a terminal gives ``text``: combining marks (Devanagari's, Bengali's vowel signs) take none."""
    return sum(0 if unicodedata.category(c) in ("Mn", "Me", "Cf") else 1 for c in text)


def format_report(rows: list[Row]) -> str:
    header = ("language", "name", "translated", "percent", "fuzzy", "direction")
    table = [header] + [
        (r.tag, r.name, f"{r.translated}/{r.total}", f"{r.percent:.1f} %", str(r.fuzzy), r.direction) for r in rows
    ]
    widths = [max(_width(line[i]) for line in table) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    )


def main() -> int:
    print(format_report(report_rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
