"""Passphrase → key-encryption key with Argon2id, and the parameters that make it expensive to guess.

The floor (64 MiB, 3 passes, 4 lanes) follows OWASP's and RFC 9106's second recommended option; a key file that
asks for less is refused, so an attacker who can write the file cannot downgrade it. At creation the cost is
calibrated to about 0.5–1 s on the machine, raising memory first (up to 256 MiB, kind to 4 GB laptops), then
passes.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

KEY_BYTES = 32
SALT_BYTES = 16

FLOOR_MEMORY_KIB = 64 * 1024
FLOOR_ITERATIONS = 3
FLOOR_LANES = 4
# Ceilings: a key file may not make unlocking hang the machine either. 1 GiB, 10 passes is already ~15 s on a
# 2020 laptop and more than a 4 GB machine can spare; calibration never goes past 256 MiB. More lanes than
# cores only adds memory traffic, so 16 is plenty.
MAX_MEMORY_KIB = 1024 * 1024
MAX_ITERATIONS = 10
MAX_LANES = 16

CALIBRATION_TARGET_S = 0.65
CALIBRATION_MAX_MEMORY_KIB = 256 * 1024


@dataclass(frozen=True)
class KdfParams:
    memory_kib: int
    iterations: int
    lanes: int

    @classmethod
    def floor(cls) -> KdfParams:
        return cls(FLOOR_MEMORY_KIB, FLOOR_ITERATIONS, FLOOR_LANES)

    def weakness(self) -> str | None:
        """Why these parameters are below the floor, or None when they are acceptable."""
        if self.memory_kib < FLOOR_MEMORY_KIB:
            return f"memory {self.memory_kib} KiB < {FLOOR_MEMORY_KIB} KiB"
        if self.iterations < FLOOR_ITERATIONS:
            return f"iterations {self.iterations} < {FLOOR_ITERATIONS}"
        if self.lanes < FLOOR_LANES:
            return f"lanes {self.lanes} < {FLOOR_LANES}"
        return None

    def excess(self) -> str | None:
        """Why these parameters are beyond what a key file may ask for, or None."""
        if self.memory_kib > MAX_MEMORY_KIB:
            return f"memory {self.memory_kib} KiB > {MAX_MEMORY_KIB} KiB"
        if self.iterations > MAX_ITERATIONS:
            return f"iterations {self.iterations} > {MAX_ITERATIONS}"
        if self.lanes > MAX_LANES:
            return f"lanes {self.lanes} > {MAX_LANES}"
        return None


def normalize_passphrase(passphrase: str) -> bytes:
    """NFC-normalize so the same words typed on another keyboard or OS give the same key."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def derive_kek(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    return Argon2id(
        salt=salt,
        length=KEY_BYTES,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    ).derive(normalize_passphrase(passphrase))


def _time_once(params: KdfParams) -> float:
    start = time.perf_counter()
    derive_kek("calibration", b"\0" * SALT_BYTES, params)
    return time.perf_counter() - start


def calibrate(target_s: float = CALIBRATION_TARGET_S) -> KdfParams:
    """Pick parameters that cost about ``target_s`` here, never below the floor.

    Memory doubles while the cost stays under the target; passes then fill the rest. The faster of two runs at
    the chosen memory is the per-pass estimate (the first run pays page faults), and the target sits a little
    under the middle of the 0.5–1 s window so a cold first unlock after start-up stays inside it too.
    """
    params = KdfParams.floor()
    elapsed = _time_once(params)
    while params.memory_kib * 2 <= CALIBRATION_MAX_MEMORY_KIB and elapsed * 2 <= target_s:
        params = KdfParams(params.memory_kib * 2, params.iterations, params.lanes)
        elapsed = _time_once(params)
    elapsed = min(elapsed, _time_once(params))
    per_pass = elapsed / params.iterations
    iterations = min(MAX_ITERATIONS, max(FLOOR_ITERATIONS, round(target_s / per_pass)))
    return KdfParams(params.memory_kib, iterations, params.lanes)
