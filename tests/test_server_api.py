"""The server at its boundary: what a client, a buggy client or an attacker sends, and what comes back."""

from __future__ import annotations

import base64
import gzip
import logging

import msgpack
import pytest
import requests

from sync.client.transport import Transport
from sync.envelope import DeviceKey
from sync.protocol import MEDIA_MSGPACK, HybridClock, Record, SyncRequest, encode, new_record_id
from tests.servers import ThreadServer

STEADY_SERVER = True  # its servers and clients share a clock on a fixed day (tests/conftest.py)


@pytest.fixture
def device(server):
    """A registered device and a token, made through the public API by the real client transport."""
    key = DeviceKey.generate()
    transport = Transport(server.url)
    registration = transport.register(server.invite(), "laptop", key)
    token, _expires = transport.sign_in(registration.device, key)
    return {"key": key, "account": registration.account, "device": registration.device, "token": token}


def _sync(server, device, body: bytes, **headers):
    return requests.post(
        f"{server.url}/v1/sync",
        data=body,
        headers={"Content-Type": MEDIA_MSGPACK, "Authorization": f"Bearer {device['token']}", **headers},
    )


def _record(**fields) -> Record:
    base = {"i": new_record_id(), "k": "message", "t": [b"\x01" * 16], "h": HybridClock().now(), "b": b"hello"}
    return Record(**{**base, **fields})


def test_invites_are_single_use(server):
    key, other = (base64.b64encode(DeviceKey.generate().public_bytes()).decode() for _ in range(2))
    invite = server.invite()
    first = requests.post(f"{server.url}/v1/register", json={"invite": invite, "name": "a", "sign_key": key})
    again = requests.post(f"{server.url}/v1/register", json={"invite": invite, "name": "b", "sign_key": other})
    made_up = requests.post(
        f"{server.url}/v1/register", json={"invite": "AAAA-BBBB-CCCC", "name": "c", "sign_key": key}
    )
    assert first.status_code == 200
    assert again.status_code == 403 and again.json()["code"] == "invite-invalid"
    assert made_up.status_code == 403


def test_sign_in_requires_the_device_key(server, device):
    challenge = requests.post(f"{server.url}/v1/auth/challenge", json={"device": device["device"].hex()}).json()
    forged = DeviceKey.generate().sign_challenge(device["device"], base64.b64decode(challenge["challenge"]))
    answer = requests.post(
        f"{server.url}/v1/auth/token",
        json={
            "device": device["device"].hex(),
            "challenge": challenge["challenge"],
            "sig": base64.b64encode(forged).decode(),
        },
    )
    assert answer.status_code == 401
    real = device["key"].sign_challenge(device["device"], base64.b64decode(challenge["challenge"]))
    replay = requests.post(
        f"{server.url}/v1/auth/token",
        json={
            "device": device["device"].hex(),
            "challenge": challenge["challenge"],
            "sig": base64.b64encode(real).decode(),
        },
    )
    assert replay.status_code == 401, "a challenge is single use, even after a failed attempt"


def test_no_token_or_a_bad_one_is_401(server):
    assert requests.post(f"{server.url}/v1/sync", json={"v": 1, "c": 0}).status_code == 401
    bad = requests.post(f"{server.url}/v1/sync", json={"v": 1, "c": 0}, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["code"] == "unauthenticated"


def test_push_is_idempotent_and_conflicts_are_409(server, device):
    record = _record()
    for _ in range(2):
        answer = _sync(server, device, encode(SyncRequest(v=1, p=[record]), MEDIA_MSGPACK))
        assert answer.status_code == 200
    changed = record.model_copy(update={"b": b"different"})
    fresh = _record()
    conflict = _sync(server, device, encode(SyncRequest(v=1, p=[fresh, changed]), MEDIA_MSGPACK))
    assert conflict.status_code == 409 and conflict.json()["ids"] == [record.i.hex()]
    with server.storage.reader.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM records").scalar()
    assert count == 1, "the batch with a conflict stored nothing, the repeated push nothing twice"


def test_signed_kinds_need_a_valid_signature_and_the_body_is_not_logged(server, device, caplog):
    unsigned = _record(k="card", t=None, b=b"SECRET-CARD-BODY")
    forged = DeviceKey.generate().sign_record(
        _record(k="card", t=None, b=b"SECRET-CARD-BODY"), device["account"], device["device"]
    )
    good = device["key"].sign_record(_record(k="card", t=None, b=b"public card"), device["account"], device["device"])
    with caplog.at_level(logging.WARNING, logger="osler.server.sync"):
        for bad in (unsigned, forged):
            answer = _sync(server, device, encode(SyncRequest(v=1, p=[good, bad]), MEDIA_MSGPACK))
            assert answer.status_code == 422 and answer.json()["code"] == "bad-signature"
            assert answer.json()["ids"] == [bad.i.hex()]
    assert "SECRET-CARD-BODY" not in caplog.text and unsigned.i.hex() in caplog.text
    assert _sync(server, device, encode(SyncRequest(v=1, p=[good]), MEDIA_MSGPACK)).status_code == 200


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"\x92\x01\x02", {}, 422),  # MessagePack, but not a sync request
        (b"\xc1", {}, 400),  # not MessagePack
        (b"not gzip at all", {"Content-Encoding": "gzip"}, 400),
        (gzip.compress(b"\0" * (9 * 1024 * 1024)), {"Content-Encoding": "gzip"}, 413),  # inflates past the limit
        (b"\0" * (2 * 1024 * 1024 + 1), {}, 413),
        (b"{}", {"Content-Type": "text/plain"}, 415),
        (msgpack.packb({"v": 1, "p": [{"i": b"short", "k": "m", "h": 1, "b": b""}]}), {}, 422),
        (msgpack.packb({"v": 1, "c": -1}), {}, 422),
        (msgpack.packb({"v": 1, "p": [{"i": b"\x01" * 16, "k": "m", "h": 1, "b": b"x" * 70_000}]}), {}, 422),
        (msgpack.packb({"v": 1, "p": [{"i": b"\x01" * 16, "k": "BAD KIND", "h": 1, "b": b""}]}), {}, 422),
        (msgpack.packb({"v": 1, "p": [{"i": b"\x01" * 16, "k": "m", "h": 1, "b": b"", "a": b"\x02" * 16}]}), {}, 422),
        (msgpack.packb({"v": 7}), {}, 426),
    ],
)
def test_bad_sync_bodies_get_the_right_status(server, device, body, headers, status):
    for attempt in range(3):
        try:
            answer = _sync(server, device, body, **headers)
            break
        except requests.ConnectionError:
            # A body over the limit is answered 413 at once and the connection closed without reading it
            # (PROTOCOL.md §8). requests reads no answer before it has sent the whole body, so when the close
            # reaches it mid-body the 413 is lost to a reset: send again (every attempt must be answered 413).
            if status != 413 or attempt == 2:
                raise
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]


def test_json_is_accepted_too(server, device):
    answer = requests.post(
        f"{server.url}/v1/sync", json={"v": 1, "c": 0}, headers={"Authorization": f"Bearer {device['token']}"}
    )
    assert answer.status_code == 200 and answer.json() == {"v": 1, "n": 0, "r": [], "c": 0}


def test_auth_endpoints_are_rate_limited(tmp_path):
    with ThreadServer(tmp_path / "limited", auth_per_minute=5) as limited:
        answers = [requests.post(f"{limited.url}/v1/auth/challenge", json={"device": "00" * 16}) for _ in range(7)]
    assert [a.status_code for a in answers[:5]] == [401] * 5
    assert answers[5].status_code == 429 and int(answers[5].headers["Retry-After"]) >= 1


def test_blob_chunks_are_checked(server, device):
    headers = {"Authorization": f"Bearer {device['token']}", "Osler-Blob-Size": "10"}
    sha = "ab" * 32
    wrong_size = requests.put(f"{server.url}/v1/blobs/{sha}/chunks/0", data=b"123", headers=headers)
    assert wrong_size.status_code == 422
    mismatch = requests.put(f"{server.url}/v1/blobs/{sha}/chunks/0", data=b"0123456789", headers=headers)
    assert mismatch.status_code == 422 and "hash" in mismatch.json()["detail"]
    assert requests.get(f"{server.url}/v1/blobs/{sha}", headers=headers).status_code == 404
    assert requests.get(f"{server.url}/v1/blobs/NOTHEX", headers=headers).status_code == 422
