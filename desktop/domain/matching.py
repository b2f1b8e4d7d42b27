"""Explainable mentor matching that runs offline on the synced directory, and cohort assignment for admins.

A suggestion first passes hard constraints (a mentor, a shared language, an open place), then earns a weighted
score from parts a person can read: same specialty, research-interest similarity (TF-IDF cosine over interests
and bio, so "neonatal sepsis" finds a mentor who wrote about "sepsis in newborns"), shared languages, hours
online at the same time across time zones, opt-in shared background, and open places. Each part comes with
its sentence. Cohort assignment maximises the total score within every mentor's capacity with a proper
assignment algorithm (scipy's Hungarian method over mentor places), where a greedy pass can miss the optimum.
"""

from __future__ import annotations

import functools
import heapq
import math
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desktop.domain.directory import Card
from desktop.i18n import N_

DEFAULT_WEIGHTS = {"specialty": 3.0, "interests": 3.0, "language": 1.0, "time": 2.0, "background": 1.0, "load": 1.0}
DEFAULT_WINDOWS = ((18, 22),)  # local hours online when a card says nothing: evenings
_SAME_SPECIALTY = N_("Same specialty: {specialty}")
_INTERESTS = N_("Research interests in common: {words} (similarity {similarity})")
_LANGUAGES = N_("Speaks {languages} with you")
_HOURS = N_("Online at the same time as you about {hours} hours a day")
_BACKGROUND = N_("Shared background: {tags}")
_PLACES = N_("{places} open places")
_PEER = N_("Peer mentor: a fellow student a few steps ahead")
# The same parts said of a pair rather than to the student (for admins, and for the mentor introduced).
ABOUT_A_PAIR = {
    _LANGUAGES: N_("Both speak {languages}"),
    _HOURS: N_("Online at the same time about {hours} hours a day"),
}
REASON_TEXTS = frozenset((_SAME_SPECIALTY, _INTERESTS, _LANGUAGES, _HOURS, _BACKGROUND, _PLACES, _PEER))


def is_mentor(card: Card) -> bool:
    """Mentors, and peer mentors: students whose card offers places to other students."""
    return card.role == "mentor" or (card.role == "student" and card.capacity > 0)


_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP = frozenset(
    "the and for with are was were this that from have has into their about who what when your our you can "
    "fictional demo profile usually online interested lecturer consultant registrar senior student medical "
    "les des une pour dans avec sur est qui que".split()
)


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


def _tokens(text: str) -> list[str]:
    return [w for w in (m.casefold() for m in _WORD.findall(text)) if w not in _STOP]


@functools.lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    """A light stemmer: enough for "newborns"/"newborn" and "screening"/"screen" to meet."""
    if word.endswith(("ss", "us", "is")):  # sepsis, tuberculosis, virus, abscess: not plurals
        return word
    for suffix in ("ings", "ing", "ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


class InterestIndex:
    """TF-IDF vectors of every mentor's interests and bio, built once per directory, cosine-compared."""

    def __init__(self, cards: Iterable[Card]) -> None:
        self.docs: dict[str, Counter[str]] = {}
        self.surface: dict[str, str] = {}  # stem → a word as people wrote it, to explain a match in their words
        for card in cards:
            tokens = _tokens(" ".join((*card.interests, *card.interests, card.bio)))
            for word in tokens:
                self.surface.setdefault(_stem(word), word)
            self.docs[card.account] = Counter(_stem(w) for w in tokens)
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

    def query(self, text: str) -> dict[str, float]:
        return self._weigh(Counter(_stem(w) for w in _tokens(text)))

    def similarity(self, query: dict[str, float], account: str) -> tuple[float, list[str]]:
        """(cosine similarity of a ``query()`` vector with a mentor's, the shared words that weigh most)."""
        doc = self.vectors.get(account, {})
        shared = {w: query[w] * doc[w] for w in query.keys() & doc.keys()}
        best = sorted(shared.items(), key=lambda kv: -kv[1])[:3]
        return sum(shared.values()), [self.surface.get(w, w) for w, _v in best]


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
) -> list[Suggestion]:
    """The best mentors for ``seeker``, each with the parts of its score."""
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    mentors = [c for c in cards if is_mentor(c) and c.account != seeker.account]
    index = index or InterestIndex(mentors)
    now = when or datetime.now(UTC)
    mine = _utc_hours(seeker.tz, seeker.windows, now)
    query = index.query(seeker.interests) if seeker.interests else {}
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
        similarity, words = index.similarity(query, card.account) if query else (0.0, [])
        if similarity > 0:
            reasons.append(
                Reason(
                    "interests",
                    weights["interests"] * similarity,
                    _INTERESTS,
                    {"words": ", ".join(words), "similarity": round(similarity, 2)},
                )
            )
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
        if card.role == "student":
            reasons.append(Reason("peer", 0.0, _PEER))
        reasons.append(
            Reason(
                "load",
                weights["load"] * min(card.capacity, 3) / 3,
                _PLACES,
                {"places": card.capacity},
            )
        )
        out.append(Suggestion(card, sum(r.points for r in reasons), tuple(reasons)))
    return heapq.nsmallest(limit, out, key=lambda s: (-s.score, s.card.name))


def assign_cohort(scores: dict[tuple[str, str], float], capacity: dict[str, int]) -> dict[str, str]:
    """student → mentor, maximising the total score; each mentor takes at most ``capacity`` students and only
    pairs present in ``scores`` (those that passed the hard constraints) may be matched. Students who cannot be
    placed stay out. Mentor places become columns of one assignment problem (Hungarian method): scipy's when
    installed (``osler[admin]``), else the pure-Python solver below, which finds the same optimum more slowly
    (the packaged app leaves out scipy and numpy, ~80 MiB that only an admin's cohort assignment would use)."""
    students = sorted({s for s, _m in scores})
    places = [m for m in sorted(capacity) for _ in range(max(0, capacity[m]))]
    if not students or not places:
        return {}
    forbidden = 1e9
    column: dict[str, list[int]] = {}
    for j, mentor in enumerate(places):
        column.setdefault(mentor, []).append(j)
    row = {s: i for i, s in enumerate(students)}
    cost = [[forbidden] * len(places) for _ in students]
    for (student, mentor), score in scores.items():
        for j in column.get(mentor, ()):
            cost[row[student]][j] = -score
    try:
        from scipy.optimize import linear_sum_assignment  # here, not at the top: only admins assign cohorts
    except ImportError:
        pairs = min_cost_assignment(cost)
    else:
        rows, cols = linear_sum_assignment(cost)
        pairs = list(zip(rows.tolist(), cols.tolist(), strict=True))
    return {students[i]: places[j] for i, j in pairs if cost[i][j] < forbidden}


def min_cost_assignment(cost: list[list[float]]) -> list[tuple[int, int]]:
    """(row, column) pairs of a minimum-cost assignment of a rectangular matrix, min(rows, columns) of them:
    the Hungarian method with potentials and shortest augmenting paths, O(n² m)."""
    if not cost or not cost[0]:
        return []
    transposed = len(cost) > len(cost[0])
    if transposed:
        cost = [list(col) for col in zip(*cost, strict=True)]
    n, m = len(cost), len(cost[0])
    inf = float("inf")
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    match = [0] * (m + 1)  # match[j]: the row (1-based) holding column j, 0 for none
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        match[0], j0 = i, 0
        minv, used = [inf] * (m + 1), [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = match[j0], inf, 0
            row, ui0 = cost[i0 - 1], u[i0]
            for j in range(1, m + 1):
                if not used[j]:
                    current = row[j - 1] - ui0 - v[j]
                    if current < minv[j]:
                        minv[j], way[j] = current, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[match[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if match[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match[j0] = match[j1]
            j0 = j1
    pairs = [(match[j] - 1, j - 1) for j in range(1, m + 1) if match[j]]
    return sorted((c, r) if transposed else (r, c) for r, c in pairs)


def greedy_cohort(scores: dict[tuple[str, str], float], capacity: dict[str, int]) -> dict[str, str]:
    """Best pair first, for comparison: what a hurried spreadsheet does."""
    left = dict(capacity)
    out: dict[str, str] = {}
    for (student, mentor), _score in sorted(scores.items(), key=lambda kv: -kv[1]):
        if student not in out and left.get(mentor, 0) > 0:
            out[student] = mentor
            left[mentor] -= 1
    return out
