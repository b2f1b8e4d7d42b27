"""What the transport makes of answers that are cut, or whole but not Osler's: a cut is ``Offline`` (retried by
itself), "wrong server" and "sign-in refused" only come from whole answers. The server here is a raw socket
that sends exact bytes, standing in for a link that drops mid-answer or a machine that is not an Osler server."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from sync import PROTOCOL_VERSION
from sync.client.errors import AuthFailed, Offline, ProtocolViolation, SyncError, WrongServer
from sync.client.transport import Transport
from sync.envelope import DeviceKey, RecoveryKeys
from sync.protocol import SyncRequest

HEALTH = json.dumps({"status": "ok", "protocol": PROTOCOL_VERSION, "version": "test"}).encode()


def answer(body: bytes, status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def whole(body: bytes, status: str = "200 OK", content_type: str = "application/json") -> bytes:
    return answer(body, status, content_type=content_type, content_length=str(len(body)), connection="close")


@contextlib.contextmanager
def raw_server(reply: Callable[[bytes, int], bytes]) -> Iterator[tuple[str, list[bytes]]]:
    """One request per connection: ``reply(request, n)`` gives the exact bytes sent back before closing (n counts
    requests). Yields the URL and the list of requests received."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    received: list[bytes] = []
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                request = b""
                with contextlib.suppress(OSError):
                    while b"\r\n\r\n" not in request:
                        request += conn.recv(65536)
                    head, _, body = request.partition(b"\r\n\r\n")
                    length = next(
                        (
                            int(line.split(b":")[1])
                            for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-length:")
                        ),
                        0,
                    )
                    while len(body) < length:
                        body += conn.recv(65536)
                    received.append(head + b"\r\n\r\n" + body)
                    conn.sendall(reply(received[-1], len(received)))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        stopping.set()
        thread.join(5)
        listener.close()


CUT_ANSWERS = {
    "status line only": answer(b"")[: len("HTTP/1.1 200 OK\r\n")],
    "status line half": b"HTTP/1.1 20",
    "headers cut before the length": b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n",
    "length cut short": b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1",
    "body shorter than its length": whole(HEALTH)[:-5],
    "gzip stream cut, length matching": answer(
        gzip.compress(HEALTH * 50)[:60],
        content_type="application/json",
        content_encoding="gzip",
        content_length="60",
    ),
    "close-delimited JSON cut": answer(HEALTH[:20], content_type="application/json"),
    "error cut inside its headers": b"HTTP/1.1 401 Unauthorized\r\ncontent-type: app",
}


@pytest.mark.parametrize("cut", CUT_ANSWERS.values(), ids=CUT_ANSWERS.keys())
@pytest.mark.parametrize(
    "call", ["health", "register", "sync", "devices", "link", "link request", "welcome", "recover", "devices typed"]
)
def test_a_cut_answer_is_offline_never_wrong_server(cut: bytes, call: str):
    with raw_server(lambda _request, _n: cut) as (url, _):
        transport = Transport(url)
        calls = {
            "health": transport.health,
            "register": lambda: transport.register("ABCD-EFGH-JKLM", "laptop", DeviceKey.generate()),
            "sync": lambda: transport.sync(SyncRequest(v=PROTOCOL_VERSION, c=0), "token"),
            "devices": lambda: transport.list_devices("token"),
            "link": lambda: transport.poll_link("ABCDEF", 0, "token"),
            "link request": lambda: transport.post_link_request("ABCDEF", b"sealed"),
            "welcome": lambda: transport.pickup_welcome("ABCDEF", DeviceKey.generate()),
            "recover": lambda: transport.recover(RecoveryKeys(bytes(20)), DeviceKey.generate(), b"box", "laptop"),
            "devices typed": lambda: transport.devices("token"),
        }
        with pytest.raises(SyncError) as caught:
            calls[call]()
        assert type(caught.value) is Offline and caught.value.retryable, caught.value


@pytest.mark.parametrize("body", [b"<html>hotel wifi</html>", b"", b"[1, 2"])
def test_a_whole_answer_that_is_not_osler_is_wrong_server(body: bytes):
    reply = whole(body, content_type="text/html")
    with raw_server(lambda _request, _n: reply) as (url, _), pytest.raises(WrongServer):
        Transport(url).register("ABCD-EFGH-JKLM", "laptop", DeviceKey.generate())


def _sign_in_server(refusals: int) -> Callable[[bytes, int], bytes]:
    """Challenges on demand; the first ``refusals`` token requests get 401, as a replayed one would."""
    state = {"refused": 0}

    def reply(request: bytes, _n: int) -> bytes:
        if b"/v1/auth/challenge" in request.split(b"\r\n")[0]:
            body = {"challenge": base64.b64encode(bytes(32)).decode(), "expires": 0}
            return whole(json.dumps(body).encode())
        if state["refused"] < refusals:
            state["refused"] += 1
            error = {"code": "unauthenticated", "detail": "unknown or expired challenge"}
            return whole(json.dumps(error).encode(), "401 Unauthorized")
        return whole(json.dumps({"token": "t", "expires": 1}).encode())

    return reply


def test_a_refused_token_request_is_tried_once_more_with_a_fresh_challenge():
    with raw_server(_sign_in_server(refusals=1)) as (url, received):
        assert Transport(url).sign_in(bytes(16), DeviceKey.generate()) == ("t", 1)
    paths = [r.split(b" ")[1] for r in received]
    assert paths == [b"/v1/auth/challenge", b"/v1/auth/token"] * 2


def test_a_token_request_refused_twice_is_auth_failed():
    with raw_server(_sign_in_server(refusals=2)) as (url, received), pytest.raises(AuthFailed):
        Transport(url).sign_in(bytes(16), DeviceKey.generate())
    assert len(received) == 4


def test_a_token_request_whose_answer_is_lost_is_never_sent_again():
    """The token request spends its challenge: after a cut, sign-in starts over with a new challenge."""

    def reply(request: bytes, n: int) -> bytes:
        if b"/v1/auth/challenge" in request.split(b"\r\n")[0]:
            body = {"challenge": base64.b64encode(bytes([n]) * 32).decode(), "expires": 0}
            return whole(json.dumps(body).encode())
        return b"" if n == 2 else whole(json.dumps({"token": "t", "expires": 1}).encode())

    with raw_server(reply) as (url, received):
        assert Transport(url).sign_in(bytes(16), DeviceKey.generate()) == ("t", 1)
    tokens = [json.loads(r.partition(b"\r\n\r\n")[2])["challenge"] for r in received if b"/v1/auth/token" in r]
    assert len(tokens) == 2 and len(set(tokens)) == 2, "each challenge was sent once"


def test_register_is_not_resent_behind_the_callers_back():
    with raw_server(lambda _request, _n: b"") as (url, received), pytest.raises(Offline):
        Transport(url).register("ABCD-EFGH-JKLM", "laptop", DeviceKey.generate())
    assert len(received) == 1


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_an_answer_past_the_transports_limit_is_refused_not_held(encoding: str) -> None:
    """Whatever answers at the programme's address cannot make the app hold more than its limit in memory:
    2 MiB sent (or inflated from a small gzip) against a 1 MiB limit is a protocol violation, not a health."""
    padding = b" " * (2 * 1024 * 1024)
    body = HEALTH[:-1] + padding + b"}"
    if encoding == "gzip":
        sent = gzip.compress(body)
        reply = answer(sent, content_type="application/json", content_encoding="gzip", content_length=str(len(sent)))
    else:
        reply = whole(body)
    with raw_server(lambda _request, _n: reply) as (url, _received):
        with pytest.raises(ProtocolViolation):
            Transport(url, max_answer_bytes=1024 * 1024).health()
        assert Transport(url).health()["status"] == "ok"  # under the default limit the same answer reads
