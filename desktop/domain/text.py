"""Text analysis for search and matching in every script Osler's people write in.

``words()`` cuts text at Unicode word boundaries, keeping combining marks inside the word: Python's ``\\w``
leaves out the vowel signs and viramas of Devanagari and Bengali (categories Mn and Mc), so "किताब" would fall
apart into three letters, and an Arabic word with its harakat into pieces. ``fold()`` makes the forms people
type interchangeable, language by language, and only where the language treats them as the same word:

- every script: NFKC, case folding, joiners and bidi controls removed, native digits as ASCII digits;
- Latin (and Greek, Cyrillic): accents dropped ("pédiatrie" = "pediatrie"), Hausa's hooked letters as their
  plain ones (ɓ ɗ ƙ ƴ typed as b d k y);
- Arabic script: harakat, Quranic marks and tatweel dropped, alef forms (أ إ آ ٱ) as ا, ى and Persian ی as ي,
  Persian/Urdu ک as ك, ة and Urdu's ہ ھ ۀ as ه, Urdu's ے as ي;
- Devanagari: the nukta, which Hindi writers often leave out (ज़ = ज).
Indic vowel signs and Ethiopic syllables are never touched: they make a different word.

``stem()`` uses a real Snowball stemmer where one exists for the language (en, fr, es, pt, ar, fa, hi); other
languages (ur, sw, bn, am, ha) are left unstemmed rather than cut by another language's rules. The language
of a text is the one the caller knows (``lang``), else ``guess_language()``: the script, and for Latin script
a count of each language's most common short words; when that says nothing the text is not stemmed.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Word characters: ``\w`` (letters, digits) plus the combining marks it leaves out (Latin accents
# in decomposed text, Arabic harakat, all of the Indic blocks' signs, Ethiopic's marks) and the zero-width
# joiners Persian and the Indic scripts write inside words. Dandas (।॥) end a word.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0711\u0730-\u074a"
    "\u0900-\u0963\u0966-\u0dff\u135d-\u135f\u1ab0-\u1aff\u1dc0-\u1dff\u200c\u200d\u20d0-\u20ff\ufe20-\ufe2f"
)
_WORD = re.compile(rf"[\w{_MARKS}]+")  # underscores are turned into spaces first

_ZWNJ_ARABIC = re.compile("(?<=[\u0600-\u06ff])\u200c|\u200c(?=[\u0600-\u06ff])")
_DROP = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"  # Latin/Greek/Cyrillic accents
    "\u064b-\u065f\u0670\u06d6-\u06ed\u0640"  # Arabic harakat, superscript alef, Quranic marks, tatweel
    "\u093c"  # Devanagari nukta
    "\u00ad\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"  # soft hyphen, zero-width and bidi controls
)
_SAME = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",  # alef forms
        "ى": "ي", "ی": "ي", "ے": "ي", "ۓ": "ي",  # yeh: Arabic, Persian, Urdu (barree)
        "ک": "ك",  # keheh (Persian/Urdu kaf)
        "ة": "ه", "ہ": "ه", "ھ": "ه", "ۀ": "ه", "ە": "ه",  # teh marbuta, Urdu heh goal and do-chashmi
        "ɓ": "b", "ɗ": "d", "ƙ": "k", "ƴ": "y", "ʼ": "'",  # Hausa's hooked letters as people type them
        **{chr(base + d): str(d) for base in (0x660, 0x6F0, 0x966, 0x9E6, 0x1369 - 1) for d in range(1, 10)},
        **{chr(base): "0" for base in (0x660, 0x6F0, 0x966, 0x9E6)},
    }
)  # fmt: skip

LANGUAGES = ("en", "fr", "es", "pt", "ar", "fa", "ur", "sw", "hi", "bn", "am", "ha")
_SNOWBALL = {"en": "english", "fr": "french", "es": "spanish", "pt": "portuguese", "ar": "arabic", "fa": "persian",
             "hi": "hindi"}  # fmt: skip
STEMMED = frozenset(_SNOWBALL)

# Each Latin-script language's commonest short words, enough to tell which one a sentence is in.
_FUNCTION_WORDS = {
    "en": "the and of in with for on to from a an is are my about at by",
    "fr": "le la les des du de et en dans pour sur avec une un au aux chez est mes",
    "es": "el la los las del de y en con para por una un al es mis sobre",
    "pt": "o a os as da do das dos de e em com para por uma um no na nos nas meus sobre",
    "sw": "na ya wa za kwa katika cha vya la kwenye ni au hasa pamoja",
    "ha": "da na ta ga a cikin kan akan wajen game shi ita kuma ko wanda masu",
}
_FUNCTION = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_WORD_LANGUAGES: dict[str, list[str]] = {}  # function word → the languages it is one in
for _lang, _words in _FUNCTION.items():
    for _word in _words:
        _WORD_LANGUAGES.setdefault(_word, []).append(_lang)
_ARABIC_LETTERS = {"fa": frozenset("پچژگ"), "ur": frozenset("ٹڈڑںےھہ")}


def words(text: str) -> list[str]:
    """The words of ``text`` as written (no folding), combining marks kept inside each word. In Arabic script
    a zero-width non-joiner separates words as a space does: Persian writes "بیماری‌های" where others type
    "بیماری های"."""
    if "_" in text:
        text = text.replace("_", " ")
    return _WORD.findall(_ZWNJ_ARABIC.sub(" ", text) if "\u200c" in text else text)


@functools.lru_cache(maxsize=65_536)
def fold(word: str) -> str:
    """``word`` (or any text) in the form matching compares: see the module's docstring for what is folded."""
    text = unicodedata.normalize("NFKC", word).casefold().translate(_SAME)
    return unicodedata.normalize("NFC", _DROP.sub("", unicodedata.normalize("NFD", text)))


def tokens(text: str) -> list[str]:
    """The folded words of ``text``."""
    return [f for f in (fold(w) for w in words(text)) if f]


_SCRIPTS = {
    "latin": re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]"),
    "arabic": re.compile(
        "[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc]"
    ),
    "devanagari": re.compile("[\u0900-\u097f\ua8e0-\ua8ff]"),
    "bengali": re.compile("[\u0980-\u09ff]"),
    "ethiopic": re.compile("[\u1200-\u139f\u2d80-\u2ddf\uab00-\uab2f]"),
}


@functools.lru_cache(maxsize=4096)
def script(text: str) -> str:
    """The script most of ``text``'s letters are in: latin, arabic, devanagari, bengali, ethiopic or other."""
    present = [name for name, pattern in _SCRIPTS.items() if pattern.search(text)]
    if len(present) <= 1:
        return present[0] if present else "other"
    counts = {name: len(_SCRIPTS[name].findall(text)) for name in present}
    return max(counts, key=lambda k: counts[k])


@functools.lru_cache(maxsize=16_384)
def guess_language(text: str, hint: str | None = None) -> str | None:
    """The language ``text`` is most likely written in, or None when its words do not say. ``hint`` (e.g. the
    writer's UI language) wins whenever it is written in the text's script."""
    found = script(text)
    if found == "devanagari":
        return "hi"
    if found == "bengali":
        return "bn"
    if found == "ethiopic":
        return "am"
    if found == "arabic":
        if hint in ("ar", "fa", "ur"):
            return hint
        letters = set(text)
        if letters & _ARABIC_LETTERS["ur"]:
            return "ur"
        return "fa" if letters & _ARABIC_LETTERS["fa"] or "ی" in letters or "ک" in letters else "ar"
    if found != "latin":
        return None
    if hint in _FUNCTION:
        return hint
    scores = dict.fromkeys(_FUNCTION, 0)
    for word in words(text):
        for lang in _WORD_LANGUAGES.get(fold(word), ()):
            scores[lang] += 1
    best = max(scores, key=lambda k: scores[k])
    ranked = sorted(scores.values(), reverse=True)
    return best if ranked[0] > 0 and ranked[0] > ranked[1] else None


_SCRIPT_STEMMED = {"latin": ("en", "fr", "es", "pt"), "arabic": ("ar", "fa"), "devanagari": ("hi",)}


def stem_languages(text: str, lang: str | None = None) -> tuple[str, ...]:
    """The languages whose stemmer to try on ``text``: its own when known (``lang``, else guessed) and it has
    one, else every stemmed language of its script. Arabic script always gets both the Arabic and the Persian
    stemmer: the two languages' words travel into each other's text, and Urdu has none of its own."""
    kind = script(text)
    if kind == "arabic":
        return ("ar", "fa")
    guessed = lang or guess_language(text)
    return (guessed,) if guessed in _SNOWBALL else _SCRIPT_STEMMED.get(kind, ())


@functools.cache
def _stemmer(lang: str):  # -> snowballstemmer.Stemmer (no type hints in the package)
    import snowballstemmer  # here: only the first search or match pays for its import

    return snowballstemmer.stemmer(_SNOWBALL[lang])


@functools.lru_cache(maxsize=65_536)
def stem(word: str, lang: str | None) -> str:
    """The folded stem of ``word`` (as written, or folded) in ``lang`` by that language's Snowball stemmer;
    the folded word itself for a language without one (or None: not known). Latin-script languages are stemmed
    after folding, so a word typed without its accents meets the word written with them; Arabic, Persian and
    Hindi before folding, as their stemmers expect their own letters."""
    folded = fold(word)
    if lang not in _SNOWBALL or len(folded) < 3 or folded.isdigit():
        return folded
    source = folded if lang in _FUNCTION else unicodedata.normalize("NFC", word).casefold()
    stemmed = _stemmer(lang).stemWord(source)
    if lang == "ar":  # Snowball's Arabic takes the article or a suffix per pass ("الملاريا" → "ملاريا" →
        for _ in range(3):  # "ملاري"): stemming until nothing changes makes both forms meet
            source, stemmed = stemmed, _stemmer(lang).stemWord(stemmed)
            if stemmed == source:
                break
    return fold(stemmed) or folded
