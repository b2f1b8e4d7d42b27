"""Topic vocabulary benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_topics``). The time and
memory it takes to read every ``desktop/assets/topics/*.tsv`` (paid once, on the first match), and the
precision and recall of the topic matcher on tests/data/topic_pairs.tsv: 100 labelled pairs of a student's and
a mentor's interests in the twelve languages, where the matcher says "match" when the two texts share a topic,
each text's language guessed as the app does. Prints figures; asserts nothing (tests/test_scripts.py holds the
precision gate)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

from desktop.domain import text, topics
from tests.benchmarks.report import row

PAIRS = Path(__file__).resolve().parent.parent / "data" / "topic_pairs.tsv"


def load_pairs(path: Path = PAIRS) -> list[tuple[str, str, str, str, bool]]:
    """(student text, language, mentor text, language, labelled a match) for each pair."""
    out = []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    for line in lines[1:]:  # the header
        student, student_lang, mentor, mentor_lang, label = line.split("\t")
        out.append((student, student_lang, mentor, mentor_lang, label == "match"))
    return out


def evaluate(pairs: list[tuple[str, str, str, str, bool]]) -> dict[str, object]:
    """Precision and recall of "the two texts share a topic", with the pairs it got wrong."""
    tp = fp = fn = 0
    wrong = []
    for student, _sl, mentor, _ml, label in pairs:
        said = bool(topics.topics_of(student) & topics.topics_of(mentor))
        tp += said and label
        fp += said and not label
        fn += label and not said
        if said != label:
            wrong.append((student, mentor, "false match" if said else "missed"))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": precision, "recall": recall, "tp": tp, "fp": fp, "fn": fn, "wrong": wrong}


def main() -> None:
    print("topic vocabulary")
    started = time.perf_counter()
    vocabulary = topics.read(topics.TOPICS_DIR)  # the first read in this process, as in the app
    seconds = time.perf_counter() - started
    per_language = {}
    for lang in sorted(text.STEMMED):
        started = time.perf_counter()
        vocabulary.stems(lang)
        per_language[lang] = time.perf_counter() - started
    text.fold.cache_clear()
    text.stem.cache_clear()
    tracemalloc.start()  # again, caches emptied, for its memory (tracemalloc slows it: not timed)
    kept = topics.read(topics.TOPICS_DIR)
    for lang in text.STEMMED:
        kept.stems(lang)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    files = sorted(p.name for p in topics.TOPICS_DIR.glob("*.tsv"))
    terms = sum(len(t) for cells in vocabulary.names.values() for t in cells.values())
    print(f"  files: {', '.join(files)}")
    row("topics", len(vocabulary.names), "", fmt=".0f")
    row("terms (all languages)", terms, "", fmt=".0f")
    row("load time (read and fold every term), on the first match", seconds * 1000, "ms", fmt=".1f")
    for lang, took in per_language.items():
        row(f"  {lang} stems, on the first text that may be {lang}", took * 1000, "ms", fmt=".1f")
    row("  all seven stemmed languages", sum(per_language.values()) * 1000, "ms", fmt=".1f")
    row("memory held, every language's stems built (and word caches)", current / 2**20, "MiB", fmt=".1f")
    row("memory at the peak of loading", peak / 2**20, "MiB", fmt=".1f")
    result = evaluate(load_pairs())
    print(f"topic matcher on {PAIRS.name}: {result['tp']} true, {result['fp']} false matches, {result['fn']} missed")
    row("precision", result["precision"], "")
    row("recall", result["recall"], "")
    for student, mentor, what in result["wrong"]:
        print(f"    {what}: {student!r} / {mentor!r}")


if __name__ == "__main__":
    main()
