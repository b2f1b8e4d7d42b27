"""Sync bundles under damage (issue 19): importers killed at random points, bundles cut short or corrupted, and
hostile input. Nothing is lost, nothing is doubled, nothing is half applied, and every refusal is clear.

1. The device's answer import (a child process) and the server's ``osler-server import-bundle`` (a real CLI
   process) are SIGKILLed after random delays (seeded; the seed is printed), then run to completion: the device
   holds every pulled message once, its outbox is settled and its cursor is the answer's; the server holds each
   pushed record once and its answer file is whole or absent.
2. A request truncated or corrupted at 20 offsets is refused by the server with a 4xx in the one error shape and
   stores nothing; an answer truncated or corrupted at 20 offsets is refused by the device with a sentence, and
   the vault is unchanged.
3. Bad input: a request of another programme, one signed by a revoked device, an oversized one, a gzip bomb and
   requests cut at any byte (a sample): a clear refusal each, nothing stored.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import random
import secrets
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from desktop.domain.bundles import BundleRefused
from desktop.domain.sync_adapter import load_program, queue_record
from desktop.vault import Vault
from sync import bundle, bundle_frame
from sync.envelope import ServerKeys
from tests.bundle_processes import (
    PASSPHRASE,
    ROOT,
    BundleServer,
    Offline,
    child_env,
    device_command,
    go_offline,
    import_bundle,
    import_bundle_command,
    joined,
    server_counts,
    server_record_ids,
    session_of,
)
from tests.clients import Client, synced

KILLS = 50
MENTOR_TEXTS = [f"Mentor note {n}: read chapter {n} before the ward round" for n in range(12)]
STUDENT_TEXTS = [f"Student note {n}: done with chapter {n}" for n in range(3)]
BUNDLE_ERROR = {"detail", "code"}


class World:
    """A server process, a mentor who wrote 12 messages to an offline student, the student's request (3 messages
    of their own), and copies to start each damage from: the server's data before it saw the request, the
    student's vault before the answer, and that answer (made by import-bundle on a copy)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server = BundleServer(root / "server").start()
        student = joined(root / "student", self.server, "Amina Student")
        self.mentor = joined(root / "mentor", self.server, "Dr Kofi Mensah", role="mentor")
        synced(student, self.mentor, student, self.mentor)
        self.mentor_account = self.mentor.account.hex()
        student_account = student.account.hex()
        self.student = go_offline(student, root / "student-data")
        chat = self.mentor.messaging()
        thread = chat.start_direct(student_account)
        for text in MENTOR_TEXTS:
            chat.send(thread, text)
        self.mentor.engine().sync_once()
        self.student.send_all(self.mentor_account, STUDENT_TEXTS)
        self.request = self.student.export(root / "usb")
        self.before = self.student.state()
        # pristine copies: the server before it saw the request, the student before the answer
        self.server.stop()
        self.server_copy = root / "server-pristine"
        shutil.copytree(self.server.data_dir, self.server_copy)
        self.server.start()
        self.student_copy = root / "student-pristine"
        shutil.copytree(self.student.vault_dir, self.student_copy / "vault")
        shutil.copytree(self.student.data_dir, self.student_copy / "data")
        self.answer = import_bundle(self.fresh_server(root / "answer-server"), self.request, root / "answers")

    def fresh_server(self, folder: Path) -> Path:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(self.server_copy, folder)
        return folder

    def fresh_student(self, folder: Path) -> Offline:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(self.student_copy, folder)
        return Offline(folder / "vault", folder / "data", self.student.account, self.student.device)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    made = World(tmp_path_factory.mktemp("bundle-damage"))
    yield made
    made.server.stop()


def vault_view(vault_dir: Path) -> dict:
    """What the person would notice, read in this process: cursor, outbox, and every message (id, author, text)."""
    vault = Vault.open(vault_dir)
    vault.unlock(PASSPHRASE)  # raises if a kill left anything that needs a manual step
    try:
        program = load_program(vault)
        return {
            "cursor": vault.records.cursor(program.server_key),
            "outbox": sorted(r.id for r in vault.records.by_state("outbox")),
            "messages": Counter((m.author, m.body) for m in vault.messages.iter_all()),
            "inbound": {r.id for state in ("inbound", "applied") for r in vault.records.by_state(state)},
        }
    finally:
        vault.close()


def finish_import(device: Offline, answer: Path) -> dict:
    """The person imports the answer again, to completion, in this process."""
    vault = Vault.open(device.vault_dir)
    vault.unlock(PASSPHRASE)
    client = Client(vault, load_program(vault), "")
    session = session_of(client, device.data_dir)
    try:
        session.bundles.import_file(answer)
    finally:
        session.stop()
        vault.close()
    return vault_view(device.vault_dir)


def settled(view: dict, world: World) -> bool:
    """None of the records the request carried is still in the outbox (upkeep may have queued new ones)."""
    return not set(view["outbox"]) & set(world.before["outbox"])


def expected_after(world: World) -> Counter:
    return Counter(
        [(world.mentor_account, t) for t in MENTOR_TEXTS] + [(world.student.account, t) for t in STUDENT_TEXTS]
    )


# -- 1. kills -------------------------------------------------------------------------------------------------


def _timed_device_import(device: Offline, answer: Path) -> float:
    child = subprocess.Popen(
        device_command(device.vault_dir, device.data_dir, "import", answer), stdout=subprocess.PIPE, cwd=ROOT,
        env=child_env(),
    )  # fmt: skip
    assert child.stdout.readline().strip() == b"ready"
    started = time.monotonic()
    child.communicate(timeout=120)
    assert child.returncode == 0
    return time.monotonic() - started


@pytest.mark.parametrize("kills", [pytest.param(KILLS, marks=pytest.mark.slow), 2])
def test_killing_the_device_import_at_random_points_loses_and_doubles_nothing(world, tmp_path: Path, kills: int):
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    rng = random.Random(seed)
    uncut = world.fresh_student(tmp_path / "uncut")
    before = vault_view(uncut.vault_dir)
    window = _timed_device_import(uncut, world.answer)
    done = vault_view(uncut.vault_dir)
    assert done["messages"] == expected_after(world) and settled(done, world)
    assert done["cursor"] > before["cursor"]
    pulled = done["inbound"] - before["inbound"]
    assert pulled
    outcomes = Counter()
    for n in range(kills):
        device = world.fresh_student(tmp_path / "work")
        child = subprocess.Popen(
            device_command(device.vault_dir, device.data_dir, "import", world.answer), stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, cwd=ROOT, env=child_env(),
        )  # fmt: skip
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0, 0.8 * window))
        child.send_signal(signal.SIGKILL)
        child.communicate()
        outcomes["killed" if child.returncode == -signal.SIGKILL else "finished"] += 1
        cut = vault_view(device.vault_dir)
        # records and cursor move in one transaction: all the pulled records and the new cursor, or neither
        held = pulled & cut["inbound"]
        assert (cut["cursor"], held) in ((before["cursor"], set()), (done["cursor"], pulled)), (n, seed)
        assert not (Counter(cut["messages"]) - expected_after(world)), f"a message doubled or invented ({n}, {seed})"
        final = finish_import(device, world.answer)
        assert final["messages"] == expected_after(world), (n, seed)
        assert settled(final, world) and final["cursor"] == done["cursor"], (n, seed)
    print(f"device import kills: {dict(outcomes)} in a window of {window:.2f} s")
    assert outcomes["killed"] >= kills // 3, outcomes


def test_the_device_import_killed_at_each_vault_commit_in_turn_loses_and_doubles_nothing(world, tmp_path: Path):
    """The named crash point before every vault commit (``OSLER_FAULT=vault:commit@n``, desktop/vault/faults.py):
    the import dies just before its 1st, 2nd, ... transaction commits, until one run gets through."""
    uncut = world.fresh_student(tmp_path / "uncut")
    before = vault_view(uncut.vault_dir)
    finish_import(uncut, world.answer)
    done = vault_view(uncut.vault_dir)
    pulled = done["inbound"] - before["inbound"]
    n = 0
    while True:
        n += 1
        assert n < 60, "the import never got through"
        device = world.fresh_student(tmp_path / "work")
        child = subprocess.run(
            device_command(device.vault_dir, device.data_dir, "import", world.answer), capture_output=True,
            cwd=ROOT, env=child_env(OSLER_FAULT=f"vault:commit@{n}", OSLER_TEST_NO_NET="all"), timeout=120,
        )  # fmt: skip
        cut = vault_view(device.vault_dir)
        held = pulled & cut["inbound"]
        assert (cut["cursor"], held) in ((before["cursor"], set()), (done["cursor"], pulled)), n
        final = finish_import(device, world.answer)
        assert final["messages"] == expected_after(world) and settled(final, world), n
        assert final["cursor"] == done["cursor"], n
        if child.returncode == 0:
            break
        assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    print(f"the import got through at commit {n}: killed before each of the {n - 1} before it")
    assert n > 1


def _answer_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(bundle.SUFFIX)] if folder.exists() else []


@pytest.mark.parametrize("kills", [pytest.param(KILLS, marks=pytest.mark.slow), 2])
def test_killing_the_server_import_bundle_at_random_points_loses_and_doubles_nothing(world, tmp_path, kills: int):
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    rng = random.Random(seed)
    base = server_counts(world.server_copy)
    uncut_dir = world.fresh_server(tmp_path / "uncut")
    started = time.monotonic()
    import_bundle(uncut_dir, world.request, tmp_path / "uncut-out")
    window = time.monotonic() - started
    want = sorted(server_record_ids(uncut_dir, world.student.device))
    after = server_counts(uncut_dir)
    assert after["records"] == base["records"] + len(world.before["outbox"]), (base, after)
    outcomes = Counter()
    for n in range(kills):
        data = world.fresh_server(tmp_path / "server")
        out = tmp_path / "out"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        child = subprocess.Popen(
            import_bundle_command(data, world.request, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=ROOT, env=child_env(),
        )  # fmt: skip
        time.sleep(rng.uniform(0, 0.8 * window))
        child.send_signal(signal.SIGKILL)
        child.wait()
        outcomes["killed" if child.returncode == -signal.SIGKILL else "finished"] += 1
        for made in _answer_files(out):  # an answer file is whole, or not there
            raw = made.read_bytes()
            assert bundle.read_header(raw).size == len(raw), (n, seed)
        ids = server_record_ids(data, world.student.device)
        assert len(ids) == len(set(ids)) and set(ids) <= set(want), (n, seed)
        shutil.rmtree(out)
        answer = import_bundle(data, world.request, out)
        assert sorted(server_record_ids(data, world.student.device)) == want, (n, seed)
        assert server_counts(data)["records"] == after["records"], (n, seed)
    print(f"import-bundle kills: {dict(outcomes)} in a window of {window:.2f} s")
    # the answer of the last run, imported by the student: everything once
    device = world.fresh_student(tmp_path / "device")
    final = finish_import(device, answer)
    assert final["messages"] == expected_after(world) and settled(final, world)
    assert outcomes["killed"] >= kills // 3, outcomes


# -- 2. truncated and corrupted bundles ------------------------------------------------------------------------


def offsets(size: int, rng: random.Random, count: int = 20) -> list[int]:
    """``count`` offsets inside a bundle of ``size``: the magic, the version, the header length, the header, the
    start and end of the sealed payload, and random ones in between."""
    fixed = [0, 5, 10, 11, 12, 14, 20, size // 2, size - 64, size - 1]
    picked = sorted({min(max(o, 0), size - 1) for o in fixed} | {rng.randrange(size) for _ in range(count)})
    return picked[:count] if len(picked) >= count else picked


def post(url: str, data: bytes) -> requests.Response:
    return requests.post(f"{url}/v1/bundles", data=data, headers={"Content-Type": bundle.BUNDLE_MEDIA}, timeout=60)


def refused(response: requests.Response, statuses: set[int]) -> dict:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) >= BUNDLE_ERROR and body["detail"], body
    return body


def test_a_request_cut_or_corrupted_at_20_offsets_is_refused_and_stores_nothing(world):
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    rng = random.Random(seed)
    data = world.request.read_bytes()
    before = server_counts(Path(world.server.data_dir))
    codes = Counter()
    for offset in offsets(len(data), rng):
        cut = refused(post(world.server.url, data[:offset]), {400})
        codes[cut["code"]] += 1
        flipped = bytearray(data)
        flipped[offset] ^= 1 << rng.randrange(8)
        bad = refused(post(world.server.url, bytes(flipped)), {400, 401, 404, 413, 422, 426})
        codes[bad["code"]] += 1
        refused(post(world.server.url, data + b"\0"), {400})  # a byte after the payload: damaged
        assert server_counts(Path(world.server.data_dir)) == before, (offset, seed)
    print(f"refusal codes: {dict(codes)}")
    assert set(codes) <= {"bad-encoding", "too-large", "bundle-programme", "bad-signature", "not-found",
                          "device-revoked", "newer-version", "invalid", "unsupported"}  # fmt: skip


def test_an_answer_cut_or_corrupted_at_20_offsets_is_refused_and_the_vault_is_unchanged(world, tmp_path: Path):
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    rng = random.Random(seed)
    data = world.answer.read_bytes()
    device = world.fresh_student(tmp_path / "device")
    before = vault_view(device.vault_dir)
    vault = Vault.open(device.vault_dir)
    vault.unlock(PASSPHRASE)
    session = session_of(Client(vault, load_program(vault), ""), device.data_dir)
    sentences = set()
    try:
        for offset in offsets(len(data), rng):
            flipped = bytearray(data)
            flipped[offset] ^= 1 << rng.randrange(8)
            for damaged in (data[:offset], bytes(flipped), data + b"\0"):
                with pytest.raises(BundleRefused) as caught:
                    session.bundles.import_answer(damaged)
                assert caught.value.message and "Traceback" not in caught.value.message
                sentences.add(caught.value.message)
    finally:
        session.stop()
        vault.close()
    after = vault_view(device.vault_dir)
    assert after == before, "a refused answer changed nothing"
    print("sentences:", sorted(sentences))
    assert finish_import(device, world.answer)["messages"] == expected_after(world), "the whole answer still works"


# -- 3. bad input ---------------------------------------------------------------------------------------------


def device_keys(device: Offline):
    """The offline student's programme (credentials, box key), read from a copy of its vault."""
    vault = Vault.open(device.vault_dir)
    vault.unlock(PASSPHRASE)
    try:
        return load_program(vault)
    finally:
        vault.close()


def server_public(url: str) -> tuple[bytes, bytes]:
    body = requests.get(f"{url}/v1/bundle-key", timeout=10).json()
    return base64.b64decode(body["box"]), base64.b64decode(body["sign"])


def forged_request(program, programme: str, box_public: bytes, gzipped: bytes) -> bytes:
    """A request signed by the device's own key around any gzip part (a bomb): what a hostile device could make."""
    creds = program.credentials
    return bundle_frame.frame("request", programme, creds.device, secrets.token_bytes(16), 1_700_000_000_000, 0, 0,
                         gzipped, creds.key, box_public)  # fmt: skip


def test_a_request_of_another_programme_is_refused_by_the_server_and_by_a_carrier(world, tmp_path: Path):
    device = world.fresh_student(tmp_path / "device")
    program = device_keys(device)
    other = ServerKeys.generate()
    content = bundle.RequestContent(
        account=program.credentials.account, device=program.credentials.device, request=secrets.token_bytes(16),
        created_ms=1_700_000_000_000, push=[], cursor=0, grants_only=False, budget=bundle.DEFAULT_BUDGET,
        uploads=[], wants=[],
    )  # fmt: skip
    before = server_counts(Path(world.server.data_dir))
    elsewhere = bundle.write_request(content, bundle.programme_id("https://other.example"), other.box_public,
                                     program.credentials.key)  # fmt: skip
    body = refused(post(world.server.url, elsewhere), {422})
    assert body["code"] == "bundle-programme", body
    # the right programme id in the header, but sealed to another server's key: it does not open here either
    sealed_elsewhere = bundle.write_request(content, bundle.programme_id(world.server.url), other.box_public,
                                            program.credentials.key)  # fmt: skip
    body = refused(post(world.server.url, sealed_elsewhere), {422})
    assert body["code"] == "bundle-programme", body
    assert server_counts(Path(world.server.data_dir)) == before
    # a classmate of this programme will not carry it, and says why
    carrier = world.mentor
    session = session_of(carrier, tmp_path / "carrier")
    try:
        with pytest.raises(BundleRefused) as caught:
            session.carry.take(elsewhere)
        assert caught.value.code == "other-programme" and "programme" in caught.value.message
        assert session.carry.items() == []
    finally:
        session.stop()


def test_an_answer_of_another_programme_or_server_is_refused_and_the_vault_is_unchanged(world, tmp_path: Path):
    device = world.fresh_student(tmp_path / "device")
    program = device_keys(device)
    before = vault_view(device.vault_dir)
    request = bundle.read_header(world.request.read_bytes())
    answer = bundle.AnswerContent(
        request=request.request, created_ms=request.created_ms + 1, accepted=0, refused=[], records=[],
        from_cursor=0, cursor=10_000, more=False, waiting=None, uploaded=[], blobs=[], unavailable=[],
    )  # fmt: skip
    impostor = ServerKeys.generate()  # a server that is not this programme's, sealing to the right device
    forged = bundle.write_answer(answer, request, impostor, program.box.public_bytes())
    other_header = dataclasses.replace(request, programme=bundle.programme_id("https://other.example"))
    elsewhere = bundle.write_answer(answer, other_header, impostor, program.box.public_bytes())
    vault = Vault.open(device.vault_dir)
    vault.unlock(PASSPHRASE)
    session = session_of(Client(vault, program, ""), device.data_dir)
    try:
        for data, code in ((forged, "bad-signature"), (elsewhere, "other-programme")):
            with pytest.raises(BundleRefused) as caught:
                session.bundles.import_answer(data)
            assert caught.value.code == code and caught.value.message
    finally:
        session.stop()
        vault.close()
    assert vault_view(device.vault_dir) == before


def test_a_request_signed_by_a_revoked_device_is_refused_and_stores_nothing(world, tmp_path: Path):
    phone = joined(tmp_path / "phone", world.server, "Amina's old phone")
    session = session_of(phone, tmp_path / "phone-data")
    try:
        session.engine.sync_once()
        session.bundles.fetch_server_keys()
        for text in ("sent from a phone that was stolen", "and another"):
            queue_record(phone.vault, phone.program, phone.clock, "message", text.encode(), None)
        data = session.bundles.make_request()
    finally:
        session.stop()
    device = phone.program.credentials.device.hex()
    held = server_record_ids(Path(world.server.data_dir), device)  # its card, from its one online sync
    subprocess.run(world.server._cli("revoke-device", phone.program.credentials.device.hex()), check=True,
                   capture_output=True)  # fmt: skip
    before = server_counts(Path(world.server.data_dir))
    body = refused(post(world.server.url, data), {401})
    assert body["code"] == "device-revoked", body
    assert server_counts(Path(world.server.data_dir)) == before
    assert server_record_ids(Path(world.server.data_dir), device) == held


def test_an_oversized_bundle_is_refused_at_once_by_the_server_and_the_device(world, tmp_path: Path):
    before = server_counts(Path(world.server.data_dir))
    data = world.request.read_bytes()
    huge = data + bytes(bundle.MAX_BUNDLE_BYTES + 1 - len(data))
    body = refused(post(world.server.url, huge), {413})
    assert body["code"] == "too-large", body
    assert server_counts(Path(world.server.data_dir)) == before
    device = world.fresh_student(tmp_path / "device")
    path = tmp_path / "huge.oslersync"
    path.write_bytes(world.answer.read_bytes() + bytes(bundle.MAX_BUNDLE_BYTES + 1))
    before_vault = vault_view(device.vault_dir)
    vault = Vault.open(device.vault_dir)
    vault.unlock(PASSPHRASE)
    session = session_of(Client(vault, load_program(vault), ""), device.data_dir)
    try:
        with pytest.raises(BundleRefused) as caught:
            session.bundles.import_file(path)
        assert caught.value.message
    finally:
        session.stop()
        vault.close()
    assert vault_view(device.vault_dir) == before_vault


def test_a_gzip_bomb_signed_by_a_real_device_is_refused_while_inflating(world, tmp_path: Path):
    device = world.fresh_student(tmp_path / "device")
    program = device_keys(device)
    box_public, _sign = server_public(world.server.url)
    bomb = gzip.compress(bytes(bundle.MAX_CONTENT + (1 << 20)), 9)  # ~130 KB that inflate to 129 MiB
    assert len(bomb) < 1 << 20
    data = forged_request(program, bundle.programme_id(world.server.url), box_public, bomb)
    before = server_counts(Path(world.server.data_dir))
    body = refused(post(world.server.url, data), {400, 413, 422})
    assert body["code"] in {"too-large", "bad-encoding", "invalid"}, body
    assert server_counts(Path(world.server.data_dir)) == before
    assert requests.get(f"{world.server.url}/v1/health", timeout=10).status_code == 200, "the server lives on"


def test_a_request_cut_at_any_byte_is_refused_and_stores_nothing(world, tmp_path: Path):
    """Every cut point of the clear part (magic, version, header length, header) and 40 random ones after it."""
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    rng = random.Random(seed)
    data = world.request.read_bytes()
    header = bundle.read_header(data)
    prefix = len(data) - header.payload_size
    cuts = list(range(prefix + 1)) + sorted(rng.sample(range(prefix + 1, len(data)), 40))
    before = server_counts(Path(world.server.data_dir))
    for cut in cuts:
        body = refused(post(world.server.url, data[:cut]), {400})
        assert body["code"] == "bad-encoding", (cut, body)
    assert server_counts(Path(world.server.data_dir)) == before
    # a classmate asked to carry a cut request says so, and keeps nothing
    session = session_of(world.mentor, tmp_path / "carrier")
    try:
        for cut in [*cuts[::8], len(data) - 1]:
            with pytest.raises(BundleRefused) as caught:
                session.carry.take(data[:cut])
            assert caught.value.message
        assert session.carry.items() == []
    finally:
        session.stop()
    print(f"{len(cuts)} cut points refused, {prefix} bytes of clear prefix")
