"""The Library's image and audio panes (video: `media_video.py`), each showing one item from the bytes the vault
gives (``session.library.open_bytes``), never from a file.

- ``ImagePane``: PNG, JPEG or WebP with zoom: Fit to window (shrinks only), 100 %, Zoom in/out (buttons, Ctrl+wheel,
  Ctrl++ / Ctrl+-, Ctrl+0 fit, Ctrl+1 100 %), scroll bars (and arrow keys) when larger than the pane. The header
  is read first and an image that declares more than 40 megapixels is refused before a pixel is decoded.
- ``AudioPane``: the voice note player (Play/Pause, seek bar, time) over any audio libsndfile reads, decoded as it
  plays.
- ``media_pane(mime)``: which pane shows a MIME type, or None (PDF and Markdown are the reader's).
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QObject, Qt
from PySide6.QtGui import QImage, QImageReader, QKeyEvent, QKeySequence, QPixmap, QWheelEvent
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop.domain.media import MAX_PIXELS, AudioCursor, MediaError, check_image_size
from desktop.formatting import format_number, format_percent
from desktop.i18n import N_, _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button
from desktop.ui.layout import FlowLayout
from desktop.ui.views.voice_note import VoicePlayer

ZOOM_STEPS = (0.1, 0.25, 0.33, 0.5, 0.67, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
_SHOWN_PIXELS = 64_000_000  # the largest zoomed picture drawn: 8 × a small image, never 8 × a 40 MP one
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
AUDIO_TYPES = ("audio/ogg", "audio/opus", "audio/mpeg", "audio/flac", "audio/wav", "audio/x-wav")


def decode_image(data: bytes) -> QImage:
    """The image in ``data``; MediaError when it is not one, or declares too many pixels (checked on the header,
    before decoding)."""
    if len(data) > 64 * 1024 * 1024:
        raise MediaError("image-file-too-large")
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)  # a phone photo stands the right way up
    if not reader.canRead() or bytes(reader.format().data()).lower() not in (b"png", b"jpeg", b"jpg", b"webp"):
        raise MediaError("not-image")
    size = reader.size()
    check_image_size(size.width(), size.height(), len(data))
    image = reader.read()
    if image.isNull():
        raise MediaError("not-image")
    return image


class ImagePane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(_("Image viewer"))
        self.image = QImage()
        self.scale = 1.0
        self.fitting = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = FlowLayout()
        self.fit_button = button(_("&Fit to window"), _("Fit the image to the window"), self.fit_to_window)
        self.actual_button = button(_("100 &%"), _("Show the image at its actual size"), self.actual_size)
        self.out_button = button(_("Zoom &out"), _("Zoom out"), self.zoom_out)
        self.in_button = button(_("Zoom &in"), _("Zoom in"), self.zoom_in)
        self.zoom_label = QLabel()
        self.zoom_label.setAccessibleName(_("Zoom level"))
        for widget in (self.fit_button, self.actual_button, self.out_button, self.in_button, self.zoom_label):
            row.addWidget(widget)
        layout.addLayout(row)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Image status"))
        self.status.setStyleSheet(ERROR_STYLE)
        layout.addWidget(self.status)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll = QScrollArea()
        self.scroll.setAccessibleName(_("Image"))
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # arrow keys scroll a zoomed image
        self.scroll.setWidget(self.picture)
        self.scroll.viewport().installEventFilter(self)
        layout.addWidget(self.scroll, 1)
        self._keys = (
            (QKeySequence(QKeySequence.StandardKey.ZoomIn), self.zoom_in),
            (QKeySequence("Ctrl+="), self.zoom_in),
            (QKeySequence(QKeySequence.StandardKey.ZoomOut), self.zoom_out),
            (QKeySequence("Ctrl+0"), self.fit_to_window),
            (QKeySequence("Ctrl+1"), self.actual_size),
        )
        self.load(None)

    def load(self, data: bytes | None) -> bool:
        """Shows the image in ``data`` fitted to the pane; a clear message instead when it cannot be shown."""
        self.status.setText("")
        self.image = QImage()
        if data is not None:
            try:
                self.image = decode_image(data)
            except MediaError as exc:
                self.status.setText(str(exc))
        self.scroll.setAccessibleDescription(
            _("{width} × {height} pixels").format(
                width=format_number(self.image.width()), height=format_number(self.image.height())
            )
            if not self.image.isNull()
            else ""
        )
        self.fitting = True
        self._render()
        return not self.image.isNull()

    def unload(self) -> None:
        """Forgets the picture (another item opened, or the vault locked)."""
        self.load(None)

    # -- zoom -------------------------------------------------------------------------------------------------

    def _fit_scale(self) -> float:
        if self.image.isNull():
            return 1.0
        area = self.scroll.viewport().size()
        return max(0.01, min(1.0, (area.width() - 2) / self.image.width(), (area.height() - 2) / self.image.height()))

    def _largest(self) -> float:
        pixels = max(1, self.image.width() * self.image.height())
        return max(1.0, min(ZOOM_STEPS[-1], (_SHOWN_PIXELS / pixels) ** 0.5))

    def _set(self, scale: float, fitting: bool = False) -> None:
        self.fitting = fitting
        self.scale = max(ZOOM_STEPS[0], min(self._largest(), scale))
        self._render()

    def zoom_in(self) -> None:
        self._set(next((s for s in ZOOM_STEPS if s > self.scale + 1e-6), ZOOM_STEPS[-1]))

    def zoom_out(self) -> None:
        self._set(next((s for s in reversed(ZOOM_STEPS) if s < self.scale - 1e-6), ZOOM_STEPS[0]))

    def actual_size(self) -> None:
        self._set(1.0)

    def fit_to_window(self) -> None:
        self._set(self._fit_scale(), fitting=True)

    def _render(self) -> None:
        shown = not self.image.isNull()
        for widget in (self.fit_button, self.actual_button, self.out_button, self.in_button):
            widget.setEnabled(shown)
        if not shown:
            self.picture.clear()
            self.picture.resize(0, 0)
            self.zoom_label.setText("")
            return
        if self.fitting:
            self.scale = self._fit_scale()
        width, height = max(1, int(self.image.width() * self.scale)), max(1, int(self.image.height() * self.scale))
        smooth = self.scale < 1  # shrinking smooths; enlarging shows the pixels as they are
        mode = Qt.TransformationMode.SmoothTransformation if smooth else Qt.TransformationMode.FastTransformation
        self.picture.setPixmap(QPixmap.fromImage(self.image.scaled(width, height, mode=mode)))
        self.picture.resize(width, height)
        percent = format_percent(round(self.scale, 2))
        self.zoom_label.setText(_("Fit ({percent})").format(percent=percent) if self.fitting else percent)
        self.in_button.setEnabled(self.scale < self._largest() - 1e-6)
        self.out_button.setEnabled(self.scale > ZOOM_STEPS[0] + 1e-6)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Ctrl++ / Ctrl+= zoom in, Ctrl+- out, Ctrl+0 fits, Ctrl+1 is 100 %: from the image or any button here."""
        pressed = QKeySequence(event.keyCombination())
        for key, slot in self._keys:
            if not self.image.isNull() and pressed.matches(key) == QKeySequence.SequenceMatch.ExactMatch:
                slot()
                event.accept()
                return
        super().keyPressEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.scroll.viewport():
            if isinstance(event, QWheelEvent) and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                if not self.image.isNull():
                    (self.zoom_in if event.angleDelta().y() > 0 else self.zoom_out)()
                return True
            if event.type() == QEvent.Type.Resize and self.fitting and not self.image.isNull():
                self._render()
        return super().eventFilter(watched, event)


class AudioPane(VoicePlayer):
    """A library item's audio, played from the vault's bytes: Ogg (Opus, Vorbis), FLAC, WAV or MP3."""

    PLAY_NAME = N_("Play audio")
    PAUSE_NAME = N_("Pause audio")

    def __init__(self, devices=None, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(devices, parent)
        self.setAccessibleName(_("Audio player"))
        self.seek_bar.setAccessibleName(_("Position in the audio"))
        self.time.setAccessibleName(_("Audio time"))
        self.status.setAccessibleName(_("Audio player status"))
        self.play_button.setAccessibleName(_(self.PLAY_NAME))

    def _open(self, data: bytes) -> AudioCursor:  # type: ignore[override]
        return AudioCursor(data)

    def load(self, data: bytes | None) -> None:
        old = self.cursor
        super().load(data)
        if isinstance(old, AudioCursor):
            old.close()

    def unload(self) -> None:
        """Stops playing and forgets the audio (another item opened, or the vault locked)."""
        self.load(None)


def media_pane(mime: str) -> type[QWidget] | None:
    """The pane that shows ``mime`` (each has ``load(bytes)``), or None for what the reader shows."""
    if mime in IMAGE_TYPES:
        return ImagePane
    if mime in AUDIO_TYPES:
        return AudioPane
    if mime.startswith("video/"):
        from desktop.ui.views.media_video import VideoPane

        return VideoPane
    return None


def open_media(item: object, data: bytes) -> QWidget | None:
    """The reader's ``media_hook``: a pane showing ``item`` (a LibraryItem) from ``data``, or None when it is
    not media. A pane that cannot show the bytes still comes back, saying why in its status line."""
    pane_type = media_pane(getattr(item, "mime", ""))
    if pane_type is None:
        return None
    pane = pane_type()
    pane.load(data)  # type: ignore[attr-defined]
    return pane


__all__ = ["MAX_PIXELS", "AudioPane", "ImagePane", "decode_image", "media_pane", "open_media"]
