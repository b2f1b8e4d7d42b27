"""Voice notes: the codec and the checks, with no device and no Qt.

A note is Opus in an Ogg container (RFC 7845), mono, at a speech bitrate of 8.5 kbit/s, so a minute weighs about
60 KB with the container (the limit is 100 KB a minute). The encoder and decoder are libsndfile's (`sndfile.py`:
the libsndfile 1.2 that `soundfile`'s wheels bundle, which writes and reads Ogg Opus). The checks before a note is
sealed, or before a received one reaches libsndfile, are a small pure-Python walk over the Ogg pages: anything
that is not a complete Ogg Opus stream (garbage, a truncated file, a page claiming more bytes than there are, an
Opus header with a wrong size) is "not-voice", and nothing is decoded.

PCM in and out is signed 16-bit little-endian mono bytes, so nothing here needs numpy arrays.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from desktop.i18n import N_, _

MIME = "audio/ogg"
RATE = 16_000  # what the recorder captures: wideband speech
RATES = (8_000, 12_000, 16_000, 24_000, 48_000)  # what Opus takes as input
BITRATE = 8_500  # bit/s: speech, ~60 KB a minute (above ~9 kbit/s noisy rooms cost 100 KB a minute)
BYTES_PER_MINUTE = 100_000  # the limit a note must stay under, container included
MAX_SECONDS = 600  # ten minutes: a longer message is a call, or several notes
MAX_BYTES = BYTES_PER_MINUTE * MAX_SECONDS // 60
_FLOOR_SECONDS = 10  # a few seconds' note still carries the Ogg headers: judge it as if it lasted this long

# libsndfile maps its compression level (0..1) linearly onto Opus bitrates 256 kbit/s .. 6 kbit/s.
_COMPRESSION = 1 - (BITRATE - 6_000) / 250_000

_MESSAGES = {
    "too-large": N_("This voice note is too large to send (more than 100 KB a minute, or over 1 MB)."),
    "too-long": N_("Voice notes are limited to 10 minutes."),
    "not-voice": N_("This is not a voice note Osler can play (not Ogg Opus, or damaged)."),
    "no-codec": N_("Voice notes need the audio library, which is missing on this computer."),
}


class VoiceError(ValueError):
    """A note that cannot be sent or played; ``code`` is one of the keys above, str() the translated sentence."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(_(_MESSAGES[code]))


@dataclass(frozen=True)
class NoteAttachment:
    """A voice note ready for ``Messaging.send(thread, text, attachment)``: kept only in memory and then in the
    vault, never as a plaintext file."""

    name: str
    data: bytes
    mime: str = MIME


def _codec():  # type: ignore[no-untyped-def]
    from desktop.domain import sndfile

    try:
        sndfile.version()
    except (ImportError, OSError) as exc:  # not installed, or libsndfile missing
        raise VoiceError("no-codec") from exc
    return sndfile


def available() -> bool:
    try:
        _codec()
    except VoiceError:
        return False
    return True


def encode(pcm: bytes, rate: int = RATE) -> bytes:
    """Ogg Opus bytes for ``pcm`` (s16le mono at ``rate``); raises VoiceError when the result is over the limits."""
    if rate not in RATES:
        raise ValueError(f"Opus takes {RATES} Hz, not {rate}")
    if len(pcm) % 2:
        raise ValueError("16-bit PCM has an even number of bytes")
    if len(pcm) / 2 / rate > MAX_SECONDS:
        raise VoiceError("too-long")
    sndfile = _codec()
    data = sndfile.write(pcm, rate, sndfile.OPUS, _COMPRESSION)
    check(data)
    return data


def decode(data: bytes) -> tuple[bytes, int]:
    """(s16le mono PCM, rate) of a checked note; raises VoiceError("not-voice") for anything else."""
    check(data)
    sndfile = _codec()
    try:
        pcm, rate, channels, kind = sndfile.read(data)
    except sndfile.SndfileError as exc:
        raise VoiceError("not-voice") from exc
    if channels != 1 or kind & 0xFFFF != sndfile.OPUS:
        raise VoiceError("not-voice")
    return pcm, rate


def duration(data: bytes) -> float:
    """Seconds of audio in a note, read from its Ogg pages (no decoding); VoiceError("not-voice") if it is none."""
    return _walk(data)


def check(data: bytes) -> float:
    """The checks a note passes before it is sealed or played: a whole Ogg Opus stream, at most ten minutes, at
    most 100 KB a minute (and 1 MB). Returns the duration in seconds."""
    if len(data) > MAX_BYTES:
        raise VoiceError("too-large")
    seconds = _walk(data)
    if seconds > MAX_SECONDS:
        raise VoiceError("too-long")
    if len(data) > BYTES_PER_MINUTE * max(seconds, _FLOOR_SECONDS) / 60:
        raise VoiceError("too-large")
    return seconds


def attachment(data: bytes, name: str = "voice-note.ogg") -> NoteAttachment:
    """The checked note as an attachment for ``Messaging.send``."""
    check(data)
    return NoteAttachment(name, data)


def bytes_per_minute(data: bytes) -> float:
    seconds = _walk(data)
    return len(data) * 60 / seconds if seconds else float(len(data))


# -- the Ogg walk ----------------------------------------------------------------------------------------------

_PAGE = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, sequence, crc, segments
_EOS = 0x04


def _walk(data: bytes) -> float:
    """Every page in bounds, one logical stream, an OpusHead first (RFC 7845 §5.1), an end-of-stream page last."""
    offset, first, pre_skip, granule, serial, ended = 0, None, 0, -1, None, False
    end = len(data)
    while offset < end:
        if ended or end - offset < _PAGE.size:
            raise VoiceError("not-voice")
        capture, version, flags, page_granule, page_serial, _seq, _crc, count = _PAGE.unpack_from(data, offset)
        if capture != b"OggS" or version != 0 or (serial is not None and page_serial != serial):
            raise VoiceError("not-voice")
        serial = page_serial
        lacing_at = offset + _PAGE.size
        if lacing_at + count > end:
            raise VoiceError("not-voice")
        body = sum(data[lacing_at : lacing_at + count])
        body_at = lacing_at + count
        if body_at + body > end:
            raise VoiceError("not-voice")  # truncated: the page claims more than is there
        if first is None:
            first = data[body_at : body_at + body]
            if len(first) != 19 or not first.startswith(b"OpusHead") or first[8] != 1 or first[9] != 1:
                raise VoiceError("not-voice")  # version 1, mono
            pre_skip = struct.unpack_from("<H", first, 10)[0]
        if page_granule != -1:
            granule = page_granule
        ended = bool(flags & _EOS)
        offset = body_at + body
    if first is None or not ended or granule < 0:
        raise VoiceError("not-voice")
    return max(0, granule - pre_skip) / 48_000
