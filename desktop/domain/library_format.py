"""The library's formats (PROTOCOL.md §7.1), plain Python with no vault and no network: the ``material`` record
body (JSON v2; v1 still read), the part list that content-addresses a file's 64 KiB chunks, and the checks on
everything that crosses the boundary (a file to publish: its type sniffed from its bytes, never its name).

A part list is the 32-byte SHA-256 of each 65,536-byte chunk of the file, concatenated; the record's ``parts``
is the SHA-256 of that list (blank when the file is one chunk: its ``sha256`` already addresses it).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from desktop.i18n import N_, _
from sync.protocol import BLOB_CHUNK, MAX_BLOB_BYTES

PART_SIZE = BLOB_CHUNK  # a part is one chunk of the blob protocol (and of the vault's blob store)
MAX_FILE_BYTES = MAX_BLOB_BYTES
MAX_TITLE, MAX_SUMMARY, MAX_LICENCE = 200, 2000, 60
LEVELS = ("preclinical", "clinical", "postgraduate", "all")
LEVEL_NAMES = {
    "preclinical": N_("Preclinical"),
    "clinical": N_("Clinical"),
    "postgraduate": N_("Postgraduate"),
    "all": N_("All levels"),
}
LICENCES = ("CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC0-1.0", "all-rights-reserved")
MIMES = (
    "application/pdf",
    "text/markdown",
    "image/png",
    "image/jpeg",
    "image/webp",
    "audio/ogg",
    "audio/mpeg",
    "video/mp4",
    "video/webm",
)
# What a file's name says it is (only used to notice a file that is not what it says).
EXTENSIONS = {
    ".pdf": "application/pdf",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/markdown",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
}
KIND_OF_MIME = {
    "application/pdf": "paper",
    "text/markdown": "guide",
    "image/png": "image",
    "image/jpeg": "image",
    "image/webp": "image",
    "audio/ogg": "audio",
    "audio/mpeg": "audio",
    "video/mp4": "video",
    "video/webm": "video",
}
_WHAT = {
    "application/pdf": N_("a PDF"),
    "text/markdown": N_("a Markdown text"),
    "image/png": N_("a PNG image"),
    "image/jpeg": N_("a JPEG image"),
    "image/webp": N_("a WebP image"),
    "audio/ogg": N_("an Ogg audio file"),
    "audio/mpeg": N_("an MP3 audio file"),
    "video/mp4": N_("an MP4 video"),
    "video/webm": N_("a WebM video"),
}


class LibraryError(ValueError):
    """A refusal a person can read: ``code`` for tests and callers, the message translated."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def new_item_id() -> str:
    """22 characters of URL-safe base64: 128 random bits, stable across an item's versions."""
    return secrets.token_urlsafe(16)[:22]


# -- content ---------------------------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The type of a file from its first bytes (at least 64 wanted); None when it is none Osler publishes.
    Markdown is any UTF-8 text without control characters other than tab, newline and carriage return."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    return "text/markdown" if _is_text(head) else None


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as cut:  # the head may end inside a character
        if cut.start < len(head) - 3:
            return False
        text = head[: cut.start].decode("utf-8")
    return all(c >= " " or c in "\t\n\r\f" for c in text)


def part_list(chunks: Iterable[bytes]) -> bytes:
    """The SHA-256 of each chunk, concatenated (chunks of PART_SIZE, the last one shorter)."""
    return b"".join(hashlib.sha256(chunk).digest() for chunk in chunks)


def parts_of(data: bytes) -> bytes:
    return part_list(data[i : i + PART_SIZE] for i in range(0, max(len(data), 1), PART_SIZE))


def part_hash(index: int, parts: bytes) -> bytes:
    return parts[index * 32 : (index + 1) * 32]


def parts_match(parts: bytes, size: int, parts_sha: str) -> bool:
    """A fetched part list is the one the entry names, with one entry per chunk of a file of ``size`` bytes."""
    return hashlib.sha256(parts).hexdigest() == parts_sha and len(parts) == 32 * max(1, -(-size // PART_SIZE))


def check_part_list(parts: bytes, size: int, parts_sha: str) -> None:
    if not parts_match(parts, size, parts_sha):
        raise LibraryError("bad-parts", _("The file's part list does not match its catalogue entry."))


def check_chunk(index: int, data: bytes, parts: bytes) -> bool:
    """Whether chunk ``index`` is the one the part list names (a bad one is dropped and fetched again)."""
    return hashlib.sha256(data).digest() == part_hash(index, parts)


# -- the catalogue entry ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishMeta:
    """What a person types when publishing: checked by ``validate`` before anything is stored or sent."""

    title: str
    summary: str = ""
    specialty: str = ""
    language: str = "en"
    level: str = "all"
    licence: str = "CC-BY-4.0"
    kind: str = ""  # blank: from the file's type (guide, paper, image, audio, video)

    def validate(self) -> PublishMeta:
        title, summary = " ".join(self.title.split()), self.summary.strip()
        if not 1 <= len(title) <= MAX_TITLE:
            raise LibraryError("title", _("A title is 1 to 200 characters."))
        if len(summary) > MAX_SUMMARY:
            raise LibraryError("summary", _("A summary is at most 2,000 characters."))
        if self.level not in LEVELS:
            raise LibraryError("level", _("Choose a level: preclinical, clinical, postgraduate or all."))
        licence = self.licence.strip()
        if not 1 <= len(licence) <= MAX_LICENCE:
            raise LibraryError("licence", _("A licence is 1 to 60 characters."))
        language = self.language.strip() or "en"
        if len(language) > 35 or not all(c.isalnum() or c == "-" for c in language):
            raise LibraryError("language", _("A language is a code such as en, fr or pt-BR."))
        if len(self.specialty) > 80 or len(self.kind) > 20:
            raise LibraryError("specialty", _("A specialty is at most 80 characters."))
        return PublishMeta(title, summary, self.specialty.strip(), language, self.level, licence, self.kind.strip())


def check_file(name: str, size: int, head: bytes) -> str:
    """The type of a file to publish, or a translated refusal: empty, too large, of a type Osler does not
    publish, or not what its name says it is (a ``.pdf`` that is not a PDF)."""
    if size <= 0:
        raise LibraryError("empty", _("This file is empty."))
    if size > MAX_FILE_BYTES:
        raise LibraryError("too-large", _("Library files are limited to 512 MB."))
    mime = sniff(head)
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    claimed = EXTENSIONS.get(suffix)
    if mime is None:
        if claimed is not None:
            raise LibraryError("not-what-it-says", _("This file is not {what}.").format(what=_(_WHAT[claimed])))
        raise LibraryError("type", _("Osler publishes PDF, Markdown, images, audio and video files."))
    if claimed is not None and claimed != mime:
        raise LibraryError("not-what-it-says", _("This file is not {what}.").format(what=_(_WHAT[claimed])))
    return mime


def entry_body(
    meta: PublishMeta, item: str, version: int, replaces: str, mime: str, size: int, sha256: str, parts: str
) -> dict:
    """The catalogue entry (JSON v2) of one version of an item."""
    return {
        "v": 2,
        "item": item,
        "version": version,
        "replaces": replaces,
        "title": meta.title,
        "summary": meta.summary,
        "specialty": meta.specialty,
        "language": meta.language,
        "level": meta.level,
        "licence": meta.licence,
        "kind": meta.kind or KIND_OF_MIME.get(mime, "guide"),
        "mime": mime,
        "size": size,
        "sha256": sha256,
        "parts": parts,
    }


def encode_entry(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _text(doc: dict, name: str, limit: int, default: str = "") -> str:
    value = doc.get(name, default)
    return value[:limit] if isinstance(value, str) else default


def _hex64(value: object) -> str:
    ok = isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    return value if ok else ""  # type: ignore[return-value]


def parse_entry(doc: object, record_id: str, private: bool = False) -> dict | None:
    """The fields of a catalogue entry from someone else, checked; None when it is not one. A v1 entry is
    read as version 1 of an item named by its record id, Markdown, level "all", licence unstated. A private
    entry (its file a sealed attachment, fetched whole) needs no part list."""
    if not isinstance(doc, dict):
        return None
    size, sha = doc.get("size"), _hex64(doc.get("sha256"))
    title = " ".join(_text(doc, "title", MAX_TITLE).split())
    if not title or not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_FILE_BYTES or not sha:
        return None
    v2 = doc.get("v") == 2
    version = doc.get("version", 1) if v2 else 1
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version < 2**31:
        return None
    item = _text(doc, "item", 22) if v2 else record_id
    mime = _text(doc, "mime", 40, "text/markdown")
    if not item or mime not in MIMES:
        return None
    parts = _hex64(doc.get("parts")) if v2 else ""
    if v2 and size > PART_SIZE and not parts and not private:
        return None  # a file of several chunks is addressed by its part list
    level = _text(doc, "level", 20, "all")
    return {
        "item": item,
        "version": version,
        "replaces": _text(doc, "replaces", 32) if v2 else "",
        "title": title,
        "summary": _text(doc, "summary", MAX_SUMMARY),
        "specialty": _text(doc, "specialty", 80),
        "language": _text(doc, "language", 35, "en"),
        "level": level if level in LEVELS else "all",
        "licence": _text(doc, "licence", MAX_LICENCE),
        "kind": _text(doc, "kind", 20),
        "mime": mime,
        "size": size,
        "sha256": sha,
        "parts": parts,
    }
