"""Reading a content pack where it lies (a folder or one ``.zip``), streaming, without ever extracting to disk.

A zip is checked whole before a byte of any entry is read: only the names a pack has (``manifest.osler``,
``blobs/<sha256>``, under at most one ``osler-pack-<name>/`` folder; anything with ``..``, a drive, a backslash
or a leading slash is refused), no name twice, entries stored or deflated at a ratio of at most 1:100, entries
that do not overlap in the file (a classic bomb), and a declared total within ``MAX_PACK_BYTES``. Once the
manifest is read, each blob's declared size in the zip must be the size the signed manifest gives. Reading never
goes past the declared size.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from desktop.domain.content_packs import MANIFEST, MAX_ITEMS, MAX_MANIFEST_BYTES, MAX_PACK_BYTES, PackRefused, damaged
from desktop.i18n import _

MAX_RATIO = 100
READ_BLOCK = 1024 * 1024
_NAME = re.compile(r"^(?:osler-pack-[^/\\]{1,80}/)?(?:manifest\.osler|blobs/[0-9a-f]{64})$")
_FOLDER = re.compile(r"^(?:osler-pack-[^/\\]{1,80}/)?(?:blobs/)?$")  # folder entries a zip tool may add


def unsafe_names() -> PackRefused:
    return PackRefused(_("This zip file holds names that point outside its folder: it was refused, nothing was read."))


def bomb() -> PackRefused:
    return PackRefused(
        _("This zip file declares sizes that do not add up (a zip bomb?): it was refused, nothing was extracted.")
    )


class PackSource:
    """A pack to read: the manifest's bytes, then each blob as a stream of blocks of exactly its size."""

    def manifest(self) -> bytes:
        raise NotImplementedError

    def check_sizes(self, sizes: dict[str, int]) -> None:
        """Before reading any blob: each blob the manifest names is there, at its size."""

    def blocks(self, sha256: str, size: int) -> Iterator[bytes]:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _read_exact(handle: BinaryIO, size: int) -> Iterator[bytes]:
    left = size
    while left > 0:
        block = handle.read(min(READ_BLOCK, left))
        if not block:
            raise damaged()
        left -= len(block)
        yield block
    if handle.read(1):
        raise damaged()


class FolderSource(PackSource):
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        if not (self.folder / MANIFEST).is_file():
            raise PackRefused(_("There is no Osler content pack in this folder (no manifest.osler)."))

    def manifest(self) -> bytes:
        path = self.folder / MANIFEST
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise damaged()
        return path.read_bytes()

    def check_sizes(self, sizes: dict[str, int]) -> None:
        for sha, size in sizes.items():
            path = self.folder / "blobs" / sha
            if not path.is_file() or path.stat().st_size != size:
                raise damaged()

    def blocks(self, sha256: str, size: int) -> Iterator[bytes]:
        try:
            with (self.folder / "blobs" / sha256).open("rb") as handle:
                yield from _read_exact(handle, size)
        except FileNotFoundError:
            raise damaged() from None


class ZipSource(PackSource):
    def __init__(self, path: Path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError):
            raise damaged() from None
        try:
            self.entries = self._check(self.zip.infolist(), Path(path).stat().st_size)
        except BaseException:
            self.zip.close()
            raise

    @staticmethod
    def _check(infos: list[zipfile.ZipInfo], file_size: int) -> dict[str, zipfile.ZipInfo]:
        if len(infos) > MAX_ITEMS + 2:
            raise bomb()
        entries: dict[str, zipfile.ZipInfo] = {}
        roots = set()
        total = 0
        for info in infos:
            name = info.filename
            if info.is_dir() and name and _FOLDER.match(name) and ".." not in name:
                continue
            if not _NAME.match(name) or ".." in name or name.startswith("/"):
                raise unsafe_names()
            root, _slash, rest = name.partition("/") if name.startswith("osler-pack-") else ("", "", name)
            leaf = rest.removeprefix("blobs/")
            roots.add(root)
            if leaf in entries:
                raise bomb()
            if info.compress_type == zipfile.ZIP_STORED:
                if info.compress_size != info.file_size:
                    raise bomb()
            elif info.compress_type == zipfile.ZIP_DEFLATED:
                if info.file_size > MAX_RATIO * max(info.compress_size, 1):
                    raise bomb()
            else:
                raise PackRefused(_("This zip file uses a compression Osler does not read: make the pack again."))
            total += info.file_size
            if info.compress_size > file_size or total > MAX_PACK_BYTES:
                raise bomb()
            entries[leaf] = info
        if len(roots) > 1:
            raise unsafe_names()
        spans = sorted(
            (i.header_offset, i.header_offset + 30 + len(i.orig_filename.encode()) + i.compress_size)
            for i in entries.values()
        )
        for (_start, end), (start, _end) in itertools.pairwise(spans):
            if start < end:
                raise bomb()
        if spans and spans[-1][1] > file_size:
            raise damaged()
        return entries

    def manifest(self) -> bytes:
        info = self.entries.get(MANIFEST)
        if info is None:
            raise PackRefused(_("There is no Osler content pack in this zip file (no manifest.osler)."))
        if info.file_size > MAX_MANIFEST_BYTES:
            raise bomb()
        return b"".join(self._read(info, info.file_size))

    def check_sizes(self, sizes: dict[str, int]) -> None:
        if any(sha in self.entries and self.entries[sha].file_size != size for sha, size in sizes.items()):
            raise bomb()  # declared in the zip otherwise than in the signed manifest: refused before reading
        if any(sha not in self.entries for sha in sizes):
            raise damaged()

    def blocks(self, sha256: str, size: int) -> Iterator[bytes]:
        info = self.entries.get(sha256)
        if info is None or info.file_size != size:
            raise damaged()
        yield from self._read(info, size)

    def _read(self, info: zipfile.ZipInfo, size: int) -> Iterator[bytes]:
        try:
            with self.zip.open(info) as handle:
                yield from _read_exact(handle, size)  # type: ignore[arg-type]
        except (zipfile.BadZipFile, EOFError, OSError, ValueError):  # CRC mismatch, cut file, bad header
            raise damaged() from None

    def close(self) -> None:
        self.zip.close()


def open_source(path: Path) -> PackSource:
    path = Path(path)
    if path.is_dir():
        return FolderSource(path)
    if path.is_file() and path.name == MANIFEST:
        return FolderSource(path.parent)
    if path.is_file():
        return ZipSource(path)
    raise PackRefused(_("There is no content pack at this place."))
