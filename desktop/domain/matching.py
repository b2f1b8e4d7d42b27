"""Explainable mentor matching that runs offline on the synced directory, and cohort assignment for admins.

A suggestion first passes hard constraints (a mentor, a shared language, an open place), then earns a weighted
score from parts a person can read: same specialty, research-interest similarity (TF-IDF cosine over interests
and bio, so "neonatal sepsis" finds a mentor who wrote about "sepsis in newborns"), shared languages, hours
online at the same time across time zones, opt-in shared background, and open places. Each part comes with
its sentence. Interests are compared in any script (``text.py``: Unicode words, folding, a Snowball stemmer
only in the text's own language) and across languages through the topic vocabulary (``topics.py``): a student
who writes "paludisme" shares the topic ``malaria`` with the mentor who wrote "ملاريا", and the reason names
it in the reader's language. Cohort assignment for admins is in ``cohort.py``.
"""

from __future__ import annotations

import functools
import heapq
import math
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desktop.domain import topics
from desktop.domain.cohort import assign_cohort, greedy_cohort, min_cost_assignment  # noqa: F401 - re-exported
from desktop.domain.directory import Card
from desktop.domain.text import guess_language, stem, words
from desktop.i18n import N_

DEFAULT_WEIGHTS = {
    "specialty": 3.0,
    "interests": 3.0,
    "language": 1.0,
    "time": 2.0,
    "background": 1.0,
    "load": 1.0,
}
PEER_WEIGHT = 2.0  # what a peer mentor earns from a student who asked for one (not a slider: the student's choice)
PEER_PLACES = 2  # peer mentors kept among a student's suggestions, next to the senior mentors
DEFAULT_WINDOWS = ((18, 22),)
# A shared topic is a coarser sign than shared words (the vocabulary's grain, not the person's own words): it
# earns at most this share of the interests weight, so a mentor who wrote the student's words on the same
# topic ranks above one who only shares the topic.
TOPIC_SHARE = 0.8  # local hours online when a card says nothing: evenings
_SAME_SPECIALTY = N_("Same specialty: {specialty}")
_INTERESTS = N_("Research interests in common: {words} (similarity {similarity})")
_TOPICS = N_("Shared interests: {topics}")  # topic ids, named in the reader's language when shown
_LANGUAGES = N_("Speaks {languages} with you")
_HOURS = N_("Online at the same time as you about {hours} hours a day")
_BACKGROUND = N_("Shared background: {tags}")
_PLACES = N_("{places} open places")
_PEER = N_("Peer mentor: a fellow student a few steps ahead")  # said by introductions from before years
_PEER_YEAR = N_("Peer mentor: a student in year {year}, who speaks {languages} with you")
_PEER_WANTED = N_("Peer mentor: a student in year {year}, as you asked, who speaks {languages} with you")
# The same parts said of a pair rather than to the student (for admins, and for the mentor introduced).
ABOUT_A_PAIR = {
    _LANGUAGES: N_("Both speak {languages}"),
    _HOURS: N_("Online at the same time about {hours} hours a day"),
    _PEER_YEAR: N_("Peer mentor: a student in year {year}; both speak {languages}"),
    _PEER_WANTED: N_("Peer mentor, as the student asked: a student in year {year}; both speak {languages}"),
}
REASON_TEXTS = frozenset(
    (_SAME_SPECIALTY, _INTERESTS, _TOPICS, _LANGUAGES, _HOURS, _BACKGROUND, _PLACES, _PEER, _PEER_YEAR, _PEER_WANTED)
)


def is_mentor(card: Card) -> bool:
    """Mentors, and peer mentors: final-year students whose card offers places to fellow students."""
    return card.role == "mentor" or card.peer_mentor


# Words too common to say anything about a person's interests, folded, in the languages people write cards in.
_STOP = frozenset(
    "the and for with are was were this that from have has into their about who what when your our you can "
    "fictional demo profile usually online interested lecturer consultant registrar senior student medical "
    "les des une pour dans avec sur est qui que par aux chez del los las con para por una sobre "
    "das dos com uma nos nas kwa katika pamoja hasa kuhusu cikin game wajen kuma akan masu "
    "في من على الى عن مع هذا التي الذي و از به با در برای که اين را هاي كه كي مين اور سے كا كو "
    "और में के की का से को पर एवं तथा এবং ও এর করে থেকে জন্য ነው እና ላይ ውስጥ".split()
)


@functools.lru_cache(maxsize=16_384)
def _features(text: str, lang: str | None) -> tuple[tuple[str, str], ...]:
    """(feature, the word as written) for each word of ``text``: the word folded and stemmed by ``lang``'s
    stemmer (folded only, for a language without one), so "newborns" meets "newborn" and "pediatrie" meets
    "pédiatrie". Texts in two languages meet on topics (``topics.py``) rather than on words. Kept per text: a
    directory's cards are indexed again after every sync."""
    out = []
    for word in words(text):
        folded = stem(word, None)
        if len(folded) < 2 or folded.isdigit() or folded in _STOP:
            continue
        out.append((stem(word, lang), word))
    return tuple(out)


@dataclass(frozen=True)
class Seeker:
    """What the person looking for a mentor wants, from their card and their own choices."""

    account: str
    specialty: str
    interests: str
    languages: tuple[str, ...]
    tz: str
    windows: tuple[tuple[int, int], ...] = DEFAULT_WINDOWS
    background: tuple[str, ...] = ()
    year: int = 0  # of study: a peer mentor is suggested only to students in an earlier year
    wants_peer: bool = False  # a student who asked for a peer mentor: peer mentors earn the "peer" weight


@dataclass(frozen=True)
class Reason:
    part: str  # specialty, interests, language, time, background, load
    points: float  # weighted contribution
    text: str  # untranslated template; show with _() and .format(**values)
    values: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Suggestion:
    card: Card
    score: float
    reasons: tuple[Reason, ...]


class InterestIndex:
    """TF-IDF vectors of every mentor's interests and bio, built once per directory, cosine-compared; and the
    topics of the vocabulary each mentor's interests name (the interests only: a bio tells a life, and "I grew
    up with malaria around me" is not a research interest)."""

    def __init__(self, cards: Iterable[Card]) -> None:
        self.docs: dict[str, Counter[str]] = {}
        self.surface: dict[str, str] = {}  # feature → a word as people wrote it, to explain a match in their words
        self.topics: dict[str, frozenset[str]] = {}
        self.language: dict[str, str | None] = {}  # the language each card's text was stemmed in
        for card in cards:
            text = " ".join((*card.interests, *card.interests, card.bio))
            lang = self.language[card.account] = guess_language(text)
            features = _features(text, lang)
            for feature, word in features:
                self.surface.setdefault(feature, word)
            self.docs[card.account] = Counter(f for f, _w in features)
            self.topics[card.account] = topics.topics_of(" \n ".join(card.interests))
        frequency: Counter[str] = Counter()
        for counts in self.docs.values():
            frequency.update(counts.keys())
        total = max(1, len(self.docs))
        self.idf = {w: math.log((1 + total) / (1 + n)) + 1 for w, n in frequency.items()}
        self.vectors = {a: self._weigh(c) for a, c in self.docs.items()}

    def _weigh(self, counts: Counter[str]) -> dict[str, float]:
        vector = {w: (1 + math.log(n)) * self.idf.get(w, 1.0) for w, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {w: v / norm for w, v in vector.items()}

    def query(self, text: str) -> dict[str | None, dict[str, float]]:
        """``text``'s vector stemmed in each language the cards were stemmed in, so that a query whose language
        cannot be told ("newborns") meets each card on that card's own stems."""
        return {
            lang: self._weigh(Counter(f for f, _w in _features(text, lang))) for lang in set(self.language.values())
        }

    def similarity(self, query: dict[str | None, dict[str, float]], account: str) -> tuple[float, list[str]]:
        """(cosine similarity of a ``query()`` vector with a mentor's, the shared words that weigh most)."""
        doc = self.vectors.get(account, {})
        vector = query.get(self.language.get(account), {})
        shared = {w: vector[w] * doc[w] for w in vector.keys() & doc.keys()}
        said: list[str] = []
        for feature, _v in sorted(shared.items(), key=lambda kv: (-kv[1], kv[0])):
            word = self.surface.get(feature, feature)
            if word not in said:
                said.append(word)
        return min(1.0, sum(shared.values())), said[:3]


def _utc_hours(tz: str, windows: Iterable[tuple[int, int]], when: datetime) -> set[int]:
    try:
        offset = when.astimezone(ZoneInfo(tz)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        offset = None
    shift = round(offset.total_seconds() / 3600) if offset is not None else 0
    hours: set[int] = set()
    for start, end in windows:
        span = range(start, end if end > start else end + 24)
        hours.update((h - shift) % 24 for h in span)
    return hours


def card_windows(card: Card) -> tuple[tuple[int, int], ...]:
    """Local hours a mentor is usually online: the card's own windows, else its words ("evenings")."""
    if card.windows:
        return card.windows
    text = card.bio.casefold()
    table = {"early morning": (5, 8), "lunchtime": (12, 14), "evening": (18, 22), "weekend": (9, 18)}
    found = tuple(hours for words, hours in table.items() if words in text)
    return found or DEFAULT_WINDOWS


def local_zone() -> str:
    """This computer's IANA time zone name (TZ, else /etc/localtime's link), or UTC when unknown."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            target = os.readlink("/etc/localtime")
        except OSError:
            target = ""
        name = target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def suggest(
    seeker: Seeker,
    cards: Iterable[Card],
    weights: dict[str, float] | None = None,
    *,
    limit: int = 10,
    index: InterestIndex | None = None,
    when: datetime | None = None,
    peers: int = PEER_PLACES,
) -> list[Suggestion]:
    """The best mentors for ``seeker``, each with the parts of its score; among them at least ``peers`` peer
    mentors when some qualify (in place of the last senior ones), so a student sees peer mentors next to senior
    ones even where seniors score higher. A peer mentor is a student in a later year than the seeker."""
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    mentors = [
        c
        for c in cards
        if is_mentor(c) and c.account != seeker.account and not (c.peer and seeker.year and c.year <= seeker.year)
    ]
    index = index or InterestIndex(mentors)
    now = when or datetime.now(UTC)
    mine = _utc_hours(seeker.tz, seeker.windows, now)
    query = index.query(seeker.interests) if seeker.interests else {}
    wanted = topics.topics_of(seeker.interests) if seeker.interests else frozenset()
    overlaps: dict[tuple[str, tuple[tuple[int, int], ...]], int] = {}  # many mentors share a zone and hours
    out = []
    for card in mentors:
        languages = sorted(set(seeker.languages) & set(card.languages))
        if not languages or card.capacity <= 0:
            continue  # hard constraints: a shared language and an open place
        reasons = []
        if seeker.specialty and seeker.specialty in card.specialties:
            reasons.append(
                Reason(
                    "specialty",
                    weights["specialty"],
                    _SAME_SPECIALTY,
                    {"specialty": seeker.specialty},
                )
            )
        reasons.extend(_interest_reasons(index, query, wanted, card.account, weights["interests"]))
        reasons.append(
            Reason(
                "language",
                weights["language"] * min(1.0, len(languages) / 2),
                _LANGUAGES,
                {"languages": languages},
            )
        )
        key = (card.tz, card_windows(card))
        overlap = overlaps.get(key)
        if overlap is None:
            overlap = overlaps[key] = len(mine & _utc_hours(card.tz, key[1], now))
        if overlap:
            reasons.append(
                Reason(
                    "time",
                    weights["time"] * min(1.0, overlap / 3),
                    _HOURS,
                    {"hours": overlap},
                )
            )
        shared = sorted({t.casefold() for t in seeker.background} & {t.casefold() for t in card.background})
        if shared:
            reasons.append(Reason("background", weights["background"], _BACKGROUND, {"tags": ", ".join(shared)}))
        if card.peer:
            values = {"year": card.year, "languages": languages}
            if seeker.wants_peer:
                reasons.append(Reason("peer", weights.get("peer", PEER_WEIGHT), _PEER_WANTED, values))
            else:
                reasons.append(Reason("peer", 0.0, _PEER_YEAR, values))
        reasons.append(
            Reason(
                "load",
                weights["load"] * min(card.capacity, 3) / 3,
                _PLACES,
                {"places": card.capacity},
            )
        )
        out.append(Suggestion(card, sum(r.points for r in reasons), tuple(reasons)))
    rank = lambda s: (-s.score, s.card.name)  # noqa: E731
    best = heapq.nsmallest(limit, out, key=rank)
    wanted = min(peers, limit) - sum(1 for s in best if s.card.peer)
    if wanted > 0:
        chosen = {s.card.account for s in best}
        extra = heapq.nsmallest(wanted, (s for s in out if s.card.peer and s.card.account not in chosen), key=rank)
        best = best[: limit - len(extra)] + extra
    return best


def _interest_reasons(
    index: InterestIndex, query: dict[str, float], wanted: frozenset[str], account: str, weight: float
) -> list[Reason]:
    """Shared words (text similarity t) and shared topics (topic similarity p) are two views of the same
    interests, so they combine as 1 - (1-t)(1-p) rather than add up: a same-language pair that shares both
    the words and their topic is not counted twice, and a pair written in two languages, which shares no word,
    still earns the topic's part. The words' reason carries w·t, the topics' reason the rest, w·p·(1-t), with p
    scaled by ``TOPIC_SHARE``."""
    out = []
    text, said = index.similarity(query, account) if query else (0.0, [])
    if text > 0:
        values = {"words": ", ".join(said), "similarity": round(text, 2)}
        out.append(Reason("interests", weight * text, _INTERESTS, values))
    topic, shared = topics.similarity(wanted, index.topics.get(account, frozenset()))
    topic *= TOPIC_SHARE
    if topic > 0:
        out.append(Reason("topics", weight * topic * (1 - text), _TOPICS, {"topics": shared}))
    return out
