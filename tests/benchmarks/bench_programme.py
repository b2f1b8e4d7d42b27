"""Programme admin benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_programme``). A programme of
500 students and 150 mentors with a term of mentoring behind it (every status record a member's app would have
disclosed, in a real vault): how long the admin's cohort figures take, and what the metadata costs on the wire.
Prints figures; asserts nothing."""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from desktop.domain.programme import DAY_MS, ProgrammeAdmin
from desktop.vault import KdfParams, Vault
from desktop.vault.records import StoredRecord
from sync.protocol import (
    STATUS_KIND,
    HybridClock,
    Record,
    StatusBody,
    new_record_id,
    pack_record,
    request_id,
    status_body,
    unpack_record,
)
from tests.benchmarks.report import row as _report_row

row = partial(_report_row, fmt=".1f")
STUDENTS, MENTORS = 500, 150


def term(rng: random.Random, now: int) -> tuple[list[StoredRecord], list[dict]]:
    students = [f"{i:032x}" for i in range(STUDENTS)]
    mentors = [f"{i + 10_000:032x}" for i in range(MENTORS)]
    stored, clock = [], HybridClock()

    def add(author: str, status: StatusBody) -> None:
        record = Record(i=new_record_id(), k=STATUS_KIND, a=bytes.fromhex(author), d=bytes(16), t=[],
                        h=clock.now(), b=status_body(status))  # fmt: skip
        stored.append(StoredRecord(record.i.hex(), STATUS_KIND, author, record.h, pack_record(record), "inbound"))

    for student in students:
        for _attempt in range(rng.choice((1, 1, 2, 3))):
            mentor, asked = rng.choice(mentors), now - rng.randint(1, 120) * DAY_MS
            request = request_id(student, mentor, "student", asked)
            add(student, StatusBody(e="request", r=request, at=asked, s=student, m=mentor, by="student"))
            if rng.random() < 0.8:
                accepted = rng.random() < 0.7
                answered = asked + rng.randint(0, 5) * DAY_MS
                add(mentor, StatusBody(e="answer", r=request, at=answered, st="accepted" if accepted else "declined"))
                if accepted:
                    for day in range(answered, now, 7 * DAY_MS):  # about weekly activity
                        if rng.random() < 0.6:
                            add(rng.choice((student, mentor)), StatusBody(e="activity", r=request, at=day))
                    break
    presence = [
        {"account": a, "role": role, "joined": 0, "last_sync": (now - rng.randint(0, 30) * DAY_MS) // 1000}
        for role, accounts in (("student", students), ("mentor", mentors))
        for a in accounts
    ]
    return stored, presence


def main() -> None:
    rng = random.Random(7)
    now = int(time.time() * 1000)
    stored, presence = term(rng, now)
    print("programme admin")
    with tempfile.TemporaryDirectory() as tmp:
        vault, _key = Vault.create(Path(tmp) / "vault", "benchmark passphrase", params=KdfParams.floor())
        vault.records.apply_inbound("bench", stored, len(stored))
        admin = ProgrammeAdmin(vault, None, HybridClock())  # type: ignore[arg-type]  # figures need no programme
        admin.store_presence(presence)
        timings, figures = [], None
        for _ in range(5):
            t0 = time.perf_counter()
            figures = admin.figures(now, cards=[])
            timings.append(time.perf_counter() - t0)
        assert figures is not None
        row(f"cohort figures from {len(stored):,} status records (median of 5)", statistics.median(timings) * 1000,
            "ms")  # fmt: skip
        row("  matched / unmatched students", len(figures.matched), f"/ {len(figures.unmatched)}")
        row("  waiting > 7 days / quiet > 30 days", len(figures.waiting), f"/ {len(figures.quiet)}")
        vault.close()
    bodies = [unpack_record(s.wire).b for s in stored]
    raw = sum(len(b) for b in bodies)
    row("status body, mean (before the sync's gzip)", raw / len(bodies), "bytes")
    row("  a term's disclosures per student and mentor pair", raw / STUDENTS, "bytes")


if __name__ == "__main__":
    main()
