"""A word index for message search in every script: the words of each text folded (``text.fold``) and stemmed
in the text's own language where a stemmer exists, so "pediatrie" finds "pédiatrie", "ملاريا" finds
"الملاريا", and a Hindi or Bengali word keeps its vowel signs. Lives in memory only."""

from __future__ import annotations

from desktop.domain.text import stem, stem_languages, words


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
