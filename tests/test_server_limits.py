"""Hostile bodies and abuse limits (issue 10, defects 7 and 8): body sizes refused before they are read, deep
nesting never a 500, per-address and per-device sign-in limits, and the server's clock injected."""

from __future__ import annotations

import base64
import socket

import msgpack
import pytest
import requests

from sync.client.transport import Transport
from sync.clock import ManualClock
from sync.envelope import DeviceKey
from sync.protocol import BLOB_CHUNK, MAX_WIRE_BYTES, MEDIA_MSGPACK
from tests.servers import ThreadServer

STEADY_SERVER = True  # its servers and clients share a clock on a fixed day (tests/conftest.py)

AUTH_PATHS = ["/v1/register", "/v1/auth/challenge", "/v1/auth/token"]


def _raw(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send a request by hand (so the declared length can lie) and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        received = b""
        while piece := sock.recv(65536):
            received += piece
    return int(received.split(b" ", 2)[1]), received


@pytest.mark.parametrize("path", [*AUTH_PATHS, "/v1/sync", f"/v1/blobs/{'ab' * 32}/chunks/0"])
def test_a_declared_over_large_body_is_refused_at_once_without_reading_it(server, path):
    method = "PUT" if "blobs" in path else "POST"
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Osler-Blob-Size: 10\r\nContent-Length: 100000000\r\n"
    )
    status, answer = _raw(server.port, head, b"{")
    assert status == 413 and b"too-large" in answer


@pytest.mark.parametrize("path", AUTH_PATHS)
def test_a_streamed_body_past_the_limit_is_413(server, path):
    def chunks():
        yield b'{"invite": "'
        for _ in range(64):
            yield b"A" * 16384
        yield b'"}'

    answer = requests.post(f"{server.url}{path}", data=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.json()["code"] == "too-large"


def test_limits_are_per_path(server):
    key = DeviceKey.generate()
    transport = Transport(server.url)
    registration = transport.register(server.invite(), "laptop", key)
    token = transport.sign_in(registration.device, key)[0]
    auth = {"Authorization": f"Bearer {token}"}
    sync_body = msgpack.packb({"v": 1, "c": 0, "pad": b"x" * (MAX_WIRE_BYTES - 100)})
    big_sync = requests.post(f"{server.url}/v1/sync", data=sync_body, headers={**auth, "Content-Type": MEDIA_MSGPACK})
    assert big_sync.status_code == 422, "a body just under the sync limit is read and judged"
    headers = {**auth, "Osler-Blob-Size": str(BLOB_CHUNK + 1)}
    chunk = requests.put(f"{server.url}/v1/blobs/{'cd' * 32}/chunks/0", data=b"x" * BLOB_CHUNK, headers=headers)
    assert chunk.status_code == 200
    over = requests.put(f"{server.url}/v1/blobs/{'cd' * 32}/chunks/1", data=b"x" * (BLOB_CHUNK + 1), headers=headers)
    assert over.status_code == 413


DEEP_JSON = b"[" * 200_000 + b"]" * 200_000
DEEP_MSGPACK = b"\x91" * 200_000 + b"\xc0"


@pytest.mark.parametrize(
    ("body", "media"),
    [
        (DEEP_JSON, "application/json"),
        (b'{"v": 1, "p": ' + DEEP_JSON + b"}", "application/json"),
        (b'{"v": 7, "x": ' + b"[" * 900 + b"]" * 900 + b"}", "application/json"),
        (DEEP_MSGPACK, MEDIA_MSGPACK),
        (b"\x82\xa1v\x07\xa1x" + b"\x91" * 900 + b"\xc0", MEDIA_MSGPACK),
    ],
)
def test_deeply_nested_sync_bodies_are_refused_not_500(server, body, media):
    key = DeviceKey.generate()
    transport = Transport(server.url)
    token = transport.sign_in(transport.register(server.invite(), "laptop", key).device, key)[0]
    answer = requests.post(
        f"{server.url}/v1/sync", data=body, headers={"Authorization": f"Bearer {token}", "Content-Type": media}
    )
    assert answer.status_code in (400, 413, 422), answer.text[:300]
    assert answer.json()["detail"]


@pytest.mark.parametrize("path", AUTH_PATHS)
def test_deeply_nested_auth_bodies_are_refused_not_500(server, path):
    answer = requests.post(
        f"{server.url}{path}", data=b"[" * 5000 + b"]" * 5000, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code in (400, 413, 422), answer.text[:300]


def test_sign_in_is_limited_per_device_as_well_as_per_address(tmp_path):
    with ThreadServer(tmp_path / "srv", auth_per_minute=1000, device_auth_per_minute=4) as server:
        key = DeviceKey.generate()
        device = Transport(server.url).register(server.invite(), "laptop", key).device.hex()
        other = Transport(server.url).register(server.invite(), "phone", DeviceKey.generate()).device.hex()
        answers = [requests.post(f"{server.url}/v1/auth/challenge", json={"device": device}) for _ in range(5)]
        fake = {
            "device": device,
            "challenge": base64.b64encode(bytes(32)).decode(),
            "sig": base64.b64encode(bytes(64)).decode(),
        }
        token = requests.post(f"{server.url}/v1/auth/token", json=fake)
        elsewhere = requests.post(f"{server.url}/v1/auth/challenge", json={"device": other})
    assert [a.status_code for a in answers[:4]] == [200] * 4
    assert answers[4].status_code == 429 and int(answers[4].headers["Retry-After"]) >= 1
    assert token.status_code == 429, "the token endpoint counts against the same device"
    assert elsewhere.status_code == 200, "another device is not held back"


def test_the_server_takes_its_clock(tmp_path):
    clock = ManualClock(1_900_000_000)
    with ThreadServer(tmp_path / "srv", auth_per_minute=3, clock=clock) as server:
        key = DeviceKey.generate()
        transport = Transport(server.url)
        device = transport.register(server.invite(), "laptop", key).device
        token, expires = transport.sign_in(device, key)
        assert expires == 1_900_000_000 + 3600, "token expiry comes from the injected clock"
        limited = requests.post(f"{server.url}/v1/auth/challenge", json={"device": device.hex()})
        assert limited.status_code == 429
        clock.advance(3601)
        auth = {"Authorization": f"Bearer {token}"}
        expired = requests.get(f"{server.url}/v1/devices", headers=auth)
        assert expired.status_code == 401 and expired.json()["code"] == "token-expired"
        assert requests.post(f"{server.url}/v1/auth/challenge", json={"device": device.hex()}).status_code == 200
