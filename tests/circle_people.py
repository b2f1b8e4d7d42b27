"""One person on one device as the app wires them for circles: messaging and circles over one vault, synced by
hand (Circles.take_in after Messaging.take_in, as the session does). Tests of circles, discussions and projects
add what they need on top."""

from __future__ import annotations

from desktop.domain.circles import Circles
from tests.clients import Client


class CirclePerson:
    def __init__(self, client: Client, name: str) -> None:
        self.client, self.name = client, name
        self.messaging = client.messaging()
        self.circles = Circles(client.vault, self.messaging)

    @property
    def id(self) -> str:
        return self.client.account.hex()

    def sync(self) -> None:
        self.client.engine().sync_once()
        self.messaging.take_in()
        self.circles.take_in()


def rounds(*people: CirclePerson, times: int = 2) -> None:
    for _ in range(times):
        for person in people:
            person.sync()
