"""Matching that runs offline, explains itself, and assigns a cohort optimally where greedy would not."""

from __future__ import annotations

from datetime import UTC, datetime

from desktop.domain.directory import Card
from desktop.domain.matching import Seeker, assign_cohort, greedy_cohort, suggest

NOON = datetime(2026, 11, 22, 12, tzinfo=UTC)


def card(
    account: str,
    specialty: str,
    interests: tuple[str, ...],
    languages=("en",),
    tz="Africa/Lagos",
    capacity=2,
    bio: str = "Usually online evenings.",
) -> Card:
    return Card(
        account, f"Dr {account}", "mentor", (specialty,), interests, "NG", "Kano", tz, languages, bio, capacity, 0
    )


KANO_STUDENT = Seeker(
    "me", "Cardiology", "rheumatic heart disease echo screening research", ("en", "ha"), "Africa/Lagos"
)


def test_hard_constraints_then_explainable_ranking():
    cards = [
        card("cardio-research", "Cardiology", ("rheumatic heart disease", "echo screening")),
        card("cardio-other", "Cardiology", ("heart failure clinics",)),
        card("paeds", "Paediatrics", ("neonatal sepsis",)),
        card("french-only", "Cardiology", ("rheumatic heart disease",), languages=("fr",)),
        card("full", "Cardiology", ("rheumatic heart disease",), capacity=0),
        card(
            "far-away",
            "Cardiology",
            ("rheumatic heart disease", "echo screening"),
            tz="Pacific/Auckland",
            bio="Usually online early mornings.",
        ),
        Card(
            "student-x",
            "A student",
            "student",
            (),
            ("rheumatic heart disease",),
            "NG",
            "",
            "Africa/Lagos",
            ("en",),
            "",
            0,
            0,
        ),
    ]
    ranked = suggest(KANO_STUDENT, cards, when=NOON)
    names = [s.card.account for s in ranked]
    assert "french-only" not in names and "full" not in names and "student-x" not in names, "hard constraints"
    assert names[0] == "cardio-research"
    assert names.index("cardio-research") < names.index("far-away"), "online at the same time counts"
    assert names.index("cardio-other") < names.index("paeds"), "the same specialty counts"
    parts = {r.part: r for r in ranked[0].reasons}
    assert {"specialty", "interests", "language", "time", "load"} <= parts.keys()
    assert {"echo", "screening"} <= set(parts["interests"].values["words"].split(", ")), "it names what is shared"
    assert abs(ranked[0].score - sum(r.points for r in ranked[0].reasons)) < 1e-9


def test_interest_similarity_is_textual_relevance_not_keyword_equality():
    cards = [
        card("newborns", "Paediatrics", ("sepsis in newborns", "neonatal intensive care")),
        card("adults", "Paediatrics", ("adult sepsis bundles",)),
        card("unrelated", "Paediatrics", ("epilepsy treatment gap",)),
    ]
    seeker = Seeker("me", "Paediatrics", "neonatal sepsis in low resource newborn units", ("en",), "Africa/Lagos")
    ranked = [s.card.account for s in suggest(seeker, cards, when=NOON)]
    assert ranked == ["newborns", "adults", "unrelated"]


def test_weights_change_the_order():
    cards = [
        card("same-specialty", "Cardiology", ("tuberculosis",)),
        card("same-interests", "Public Health", ("rheumatic heart disease", "echo screening")),
    ]
    by_specialty = suggest(KANO_STUDENT, cards, {"specialty": 5.0, "interests": 0.5}, when=NOON)
    by_interests = suggest(KANO_STUDENT, cards, {"specialty": 0.5, "interests": 5.0}, when=NOON)
    assert by_specialty[0].card.account == "same-specialty"
    assert by_interests[0].card.account == "same-interests"


def test_cohort_assignment_is_optimal_where_greedy_is_not():
    scores = {("s1", "m1"): 0.9, ("s1", "m2"): 0.8, ("s2", "m1"): 0.85, ("s2", "m2"): 0.1}
    capacity = {"m1": 1, "m2": 1}
    greedy = greedy_cohort(scores, capacity)
    best = assign_cohort(scores, capacity)
    total = lambda pairs: sum(scores[(s, m)] for s, m in pairs.items())  # noqa: E731
    assert greedy == {"s1": "m1", "s2": "m2"} and round(total(greedy), 2) == 1.0
    assert best == {"s1": "m2", "s2": "m1"} and round(total(best), 2) == 1.65


def test_cohort_respects_capacity_and_constraints():
    scores = {(f"s{i}", "m1"): 1.0 for i in range(5)} | {("s0", "m2"): 0.2}
    best = assign_cohort(scores, {"m1": 2, "m2": 3})
    assert list(best.values()).count("m1") == 2
    assert set(best.values()) <= {"m1", "m2"} and len(best) == 3, "only allowed pairs; the rest stay unplaced"


def test_opt_in_background_counts_only_when_both_share_it():
    import dataclasses

    base = card("m1", "Cardiology", ("echo",))
    tagged = dataclasses.replace(base, account="m2", name="Dr m2", background=("First-generation student",))
    seeker = dataclasses.replace(KANO_STUDENT, background=("first-generation student",))
    ranked = suggest(seeker, [base, tagged], when=NOON)
    assert ranked[0].card.account == "m2"
    assert any(r.part == "background" for r in ranked[0].reasons)
    assert not any(r.part == "background" for r in ranked[1].reasons)


def test_shared_interests_are_named_as_people_wrote_them():
    mentors = [card("tb", "Infectious Diseases", ("tuberculosis case finding",)), card("x", "Surgery", ("trauma",))]
    seeker = Seeker("me", "", "finding tuberculosis cases early", ("en",), "Africa/Lagos")
    [top, *_] = suggest(seeker, mentors, when=NOON)
    words = next(r for r in top.reasons if r.part == "interests").values["words"].split(", ")
    assert "tuberculosis" in words and "tuberculosi" not in words and "find" not in words
