"""Vault benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_vault``). Prints figures beside the
issue's targets; asserts nothing (timings belong here, not in the test suite)."""

from __future__ import annotations

import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from desktop.vault import StoredMessage, Vault
from desktop.vault import kdf as vault_kdf
from tests.benchmarks.report import row

PASSPHRASE = "benchmark passphrase of some length"
MESSAGES = 10_000
WORDS = (
    "patient mentor residency research paper draft surgery paediatrics exam rotation clinic review abstract "
    "consent cardiology protocol data ethics supervisor thesis outcome follow-up question reply schedule"
).split()


def _bodies(count: int) -> list[str]:
    rng = random.Random(42)
    return [" ".join(rng.choices(WORDS, k=rng.randint(20, 90))) for _ in range(count)]


FRESH_UNLOCK = """
import sys, time
from desktop.vault import Vault
vault = Vault.open(sys.argv[1])
t0 = time.perf_counter()
timing = vault.unlock(sys.argv[2])
newest = vault.messages.newest(50)
total = time.perf_counter() - t0
assert len(newest) == 50
print(timing.kdf_seconds, total - timing.kdf_seconds)
"""


def _fresh_process_unlock(folder: Path) -> tuple[float, float]:
    """What a person sees: the app just started, nothing warm in this process."""
    out = subprocess.run(
        [sys.executable, "-c", FRESH_UNLOCK, str(folder), PASSPHRASE],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    print("vault benchmark")
    started = time.perf_counter()
    params = vault_kdf.calibrate()
    calibration = time.perf_counter() - started
    print(f"  calibrated KDF: Argon2id m={params.memory_kib // 1024} MiB t={params.iterations} p={params.lanes}")
    row("KDF calibration (once, at creation)", calibration, "s")
    derive = [0.0] * 3
    for i in range(3):
        t0 = time.perf_counter()
        vault_kdf.derive_kek(PASSPHRASE, b"s" * 16, params)
        derive[i] = time.perf_counter() - t0
    row("KDF, calibrated (median of 3)", statistics.median(derive), "s")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "vault"
        t0 = time.perf_counter()
        vault, _key = Vault.create(folder, PASSPHRASE, params=params)
        row("create (KDF + schema), calibration excluded", time.perf_counter() - t0, "s")

        bodies = _bodies(MESSAGES)
        messages = [
            StoredMessage(f"{i:08d}", f"thread-{i % 40}", f"acct-{i % 7}", 1_700_000_000_000 + i * 1000, "received", b)
            for i, b in enumerate(bodies)
        ]
        tracemalloc.start()
        t0 = time.perf_counter()
        vault.messages.put_many(messages)
        insert_one_tx = time.perf_counter() - t0
        row(f"insert {MESSAGES:,} messages, one transaction", insert_one_tx, "s", 3.0)
        vault.lock()

        folder2 = Path(tmp) / "vault2"
        vault2, _ = Vault.create(folder2, PASSPHRASE, params=vault_kdf.KdfParams.floor())
        t0 = time.perf_counter()
        for start in range(0, MESSAGES, 100):
            vault2.messages.put_many(messages[start : start + 100])
        row(f"insert {MESSAGES:,} messages, batches of 100", time.perf_counter() - t0, "s", 3.0)
        vault2.close()
        insert_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        opens, unlock_kdf = [], []
        for _ in range(5):
            reopened = Vault.open(folder)
            t_open = time.perf_counter()
            timing = reopened.unlock(PASSPHRASE)
            t_q = time.perf_counter()
            newest = reopened.messages.newest(50)
            query = time.perf_counter() - t_q
            assert len(newest) == 50 and newest[0].id == f"{MESSAGES - 1:08d}"
            opens.append(time.perf_counter() - t_open - timing.kdf_seconds)
            unlock_kdf.append(timing.kdf_seconds)
            reopened.close()
        row("same process: unlock KDF part (median of 5)", statistics.median(unlock_kdf), "s")
        row("same process: after KDF + newest 50 of 10,000", statistics.median(opens) * 1000, "ms", 50)
        row("  of which the newest-50 query + decrypt (last)", query * 1000, "ms")

        checks = {}
        for pragma in (
            "quick_check",
            "integrity_check",
        ):  # unlock runs integrity_check: quick_check misses index damage
            conn = sqlite3.connect(folder / "vault.db")
            t0 = time.perf_counter()
            assert conn.execute(f"PRAGMA {pragma}").fetchall() == [("ok",)]
            checks[pragma] = time.perf_counter() - t0
            conn.close()
        row("  PRAGMA quick_check of 10,000 messages (not used)", checks["quick_check"] * 1000, "ms")
        row("  PRAGMA integrity_check, run at every unlock", checks["integrity_check"] * 1000, "ms")

        cold = [_fresh_process_unlock(folder) for _ in range(3)]
        row("fresh process: unlock KDF part (median of 3)", statistics.median(c[0] for c in cold), "s")
        row("fresh process: after KDF + newest 50 (median)", statistics.median(c[1] for c in cold) * 1000, "ms", 50)

        reopened = Vault.open(folder)
        reopened.unlock(PASSPHRASE)
        tracemalloc.start()
        t0 = time.perf_counter()
        count = sum(len(m.body) for m in reopened.messages.iter_all())
        scan = time.perf_counter() - t0
        scan_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert count == sum(len(b) for b in bodies)
        row(f"full decrypt scan of {MESSAGES:,}", scan, "s")
        row("  per message", scan / MESSAGES * 1e6, "µs")
        reopened.close()
        db_size = (folder / "vault.db").stat().st_size + sum(p.stat().st_size for p in folder.glob("vault.db-*"))
        plain = sum(len(b.encode()) for b in bodies)
        row("database size / plaintext size", db_size / plain, "×")

    row("Python heap peak during inserts (tracemalloc)", insert_peak / 2**20, "MiB")
    row("Python heap peak during scan (tracemalloc)", scan_peak / 2**20, "MiB")
    row("peak resident set, whole run incl. Argon2id", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB")


if __name__ == "__main__":
    main()
