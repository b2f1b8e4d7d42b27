"""Voice notes in the UI: a recorder (Record / Stop / Send / Discard, with elapsed time and size) for the message
composer and for asynchronous meetings, and a player (Play/Pause, a seek bar, the time) for audio attachments.

Both say plainly when there is no microphone, no speaker, or no audio library; nothing is written to disk (the
recording stays in memory until it is sealed into the vault, and playback decodes from the vault in memory)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from desktop.domain import voice
from desktop.domain.audio_device import AudioUnavailable, Cursor, DeviceList, Player, Recorder
from desktop.domain.media import AudioCursor
from desktop.formatting import format_bytes
from desktop.i18n import N_, _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button
from desktop.ui.layout import FlowLayout
from desktop.ui.worker import Task, run_in_background

TICK_MS = 250


def clock_text(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


class VoiceRecorder(QWidget):
    """Records one voice note. ``send_wanted`` carries the encoded, checked Ogg Opus bytes; whoever sends it calls
    ``sent()`` (or ``say`` with the error)."""

    send_wanted = Signal(bytes)
    discarded = Signal()

    def __init__(self, devices: DeviceList | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(_("Voice note recorder"))
        self.recorder = Recorder(devices=devices)
        self.note: bytes | None = None
        self._tasks: set[Task] = set()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = FlowLayout()  # wraps at 200 % instead of widening the window
        self.record_button = button(_("&Record"), _("Record a voice note"), self.record)
        self.stop_button = button(_("Sto&p"), _("Stop recording"), self.stop)
        self.send_button = button(_("Send &voice note"), _("Send voice note"), self.send)
        self.discard_button = button(_("D&iscard"), _("Discard voice note"), self.discard)
        self.elapsed = QLabel()
        self.elapsed.setAccessibleName(_("Voice note length and size"))
        for widget in (self.record_button, self.stop_button, self.send_button, self.discard_button):
            row.addWidget(widget)
        row.addWidget(self.elapsed)
        layout.addLayout(row)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Voice note status"))
        layout.addWidget(self.status)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._show(0.0, 0)

    # -- state ------------------------------------------------------------------------------------------------

    def _buttons(self) -> None:
        recording = self.recorder.recording
        self.record_button.setEnabled(not recording and self.note is None)
        self.stop_button.setEnabled(recording)
        self.send_button.setEnabled(self.note is not None)
        self.discard_button.setEnabled(recording or self.note is not None)

    def _show(self, seconds: float, size: int) -> None:
        self.elapsed.setText(_("{time} · {size}").format(time=clock_text(seconds), size=format_bytes(size)))
        self._buttons()

    def say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    # -- actions ----------------------------------------------------------------------------------------------

    def record(self) -> None:
        self.note = None
        try:
            self.recorder.start()
        except AudioUnavailable as exc:
            self.say(str(exc), error=True)
            self._buttons()
            return
        self.say(_("Recording… Press Stop when you are done."))
        self.timer.start()
        self._tick()

    def _tick(self) -> None:
        seconds = self.recorder.seconds
        self._show(seconds, int(seconds * voice.BITRATE / 8))
        if seconds >= voice.MAX_SECONDS:
            self.stop()

    def stop(self) -> None:
        """Stops capture and encodes in the background (ten minutes take seconds); Send waits for it."""
        self.timer.stop()
        pcm, rate = self.recorder.stop(), self.recorder.rate
        self.stop_button.setEnabled(False)
        self.record_button.setEnabled(False)
        self.say(_("Preparing the voice note…"))

        def done(note: bytes) -> None:
            self._tasks.discard(task)
            self.note = note
            self._show(voice.duration(note), len(note))
            self.say(_("Recorded. Send it, or discard it."))

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            self.note = None
            self._show(0.0, 0)
            self.say(str(exc) if isinstance(exc, voice.VoiceError) else _("The recording could not be encoded."), True)

        task = run_in_background(lambda: voice.encode(pcm, rate), done, failed)
        self._tasks.add(task)

    def send(self) -> None:
        if self.note is not None:
            self.send_wanted.emit(self.note)

    def sent(self) -> None:
        self.note = None
        self._show(0.0, 0)
        self.say(_("Voice note sent."))

    def discard(self) -> None:
        self.timer.stop()
        if self.recorder.recording:
            self.recorder.stop()
        self.note = None
        self._show(0.0, 0)
        self.say(_("Voice note discarded."))
        self.discarded.emit()


class VoicePlayer(QWidget):
    """Plays one voice note: Play/Pause, a seek bar in milliseconds, and "0:12 / 1:05"."""

    PLAY_NAME = N_("Play voice note")
    PAUSE_NAME = N_("Pause voice note")

    def __init__(self, devices: DeviceList | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(_("Voice note player"))
        self.devices = devices
        self.cursor: Cursor | AudioCursor | None = None
        self.player: Player | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.play_button = button(_("Pla&y"), _(self.PLAY_NAME), self.toggle)
        self.seek_bar = QSlider(Qt.Orientation.Horizontal)
        self.seek_bar.setAccessibleName(_("Position in the voice note"))
        self.seek_bar.setSingleStep(1000)  # arrow keys: a second
        self.seek_bar.setPageStep(5000)  # Page Up/Down: five seconds
        self.seek_bar.valueChanged.connect(self._seek)
        self.time = QLabel()
        self.time.setAccessibleName(_("Voice note time"))
        row.addWidget(self.play_button)
        row.addWidget(self.seek_bar, 1)
        row.addWidget(self.time)
        layout.addLayout(row)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Voice note player status"))
        layout.addWidget(self.status)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._moving = False
        self.load(None)

    def load(self, data: bytes | None) -> None:
        """Decode ``data`` (the attachment's bytes, read from the vault) in memory; None empties the player."""
        self.pause()
        self.status.setText("")
        self.cursor = None
        if data is not None:
            try:
                self.cursor = self._open(data)
            except ValueError as exc:  # VoiceError, MediaError: a translated sentence
                self.status.setStyleSheet(ERROR_STYLE)
                self.status.setText(str(exc))
        self.player = Player(self.cursor, self.devices, on_end=None) if self.cursor else None
        self._moving = True  # a shorter item clamps the old position: that must not seek the new one to its end
        self.seek_bar.setRange(0, int(self.cursor.total * 1000) if self.cursor else 0)
        self._moving = False
        self.play_button.setEnabled(self.cursor is not None)
        self.seek_bar.setEnabled(self.cursor is not None)
        self._show()

    def _open(self, data: bytes) -> Cursor:
        """The decoded note; a subclass plays other audio (``media_panes.AudioPane``)."""
        pcm, rate = voice.decode(data)
        return Cursor(pcm, rate)

    def _show(self) -> None:
        if self.cursor is None:
            self.time.setText("")
            return
        self._moving = True
        self.seek_bar.setValue(int(self.cursor.seconds * 1000))
        self._moving = False
        self.time.setText(
            _("{position} / {length}").format(
                position=clock_text(self.cursor.seconds), length=clock_text(self.cursor.total)
            )
        )

    def _seek(self, value: int) -> None:
        if self._moving or self.player is None:
            return
        self.player.seek(value / 1000)
        self._show()

    def toggle(self) -> None:
        if self.player is None:
            return
        if self.player.playing:
            self.pause()
            return
        try:
            self.player.play()
        except AudioUnavailable as exc:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(str(exc))
            return
        self.play_button.setText(_("Pa&use"))
        self.play_button.setAccessibleName(_(self.PAUSE_NAME))
        self.timer.start()

    def pause(self) -> None:
        self.timer.stop()
        if self.player is not None:
            self.player.pause()
        self.play_button.setText(_("Pla&y"))
        self.play_button.setAccessibleName(_(self.PLAY_NAME))

    def _tick(self) -> None:
        self._show()
        if self.player is not None and not self.player.playing:
            self.pause()
