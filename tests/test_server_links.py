"""Linking a person's new device to their account with a short code (issue 15, PROTOCOL.md §10.2): the server's
answers, every status code of the table, and the client transport's typed errors, on a real server."""

from __future__ import annotations

import base64
import os

import msgpack
import pytest
import requests

from sync.client.errors import (
    AuthFailed,
    DeviceRevoked,
    LinkExpired,
    LinkNotRequested,
    LinkUnknown,
    LinkUsed,
    RevokeSelf,
    TooManyLinks,
)
from sync.client.transport import Transport
from sync.clock import ManualClock
from sync.envelope import BoxKey, DeviceKey
from tests.servers import TEST_EPOCH, ThreadServer

STEADY_SERVER = True  # its servers and clients share a clock on a fixed day (tests/conftest.py)


def _join(server) -> dict:
    key = DeviceKey.generate()
    transport = Transport(server.url)
    registration = transport.register(server.invite(), "laptop", key)
    token, _expires = transport.sign_in(registration.device, key)
    return {
        "transport": transport,
        "key": key,
        "account": registration.account,
        "device": registration.device,
        "token": token,
    }


def _new_device() -> dict:
    return {"key": DeviceKey.generate(), "box": BoxKey.generate().public_bytes()}


def _request_bytes(new: dict) -> bytes:
    """What device 2 posts (sealed with the code in the app: the server sees only bytes)."""
    return msgpack.packb({"name": "phone", "sign": new["key"].public_bytes(), "box": new["box"]}) + os.urandom(16)


def _link(first: dict, new: dict) -> tuple[str, bytes]:
    """A link of ``first``'s account, requested and approved for ``new``: (slot, the new device id)."""
    transport, token = first["transport"], first["token"]
    slot = transport.create_link(token).slot
    transport.post_link_request(slot, _request_bytes(new))
    device = transport.approve_link(slot, new["key"].public_bytes(), new["box"], "phone", b"welcome!", token)
    return slot, device


def test_a_new_device_joins_the_account_through_a_link(any_server):
    first, new = _join(any_server), _new_device()
    transport, token = first["transport"], first["token"]
    link = transport.create_link(token)
    assert len(link.slot) == 6 and link.expires > any_server.clock.time()
    assert transport.poll_link(link.slot, 0, token).state == "open"

    asked = _request_bytes(new)
    phone = Transport(any_server.url)
    assert phone.post_link_request(link.slot, asked) == link.expires
    assert phone.post_link_request(link.slot, asked) == link.expires, "the same request again: the same answer"
    assert phone.pickup_welcome(link.slot, new["key"]) is None, "not approved yet: waiting"
    seen = transport.poll_link(link.slot, 5, token)
    assert seen.state == "requested" and seen.request == asked

    device = transport.approve_link(link.slot, new["key"].public_bytes(), new["box"], "phone", b"sealed", token)
    again = transport.approve_link(link.slot, new["key"].public_bytes(), new["box"], "phone", b"sealed", token)
    assert again == device, "approval is idempotent for the same key"
    assert transport.poll_link(link.slot, 0, token).state == "approved"
    listed = [d.device for d in transport.devices(token)]
    assert listed == [first["device"]], "a pending device is in no list"

    welcome = phone.pickup_welcome(link.slot, new["key"])
    assert welcome is not None and (welcome.account, welcome.device) == (first["account"], device)
    assert welcome.welcome == b"sealed" and welcome.role == "student"
    assert phone.pickup_welcome(link.slot, new["key"]) == welcome, "a pickup is repeatable"
    phone_token, _ = phone.sign_in(device, new["key"])
    entries = transport.devices(token)
    assert {d.device: (d.name, d.box_key) for d in entries}[device] == ("phone", new["box"])
    assert {d.device for d in phone.devices(phone_token)} == {first["device"], device}


def test_a_pending_device_cannot_sign_in(any_server):
    first, new = _join(any_server), _new_device()
    _slot, device = _link(first, new)
    challenge = requests.post(f"{any_server.url}/v1/auth/challenge", json={"device": device.hex()})
    assert challenge.status_code == 401 and challenge.json()["code"] == "unauthenticated"
    with pytest.raises(AuthFailed):
        Transport(any_server.url).sign_in(device, new["key"])


def test_a_link_is_used_once(any_server):
    first, new, other = _join(any_server), _new_device(), _new_device()
    transport, token = first["transport"], first["token"]
    slot = transport.create_link(token).slot
    transport.post_link_request(slot, _request_bytes(new))
    with pytest.raises(LinkUsed):
        Transport(any_server.url).post_link_request(slot, _request_bytes(other))
    transport.approve_link(slot, new["key"].public_bytes(), new["box"], "phone", b"w", token)
    with pytest.raises(LinkUsed):
        transport.approve_link(slot, other["key"].public_bytes(), other["box"], "thief", b"w", token)
    with pytest.raises(LinkUsed):
        Transport(any_server.url).pickup_welcome(slot, other["key"])
    answer = requests.post(
        f"{any_server.url}/v1/links/{slot}/request", json={"request": base64.b64encode(b"another").decode()}
    )
    assert answer.status_code == 409 and answer.json()["code"] == "link-used"


def test_approving_before_any_request_is_refused(server):
    first, new = _join(server), _new_device()
    slot = first["transport"].create_link(first["token"]).slot
    with pytest.raises(LinkNotRequested):
        first["transport"].approve_link(slot, new["key"].public_bytes(), new["box"], "phone", b"w", first["token"])


def test_at_most_three_links_are_open_per_account(server):
    first = _join(server)
    for _ in range(3):
        first["transport"].create_link(first["token"])
    with pytest.raises(TooManyLinks):
        first["transport"].create_link(first["token"])
    other = _join(server)
    assert other["transport"].create_link(other["token"]).slot, "another account is not counted"


def test_a_link_expires_after_ten_minutes(tmp_path):
    clock = ManualClock(TEST_EPOCH)
    with ThreadServer(tmp_path / "server", clock=clock) as server:
        first, new = _join(server), _new_device()
        transport, token = first["transport"], first["token"]
        stale = transport.create_link(token).slot
        requested = transport.create_link(token).slot
        transport.post_link_request(requested, _request_bytes(new))
        approved, _device = _link(first, _new_device())
        clock.advance(601)
        with pytest.raises(LinkExpired):
            Transport(server.url).post_link_request(stale, _request_bytes(new))
        assert transport.poll_link(stale, 0, token).state == "expired"
        with pytest.raises(LinkExpired):
            transport.approve_link(requested, new["key"].public_bytes(), new["box"], "phone", b"w", token)
        with pytest.raises(LinkExpired):
            Transport(server.url).pickup_welcome(requested, new["key"], clock=clock)
        assert transport.poll_link(approved, 0, token).state == "approved", "an approved link stays approved"
        assert transport.create_link(token).slot, "expired links no longer count as open"


def test_a_pending_device_is_purged_a_day_after_its_link_expired(tmp_path):
    clock = ManualClock(TEST_EPOCH)
    with ThreadServer(tmp_path / "server", clock=clock) as server:
        first, new = _join(server), _new_device()
        slot, _device = _link(first, new)
        clock.advance(600 + 24 * 3600 + 1)
        first["token"] = first["transport"].sign_in(first["device"], first["key"])[0]
        first["transport"].create_link(first["token"])  # purges as it goes
        with pytest.raises(LinkUnknown):
            Transport(server.url).pickup_welcome(slot, new["key"], clock=clock)
        assert [d.device for d in first["transport"].devices(first["token"])] == [first["device"]]


def test_a_code_for_another_server_is_unknown_here(server, tmp_path):
    first = _join(server)
    slot = first["transport"].create_link(first["token"]).slot
    with ThreadServer(tmp_path / "other") as other:
        elsewhere = Transport(other.url)
        with pytest.raises(LinkUnknown):
            elsewhere.post_link_request(slot, b"sealed request")
        with pytest.raises(LinkUnknown):
            elsewhere.pickup_welcome(slot, DeviceKey.generate())
        stranger = _join(other)
        with pytest.raises(LinkUnknown):
            stranger["transport"].poll_link(slot, 0, stranger["token"])


def test_another_account_cannot_see_or_approve_a_link(server):
    first, mallory, new = _join(server), _join(server), _new_device()
    slot = first["transport"].create_link(first["token"]).slot
    Transport(server.url).post_link_request(slot, _request_bytes(new))
    with pytest.raises(LinkUnknown):
        mallory["transport"].poll_link(slot, 0, mallory["token"])
    with pytest.raises(LinkUnknown):
        mallory["transport"].approve_link(slot, new["key"].public_bytes(), new["box"], "x", b"w", mallory["token"])
    assert first["transport"].poll_link(slot, 0, first["token"]).state == "requested"


def test_a_pickup_must_be_signed_by_the_approved_key_and_fresh(tmp_path):
    clock = ManualClock(TEST_EPOCH)
    with ThreadServer(tmp_path / "server", clock=clock) as server:
        first, new = _join(server), _new_device()
        slot, _device = _link(first, new)
        nonce = os.urandom(16)
        ts = int(clock.time() * 1000)
        body = {
            "sign_key": base64.b64encode(new["key"].public_bytes()).decode(),
            "ts": ts,
            "nonce": base64.b64encode(nonce).decode(),
            "sig": base64.b64encode(DeviceKey.generate().sign_link_pickup(slot, ts, nonce)).decode(),
        }
        forged = requests.post(f"{server.url}/v1/links/{slot}/welcome", json=body)
        assert forged.status_code == 401 and forged.json()["code"] == "unauthenticated"
        late = ManualClock(clock.time() - 3600)  # this machine's clock is an hour behind
        phone = Transport(server.url)
        assert phone.pickup_welcome(slot, new["key"], clock=late) is not None, "signed again on the server's time"
        stale = {**body, "ts": ts - 3_600_000}
        stale["sig"] = base64.b64encode(new["key"].sign_link_pickup(slot, ts - 3_600_000, nonce)).decode()
        skewed = requests.post(f"{server.url}/v1/links/{slot}/welcome", json=stale)
        assert skewed.status_code == 401 and skewed.json()["code"] == "clock-skew"
        assert abs(skewed.json()["server_time"] - ts) < 5000


def test_the_poll_is_held_until_a_request_comes(any_server):
    """The device showing the code hears of the request as soon as it lands, not at its next poll."""
    import threading

    first, new = _join(any_server), _new_device()
    slot = first["transport"].create_link(first["token"]).slot
    states = []
    poller = threading.Thread(target=lambda: states.append(first["transport"].poll_link(slot, 50, first["token"])))
    poller.start()
    Transport(any_server.url).post_link_request(slot, _request_bytes(new))
    poller.join(timeout=60)
    assert [s.state for s in states] == ["requested"]


def test_a_device_revokes_another_but_not_itself(server):
    first, new = _join(server), _new_device()
    slot, device = _link(first, new)
    phone = Transport(server.url)
    phone.pickup_welcome(slot, new["key"])
    phone_token, _ = phone.sign_in(device, new["key"])
    with pytest.raises(RevokeSelf):
        phone.revoke_device(device, phone_token)
    phone.revoke_device(first["device"], phone_token)
    answer = requests.get(f"{server.url}/v1/devices", headers={"Authorization": f"Bearer {first['token']}"})
    assert answer.status_code == 401 and answer.json()["code"] == "device-revoked"
    assert {d.device: d.revoked for d in phone.devices(phone_token)} == {first["device"]: True, device: False}


def test_link_calls_are_validated_and_rate_limited(tmp_path):
    with ThreadServer(tmp_path / "server", auth_per_minute=4) as server:  # the 3 refused calls count too
        sealed = {"request": base64.b64encode(b"sealed").decode()}
        bad_slot = requests.post(f"{server.url}/v1/links/ILOU00/request", json=sealed)
        assert bad_slot.status_code == 422 and bad_slot.json()["code"] == "invalid"
        not_b64 = requests.post(f"{server.url}/v1/links/ABCDEF/request", json={"request": "%%%"})
        assert not_b64.status_code == 422
        too_big = {"request": base64.b64encode(bytes(4096)).decode()}
        assert requests.post(f"{server.url}/v1/links/ABCDEF/request", json=too_big).status_code == 422
        answers = [requests.post(f"{server.url}/v1/links/ABCDEF/request", json=sealed) for _ in range(2)]
        assert [a.status_code for a in answers] == [404, 429]
        assert answers[1].json()["code"] == "rate-limited" and int(answers[1].headers["Retry-After"]) > 0
        held_too_long = requests.get(f"{server.url}/v1/links/ABCDEF?t=51", headers={"Authorization": "Bearer x"})
        assert held_too_long.status_code in (401, 422)


def test_a_welcome_is_picked_up_within_a_day_of_the_approval(tmp_path):
    clock = ManualClock(TEST_EPOCH)
    with ThreadServer(tmp_path / "server", clock=clock) as server:
        first, new = _join(server), _new_device()
        slot, _device = _link(first, new)
        clock.advance(24 * 3600 + 1)
        with pytest.raises(LinkExpired):
            Transport(server.url).pickup_welcome(slot, new["key"], clock=clock)


def test_a_revoked_linked_device_cannot_pick_up_its_welcome_again(server):
    first, new = _join(server), _new_device()
    slot, device = _link(first, new)
    phone = Transport(server.url)
    phone.pickup_welcome(slot, new["key"])
    first["transport"].revoke_device(device, first["token"])
    with pytest.raises(DeviceRevoked):
        phone.pickup_welcome(slot, new["key"])
    with pytest.raises(DeviceRevoked):
        phone.sign_in(device, new["key"])


def test_a_held_pickup_answers_once_approved(server):
    """Device 2 waiting for its welcome hears of the approval as soon as it is made, not at its next ask."""
    import threading

    first, new = _join(server), _new_device()
    transport, token = first["transport"], first["token"]
    slot = transport.create_link(token).slot
    phone = Transport(server.url)
    phone.post_link_request(slot, _request_bytes(new))
    got = []
    waiter = threading.Thread(target=lambda: got.append(phone.fork().pickup_welcome(slot, new["key"], t=50)))
    waiter.start()
    device = transport.approve_link(slot, new["key"].public_bytes(), new["box"], "phone", b"sealed", token)
    waiter.join(timeout=60)
    assert [w.device for w in got] == [device]
