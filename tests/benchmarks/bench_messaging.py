"""Messaging benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_messaging``).

1. The codec, chosen by measurement: sealed size of realistic messages with no compression, plain deflate, and
   deflate with the shipped domain dictionary.
2. What one message costs on the wire once its thread's epoch is granted, and what a grant costs.
3. Search over 10,000 messages in the vault (target ≤ 150 ms), first query (index built) and later ones.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import zlib
from pathlib import Path

from desktop.vault import StoredMessage
from sync import envelope
from tests.clients import make_client
from tests.servers import ThreadServer

OPENINGS = [
    "Thank you for your feedback on the draft.",
    "Merci pour vos commentaires sur le brouillon.",
    "I have a question about my clinical rotation.",
    "Pouvons-nous parler de mon projet de recherche ?",
    "Sorry for the late reply, the connection was down all week.",
    "Quick update on the data collection:",
]
MIDDLES = [
    "the ethics committee asked for a revised consent form",
    "we enrolled {n} patients with suspected sepsis at the district hospital",
    "le service de pédiatrie a vu {n} enfants avec un paludisme grave ce mois-ci",
    "I am not sure whether a logistic regression is right for {n} cases",
    "my supervisor suggested a case series instead of a cohort study",
    "the ward had {n} admissions and two of us on call",
]
CLOSINGS = ["Could we talk on Thursday?", "Bien cordialement.", "What do you think?", "Thanks again!", ""]


def corpus(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(
            [rng.choice(OPENINGS)]
            + [rng.choice(MIDDLES).format(n=rng.randint(3, 250)) + "." for _ in range(rng.randint(1, 4))]
            + [rng.choice(CLOSINGS)]
        ).strip()
        for _ in range(count)
    ]


def _row(name: str, value: float, unit: str, target: float | None = None) -> None:
    verdict = ""
    if target is not None:
        verdict = f"  target ≤ {target:g} {unit}  ratio {value / target:.2f}  {'ok' if value <= target else 'MISSED'}"
    print(f"  {name:<56} {value:10.1f} {unit}{verdict}")


def codec() -> None:
    texts = [t.encode() for t in corpus(500)]
    plain = statistics.mean(len(t) for t in texts)
    deflate = statistics.mean(min(len(t), len(zlib.compress(t, 9)) - 6) for t in texts)
    ours = statistics.mean(len(envelope.compress(t)) for t in texts)
    key, thread, rid = envelope.new_epoch_key(), os.urandom(16), os.urandom(16)
    sealed = statistics.mean(len(envelope.seal(key, 1, thread, rid, "message", t)) for t in texts)
    print("codec (500 realistic messages, English and French)")
    _row("plaintext, mean", plain, "B")
    _row("raw deflate without a dictionary, mean", deflate, "B")
    _row("raw deflate with the domain dictionary (chosen), mean", ours, "B")
    _row("sealed body: codec + Padmé padding + header + tag, mean", sealed, "B")


def wire(tmp: Path) -> None:
    print("on the wire (100 messages in one thread, after its epoch is granted)")
    with ThreadServer(tmp / "server") as server:
        student = make_client(tmp / "student", server.url, server.invite())
        mentor = make_client(tmp / "mentor", server.url, server.invite("mentor"))
        for client, name in ((student, "Amina"), (mentor, "Dr Kofi")):
            client.publish_card(name)
        for _ in range(2):
            for client in (student, mentor):
                client.engine().sync_once()
        chat = student.messaging()
        thread = chat.start_direct(mentor.account.hex())
        chat.send(thread, "hello")
        first = student.engine().sync_once()
        single = corpus(20, seed=5)
        one_by_one = 0
        for text in single:
            chat.send(thread, text)
            one_by_one += student.engine().sync_once().bytes_up
        texts = corpus(100, seed=11)
        for text in texts:
            chat.send(thread, text)
        progress = student.engine().sync_once()
        plain = sum(len(t.encode()) for t in texts)
    _row("first message with its epoch grant (2 devices), request body", first.bytes_up, "B")
    _row("a message sent on its own, request body, mean of 20", one_by_one / 20, "B")
    _row("  its plaintext, mean", sum(len(t.encode()) for t in single) / 20, "B")
    _row("100 messages written offline: one bundle, per message", progress.bytes_up / 100, "B")
    _row("  their plaintext, mean (this generated corpus repeats phrases,", plain / 100, "B")
    print("    so a real week of writing compresses less than this)")


def search(tmp: Path) -> None:
    print("search over the vault")
    with ThreadServer(tmp / "server2") as server:
        client = make_client(tmp / "searcher", server.url, server.invite())
        texts = corpus(10_000, seed=3)
        client.vault.messages.put_many(
            StoredMessage(f"{i:032x}", f"{i % 40:032x}", "a" * 32, 1_700_000_000_000 + i, "received", text)
            for i, text in enumerate(texts)
        )
        chat = client.messaging()
        t0 = time.perf_counter()
        hits = chat.search("sepsis district")
        first = time.perf_counter() - t0
        timings = []
        for query in ("paludisme", "logistic regression", "ethics consent", "cohort", "Thursday"):
            t0 = time.perf_counter()
            chat.search(query)
            timings.append(time.perf_counter() - t0)
        client.vault.close()
    _row("first search of 10,000 messages (decrypt + build index)", first * 1000, "ms")
    _row("later searches, median of 5", statistics.median(timings) * 1000, "ms", 150)
    _row("  hits for 'sepsis district'", len(hits), "")


def main() -> None:
    codec()
    with tempfile.TemporaryDirectory() as tmp:
        wire(Path(tmp))
        search(Path(tmp))


if __name__ == "__main__":
    main()
