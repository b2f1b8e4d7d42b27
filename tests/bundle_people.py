"""People for bundle tests (test_bundles_client.py, test_carry.py): a student, their mentor and a classmate on
one real server, as sessions; the student's link cut once the server's bundle key is held."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from desktop.domain.carry import Carried
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from sync import bundle
from sync.clock import ManualClock
from sync.server.embedded import free_port
from tests.clients import Client, make_client

CLOCK = datetime(2026, 11, 16, 8, tzinfo=UTC)


class World:
    def __init__(self, server, folder: Path) -> None:
        self.folder = folder
        self.student_c = make_client(folder / "student", server.url, server.invite("student"))
        self.mentor_c = make_client(folder / "mentor", server.url, server.invite("mentor"))
        self.carrier_c = make_client(folder / "carrier", server.url, server.invite("student"))
        self.student_c.publish_card("Amina Student")
        self.mentor_c.publish_card("Dr Kofi Mensah", role="mentor")
        self.carrier_c.publish_card("Chidi Carrier")
        self.sessions: list[Session] = []
        self.student = self.session(self.student_c, "s")
        self.mentor = self.session(self.mentor_c, "m")
        self.carrier = self.session(self.carrier_c, "c")
        for _round in range(2):  # the second round brings the cards published while the first ran
            for session in (self.student, self.mentor, self.carrier):
                session.engine.sync_once()  # one engine each: one sign-in each
                session.after_sync(1)
        for session in (self.student, self.carrier):
            session._after_online_sync()  # as after any good sync: the server's bundle key is fetched
        assert self.student.bundles.ready()
        # the student's link is cut from now on: nothing of theirs reaches the server but by the stick
        self.student.transport.base_url = f"http://127.0.0.1:{free_port()}"
        self.stick = folder / "stick"
        self.stick.mkdir()

    def session(self, client: Client, name: str) -> Session:
        session = Session(
            client.vault, self.folder / f"{name}-data", SettingsStore(self.folder / f"{name}.json"),
            clock=ManualClock(CLOCK),
        )  # fmt: skip
        self.sessions.append(session)
        return session

    def thread(self) -> str:
        assert self.student.messaging is not None
        return self.student.messaging.start_direct(self.mentor_c.account.hex())

    def mentor_says(self, text: str) -> str:
        assert self.mentor.messaging is not None
        mid = self.mentor.messaging.send(self.mentor.messaging.start_direct(self.student_c.account.hex()), text)
        self.mentor.engine.sync_once()
        return mid

    def carry_round(self, request: Path) -> Path:
        """The classmate takes the request off the stick, syncs online (relaying it), writes the answer back."""
        taken = self.carrier.bundles.import_file(request)
        assert isinstance(taken, Carried) and taken.state == "waiting"
        assert self.carrier.carry.relay() == 1
        out = self.folder / f"answers-{taken.request}"
        out.mkdir()
        written = self.carrier.carry.export_answers(out)
        [answer] = [p for p in written if bundle.read_header(p.read_bytes()).request.hex() == taken.request]
        return answer

    @contextmanager
    def cut_off(self, session: Session) -> Iterator[None]:
        """``session``'s link to the server is cut inside the block (its bundle key fetched first)."""
        session._after_online_sync()
        url = session.transport.base_url
        session.transport.base_url = f"http://127.0.0.1:{free_port()}"
        try:
            yield
        finally:
            session.transport.base_url = url

    def close(self) -> None:
        for session in self.sessions:
            session.stop()
        for client in (self.student_c, self.mentor_c, self.carrier_c):
            client.vault.close()
