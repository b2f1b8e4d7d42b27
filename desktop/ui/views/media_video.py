"""The Library's video pane: a short video played from the vault's bytes in memory through Qt Multimedia.

Qt Multimedia is in PySide6-Addons, an optional extra (`pip install "osler[video]"`; packaging/README.md says
why it is not in the default package). The bytes go to ``QMediaPlayer.setSourceDevice`` through a ``QBuffer``:
Qt's FFmpeg reads them through its own I/O callbacks, so no plaintext copy is written anywhere. Without the
module (or, on Linux, without the PulseAudio client library it links to) the pane says what is missing and how
to get it, instead of a player.
"""

from __future__ import annotations

import sys
from functools import cache

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, QUrl
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button
from desktop.ui.views.voice_note import clock_text

MAX_VIDEO_BYTES = 200 * 1024 * 1024  # a short video: held in memory while it plays


@cache
def missing() -> str:
    """ "" when video can play here, else the sentence that says what is missing and how to get it."""
    try:
        from PySide6 import QtMultimedia, QtMultimediaWidgets  # noqa: F401
    except ImportError as exc:
        if "libpulse" in str(exc):
            return _(
                "Videos cannot play on this computer: Qt Multimedia needs the PulseAudio client library. "
                "On Debian or Ubuntu: sudo apt install libpulse0"
            )
        if getattr(sys, "frozen", False):  # the installed package: no pip to run
            return _(
                "Videos cannot play in this build of Osler: video playback (Qt Multimedia) was left out to keep "
                'the download about 10 MB smaller. Osler run from source plays them after: pip install "osler[video]"'
            )
        return _(
            "Videos cannot play in this installation of Osler: it was installed without Qt Multimedia, "
            'to keep the download small. To add it: pip install "osler[video]" (the PySide6-Addons package).'
        )
    return ""


class VideoPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(_("Video player"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Video player status"))
        self.player = None
        self.buffer: QBuffer | None = None
        reason = missing()
        if reason:
            self.status.setText(reason)
            layout.addWidget(self.status)
            layout.addStretch(1)
            return
        from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
        from PySide6.QtMultimediaWidgets import QVideoWidget

        self.video = QVideoWidget()
        self.video.setAccessibleName(_("Video"))
        self.video.setMinimumSize(160, 90)
        self.audio = QAudioOutput(self)
        self.player = QMediaPlayer(self)
        self.player.setAudioOutput(self.audio)
        self.player.setVideoOutput(self.video)
        row = QHBoxLayout()
        self.play_button = button(_("Pla&y"), _("Play video"), self.toggle)
        self.seek_bar = QSlider(Qt.Orientation.Horizontal)
        self.seek_bar.setAccessibleName(_("Position in the video"))
        self.seek_bar.setSingleStep(1000)
        self.seek_bar.setPageStep(5000)
        self.seek_bar.sliderMoved.connect(self.player.setPosition)
        self.seek_bar.actionTriggered.connect(lambda _a: self.player.setPosition(self.seek_bar.sliderPosition()))
        self.time = QLabel()
        self.time.setAccessibleName(_("Video time"))
        row.addWidget(self.play_button)
        row.addWidget(self.seek_bar, 1)
        row.addWidget(self.time)
        layout.addWidget(self.video, 1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.player.durationChanged.connect(self._duration)
        self.player.positionChanged.connect(self._position)
        self.player.playbackStateChanged.connect(self._state)
        self.player.errorOccurred.connect(self._error)
        self.player.mediaStatusChanged.connect(self._media_status)
        self.load(None)

    def load(self, data: bytes | None) -> None:
        """Plays nothing until Play; ``data`` stays in memory (a QBuffer) for as long as the pane shows it."""
        if self.player is None:
            return
        self.player.stop()
        self.player.setSourceDevice(None)
        if self.buffer is not None:
            self.buffer.close()
            self.buffer = None
        self.status.setStyleSheet("")
        self.status.setText("")
        self.seek_bar.setRange(0, 0)
        self.time.setText("")
        usable = data is not None and 0 < len(data) <= MAX_VIDEO_BYTES
        if data is not None and not usable:
            self._say(_("This video is too large to play here (over 200 MB)."))
        if usable:
            self.buffer = QBuffer(self)
            self.buffer.setData(QByteArray(data))
            self.buffer.open(QIODevice.OpenModeFlag.ReadOnly)
            self.player.setSourceDevice(self.buffer, QUrl("memory:video"))
        self.play_button.setEnabled(usable)
        self.seek_bar.setEnabled(usable)

    def unload(self) -> None:
        """Stops playing and forgets the video (another item opened, or the vault locked)."""
        self.load(None)

    def _say(self, text: str) -> None:
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(text)

    def toggle(self) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        if self.player is None:
            return
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

    def _state(self, state) -> None:  # type: ignore[no-untyped-def]
        from PySide6.QtMultimedia import QMediaPlayer

        playing = state == QMediaPlayer.PlaybackState.PlayingState
        self.play_button.setText(_("Pa&use") if playing else _("Pla&y"))
        self.play_button.setAccessibleName(_("Pause video") if playing else _("Play video"))

    def _duration(self, ms: int) -> None:
        self.seek_bar.setRange(0, max(0, ms))
        self._position(self.player.position() if self.player else 0)

    def _position(self, ms: int) -> None:
        if not self.seek_bar.isSliderDown():
            self.seek_bar.blockSignals(True)
            self.seek_bar.setValue(ms)
            self.seek_bar.blockSignals(False)
        length = self.player.duration() if self.player else 0
        self.time.setText(
            _("{position} / {length}").format(position=clock_text(ms / 1000), length=clock_text(length / 1000))
        )

    def _media_status(self, status) -> None:  # type: ignore[no-untyped-def]
        from PySide6.QtMultimedia import QMediaPlayer

        if status == QMediaPlayer.MediaStatus.InvalidMedia:
            self._damaged()

    def _error(self, error, _text: str = "") -> None:  # type: ignore[no-untyped-def]
        from PySide6.QtMultimedia import QMediaPlayer

        if error == QMediaPlayer.Error.FormatError:
            self._say(
                _(
                    "This video's format cannot be played on this computer. Osler plays MPEG-4 Part 2, MPEG-1, "
                    "MPEG-2 and Motion JPEG video (in MP4, Matroska or AVI) everywhere; other formats (H.264, VP9…) "
                    "only where the computer itself can decode them."
                )
            )
        elif error != QMediaPlayer.Error.NoError:
            self._damaged()

    def _damaged(self) -> None:
        self.play_button.setEnabled(False)
        if not self.status.text():
            self._say(_("This video cannot be played: it is damaged, or not a video."))
