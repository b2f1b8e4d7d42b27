"""Exporting a content pack (PROTOCOL.md §7.2): an admin writes chosen programme items, or the whole library held
on this computer, to ``osler-pack-<name>/`` or ``osler-pack-<name>.zip`` (stored, not compressed: the files are
PDFs and media). Only programme-wide ``material`` records go in, never a privately shared item. Everything is
written under a ``.partial`` name first and renamed at the end, so a cut export never looks like a pack.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from desktop.domain.content_packs import (
    MANIFEST,
    PackBlob,
    PackRefused,
    encode_manifest,
    material_doc,
)
from desktop.domain.sync_adapter import Program
from desktop.i18n import _
from desktop.vault import Vault
from desktop.vault.blobs import CHUNK_SIZE
from sync.protocol import Record, unpack_record

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportResult:
    path: Path
    items: int
    bytes: int
    skipped: int  # chosen items not on this computer (download them first)


def pack_name(name: str) -> str:
    """A folder-safe name: letters, digits and dashes, at most 60 characters."""
    slug = re.sub(r"[^\w-]+", "-", name.strip(), flags=re.UNICODE).strip("-_")[:60]
    return slug or "library"


def _records(vault: Vault, program: Program, ids: Iterable[str] | None) -> list[Record]:
    creds = program.credentials
    wanted = None if ids is None else set(ids)
    out = []
    for stored in vault.records.by_kind("material"):
        if wanted is not None and stored.id not in wanted:
            continue
        record = unpack_record(stored.wire)
        if record.t is not None or record.x or record.s is None or material_doc(record) is None:
            continue  # only programme-wide, signed catalogue entries travel in packs
        if record.a is None or record.d is None:
            if stored.author != creds.account.hex():
                continue
            record = record.with_origin(creds.account, creds.device)  # made here, not pulled back yet
        out.append(record)
    return out


def export_pack(
    vault: Vault,
    program: Program,
    destination: Path,
    name: str,
    *,
    items: Iterable[str] | None = None,
    as_zip: bool = False,
    now_ms: int = 0,
    progress: Progress | None = None,
) -> ExportResult:
    """Write a pack of the ``material`` records ``items`` (record ids; None: the whole library) that are whole in
    this vault. Admins only. Returns where it went."""
    if program.role != "admin":
        raise PackRefused(_("Only a programme admin can export a content pack."))
    chosen = _records(vault, program, items)
    here, skipped = [], 0
    for record in chosen:
        doc = material_doc(record)
        info = vault.blobs.info(doc["sha256"])  # type: ignore[index]
        if info is not None and info.complete:
            here.append(record)
        else:
            skipped += 1
    if not here:
        raise PackRefused(_("None of these items is on this computer yet: download them first, then export."))
    blobs: dict[str, int] = {}
    for record in here:
        doc = material_doc(record)
        blobs[doc["sha256"]] = doc["size"]  # type: ignore[index]
    total = sum(blobs.values())
    stem = f"osler-pack-{pack_name(name)}"
    try:
        Path(destination).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _unwritable(error) from None
    final = Path(destination) / (stem + (".zip" if as_zip else ""))
    if final.exists():
        raise PackRefused(_("There is already a pack with this name there: choose another name or place."))
    partial = final.with_name(final.name + ".partial")
    if partial.is_dir():
        shutil.rmtree(partial)
    elif partial.exists():
        partial.unlink()
    try:
        if as_zip:
            _write_zip(vault, program, partial, stem, here, blobs, name, now_ms, total, progress)
        else:
            _write_folder(vault, program, partial, here, blobs, name, now_ms, total, progress)
        os.replace(partial, final)
    except BaseException as error:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        elif partial.exists():
            partial.unlink()
        if isinstance(error, OSError):
            raise _unwritable(error) from None
        raise
    return ExportResult(final, len(here), total, skipped)


def _unwritable(error: OSError) -> PackRefused:
    return PackRefused(
        _("Osler could not write the pack there ({reason}). Nothing was left behind: choose another place.").format(
            reason=error.strerror or type(error).__name__
        )
    )


def _stream(vault: Vault, sha: str, write: Callable[[bytes], object], parts: list[bytes]) -> int:
    size = 0
    for chunk in vault.blobs.read(sha):  # each chunk authenticated; the whole SHA-256 checked at the end
        parts.append(hashlib.sha256(chunk).digest())
        write(chunk)
        size += len(chunk)
    if size == 0 and not parts:
        parts.append(hashlib.sha256(b"").digest())
    return size


def _write_folder(vault, program, folder: Path, records, blobs, name, now_ms, total, progress) -> None:
    (folder / "blobs").mkdir(parents=True)
    done, listed = 0, []
    for sha, size in blobs.items():
        parts: list[bytes] = []
        with (folder / "blobs" / sha).open("wb") as handle:
            _stream(vault, sha, handle.write, parts)
            handle.flush()
            os.fsync(handle.fileno())
        listed.append(PackBlob(sha, size, b"".join(parts)))
        done += size
        if progress is not None:
            progress(done, total)
    manifest = encode_manifest(program, name, now_ms, records, listed)
    with (folder / MANIFEST).open("wb") as handle:
        handle.write(manifest)
        handle.flush()
        os.fsync(handle.fileno())


def _write_zip(vault, program, path: Path, stem: str, records, blobs, name, now_ms, total, progress) -> None:
    done, listed = 0, []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for sha, size in blobs.items():
            parts: list[bytes] = []
            info = zipfile.ZipInfo(f"{stem}/blobs/{sha}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = size
            with archive.open(info, "w", force_zip64=size > 2**31) as handle:
                _stream(vault, sha, handle.write, parts)
            listed.append(PackBlob(sha, size, b"".join(parts)))
            done += size
            if progress is not None:
                progress(done, total)
        manifest = encode_manifest(program, name, now_ms, records, listed)
        info = zipfile.ZipInfo(f"{stem}/{MANIFEST}", date_time=(1980, 1, 1, 0, 0, 0))
        archive.writestr(info, manifest, compress_type=zipfile.ZIP_STORED)
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


__all__ = ["CHUNK_SIZE", "ExportResult", "export_pack", "pack_name"]
