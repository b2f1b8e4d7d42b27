"""Signed requests (PROTOCOL.md §6.2): a device without a token signs its first call, which is served at once and
answers with a token. Real servers on loopback; requests are counted with a ``requests`` response hook and
replayed or tampered with as an attacker on the path would."""

from __future__ import annotations

import time

import pytest
import requests

from sync import PROTOCOL_VERSION
from sync.client.errors import DeviceRevoked
from sync.clock import ManualClock
from sync.protocol import MEDIA_MSGPACK, SyncRequest, encode
from tests.clients import make_client
from tests.servers import ProcessServer, ThreadServer

STEADY_SERVER = True  # its servers and clients share a clock on a fixed day (tests/conftest.py)


def _recorded(engine) -> list[requests.Response]:
    """Every answer ``engine``'s transport receives, in order (its request is ``answer.request``)."""
    seen: list[requests.Response] = []
    engine.transport._session.hooks["response"].append(lambda response, *a, **k: seen.append(response))
    return seen


def _resend(url: str, sent: requests.PreparedRequest, body: bytes | None = None) -> requests.Response:
    """``sent`` once more, as captured on the wire (or with another ``body``, same headers)."""
    headers = {k: v for k, v in sent.headers.items() if k.lower() != "content-length"}
    return requests.request(
        sent.method, url + sent.path_url, data=sent.body if body is None else body, headers=headers, timeout=10
    )


def test_a_cold_engines_first_sync_is_one_request_and_brings_a_token(client_factory):
    student, mentor = client_factory(), client_factory("mentor")
    mentor.send(b"welcome", [student.account])
    mentor.engine().sync_once()
    student.send(b"hello", [mentor.account])
    engine = student.engine()  # back after hours away: no token
    seen = _recorded(engine)
    progress = engine.sync_once()
    assert progress.records_up == 1 and progress.records_down == 1
    assert [r.request.path_url for r in seen] == ["/v1/sync"], "sign-in took round trips of its own"
    assert "Osler-Signature" in seen[0].request.headers and "Authorization" not in seen[0].request.headers
    assert seen[0].headers.get("osler-token")
    seen.clear()
    student.send(b"receipt", [mentor.account])
    engine.sync_once()
    assert [r.request.path_url for r in seen] == ["/v1/sync"]
    assert seen[0].request.headers["Authorization"] == f"Bearer {seen[0].request.headers['Authorization'][7:]}"
    assert "Osler-Signature" not in seen[0].request.headers, "later calls use the cheap token"


def test_a_replayed_signed_request_is_refused(client_factory, server):
    student, mentor = client_factory(), client_factory("mentor")
    student.send(b"pay me once", [mentor.account])
    engine = student.engine()
    seen = _recorded(engine)
    engine.sync_once()
    replay = _resend(server.url, seen[0].request)
    assert replay.status_code == 401 and replay.json()["code"] == "replayed"
    assert "osler-token" not in replay.headers
    mentor.engine().sync_once()
    assert [r.b for r in mentor.inbound()] == [b"pay me once"]


def test_a_signed_request_with_another_body_or_path_is_refused(client_factory, server):
    student, mentor = client_factory(), client_factory("mentor")
    real, forged = student.send(b"the real one", [mentor.account]), student.send(b"substituted", [mentor.account])
    body, other = (encode(SyncRequest(v=PROTOCOL_VERSION, p=[r]), MEDIA_MSGPACK) for r in (real, forged))
    headers = {"Content-Type": MEDIA_MSGPACK}
    signed = student.engine()._signer(
        requests.Request("POST", server.url + "/v1/sync", data=body, headers=headers).prepare()
    )
    swapped = _resend(server.url, signed, body=other)
    assert swapped.status_code == 401 and swapped.json()["code"] == "unauthenticated"
    moved = requests.get(
        server.url + "/v1/devices", headers={"Osler-Signature": signed.headers["Osler-Signature"]}, timeout=10
    )
    assert moved.status_code == 401 and moved.json()["code"] == "unauthenticated"
    assert _resend(server.url, signed).status_code == 200, "the signature itself was good"
    mentor.engine().sync_once()
    assert [r.b for r in mentor.inbound()] == [b"the real one"], "the substituted record was not stored"


def test_a_revoked_devices_signed_request_is_refused_at_once(client_factory, server):
    student = client_factory()
    student.engine().sync_once()
    server.storage.revoke_device(student.program.credentials.device)  # the operator's revoke-device
    student.send(b"from a lost laptop", None)
    engine = student.engine()
    seen = _recorded(engine)
    with pytest.raises(DeviceRevoked):
        engine.sync_once()
    assert len(seen) == 1 and seen[0].json()["code"] == "device-revoked"
    assert student.vault.records.outbox_totals()[0] == 1, "queued work is kept"


def test_a_skewed_client_clock_is_told_the_servers_time_and_recovers_by_itself(tmp_path):
    server_clock = ManualClock(time.time() + 3600)  # the laptop's clock is an hour behind the server's
    with ThreadServer(tmp_path / "server", clock=server_clock) as server:
        student = make_client(tmp_path / "student", server.url, server.invite())
        student.send(b"late but fine", None)
        engine = student.engine()
        seen = _recorded(engine)
        assert engine.sync_once().records_up == 1
        assert [r.status_code for r in seen] == [401, 200]
        refused = seen[0].json()
        assert refused["code"] == "clock-skew" and abs(refused["server_time"] - server_clock.time() * 1000) < 5000
        server_clock.advance(1200)  # 20 minutes later, a captured copy is stale as well as spent
        stale = _resend(server.url, seen[1].request)
        assert stale.status_code == 401 and stale.json()["code"] == "clock-skew"
        student.vault.close()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_replay_cache_is_shared_by_every_server_process(tmp_path, database):
    """Two server processes on one database: a copy sent to the other process is refused too."""
    url = None
    if database == "postgresql":
        from tests.pg import require_postgres, reset_database

        url = require_postgres()
        reset_database(url)
    first = ProcessServer(tmp_path / "srv", database=url).start()
    second = ProcessServer(tmp_path / "srv" if url is None else tmp_path / "srv2", database=url).start()
    try:
        student = make_client(tmp_path / "student", first.url, first.invite())
        student.send(b"once", None)
        engine = student.engine()
        seen = _recorded(engine)
        engine.sync_once()
        replay = _resend(second.url, seen[0].request)
        assert replay.status_code == 401 and replay.json()["code"] == "replayed"
        student.vault.close()
    finally:
        first.stop()
        second.stop()


def test_a_signed_call_with_a_query_string_is_served(client_factory):
    """The signature covers the query too: a cold engine's first blob call (``?size=``) is served signed."""
    engine = client_factory().engine()
    seen = _recorded(engine)
    data = bytes(range(256)) * 300
    sha = engine.upload_blob(data)
    assert seen[0].request.path_url == f"/v1/blobs/{sha}/chunks?size={len(data)}"
    assert "Osler-Signature" in seen[0].request.headers and seen[0].status_code == 200
    assert all("Authorization" in r.request.headers for r in seen[1:]), "the chunks went with the token it brought"


class _OlderServer:
    """An Osler server from before signed requests: the ``Osler-Signature`` header means nothing to it."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"osler-signature"]}
        await self.app(scope, receive, send)


def test_an_older_server_is_signed_in_to_by_challenge_and_token(tmp_path):
    server = ThreadServer(tmp_path / "server")
    server._server.config.app = _OlderServer(server._server.config.app)
    with server:
        student = make_client(tmp_path / "student", server.url, server.invite())
        student.send(b"hello", None)
        engine = student.engine()
        seen = _recorded(engine)
        assert engine.sync_once().records_up == 1
        assert [r.request.path_url for r in seen] == ["/v1/sync", "/v1/auth/challenge", "/v1/auth/token", "/v1/sync"]
        seen.clear()
        engine._token = None  # an hour later
        engine.sync_once()
        assert [r.request.path_url for r in seen] == ["/v1/auth/challenge", "/v1/auth/token", "/v1/sync"]
        student.vault.close()
