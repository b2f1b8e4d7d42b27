"""Voice notes: a generated voice-like signal is encoded to Ogg Opus, sent sealed through a real server between two
real clients, opened and decoded on the other side; notes over the limits and anything that is not Ogg Opus are
refused before they are sealed or decoded; without a microphone the recorder says so plainly; the player's seek
bar moves the playback position."""

from __future__ import annotations

import array
import math
from pathlib import Path

import pytest

from desktop.domain import audio_device, voice
from tests.clients import Client

RATE = voice.RATE


def voice_like(seconds: float, rate: int = RATE) -> bytes:
    """A vowel-ish tone: a 130 Hz fundamental with falling harmonics, its loudness moving at syllable rate (4 Hz),
    and a pause every second, as speech has."""
    samples = array.array("h")
    for i in range(int(seconds * rate)):
        t = i / rate
        envelope = (0.6 + 0.4 * math.sin(2 * math.pi * 4 * t)) * (0.1 if (t % 1.0) > 0.8 else 1.0)
        pitch = 130 * (1 + 0.05 * math.sin(2 * math.pi * 0.5 * t))
        tone = sum(math.sin(2 * math.pi * k * pitch * t) / k for k in range(1, 8)) / 2.6
        samples.append(int(9000 * envelope * tone))
    return samples.tobytes()


@pytest.fixture(scope="module")
def eight_seconds() -> tuple[bytes, bytes]:
    pcm = voice_like(8)
    return pcm, voice.encode(pcm, RATE)


def _sync(*clients: Client) -> None:
    for client in clients:
        client.engine().sync_once()
        client.messaging().take_in()


@pytest.fixture
def pair(client_factory):
    student, mentor = client_factory(), client_factory("mentor")
    student.publish_card("Amina Student")
    mentor.publish_card("Dr Kofi Mensah", role="mentor")
    _sync(student, mentor, student, mentor)
    return student, mentor


def test_a_voice_note_travels_sealed_and_plays_on_the_other_side(pair, server, tmp_path: Path, eight_seconds):
    from desktop.domain.session import Session
    from desktop.domain.settings import SettingsStore

    student, mentor = pair
    pcm, note = eight_seconds
    sessions = {
        c.account: Session(c.vault, tmp_path / name, SettingsStore(tmp_path / f"{name}.json"))
        for c, name in ((student, "s"), (mentor, "m"))
    }
    try:
        chat = sessions[student.account].messaging
        thread = chat.start_direct(mentor.account.hex())
        sent = chat.send(thread, "A voice note for you", attachment=voice.attachment(note))
        sessions[student.account].engine.sync_once()
        assert chat.attachment(sent)["state"] == "uploaded"
        sessions[mentor.account].engine.sync_once()
        theirs = sessions[mentor.account].messaging
        if theirs.attachment(sent)["state"] != "downloaded":
            sessions[mentor.account].download_attachment(sent)
        entry = theirs.attachment(sent)
        assert entry["mime"] == "audio/ogg" and entry["state"] == "downloaded"
        assert theirs.message(sent).body == "A voice note for you"
        received = theirs.attachment_bytes(sent)
        decoded, rate = voice.decode(received)
        seconds = len(decoded) / 2 / rate
        assert abs(seconds - 8) <= 8 * 0.02
        assert abs(voice.duration(received) - 8) <= 8 * 0.02
        assert len(received) * 60 / seconds <= 100_000  # bytes per minute, the container included
        assert len(received) < len(pcm) / 20  # it is compressed, not the raw signal
        server_bytes = b"".join(p.read_bytes() for p in Path(server.data_dir).rglob("*") if p.is_file())
        assert note[:200] not in server_bytes  # the server only ever held it sealed
    finally:
        for session in sessions.values():
            session.stop()


def test_a_minute_of_speech_stays_under_100_kb_without_numpy():
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['numpy'] = None\n"  # as in the package, which leaves numpy out
        "from desktop.domain import voice\n"
        "print(voice.decode(voice.encode(bytes(32000), 16000))[1])"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout.strip() == "16000", run.stderr
    note = voice.encode(voice_like(60), RATE)
    assert abs(voice.duration(note) - 60) <= 60 * 0.02
    assert len(note) <= 100_000


def test_a_note_over_the_size_limit_is_refused_before_it_is_sealed(pair):
    from desktop.domain import sndfile

    student, mentor = pair
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    queued = len(student.vault.records.by_state("outbound"))
    big = sndfile.write(voice_like(6), RATE, sndfile.OPUS, 0.5)  # at a music bitrate: about 1 MB a minute
    with pytest.raises(voice.VoiceError) as refused:
        voice.check(big)
    assert refused.value.code == "too-large"
    with pytest.raises(voice.VoiceError) as refused:
        chat.send(thread, "", attachment=voice.NoteAttachment("big.ogg", big))
    assert refused.value.code == "too-large"
    assert len(student.vault.records.by_state("outbound")) == queued
    assert chat.attachments() == {} and chat.in_thread(thread) == []


def test_a_note_longer_than_ten_minutes_is_refused():
    with pytest.raises(voice.VoiceError) as refused:
        voice.encode(bytes(2 * RATE * (voice.MAX_SECONDS + 1)), RATE)
    assert refused.value.code == "too-long"


def test_garbage_and_truncated_ogg_are_not_voice(eight_seconds):
    _pcm, note = eight_seconds
    from desktop.domain import sndfile

    vorbis = sndfile.write(voice_like(1), RATE, sndfile.VORBIS)
    hostile = [
        b"",
        b"not audio at all" * 100,
        note[: len(note) // 2],  # cut in the middle of a page
        note[:-1],
        note[:4096] + b"OggS" + b"\xff" * 40,  # a page header claiming more than there is
        vorbis,  # Ogg, but not Opus
        b"RIFF" + note[4:],
    ]
    for data in hostile:
        for call in (voice.check, voice.decode, voice.duration):
            with pytest.raises(voice.VoiceError) as refused:
                call(data)
            assert refused.value.code == "not-voice"


def _no_inputs():
    """The operating system's real device list; only if this machine has a microphone, an empty list instead."""
    try:
        real = audio_device.inputs()
    except audio_device.NoAudioLibrary:
        return None
    return None if not real else (lambda: [])


def test_without_a_microphone_the_recorder_says_so(qtbot):
    from desktop.ui.views.voice_note import VoiceRecorder

    recorder = VoiceRecorder(devices=_no_inputs())
    qtbot.addWidget(recorder)
    with pytest.raises(audio_device.NoMicrophone):
        audio_device.Recorder(devices=_no_inputs()).start()
    recorder.record_button.click()
    assert recorder.status.text().startswith("No microphone found")
    assert not recorder.recorder.recording and not recorder.send_button.isEnabled()
    assert recorder.record_button.accessibleName() == "Record a voice note"


def test_without_the_audio_library_the_recorder_says_so(qtbot, monkeypatch):
    import builtins

    from desktop.ui.views.voice_note import VoiceRecorder

    real_import = builtins.__import__

    def no_sounddevice(name, *args, **kwargs):  # what a machine without PortAudio raises
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_sounddevice)
    recorder = VoiceRecorder()
    qtbot.addWidget(recorder)
    recorder.record_button.click()
    assert recorder.status.text().startswith("Voice notes need the audio library")


def test_the_seek_bar_moves_playback_to_that_position(qtbot, eight_seconds):
    from desktop.ui.views.voice_note import VoicePlayer

    _pcm, note = eight_seconds
    player = VoicePlayer(devices=lambda: [])
    qtbot.addWidget(player)
    player.load(note)
    assert player.seek_bar.maximum() == pytest.approx(8000, abs=8000 * 0.02)
    assert player.time.text() == "0:00 / 0:08"
    player.seek_bar.setValue(5000)
    assert player.cursor.seconds == pytest.approx(5.0)
    assert player.time.text() == "0:05 / 0:08"
    decoded, rate = voice.decode(note)
    assert player.cursor.read(160) == decoded[5 * rate * 2 : 5 * rate * 2 + 320]  # it plays from there
    player.play_button.click()  # no speaker on this machine (or none offered): said plainly
    assert player.status.text().startswith("No speaker")
    player.load(b"garbage")
    assert player.status.text().startswith("This is not a voice note") and not player.play_button.isEnabled()


def test_in_messages_a_voice_note_plays_and_the_recorder_says_there_is_no_microphone(
    make_app, server, tmp_path, eight_seconds
):
    from tests.clients import card_holder

    _pcm, note = eight_seconds
    page = make_app()
    me = page.set_up_in(server.url, server.invite("mentor"), "Dr Voice", "violet harbour lantern")
    student = card_holder(tmp_path / "student", server, "Student Voice")
    chat = student.messaging()
    chat.send(chat.start_direct(me), "listen", voice.attachment(note))
    engine = student.engine()
    for message_id, entry in chat.pending_uploads():
        engine.upload_blob(chat.sealed_attachment(entry))
        chat.uploaded(message_id)
    engine.sync_once()
    page.sync_now()
    page.qtbot.waitUntil(lambda: bool(page.app.session.messaging.threads()), timeout=20_000)
    page.open_view("messages")
    view = page.screen.messages
    page.screen.refresh()
    view.thread_list.setCurrentIndex(view.thread_model.index(0))
    row = next(r for r, m in enumerate(view.conversation_model.messages) if m.body == "listen")
    view.conversation.setCurrentIndex(view.conversation_model.index(row))
    if view.pane.player.isHidden():  # not fetched by itself yet: the person asks for it
        page._press(view.download_button)
        page.qtbot.waitUntil(lambda: not view.pane.player.isHidden(), timeout=20_000)
    assert view.pane.player.time.text() == "0:00 / 0:08" and view.pane.player.play_button.isEnabled()
    view.conversation.setCurrentIndex(view.conversation_model.index(row))
    assert not view.pane.player.isHidden()

    recorder = view.box.recorder
    assert recorder.isHidden()
    page._press(view.box.voice_button)
    assert not recorder.isHidden()
    recorder.recorder.devices = _no_inputs()
    page._press(recorder.record_button)
    assert recorder.status.text().startswith("No microphone found")
    student.vault.close()


@pytest.mark.parametrize("width,height,scale", [(1024, 600, 1.0), (1280, 800, 2.0)])
def test_messages_fit_with_the_recorder_and_the_player_shown(qapp, eight_seconds, width, height, scale):
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QApplication

    from tests.screenshots import pump
    from tests.test_fit import _student_with_a_plan, problems_of, put_in_state

    _pcm, note = eight_seconds
    with _student_with_a_plan(qapp, QApplication.font().pointSizeF() * scale) as (osler, attachment):
        size = QSize(width, height)
        osler.window.resize(size)
        osler.window.show()
        put_in_state(osler, "messages", attachment)
        messages = osler.main.messages
        messages.box.voice_button.click()
        messages.pane.player.load(note)
        messages.pane.player.show()
        pump(QApplication.instance(), 0.1)
        assert not messages.box.recorder.isHidden()
        assert problems_of(osler.window, size) == []


def test_stop_encodes_what_was_captured_and_send_hands_over_the_note(qtbot):
    from desktop.ui.views.voice_note import VoiceRecorder

    recorder = VoiceRecorder(devices=lambda: [])
    qtbot.addWidget(recorder)
    recorder.recorder._chunks.extend(voice_like(3))  # what three seconds at the microphone leave in the buffer
    recorder.stop()
    qtbot.waitUntil(lambda: recorder.send_button.isEnabled(), timeout=20_000)
    assert recorder.elapsed.text().startswith("0:03 · ")
    assert recorder.status.text() == "Recorded. Send it, or discard it."
    with qtbot.waitSignal(recorder.send_wanted) as sent:
        recorder.send_button.click()
    assert abs(voice.duration(sent.args[0]) - 3) <= 3 * 0.02
    recorder.sent()
    assert not recorder.send_button.isEnabled() and recorder.record_button.isEnabled()
