"""Library media without Qt: the limits an image must pass before it is decoded, and audio opened from the vault's
bytes for playback.

Audio is decoded by libsndfile (`sndfile.py`: Ogg Opus and Vorbis, FLAC, WAV, MP3) as it plays, a few frames at
a time from the bytes in memory, so a long lecture never becomes a file on disk, nor hundreds of megabytes of PCM.
``AudioCursor`` has the same face as the voice note player's ``Cursor`` (seek, read, seconds, total), so the same
``Player`` and seek bar play both.
"""

from __future__ import annotations

import threading

from desktop.formatting import format_number
from desktop.i18n import N_, _

# An image is refused before decoding when its header declares more than this: 40 megapixels is a 7,300 × 5,500
# photograph, 160 MB once decoded to 32-bit pixels. A "decompression bomb" (a small PNG declaring 30,000 × 30,000)
# never reaches the decoder.
MAX_PIXELS = 40_000_000
MAX_SIDE = 20_000
MAX_IMAGE_BYTES = 64 * 1024 * 1024
MAX_CHANNELS = 8
MAX_RATE = 384_000

_MESSAGES = {
    "not-image": N_("This image cannot be shown: it is damaged, or not a PNG, JPEG or WebP image."),
    "image-too-large": N_(
        "This image is too large to show safely ({width} × {height} pixels; Osler shows up to 40 megapixels)."
    ),
    "image-file-too-large": N_("This image file is too large to show (over 64 MB)."),
    "not-audio": N_("This audio cannot be played: it is damaged, or not Ogg, Opus, FLAC, WAV or MP3."),
    "no-codec": N_("Playing audio needs the audio library, which is missing on this computer."),
}


class MediaError(ValueError):
    """Media that cannot be shown or played; ``code`` is a key above, str() the translated sentence."""

    def __init__(self, code: str, **values: object) -> None:
        self.code = code
        super().__init__(_(_MESSAGES[code]).format(**values))


def check_image_size(width: int, height: int, length: int) -> None:
    """Refuses an image by what its header declares, before a pixel is decoded."""
    if length > MAX_IMAGE_BYTES:
        raise MediaError("image-file-too-large")
    if width <= 0 or height <= 0:
        raise MediaError("not-image")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise MediaError("image-too-large", width=format_number(width), height=format_number(height))


class Position:
    """Where playback stands, in frames of ``rate`` a second out of ``frames``: what a seek bar shows and moves."""

    rate: int
    frames: int
    frame: int

    @property
    def seconds(self) -> float:
        return self.frame / self.rate

    @property
    def total(self) -> float:
        return self.frames / self.rate

    @property
    def finished(self) -> bool:
        return self.frame >= self.frames

    def frame_at(self, seconds: float) -> int:
        return max(0, min(self.frames, round(seconds * self.rate)))


class AudioCursor(Position):
    """Where playback stands in an audio file held in memory; decodes only what is read. Thread-safe: the sound
    card's callback reads while the seek bar seeks."""

    def __init__(self, data: bytes) -> None:
        from desktop.domain import sndfile

        try:
            sndfile.version()
        except (ImportError, OSError) as exc:
            raise MediaError("no-codec") from exc
        try:
            self._stream = sndfile.Stream(data)
        except sndfile.SndfileError as exc:
            raise MediaError("not-audio") from exc
        stream = self._stream
        if not (0 < stream.channels <= MAX_CHANNELS and 0 < stream.rate <= MAX_RATE and 0 < stream.frames < 2**40):
            stream.close()
            raise MediaError("not-audio")
        self.rate, self.channels, self.frames = stream.rate, stream.channels, stream.frames
        self.frame = 0
        self._lock = threading.Lock()

    def seek(self, seconds: float) -> None:
        with self._lock:
            self.frame = self.frame_at(seconds)
            self._stream.seek(self.frame)

    def read(self, frames: int) -> bytes:
        """The next ``frames`` frames of s16le interleaved PCM (fewer at the end); the position moves past them."""
        with self._lock:
            chunk = self._stream.read(min(frames, self.frames - self.frame))
            got = len(chunk) // (2 * self.channels)
            self.frame = self.frames if got == 0 and frames > 0 else self.frame + got
            return chunk

    def close(self) -> None:
        with self._lock:
            self._stream.close()
