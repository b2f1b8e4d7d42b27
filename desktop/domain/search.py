"""A word index for message search in every script: the words of each text folded (``text.fold``) and stemmed
in the text's own language where a stemmer exists, so "pediatrie" finds "pédiatrie", "ملاريا" finds
"الملاريا", and a Hindi or Bengali word keeps its vowel signs. Lives in memory only."""

from __future__ import annotations

import functools

from desktop.domain import topics
from desktop.domain.directory import Card
from desktop.domain.text import stem, stem_languages, tokens, words


class WordIndex:
    def __init__(self) -> None:
        self.ids: dict[str, set[str]] = {}  # folded word or stem → the ids of the texts that have it

    def add(self, key: str, text: str) -> None:
        languages = stem_languages(text)
        for word in words(text):
            folded = stem(word, None)
            if len(folded) < 2:
                continue
            self.ids.setdefault(folded, set()).add(key)
            for lang in languages:
                self.ids.setdefault(stem(word, lang), set()).add(key)

    def find(self, query: str) -> set[str]:
        """The ids of texts that contain every word of ``query``, each as written, folded or stemmed, and as a
        prefix of a longer word (typing "epidem" finds "epidemiology")."""
        languages = stem_languages(query)
        hits: set[str] | None = None
        for word in words(query):
            folded = stem(word, None)
            if len(folded) < 2:
                continue
            prefixes = {folded, *(s for s in (stem(word, lang) for lang in languages) if len(s) >= 2)}
            found = set().union(*(ids for w, ids in self.ids.items() if w.startswith(tuple(prefixes))))
            hits = found if hits is None else hits & found
            if not hits:
                return set()
        return hits or set()


@functools.lru_cache(maxsize=16_384)
def _folded(text: str) -> str:  # kept per card text: the filter runs over every card at every keystroke
    return " ".join(tokens(text))


def card_matches(card: Card, query: str, place: tuple[str, ...] = ()) -> bool:
    """Whether a directory card answers what someone typed in the mentor search box: every word of ``query``
    within its folded text (name, bio, ``place``, specialties, interests; "pediatrie" finds "Pédiatrie"), or
    every topic the query names among the topics of its interests, whatever language each is written in
    ("paludisme" finds "Homa ya malaria")."""
    wanted = tokens(query)
    if not wanted:
        return True
    haystack = _folded(" ".join((card.name, card.bio, *place, *card.specialties, *card.interests)))
    if all(word in haystack for word in wanted):
        return True
    named = topics.topics_of(query)
    return bool(named) and named <= topics.topics_of(" \n ".join(card.interests))
