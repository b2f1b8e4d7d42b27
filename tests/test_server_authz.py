"""Who may touch what on the server: object-level authorization for every endpoint that takes an id, idempotent
joining, refused weak device keys, and status records one member cannot forge about another (issue 10)."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest
import requests

from sync.client.transport import Transport
from sync.envelope import DeviceKey
from sync.protocol import (
    BLOB_CHUNK,
    MEDIA_MSGPACK,
    STATUS_KIND,
    HybridClock,
    Record,
    SyncRequest,
    decode,
    encode,
    new_record_id,
    request_id,
)

STEADY_SERVER = True  # its servers and clients share a clock on a fixed day (tests/conftest.py)


def _join(server, role: str = "student") -> dict:
    key = DeviceKey.generate()
    transport = Transport(server.url)
    registration = transport.register(server.invite(role), "laptop", key)
    token, _expires = transport.sign_in(registration.device, key)
    return {"key": key, "account": registration.account, "device": registration.device, "token": token}


def _auth(who: dict) -> dict:
    return {"Authorization": f"Bearer {who['token']}"}


def _push(server, who: dict, *records: Record) -> requests.Response:
    return requests.post(
        f"{server.url}/v1/sync",
        data=encode(SyncRequest(v=1, p=list(records)), MEDIA_MSGPACK),
        headers={"Content-Type": MEDIA_MSGPACK, **_auth(who)},
    )


def _pull(server, who: dict) -> list[Record]:
    answer = requests.post(
        f"{server.url}/v1/sync",
        data=encode(SyncRequest(v=1, c=0), MEDIA_MSGPACK),
        headers={"Content-Type": MEDIA_MSGPACK, **_auth(who)},
    )
    assert answer.status_code == 200, answer.text
    from sync.protocol import SyncResponse

    return list(decode(SyncResponse, answer.content, MEDIA_MSGPACK).r or [])


# -- devices -------------------------------------------------------------------------------------------------


def test_revoking_another_accounts_device_is_404_and_signs_nobody_out(server):
    alice, mallory = _join(server), _join(server)
    answer = requests.post(f"{server.url}/v1/devices/{alice['device'].hex()}/revoke", headers=_auth(mallory))
    assert answer.status_code == 404 and answer.json()["code"] == "not-found"
    still = requests.get(f"{server.url}/v1/devices", headers=_auth(alice))
    assert still.status_code == 200, "alice's token must keep working after a stranger's revoke attempt"
    assert [d["revoked"] for d in still.json()] == [False]


def test_a_device_cannot_revoke_itself(server):
    """A slip must not lock the person out: another device of the account, or a restore, revokes it (issue 15)."""
    alice = _join(server)
    answer = requests.post(f"{server.url}/v1/devices/{alice['device'].hex()}/revoke", headers=_auth(alice))
    assert answer.status_code == 409 and answer.json()["code"] == "revoke-self"
    after = requests.get(f"{server.url}/v1/devices", headers=_auth(alice))
    assert after.status_code == 200 and [d["revoked"] for d in after.json()] == [False]


# -- records -------------------------------------------------------------------------------------------------


def test_another_account_cannot_overwrite_or_learn_a_stored_record(server):
    alice, bob, mallory = _join(server), _join(server), _join(server)
    secret = Record(i=new_record_id(), k="message", t=[bob["account"]], h=HybridClock().now(), b=b"ALICE-SECRET")
    assert _push(server, alice, secret).status_code == 200
    for attempt in (secret, secret.model_copy(update={"b": b"mallory's version"})):
        answer = _push(server, mallory, attempt)
        assert answer.status_code == 409 and answer.json()["code"] == "conflict"
        assert answer.json()["ids"] == [secret.i.hex()], "the 409 names only the id the caller sent"
        assert "ALICE" not in answer.text and alice["account"].hex() not in answer.text
    received = [r for r in _pull(server, bob) if r.i == secret.i]
    assert [(r.b, r.a) for r in received] == [(b"ALICE-SECRET", alice["account"])]
    assert all(r.i != secret.i for r in _pull(server, mallory)), "mallory is not in the audience"


# -- blobs ---------------------------------------------------------------------------------------------------


def _put(server, who: dict, sha: str, size: int, index: int, data: bytes) -> requests.Response:
    headers = {**_auth(who), "Osler-Blob-Size": str(size)}
    return requests.put(f"{server.url}/v1/blobs/{sha}/chunks/{index}", data=data, headers=headers)


def test_a_strangers_garbage_chunk_cannot_spoil_an_upload_in_progress(server):
    alice, mallory = _join(server), _join(server)
    blob = os.urandom(2 * BLOB_CHUNK + 100)
    sha, size = hashlib.sha256(blob).hexdigest(), len(blob)
    chunks = [blob[i : i + BLOB_CHUNK] for i in range(0, size, BLOB_CHUNK)]
    assert _put(server, alice, sha, size, 0, chunks[0]).json()["missing"] == [1, 2]
    garbage = _put(server, mallory, sha, size, 1, os.urandom(BLOB_CHUNK))
    assert garbage.status_code == 200 and garbage.json()["missing"] == [0, 2], "mallory's upload is his own"
    assert _put(server, alice, sha, size, 1, chunks[1]).json()["missing"] == [2]
    done = _put(server, alice, sha, size, 2, chunks[2])
    assert done.status_code == 200 and done.json() == {"complete": True, "missing": []}
    fetched = requests.get(f"{server.url}/v1/blobs/{sha}", headers=_auth(mallory))
    assert fetched.status_code == 200 and fetched.content == blob, "the hash is the capability (PROTOCOL §7)"
    status = requests.get(f"{server.url}/v1/blobs/{sha}/chunks", params={"size": size}, headers=_auth(mallory))
    assert status.json() == {"complete": True, "missing": []}


def test_an_upload_in_progress_is_not_visible_to_another_account(server):
    alice, mallory = _join(server), _join(server)
    blob = os.urandom(BLOB_CHUNK + 1)
    sha, size = hashlib.sha256(blob).hexdigest(), len(blob)
    assert _put(server, alice, sha, size, 0, blob[:BLOB_CHUNK]).status_code == 200
    status = requests.get(f"{server.url}/v1/blobs/{sha}/chunks", params={"size": size}, headers=_auth(mallory))
    assert status.json() == {"complete": False, "missing": [0, 1]}
    assert requests.get(f"{server.url}/v1/blobs/{sha}", headers=_auth(mallory)).status_code == 404


# -- joining -------------------------------------------------------------------------------------------------


def _register(server, invite: str, key: bytes, name: str = "laptop") -> requests.Response:
    body = {"invite": invite, "name": name, "sign_key": base64.b64encode(key).decode()}
    return requests.post(f"{server.url}/v1/register", json=body)


def test_a_retried_register_with_the_same_key_gets_the_same_account(server):
    key, other = DeviceKey.generate().public_bytes(), DeviceKey.generate().public_bytes()
    invite = server.invite("mentor")
    first = _register(server, invite, key)
    again = _register(server, invite.lower().replace("-", ""), key)  # a retry after a cut, same invite
    assert first.status_code == 200 and again.status_code == 200, again.text
    assert again.json() == first.json() and first.json()["role"] == "mentor"
    stolen = _register(server, invite, other)
    assert stolen.status_code == 403 and stolen.json()["code"] == "invite-invalid"
    with server.storage.reader.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM accounts").scalar() == 1


def test_a_revoked_device_cannot_come_back_through_its_spent_invite(server):
    key = DeviceKey.generate()
    invite = server.invite()
    first = _register(server, invite, key.public_bytes()).json()
    assert server.storage.revoke_device(bytes.fromhex(first["device"]))  # the operator's revoke-device
    assert _register(server, invite, key.public_bytes()).status_code == 403


# -- device keys ---------------------------------------------------------------------------------------------

SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]
NON_CANONICAL = [
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p + 1 (≡ 1)
    "0100000000000000000000000000000000000000000000000000000000000080",  # x = 0 with the sign bit set
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  # x = 0 with the sign bit set
]


@pytest.mark.parametrize("key", SMALL_ORDER + NON_CANONICAL)
def test_weak_or_non_canonical_device_keys_are_refused(server, key):
    invite = server.invite()
    answer = _register(server, invite, bytes.fromhex(key))
    assert answer.status_code == 422 and answer.json()["code"] == "invalid"
    assert _register(server, invite, DeviceKey.generate().public_bytes()).status_code == 200, "invite not spent"


def test_a_small_order_key_cannot_be_used_to_sign_in_with_a_universal_signature(server):
    """Why it matters: with the identity point as key, (R = identity, S = 0) verifies for every challenge."""
    from sync.envelope import verify_challenge

    identity = bytes.fromhex(SMALL_ORDER[0])
    universal = identity + bytes(32)
    assert not verify_challenge(identity, b"\x01" * 16, b"\x02" * 32, universal)


# -- status records ------------------------------------------------------------------------------------------


def _status(body: dict) -> Record:
    return Record(i=new_record_id(), k=STATUS_KIND, t=[], h=HybridClock().now(), b=json.dumps(body).encode())


def _request_status(student: bytes, mentor: bytes, by: str, at: int) -> dict:
    rid = request_id(student.hex(), mentor.hex(), by, at)
    return {"e": "request", "r": rid, "at": at, "s": student.hex(), "m": mentor.hex(), "by": by}


def test_a_member_cannot_forge_a_status_about_anothers_request(server):
    student, mentor, mallory = _join(server), _join(server, "mentor"), _join(server)
    at = 1_700_000_000_000
    real = _request_status(student["account"], mentor["account"], "student", at)
    forged_request = _push(server, mallory, _status(real))
    assert forged_request.status_code == 403 and forged_request.json()["code"] == "forbidden"
    wrong_id = {**real, "r": "0" * 32}
    assert _push(server, student, _status(wrong_id)).status_code == 422
    assert _push(server, student, _status(real)).status_code == 200
    answer = {"e": "answer", "r": real["r"], "at": at + 1, "st": "accepted"}
    assert _push(server, mallory, _status(answer)).status_code == 403, "mallory was not asked"
    assert _push(server, student, _status(answer)).status_code == 403, "the asker does not answer"
    for event in ("activity", "closed", "meeting-held"):
        assert _push(server, mallory, _status({"e": event, "r": real["r"], "at": at + 2})).status_code == 403
    assert _push(server, mentor, _status(answer)).status_code == 200
    assert _push(server, student, _status({"e": "activity", "r": real["r"], "at": at + 3})).status_code == 200
    assert _push(server, mentor, _status({"e": "meeting-held", "r": real["r"], "at": at + 4})).status_code == 200
