"""The Library's media panes, through real widgets offscreen, on content generated here: a PNG drawn with QImage
zooms by buttons, keys and Ctrl+wheel and scrolls when larger than the pane; a decompression-bomb PNG and garbage
are refused with a clear sentence; a generated Ogg Opus and a stereo WAV play from memory with a working seek bar;
a Motion JPEG video plays from memory when Qt Multimedia is installed, and without it the pane says what is
missing and how to get it; nothing is written to the temp folder while any of them plays."""

from __future__ import annotations

import contextlib
import io
import struct
import tempfile
import wave
import zlib
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QIODevice, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QWheelEvent
from PySide6.QtWidgets import QApplication

from desktop.domain import sndfile, voice
from tests.conftest import PASSPHRASE
from tests.test_voice import voice_like

CANARY = b"CANARY-media-7f3a9c"


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """An empty temp folder for this test (TMPDIR for Qt and FFmpeg, tempfile for Python): it must stay empty.
    The machine's own temp folder is watched too (its top level: anything new holding the canary)."""
    system = Path(tempfile.gettempdir())
    before = {path.name for path in system.iterdir()}
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.rglob("*")) == []
    for path in system.iterdir():
        if path.name not in before and path.is_file():
            with contextlib.suppress(OSError):
                assert CANARY not in path.read_bytes(), path


def _png(width: int, height: int) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.fillRect(width // 4, height // 4, width // 2, height // 2, QColor("red"))
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _bomb(side: int = 30_000) -> bytes:
    """A real decompression bomb: a 1-bit 30,000 × 30,000 PNG of zeros (900 megapixels, 3.6 GB as 32-bit
    pixels) that weighs about 110 KB."""
    row = b"\0" * (1 + side // 8)
    squeeze = zlib.compressobj(9)
    body = b"".join(squeeze.compress(row * 1000) for _ in range(side // 1000)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def _wheel(widget, up: bool) -> None:
    center = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        center,
        widget.mapToGlobal(center),
        QPoint(0, 0),
        QPoint(0, 120 if up else -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_an_image_opens_fitted_and_zooms_by_buttons_keys_and_ctrl_wheel(qtbot, private_tmp):
    from desktop.ui.views.media_panes import ImagePane, media_pane

    assert media_pane("image/png") is ImagePane
    pane = ImagePane()
    qtbot.addWidget(pane)
    pane.resize(640, 480)
    pane.show()
    pane.activateWindow()
    qtbot.waitActive(pane)
    assert pane.load(_png(1600, 1200))
    viewport = pane.scroll.viewport()
    assert pane.zoom_label.text().startswith("Fit (")
    assert pane.picture.width() <= viewport.width() and pane.picture.height() <= viewport.height()
    assert pane.scroll.horizontalScrollBar().maximum() == 0  # fitted: nothing to scroll

    pane.actual_button.click()
    assert pane.zoom_label.text() == "100%" and pane.picture.width() == 1600
    assert pane.scroll.horizontalScrollBar().maximum() > 0  # larger than the pane: it scrolls
    pane.scroll.setFocus()
    qtbot.keyClick(pane.scroll, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert pane.zoom_label.text() == "125%"
    _wheel(viewport, up=True)
    assert pane.zoom_label.text() == "150%" and pane.picture.width() == 2400
    _wheel(viewport, up=False)
    pane.out_button.click()
    assert pane.zoom_label.text() == "100%"
    qtbot.keyClick(pane.scroll, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert pane.zoom_label.text() == "75%"
    qtbot.keyClick(pane.scroll, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert pane.zoom_label.text().startswith("Fit (")
    qtbot.keyClick(pane.scroll, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert pane.zoom_label.text() == "100%"
    for _step in range(20):
        pane.in_button.click() if pane.in_button.isEnabled() else None
    assert pane.picture.width() * pane.picture.height() <= 64_000_000  # zoom stops before a huge pixmap
    for control in (pane.fit_button, pane.actual_button, pane.in_button, pane.out_button, pane.scroll):
        assert control.accessibleName()


def test_a_decompression_bomb_png_and_damaged_images_are_refused_clearly(qtbot, private_tmp):
    from desktop.ui.views.media_panes import ImagePane

    pane = ImagePane()
    qtbot.addWidget(pane)
    bomb = _bomb()
    assert len(bomb) < 200_000
    assert not pane.load(bomb)
    assert pane.status.text() == (
        "This image is too large to show safely (30,000 × 30,000 pixels; Osler shows up to 40 megapixels)."
    )
    assert not pane.in_button.isEnabled()
    good = _png(200, 100)
    for bad in (b"garbage, not an image", good[: len(good) // 2], b"%PDF-1.7\n" + good):
        assert not pane.load(bad)
        assert pane.status.text().startswith("This image cannot be shown")
    assert pane.load(good) and pane.status.text() == ""


def _wav_stereo(seconds: float, rate: int = 8_000) -> bytes:
    mono = voice_like(seconds, rate)
    left = memoryview(mono).cast("h")
    frames = bytearray()
    for sample in left:
        frames += struct.pack("<hh", sample, -sample)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(bytes(frames))
    return out.getvalue()


def _close(got: bytes, want: bytes) -> bool:
    a, b = memoryview(got).cast("h"), memoryview(want).cast("h")
    error = sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(b)
    return len(a) == len(b) and error < 0.1 * sum(abs(y) for y in b) / len(b)


def test_audio_plays_from_memory_with_a_seek_bar_and_refuses_garbage(qtbot, private_tmp):
    from desktop.ui.views.media_panes import AudioPane, media_pane

    assert media_pane("audio/ogg") is AudioPane
    note = voice.encode(voice_like(6), voice.RATE)
    pane = AudioPane(devices=lambda: [])
    qtbot.addWidget(pane)
    pane.load(note)
    assert pane.seek_bar.maximum() == pytest.approx(6000, abs=150)
    assert pane.time.text() == "0:00 / 0:06"
    pane.seek_bar.setValue(4000)
    assert pane.time.text() == "0:04 / 0:06"
    decoded, rate, _channels, _format = sndfile.read(note)
    at = 4 * rate * 2
    # It plays from there, decoding as it goes (Opus restarts its decoder at a seek: near, not bit-exact).
    assert _close(pane.cursor.read(1600), decoded[at : at + 3200])
    pane.play_button.click()  # no speaker offered: said plainly
    assert pane.status.text().startswith("No speaker")
    assert pane.play_button.accessibleName() == "Play audio"

    stereo = _wav_stereo(3)
    pane.load(stereo)
    assert pane.status.text() == "" and pane.cursor.channels == 2
    assert pane.time.text() == "0:00 / 0:03"
    pane.seek_bar.setValue(2000)
    expected = stereo[44 + 2 * 8_000 * 4 :][:400]
    assert pane.cursor.read(100) == expected

    for bad in (b"garbage", note[: len(note) // 3] + CANARY, b"RIFF\xff\xff\xff\xffWAVEfmt "):
        pane.load(bad)
        if pane.cursor is None:
            assert pane.status.text().startswith("This audio cannot be played")
            assert not pane.play_button.isEnabled()


# -- video --------------------------------------------------------------------------------------------------------


def _mjpeg_avi(frames: int = 12, fps: int = 12, width: int = 64, height: int = 48) -> bytes:
    """A tiny Motion JPEG AVI: frames drawn with QImage, saved as JPEG, in a hand-written RIFF (plus a JUNK chunk
    carrying the canary)."""
    jpegs = []
    for index in range(frames):
        image = QImage(width, height, QImage.Format.Format_RGB32)
        image.fill(QColor.fromHsv(index * 30 % 360, 200, 220))
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        assert image.save(buffer, "JPEG")
        jpegs.append(bytes(buffer.data().data()))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return kind + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")

    def listing(kind: bytes, body: bytes) -> bytes:
        return chunk(b"LIST", kind + body)

    biggest = max(map(len, jpegs))
    avih = struct.pack("<IIIIIIIIII16x", 1_000_000 // fps, biggest * fps, 0, 0x10, frames, 0, 1, biggest, width, height)
    strh = struct.pack(
        "<4s4sIHHIIIIIIIIhhhh",
        b"vids",
        b"MJPG",
        0,
        0,
        0,
        0,
        1,
        fps,
        0,
        frames,
        biggest,
        0xFFFFFFFF,
        0,
        0,
        0,
        width,
        height,
    )
    strf = struct.pack("<IiiHH4sIiiII", 40, width, height, 1, 24, b"MJPG", width * height * 3, 0, 0, 0, 0)
    hdrl = listing(b"hdrl", chunk(b"avih", avih) + listing(b"strl", chunk(b"strh", strh) + chunk(b"strf", strf)))
    movi_body, index, offset = b"", b"", 4
    for jpeg in jpegs:
        piece = chunk(b"00dc", jpeg)
        index += struct.pack("<4sIII", b"00dc", 0x10, offset, len(jpeg))
        movi_body += piece
        offset += len(piece)
    body = b"AVI " + hdrl + chunk(b"JUNK", CANARY) + listing(b"movi", movi_body) + chunk(b"idx1", index)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_without_qt_multimedia_the_video_pane_says_what_is_missing_and_how_to_get_it(qtbot, monkeypatch):
    import builtins

    from desktop.ui.views import media_video

    real_import = builtins.__import__
    reason = {"text": "No module named 'PySide6.QtMultimedia'"}

    def no_multimedia(name, globals=None, locals=None, fromlist=(), level=0):  # type: ignore[no-untyped-def]
        if name.startswith("PySide6") and any("Multimedia" in item for item in fromlist or ()):
            raise ImportError(reason["text"])
        return real_import(name, globals, locals, fromlist, level)

    media_video.missing.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_multimedia)
    try:
        pane = media_video.VideoPane()
        qtbot.addWidget(pane)
        pane.load(b"anything")
        assert 'pip install "osler[video]"' in pane.status.text()
        assert pane.status.text().startswith("Videos cannot play in this installation of Osler")
        assert pane.player is None
        media_video.missing.cache_clear()
        reason["text"] = "libpulse.so.0: cannot open shared object file: No such file or directory"
        pane = media_video.VideoPane()  # Linux without the PulseAudio client library: the package is named
        qtbot.addWidget(pane)
        assert pane.status.text().endswith("sudo apt install libpulse0") and pane.player is None
    finally:
        media_video.missing.cache_clear()


def test_a_short_video_plays_from_memory_and_garbage_is_refused(qtbot, private_tmp):
    from desktop.ui.views import media_video

    if media_video.missing():
        pytest.skip(f"Qt Multimedia is not installed here: {media_video.missing()}")
    pane = media_video.VideoPane()
    qtbot.addWidget(pane)
    pane.resize(480, 360)
    pane.show()
    frames = []
    pane.video.videoSink().videoFrameChanged.connect(lambda frame: frames.append(frame.size()))
    pane.load(_mjpeg_avi())
    qtbot.waitUntil(lambda: pane.seek_bar.maximum() > 0, timeout=10_000)
    assert pane.seek_bar.maximum() == pytest.approx(1000, abs=100)  # twelve frames at 12 per second
    assert pane.time.text() == "0:00 / 0:01"
    pane.play_button.click()
    qtbot.waitUntil(lambda: len(frames) >= 2, timeout=10_000)
    assert frames[-1].width() == 64 and frames[-1].height() == 48
    assert pane.status.text() == ""
    pane.load(b"this is not a video " * 50)
    qtbot.waitUntil(lambda: pane.status.text() != "", timeout=10_000)
    assert pane.status.text().startswith(("This video cannot be played", "This video's format cannot be played"))


def test_every_media_pane_fits_1024_by_600_and_names_every_control(qtbot):
    from desktop.ui.views.media_panes import AudioPane, ImagePane
    from desktop.ui.views.media_video import VideoPane
    from tests.test_accessibility import unnamed

    for pane in (ImagePane(), AudioPane(devices=lambda: []), VideoPane()):
        qtbot.addWidget(pane)
        assert unnamed(pane) == [], type(pane).__name__
        hint = pane.minimumSizeHint()
        assert hint.width() <= 1024 // 2 and hint.height() <= 600 // 2, type(pane).__name__  # half the library page


def test_the_library_page_shows_the_demo_image_and_audio_in_media_panes_and_lets_them_go(make_app):
    from desktop.ui.views.media_panes import AudioPane, ImagePane

    page = make_app()
    page.enter_demo(PASSPHRASE)
    page.open_view("library")
    library = page.screen.library

    def open_row(mime: str):  # type: ignore[no-untyped-def]
        page.open_library_item(mime)
        page.qtbot.waitUntil(lambda: library.reader.media.layout().count() == 1, timeout=15_000)
        return library.reader.media.layout().itemAt(0).widget()

    image = open_row("image/png")
    assert isinstance(image, ImagePane) and not image.image.isNull() and image.status.text() == ""
    assert image.zoom_label.text().startswith("Fit (")
    image.in_button.click()
    assert not image.zoom_label.text().startswith("Fit")
    audio = open_row("audio/ogg")
    assert isinstance(audio, AudioPane) and audio.cursor is not None and audio.status.text() == ""
    assert audio.time.text() == "0:00 / 0:06"
    page.select_library_item("application/pdf")
    page.qtbot.waitUntil(lambda: library.reader.media.layout().count() == 0, timeout=15_000)
    assert audio.cursor is None  # the audio pane let its decoder go with its item


def test_media_refusals_are_translated_and_the_panes_work_right_to_left(qtbot):
    from desktop.app import apply_locale
    from desktop.ui.views.media_panes import AudioPane, ImagePane

    apply_locale("fr")
    try:
        image, audio = ImagePane(), AudioPane(devices=lambda: [])
        qtbot.addWidget(image)
        qtbot.addWidget(audio)
        image.load(_bomb(21_000))
        text = image.status.text()
        assert text.startswith("Cette image est trop grande pour être affichée sans risque (21")
        assert "000 × 21" in text and "21,000" not in text  # numbers written the French way
        audio.load(b"not audio at all")
        assert audio.status.text().startswith("Cet audio ne peut pas être lu")
        assert image.fit_button.text() == "&Ajuster à la fenêtre"
    finally:
        apply_locale("en")
    apply_locale("ar")
    try:
        pane = ImagePane()
        qtbot.addWidget(pane)
        pane.resize(500, 400)
        assert pane.isRightToLeft() and pane.load(_png(300, 200))
    finally:
        apply_locale("en")
