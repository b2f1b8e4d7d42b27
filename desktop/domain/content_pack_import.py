"""Importing a content pack (PROTOCOL.md §7.2) into the vault, as if its items had been downloaded.

Order: the manifest is checked whole (``read_manifest``: programme, an admin's signature, records against blobs),
then every blob the pack holds: the size on the stick against the manifest first, then streamed, each 64 KiB
chunk checked against the part list before it is sealed into the vault's blob store (a few MiB per transaction),
the whole file against its SHA-256 before its last chunk is stored: a blob is complete (shown "On this computer")
only once all of it is verified. The records go in last, in one transaction, ignored by id when already here (a
later sync bringing the same records doubles nothing).

Resumable: a journal in the vault names the blobs this pack started; killed anywhere, the next import of the same
pack stores only the chunks still missing. Nothing half-imported shows: records are added only at the end, and a
blob without its last chunk is not complete. Refused half way (a tampered chunk, a truncated file), every blob
this pack started is removed: a pack is added whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop.domain.content_pack_source import PackSource, open_source
from desktop.domain.content_packs import (
    Entry,
    Manifest,
    PackBlob,
    PackRefused,
    damaged,
    entries,
    read_manifest,
    tampered,
)
from desktop.domain.sync_adapter import Program
from desktop.i18n import _
from desktop.vault import Vault
from desktop.vault.blobs import CHUNK_SIZE
from desktop.vault.faults import crash_point
from desktop.vault.records import StoredRecord
from sync.protocol import pack_record

BATCH_CHUNKS = 256  # 16 MiB of chunks per vault transaction (one commit, one fsync)
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


@dataclass(frozen=True)
class ImportResult:
    added: int  # items new on this computer
    already: int  # items that were already here, whole
    bytes_read: int  # from the pack


def _journal(manifest: Manifest) -> str:
    return f"pack-import:{manifest.digest}"


def _here(vault: Vault, blob: PackBlob) -> bool:
    info = vault.blobs.info(blob.sha256)
    return info is not None and info.complete and info.sha256 == blob.sha256


def import_pack(vault: Vault, program: Program, path: Path, progress: Progress | None = None) -> ImportResult:
    """Check and add the pack at ``path`` (a folder or a zip). Raises ``PackRefused`` with a translated message,
    leaving nothing half-imported behind."""
    try:
        source = open_source(path)
        try:
            return _import(vault, program, source, progress)
        finally:
            source.close()
    except OSError as error:  # the stick pulled out, a file unreadable: what is stored stays for next time
        raise PackRefused(
            _(
                "Osler could not read the pack ({reason}). Is the USB stick still plugged in? Import it again: "
                "it continues where it stopped."
            ).format(reason=error.strerror or type(error).__name__)
        ) from None


def _import(vault: Vault, program: Program, source: PackSource, progress: Progress | None) -> ImportResult:
    manifest = read_manifest(vault, program, source.manifest())
    items = entries(manifest)
    already = sum(1 for e in items if vault.records.get(e.record.i.hex()) is not None and _complete(vault, e))
    todo = [b for b in manifest.blobs if not _here(vault, b)]
    source.check_sizes({b.sha256: b.size for b in todo})
    total, done = sum(b.size for b in todo), 0
    meta = {e.sha256: e for e in items}
    journal = _journal(manifest)
    started: list[str] = json.loads(vault.get_secret(journal) or b"[]")
    try:
        for blob in todo:
            if vault.blobs.info(blob.sha256) is None:
                if blob.sha256 not in started:
                    started.append(blob.sha256)
                    vault.put_secret(journal, json.dumps(started).encode())
                entry = meta.get(blob.sha256)
                vault.blobs.begin(
                    blob.sha256, blob.size, blob.sha256, entry.title if entry else "", entry.mime if entry else ""
                )
            done = _fill(vault, source, blob, done, total, progress)
    except PackRefused:
        _undo(vault, started)
        vault.delete_secret(journal)
        raise
    new = [
        StoredRecord(e.record.i.hex(), e.record.k, e.record.a.hex(), e.record.h, pack_record(e.record), "inbound")  # type: ignore[union-attr]
        for e in items
    ]
    vault.records.take_in(new)
    vault.delete_secret(journal)
    if progress is not None:
        progress(total, total)
    return ImportResult(len(items) - already, already, done)


def _complete(vault: Vault, entry: Entry) -> bool:
    info = vault.blobs.info(entry.sha256)
    return info is not None and info.complete


class _Writer:
    """Stores verified batches on a thread of its own, so reading and hashing the next batch overlaps SQLite
    writing this one (sqlite3, hashlib and AES-GCM release the GIL). At most two batches wait."""

    def __init__(self, vault: Vault, blob_id: str) -> None:
        self.vault, self.blob_id, self.error = vault, blob_id, None
        self.queue: queue.Queue[list[tuple[int, bytes]] | None] = queue.Queue(maxsize=2)
        self.thread = threading.Thread(target=self._run, name="pack-import-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (batch := self.queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                self.vault.blobs.put_chunks(self.blob_id, batch)
                crash_point("pack:batch")
            except BaseException as error:  # handed to the importing thread
                self.error = error

    def put(self, batch: list[tuple[int, bytes]]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _fill(vault: Vault, source: PackSource, blob: PackBlob, done: int, total: int, progress: Progress | None) -> int:
    """Stream one blob from the pack: every chunk checked, the missing ones stored, the last one only after the
    whole file matched its SHA-256."""
    writer = _Writer(vault, blob.sha256)
    try:
        done, final = _stream(vault, source, blob, done, total, progress, writer)
    finally:
        writer.close()
    last = max(0, -(-blob.size // CHUNK_SIZE) - 1)
    if final is not None:
        vault.blobs.put_chunks(blob.sha256, [(last, final)])
    return done


def _stream(
    vault: Vault,
    source: PackSource,
    blob: PackBlob,
    done: int,
    total: int,
    progress: Progress | None,
    writer: _Writer,
) -> tuple[int, bytes | None]:
    """Read, check and hand over every chunk but the last; returns the last when it is missing (to be stored
    once the whole file is known good), else None."""
    missing = set(vault.blobs.missing_chunks(blob.sha256))
    last = max(0, -(-blob.size // CHUNK_SIZE) - 1)
    whole = hashlib.sha256()
    batch: list[tuple[int, bytes]] = []
    index, tail = 0, b""
    for block in source.blocks(blob.sha256, blob.size):
        whole.update(block)
        data = tail + block if tail else block
        offset = 0
        while len(data) - offset >= CHUNK_SIZE and index < last:
            chunk = data[offset : offset + CHUNK_SIZE]
            offset += CHUNK_SIZE
            if hashlib.sha256(chunk).digest() != blob.part(index):
                raise tampered()
            if index in missing:
                batch.append((index, chunk))
                if len(batch) >= BATCH_CHUNKS:
                    writer.put(batch)
                    batch = []
            index += 1
        tail = data[offset:]
        done += len(block)
        if progress is not None:
            progress(done, total)
    if index != last or len(tail) != blob.size - last * CHUNK_SIZE:
        raise damaged()
    if hashlib.sha256(tail).digest() != blob.part(last) or whole.hexdigest() != blob.sha256:
        raise tampered()
    if batch:
        writer.put(batch)
    return done, tail if last in missing else None


def _undo(vault: Vault, started: list[str]) -> None:
    """A refused pack adds nothing: every blob this pack started goes, whole or not (a blob that was here
    before, from a download or another pack, is not in ``started`` and stays)."""
    for sha in started:
        vault.blobs.delete(sha)


__all__ = ["ImportResult", "PackRefused", "import_pack"]
