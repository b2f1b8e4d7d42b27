"""The demo programme: a clearly fictional, deterministic mentorship programme on an embedded loopback server,
so a newcomer (or ``make run`` on a machine with no programme) can click through Osler without any network.

Everyone in it is made up: names are drawn from lists of common given and family names, every bio says it is a
demo profile, and every card carries ``"demo": true``. The same code always produces the same people, cards and
library (only the server's random account ids differ between demo folders).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import msgpack
import sqlalchemy as sa

from desktop.domain import keyring
from desktop.domain.demo_library import entry as library_entry
from desktop.domain.demo_library import media_items
from desktop.domain.demo_meetings import HABITS, LINKS, availability_doc, meeting_contents
from desktop.domain.directory import MATERIAL_KINDS, SPECIALTIES, DeviceEntry, card_body
from desktop.domain.mentorship import DAY_MS
from desktop.domain.messaging import card_keys
from sync import envelope
from sync.envelope import BoxKey, DeviceKey
from sync.protocol import BLOB_CHUNK, STATUS_KIND, HybridClock, Record, new_record_id, request_id
from sync.server.blobstore import BlobStore
from sync.server.embedded import EmbeddedServer
from sync.server.storage import DeviceSession, Storage
from sync.server.tables import device_seen, devices
from sync.server.tables import records as records_table

SEED = 20261122
SEED_VERSION = "demo-seed-v2"
ACTIVITY_VERSION = "demo-activity-v1"  # added to demo folders seeded before it existed
EPOCH_MS = 1_793_000_000_000  # November 2026: all demo records carry clocks from here
DEMO_PORT = 8471

PLACES = (  # country, city, time zone, languages spoken there
    ("NG", "Enugu", "Africa/Lagos", ("en", "ig")),
    ("KE", "Kisumu", "Africa/Nairobi", ("en", "sw")),
    ("NP", "Pokhara", "Asia/Kathmandu", ("en", "hi")),
    ("BR", "Recife", "America/Recife", ("pt", "es")),
    ("GB", "Leeds", "Europe/London", ("en",)),
    ("US", "Baltimore", "America/New_York", ("en", "es")),
    ("PH", "Cebu", "Asia/Manila", ("en", "tl")),
    ("EG", "Alexandria", "Africa/Cairo", ("ar", "en")),
    ("PE", "Arequipa", "America/Lima", ("es",)),
    ("FR", "Lyon", "Europe/Paris", ("fr", "en")),
    ("BD", "Sylhet", "Asia/Dhaka", ("bn", "en")),
    ("SN", "Thiès", "Africa/Dakar", ("fr", "wo")),
)
GIVEN = (
    "Amara",
    "Kwame",
    "Priya",
    "Rafael",
    "Hannah",
    "Tomás",
    "Ngozi",
    "Arjun",
    "Leila",
    "Mateo",
    "Wanjiru",
    "Farid",
    "Camille",
    "Joaquín",
    "Zainab",
    "Samuel",
    "Mei",
    "Ibrahim",
    "Lucía",
    "Tendai",
    "Anika",
    "Yusuf",
    "Chloé",
    "Kofi",
    "Rosa",
    "Dmitri",
    "Aisha",
    "Nikhil",
    "Ines",
    "Omar",
    "Grace",
    "Babajide",
    "Sofia",
    "Ravi",
    "Fatou",
    "Daniel",
)
FAMILY = (
    "Okafor",
    "Mensah",
    "Raman",
    "Souza",
    "Whitfield",
    "Quispe",
    "Adeyemi",
    "Iyer",
    "Haddad",
    "Fernández",
    "Kamau",
    "Rahman",
    "Moreau",
    "Castillo",
    "Diallo",
    "Oyelaran",
    "Santos",
    "Chowdhury",
    "Nyambura",
    "Bello",
)
INTERESTS = {
    "Paediatrics": ("neonatal sepsis", "childhood malnutrition", "low-cost bubble CPAP"),
    "Internal Medicine": ("diabetes in primary care", "hypertension control", "point-of-care ultrasound"),
    "General Surgery": ("surgical site infection", "trauma systems", "task sharing in surgery"),
    "Obstetrics and Gynaecology": ("postpartum haemorrhage", "maternal near-miss audits", "cervical screening"),
    "Psychiatry": ("task-shifted talk therapy", "student mental health", "perinatal depression"),
    "Emergency Medicine": ("triage in low-resource settings", "prehospital care", "snakebite envenoming"),
    "Family Medicine": ("community health workers", "continuity of care", "rural retention"),
    "Infectious Diseases": ("tuberculosis case finding", "antimicrobial stewardship", "HIV adherence"),
    "Cardiology": ("rheumatic heart disease", "heart failure clinics", "echo screening"),
    "Public Health": ("vaccination coverage", "health systems research", "epidemiology methods"),
    "Anaesthesiology": ("safe anaesthesia checklists", "oxygen supply", "regional anaesthesia"),
    "Neurology": ("epilepsy treatment gap", "stroke care pathways", "neurocysticercosis"),
}
WINDOWS = ("early mornings", "lunchtimes", "evenings", "weekends")
AVAILABILITY_VERSION = "demo-availability-v1"  # mentors' cards republished with their availability


@dataclass(frozen=True)
class DemoPerson:
    name: str
    role: str
    card: dict
    key: DeviceKey
    box: BoxKey


def _key(name: str) -> DeviceKey:
    return DeviceKey.from_private_bytes(hashlib.sha256(f"osler demo key {name}".encode()).digest())


def _box(name: str) -> BoxKey:
    seed = hashlib.sha512(f"osler demo box {name}".encode()).digest()
    return BoxKey.from_private_bytes(seed + hashlib.sha256(seed).digest())


def people(mentors: int = 36, students: int = 12) -> list[DemoPerson]:
    """The programme's people, always the same for the same counts."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not secrets
    out: list[DemoPerson] = []
    names: set[str] = set()
    for index in range(mentors + students):
        role = "mentor" if index < mentors else "student"
        while True:
            name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
            if name not in names:
                names.add(name)
                break
        country, city, tz, spoken = PLACES[index % len(PLACES)]
        specialty = SPECIALTIES[(index * 5) % len(SPECIALTIES)]
        languages = sorted({*spoken, *([rng.choice(("en", "fr", "es", "ar"))] if rng.random() < 0.4 else [])})
        interests = rng.sample(INTERESTS[specialty], 2)
        title = "Dr " if role == "mentor" else ""
        stage = rng.choice(("consultant", "registrar", "senior lecturer")) if role == "mentor" else "medical student"
        usually = rng.choice(WINDOWS)
        bio = (
            f"Fictional demo profile. {title}{name} is a {stage} in {specialty.lower()} in {city}, "
            f"interested in {interests[0]} and {interests[1]}. Usually online {usually}."
        )
        card = {
            "name": f"{title}{name}",
            "role": role,
            "specialties": [specialty] if role == "mentor" else [],
            "interests": interests,
            "country": country,
            "city": city,
            "tz": tz,
            "languages": languages,
            "bio": bio,
            "capacity": rng.randint(1, 4) if role == "mentor" else 0,
            "demo": True,
        }
        if role == "mentor":  # when they can meet and when they are online, in their zone; "windows" its hours
            (_days, start, end), _weekly = HABITS[usually]
            card["avail"] = availability_doc(usually, tz, LINKS[index % len(LINKS)])
            card["windows"] = [[start // 60, -(-end // 60)]]
        out.append(DemoPerson(card["name"], role, card, _key(name), _box(name)))
    return out


def library(rng: random.Random) -> list[tuple[dict, bytes]]:
    """Short, clearly fictional study notes: (catalogue entry without size and hash, file content)."""
    out = []
    for index, specialty in enumerate(SPECIALTIES):
        topic = INTERESTS[specialty][index % 3]
        kind = MATERIAL_KINDS[index % len(MATERIAL_KINDS)]
        lines = [f"# {topic.capitalize()}: {kind}", "", "Demo material written for the Osler demo programme.", ""]
        lines += [f"{n}. Point {n} about {topic} to discuss with your mentor." for n in range(1, 40)]
        content = ("\n".join(lines) + "\n").encode()
        entry = {
            "title": f"{topic.capitalize()} ({kind})",
            "specialty": specialty,
            "kind": kind,
            "language": "en",
            "summary": f"A short {kind} on {topic} for students starting in {specialty.lower()}.",
        }
        out.append((entry, content * (1 + rng.randint(0, 3))))
    return out


def _identity(person: DemoPerson, account: bytes, device: bytes) -> dict:
    """A demo person's card fields of an account with one device (PROTOCOL.md §10.1.1), from a fixed secret."""
    secret = hashlib.sha256(f"osler demo account {person.name}".encode()).digest()
    entry = DeviceEntry(device.hex(), person.key.public_bytes(), person.box.public_bytes())
    keys = envelope.AccountKeys(secret, 0)
    return {
        "id": base64.b64encode(keys.identity_public).decode(),
        "g": 0,
        "devices": [keyring.entry_doc(keys, account, entry)],
    }


def _card_record(person: DemoPerson, session: DeviceSession, at: int, rng: random.Random) -> Record:
    keys = card_keys(session.device, person.key.public_bytes(), person.box.public_bytes())
    record = Record(
        i=new_record_id(at, rng.randbytes(10)),
        k="card",
        h=at << 16,
        b=card_body(**person.card, keys=keys, **_identity(person, session.account, session.device)),
    )
    return person.key.sign_record(record, session.account, session.device)


def seed_availability(storage: Storage) -> int:
    """For a demo folder seeded before mentors published availability: their cards again, with it (newer clocks:
    the last card wins)."""
    rng = random.Random(SEED + 2)  # noqa: S311 - reproducible demo data
    by_key = {row.sign_key: row for row in _devices(storage)}
    stored = 0
    for offset, person in enumerate(people()):
        row = by_key.get(person.key.public_bytes())
        if row is None or person.role != "mentor":
            continue
        session = DeviceSession(row.account_id, row.id, person.role)
        stored += storage.push(session, [_card_record(person, session, EPOCH_MS + 5000 + offset, rng)]).accepted
    return stored


def seed(storage: Storage, blobs: BlobStore) -> int:
    """Fill an empty demo server: people with signed cards, and a library with files. Returns records stored."""
    rng = random.Random(SEED + 1)  # noqa: S311 - reproducible demo data
    stored = 0
    authors = []
    for offset, person in enumerate(people()):
        invite = storage.create_invites(person.role)[0]
        session = storage.register(invite, "demo device", person.key.public_bytes(), person.box.public_bytes())
        assert session is not None
        authors.append((person, session))
        stored += storage.push(session, [_card_record(person, session, EPOCH_MS + offset, rng)]).accepted
    mentors = [(p, s) for p, s in authors if p.role == "mentor"]
    for offset, (fields, content) in enumerate(library(rng) + media_items()):
        item = base64.urlsafe_b64encode(hashlib.sha256(f"demo item {fields['title']}".encode()).digest()).decode()
        doc, parts = library_entry(fields, content, item[:22])
        for data in (content, parts) if doc["parts"] else (content,):
            sha = hashlib.sha256(data).hexdigest()
            for index in range(max(1, -(-len(data) // BLOB_CHUNK))):
                blobs.put_chunk(sha, len(data), index, data[index * BLOB_CHUNK : (index + 1) * BLOB_CHUNK])
        person, session = mentors[offset % len(mentors)]
        body = json.dumps(doc).encode()
        record = Record(
            i=new_record_id(EPOCH_MS + 1000 + offset, rng.randbytes(10)),
            k="material",
            h=(EPOCH_MS + 1000 + offset) << 16,
            b=body,
        )
        stored += storage.push(session, [person.key.sign_record(record, session.account, session.device)]).accepted
    return stored


GREETINGS = (
    (
        "Welcome to the programme! I read that you are interested in {interest}. What would you like to work on "
        "this term?",
        "No rush to answer: write when you have a connection. I usually reply within a few days. (Demo mentor.)",
    ),
    (
        "Hello, I run a small journal club for students in our specialty. Would you like to join the next one?",
        "We read one short paper a month and discuss it here. (This is a fictional demo conversation.)",
    ),
)


def greet(
    storage: Storage,
    account: bytes,
    device: bytes,
    box_public: bytes,
    offer: bool = True,
    now_ms: int | None = None,
    tz: str = "UTC",
) -> int:
    """Two demo mentors write to a newcomer, so Messages and Home have something real to show: each opens an
    end-to-end encrypted thread (an epoch granted to both devices) and sends two messages. The one who offers
    to mentor a student also sends the meetings of ``demo_meetings`` (a first call held, with notes, and the next
    one proposed), timed from ``now_ms`` (the newcomer's clock; ``tz`` their zone)."""
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    roster = {(row.sign_key): row for row in _devices(storage)}
    mentors = [p for p in people() if p.role == "mentor"][:2]
    sent = 0
    for person, lines in zip(mentors, GREETINGS, strict=True):
        mentor = roster.get(person.key.public_bytes())
        if mentor is None:
            continue
        session = DeviceSession(mentor.account_id, mentor.id, "mentor")
        low, high = sorted((session.account, account))
        thread = hashlib.sha256(b"osler-thread-v1\0" + low + high).digest()[:16]
        epoch, key = secrets.randbits(32), envelope.new_epoch_key()
        grants = {
            session.device.hex(): envelope.grant_epoch(
                key, person.box.public_bytes(), thread, epoch, session.account, session.device
            ),
            device.hex(): envelope.grant_epoch(key, box_public, thread, epoch, account, device),
        }
        members = sorted({session.account.hex(), account.hex()})
        clock = HybridClock()
        grant_body = msgpack.packb({"t": thread, "e": epoch, "m": members, "n": "", "g": grants}, use_bin_type=True)
        records = [
            Record(i=new_record_id(), k="epoch-grant", t=[account, session.account], h=clock.now(), b=grant_body)
        ]
        records[0] = person.key.sign_record(records[0], session.account, session.device)
        interest = person.card["interests"][0]
        for line in lines:
            record_id = new_record_id()
            content = msgpack.packb({"x": line.format(interest=interest)}, use_bin_type=True)
            body = envelope.seal(key, epoch, thread, record_id, "message", content)
            records.append(Record(i=record_id, k="message", t=[account, session.account], h=clock.now(), b=body))
        if offer and person is mentors[0]:  # and one of them offers to mentor the newcomer: a plan to explore
            offer = {
                "op": "offer",
                "r": hashlib.sha256(b"demo offer" + account).hexdigest()[:32],
                "student": account.hex(),
                "mentor": session.account.hex(),
                "text": f"I would be glad to mentor you this term on {interest}. (Fictional demo offer.)",
                "goals": [f"Read three key papers on {interest}", "Draft a one-page research question"],
                "at": now,
            }
            contents = [("mentorship", offer)] + [
                ("mentorship" if c["op"] == "checkin" else "meeting", c)
                for c in meeting_contents(session.account.hex(), person.card, account.hex(), offer["r"], now, tz)
            ]
            for kind, content in contents:
                record_id = new_record_id()
                body = envelope.seal(key, epoch, thread, record_id, kind, msgpack.packb(content, use_bin_type=True))
                records.append(Record(i=record_id, k=kind, t=[account, session.account], h=clock.now(), b=body))
        sent += storage.push(session, records).accepted
    return sent


# The demo programme's mentoring so far, as its admins see it (PROTOCOL.md §3.4): (student index, mentor index,
# who asked, days ago, answer or "", days ago answered, days since last activity or None). Indexes are into the
# demo's students and mentors.
ACTIVITY = (
    (0, 0, "student", 60, "accepted", 58, 2),
    (1, 3, "student", 50, "accepted", 49, 5),
    (2, 5, "mentor", 40, "accepted", 39, 1),
    (3, 8, "student", 35, "accepted", 33, 9),
    (4, 11, "student", 30, "accepted", 30, 3),
    (5, 14, "student", 90, "accepted", 88, 45),  # quiet; its mentor has not synced for three weeks
    (6, 17, "student", 80, "accepted", 79, 40),  # quiet; both sync
    (7, 20, "student", 25, "declined", 20, None),
    (7, 23, "student", 9, "", 0, None),  # waiting: the mentor synced two days ago and has not answered
    (8, 26, "student", 10, "", 0, None),  # waiting: the mentor has not synced since before it was sent
    (9, 29, "student", 2, "", 0, None),
)
LAPSED = {14: 21, 26: 16}  # mentor index → days since their last sync; everyone else synced within three days
MEETINGS_HELD = {0: (55, 41, 27, 13), 1: (45, 31, 17), 2: (35, 21, 7), 3: (30,), 4: (26, 12)}  # ACTIVITY row → days ago


def seed_meetings_held(storage: Storage, now_ms: int | None = None) -> int:
    """The ``meeting-held`` statuses of the demo's active mentorships (PROTOCOL.md §3.4: when, never what), so the
    admin's Programme figures count meetings held."""
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    by_key = {row.sign_key: row for row in _devices(storage)}
    everyone = people()
    students = [p for p in everyone if p.role == "student"]
    mentors = [p for p in everyone if p.role == "mentor"]
    with storage.reader.connect() as conn:  # the requests seed_activity stored (whenever it ran): pair → id
        bodies = conn.execute(sa.select(records_table.c.body).where(records_table.c.kind == STATUS_KIND)).scalars()
        asked = {(d["s"], d["m"]): d["r"] for d in map(json.loads, bodies) if d.get("e") == "request"}
    stored = 0
    for row, days in MEETINGS_HELD.items():
        student_index, mentor_index = ACTIVITY[row][:2]
        student = by_key[students[student_index].key.public_bytes()]
        mentor = by_key[mentors[mentor_index].key.public_bytes()]
        request = asked.get((student.account_id.hex(), mentor.account_id.hex()))
        if request is None:
            continue
        author = DeviceSession(student.account_id, student.id, "student")
        for ago in days:
            at = (now - ago * DAY_MS) // 1_800_000 * 1_800_000  # on the half hour, like a meeting's start
            body = json.dumps({"e": "meeting-held", "r": request, "at": at}).encode()
            record = Record(i=new_record_id(at), k=STATUS_KIND, t=[], h=at << 16, b=body)
            stored += storage.push(author, [record]).accepted
    return stored


def seed_activity(storage: Storage, now_ms: int | None = None) -> int:
    """Status records of the demo's fictional mentorships, and every demo device's last sync, so the programme
    admin's view has something true to show: matched, unmatched, waiting, quiet."""
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    by_key = {row.sign_key: row for row in _devices(storage)}
    everyone = people()
    students = [p for p in everyone if p.role == "student"]
    mentors = [p for p in everyone if p.role == "mentor"]

    def session(person: DemoPerson) -> DeviceSession:
        row = by_key[person.key.public_bytes()]
        return DeviceSession(row.account_id, row.id, person.role)

    stored = 0
    for student_index, mentor_index, by, asked, answer, answered, active in ACTIVITY:
        student, mentor = session(students[student_index]), session(mentors[mentor_index])
        at = now - asked * DAY_MS
        request = request_id(student.account.hex(), mentor.account.hex(), by, at)
        asker, answerer = (student, mentor) if by == "student" else (mentor, student)
        events = [(asker, {"e": "request", "r": request, "at": at, "s": student.account.hex(),
                           "m": mentor.account.hex(), "by": by})]  # fmt: skip
        if answer:
            events.append((answerer, {"e": "answer", "r": request, "at": now - answered * DAY_MS, "st": answer}))
        if active is not None:
            events.append((student, {"e": "activity", "r": request, "at": now - active * DAY_MS}))
        for author, body in events:
            record = Record(i=new_record_id(body["at"]), k=STATUS_KIND, t=[], h=body["at"] << 16,
                            b=json.dumps(body).encode())  # fmt: skip
            stored += storage.push(author, [record]).accepted
    with storage.writer.begin() as conn:
        for index, person in enumerate(everyone):
            row = by_key[person.key.public_bytes()]
            days = LAPSED.get(mentors.index(person), 0) if person.role == "mentor" else 0
            seen = (now - (days or 1 + index % 3) * DAY_MS) // 1000
            conn.execute(device_seen.insert().values(device_id=row.id, last_seen=seen))
    return stored


def _devices(storage: Storage) -> list:
    with storage.reader.connect() as conn:
        return list(conn.execute(sa.select(devices.c.id, devices.c.account_id, devices.c.sign_key)))


def start_demo_server(folder: Path) -> EmbeddedServer:
    """The demo programme's server, listening on loopback. Seeded on first use in a side folder that replaces
    ``folder`` only when complete, so an interrupted first start never leaves half a programme."""
    if not (folder / SEED_VERSION).exists():
        building = folder.with_name(folder.name + ".new")
        shutil.rmtree(building, ignore_errors=True)
        storage = Storage.for_data_dir(building)
        try:
            storage.create_schema()
            seed(storage, BlobStore(building / "blobs"))
            seed_activity(storage)
            seed_meetings_held(storage)
        finally:
            storage.dispose()
        (building / SEED_VERSION).write_text("seeded\n")
        (building / ACTIVITY_VERSION).write_text("seeded\n")
        (building / AVAILABILITY_VERSION).write_text("seeded\n")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(building, folder)
    if not (folder / ACTIVITY_VERSION).exists():
        storage = Storage.for_data_dir(folder)
        try:
            storage.create_schema()
            seed_activity(storage)
        finally:
            storage.dispose()
        (folder / ACTIVITY_VERSION).write_text("seeded\n")
    if not (folder / AVAILABILITY_VERSION).exists():
        storage = Storage.for_data_dir(folder)
        try:
            storage.create_schema()
            seed_availability(storage)
            seed_meetings_held(storage)
        finally:
            storage.dispose()
        (folder / AVAILABILITY_VERSION).write_text("seeded\n")
    return EmbeddedServer(folder, port=DEMO_PORT).start()
