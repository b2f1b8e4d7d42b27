"""Content packs (PROTOCOL.md §7.2): a programme's library carried on a USB stick or a shared folder.

A pack is a folder ``osler-pack-<name>/`` (or the same tree in one stored ``.zip``) holding ``manifest.osler`` and
``blobs/<sha256>``. The manifest is signed by an admin's device and names the programme, the signed ``material``
records themselves, and each blob's size, SHA-256 and part list (the SHA-256 of every 64 KiB chunk). This module
holds the format and who is trusted; ``content_pack_export`` writes packs, ``content_pack_import`` reads them.

Who is an admin, on a device that may never have seen the server's account list: the device's own account when
it joined as one, and the author of any record of an admin-only kind the device pulled (the server takes those
only from admins, §3.4): an admin's device publishes a public ``programme-admin`` record for that. A card's
``role`` is not believed: anyone writes their own card.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from desktop.domain import directory
from desktop.domain.sync_adapter import Program, queue_record
from desktop.i18n import _
from desktop.vault import Vault
from desktop.vault.blobs import CHUNK_SIZE, chunk_count_for
from sync import bundle, envelope
from sync.protocol import ADMIN_KINDS, MAX_BLOB_BYTES, HybridClock, Record, pack_record, unpack_record

FORMAT = "osler-pack"
VERSION = 1
MANIFEST = "manifest.osler"
MAGIC = b"osler-pack 1\n"
ADMIN_KIND = "programme-admin"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_ITEMS = 10_000
MAX_PACK_BYTES = 256 * 1024**3  # the sum of every blob a pack declares
PACK_KINDS = frozenset({"material"})  # the only kinds a pack may carry; never an admin kind


class PackRefused(Exception):
    """A pack that cannot be exported or imported; ``str()`` is a translated sentence for the person."""


@dataclass(frozen=True)
class PackBlob:
    sha256: str
    size: int
    parts: bytes  # the 32-byte SHA-256 of each 64 KiB chunk, concatenated

    def part(self, index: int) -> bytes:
        return self.parts[index * 32 : (index + 1) * 32]


@dataclass(frozen=True)
class Manifest:
    programme: str
    name: str
    created: int  # unix ms
    signer: str  # account hex
    device: str  # device hex
    records: tuple[Record, ...]
    blobs: tuple[PackBlob, ...]
    digest: str  # SHA-256 of the whole manifest file: names an import in progress


@dataclass(frozen=True)
class Entry:
    """What the manifest says of one material record."""

    record: Record
    title: str
    mime: str
    size: int
    sha256: str
    parts: str


def programme_id(program: Program) -> str:
    """The programme a device belongs to, as packs and sync bundles name it (``sync.bundle.programme_id``)."""
    return bundle.programme_id(program.server_key)


# -- who may sign ---------------------------------------------------------------------------------------------


def admin_accounts(vault: Vault, program: Program) -> set[str]:
    """Accounts this device knows to be admins of its programme (see the module's note)."""
    out = {program.credentials.account.hex()} if program.role == "admin" else set()
    for kind in ADMIN_KINDS:
        out.update(s.author for s in vault.records.by_kind(kind) if s.state in ("inbound", "applied"))
    return out


def announce_admin(vault: Vault, program: Program, clock: HybridClock) -> bool:
    """On an admin's device, queue the public ``programme-admin`` record once, so that every member's device
    learns at its next sync that this account may sign content packs. Returns whether one was queued."""
    me = program.credentials.account.hex()
    if program.role != "admin" or any(s.author == me for s in vault.records.by_kind(ADMIN_KIND)):
        return False
    body = json.dumps({"v": 1}).encode()
    queue_record(vault, program, clock, ADMIN_KIND, body, None, signed=True)
    return True


def device_key(vault: Vault, program: Program, account: str, device: str) -> bytes | None:
    """The Ed25519 public key of ``device`` of ``account`` as this device knows it: its own, or the device
    certified on the account's card."""
    creds = program.credentials
    if account == creds.account.hex() and device == creds.device.hex():
        return creds.key.public_bytes()
    for card in directory.cards(vault):
        if card.account != account:
            continue
        for entry in card.devices:
            if entry.device == device:
                return entry.sign
        if card.keys is not None and card.keys[0] == device:
            return card.keys[1]
    return None


# -- the manifest ---------------------------------------------------------------------------------------------


def _signed_input(body: bytes) -> bytes:
    return b"osler-pack-manifest\0" + body


def encode_manifest(program: Program, name: str, created: int, records: list[Record], blobs: list[PackBlob]) -> bytes:
    creds = program.credentials
    doc = {
        "format": FORMAT,
        "v": VERSION,
        "programme": programme_id(program),
        "name": name,
        "created": created,
        "signer": {"account": creds.account.hex(), "device": creds.device.hex()},
        "records": [base64.b64encode(pack_record(r)).decode() for r in records],
        "blobs": [{"sha256": b.sha256, "size": b.size, "parts": base64.b64encode(b.parts).decode()} for b in blobs],
    }
    body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    sig = envelope.sign_statement(creds.key, _signed_input(body))
    return MAGIC + b"sig " + base64.b64encode(sig) + b"\n" + body


def damaged() -> PackRefused:
    return PackRefused(_("This content pack is incomplete or damaged: copy it again from where it was made."))


def tampered() -> PackRefused:
    return PackRefused(
        _("This content pack was changed after it was made: a file in it does not match its signed manifest.")
    )


def _parse(data: bytes) -> tuple[dict, bytes, bytes]:
    if not data.startswith(MAGIC):
        if data.startswith(MAGIC[:11]):
            raise PackRefused(_("This content pack was made by a newer version of Osler: update Osler first."))
        raise PackRefused(_("This is not an Osler content pack."))
    head, newline, body = data[len(MAGIC) :].partition(b"\n")
    if not newline or not head.startswith(b"sig "):
        raise damaged()
    try:
        sig = base64.b64decode(head[4:], validate=True)
        doc = json.loads(body)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise damaged() from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise damaged()
    if doc.get("v") != VERSION:
        raise PackRefused(_("This content pack was made by a newer version of Osler: update Osler first."))
    return doc, sig, body


def _blob(item: object) -> PackBlob:
    if not isinstance(item, dict):
        raise damaged()
    sha, size, parts = item.get("sha256"), item.get("size"), item.get("parts")
    if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise damaged()
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_BLOB_BYTES:
        raise damaged()
    try:
        raw = base64.b64decode(parts, validate=True) if isinstance(parts, str) else b""
    except (ValueError, binascii.Error):
        raise damaged() from None
    if len(raw) != 32 * chunk_count_for(size):
        raise damaged()
    return PackBlob(sha, size, raw)


def read_manifest(vault: Vault, program: Program, data: bytes) -> Manifest:
    """Parse and check a manifest: the format, the programme, that an admin of it signed, the signature, and
    that the records agree with the blobs. Raises ``PackRefused``; changes nothing."""
    doc, sig, body = _parse(data)
    signer = doc.get("signer") if isinstance(doc.get("signer"), dict) else {}
    account, device = signer.get("account"), signer.get("device")
    if doc.get("programme") != programme_id(program):
        raise PackRefused(_("This content pack was made for another programme: it cannot be added here."))
    if not isinstance(account, str) or not isinstance(device, str):
        raise damaged()
    if account not in admin_accounts(vault, program):
        raise PackRefused(
            _(
                "This content pack was not signed by an admin of your programme that this computer knows. "
                "If an admin made it, sync once, then import it again."
            )
        )
    key = device_key(vault, program, account, device)
    if key is None:
        raise PackRefused(
            _("This computer does not know the device that signed this content pack yet: sync once, then try again.")
        )
    if not envelope.verify_statement(key, _signed_input(body), sig):
        raise PackRefused(
            _(
                "This content pack's signature does not match: it was changed after an admin signed it. "
                "Nothing was added."
            )
        )
    records, blobs = doc.get("records"), doc.get("blobs")
    if (
        not isinstance(records, list)
        or not isinstance(blobs, list)
        or len(records) > MAX_ITEMS
        or len(blobs) > MAX_ITEMS
    ):
        raise damaged()
    parsed_blobs = tuple(_blob(b) for b in blobs)
    if len({b.sha256 for b in parsed_blobs}) != len(parsed_blobs) or sum(b.size for b in parsed_blobs) > MAX_PACK_BYTES:
        raise damaged()
    parsed_records = []
    for item in records:
        try:
            parsed_records.append(unpack_record(base64.b64decode(item, validate=True)))
        except Exception:
            raise damaged() from None
    manifest = Manifest(
        doc["programme"],
        str(doc.get("name", ""))[:80],
        doc.get("created", 0) if isinstance(doc.get("created"), int) else 0,
        account,
        device,
        tuple(parsed_records),
        parsed_blobs,
        hashlib.sha256(data).hexdigest(),
    )
    by_sha = {b.sha256: b for b in parsed_blobs}
    known: dict[tuple[str, str], bytes | None] = {}  # the cards are read once, not once per record
    for entry in entries(manifest):
        blob = by_sha.get(entry.sha256)
        if blob is None or blob.size != entry.size:
            raise tampered()
        if entry.parts and hashlib.sha256(blob.parts).hexdigest() != entry.parts:
            raise tampered()
        record = entry.record
        origin = (record.a.hex(), record.d.hex())  # type: ignore[union-attr]
        if origin not in known:
            known[origin] = device_key(vault, program, *origin)
        author_key = known[origin]
        if author_key is not None and not envelope.verify_record(author_key, record, record.a, record.d):  # type: ignore[arg-type]
            raise tampered()
    return manifest


def material_doc(record: Record) -> dict | None:
    """The catalogue fields of a ``material`` body (JSON v1 or v2), or None when it is not one."""
    try:
        doc = json.loads(record.b)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("v") not in (1, 2):
        return None
    size, sha = doc.get("size"), doc.get("sha256")
    if not isinstance(size, int) or isinstance(size, bool) or not isinstance(sha, str) or len(sha) != 64:
        return None
    return doc


def entries(manifest: Manifest) -> list[Entry]:
    """Every record of the manifest as a material entry; anything else in it makes the pack refused."""
    out = []
    for record in manifest.records:
        doc = material_doc(record) if record.k in PACK_KINDS else None
        if doc is None or record.a is None or record.d is None or record.t is not None or record.s is None:
            raise tampered()
        parts = doc.get("parts", "")
        out.append(
            Entry(
                record,
                str(doc.get("title", ""))[:200],
                str(doc.get("mime", ""))[:80],
                doc["size"],
                doc["sha256"],
                parts if isinstance(parts, str) else "",
            )
        )
    return out


__all__ = [
    "CHUNK_SIZE",
    "MANIFEST",
    "Manifest",
    "PackBlob",
    "PackRefused",
    "admin_accounts",
    "announce_admin",
    "encode_manifest",
    "programme_id",
    "read_manifest",
]
