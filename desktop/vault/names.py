"""The tag that finds a hidden profile by its name without writing the name down (desktop/domain/profiles.py).

A slow, salted hash of the typed name: the profiles file holds the tag, never the name. It keeps a hidden name
off the screen and out of a casual look at the disk; someone who copies the disk can still test guesses, so the
real protection of a profile stays its vault's passphrase.
"""

from __future__ import annotations

import hashlib
import unicodedata

SALT_BYTES = 16


def normalise_name(name: str) -> str:
    """How names compare: the same letters however they were typed (NFC), case and outer spaces ignored."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def hidden_name_tag(salt: bytes, name: str) -> str:
    """scrypt (16 MiB, ~50 ms) of the normalised name under this computer's salt, as hex."""
    digest = hashlib.scrypt(
        normalise_name(name).encode("utf-8"), salt=salt, n=2**14, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=16
    )
    return digest.hex()
