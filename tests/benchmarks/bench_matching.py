"""Matching benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_matching``). Suggestions for one
student over 5,000 mentor cards (target ≤ 200 ms) and cohort assignment of 500 students to 150 mentors (≤ 5 s).
Prints figures; asserts nothing."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime
from functools import partial

from desktop.domain.demo import INTERESTS, PLACES, SPECIALTIES
from desktop.domain.directory import Card
from desktop.domain.matching import (
    InterestIndex,
    Seeker,
    assign_cohort,
    greedy_cohort,
    min_cost_assignment,
    suggest,
)
from tests.benchmarks.report import row as _report_row

row = partial(_report_row, fmt=".1f")

WORDS = [w for topics in INTERESTS.values() for topic in topics for w in topic.split()]


def cards(count: int, rng: random.Random) -> list[Card]:
    out = []
    for i in range(count):
        specialty = rng.choice(SPECIALTIES)
        country, city, tz, languages = rng.choice(PLACES)
        interests = tuple(rng.sample(INTERESTS[specialty], 2))
        bio = " ".join(rng.choices(WORDS, k=30)) + " Usually online " + rng.choice(("evenings", "weekends")) + "."
        out.append(
            Card(
                f"{i:032x}",
                f"Dr {i}",
                "mentor",
                (specialty,),
                interests,
                country,
                city,
                tz,
                languages,
                bio,
                rng.randint(0, 4),
                0,
            )
        )
    return out


def main() -> None:
    rng = random.Random(5)
    when = datetime(2026, 11, 22, 12, tzinfo=UTC)
    directory = cards(5000, rng)
    seeker = Seeker(
        "me", "Cardiology", "rheumatic heart disease and echo screening in schools", ("en",), "Africa/Lagos"
    )
    print("matching")
    timings = []
    for _ in range(5):
        t0 = time.perf_counter()
        suggest(seeker, directory, when=when)
        timings.append(time.perf_counter() - t0)
    row("suggestions over 5,000 cards, index built (median of 5)", statistics.median(timings) * 1000, "ms", 200)
    index = InterestIndex([c for c in directory if c.role == "mentor"])
    t0 = time.perf_counter()
    suggest(seeker, directory, index=index, when=when)
    row("  with the index kept between searches", (time.perf_counter() - t0) * 1000, "ms")

    mentors = cards(150, rng)
    index = InterestIndex(mentors)
    students = [
        Seeker(f"s{i}", rng.choice(SPECIALTIES), " ".join(rng.choices(WORDS, k=6)), ("en",), rng.choice(PLACES)[2])
        for i in range(500)
    ]
    t0 = time.perf_counter()
    scores = {
        (s.account, m.card.account): m.score
        for s in students
        for m in suggest(s, mentors, index=index, when=when, limit=150)
    }
    scoring = time.perf_counter() - t0
    capacity = {m.account: m.capacity for m in mentors}
    t0 = time.perf_counter()
    best = assign_cohort(scores, capacity)
    solving = time.perf_counter() - t0
    greedy = greedy_cohort(scores, capacity)
    total = lambda pairs: sum(scores[(s, m)] for s, m in pairs.items())  # noqa: E731
    row("cohort 500 × 150: scoring every pair", scoring, "s")
    row("cohort 500 × 150: optimal assignment", solving, "s")
    row("  scoring + assignment", scoring + solving, "s", 5)
    row("  students placed (places available)", len(best), f"of 500 ({sum(capacity.values())} places)")
    row("  total score, optimal vs greedy", total(best) / total(greedy) * 100, "% of greedy")
    cost = [[-scores.get((s.account, m), -1e9) for m in sorted(capacity) for _ in range(capacity[m])] for s in students]
    t0 = time.perf_counter()
    min_cost_assignment(cost)
    row("  the same without scipy (the packaged app's solver)", time.perf_counter() - t0, "s", 5)


if __name__ == "__main__":
    main()
