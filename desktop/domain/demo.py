"""The demo programme: a clearly fictional, deterministic mentorship programme on an embedded loopback server,
so a newcomer (or ``make run`` on a machine with no programme) can click through Osler without any network.

Everyone in it is made up: names are drawn from lists of common given and family names, every bio says it is a
demo profile, and every card carries ``"demo": true``. The same code always produces the same people, cards and
library (only the server's random account ids differ between demo folders).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from desktop.domain.directory import card_body
from sync.envelope import DeviceKey
from sync.protocol import BLOB_CHUNK, Record, new_record_id
from sync.server.blobstore import BlobStore
from sync.server.embedded import EmbeddedServer
from sync.server.storage import Storage

SEED = 20261122
SEED_VERSION = "demo-seed-v1"
EPOCH_MS = 1_793_000_000_000  # November 2026: all demo records carry clocks from here
DEMO_PORT = 8471

SPECIALTIES = (
    "Paediatrics",
    "Internal Medicine",
    "General Surgery",
    "Obstetrics and Gynaecology",
    "Psychiatry",
    "Emergency Medicine",
    "Family Medicine",
    "Infectious Diseases",
    "Cardiology",
    "Public Health",
    "Anaesthesiology",
    "Neurology",
)
PLACES = (  # country, city, time zone, languages spoken there
    ("NG", "Enugu", "Africa/Lagos", ("en", "ig")),
    ("KE", "Kisumu", "Africa/Nairobi", ("en", "sw")),
    ("IN", "Pune", "Asia/Kolkata", ("en", "hi")),
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
MATERIAL_KINDS = ("notes", "checklist", "reading list", "case study")


@dataclass(frozen=True)
class DemoPerson:
    name: str
    role: str
    card: dict
    key: DeviceKey


def _key(name: str) -> DeviceKey:
    return DeviceKey.from_private_bytes(hashlib.sha256(f"osler demo key {name}".encode()).digest())


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
        bio = (
            f"Fictional demo profile. {title}{name} is a {stage} in {specialty.lower()} in {city}, "
            f"interested in {interests[0]} and {interests[1]}. Usually online {rng.choice(WINDOWS)}."
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
        out.append(DemoPerson(card["name"], role, card, _key(name)))
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


def seed(storage: Storage, blobs: BlobStore) -> int:
    """Fill an empty demo server: people with signed cards, and a library with files. Returns records stored."""
    rng = random.Random(SEED + 1)  # noqa: S311 - reproducible demo data
    stored = 0
    authors = []
    for offset, person in enumerate(people()):
        session = storage.register(
            storage.create_invites(person.role)[0], "demo device", person.key.public_bytes(), None
        )
        assert session is not None
        authors.append((person, session))
        record = Record(
            i=new_record_id(EPOCH_MS + offset, rng.randbytes(10)),
            k="card",
            h=(EPOCH_MS + offset) << 16,
            b=card_body(**person.card),
        )
        stored += storage.push(session, [person.key.sign_record(record, session.account, session.device)]).accepted
    mentors = [(p, s) for p, s in authors if p.role == "mentor"]
    for offset, (entry, content) in enumerate(library(rng)):
        sha = hashlib.sha256(content).hexdigest()
        for index in range(max(1, -(-len(content) // BLOB_CHUNK))):
            blobs.put_chunk(sha, len(content), index, content[index * BLOB_CHUNK : (index + 1) * BLOB_CHUNK])
        person, session = mentors[offset % len(mentors)]
        body = json.dumps({"v": 1, **entry, "size": len(content), "sha256": sha}).encode()
        record = Record(
            i=new_record_id(EPOCH_MS + 1000 + offset, rng.randbytes(10)),
            k="material",
            h=(EPOCH_MS + 1000 + offset) << 16,
            b=body,
        )
        stored += storage.push(session, [person.key.sign_record(record, session.account, session.device)]).accepted
    return stored


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
        finally:
            storage.dispose()
        (building / SEED_VERSION).write_text("seeded\n")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(building, folder)
    return EmbeddedServer(folder, port=DEMO_PORT).start()
