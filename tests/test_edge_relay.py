"""The edge relay (``osler-server serve --relay-for URL``, PROTOCOL.md §13.6): a real origin server, the fault proxy
as the clinic's link to it, and a real relay server on loopback; devices registered on the origin through that link.

What a clinic notices: with the link up a device's bundle is answered at once; with it down the relay keeps the
bundle (202) and delivers it when the link is back, and the answer then waits at the relay for the device's next
visit; nothing is delivered twice; bundles of another programme or over the size limit are refused; a restarted
relay keeps its queue; the relay's data folder and logs hold none of what it carried.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import uvicorn

from sync.bundle import (
    BUNDLE_MEDIA,
    DEFAULT_BUDGET,
    MAX_BUNDLE_BYTES,
    RequestContent,
    open_answer,
    programme_id,
    write_request,
)
from sync.clock import ManualClock
from sync.protocol import unpack_record
from sync.server.app import SERVE_OPTIONS
from sync.server.embedded import _listen, free_port
from sync.server.relay import build
from tests.clients import Client, make_client
from tests.faultproxy import FaultProxy
from tests.servers import ThreadServer, wait_healthy
from tests.waiting import eventually

START = 1_796_083_200.0  # 2026-12-01 00:00 UTC: the relay's clock (never the date the test runs on)
CANARY = b"canary-7f3e: the patient in bed 4 asked about her results"


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("origin")
    with ThreadServer(folder) as server, FaultProxy("127.0.0.1", server.port) as link:
        yield server, link


def _down(link: FaultProxy) -> None:
    """The clinic's link goes down: every new connection is closed as soon as it opens, the open ones are cut."""
    link.configure(cut_after_bytes=0)
    for connection in list(link._conns):  # as tests/test_app.py does: kept-alive connections die with the link
        connection.abort(reset=True)


def _up(link: FaultProxy) -> None:
    link.configure(cut_after_bytes=None)


class Relay:
    """The relay's app on uvicorn in a thread; its forwarder is run by hand (``run_once``) unless started."""

    def __init__(self, data_dir: Path, relay_for: str, clock: ManualClock, **options: float) -> None:
        self.data_dir, self.clock = data_dir, clock
        options = {"interval": 3600, "refresh": 300, "forward_wait": 10, **options}
        self.app, self.forwarder = build(data_dir, relay_for, clock, **options)
        sock = _listen()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", **SERVE_OPTIONS))  # as serve
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        self._sock = sock
        wait_healthy(self.url)

    def post(self, data: bytes) -> requests.Response:
        return requests.post(f"{self.url}/v1/bundles", data=data, headers={"Content-Type": BUNDLE_MEDIA}, timeout=30)

    def health(self) -> dict:
        return requests.get(f"{self.url}/v1/health", timeout=10).json()

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
        self.forwarder.stop()
        self.app.state.store.close()


@pytest.fixture
def relay(origin, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    _server, link = origin
    _up(link)
    caplog.set_level(logging.DEBUG, logger="osler")
    made = Relay(tmp_path / "relay", link.url, ManualClock(START))
    yield made
    made.close()
    _up(link)
    _assert_no_content(made.data_dir, caplog.text)


@pytest.fixture
def people(origin, tmp_path: Path):
    """A student and a mentor registered on the origin through the clinic's link (their server URL is the link's)."""
    server, link = origin
    _up(link)
    student = make_client(tmp_path / "student", link.url, server.invite("student"))
    mentor = make_client(tmp_path / "mentor", link.url, server.invite("mentor"))
    yield student, mentor
    student.vault.close()
    mentor.vault.close()


def _request(server: ThreadServer, client: Client, at_ms: int) -> bytes:
    """A request bundle of ``client``'s outbox and cursor, as the desktop's export would make it."""
    creds = client.program.credentials
    content = RequestContent(
        account=client.account,
        device=creds.device,
        request=os.urandom(16),
        created_ms=at_ms,
        push=[unpack_record(r.wire) for r in client.vault.records.outbox(DEFAULT_BUDGET)],
        cursor=client.cursor(),
        grants_only=False,
        budget=DEFAULT_BUDGET,
        uploads=[],
        wants=[],
    )
    keys = server.storage.bundle_keys()
    return write_request(content, programme_id(client.server_url), keys.box_public, creds.key)


def _opened(server: ThreadServer, client: Client, answer: bytes):
    keys = server.storage.bundle_keys()
    creds = client.program.credentials
    return open_answer(answer, client.program.box, keys.sign_public, creds.device, programme_id(client.server_url))[1]


def _received(client: Client, body: bytes) -> int:
    client.engine().sync_once()
    return sum(r.b == body for r in client.inbound())


def _assert_no_content(folder: Path, logs: str) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert CANARY not in path.read_bytes(), path
            assert CANARY[:12] not in path.read_bytes(), path
    assert CANARY.decode() not in logs and CANARY[:12].decode() not in logs


def test_with_the_link_up_a_bundle_is_answered_at_once_and_delivered_once(origin, relay, people):
    server, _link = origin
    student, mentor = people
    student.send(CANARY, [mentor.account])
    answer = relay.post(_request(server, student, 1_000))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == BUNDLE_MEDIA
    opened = _opened(server, student, answer.content)
    assert opened.accepted == 1 and opened.cursor is not None
    assert _received(mentor, CANARY) == 1
    health = relay.health()
    assert health["relay_for"] == _link.url and health["status"] == "ok" and health["queued"] == 0


def test_with_the_link_down_the_relay_carries_then_delivers_and_the_answer_waits(origin, relay, people):
    server, link = origin
    student, mentor = people
    mentor.engine().sync_once()
    student.send(CANARY, [mentor.account])
    _down(link)
    kept = relay.post(_request(server, student, 1_000))
    assert kept.status_code == 202 and kept.json() == {"state": "carrying"}
    assert relay.health()["queued"] == 1
    assert relay.forwarder.run_once() == 0  # still down: nothing moves, nothing is lost
    assert relay.health()["queued"] == 1 and relay.health()["upstream"] == "down"

    _up(link)
    assert relay.forwarder.run_once() == 1
    assert relay.health()["queued"] == 0
    assert _received(mentor, CANARY) == 1
    reply = b"reply: come to the ward at 3"
    mentor.send(reply, [student.account])
    mentor.engine().sync_once()
    relay.clock.advance(301)  # the refresh is due: the relay asks for the student's answer again
    assert relay.forwarder.run_once() == 1

    _down(link)  # the student comes back while the clinic is offline: the answer is served from the relay
    served = relay.post(_request(server, student, 2_000))
    assert served.status_code == 200
    opened = _opened(server, student, served.content)
    assert reply in [r.b for r in opened.records]
    _up(link)
    assert relay.forwarder.run_once() == 1  # and the new request goes up once the link is back
    assert _received(mentor, CANARY) == 1
    relay.clock.advance(31 * 86_400)  # the student never comes back: after 30 days the relay forgets the device
    relay.forwarder.run_once()
    assert (relay.health()["devices"], relay.health()["answers"]) == (0, 0)


def test_queued_requests_go_up_in_arrival_order(origin, relay, people, tmp_path: Path):
    server, link = origin
    student, mentor = people
    coordinator = make_client(tmp_path / "coordinator", link.url, server.invite("mentor"))
    try:
        mentor.send(b"first, from the mentor", [coordinator.account])
        student.send(b"second, from the student", [coordinator.account])
        _down(link)
        assert relay.post(_request(server, mentor, 5_000)).status_code == 202
        assert relay.post(_request(server, student, 1_000)).status_code == 202  # made earlier, brought later
        _up(link)
        assert relay.forwarder.run_once() == 2
        coordinator.engine().sync_once()
        bodies = [r.b for r in coordinator.inbound() if r.b.startswith((b"first", b"second"))]
        assert bodies == [b"first, from the mentor", b"second, from the student"]  # the origin's seq order
    finally:
        coordinator.vault.close()


def test_the_same_request_twice_is_kept_once_and_pushed_once(origin, relay, people):
    server, link = origin
    student, mentor = people
    student.send(CANARY, [mentor.account])
    bundle = _request(server, student, 1_000)
    _down(link)
    assert relay.post(bundle).status_code == 202
    assert relay.post(bundle).status_code == 202
    assert relay.health()["queued"] == 1
    _up(link)
    assert relay.forwarder.run_once() == 1
    again = relay.post(bundle)  # brought a third time, after the origin answered: the held answer, no push
    assert again.status_code == 200 and _opened(server, student, again.content).accepted == 1
    assert relay.health()["forwarded"] == 1
    assert _received(mentor, CANARY) == 1


def test_bad_bundles_are_refused_clearly(origin, relay, people):
    server, _link = origin
    student, _mentor = people
    creds = student.program.credentials
    content = RequestContent(
        account=student.account,
        device=creds.device,
        request=os.urandom(16),
        created_ms=1_000,
        push=[],
        cursor=0,
        grants_only=False,
        budget=DEFAULT_BUDGET,
        uploads=[],
        wants=[],
    )
    other = write_request(
        content, programme_id("https://other.example"), server.storage.bundle_keys().box_public, creds.key
    )
    refused = relay.post(other)
    assert refused.status_code == 422 and refused.json()["code"] == "bundle-programme"
    assert relay.post(b"not a bundle at all").json()["code"] == "bad-encoding"
    port = int(relay.url.rsplit(":", 1)[1])
    head = f"POST /v1/bundles HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BUNDLE_BYTES + 1}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:  # declared too large: refused unread
        sock.sendall(head.encode() + b"OSLERSYNC\n")
        received = b""
        while piece := sock.recv(65536):
            received += piece
    assert received.startswith(b"HTTP/1.1 413") and b"too-large" in received
    # a device takes the programme's bundle key from the programme server only: a relay could put its own in place
    assert requests.get(f"{relay.url}/v1/bundle-key", timeout=10).json()["code"] == "not-found"
    assert relay.health()["queued"] == 0
    relay.app.state.store.close()  # the relay's own store fails (a full disk, say): a clear 503, never a 500
    broken = relay.post(_request(server, student, 1_000))
    assert broken.status_code == 503 and broken.json()["code"] == "relay-unavailable"


def test_a_slow_origin_does_not_hold_the_device_and_its_answer_waits_at_the_relay(origin, people, tmp_path: Path):
    server, link = origin
    student, mentor = people
    relay = Relay(tmp_path / "relay", link.url, ManualClock(START), forward_wait=0.5)
    try:
        student.send(CANARY, [mentor.account])
        bundle = _request(server, student, 1_000)
        link.configure(latency_s=1.0)  # a round trip to the origin takes 2 s or more: 4 times the device's wait
        assert relay.post(bundle).status_code == 202
        assert eventually(lambda: relay.health()["answers"] == 1)  # the forward went on without the device
        link.configure(latency_s=0.0)
        again = relay.post(bundle)
        assert again.status_code == 200 and _opened(server, student, again.content).accepted == 1
        assert relay.health()["forwarded"] == 1
    finally:
        link.configure(latency_s=0.0)
        relay.close()
    assert _received(mentor, CANARY) == 1
    _assert_no_content(relay.data_dir, "")


def test_a_full_relay_refuses_more_with_507_and_takes_again_once_it_delivered(origin, people, tmp_path: Path):
    server, link = origin
    student, mentor = people
    student.send(CANARY, [mentor.account])
    first, second = _request(server, student, 1_000), _request(server, student, 2_000)
    relay = Relay(tmp_path / "relay", link.url, ManualClock(START), max_queued_bytes=len(first) + len(second) - 1)
    try:
        _down(link)
        assert relay.post(first).status_code == 202
        full = relay.post(second)
        assert full.status_code == 507 and full.json()["code"] == "relay-full"
        assert relay.post(first).status_code == 202  # one already held takes no room
        _up(link)
        assert relay.forwarder.run_once() == 1
        assert relay.post(second).status_code == 200
    finally:
        relay.close()
    assert _received(mentor, CANARY) == 1


@pytest.mark.slow
def test_a_streamed_body_past_the_limit_is_413(relay):
    streamed = relay.post(iter([b"\0" * (1 << 20)] * 65))  # no declared length: counted as it comes, never held whole
    assert streamed.status_code == 413 and streamed.json()["code"] == "too-large"
    assert relay.health()["queued"] == 0


def test_the_origins_refusal_reaches_the_device_and_a_refused_request_is_dropped(origin, relay, people):
    server, link = origin
    student, mentor = people
    student.send(CANARY, [mentor.account])
    live, queued = _request(server, student, 1_000), _request(server, student, 2_000)
    assert server.storage.revoke_device(student.program.credentials.device)
    refused = relay.post(live)  # link up: the origin's verdict, passed on as it said it
    assert refused.status_code == 401 and refused.json()["code"] == "device-revoked"
    _down(link)
    assert relay.post(queued).status_code == 202
    _up(link)
    relay.forwarder.run_once()  # the origin refuses it for good: nothing stays queued, nothing is retried
    health = relay.health()
    assert (health["queued"], health["answers"], health["forwarded"]) == (0, 0, 0)
    assert _received(mentor, CANARY) == 0


def test_an_advertised_relay_is_found_on_the_lan_and_answers_the_desktops_hand_over(origin, relay, people):
    from desktop.domain.lan_discovery import Discovery
    from desktop.domain.lan_relay import post_bundle
    from sync.server.relay_advertise import Advertisement

    server, link = origin
    student, mentor = people
    programme = programme_id(link.url)
    port = int(relay.url.rsplit(":", 1)[1])
    announced = Advertisement(programme, "127.0.0.1", port, "Clinic relay", interfaces=["127.0.0.1"])
    browser = Discovery(programme, "WATC H000 0000 0000", "watcher", interfaces=["127.0.0.1"])
    try:
        assert eventually(lambda: any(p.edge for p in browser.peers()), timeout=20)
        [peer] = browser.peers()
        assert (peer.edge, peer.port, peer.fingerprint, peer.name) == (True, port, "", "Clinic relay")
        student.send(CANARY, [mentor.account])
        answer = post_bundle(peer.url, _request(server, student, 1_000))
        assert answer is not None and _opened(server, student, answer).accepted == 1
    finally:
        browser.close()
        announced.close()
    assert _received(mentor, CANARY) == 1


def _relay_process(data_dir: Path, port: int, relay_for: str, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "sync.server.cli", "--data-dir", str(data_dir), "serve", "--port", str(port)]
    command += ["--relay-for", relay_for, "--relay-interval", "0.2"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    wait_healthy(f"http://127.0.0.1:{port}", process=process)
    return process


@pytest.mark.slow
def test_a_killed_relay_keeps_its_queue_and_delivers_after_restart(origin, people, tmp_path: Path):
    server, link = origin
    student, mentor = people
    data_dir, log, port = tmp_path / "relay", tmp_path / "relay.log", free_port()
    url = f"http://127.0.0.1:{port}"
    student.send(CANARY, [mentor.account])
    _down(link)
    process = _relay_process(data_dir, port, link.url, log)
    try:
        kept = requests.post(f"{url}/v1/bundles", data=_request(server, student, 1_000), timeout=30)
        assert kept.status_code == 202
        process.send_signal(signal.SIGKILL)
        process.wait()
        process = _relay_process(data_dir, port, link.url, log)
        assert requests.get(f"{url}/v1/health", timeout=10).json()["queued"] == 1
        _up(link)
        assert eventually(lambda: requests.get(f"{url}/v1/health", timeout=10).json()["queued"] == 0)
        assert _received(mentor, CANARY) == 1
    finally:
        process.terminate()
        process.wait(timeout=20)
        _up(link)
    _assert_no_content(data_dir, log.read_text(errors="replace"))


def test_refreshes_spare_the_clinics_link(tmp_path: Path):
    """Which held answers the forwarder asks for again (its store, on plain data): a device seen today every
    refresh period, one away for more than a day hourly, never a request too big to re-send for its pull."""
    from sync.server.relay_forward import ACTIVE_S, IDLE_REFRESH_S, REFRESH_MAX_BYTES
    from sync.server.relay_store import RelayStore

    store = RelayStore.for_data_dir(tmp_path)
    try:
        day_ms, now = ACTIVE_S * 1000, 40 * ACTIVE_S * 1000
        devices = {"today": (b"\1" * 16, now - 1000, 100), "away": (b"\2" * 16, now - 2 * day_ms, 100)}
        devices["big"] = (b"\3" * 16, now - 1000, REFRESH_MAX_BYTES + 1)
        digests = {}
        for name, (device, seen, size) in devices.items():
            digests[name], _ = store.add(
                bytes([device[0]]) * size, request=device, device=device, created_ms=1, records=1, blob_bytes=0,
                now_ms=seen,
            )  # fmt: skip
            store.answered(digests[name], b"answer", 1, now - 600_000)  # asked for 10 minutes ago

        def due(refresh_s: float) -> set[bytes]:
            return {
                bytes.fromhex(item.device)
                for item in store.to_refresh(
                    now - int(refresh_s * 1000), now - IDLE_REFRESH_S * 1000, now - day_ms, REFRESH_MAX_BYTES
                )
            }

        assert due(300) == {devices["today"][0]}  # the one away waits for its hour, the big one is never re-sent
        store.answered(digests["today"], b"fresher answer", 2, now)
        assert due(300) == set()  # just refreshed
        assert store.answer_for(devices["today"][0]) == b"fresher answer"
        now += IDLE_REFRESH_S * 1000
        assert due(300) == {devices["today"][0], devices["away"][0]}
    finally:
        store.close()
