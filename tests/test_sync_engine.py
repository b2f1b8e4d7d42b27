"""Two or more real clients (vault files, registered devices) syncing through a real server on loopback."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from sync.client.errors import DeviceRevoked, IncompatibleServer, InsecureServerURL, Offline, RevokeSelf, WrongServer
from sync.client.scheduler import SyncScheduler, backoff_delay
from sync.client.transport import Transport, check_server_url
from tests.faultproxy import FaultProxy
from tests.servers import ProcessServer, ThreadServer
from tests.waiting import eventually

STEADY_SERVER = True  # its servers and clients share a clock on a fixed day (tests/conftest.py)


def test_messages_reach_their_audience_and_nobody_else(client_factory):
    student, mentor, outsider = client_factory(), client_factory("mentor"), client_factory()
    sent = [student.send(f"question {i}".encode(), [mentor.account]) for i in range(3)]
    announcement = mentor.send(b"programme-wide notice", None, kind="notice")
    student.engine().sync_once()
    mentor.engine().sync_once()
    outsider.engine().sync_once()
    student.engine().sync_once()

    assert [r.b for r in mentor.inbound()] == [r.b for r in sent]
    assert all(r.a == student.account and r.d == student.program.credentials.device for r in mentor.inbound())
    assert [r.b for r in outsider.inbound()] == [announcement.b]
    assert [r.b for r in student.inbound()] == [announcement.b], "own records are not echoed back"
    assert student.vault.records.outbox_totals() == (0, 0)
    assert len(student.vault.records.by_state("sent")) == 3


def test_large_outbox_goes_in_one_push_and_one_pull(client_factory):
    student, mentor = client_factory(), client_factory("mentor")
    for i in range(150):
        mentor.send(bytes([i]) * 400, [student.account])
    mentor.engine().sync_once()
    for i in range(150):
        student.send(bytes([i]) * 400, [mentor.account])
    progress = student.engine().sync_once()
    assert progress.requests == 2 and progress.records_up == 150 and progress.records_down == 150
    assert len(student.inbound()) == 150


def test_the_push_connection_opens_during_sign_in_not_after(client_factory, server):
    """On a long link, the second (push) connection's handshake overlaps sign-in by challenge and token (a server
    older than signed requests): it is open before the token comes."""
    student, mentor = client_factory(), client_factory("mentor")
    for i in range(60):
        student.send(bytes([i]) * 400, [mentor.account])
    with FaultProxy("127.0.0.1", server.port, latency_s=0.1) as proxy:
        engine = student.engine(url=proxy.url, sign_requests=False)  # an older server's way: challenge, token
        open_at_token: list[int] = []

        def on_answer(response, *args, **kwargs):
            if response.request.path_url == "/v1/auth/token":
                open_at_token.append(proxy.connections)

        engine.transport._session.hooks["response"].append(on_answer)
        progress = engine.sync_once()
    assert progress.records_up == 60
    assert open_at_token == [2], "the push connection was opened only after sign-in"
    assert proxy.connections == 2


@pytest.mark.parametrize("kind", ["embedded", "osler-server serve"])
def test_a_follow_up_sync_seconds_later_reuses_the_connection(tmp_path, kind):
    """A sync 6 s after the last one (uvicorn's default keep-alive is 5 s) goes on the connection already open."""
    from tests.clients import make_client

    running = ThreadServer(tmp_path / "srv") if kind == "embedded" else ProcessServer(tmp_path / "srv")
    running.start()
    try:
        student = make_client(tmp_path / "student", running.url, running.invite())
        with FaultProxy("127.0.0.1", running.port) as proxy:
            engine = student.engine(url=proxy.url)
            engine.sync_once()
            opened = proxy.connections
            time.sleep(6.0)
            student.send(b"receipt", None)
            assert engine.sync_once().records_up == 1
            assert proxy.connections == opened, "the follow-up sync had to open a new connection"
        student.vault.close()
    finally:
        running.stop()


def test_pull_in_pages_when_over_the_budget(client_factory):
    student, mentor = client_factory(), client_factory("mentor")
    for i in range(40):
        mentor.send(bytes([i]) * 1000, [student.account])
    mentor.engine().sync_once()
    progress = student.engine(pull_budget=8 * 1024).sync_once()
    assert progress.requests >= 5 and len(student.inbound()) == 40
    assert student.engine().sync_once().records_down == 0 and len(student.inbound()) == 40  # nothing twice


def test_server_down_keeps_the_queue_and_later_delivers(tmp_path, client_factory):
    from tests.clients import make_client

    proc = ProcessServer(tmp_path / "srv").start()
    try:
        a = make_client(tmp_path / "a", proc.url, proc.invite())
        b = make_client(tmp_path / "b", proc.url, proc.invite())
        a.send(b"written offline", [b.account])
        proc.stop()
        with pytest.raises(Offline):
            a.engine().sync_once()
        assert a.vault.records.outbox_totals()[0] == 1
        proc.start()
        a.engine().sync_once()
        b.engine().sync_once()
        assert [r.b for r in b.inbound()] == [b"written offline"]
    finally:
        proc.stop()


def test_revoked_device_is_told_so(client_factory, server):
    lost_laptop = client_factory()
    lost_laptop.engine().sync_once()
    import subprocess
    import sys

    subprocess.run(
        [
            sys.executable,
            "-m",
            "sync.server.cli",
            "--data-dir",
            str(server.data_dir),
            "revoke-device",
            lost_laptop.program.credentials.device.hex(),
        ],
        check=True,
        capture_output=True,
    )
    lost_laptop.send(b"after revocation", None)
    with pytest.raises(DeviceRevoked):
        lost_laptop.engine().sync_once()
    assert lost_laptop.vault.records.outbox_totals()[0] == 1, "queued work is kept"


def test_a_device_finds_itself_in_its_list_and_cannot_revoke_itself(client_factory):
    client = client_factory()
    engine = client.engine()
    token = engine._token_value(engine.transport)
    devices = engine.transport.list_devices(token)
    assert [d["device"] for d in devices] == [client.program.credentials.device.hex()]
    with pytest.raises(RevokeSelf):  # a slip must not lock the person out (issue 15)
        engine.transport.revoke_device(client.program.credentials.device, token)
    client.engine().sync_once()


def test_plain_http_to_another_host_is_refused_before_sending():
    with pytest.raises(InsecureServerURL):
        Transport("http://osler.example.org")
    assert check_server_url("http://osler.example.org", allow_insecure_http=True) == "http://osler.example.org"
    assert check_server_url("http://127.0.0.1:8470/") == "http://127.0.0.1:8470"
    assert check_server_url("https://osler.example.org/") == "https://osler.example.org"


class _NotOsler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html>Welcome to the hotel wifi</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _FutureOsler(http.server.BaseHTTPRequestHandler):
    """An Osler server from a later protocol version, which cannot exist here yet."""

    def do_GET(self):
        body = b'{"status": "ok", "protocol": 99, "version": "9.0"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_server_of_another_protocol_version_is_named_as_such():
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FutureOsler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        with pytest.raises(IncompatibleServer) as caught:
            Transport(f"http://127.0.0.1:{web.server_address[1]}").health()
        assert caught.value.server_protocol == 99 and not caught.value.retryable
    finally:
        web.shutdown()
        web.server_close()


def test_wrong_address_and_nothing_listening_are_told_apart():
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotOsler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        with pytest.raises(WrongServer):
            Transport(f"http://127.0.0.1:{web.server_address[1]}").health()
    finally:
        web.shutdown()
        web.server_close()
    from tests.servers import free_port

    with pytest.raises(Offline):
        Transport(f"http://127.0.0.1:{free_port()}").health()


def test_backoff_grows_caps_and_jitters():
    assert [backoff_delay(n, 5, 900, rng=lambda: 0.5) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff_delay(30, 5, 900, rng=lambda: 0.5) == 900
    assert backoff_delay(1, 5, 900, rng=lambda: 0.0) == 2.5 and backoff_delay(1, 5, 900, rng=lambda: 0.999) < 7.5


def test_scheduler_retries_then_syncs_when_the_server_returns(tmp_path):
    from tests.clients import make_client

    proc = ProcessServer(tmp_path / "srv").start()
    a = make_client(tmp_path / "a", proc.url, proc.invite())
    proc.stop()
    statuses = []
    scheduler = SyncScheduler(a.engine(), backoff_base=0.2, backoff_cap=0.5, debounce=0.05, on_status=statuses.append)
    scheduler.start()
    try:
        a.send(b"queued while offline", None)
        scheduler.local_change()
        assert eventually(
            lambda: any(s.last_error is not None and s.online is False and s.queued == 1 for s in statuses), timeout=20
        )
        assert isinstance(scheduler.status.last_error, Offline)
        proc.start()
        scheduler.connectivity_changed(True)
        assert eventually(
            lambda: scheduler.status.last_success is not None and not scheduler.status.syncing, timeout=20
        )
        assert scheduler.status.queued == 0 and scheduler.status.online is True
        assert scheduler.status.last_error is None
    finally:
        scheduler.stop()
        proc.stop()


def test_local_changes_are_debounced_into_one_sync(client_factory):
    a = client_factory()
    engine = a.engine()
    scheduler = SyncScheduler(engine, debounce=0.3, interval=3600)
    scheduler.start()
    try:
        assert eventually(
            lambda: scheduler.status.last_success is not None and not scheduler.status.syncing, timeout=20
        )
        first = scheduler.status.last_success
        for i in range(5):
            a.send(f"keystroke {i}".encode(), None)
            scheduler.local_change()
            time.sleep(0.05)
        assert eventually(lambda: scheduler.status.last_success != first and not scheduler.status.syncing, timeout=20)
        time.sleep(0.5)
        assert a.vault.records.outbox_totals()[0] == 0
        assert scheduler.status.progress.requests == 1
    finally:
        scheduler.stop()


def test_blobs_resume_and_verify(client_factory, tmp_path):
    a, b = client_factory(), client_factory()
    data = bytes(range(256)) * 1000  # 256,000 bytes: 4 chunks
    engine = a.engine()
    token = engine._token_value(engine.transport)
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    engine.transport.put_blob_chunk(sha, len(data), 2, data[2 * 65536 : 3 * 65536], token)  # a cut upload
    assert engine.transport.blob_missing(sha, len(data), token) == [0, 1, 3]
    assert engine.upload_blob(data) == sha
    assert engine.transport.blob_missing(sha, len(data), token) == []

    destination = tmp_path / "download.bin"
    (tmp_path / "download.bin.part").write_bytes(data[:100_000])  # a cut download
    b.engine().download_blob(sha, destination)
    assert destination.read_bytes() == data and not (tmp_path / "download.bin.part").exists()

    (tmp_path / "bad.bin.part").write_bytes(b"\0" * 100_000)  # a corrupt partial file is caught by the hash
    b.engine().download_blob(sha, tmp_path / "bad.bin")  # ... discarded, and the blob fetched from the start
    assert (tmp_path / "bad.bin").read_bytes() == data and not (tmp_path / "bad.bin.part").exists()


def test_scheduler_survives_an_unexpected_error_and_recovers(client_factory):
    from sync.client.errors import InternalError

    a = client_factory()
    scheduler = SyncScheduler(a.engine(), debounce=0.01, backoff_base=0.05, backoff_cap=0.1, interval=3600)
    scheduler.start()
    try:
        assert eventually(
            lambda: scheduler.status.last_success is not None and not scheduler.status.syncing, timeout=20
        )
        a.vault.lock()  # every vault call now fails with VaultLocked, which is no SyncError
        scheduler.sync_now()
        assert eventually(lambda: isinstance(scheduler.status.last_error, InternalError), timeout=20)
        assert scheduler._thread.is_alive()
        a.vault.unlock("client passphrase")
        a.send(b"after the hiccup", None)
        scheduler.sync_now()
        assert eventually(lambda: scheduler.status.last_error is None and scheduler.status.queued == 0, timeout=20)
    finally:
        scheduler.stop()
