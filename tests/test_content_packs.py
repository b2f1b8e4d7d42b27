"""Content packs on a USB stick (PROTOCOL.md §7.2): an admin exports, anyone in the programme imports; every
refusal leaves nothing half-imported. One real server for the module; real vault files; a real subprocess killed
with SIGKILL half way through an import."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from desktop.domain import directory
from desktop.domain.content_pack_export import export_pack
from desktop.domain.content_pack_import import BATCH_CHUNKS, import_pack
from desktop.domain.content_packs import MANIFEST, PackRefused, announce_admin
from desktop.i18n import set_locale
from desktop.vault import Vault
from tests.clients import Client, make_client

SIZES = (300_000, 1_000, 65_536, 20_000_000)  # the last spans four 4 MiB import batches


class World:
    def __init__(self, root: Path, server) -> None:
        self.root, self.server, self.made = root, server, 0
        self.admin = self.client("admin")
        self.admin.publish_card("Ada Admin", role="admin")
        assert announce_admin(self.admin.vault, self.admin.program, self.admin.clock)
        assert not announce_admin(self.admin.vault, self.admin.program, self.admin.clock), "once is enough"
        self.items = []
        for n, size in enumerate(SIZES):
            data = os.urandom(size)
            info = self.admin.vault.blobs.put_bytes(data, f"item {n}", "application/pdf")
            body = json.dumps(
                {
                    "v": 1,
                    "title": f"Item {n}",
                    "specialty": "Cardiology",
                    "kind": "guide",
                    "language": "en",
                    "summary": "",
                    "size": size,
                    "sha256": info.sha256,
                }
            ).encode()
            self.items.append(self.admin.send(body, None, kind="material", signed=True))
        self.admin.engine().sync_once()
        self.folder = export_pack(self.admin.vault, self.admin.program, root / "stick", "Cardiology 2026").path
        self.zip = export_pack(self.admin.vault, self.admin.program, root / "stick", "Cardiology zip", as_zip=True).path

    def client(self, role: str = "student") -> Client:
        self.made += 1
        return make_client(self.root / f"client{self.made}", self.server.url, self.server.invite(role))

    def member(self) -> Client:
        """A member who synced once: knows the admin (its programme-admin record and card) and the catalogue."""
        member = self.client()
        member.engine().sync_once()
        return member

    def copy(self, name: str) -> Path:
        target = self.root / "copies" / name / self.folder.name
        shutil.copytree(self.folder, target)
        return target


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from tests.servers import ThreadServer

    root = tmp_path_factory.mktemp("packs")
    with ThreadServer(root / "server") as running:
        yield World(root, running)


def pack_state(client: Client, world: World) -> tuple[int, int]:
    """(material records held, blobs of the pack held at all): what a refused import must leave at (catalogue, 0)."""
    held = sum(1 for r in world.items if client.vault.records.get(r.i.hex()) is not None)
    blobs = sum(1 for r in world.items if client.vault.blobs.info(json.loads(r.b)["sha256"]) is not None)
    return held, blobs


def offline(client: Client) -> int:
    return sum(1 for m in directory.materials(client.vault) if (i := client.vault.blobs.info(m.sha256)) and i.complete)


def test_importing_twice_doubles_nothing_and_reads_no_blob_again(world):
    member = world.member()
    first = import_pack(member.vault, member.program, world.zip)
    assert (first.added, first.already) == (len(SIZES), 0)
    records = member.vault.records.count()
    second = import_pack(member.vault, member.program, world.zip)
    assert (second.added, second.already, second.bytes_read) == (0, len(SIZES), 0)
    assert member.vault.records.count() == records
    member.engine().sync_once()  # the server brings the same records: still one of each
    assert len(directory.materials(member.vault)) == len(SIZES)


def test_a_member_imports_a_folder_pack_and_sees_every_item_on_this_computer(world):
    member = world.client()
    member.engine().sync_once()
    before = len(directory.materials(member.vault))
    assert before == len(SIZES)  # the catalogue synced; the blobs did not
    assert offline(member) == 0
    result = import_pack(member.vault, member.program, world.folder)
    assert (result.added, result.already) == (len(SIZES), 0)
    assert offline(member) == len(SIZES)
    for record in world.items:
        sha = json.loads(record.b)["sha256"]
        assert hashlib.sha256(member.vault.blobs.read_all(sha)).hexdigest() == sha
    assert len(directory.materials(member.vault)) == len(SIZES), "each item once"


def refused(member: Client, path: Path) -> str:
    with pytest.raises(PackRefused) as caught:
        import_pack(member.vault, member.program, path)
    return str(caught.value)


def test_a_tampered_chunk_is_refused_and_nothing_half_imported_remains(world):
    member = world.member()
    pack = world.copy("tampered")
    big = json.loads(world.items[-1].b)["sha256"]
    with (pack / "blobs" / big).open("r+b") as handle:
        handle.seek(5 * 65_536 + 10)
        byte = handle.read(1)
        handle.seek(5 * 65_536 + 10)
        handle.write(bytes([byte[0] ^ 1]))
    message = refused(member, pack)
    assert "changed after it was made" in message
    assert pack_state(member, world) == (len(SIZES), 0), "the catalogue it had, no blob of the pack"
    assert offline(member) == 0


def test_a_manifest_with_a_wrong_signature_is_refused(world):
    member = world.member()
    pack = world.copy("resigned")
    data = (pack / MANIFEST).read_bytes()
    (pack / MANIFEST).write_bytes(data.replace(b'"Cardiology 2026"', b'"Cardiology 2027"'))
    assert "signature does not match" in refused(member, pack)
    assert pack_state(member, world) == (len(SIZES), 0)


def test_a_truncated_pack_is_refused(world):
    member = world.member()
    pack = world.copy("truncated")
    big = json.loads(world.items[-1].b)["sha256"]
    with (pack / "blobs" / big).open("r+b") as handle:
        handle.truncate(4_000_000)
    assert "incomplete or damaged" in refused(member, pack)
    cut_manifest = world.copy("cut-manifest")
    data = (cut_manifest / MANIFEST).read_bytes()
    (cut_manifest / MANIFEST).write_bytes(data[: len(data) // 2])
    assert "incomplete or damaged" in refused(member, cut_manifest)
    assert pack_state(member, world) == (len(SIZES), 0)


def test_a_pack_for_another_programme_is_refused(world):
    other = dataclasses.replace(world.admin.program, server_url="https://osler.other-school.example")
    made = export_pack(world.admin.vault, other, world.root / "other", "Other school")
    member = world.member()
    assert "another programme" in refused(member, made.path)
    assert pack_state(member, world) == (len(SIZES), 0)


def test_a_pack_signed_by_someone_who_is_not_an_admin_is_refused(world):
    mentor = world.client("mentor")
    mentor.publish_card("Mo Mentor", role="admin")  # a card's role is anyone's claim
    mentor.engine().sync_once()  # the catalogue, with the admin's signed records
    for record in world.items:
        mentor.vault.blobs.put_bytes(world.admin.vault.blobs.read_all(json.loads(record.b)["sha256"]))
    forged = dataclasses.replace(mentor.program, role="admin")  # a doctored client signs a pack
    made = export_pack(mentor.vault, forged, world.root / "forged", "Forged")
    member = world.member()
    assert "not signed by an admin" in refused(member, made.path)
    assert pack_state(member, world) == (len(SIZES), 0)


def test_the_refusal_is_translated(world):
    member = world.member()
    pack = world.copy("french")
    (pack / MANIFEST).write_bytes(b"not a pack at all")
    set_locale("fr")
    message = refused(member, pack)
    assert "Osler" in message and "This is not" not in message


def _zip(path: Path, entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def test_zip_names_that_leave_the_folder_are_refused_before_anything_is_read(world, tmp_path):
    member = world.member()
    manifest = (world.folder / MANIFEST).read_bytes()
    for name in ("../manifest.osler", "/etc/passwd", "osler-pack-x/../../evil", "blobs\\..\\evil", "C:/evil"):
        bad = _zip(tmp_path / "bad.zip", [("osler-pack-x/manifest.osler", manifest), (name, b"x")])
        assert "outside its folder" in refused(member, bad)
    assert pack_state(member, world) == (len(SIZES), 0)


def test_a_zip_bomb_is_refused_from_its_declared_sizes_never_inflated(world, tmp_path):
    member = world.member()
    manifest = (world.folder / MANIFEST).read_bytes()
    big = json.loads(world.items[-1].b)["sha256"]
    bomb = _zip(
        tmp_path / "bomb.zip",
        [("osler-pack-x/manifest.osler", manifest), (f"osler-pack-x/blobs/{big}", bytes(50_000_000))],
        zipfile.ZIP_DEFLATED,
    )
    assert bomb.stat().st_size < 1_000_000
    assert "zip bomb" in refused(member, bomb)
    # a blob whose size in the zip is not the signed size is refused before it is read
    small = json.loads(world.items[1].b)["sha256"]
    lying = _zip(
        tmp_path / "lying.zip", [("osler-pack-x/manifest.osler", manifest), (f"osler-pack-x/blobs/{small}", b"x" * 999)]
    )
    assert "zip bomb" in refused(member, lying) or "incomplete" in refused(member, lying)
    assert pack_state(member, world) == (len(SIZES), 0)


KILLED = """
import sys
from pathlib import Path
from desktop.domain.content_pack_import import BATCH_CHUNKS, import_pack
from desktop.domain.sync_adapter import load_program
from desktop.vault import Vault
vault = Vault.open(Path(sys.argv[1])); vault.unlock("client passphrase")
print(import_pack(vault, load_program(vault), Path(sys.argv[2])))
"""


def test_an_import_killed_half_way_shows_nothing_and_the_next_one_continues(world):
    member = world.member()
    folder = world.root / f"client{world.made}"
    member.vault.close()
    env = {**os.environ, "OSLER_FAULT": "pack:batch@2"}
    run = subprocess.run([sys.executable, "-c", KILLED, str(folder), str(world.folder)], env=env, capture_output=True)
    assert run.returncode == -9, run.stderr.decode()
    vault = Vault.open(folder)
    vault.unlock("client passphrase")
    try:
        big = json.loads(world.items[-1].b)["sha256"]
        info = vault.blobs.info(big)
        assert info is not None and 0 < info.stored_chunks < info.chunk_count, "killed in the middle of the big file"
        assert info.stored_chunks == BATCH_CHUNKS, "what the last transaction before the kill committed"
        assert sum(1 for m in directory.materials(vault) if (i := vault.blobs.info(m.sha256)) and i.complete) == 3
        assert not vault.blobs.info(big).complete, "the cut item is not shown as on this computer"
        env["OSLER_FAULT"] = "pack:batch@1"  # killed again after its first batch: it stored only what was missing
        vault.close()
        again = [sys.executable, "-c", KILLED, str(folder), str(world.folder)]
        run = subprocess.run(again, env=env, capture_output=True)
        assert run.returncode == -9, run.stderr.decode()
        vault = Vault.open(folder)
        vault.unlock("client passphrase")
        info = vault.blobs.info(big)
        assert info.stored_chunks == info.chunk_count - 1, "continued where it stopped; the last chunk waits"
        assert not info.complete
        from desktop.domain.sync_adapter import load_program

        result = import_pack(vault, load_program(vault), world.folder)
        assert (result.added, result.already, result.bytes_read) == (1, 3, SIZES[-1]), "read whole, stored the rest"
        assert hashlib.sha256(vault.blobs.read_all(big)).hexdigest() == big
    finally:
        vault.close()


def test_only_an_admin_account_can_say_it_is_one(world):
    """The server refuses a programme-admin record from anyone else (403), so a device never learns a false one."""
    student = world.client()
    student.send(json.dumps({"v": 1}).encode(), None, kind="programme-admin", signed=True)
    student.engine().sync_once()
    assert [r.kind for r in student.vault.records.by_state("rejected")] == ["programme-admin"]
    member = world.member()
    from desktop.domain.content_packs import admin_accounts

    assert admin_accounts(member.vault, member.program) == {world.admin.account.hex()}


def test_a_pack_zipped_again_by_another_tool_with_folder_entries_and_deflate_imports(world, tmp_path):
    rezipped = tmp_path / "rezipped.zip"
    with zipfile.ZipFile(rezipped, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        root = world.folder.name
        archive.writestr(f"{root}/", b"")
        archive.writestr(f"{root}/blobs/", b"")
        for path in sorted(world.folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{root}/{path.relative_to(world.folder).as_posix()}")
    member = world.member()
    result = import_pack(member.vault, member.program, rezipped)
    assert (result.added, result.already) == (len(SIZES), 0)
    assert offline(member) == len(SIZES)
