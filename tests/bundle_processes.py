"""People and processes for the sync-bundle tests (issue 19): a real server process, an edge relay process, a
student device that works only in child processes with every network connection refused (it never touches the
internet after joining), and helpers to read what the server and a vault hold.

The student's child runs one verb and prints one JSON line: ``send``, ``export`` (session.bundles.export_request),
``import`` (session.bundles.import_file, printing ``ready`` first so a test can kill it in the middle) and
``state`` (cursor, outbox, messages, attachments).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sync.server.embedded import free_port
from tests.clients import Client, make_client
from tests.servers import ProcessServer, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "client passphrase"

# Run first in a watched child (env OSLER_TEST_KEEP=folder): every file it deletes is copied into that folder
# before it goes (temporary files included, wherever they were), and its log goes at DEBUG to OSLER_TEST_LOG, so
# a canary test can search everything the process ever wrote.
WATCH = r"""
import logging, os, shutil, sys
_keep = os.environ.get("OSLER_TEST_KEEP")
if _keep:
    os.makedirs(_keep, exist_ok=True)
    _kept = [0]

    def _audit(event, args):
        if event not in ("os.remove", "os.rename") or not args:
            return
        path, dir_fd = args[0], args[-1] if event == "os.remove" else args[2]
        try:
            path = os.fsdecode(path)
            if dir_fd is not None and not os.path.isabs(path):
                path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
            if os.path.isfile(path) and not path.startswith(_keep):
                _kept[0] += 1
                shutil.copyfile(path, os.path.join(_keep, f"{_kept[0]}-{os.path.basename(path)}"))
        except Exception:
            pass

    sys.addaudithook(_audit)
if os.environ.get("OSLER_TEST_LOG"):
    logging.basicConfig(level=logging.DEBUG, filename=os.environ["OSLER_TEST_LOG"])
"""

# One verb on the offline device. Every outgoing connection raises: what the device does, it does without a network.
DEVICE = (
    WATCH
    + r"""
import json, socket, sys
from pathlib import Path

import os
BLOCKED = os.environ.get("OSLER_TEST_NO_NET", "all")  # "all", or the ports this machine cannot reach
_connect, _create = socket.socket.connect, socket.create_connection

def _blocked(address):
    if BLOCKED == "all":
        return True
    return isinstance(address, tuple) and len(address) >= 2 and str(address[1]) in BLOCKED.split(",")

def connect(self, address):
    if _blocked(address):
        raise ConnectionRefusedError(f"no network to {address!r} from this machine")
    return _connect(self, address)

def create_connection(address, *args, **kwargs):
    if _blocked(address):
        raise ConnectionRefusedError(f"no network to {address!r} from this machine")
    return _create(address, *args, **kwargs)

socket.socket.connect = connect
socket.create_connection = create_connection

from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from desktop.vault import Vault

vault_dir, passphrase, data_dir, verb = sys.argv[1:5]
args = sys.argv[5:]
vault = Vault.open(vault_dir)
vault.unlock(passphrase)
session = Session(vault, Path(data_dir), SettingsStore(Path(data_dir) / "settings.json"))
try:
    if verb == "send":
        peer, text = args[0], args[1]
        attachment = Path(args[2]) if len(args) > 2 else None
        chat = session.messaging
        thread = chat.start_direct(peer)
        print(json.dumps({"thread": thread, "id": chat.send(thread, text, attachment)}), flush=True)
    elif verb == "send-all":
        chat = session.messaging
        thread = chat.start_direct(args[0])
        print(json.dumps({"thread": thread, "ids": [chat.send(thread, text) for text in args[1:]]}), flush=True)
    elif verb == "export":
        made = session.bundles.export_request(Path(args[0]))
        print(json.dumps({"path": str(made.path), "records": made.records, "size": made.size}), flush=True)
    elif verb == "import":
        print("ready", flush=True)
        done = session.bundles.import_file(Path(args[0]))
        fields = {k: getattr(done, k) for k in ("records_in", "accepted", "refused", "blobs", "nothing_new")
                  if hasattr(done, k)}
        print(json.dumps(fields), flush=True)
    elif verb == "carry-take":
        taken = session.bundles.import_file(Path(args[0]))
        print(json.dumps({"request": taken.request, "state": taken.state, "records": taken.records}), flush=True)
    elif verb == "carry-relay":
        if args:
            from dataclasses import replace
            session.settings_store.update(lambda s: replace(s, relay_address=args[0]))
        print(json.dumps({"answered": session.carry.relay()}), flush=True)
    elif verb == "carry-export":
        Path(args[0]).mkdir(parents=True, exist_ok=True)
        print(json.dumps({"paths": [str(p) for p in session.carry.export_answers(Path(args[0]))]}), flush=True)
    elif verb == "carry-items":
        print(json.dumps({"items": [[c.request, c.state, c.records] for c in session.carry.items()]}), flush=True)
    elif verb == "state":
        me = session.program.credentials.account.hex()
        messages = [[m.id, m.author, m.body] for m in vault.messages.iter_all()]
        attachments = {k: v.get("state") for k, v in session.messaging.attachments().items()}
        print(json.dumps({"cursor": vault.records.cursor(session.program.server_key), "me": me,
                          "outbox": [r.id for r in vault.records.by_state("outbox")],
                          "outbox_kinds": [r.kind for r in vault.records.by_state("outbox")],
                          "records": vault.records.count(), "messages": messages,
                          "attachments": attachments}), flush=True)
    else:
        raise SystemExit(f"unknown verb {verb}")
finally:
    session.stop()
    vault.close()
"""
)


def device_command(vault_dir: Path, data_dir: Path, verb: str, *args: str) -> list[str]:
    return [sys.executable, "-c", DEVICE, str(vault_dir), PASSPHRASE, str(data_dir), verb, *map(str, args)]


def child_env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "OSLER_FAULT"} | extra


def on_device(
    vault_dir: Path, data_dir: Path, verb: str, *args: str, blocked: str = "all", env: dict[str, str] | None = None
) -> dict:
    """Run one verb on a device in a child process that cannot connect to ``blocked`` ("all", or ports); its
    JSON answer."""
    done = subprocess.run(
        device_command(vault_dir, data_dir, verb, *args),
        cwd=ROOT,
        env=child_env(OSLER_TEST_NO_NET=blocked, **(env or {})),
        capture_output=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    lines = [line for line in done.stdout.decode().splitlines() if line and line != "ready"]
    return json.loads(lines[-1])


@dataclass
class Offline:
    """A student who joined online once (cards exchanged, the server's bundle key held) and then went offline:
    every later step runs in a child process that cannot open a connection."""

    vault_dir: Path
    data_dir: Path
    account: str
    device: str
    blocked: str = "all"  # what this machine cannot reach: "all", or ports (a classmate without internet)
    env: dict[str, str] | None = None  # for its child processes (TMPDIR, OSLER_TEST_KEEP, OSLER_TEST_LOG)

    def run(self, verb: str, *args: str) -> dict:
        return on_device(self.vault_dir, self.data_dir, verb, *map(str, args), blocked=self.blocked, env=self.env)

    def send(self, peer: str, text: str, attachment: Path | None = None) -> dict:
        extra = [str(attachment)] if attachment else []
        return self.run("send", peer, text, *extra)

    def send_all(self, peer: str, texts: list[str]) -> list[str]:
        return self.run("send-all", peer, *texts)["ids"]

    def export(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return Path(self.run("export", folder)["path"])

    def import_file(self, path: Path) -> dict:
        return self.run("import", path)

    def state(self) -> dict:
        return self.run("state")


def session_of(client: Client, data_dir: Path):
    from desktop.domain.session import Session
    from desktop.domain.settings import SettingsStore

    data_dir.mkdir(parents=True, exist_ok=True)
    return Session(client.vault, data_dir, SettingsStore(data_dir / "settings.json"))


def go_offline(client: Client, data_dir: Path, blocked: str = "all") -> Offline:
    """The last online moment of a device: one sync through its session (which fetches the server's bundle key),
    then its vault is closed and only child processes open it again."""
    session = session_of(client, data_dir)
    try:
        session.engine.sync_once()
        session.bundles.fetch_server_keys()  # what the app does after a successful online sync
        assert session.bundles.ready(), "the device holds the server's bundle key after an online sync"
    finally:
        session.stop()
    creds = client.program.credentials
    offline = Offline(client.vault.folder, data_dir, creds.account.hex(), creds.device.hex(), blocked)
    client.vault.close()
    return offline


def joined(folder: Path, server: ProcessServer, name: str, role: str = "student") -> Client:
    client = make_client(folder, server.url, server.invite(role))
    client.publish_card(name, role=role)
    return client


class EdgeRelay:
    """``osler-server serve --relay-for URL`` as a child process, its log captured to a file."""

    def __init__(
        self, data_dir: Path, upstream: str, log: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.data_dir, self.upstream, self.env = data_dir, upstream, env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or data_dir.parent / f"{data_dir.name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> EdgeRelay:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        run_cli = WATCH + "\nimport sys\nfrom sync.server.cli import main\nsys.exit(main(sys.argv[1:]))\n"
        command = [sys.executable, "-c", run_cli, "--data-dir", str(self.data_dir), "serve"]
        command += ["--port", str(self.port), "--relay-for", self.upstream]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=child_env(**self.env)
            )
        wait_healthy(self.url, process=self.process)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> EdgeRelay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class BundleServer(ProcessServer):
    """``osler-server serve`` as a child process, with room for the many bundles a damage test posts (the
    per-address limit, --bundles-per-minute, is the server tests' business)."""

    def start(self) -> BundleServer:
        self.process = subprocess.Popen(
            self._cli("serve", "--port", str(self.port), "--auth-per-minute", "10000", "--bundles-per-minute", "99999"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **self.env} if self.env else None,
        )
        wait_healthy(self.url, process=self.process)
        return self


def server_db(server: ProcessServer) -> Path:
    return Path(server.data_dir) / "server.db"


def server_record_ids(data_dir: Path, device: str | None = None) -> list[bytes]:
    """Every record id the server holds (of one device if given), one row each: a double would show twice."""
    with sqlite3.connect(f"file:{data_dir / 'server.db'}?mode=ro", uri=True) as db:
        if device is None:
            rows = db.execute("select id from records").fetchall()
        else:
            rows = db.execute("select id from records where device = ?", (bytes.fromhex(device),)).fetchall()
    return [bytes(r[0]) for r in rows]


def server_counts(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{data_dir / 'server.db'}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
        counts = {
            "records": db.execute("select count(*) from records").fetchone()[0],
            "record_audience": db.execute("select count(*) from record_audience").fetchone()[0],
        }
        if "counter" in tables:
            counts["seq"] = db.execute("select coalesce(max(value), 0) from counter").fetchone()[0]
    blobs = Path(data_dir) / "blobs"
    counts["blob files"] = sum(1 for p in blobs.rglob("*") if p.is_file()) if blobs.exists() else 0
    return counts


def import_bundle_command(data_dir: Path, bundle: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "sync.server.cli", "--data-dir", str(data_dir), "import-bundle", str(bundle),
        "--out", str(out),
    ]  # fmt: skip


def import_bundle(data_dir: Path, bundle: Path, out: Path) -> Path:
    """The coordinator's ``osler-server import-bundle``: the answer file it wrote into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.iterdir())
    done = subprocess.run(import_bundle_command(data_dir, bundle, out), cwd=ROOT, env=child_env(),
                          capture_output=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    made = [p for p in set(out.iterdir()) - before if p.name.endswith(".oslersync")]
    assert len(made) == 1, (made, done.stdout.decode())
    return made[0]
