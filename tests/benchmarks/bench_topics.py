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

from desktop.domain import topics
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
    tracemalloc.start()
    started = time.perf_counter()
    vocabulary = topics.read(topics.TOPICS_DIR)
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    files = sorted(p.name for p in topics.TOPICS_DIR.glob("*.tsv"))
    terms = sum(len(t) for cells in vocabulary.names.values() for t in cells.values())
    print(f"  files: {', '.join(files)}")
    row("topics", len(vocabulary.names), "", fmt=".0f")
    row("terms (all languages)", terms, "", fmt=".0f")
    row("load time (read, fold, stem every term)", seconds * 1000, "ms", fmt=".1f")
    row("memory allocated while loading (peak)", peak / 2**20, "MiB", fmt=".2f")
    result = evaluate(load_pairs())
    print(f"topic matcher on {PAIRS.name}: {result['tp']} true, {result['fp']} false matches, {result['fn']} missed")
    row("precision", result["precision"], "")
    row("recall", result["recall"], "")
    for student, mentor, what in result["wrong"]:
        print(f"    {what}: {student!r} / {mentor!r}")


if __name__ == "__main__":
    main()
