"""The microphone and the speaker, through `sounddevice` (PortAudio: bundled in its Windows and macOS wheels,
Debian's `libportaudio2` on Linux). Raw streams of s16le mono bytes, so no numpy.

The import is guarded: without the library (or without PortAudio) the app still starts, and the recorder says
"Voice notes need the audio library". With it but no input device, NoMicrophone; no output device, NoSpeaker.
Both read the real device list; ``devices`` replaces only the operating system's list (tests, or a machine whose
list is known).

Nothing here keeps time by the clock: elapsed time is the number of samples captured or played.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from desktop.domain.media import AudioCursor, Position
from desktop.domain.voice import RATE
from desktop.i18n import N_, _

DeviceList = Callable[[], Sequence[dict]]


class AudioUnavailable(RuntimeError):
    message = N_("Voice notes need the audio library, which is missing on this computer.")

    def __init__(self) -> None:
        super().__init__(_(self.message))


class NoAudioLibrary(AudioUnavailable):
    pass


class NoMicrophone(AudioUnavailable):
    message = N_("No microphone found. Plug one in, or check that Osler may use it, then try again.")


class NoSpeaker(AudioUnavailable):
    message = N_("No speaker or headphones found to play this voice note.")


def _library():  # type: ignore[no-untyped-def]
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # not installed, or PortAudio missing (OSError from sounddevice)
        raise NoAudioLibrary() from exc
    return sounddevice


def _system_devices() -> Sequence[dict]:
    return list(_library().query_devices())


def inputs(devices: DeviceList | None = None) -> list[dict]:
    return [d for d in (devices or _system_devices)() if d.get("max_input_channels", 0) > 0]


def outputs(devices: DeviceList | None = None) -> list[dict]:
    return [d for d in (devices or _system_devices)() if d.get("max_output_channels", 0) > 0]


class Recorder:
    """Captures s16le mono from the default microphone into memory."""

    def __init__(self, rate: int = RATE, devices: DeviceList | None = None) -> None:
        self.rate, self.devices = rate, devices
        self._chunks = bytearray()
        self._lock = threading.Lock()
        self._stream = None

    def start(self) -> None:
        """Raises NoAudioLibrary or NoMicrophone before anything is opened."""
        library = _library()
        if not inputs(self.devices):
            raise NoMicrophone()
        self._chunks = bytearray()
        try:
            stream = library.RawInputStream(
                samplerate=self.rate, channels=1, dtype="int16", callback=self._captured, blocksize=0
            )
            stream.start()
        except library.PortAudioError as exc:
            raise NoMicrophone() from exc
        self._stream = stream

    def _captured(self, data, _frames, _time, _status) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            self._chunks.extend(bytes(data))

    @property
    def recording(self) -> bool:
        return self._stream is not None

    def stop(self) -> bytes:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()
        return self.pcm()

    def pcm(self) -> bytes:
        with self._lock:
            return bytes(self._chunks)

    @property
    def seconds(self) -> float:
        with self._lock:
            return len(self._chunks) / 2 / self.rate


class Cursor(Position):
    """Where playback stands in a PCM buffer: seek by seconds or by a fraction, read the next frames. Pure, so the
    seek bar's arithmetic is the same with or without a sound card."""

    channels = 1

    def __init__(self, pcm: bytes, rate: int) -> None:
        self.pcm, self.rate = pcm, rate
        self.frames = len(pcm) // 2
        self.frame = 0

    def seek(self, seconds: float) -> None:
        self.frame = self.frame_at(seconds)

    def read(self, frames: int) -> bytes:
        """The next ``frames`` frames (fewer at the end), and the position moves past them."""
        start = self.frame
        self.frame = min(self.frames, start + frames)
        return self.pcm[start * 2 : self.frame * 2]


class Player:
    """Plays a Cursor on the default output from where it stands; pausing keeps the position."""

    def __init__(
        self, cursor: Cursor | AudioCursor, devices: DeviceList | None = None, on_end: Callable[[], None] | None = None
    ):
        self.cursor, self.devices, self.on_end = cursor, devices, on_end
        self._stream = None
        self._lock = threading.Lock()

    def play(self) -> None:
        library = _library()
        if not outputs(self.devices):
            raise NoSpeaker()
        if self.cursor.finished:
            self.cursor.seek(0)
        try:
            stream = library.RawOutputStream(
                samplerate=self.cursor.rate,
                channels=self.cursor.channels,
                dtype="int16",
                callback=self._fill,
                finished_callback=self._ended,
            )
            stream.start()
        except library.PortAudioError as exc:
            raise NoSpeaker() from exc
        self._stream = stream

    def _fill(self, out, frames, _time, _status) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            chunk = self.cursor.read(frames)
        out[: len(chunk)] = chunk
        out[len(chunk) :] = b"\0" * (len(out) - len(chunk))
        if len(chunk) < len(out):
            raise _library().CallbackStop()

    def _ended(self) -> None:
        if self.on_end is not None and self.cursor.finished:
            self.on_end()

    @property
    def playing(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    def pause(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()

    def seek(self, seconds: float) -> None:
        with self._lock:
            self.cursor.seek(seconds)
