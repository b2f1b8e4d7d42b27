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
    link.configure(cut_after_bytes=0)  # every connection closed as soon as it opens: the clinic's link is down


def _up(link: FaultProxy) -> None:
    link.configure(cut_after_bytes=None)


class Relay:
    """The relay's app on uvicorn in a thread; its forwarder is run by hand (``run_once``) unless started."""

    def __init__(self, data_dir: Path, relay_for: str, clock: ManualClock) -> None:
        self.data_dir, self.clock = data_dir, clock
        self.app, self.forwarder = build(data_dir, relay_for, clock, interval=3600, refresh=300, forward_timeout=10)
        sock = _listen()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False))
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
    student.send(b"for another programme", None)
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
    oversize = relay.post(b"\0" * (MAX_BUNDLE_BYTES + 1))
    assert oversize.status_code == 413 and oversize.json()["code"] == "too-large"
    assert requests.get(f"{relay.url}/v1/nothing", timeout=10).json()["code"] == "not-found"
    assert relay.health()["queued"] == 0


def _relay_process(data_dir: Path, port: int, relay_for: str, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "sync.server.cli", "--data-dir", str(data_dir), "serve", "--port", str(port)]
    command += ["--relay-for", relay_for, "--relay-interval", "0.2"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    wait_healthy(f"http://127.0.0.1:{port}", process=process)
    return process


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
