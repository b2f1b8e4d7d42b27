"""The programme's directory and library as this device knows them: the newest signed card of each account and
the catalogue of learning material, read from synced records. Plain Python; works fully offline.

Card and material bodies are JSON documents (version 1), validated here because they come from other people.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace

from desktop.domain.availability import Availability
from desktop.i18n import N_
from desktop.vault import Vault
from sync import envelope
from sync.protocol import unpack_record

MAX_TEXT = 2000
# The controlled list of medical specialties cards choose from (the demo draws on it too). Cards store the English
# key, so every card ever signed keeps working; the UI shows each through _() in the reader's language.
SPECIALTIES = (
    N_("Paediatrics"),
    N_("Internal Medicine"),
    N_("General Surgery"),
    N_("Obstetrics and Gynaecology"),
    N_("Psychiatry"),
    N_("Emergency Medicine"),
    N_("Family Medicine"),
    N_("Infectious Diseases"),
    N_("Cardiology"),
    N_("Public Health"),
    N_("Anaesthesiology"),
    N_("Neurology"),
)

# The kinds of library material Osler knows by name (shown translated; any other kind is shown as written).
MATERIAL_KINDS = (N_("notes"), N_("checklist"), N_("reading list"), N_("case study"))

# Years of study a card may state, and the first year from which a student may offer to be a peer mentor
# (students in their final years: years 4 to 6 of a six-year course, the last of a four-year one).
YEARS = range(1, 9)
PEER_FROM_YEAR = 4


@dataclass(frozen=True)
class Card:
    account: str
    name: str
    role: str
    specialties: tuple[str, ...]
    interests: tuple[str, ...]
    country: str
    city: str
    tz: str
    languages: tuple[str, ...]
    bio: str
    capacity: int
    hlc: int
    keys: tuple[str, bytes, bytes] | None = None  # (device id, Ed25519 public key, HPKE box public key) of the
    # publishing device: from ``keys`` on cards from before accounts, else its certified entry in ``devices``
    windows: tuple[tuple[int, int], ...] = ()  # local hours usually online
    background: tuple[str, ...] = ()  # opt-in tags
    identity: bytes | None = None  # the account's identity key (PROTOCOL.md §10); None on cards from before
    generation: int = 0  # of the account secret the identity comes from
    chain: bytes | None = None  # the previous generation's identity's signature over this one
    devices: tuple[DeviceEntry, ...] = ()  # every device of the account whose certificate verifies
    year: int = 0  # of study (1-8), 0 when the card does not say
    peer: bool = False  # a student in their final years who offers to be a peer mentor (checked: ``_peer``)
    wants_peer: bool = False  # a student who would rather have a peer mentor
    availability: Availability | None = None  # weekly and connectivity windows, when shared with everyone

    @property
    def peer_mentor(self) -> bool:
        """A peer mentor with an open place: a final-year student whose card offers places to fellow students."""
        return self.peer and self.capacity > 0

    @property
    def safety_number(self) -> str | None:
        """The account's identity fingerprint (the same on every device of the account), or None."""
        return envelope.identity_fingerprint(self.identity) if self.identity else None


@dataclass(frozen=True)
class DeviceEntry:
    """One device of an account as its card lists it: certified by the account's identity key."""

    device: str  # 32 hex
    sign: bytes
    box: bytes
    name: str = ""
    cert: bytes = b""

    @property
    def fingerprint(self) -> str:
        return envelope.fingerprint(self.sign, self.box)


@dataclass(frozen=True)
class Material:
    id: str
    author: str
    title: str
    specialty: str
    kind: str
    language: str
    summary: str
    size: int
    sha256: str


def _text(doc: dict, name: str, limit: int = 200) -> str:
    value = doc.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _texts(doc: dict, name: str) -> tuple[str, ...]:
    value = doc.get(name, [])
    return tuple(v[:100] for v in value[:20] if isinstance(v, str)) if isinstance(value, list) else ()


def _json(body: bytes) -> dict | None:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) and doc.get("v") == 1 else None


def _keys(doc: dict) -> tuple[str, bytes, bytes] | None:
    keys = doc.get("keys")
    if not isinstance(keys, dict):
        return None
    try:
        device = str(keys["device"])
        sign, box = base64.b64decode(keys["sign"], validate=True), base64.b64decode(keys["box"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        return None
    if len(device) != 32 or len(sign) != 32 or len(box) != 1216:
        return None
    return device, sign, box


def _b64(value: object, size: int | None = None) -> bytes | None:
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else None
    except (ValueError, binascii.Error):
        return None
    return raw if raw is not None and (size is None or len(raw) == size) else None


def _identity(doc: dict, account: str) -> tuple[bytes | None, int, bytes | None, tuple[DeviceEntry, ...]]:
    """(identity, generation, chain signature, certified devices) of a card; the devices whose certificate does
    not verify under the identity are left out (anyone may write anything in a card's list)."""
    identity, generation = _b64(doc.get("id"), 32), doc.get("g", 0)
    if identity is None or not isinstance(generation, int) or not 0 <= generation < 2**32:
        return None, 0, None, ()
    chain = _b64(doc.get("chain"), 64)
    listed = doc.get("devices")
    entries: list[DeviceEntry] = []
    try:
        account_bytes = bytes.fromhex(account)
    except ValueError:
        return None, 0, None, ()
    for item in listed[:20] if isinstance(listed, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("device"), str) or len(item["device"]) != 32:
            continue
        sign, box, cert = _b64(item.get("sign"), 32), _b64(item.get("box"), 1216), _b64(item.get("cert"), 64)
        try:
            device = bytes.fromhex(item["device"])
        except ValueError:
            continue
        if sign is None or box is None or cert is None:
            continue
        if envelope.verify_device(identity, account_bytes, device, sign, box, cert):
            name = item.get("name", "")
            entries.append(DeviceEntry(item["device"], sign, box, name[:80] if isinstance(name, str) else "", cert))
    return identity, generation, chain, tuple(entries)


def _windows(doc: dict) -> tuple[tuple[int, int], ...]:
    value = doc.get("windows", [])
    if not isinstance(value, list):
        return ()
    return tuple(
        (w[0], w[1])
        for w in value[:7]
        if isinstance(w, list) and len(w) == 2 and all(isinstance(h, int) and 0 <= h <= 24 for h in w)
    )


def _availability(doc: dict, account: str, hlc: int) -> Availability | None:
    """The card's ``avail`` (PROTOCOL.md §9.1 ``meeting``), or None when absent or not valid."""
    value = doc.get("avail")
    if not isinstance(value, dict):
        return None
    try:
        return Availability.from_doc({**value, "h": hlc}, account)
    except (ValueError, TypeError):
        return None


def _year(doc: dict) -> int:
    value = doc.get("year", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value in YEARS else 0


def _peer(doc: dict, role: str, year: int) -> bool:
    """A card offers peer mentoring only as a student in their final years, saying so with ``peer: true``: a
    mentor's card, a first-year's, or a card that does not say its year is not a peer mentor's, whatever it
    writes (cards come from other people)."""
    return doc.get("peer") is True and role == "student" and year >= PEER_FROM_YEAR


def card_body(**fields: object) -> bytes:
    return json.dumps({"v": 1, **fields}, ensure_ascii=False, separators=(",", ":")).encode()


def cards(vault: Vault) -> list[Card]:
    """The newest valid card of every account (last writer wins by hybrid clock), sorted by name."""
    newest: dict[str, Card] = {}
    for stored in vault.records.by_kind("card"):  # oldest clock first: the last one standing wins
        record = unpack_record(stored.wire)
        if record.x:
            newest.pop(stored.author, None)
            continue
        doc = _json(record.b)
        if doc is None or not _text(doc, "name"):
            continue
        capacity = doc.get("capacity", 0)
        identity, generation, chain, devices = _identity(doc, stored.author)
        keys = _keys(doc)
        if identity is None and keys is not None:  # a card from before accounts had an identity: its one device
            devices = (DeviceEntry(keys[0], keys[1], keys[2]),)
        elif keys is None and devices:  # the publishing device's entry (cards no longer repeat it in ``keys``)
            publisher = record.d.hex() if record.d else None
            entry = next((e for e in devices if e.device == publisher), devices[0])
            keys = (entry.device, entry.sign, entry.box)
        card = Card(
            account=stored.author,
            name=_text(doc, "name", 80),
            role=_text(doc, "role", 20),
            specialties=_texts(doc, "specialties"),
            interests=_texts(doc, "interests"),
            country=_text(doc, "country", 2),
            city=_text(doc, "city", 80),
            tz=_text(doc, "tz", 64),
            languages=_texts(doc, "languages"),
            bio=_text(doc, "bio", MAX_TEXT),
            capacity=capacity if isinstance(capacity, int) and 0 <= capacity <= 50 else 0,
            hlc=record.h,
            keys=keys,
            windows=_windows(doc),
            background=_texts(doc, "background"),
            identity=identity,
            generation=generation,
            chain=chain,
            devices=devices,
            availability=_availability(doc, stored.author, record.h),
        )
        year = _year(doc)
        if card.role == "student":
            card = replace(card, year=year, peer=_peer(doc, card.role, year), wants_peer=doc.get("wants_peer") is True)
        newest[stored.author] = card
    return sorted(newest.values(), key=lambda c: c.name.casefold())


def materials(vault: Vault) -> list[Material]:
    """Every catalogue entry (JSON v1 and v2, every version: ``Library`` keeps the newest of each item)."""
    from desktop.domain.library_format import parse_entry

    out = []
    for stored in vault.records.by_kind("material"):
        try:
            doc = json.loads(unpack_record(stored.wire).b)
        except (ValueError, UnicodeDecodeError):
            continue
        fields = parse_entry(doc, stored.id)
        if fields is None:
            continue
        out.append(
            Material(
                id=stored.id,
                author=stored.author,
                title=fields["title"],
                specialty=fields["specialty"],
                kind=fields["kind"],
                language=fields["language"],
                summary=fields["summary"],
                size=fields["size"],
                sha256=fields["sha256"],
            )
        )
    return sorted(out, key=lambda m: m.title.casefold())
