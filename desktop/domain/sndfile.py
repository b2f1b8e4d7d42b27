"""libsndfile, in memory, on bytes: the few calls voice notes need.

The library and its C declarations come from the `soundfile` package (its wheels bundle libsndfile 1.2 in
`_soundfile_data`, and `_soundfile` is its compiled cffi declaration module), but `soundfile.py` itself is not
imported: it imports numpy at load time, which would add about 13 MB to the download for arrays voice notes do
not need. Files never touch the disk: libsndfile reads and writes through virtual I/O callbacks on a BytesIO.
Without the package, a Debian/Homebrew libsndfile found on the system is used (`find_library("sndfile")`).
"""

from __future__ import annotations

import ctypes.util
import io
import os
import platform
import sys
import threading
from functools import cache

OGG = 0x200000
OPUS = 0x0064
VORBIS = 0x0060
_SEEK = {0: io.SEEK_SET, 1: io.SEEK_CUR, 2: io.SEEK_END}
_lock = threading.Lock()  # sf_error(NULL) after a failed open is global


class SndfileError(RuntimeError):
    pass


def _packaged_name() -> str:
    machine = platform.machine().lower()
    if sys.platform == "darwin":
        return f"libsndfile_{machine}.dylib"
    if sys.platform == "win32":
        return "libsndfile_arm64.dll" if "arm" in machine else "libsndfile_x64.dll"
    return "libsndfile_arm64.so" if machine in ("aarch64", "arm64") else f"libsndfile_{machine}.so"


@cache
def _library():  # type: ignore[no-untyped-def]
    """(ffi, lib); ImportError or OSError when neither the bundled nor a system libsndfile loads."""
    from _soundfile import ffi

    try:
        import _soundfile_data

        return ffi, ffi.dlopen(os.path.join(os.path.dirname(_soundfile_data.__file__), _packaged_name()))
    except (ImportError, OSError, TypeError):
        name = ctypes.util.find_library("sndfile")
        if name is None:
            raise OSError("libsndfile not found") from None
        return ffi, ffi.dlopen(name)


def version() -> str:
    ffi, lib = _library()
    return ffi.string(lib.sf_version_string()).decode()


class _Virtual:
    """The SF_VIRTUAL_IO callbacks over one BytesIO (kept alive as long as the handle)."""

    def __init__(self, ffi, handle: io.BytesIO) -> None:  # type: ignore[no-untyped-def]
        self.handle = handle

        @ffi.callback("sf_vio_get_filelen")
        def length(_user):  # type: ignore[no-untyped-def]
            return len(handle.getbuffer())

        @ffi.callback("sf_vio_seek")
        def seek(offset, whence, _user):  # type: ignore[no-untyped-def]
            return handle.seek(offset, _SEEK.get(whence, io.SEEK_SET))

        @ffi.callback("sf_vio_read")
        def read(ptr, count, _user):  # type: ignore[no-untyped-def]
            return handle.readinto(ffi.buffer(ptr, count))

        @ffi.callback("sf_vio_write")
        def write(ptr, count, _user):  # type: ignore[no-untyped-def]
            return handle.write(ffi.buffer(ptr, count)[:])

        @ffi.callback("sf_vio_tell")
        def tell(_user):  # type: ignore[no-untyped-def]
            return handle.tell()

        self.callbacks = (length, seek, read, write, tell)
        self.io = ffi.new(
            "SF_VIRTUAL_IO*", {"get_filelen": length, "seek": seek, "read": read, "write": write, "tell": tell}
        )


def _open(ffi, lib, handle: io.BytesIO, mode: int, info):  # type: ignore[no-untyped-def]
    virtual = _Virtual(ffi, handle)
    with _lock:
        sf = lib.sf_open_virtual(virtual.io, mode, info, ffi.NULL)
        if sf == ffi.NULL:
            raise SndfileError(ffi.string(lib.sf_strerror(ffi.NULL)).decode("utf-8", "replace"))
    return sf, virtual


def write(pcm: bytes, rate: int, subtype: int = OPUS, compression: float | None = None) -> bytes:
    """Ogg (Opus or Vorbis) bytes for s16le mono ``pcm``; ``compression`` is libsndfile's level, 0..1."""
    ffi, lib = _library()
    info = ffi.new("SF_INFO*")
    info.samplerate, info.channels, info.format = rate, 1, OGG | subtype
    out = io.BytesIO()
    sf, _virtual = _open(ffi, lib, out, lib.SFM_WRITE, info)
    try:
        if compression is not None:
            level = ffi.new("double*", compression)
            if lib.sf_command(sf, lib.SFC_SET_COMPRESSION_LEVEL, level, ffi.sizeof("double")) != lib.SF_TRUE:
                raise SndfileError("libsndfile refused the compression level")
        frames = len(pcm) // 2
        if frames and lib.sf_writef_short(sf, ffi.from_buffer("short[]", pcm), frames) != frames:
            raise SndfileError(ffi.string(lib.sf_strerror(sf)).decode("utf-8", "replace"))
    finally:
        lib.sf_close(sf)
    return out.getvalue()


def read(data: bytes) -> tuple[bytes, int, int, int]:
    """(s16le PCM, rate, channels, format) of an audio file held in memory; SndfileError if libsndfile can't."""
    ffi, lib = _library()
    info = ffi.new("SF_INFO*")
    sf, _virtual = _open(ffi, lib, io.BytesIO(data), lib.SFM_READ, info)
    try:
        channels, frames = info.channels, info.frames
        if channels < 1 or frames < 0:
            raise SndfileError("no audio")
        chunks, block = [], 16_384
        buffer = ffi.new("short[]", block * channels)
        while True:
            got = lib.sf_readf_short(sf, buffer, block)
            if got <= 0:
                break
            chunks.append(ffi.buffer(buffer, got * channels * 2)[:])
        return b"".join(chunks), info.samplerate, channels, info.format
    finally:
        lib.sf_close(sf)


class Stream:
    """An audio file held in memory, open for reading a few frames at a time (playback decodes as it goes, so a
    long lecture never sits in memory as PCM). SndfileError if libsndfile cannot read it."""

    def __init__(self, data: bytes) -> None:
        ffi, lib = _library()
        self._ffi, self._lib = ffi, lib
        info = ffi.new("SF_INFO*")
        self._sf, self._virtual = _open(ffi, lib, io.BytesIO(data), lib.SFM_READ, info)
        self.rate, self.channels, self.frames, self.format = info.samplerate, info.channels, info.frames, info.format
        self._buffer = ffi.NULL
        self._block = 0

    def seek(self, frame: int) -> int:
        got = self._lib.sf_seek(self._sf, frame, 0)
        if got < 0:
            raise SndfileError("seek failed")
        return int(got)

    def read(self, frames: int) -> bytes:
        """Up to ``frames`` frames of s16le interleaved PCM; b"" at the end."""
        if frames <= 0 or self._sf is None:
            return b""
        if frames > self._block:
            self._buffer, self._block = self._ffi.new("short[]", frames * self.channels), frames
        got = self._lib.sf_readf_short(self._sf, self._buffer, frames)
        return self._ffi.buffer(self._buffer, max(0, got) * self.channels * 2)[:]

    def close(self) -> None:
        sf, self._sf = self._sf, None
        if sf is not None:
            self._lib.sf_close(sf)
