"""The demo programme's recommendation and learning pack, as plain data (no I/O): the newcomer's demo mentor
recommends the 12-page lecture notes, to read within ten days (``demo.greet`` seals it in the mentor's thread
with the offer; it becomes a goal once the newcomer accepts), and a mentor curates one "Cardiology starter" pack
of five items (``demo.seed`` signs and stores it).
"""

from __future__ import annotations

import base64
import hashlib

from desktop.domain.learning_packs import pack_body
from desktop.domain.mentorship import DAY_MS

RECOMMENDED = "Heart failure: lecture notes"  # a real multi-page PDF of the demo library (demo_library)
NOTE = "Read the first section before our next call; note two questions for me. (Fictional demo note.)"
PACK = ("Cardiology starter", "Cardiology", "Five short reads for a student starting in cardiology. (Demo pack.)")
PACK_ID = "demo-cardiology-starter"


def item_id(title: str) -> str:
    """A demo library item's id, as ``demo.seed`` makes it from its title."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"demo item {title}".encode()).digest()).decode()[:22]


def recommendation(newcomer: str, now: int) -> dict:
    """The ``recommend`` content (op ``rec``) the newcomer's demo mentor sends with the offer."""
    rid = hashlib.sha256(f"osler demo recommend\0{newcomer}".encode()).hexdigest()[:32]
    return {"op": "rec", "r": rid, "item": item_id(RECOMMENDED), "v": 1, "n": RECOMMENDED, "x": NOTE,
            "by": int(now + 10 * DAY_MS), "at": int(now)}  # fmt: skip


def pack(titles: list[str]) -> bytes:
    """The demo pack's body: the recommended notes and the first four other items whose title says heart or
    cardio (else the first ones), each at version 1."""
    chosen = [RECOMMENDED] if RECOMMENDED in titles else []
    hearty = [t for t in titles if t not in chosen and ("heart" in t.lower() or "cardi" in t.lower())]
    rest = [t for t in titles if t not in chosen and t not in hearty]
    chosen = (chosen + hearty + rest)[:5]
    title, specialty, summary = PACK
    return pack_body(PACK_ID, 1, title, specialty, summary, [(item_id(t), 1) for t in chosen])
