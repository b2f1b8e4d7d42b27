"""Canaries (issue 19): what a relay carries, it cannot read, and it keeps no trace of the content. A student's
message and attachment hold a canary string; the mentor's reply holds another. They travel device → classmate's
Osler (a child process without internet, its log at DEBUG to a file, its temporary folder its own, every file it
deletes copied aside before it goes) → the clinic's edge relay (``osler-server serve --relay-for``, watched the
same way) → the server, and back. Afterwards the mentor and the student hold the canaries (they really travelled),
and the classmate's profile folder and vault, its log, its temporary files (kept or deleted), and the edge relay's
data folder, log and deleted files hold none of them: not as bytes, not in base64, not in hex.
"""

from __future__ import annotations

import base64
from pathlib import Path

from tests.bundle_processes import EdgeRelay, go_offline, joined, session_of
from tests.clients import synced
from tests.servers import ProcessServer

CANARY_TEXT = "CANARY-7f3a91 the patient in bed 4 has a positive HIV test"
CANARY_FILE = b"CANARY-FILE-51c2e0 discharge summary, confidential\n"
CANARY_REPLY = "CANARY-REPLY-0d88b4 tell no one about bed 4"


def forms(canary: bytes) -> list[bytes]:
    """The canary as bytes, in hex (both cases), and in base64 at each of the three alignments it can take in a
    longer buffer (the part of the encoding that does not depend on its neighbours)."""
    found = [canary, canary.hex().encode(), canary.hex().upper().encode()]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + canary)
        found.append(encoded[4 if shift else 0 : -4])
        found.append(base64.urlsafe_b64encode(b"\0" * shift + canary)[4 if shift else 0 : -4])
    return found


def leaks(folders: list[Path], canaries: list[bytes]) -> list[str]:
    found = []
    for folder in folders:
        files = [folder] if folder.is_file() else [p for p in folder.rglob("*") if p.is_file()]
        for path in files:
            data = path.read_bytes()
            for canary in canaries:
                for form in forms(canary):
                    if form in data:
                        found.append(f"{path}: {form[:24]!r}")
    return found


def test_a_relays_folders_logs_and_temporary_files_hold_none_of_what_it_carried(tmp_path: Path):
    server = ProcessServer(tmp_path / "server").start()
    try:
        student = joined(tmp_path / "student", server, "Amina Student")
        mentor = joined(tmp_path / "mentor", server, "Dr Kofi Mensah", role="mentor")
        classmate = joined(tmp_path / "classmate", server, "Bola Classmate")
        synced(student, mentor, classmate, student, mentor, classmate)
        offline = go_offline(student, tmp_path / "student-data")
        watched = tmp_path / "watched"
        carrier_env = {
            "TMPDIR": str(watched / "carrier-tmp"),
            "OSLER_TEST_KEEP": str(watched / "carrier-deleted"),
            "OSLER_TEST_LOG": str(watched / "carrier.log"),
        }
        (watched / "carrier-tmp").mkdir(parents=True)
        carrier = go_offline(classmate, tmp_path / "classmate-data", blocked=str(server.port))
        carrier.env = carrier_env
        edge_env = {
            "TMPDIR": str(watched / "edge-tmp"),
            "OSLER_TEST_KEEP": str(watched / "edge-deleted"),
            "OSLER_TEST_LOG": str(watched / "edge-debug.log"),
        }
        (watched / "edge-tmp").mkdir(parents=True)
        mentor_session = session_of(mentor, tmp_path / "mentor-data")
        usb = tmp_path / "usb"
        try:
            with EdgeRelay(tmp_path / "clinic", server.url, log=watched / "edge.log", env=edge_env) as clinic:
                scan = tmp_path / "summary.txt"
                scan.write_bytes(CANARY_FILE * 40)
                sent = offline.send(mentor.account.hex(), CANARY_TEXT, scan)
                request = offline.export(usb / "out")
                carrier.run("carry-take", request)
                assert carrier.run("carry-relay", clinic.url)["answered"] == 1
                for answer in carrier.run("carry-export", usb / "back")["paths"]:
                    offline.import_file(Path(answer))

                mentor_session.engine.sync_once()
                mentor_session.messaging.take_in()
                bodies = [m.body for m in mentor_session.vault.messages.iter_all()]
                assert CANARY_TEXT in bodies, "the canary message reached the mentor"
                mentor_session.download_attachment(sent["id"])
                entry = mentor_session.messaging.attachment(sent["id"])
                assert mentor_session.vault.blobs.read_all(entry["plain"]) == scan.read_bytes()
                thread = mentor_session.messaging.start_direct(offline.account)
                mentor_session.messaging.send(thread, CANARY_REPLY)
                mentor_session.engine.sync_once()

                again = offline.export(usb / "out2")
                carrier.run("carry-take", again)
                assert carrier.run("carry-relay", clinic.url)["answered"] == 1
                for answer in carrier.run("carry-export", usb / "back2")["paths"]:
                    offline.import_file(Path(answer))
                assert CANARY_REPLY in [body for _i, _a, body in offline.state()["messages"]], "the reply came back"
        finally:
            mentor_session.stop()
        canaries = [CANARY_TEXT.encode(), CANARY_FILE.strip(), CANARY_REPLY.encode()]
        relay_places = [
            carrier.data_dir,  # the classmate's profile folder: carry/ with the opaque bundles, settings
            carrier.vault_dir,
            watched,  # both logs, both temporary folders, every file either process deleted
            tmp_path / "clinic",  # the edge relay's data folder
        ]
        assert (carrier.data_dir / "carry").is_dir() and any((tmp_path / "clinic").iterdir())
        assert (watched / "carrier.log").stat().st_size > 0 and (watched / "edge.log").stat().st_size > 0
        assert leaks(relay_places, canaries) == []
        # the search finds a canary where one is: the student's own stick copy of the attachment is plain
        assert leaks([scan], canaries)
    finally:
        server.stop()
