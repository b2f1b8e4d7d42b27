"""The demo programme's research circle and its two projects, stored on the demo server for one newcomer.

Like ``demo.greet``, this writes what the demo people's own devices would have sent, with their keys: each
space (the circle, then each project, a circle of kind ``project`` whose parent is the circle) gets a first
epoch for the demo people (a lead key granted to the leads' devices, each member's secret granted to their
device, 48-byte wraps of the epoch key: PROTOCOL.md §11), then a second epoch that adds the newcomer (a wrap for
each member and one grant, to the newcomer's device: about 3 KB). Every post and project change is sealed under
that second epoch and signed by its author's device, so the newcomer's client checks and opens them exactly as
it would a real programme's. (The one liberty: in a real circle a person added later reads only what is written
after they joined; here the history is written under the epoch that includes them, so they see it at once.)

Ids and content are reproducible; keys are fresh for each newcomer, and two newcomers of the same demo server
each get their own copy of the circle (its ids salted with their account).
"""

from __future__ import annotations

import hashlib
import time

import msgpack
import sqlalchemy as sa

from desktop.domain import demo_content as c
from desktop.domain.circle_keys import lead_what, member_what
from desktop.domain.demo import DemoPerson, _devices, people
from desktop.domain.demo_plan import Planned, plan, record_id
from desktop.domain.mentorship import DAY_MS
from sync import envelope
from sync.protocol import BLOB_CHUNK, Record
from sync.server.blobstore import BlobStore
from sync.server.storage import DeviceSession, Storage
from sync.server.tables import records as records_table

WHAT_LEAD, WHAT_MEMBER = lead_what(1), member_what(1, 0)  # the first lead key; no device ever revoked


class _Space:
    """One circle's keys and rosters as its lead's device holds them."""

    def __init__(self, circle: bytes, lead: int, roster: dict[int, str], title: str, about: str, kind: str,
                 parent: bytes | None, listed: bool = False) -> None:  # fmt: skip
        self.circle, self.lead, self.roster = circle, lead, roster
        self.info = {"n": title, "a": about, "k": kind, "p": parent.hex() if parent else None, "li": listed}
        self.lead_key = envelope.new_circle_key()
        self.epoch_key = b""
        self.epoch = 0
        self.members: list[bytes] = []


class _Seeder:
    def __init__(self, storage: Storage, newcomer: tuple[bytes, bytes, bytes]) -> None:
        self.storage = storage
        self.everyone = people()
        rows = {row.sign_key: row for row in _devices(storage)}
        self.rows = {i: rows[p.key.public_bytes()] for i, p in enumerate(self.everyone)}
        self.me, self.my_device, self.my_box = newcomer

    def person(self, index: int) -> DemoPerson:
        return self.everyone[index]

    def account(self, index: int) -> bytes:
        return self.me if index == c.ME else bytes(self.rows[index].account_id)

    def session(self, index: int) -> DeviceSession:
        row = self.rows[index]
        return DeviceSession(bytes(row.account_id), bytes(row.id), self.person(index).role)

    def sign(self, index: int, record: Record) -> Record:
        session = self.session(index)
        return self.person(index).key.sign_record(record, session.account, session.device)

    def rotate(self, space: _Space, roster: dict[int, str], at_ms: int, grant: list[int], leads: bool) -> int:
        """A ``circle-key`` record for a new epoch of ``roster`` from the space's lead (format of
        ``circle_keys.rotate``): member secrets granted to the devices of ``grant``, the lead key to the leads'
        devices when ``leads``."""
        space.epoch += 1
        space.epoch_key = envelope.new_epoch_key()
        wraps, grants, lead_grants = {}, {}, {}
        for index in sorted(roster, key=lambda i: self.account(i)):
            account = self.account(index)
            member = envelope.member_secret(space.lead_key, space.circle, account, 0)
            wraps[account] = [0, envelope.wrap_epoch_key(member, space.circle, space.epoch, account, space.epoch_key)]
            if index in grant:
                device, box = self._device(index)
                grants[device] = envelope.grant_circle_secret(member, box, space.circle, WHAT_MEMBER, account, device)
            if leads and roster[index] == "lead" and index != space.lead:
                device, box = self._device(index)
                lead_grants[device] = envelope.grant_circle_secret(
                    space.lead_key, box, space.circle, WHAT_LEAD, account, device
                )
        members = space.members = sorted(self.account(i) for i in roster)
        info = space.info | {"r": {self.account(i).hex(): r for i, r in sorted(roster.items())}}
        rid = bytes.fromhex(record_id(at_ms, space.circle.hex(), space.epoch))
        sealed = envelope.seal(space.epoch_key, space.epoch, space.circle, rid, "circle-key",
                               msgpack.packb(info, use_bin_type=True))  # fmt: skip
        body = {"t": space.circle, "e": space.epoch, "lv": 1, "m": members,
                "l": sorted(self.account(i) for i, r in roster.items() if r == "lead"),
                "w": wraps, "g": grants, "lg": lead_grants, "s": sealed}  # fmt: skip
        record = Record(i=rid, k="circle-key", t=members, h=at_ms << 16, b=msgpack.packb(body))
        return self.storage.push(self.session(space.lead), [self.sign(space.lead, record)]).accepted

    def card(self, space: _Space, at_ms: int) -> int:
        """The public card of a listed circle, signed by its lead (format of ``Circles._publish_card``)."""
        leads = sorted(self.account(i) for i, r in space.roster.items() if r == "lead")
        card = {"c": space.circle, "n": space.info["n"], "a": space.info["a"], "k": space.info["k"], "leads": leads,
                "count": len(space.roster)}  # fmt: skip
        rid = bytes.fromhex(record_id(at_ms, space.circle.hex(), "card"))
        record = Record(i=rid, k="circle-card", t=None, h=at_ms << 16, b=msgpack.packb(card))
        return self.storage.push(self.session(space.lead), [self.sign(space.lead, record)]).accepted

    def _device(self, index: int) -> tuple[bytes, bytes]:
        if index == c.ME:
            return self.my_device, self.my_box
        return bytes(self.rows[index].id), self.person(index).box.public_bytes()


def _library(storage: Storage) -> list[str]:
    with storage.reader.connect() as conn:
        query = sa.select(records_table.c.id).where(records_table.c.kind == "material").order_by(records_table.c.id)
        return [bytes(row.id).hex() for row in conn.execute(query)]


def seed_circle(
    storage: Storage,
    blobs: BlobStore,
    account: bytes,
    device: bytes,
    box_public: bytes,
    now_ms: int | None = None,
    mentor: bool = False,
) -> int:
    """The research circle, its two projects and their history, for the newcomer ``account`` (whose one device
    is ``device`` with box key ``box_public``), a member of the circle (a mentor if ``mentor``) and of both
    projects; and the listed peer mentors' circle if no newcomer brought it yet. Returns the records stored."""
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    seeder = _Seeder(storage, (account, device, box_public))
    salt = account.hex()

    def space_id(key: str) -> bytes:
        return hashlib.sha256(f"osler demo circle\0{salt}\0{key}".encode()).digest()[:16]

    circle = space_id("circle")
    roles = c.circle_roles() | ({c.ME: "mentor"} if mentor else {})
    spaces = {"circle": _Space(circle, c.LEADS[0], roles, c.CIRCLE_TITLE, c.CIRCLE_ABOUT, "circle", None, True)}
    starts = {"circle": now - c.CIRCLE_DAYS * DAY_MS}
    for project in c.PROJECTS:
        lead = next(i for i, r in project["members"].items() if r == "lead")
        spaces[project["key"]] = _Space(space_id(project["key"]), lead, project["members"], project["title"],
                                        project["about"], "project", circle)  # fmt: skip
        starts[project["key"]] = now - int(project["days"] * DAY_MS)
    stored = 0
    for key, space in spaces.items():
        founders = {i: r for i, r in space.roster.items() if i != c.ME}
        stored += seeder.rotate(space, founders, starts[key] - DAY_MS, sorted(founders), leads=True)
        stored += seeder.rotate(space, space.roster, starts[key] - DAY_MS + 60_000, [c.ME], leads=False)
    stored += seeder.card(spaces["circle"], starts["circle"])
    stored += _peer_circle(seeder, now)
    events = plan(now, lambda i: seeder.account(i).hex(), {k: s.circle.hex() for k, s in spaces.items()},
                  _library(storage), salt)  # fmt: skip
    by_author: dict[int, list[Record]] = {}  # one push per author: the order of arrival does not matter (hlc does)
    for offset, event in enumerate(events):
        by_author.setdefault(event.author, []).append(
            seeder.sign(event.author, _sealed(spaces[event.space], event, offset, blobs))
        )
    for author, batch in by_author.items():
        stored += storage.push(seeder.session(author), batch).accepted
    return stored


def _peer_circle(seeder: _Seeder, now: int) -> int:
    """The listed peer mentors' circle, once per demo server: its first epoch and its card."""
    circle = hashlib.sha256(b"osler demo circle\0peer mentors").digest()[:16]
    with seeder.storage.reader.connect() as conn:
        query = sa.select(records_table.c.body).where(records_table.c.kind == "circle-card")
        if any(msgpack.unpackb(row.body).get("c") == circle for row in conn.execute(query)):
            return 0  # a newcomer before this one brought it
    space = _Space(circle, 1, c.PEER_CIRCLE, c.PEER_CIRCLE_TITLE, c.PEER_CIRCLE_ABOUT, "circle", None, True)
    start = now - 120 * DAY_MS
    return seeder.rotate(space, c.PEER_CIRCLE, start, sorted(c.PEER_CIRCLE), leads=True) + seeder.card(space, start)


def _sealed(space: _Space, event: Planned, offset: int, blobs: BlobStore) -> Record:
    content = event.content
    if event.file is not None:  # a shared file's version: sealed like a message's attachment, stored as a blob
        name, data = event.file
        key = envelope.new_attachment_key()
        sealed = envelope.seal_attachment(key, data)
        sha = hashlib.sha256(sealed).hexdigest()
        for index in range(max(1, -(-len(sealed) // BLOB_CHUNK))):
            blobs.put_chunk(sha, len(sealed), index, sealed[index * BLOB_CHUNK : (index + 1) * BLOB_CHUNK])
        attachment = {"n": name, "s": len(data), "h": sha, "k": key, "m": "text/markdown"}
        content = content | {"f": content["f"] | {"a": attachment}}
    record_id = bytes.fromhex(event.id)
    body = envelope.seal(space.epoch_key, space.epoch, space.circle, record_id, event.kind,
                         msgpack.packb(content, use_bin_type=True))  # fmt: skip
    return Record(i=record_id, k=event.kind, t=space.members, h=(event.at << 16) + offset % 65536, b=body)
