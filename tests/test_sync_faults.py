"""Sync over a link that breaks: every byte offset of a small exchange (sign-in included, both ways) and of
joining, random offsets of a large one (pull pages, a blob each way), a server killed mid-sync, a client killed
mid-apply. Afterwards: nothing lost, nothing duplicated, cursors monotonic, and no cut ever needs a person to act."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from desktop.domain.sync_adapter import join_program
from sync.client.errors import SyncError
from sync.client.scheduler import SyncScheduler
from sync.client.transport import Transport
from tests.clients import Client, make_client
from tests.faultproxy import FaultProxy
from tests.servers import ProcessServer, ThreadServer

ROOT = Path(__file__).resolve().parent.parent
HEAL_ATTEMPTS = 3


@dataclass
class Tally:
    """What a person would notice after a series of cuts: records lost or doubled, and the cuts after which
    sync did not carry on by itself (an error the scheduler does not retry, or one that is no ``SyncError``)."""

    cuts: int = 0
    lost: int = 0
    doubled: int = 0
    manual: list[str] = field(default_factory=list)

    def report(self, name: str) -> str:
        line = f"\n{name}: cuts={self.cuts} lost={self.lost} doubled={self.doubled} manual={len(self.manual)}"
        print(line + "".join(f"\n  {m}" for m in self.manual[:10]))
        return line

    def assert_clean(self, name: str) -> None:
        line = self.report(name)
        assert (self.lost, self.doubled, self.manual) == (0, 0, []), line


def _cut_and_heal(
    proxy: FaultProxy, work: Callable[[], object], offset: int, tally: Tally, *, by_itself: bool = True
) -> None:
    """Cut after ``offset`` bytes (the next connection, or every one unless ``proxy.cut_once``) while ``work``
    runs, then heal the link and run ``work`` again as the scheduler would: only after a retryable error.
    ``by_itself=False`` (joining, which no scheduler repeats): any error from the cut attempt needs a person."""
    tally.cuts += 1
    proxy.configure(cut_after_bytes=offset)
    try:
        work()
        return
    except SyncError as error:
        if not error.retryable or not by_itself:
            tally.manual.append(f"offset {offset}: {type(error).__name__}: {error}")
            if not error.retryable:
                return
    except Exception as error:  # what the transport let escape is the finding
        tally.manual.append(f"offset {offset}: escaped {type(error).__name__}: {error}")
        return
    finally:
        proxy.configure(cut_after_bytes=None, cut_once=True)
    for _ in range(HEAL_ATTEMPTS):
        try:
            work()
            return
        except SyncError as error:
            last = error
    tally.manual.append(f"offset {offset}: healed link, still {type(last).__name__}: {last}")


def _sync_until_done(engine, attempts: int = 5) -> None:
    for _ in range(attempts):
        try:
            engine.sync_once()
            return
        except SyncError:
            time.sleep(0.01)
    raise AssertionError("the link is healed but sync keeps failing")


def _server_record_ids(url_or_storage) -> list[bytes]:
    """The ids of the records clients pushed (not the delivery marks the server makes, PROTOCOL.md §4.5)."""
    pushed = sa.text("SELECT id FROM records WHERE kind != 'delivered' ORDER BY seq")
    with url_or_storage.reader.connect() as conn:
        return [row[0] for row in conn.execute(pushed)]


def _count(tally: Tally, writer: Client, reader: Client, sent: list[bytes], server_ids: list[bytes]) -> None:
    inbound = [r.i for r in reader.inbound()]
    tally.lost += len(set(sent) - set(server_ids)) + len(set(sent) - set(inbound))
    tally.lost += writer.vault.records.outbox_totals()[0]
    tally.doubled += len(server_ids) - len(set(server_ids)) + len(inbound) - len(set(inbound))
    tally.doubled += len(set(server_ids) - set(sent)) + len(set(inbound) - set(sent))


def _check(writer: Client, reader: Client, sent: list[bytes], server_ids: list[bytes], cursors: list[int]) -> None:
    assert writer.vault.records.outbox_totals()[0] == 0
    assert len(server_ids) == len(set(server_ids)) == len(sent), "the server stored each record once"
    inbound = [r.i for r in reader.inbound()]
    assert len(inbound) == len(set(inbound)) and set(inbound) == set(sent), "the reader has each record once"
    assert cursors == sorted(cursors), "the reader's cursor never moved backwards"


def _server(tmp_path: Path) -> ThreadServer:
    return ThreadServer(tmp_path / "server", auth_per_minute=1_000_000)  # thousands of sign-ins a minute here


@pytest.mark.slow
@pytest.mark.parametrize("signed", [True, False], ids=["signed-request", "challenge-token"])
def test_small_exchange_cut_at_every_byte_offset(tmp_path: Path, signed: bool):
    """Each exchange signs in afresh then syncs, on one connection cut at every offset: signed, the sign-in rides
    in the sync request itself (PROTOCOL.md §6.2); otherwise by challenge then token, as an older server wants.
    That fallback is cut at every fourth offset (about 500 cuts, every frame of its three exchanges still cut
    many times): at every one it took four minutes of a make test that should take fifteen."""
    tally = Tally()
    with _server(tmp_path) as server, FaultProxy("127.0.0.1", server.port) as proxy:
        writer = make_client(tmp_path / "w", server.url, server.invite())
        reader = make_client(tmp_path / "r", server.url, server.invite("mentor"))
        sent = [writer.send(b"warm-up", [reader.account]).i]
        writer.engine(url=proxy.url, sign_requests=signed).sync_once()
        reader.engine(url=proxy.url, sign_requests=signed).sync_once()
        # Measure one exchange: a fresh engine (so it signs in) pushes one record and pulls.
        proxy.reset_counters()
        sent.append(writer.send(b"measure", [reader.account]).i)
        writer.engine(url=proxy.url, sign_requests=signed).sync_once()
        size = proxy.bytes_up + proxy.bytes_down
        assert proxy.connections == 1 and 500 < size < 4000, (proxy.connections, size)
        cursors = [reader.cursor()]
        proxy.configure(cut_once=True)
        for offset in range(0, size + 1, 1 if signed else 4):
            sent.append(writer.send(f"message {offset}".encode(), [reader.account]).i)
            push = writer.engine(url=proxy.url, sign_requests=signed)
            pull = reader.engine(url=proxy.url, sign_requests=signed)
            _cut_and_heal(proxy, push.sync_once, offset, tally)
            _cut_and_heal(proxy, pull.sync_once, offset, tally)
            push.transport.close()
            pull.transport.close()
            cursors.append(reader.cursor())
        _count(tally, writer, reader, sent, _server_record_ids(server.storage))
        assert cursors == sorted(cursors), "the reader's cursor never moved backwards"
    tally.assert_clean(f"small exchange with sign-in ({'signed' if signed else 'challenge, token'}), {size} bytes")


def test_the_scheduler_carries_on_by_itself_after_cuts(tmp_path: Path):
    """The real scheduler, not a loop in the test: after a cut at any of 40 offsets spread over sign-in and sync,
    it retries on its own (backoff shortened) until the queue is empty; it never stops for a person."""
    tally = Tally()
    with _server(tmp_path) as server, FaultProxy("127.0.0.1", server.port) as proxy:
        writer = make_client(tmp_path / "w", server.url, server.invite())
        writer.send(b"measure", None)
        proxy.reset_counters()
        writer.engine(url=proxy.url).sync_once()
        size = proxy.bytes_up + proxy.bytes_down
        for offset in range(0, size, max(1, size // 40)):
            writer.send(f"message {offset}".encode(), None)
            scheduler = SyncScheduler(
                writer.engine(url=proxy.url), debounce=0, backoff_base=0.01, backoff_cap=0.05, interval=3600
            )
            proxy.configure(cut_after_bytes=offset, cut_once=True)
            tally.cuts += 1
            scheduler.start()
            try:
                deadline = time.monotonic() + 60  # a guard against hanging, not a measure
                while time.monotonic() < deadline:
                    status = scheduler.status
                    error = status.last_error
                    if status.last_success is not None and not status.syncing:
                        break
                    if error is not None and not error.retryable and not status.syncing:
                        tally.manual.append(f"offset {offset}: scheduler stopped on {type(error).__name__}: {error}")
                        break
                    time.sleep(0.005)
                else:
                    tally.manual.append(f"offset {offset}: no success within a minute")
            finally:
                scheduler.stop()
                scheduler.engine.transport.close()
        tally.lost += writer.vault.records.outbox_totals()[0]
    tally.assert_clean(f"scheduler after cuts, {size} bytes")


@pytest.mark.slow
def test_large_exchange_cut_at_random_offsets(tmp_path: Path):
    """200 cuts of rounds of 50 records, several pull pages and a 150 KB blob up and down each, at random offsets
    of the first connection or of every connection while the round runs."""
    seed = int.from_bytes(os.urandom(4), "big")
    rng, tally = random.Random(seed), Tally()
    with _server(tmp_path) as server, FaultProxy("127.0.0.1", server.port) as proxy:
        writer = make_client(tmp_path / "w", server.url, server.invite())
        reader = make_client(tmp_path / "r", server.url, server.invite("mentor"))
        sent: list[bytes] = []
        cursors = [0]
        downloads = tmp_path / "downloads"
        downloads.mkdir()
        sizes: dict[str, int] = {}
        for round_ in range(101):  # round 0 measures, then 100 cuts on each side
            sent += [writer.send(os.urandom(400), [reader.account]).i for _ in range(50)]
            blob = os.urandom(150_000)
            sha = hashlib.sha256(blob).hexdigest()
            push, pull = writer.engine(url=proxy.url), reader.engine(url=proxy.url, pull_budget=8 * 1024)

            def up(push=push, blob=blob) -> None:
                push.upload_blob(blob)
                push.sync_once()

            def down(pull=pull, sha=sha) -> None:
                pull.sync_once()
                pull.download_blob(sha, downloads / sha)

            for side, work in (("up", up), ("down", down)):
                if round_ == 0:
                    proxy.reset_counters()
                    work()
                    sizes[side] = proxy.bytes_up + proxy.bytes_down
                    continue
                proxy.configure(cut_once=rng.random() < 0.5)
                _cut_and_heal(proxy, work, rng.randrange(0, sizes[side]), tally)
            push.transport.close()
            pull.transport.close()
            if (downloads / sha).read_bytes() != blob:
                tally.lost += 1
            cursors.append(reader.cursor())
        _count(tally, writer, reader, sent, _server_record_ids(server.storage))
        assert cursors == sorted(cursors), "the reader's cursor never moved backwards"
    tally.assert_clean(f"large exchange (seed {seed}), up {sizes['up']} / down {sizes['down']} bytes")


def _forget_joining(vault) -> None:
    """This vault as if it had never joined: the next join is a new device, as on a fresh install."""
    for name in ("program", "program-joining"):
        vault.delete_secret(name)


def _accounts(server) -> int:
    with server.storage.reader.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM accounts")).scalar_one()


@pytest.mark.slow
def test_join_cut_at_every_byte_offset(tmp_path: Path):
    """Joining (health check, register) with the link cut at every offset: the app's own retry ends with the
    device joined on the same invite, and the server holds exactly one account per join."""
    from desktop.vault import KdfParams, Vault

    tally = Tally()
    with _server(tmp_path) as server, FaultProxy("127.0.0.1", server.port) as proxy:
        vault, _ = Vault.create(tmp_path / "vault", "client passphrase", params=KdfParams.floor())
        proxy.reset_counters()
        join_program(vault, Transport(proxy.url), server.invite(), "device 0000")
        size = proxy.bytes_up + proxy.bytes_down
        assert proxy.connections == 1 and 1000 < size < 4000, (proxy.connections, size)
        joined = 1
        proxy.configure(cut_once=True)
        for offset in range(size + 1):
            _forget_joining(vault)
            invite = server.invite()

            def join(invite=invite, offset=offset) -> None:
                join_program(vault, Transport(proxy.url), invite, f"device {offset:04}")

            _cut_and_heal(proxy, join, offset, tally, by_itself=False)
            joined += vault.get_secret("program") is not None
        tally.lost += size + 2 - joined  # invites spent without a device joined
        tally.doubled += _accounts(server) - joined  # orphan accounts
        vault.close()
    tally.assert_clean(f"join, {size} bytes")


def test_join_retried_after_the_app_died_gets_the_same_account(tmp_path: Path):
    """The register request reaches the server, its answer never comes back, the app dies: joining again with
    the same invite after a restart gives the account the server made, not "invite already used"."""
    from desktop.vault import KdfParams, Vault

    with _server(tmp_path) as server, FaultProxy("127.0.0.1", server.port) as proxy:
        probe, _ = Vault.create(tmp_path / "probe", "client passphrase", params=KdfParams.floor())
        proxy.reset_counters()
        join_program(probe, Transport(proxy.url), server.invite(), "laptop")
        size = proxy.bytes_up + proxy.bytes_down
        probe.close()

        folder = tmp_path / "vault"
        Vault.create(folder, "client passphrase", params=KdfParams.floor())[0].close()
        invite, accounts_before = server.invite(), _accounts(server)
        proxy.configure(cut_after_bytes=size - 5)  # every connection: each answer to register is cut short
        child = subprocess.run(
            [sys.executable, "-c", JOIN_CHILD, str(folder), proxy.url, invite],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert child.returncode == 3, child.stdout + child.stderr  # the join failed, offline, as expected
        assert _accounts(server) == accounts_before + 1, "the register request did reach the server"
        proxy.configure(cut_after_bytes=None)

        vault = Vault.open(folder)  # the app starts again; the person presses Join again
        vault.unlock("client passphrase")
        program = join_program(vault, Transport(proxy.url), invite, "laptop")
        assert _accounts(server) == accounts_before + 1, "no second account"
        with server.storage.reader.connect() as conn:
            devices = conn.execute(sa.text("SELECT account_id FROM devices ORDER BY created_at")).all()
        assert devices[-1][0] == program.credentials.account
        client = Client(vault, program, proxy.url)
        client.send(b"hello after joining", None)
        client.engine().sync_once()
        assert client.vault.records.outbox_totals()[0] == 0
        vault.close()


JOIN_CHILD = """
import sys
from desktop.domain.sync_adapter import join_program
from desktop.vault import Vault
from sync.client.errors import SyncError
from sync.client.scheduler import SyncScheduler
from sync.client.transport import Transport
vault = Vault.open(sys.argv[1]); vault.unlock("client passphrase")
try:
    join_program(vault, Transport(sys.argv[2]), sys.argv[3], "laptop")
except SyncError as error:
    print(type(error).__name__, error, flush=True)
    sys.exit(3 if error.retryable else 4)
"""


@pytest.mark.slow
def test_server_killed_mid_sync_and_restarted(tmp_path: Path):
    server = ProcessServer(tmp_path / "server").start()
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    try:
        writer = make_client(tmp_path / "w", server.url, server.invite())
        reader = make_client(tmp_path / "r", server.url, server.invite("mentor"))
        sent: list[bytes] = []
        for _round in range(5):
            sent += [writer.send(os.urandom(400), [reader.account]).i for _ in range(400)]

            def run(client: Client) -> None:
                with contextlib.suppress(SyncError):  # the server dies under it: expected
                    client.engine(push_budget=16 * 1024, pull_budget=16 * 1024).sync_once()

            threads = [threading.Thread(target=run, args=(c,)) for c in (writer, reader)]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.05, 0.4))
            server.kill()
            for thread in threads:
                thread.join()
            server.start()
            _sync_until_done(writer.engine())
            _sync_until_done(reader.engine())
        from sync.server.storage import Storage

        storage = Storage.for_data_dir(tmp_path / "server")
        try:
            ids = _server_record_ids(storage)
        finally:
            storage.dispose()
        _check(writer, reader, sent, ids, [reader.cursor()])
    finally:
        server.stop()


CHILD = """
import sys
from desktop.domain.sync_adapter import VaultSyncStore, load_program
from desktop.vault import Vault
from sync.client.engine import SyncEngine
from sync.client.transport import Transport
vault = Vault.open(sys.argv[1]); vault.unlock("client passphrase")
program = load_program(vault)
engine = SyncEngine(Transport(program.server_url), VaultSyncStore(vault, program.server_url,
                    program.credentials.account), program.credentials, pull_budget=8 * 1024)
print("ready", flush=True)
engine.sync_once()
print("done", flush=True)
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_client_killed_mid_apply(tmp_path: Path):
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    with ThreadServer(tmp_path / "server") as server:
        writer = make_client(tmp_path / "w", server.url, server.invite())
        reader = make_client(tmp_path / "r", server.url, server.invite("mentor"))
        reader_dir = Path(reader.vault.folder)
        reader.vault.close()
        sent = [writer.send(os.urandom(400), [reader.account]).i for _ in range(1500)]
        writer.engine().sync_once()
        finished = 0
        for _ in range(12):
            child = subprocess.Popen([sys.executable, "-c", CHILD, str(reader_dir)], stdout=subprocess.PIPE, cwd=ROOT)
            assert child.stdout.readline().strip() == b"ready"
            time.sleep(rng.uniform(0.0, 0.5))
            child.send_signal(signal.SIGKILL)
            child.wait()
            finished += b"done" in child.stdout.read()
            child.stdout.close()
        reader.vault.unlock("client passphrase")
        cursor_before = reader.cursor()
        print(f"\nkills=12 finished-before-kill={finished} applied-before-heal={len(reader.inbound())}/{len(sent)}")
        _sync_until_done(reader.engine())
        assert reader.cursor() >= cursor_before
        _check(writer, reader, sent, _server_record_ids(server.storage), [cursor_before, reader.cursor()])
