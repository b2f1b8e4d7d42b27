"""A controlled vocabulary of medical and research topics in Osler's twelve languages, and free text mapped onto it.

Every ``desktop/assets/topics/*.tsv`` holds topics, one a line: an id, then one cell per language of terms
separated by " | ", the first of which is the topic's name in that language (the format is described in
ARCHITECTURE.md). ``topics_of()`` finds the terms in a person's free text, whatever language either wrote in,
so "paludisme", "ملاريا" and "malaria" all become the topic ``malaria``; ``name()`` says a topic in the reader's
language. Terms are compared folded (``text.fold``: case, accents, Arabic letter forms) as whole-word phrases,
the longest first, and also by their Snowball stems in the languages that have one, so "الملاريا" finds
"ملاريا" and "vaccines" finds "vaccine". The files are read once, on first use (a programme that never matches
never pays for them), and a language's stems the first time a text may be in that language.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from desktop.domain.text import LANGUAGES, STEMMED, stem, stem_languages, tokens, words
from desktop.i18n import current_locale

log = logging.getLogger(__name__)
TOPICS_DIR = Path(__file__).resolve().parent.parent / "assets" / "topics"
HEADER = ("id", *LANGUAGES)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
MIN_STEM = 4  # a one-word term matched by its stem needs a stem this long: "sida" must not find "side"


@dataclass
class Vocabulary:
    names: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # id → language → terms
    exact: dict[tuple[str, ...], set[str]] = field(default_factory=dict)  # folded words → ids
    stemmed: dict[str, dict[tuple[str, ...], set[str]]] = field(default_factory=dict)  # language → stems → ids
    longest: int = 1  # words in the longest term
    starts: set[str] = field(default_factory=set)  # the first word of every term, folded or stemmed

    def add(self, topic: str, cells: dict[str, tuple[str, ...]]) -> None:
        self.names[topic] = cells
        for terms in cells.values():
            for term in terms:
                key = tuple(tokens(term))
                if not key:
                    continue
                self.exact.setdefault(key, set()).add(topic)
                self.starts.add(key[0])
                self.longest = max(self.longest, len(key))

    def stems(self, lang: str) -> dict[tuple[str, ...], set[str]]:
        """The terms of ``lang`` by their stems, built the first time a text may be in ``lang``: Snowball in
        pure Python is most of the vocabulary's load time, and a directory written in English and French never
        needs the Arabic or Hindi stems."""
        found = self.stemmed.get(lang)
        if found is None:
            found = self.stemmed[lang] = {}
            for topic, cells in self.names.items():
                for term in cells.get(lang, ()):
                    stems = tuple(stem(w, lang) for w in words(term))
                    if stems and (len(stems) > 1 or len(stems[0]) >= MIN_STEM):
                        found.setdefault(stems, set()).add(topic)
                        self.starts.add(stems[0])
        return found

    def find(self, text: str, lang: str | None = None) -> set[str]:
        """The topics whose terms ``text`` contains (``lang``: the language it is written in, when known)."""
        raw = words(text)
        folded = tokens(" ".join(raw))
        if len(folded) != len(raw):  # a word that folds to nothing (a lone mark): keep the two lists aligned
            raw = [w for w in raw if tokens(w)]
            folded = tokens(" ".join(raw))
        indexes = {c: self.stems(c) for c in stem_languages(text, lang) if c in STEMMED}
        stemmed = {c: [stem(w, c) for w in raw] for c in indexes}
        found: set[str] = set()
        i = 0
        while i < len(folded):
            if folded[i] not in self.starts and all(stems[i] not in self.starts for stems in stemmed.values()):
                i += 1  # no term starts with this word: most words of a text
                continue
            for length in range(min(self.longest, len(folded) - i), 0, -1):
                hits = set(self.exact.get(tuple(folded[i : i + length]), ()))
                for c, stems in stemmed.items():
                    hits |= indexes[c].get(tuple(stems[i : i + length]), set())
                if hits:
                    found |= hits
                    i += length
                    break
            else:
                i += 1
        return found

    def name(self, topic: str, lang: str | None = None) -> str:
        """``topic``'s name in ``lang`` (default: the UI language), else in English, else its id."""
        cells = self.names.get(topic, {})
        lang = lang or current_locale().language
        for language in (lang, "en"):
            if cells.get(language):
                return cells[language][0]
        return topic


def read(folder: Path) -> Vocabulary:
    """Every ``*.tsv`` in ``folder``. A line that breaks the format is skipped with a warning naming its file
    and line, never a crash; an id seen in an earlier file keeps that file's terms."""
    vocabulary = Vocabulary()
    for path in sorted(folder.glob("*.tsv")):
        header_seen = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if not header_seen:
                header_seen = True
                if tuple(c.strip() for c in cells) != HEADER:
                    log.warning("%s: the header is not %s; file skipped", path.name, " ".join(HEADER))
                    break
                continue
            topic = cells[0].strip()
            if len(cells) != len(HEADER) or not _ID.match(topic):
                log.warning("%s:%d: not an id and %d language cells; line skipped", path.name, number, len(LANGUAGES))
                continue
            if topic in vocabulary.names:
                log.warning("%s:%d: topic %s is already defined; line skipped", path.name, number, topic)
                continue
            terms = {
                lang: tuple(t.strip() for t in cell.split(" | ") if t.strip())
                for lang, cell in zip(LANGUAGES, cells[1:], strict=True)
            }
            vocabulary.add(topic, terms)
    return vocabulary


@functools.cache
def vocabulary(folder: Path = TOPICS_DIR) -> Vocabulary:
    """The vocabulary Osler ships, read on first use and kept for the life of the process."""
    return read(folder)


@functools.lru_cache(maxsize=16_384)
def topics_of(text: str, lang: str | None = None) -> frozenset[str]:
    """The topics ``text`` names (kept per text: a directory's cards are read again after every sync)."""
    return frozenset(vocabulary().find(text, lang))


def name(topic: str, lang: str | None = None) -> str:
    return vocabulary().name(topic, lang)


def similarity(mine: Iterable[str], theirs: Iterable[str]) -> tuple[float, list[str]]:
    """(cosine of two sets of topics, 0..1; the topics they share, sorted)."""
    a, b = set(mine), set(theirs)
    shared = sorted(a & b)
    if not shared:
        return 0.0, []
    return len(shared) / math.sqrt(len(a) * len(b)), shared
