"""The server side of sync bundles (PROTOCOL.md §13.2): a request carried offline is answered as a sync would be.

One real server (uvicorn on loopback) for the module; devices registered through the public API; request bundles
made with ``sync.bundle.write_request`` and the devices' own keys, answers opened with ``open_answer``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import secrets
import subprocess
import sys
from dataclasses import dataclass

import msgpack
import pytest
import requests

from sync.bundle import (
    BUNDLE_MEDIA,
    DEFAULT_BUDGET,
    MAX_BUNDLE_BYTES,
    BlobPiece,
    RequestContent,
    WantedBlob,
    open_answer,
    programme_id,
    read_header,
    write_request,
)
from sync.client.transport import Transport
from sync.envelope import BoxKey, DeviceKey, ServerKeys
from sync.protocol import (
    BLOB_CHUNK,
    DELIVERED_KIND,
    MEDIA_MSGPACK,
    HybridClock,
    ProtocolError,
    Record,
    SyncRequest,
    SyncResponse,
    decode,
    encode,
    new_record_id,
)
from sync.server.blobstore import BlobStore
from sync.server.bundle_cli import import_bundle
from sync.server.bundles import answer_request
from sync.server.storage import Storage
from tests.servers import ThreadServer

AT_MS = 1_795_000_000_000  # a fixed creation time: nothing here depends on the date it runs on
HTTP = requests.Session()  # one kept-alive connection per server, as a client holds
HTTP.trust_env = False  # loopback: no proxy lookups per call


@dataclass
class Device:
    key: DeviceKey
    box: BoxKey
    account: bytes
    device: bytes
    url: str = ""
    _token: str = ""

    @property
    def token(self) -> str:
        """Signed in on first use only: a bundle needs no sign-in, and most devices here never go online."""
        if not self._token:
            self._token = Transport(self.url).sign_in(self.device, self.key)[0]
        return self._token


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with ThreadServer(tmp_path_factory.mktemp("bundles") / "server", bundles_per_minute=10_000) as running:
        yield running


@pytest.fixture(scope="module")
def mentor(hub):
    """One mentor for the module, whom students write to (signed in once: the online side of these tests)."""
    return _register(hub, "mentor")


def _register(server, role: str = "student") -> Device:
    key, box = DeviceKey.generate(), BoxKey.generate()
    transport = Transport(server.url)
    registration = transport.register(server.invite(role), "laptop", key, box.public_bytes())
    return Device(key, box, registration.account, registration.device, server.url)


def _server_box(server) -> bytes:
    answer = HTTP.get(f"{server.url}/v1/bundle-key", timeout=10)
    assert answer.status_code == 200
    return base64.b64decode(answer.json()["box"])


def _sign_key(server) -> bytes:
    return base64.b64decode(HTTP.get(f"{server.url}/v1/bundle-key", timeout=10).json()["sign"])


def _message(to: bytes, body: bytes = b"sealed text", kind: str = "message") -> Record:
    return Record(i=new_record_id(), k=kind, t=[to], h=HybridClock().now(), b=body)


def _request(
    server,
    dev: Device,
    push: list[Record] = (),
    cursor: int | None = 0,
    uploads: list[BlobPiece] = (),
    wants: list[WantedBlob] = (),
    box: bytes | None = None,
    key: DeviceKey | None = None,
    budget: int = DEFAULT_BUDGET,
) -> bytes:
    content = RequestContent(
        account=dev.account,
        device=dev.device,
        request=secrets.token_bytes(16),
        created_ms=AT_MS,
        push=list(push),
        cursor=cursor,
        grants_only=False,
        budget=budget,
        uploads=list(uploads),
        wants=list(wants),
    )
    return write_request(content, programme_id(server.url), box or _server_box(server), key or dev.key)


def _post(server, data: bytes) -> requests.Response:
    return HTTP.post(f"{server.url}/v1/bundles", data=data, headers={"Content-Type": BUNDLE_MEDIA}, timeout=60)


def _answer(server, dev: Device, response: requests.Response):
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == BUNDLE_MEDIA
    return open_answer(response.content, dev.box, _sign_key(server), dev.device, programme_id(server.url))[1]


def _pull_online(server, dev: Device, cursor: int = 0) -> SyncResponse:
    """Everything after ``cursor`` that waits for ``dev``, pulled online page by page, as one answer."""
    records = []
    while True:
        response = HTTP.post(
            f"{server.url}/v1/sync",
            data=encode(SyncRequest(v=1, c=cursor, l=1 << 20), MEDIA_MSGPACK),
            headers={"Content-Type": MEDIA_MSGPACK, "Authorization": f"Bearer {dev.token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        page = decode(SyncResponse, response.content, MEDIA_MSGPACK)
        records += page.r or []
        cursor = page.c
        if not page.m:
            return SyncResponse(v=1, n=0, r=records, c=cursor)


def _refused(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["code"] == code and response.json()["detail"]


# -- keys ----------------------------------------------------------------------------------------------------------


def test_the_bundle_key_is_made_once_and_every_process_agrees(hub):
    first = HTTP.get(f"{hub.url}/v1/bundle-key", timeout=10).json()
    other = Storage(hub.storage.url)  # another process on the same database
    try:
        keys = other.bundle_keys()
    finally:
        other.dispose()
    assert HTTP.get(f"{hub.url}/v1/bundle-key", timeout=10).json() == first
    assert base64.b64decode(first["box"]) == keys.box_public
    assert base64.b64decode(first["sign"]) == keys.sign_public
    assert first["programme_hint"] is None


def test_racing_processes_make_one_bundle_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'server.db'}"
    made = [Storage(url) for _ in range(3)]
    made[0].create_schema()
    try:
        publics = {storage.bundle_keys().box_public for storage in made}
    finally:
        for storage in made:
            storage.dispose()
    assert len(publics) == 1


# -- a bundle is a sync ----------------------------------------------------------------------------------------------


def test_a_bundle_pushes_a_message_the_mentor_then_pulls_online_exactly_once(hub, mentor):
    student = _register(hub)
    message = _message(mentor.account)
    answer = _answer(hub, student, _post(hub, _request(hub, student, [message])))
    assert answer.accepted == 1 and not answer.refused
    pulled = _pull_online(hub, mentor)
    assert [r.i for r in pulled.r if r.i == message.i] == [message.i]
    got = next(r for r in pulled.r if r.i == message.i)
    assert got.a == student.account and got.d == student.device and got.b == message.b
    again = _pull_online(hub, mentor, pulled.c)
    assert message.i not in {r.i for r in again.r}


def test_importing_the_same_bundle_twice_stores_nothing_twice_and_answers_the_same_records(hub, mentor):
    student = _register(hub)
    for_student = _message(student.account, b"from the mentor")
    online = HTTP.post(
        f"{hub.url}/v1/sync",
        data=encode(SyncRequest(v=1, p=[for_student]), MEDIA_MSGPACK),
        headers={"Content-Type": MEDIA_MSGPACK, "Authorization": f"Bearer {mentor.token}"},
        timeout=30,
    )
    assert online.status_code == 200
    mine = _message(mentor.account, b"from the student")
    bundle = _request(hub, student, [mine])
    first = _answer(hub, student, _post(hub, bundle))
    second = _answer(hub, student, _post(hub, bundle))
    assert first.accepted == second.accepted == 1
    assert [r.i for r in first.records] == [r.i for r in second.records]
    assert for_student.i in {r.i for r in first.records}
    assert first.cursor == second.cursor and first.from_cursor == second.from_cursor == 0
    copies = [r for r in _pull_online(hub, mentor).r if r.i == mine.i]
    assert len(copies) == 1


def test_uploads_land_before_the_message_that_references_them(hub, mentor):
    student = _register(hub)
    blob = os.urandom(2 * BLOB_CHUNK + 1000)  # three chunks, the last one short
    sha = hashlib.sha256(blob).hexdigest()
    message = _message(mentor.account, b"attachment " + sha.encode())
    bundle = _request(hub, student, [message], uploads=[BlobPiece(sha, len(blob), 0, blob)])
    answer = _answer(hub, student, _post(hub, bundle))
    assert answer.uploaded == [(sha, True)] and answer.accepted == 1
    assert message.i in {r.i for r in _pull_online(hub, mentor).r}
    fetched = HTTP.get(f"{hub.url}/v1/blobs/{sha}", headers={"Authorization": f"Bearer {mentor.token}"}, timeout=30)
    assert fetched.status_code == 200 and fetched.content == blob


def test_a_bad_upload_is_reported_incomplete_and_the_push_still_lands(hub, mentor):
    student = _register(hub)
    blob = os.urandom(1000)
    wrong = hashlib.sha256(b"something else").hexdigest()
    message = _message(mentor.account)
    answer = _answer(
        hub, student, _post(hub, _request(hub, student, [message], uploads=[BlobPiece(wrong, 1000, 0, blob)]))
    )
    assert answer.uploaded == [(wrong, False)] and answer.accepted == 1


def test_a_wanted_blob_comes_back_in_the_answer_and_an_unknown_one_is_named(hub, mentor):
    student = _register(hub)
    blob = os.urandom(BLOB_CHUNK + 10)
    sha = hashlib.sha256(blob).hexdigest()
    auth = {"Authorization": f"Bearer {mentor.token}", "Osler-Blob-Size": str(len(blob))}
    for index in range(2):
        piece = blob[index * BLOB_CHUNK : (index + 1) * BLOB_CHUNK]
        put = HTTP.put(f"{hub.url}/v1/blobs/{sha}/chunks/{index}", data=piece, headers=auth, timeout=30)
        assert put.status_code == 200
    unknown = hashlib.sha256(b"never uploaded").hexdigest()
    wants = [WantedBlob(sha, len(blob)), WantedBlob(unknown, 5)]
    answer = _answer(hub, student, _post(hub, _request(hub, student, wants=wants)))
    assert [(p.sha, p.first, p.data) for p in answer.blobs] == [(sha, 0, blob)]
    assert answer.unavailable == [unknown]
    resumed = _answer(hub, student, _post(hub, _request(hub, student, wants=[WantedBlob(sha, len(blob), 1)])))
    assert [(p.first, p.data) for p in resumed.blobs] == [(1, blob[BLOB_CHUNK:])]


def test_a_refused_record_is_named_in_the_answer_and_the_rest_of_the_push_lands(hub, mentor):
    student = _register(hub)
    material = Record(i=new_record_id(), k="material", t=None, h=HybridClock().now(), b=b"a lecture")
    message = _message(mentor.account)
    answer = _answer(hub, student, _post(hub, _request(hub, student, [material, message])))
    assert answer.accepted == 1
    assert [(r.code, r.ids) for r in answer.refused] == [("forbidden", [material.i])]
    assert "mentors" in answer.refused[0].detail
    landed = {r.i for r in _pull_online(hub, mentor).r}
    assert message.i in landed and material.i not in landed


def test_a_push_only_bundle_has_no_cursor_in_its_answer(hub, mentor):
    student = _register(hub)
    answer = _answer(hub, student, _post(hub, _request(hub, student, [_message(mentor.account)], cursor=None)))
    assert answer.accepted == 1 and answer.cursor is None and answer.records == []


def test_the_answer_keeps_to_the_budget_and_says_more(hub, mentor):
    student = _register(hub)
    batch = [_message(student.account, os.urandom(30_000)) for _ in range(5)]
    online = HTTP.post(
        f"{hub.url}/v1/sync",
        data=encode(SyncRequest(v=1, p=batch), MEDIA_MSGPACK),
        headers={"Content-Type": MEDIA_MSGPACK, "Authorization": f"Bearer {mentor.token}"},
        timeout=30,
    )
    assert online.status_code == 200
    got, cursor, rounds = [], 0, 0
    while True:
        answer = _answer(hub, student, _post(hub, _request(hub, student, cursor=cursor, budget=64 << 10)))
        rounds += 1
        assert sum(len(r.b) for r in answer.records) <= 64 << 10
        got += [r.i for r in answer.records if r.i in {b.i for b in batch}]
        cursor = answer.cursor
        if not answer.more:
            break
    assert got == [r.i for r in batch] and rounds >= 3


# -- refusals --------------------------------------------------------------------------------------------------------


def test_a_revoked_device_s_bundle_is_401_device_revoked(hub, mentor):
    student = _register(hub)
    message = _message(mentor.account)
    bundle = _request(hub, student, [message])
    assert hub.storage.revoke_device(student.device)
    _refused(_post(hub, bundle), 401, "device-revoked")
    assert message.i not in {r.i for r in _pull_online(hub, mentor).r}


def test_an_unknown_device_is_404(hub):
    stranger = Device(DeviceKey.generate(), BoxKey.generate(), secrets.token_bytes(16), secrets.token_bytes(16))
    _refused(_post(hub, _request(hub, stranger)), 404, "not-found")


def test_a_bundle_for_another_server_s_keys_is_422_bundle_programme(hub):
    student = _register(hub)
    _refused(_post(hub, _request(hub, student, box=ServerKeys.generate().box_public)), 422, "bundle-programme")


def test_a_bad_signature_is_422(hub, mentor):
    student = _register(hub)
    message = _message(mentor.account)
    _refused(_post(hub, _request(hub, student, [message], key=DeviceKey.generate())), 422, "bad-signature")
    assert message.i not in {r.i for r in _pull_online(hub, mentor).r}


def test_another_account_named_in_the_content_is_422(hub):
    student, other = _register(hub), _register(hub)
    forged = Device(student.key, student.box, other.account, student.device)
    _refused(_post(hub, _request(hub, forged)), 422, "invalid")


def test_truncated_damaged_and_random_bundles_are_400_and_nothing_lands(hub, mentor):
    student = _register(hub)
    message = _message(mentor.account)
    bundle = _request(hub, student, [message])
    header = read_header(bundle)
    offsets = {0, 5, 10, 12, 14, len(header.raw) // 2 + 13, len(bundle) // 2, len(bundle) - 1}
    for offset in sorted(offsets):
        _refused(_post(hub, bundle[:offset]), 400, "bad-encoding")
    _refused(_post(hub, bundle + b"\0"), 400, "bad-encoding")
    _refused(_post(hub, os.urandom(len(bundle))), 400, "bad-encoding")
    assert message.i not in {r.i for r in _pull_online(hub, mentor).r}


def test_bundles_damaged_at_random_are_refused_clearly_never_500(hub):
    student = _register(hub)
    bundle = _request(hub, student, [_message(student.account)])
    rng = random.Random(19)
    for _ in range(12):
        damaged = bytearray(bundle)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        response = _post(hub, bytes(damaged))
        assert response.status_code in (200, 400, 404, 413, 422), response.text[:200]
        assert response.status_code == 200 or response.json()["code"]


def test_an_answer_bundle_sent_to_the_server_is_refused(hub):
    student = _register(hub)
    answer = _post(hub, _request(hub, student))
    _refused(_post(hub, answer.content), 422, "invalid")


def test_an_oversized_bundle_is_413_at_once(hub):
    import socket

    head = (
        f"POST /v1/bundles HTTP/1.1\r\nHost: x\r\nContent-Type: {BUNDLE_MEDIA}\r\n"
        f"Content-Length: {MAX_BUNDLE_BYTES + 1}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", hub.port), timeout=20) as sock:
        sock.sendall(head.encode() + b"OSLERSYNC\n")
        received = b""
        while piece := sock.recv(65536):
            received += piece
    assert received.split(b" ", 2)[1] == b"413" and b"too-large" in received


def test_bundles_are_limited_per_address(tmp_path):
    with ThreadServer(tmp_path / "server", bundles_per_minute=2) as server:
        codes = [_post(server, b"not a bundle").status_code for _ in range(3)]
    assert codes == [400, 400, 429]


# -- the operator's command line -------------------------------------------------------------------------------------


def test_import_bundle_on_a_data_dir_writes_an_answer_the_device_opens(tmp_path, capsys):
    data_dir = tmp_path / "server"
    storage = Storage.for_data_dir(data_dir)
    storage.create_schema()
    try:
        key, box = DeviceKey.generate(), BoxKey.generate()
        student = storage.register(
            storage.create_invites("student")[0], "laptop", key.public_bytes(), box.public_bytes()
        )
        mentor = storage.register(
            storage.create_invites("mentor")[0], "desk", DeviceKey.generate().public_bytes(), None
        )
        keys = storage.bundle_keys()
    finally:
        storage.dispose()
    url = "https://programme.example"
    message = Record(i=new_record_id(), k="message", t=[mentor.account], h=HybridClock().now(), b=b"secret words")
    content = RequestContent(
        student.account, student.device, secrets.token_bytes(16), AT_MS, [message], 0, False, DEFAULT_BUDGET, [], []
    )
    stick = tmp_path / "stick"
    stick.mkdir()
    request_file = stick / "request.oslersync"
    request_file.write_bytes(write_request(content, programme_id(url), keys.box_public, key))
    out = tmp_path / "answers"
    run = subprocess.run(
        [sys.executable, "-m", "sync.server.cli", "--data-dir", str(data_dir), "import-bundle", str(request_file),
         "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "1 of 1 records stored" in run.stdout and "secret" not in run.stdout + run.stderr
    [written] = list(out.iterdir())
    assert f"answer: {written}" in run.stdout and written.suffix == ".oslersync"
    header, answer = open_answer(written.read_bytes(), box, keys.sign_public, student.device, programme_id(url))
    assert header.kind == "answer" and answer.accepted == 1 and answer.request == content.request
    storage = Storage.for_data_dir(data_dir)
    try:
        damaged = stick / "damaged.oslersync"
        damaged.write_bytes(request_file.read_bytes()[:-10])
        assert import_bundle(storage, data_dir, damaged, out) == 1
        assert import_bundle(storage, data_dir, stick / "nothing.oslersync", out) == 1
    finally:
        storage.dispose()
    errors = capsys.readouterr().err
    assert "refused (bad-encoding): the bundle is cut short" in errors and "cannot read" in errors
    assert len(list(out.iterdir())) == 1, "a refused bundle writes no answer"


def test_the_bundle_s_cursor_proves_delivery_to_the_author(hub, mentor):
    student = _register(hub)
    note = _message(student.account, b"from the mentor")
    pushed = HTTP.post(
        f"{hub.url}/v1/sync",
        data=encode(SyncRequest(v=1, p=[note], c=0), MEDIA_MSGPACK),
        headers={"Content-Type": MEDIA_MSGPACK, "Authorization": f"Bearer {mentor.token}"},
        timeout=30,
    )
    mentor_cursor = decode(SyncResponse, pushed.content, MEDIA_MSGPACK).c
    first = _answer(hub, student, _post(hub, _request(hub, student)))
    assert note.i in {r.i for r in first.records}
    _answer(hub, student, _post(hub, _request(hub, student, cursor=first.cursor)))  # "I hold all that"
    marks = [
        msgpack.unpackb(r.b)
        for r in _pull_online(hub, mentor, mentor_cursor).r
        if r.k == DELIVERED_KIND and msgpack.unpackb(r.b)["r"] == student.account
    ]
    assert [mark["i"] for mark in marks] == [note.i]


@pytest.mark.parametrize("box_key", [None, b"not a key"])
def test_a_device_without_a_usable_box_key_gets_a_clear_422_and_nothing_lands(hub, mentor, box_key):
    key = DeviceKey.generate()
    registration = Transport(hub.url).register(hub.invite(), "old laptop", key, box_key)
    boxless = Device(key, BoxKey.generate(), registration.account, registration.device)
    message = _message(mentor.account)
    response = _post(hub, _request(hub, boxless, [message]))
    _refused(response, 422, "invalid")
    assert "box key" in response.json()["detail"]
    assert message.i not in {r.i for r in _pull_online(hub, mentor).r}


def test_a_bundle_cut_at_every_byte_is_refused_as_damaged(hub):
    student = _register(hub)
    bundle, blobs = _request(hub, student, [_message(student.account)]), BlobStore(hub.data_dir / "blobs")
    for offset in range(len(bundle)):
        with pytest.raises(ProtocolError) as refused:
            answer_request(hub.storage, blobs, hub.storage.clock, None, bundle[:offset])
        assert (refused.value.status, refused.value.code) == (400, "bad-encoding"), offset


def test_a_long_push_goes_in_batches_and_a_refusal_in_one_spares_the_others(hub, mentor):
    student = _register(hub)
    push = [_message(mentor.account, b"%d" % n) for n in range(650)]
    push[560] = Record(i=new_record_id(), k="material", t=None, h=HybridClock().now(), b=b"not a student's")
    answer = _answer(hub, student, _post(hub, _request(hub, student, push, cursor=None)))
    assert answer.accepted == 649
    assert [(r.code, r.ids) for r in answer.refused] == [("forbidden", [push[560].i])]
    landed = {r.i for r in _pull_online(hub, mentor).r}
    assert {r.i for r in push} - landed == {push[560].i}


def test_a_bundle_is_answered_on_postgresql_too(tmp_path):
    from tests.pg import require_postgres, reset_database

    url = require_postgres()
    reset_database(url)
    with ThreadServer(tmp_path / "server", url) as server:
        student, mentor = _register(server), _register(server, "mentor")
        message = _message(mentor.account)
        bundle = _request(server, student, [message])
        for _ in range(2):
            answer = _answer(server, student, _post(server, bundle))
            assert answer.accepted == 1 and not answer.refused
        assert [r.i for r in _pull_online(server, mentor).r if r.i == message.i] == [message.i]
