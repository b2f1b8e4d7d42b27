"""Restoring an account with the recovery key after every device is lost (issue 15, PROTOCOL.md §10.3): the
server keeps the recovery key's public auth half and a backup it cannot open; a restore signed by the key makes a
new device of the account. On SQLite and on PostgreSQL, through the real client transport."""

from __future__ import annotations

import base64
import os
import time

import pytest
import requests

from sync.client.errors import RecoveryUnknown
from sync.client.transport import Transport
from sync.clock import ManualClock
from sync.envelope import BoxKey, DeviceKey, RecoveryKeys, open_backup, seal_backup
from tests.servers import ThreadServer

STEADY_SERVER = True  # its servers and clients share a clock on a fixed day (tests/conftest.py)


def _join(server) -> dict:
    key = DeviceKey.generate()
    transport = Transport(server.url)
    registration = transport.register(server.invite("mentor"), "laptop", key)
    token, _expires = transport.sign_in(registration.device, key)
    return {"transport": transport, "account": registration.account, "device": registration.device, "token": token}


def _with_recovery(server) -> tuple[dict, RecoveryKeys, bytes]:
    first = _join(server)
    recovery = RecoveryKeys(os.urandom(20))
    backup = seal_backup(b"the account's secrets", recovery.box_public, first["account"])
    first["transport"].put_recovery(recovery.auth_public, backup, first["token"])
    return first, recovery, backup


def _body(recovery: RecoveryKeys, key: DeviceKey, box: bytes, ts: int, nonce: bytes, name: str = "new laptop"):
    sign_key = key.public_bytes()
    return {
        "auth": base64.b64encode(recovery.auth_public).decode(),
        "ts": ts,
        "nonce": base64.b64encode(nonce).decode(),
        "sig": base64.b64encode(recovery.sign_restore(ts, nonce, sign_key, box, name)).decode(),
        "sign_key": base64.b64encode(sign_key).decode(),
        "box_key": base64.b64encode(box).decode(),
        "name": name,
    }


def test_the_recovery_key_restores_the_account_on_a_new_device(any_server):
    first, recovery, backup = _with_recovery(any_server)
    key, box = DeviceKey.generate(), BoxKey.generate().public_bytes()
    fresh = Transport(any_server.url)
    restored = fresh.recover(recovery, key, box, "new laptop")
    assert (restored.account, restored.role, restored.backup) == (first["account"], "mentor", backup)
    assert open_backup(restored.backup, recovery, restored.account) == b"the account's secrets"
    token, _ = fresh.sign_in(restored.device, key)  # an active device at once
    listed = {d.device: (d.name, d.box_key) for d in fresh.devices(token)}
    assert listed == {first["device"]: ("laptop", None), restored.device: ("new laptop", box)}
    fresh.revoke_device(first["device"], token)  # the lost laptop
    assert {d.device: d.revoked for d in fresh.devices(token)}[first["device"]]


def test_a_retried_restore_gets_the_same_device(any_server):
    _first, recovery, _backup = _with_recovery(any_server)
    key, box = DeviceKey.generate(), BoxKey.generate().public_bytes()
    once = Transport(any_server.url).recover(recovery, key, box, "new laptop")
    again = Transport(any_server.url).recover(recovery, key, box, "new laptop")
    assert again.device == once.device
    with any_server.storage.reader.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM devices").scalar() == 2


def test_a_wrong_recovery_key_is_404(any_server):
    _with_recovery(any_server)
    with pytest.raises(RecoveryUnknown):
        Transport(any_server.url).recover(
            RecoveryKeys(os.urandom(20)), DeviceKey.generate(), BoxKey.generate().public_bytes(), "x"
        )
    with any_server.storage.reader.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM devices").scalar() == 1, "no device was made"


def test_a_replayed_restore_is_401_and_a_forged_one_too(any_server):
    _first, recovery, _backup = _with_recovery(any_server)
    key, box = DeviceKey.generate(), BoxKey.generate().public_bytes()
    body = _body(recovery, key, box, int(any_server.clock.time() * 1000), os.urandom(16))
    assert requests.post(f"{any_server.url}/v1/recover", json=body).status_code == 200
    replayed = requests.post(f"{any_server.url}/v1/recover", json=body)
    assert replayed.status_code == 401 and replayed.json()["code"] == "replayed"
    forged = {**body, "name": "thief", "nonce": base64.b64encode(os.urandom(16)).decode()}
    refused = requests.post(f"{any_server.url}/v1/recover", json=forged)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"


def test_a_new_recovery_key_replaces_the_old_one(any_server):
    first, old, _backup = _with_recovery(any_server)
    new = RecoveryKeys(os.urandom(20))
    newer_backup = seal_backup(b"rotated", new.box_public, first["account"])
    first["transport"].put_recovery(new.auth_public, newer_backup, first["token"])
    first["transport"].put_recovery(new.auth_public, newer_backup, first["token"])  # idempotent
    with pytest.raises(RecoveryUnknown):
        Transport(any_server.url).recover(old, DeviceKey.generate(), BoxKey.generate().public_bytes(), "x")
    restored = Transport(any_server.url).recover(new, DeviceKey.generate(), BoxKey.generate().public_bytes(), "x")
    assert restored.backup == newer_backup


def test_a_restore_off_the_servers_clock_is_told_its_time_and_signed_again(tmp_path):
    server_clock = ManualClock(time.time() + 3600)  # the new laptop's clock is an hour behind
    with ThreadServer(tmp_path / "server", clock=server_clock) as server:
        first, recovery, _backup = _with_recovery(server)
        key, box = DeviceKey.generate(), BoxKey.generate().public_bytes()
        late = int(time.time() * 1000)
        stale = requests.post(f"{server.url}/v1/recover", json=_body(recovery, key, box, late, os.urandom(16)))
        assert stale.status_code == 401 and stale.json()["code"] == "clock-skew"
        assert abs(stale.json()["server_time"] - server_clock.time() * 1000) < 5000
        restored = Transport(server.url).recover(recovery, key, box, "new laptop")
        assert restored.account == first["account"]


def test_recovery_bodies_are_checked(server):
    first = _join(server)
    auth = {"Authorization": f"Bearer {first['token']}"}
    too_big = base64.b64encode(os.urandom(8191)).decode()
    good_auth = base64.b64encode(RecoveryKeys(os.urandom(20)).auth_public).decode()
    big = requests.put(f"{server.url}/v1/recovery", json={"auth": good_auth, "backup": too_big}, headers=auth)
    assert big.status_code in (413, 422)
    weak = base64.b64encode(bytes(32)).decode()
    small_order = requests.put(f"{server.url}/v1/recovery", json={"auth": weak, "backup": "AAAA"}, headers=auth)
    assert small_order.status_code == 422 and small_order.json()["code"] == "invalid"
    nobody = requests.put(f"{server.url}/v1/recovery", json={"auth": good_auth, "backup": "AAAA"})
    assert nobody.status_code == 401
    garbage = requests.post(f"{server.url}/v1/recover", json={"auth": "not base64"})
    assert garbage.status_code == 422


def test_one_recovery_key_serves_one_account(server):
    first, recovery, _backup = _with_recovery(server)
    other = _join(server)
    answer = requests.put(
        f"{server.url}/v1/recovery",
        json={"auth": base64.b64encode(recovery.auth_public).decode(), "backup": "AAAA"},
        headers={"Authorization": f"Bearer {other['token']}"},
    )
    assert answer.status_code == 409 and answer.json()["code"] == "conflict"
    restored = Transport(server.url).recover(recovery, DeviceKey.generate(), BoxKey.generate().public_bytes(), "x")
    assert restored.account == first["account"], "the other account took nothing over"


def test_restore_is_rate_limited_per_address(tmp_path):
    with ThreadServer(tmp_path / "server", auth_per_minute=1) as server:
        body = _body(RecoveryKeys(os.urandom(20)), DeviceKey.generate(), b"box", int(time.time() * 1000), bytes(16))
        answers = [requests.post(f"{server.url}/v1/recover", json=body) for _ in range(2)]
        assert [a.status_code for a in answers] == [404, 429]
