"""The demo research circle's events in the order they happened, as plain data: what each person posted in the
circle and changed in its projects, with the content of the real record kinds (``circle-post``,
``circle-announce``, ``project``; spec §2 and §3). ``demo_circle`` seals, signs and stores them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from desktop.domain import demo_content as c
from desktop.domain.mentorship import DAY_MS
from desktop.domain.project_state import credit_fingerprint

HOUR_MS = DAY_MS // 24


@dataclass(frozen=True)
class Planned:
    space: str  # "circle" or a project's key
    kind: str  # circle-post, circle-announce or project
    author: int  # person index, or demo_content.ME
    at: int  # wall-clock ms it was written
    id: str  # the record id (32 hex)
    content: dict
    file: tuple[str, bytes] | None = None  # a file version's (name, plain content), sealed and uploaded as a blob


def _hex(*parts: object) -> str:
    return hashlib.sha256("\0".join(map(str, ("osler demo", *parts))).encode()).hexdigest()[:32]


def record_id(at: int, *parts: object) -> str:
    """A UUIDv7 for an event written at ``at``, reproducible from what it is."""
    tail = bytearray(hashlib.sha256("\0".join(map(str, ("osler demo id", *parts))).encode()).digest()[:10])
    tail[0] = 0x70 | (tail[0] & 0x0F)
    tail[2] = 0x80 | (tail[2] & 0x3F)
    return (at.to_bytes(6, "big") + bytes(tail)).hex()


def plan(
    now: int, account: Callable[[int], str], spaces: dict[str, str], library: list[str], salt: str = ""
) -> list[Planned]:
    """Every event, oldest first. ``account(person)`` is a person's account hex, ``spaces`` maps "circle" and each
    project's key to its circle id, ``library`` lists the programme's material ids; ``salt`` keeps topic and
    entity ids apart between two newcomers of the same demo server."""
    out: list[Planned] = []

    def add(space: str, kind: str, author: int, at: float, content: dict, file=None) -> str:
        ms = int(at)
        ident = record_id(ms, salt, space, kind, len(out))
        out.append(Planned(space, kind, author, ms, ident, content, file))
        return ident

    circle = spaces["circle"]
    for key, author, days, title, text, replies in c.TOPICS:
        start = now - days * DAY_MS
        ref = _hex(salt, "topic", key)
        add("circle", "circle-post", author, start, {"ref": ref, "y": "topic", "n": title, "x": text})
        _replies(add, ref, start, replies)
    author, days, title, text = c.ANNOUNCEMENT
    ref = _hex(salt, "announcement")
    add("circle", "circle-announce", author, now - days * DAY_MS, {"ref": ref, "y": "topic", "n": title, "x": text})
    author, days, lib, title = c.PIN
    add(
        "circle",
        "circle-post",
        author,
        now - days * DAY_MS,
        {"ref": circle, "y": "pin", "lib": library[lib], "n": title},
    )
    author, days, meets, lib, title, text, replies = c.JOURNAL
    ref = _hex(salt, "journal")
    journal = {"ref": ref, "y": "journal", "n": title, "x": text, "lib": library[lib]}
    add("circle", "circle-post", author, now - days * DAY_MS, journal | {"at": int(now - meets * DAY_MS)})
    _replies(add, ref, now - days * DAY_MS, replies)
    for project in c.PROJECTS:
        out += _project(project, now, account, spaces[project["key"]], salt, len(out))
    return sorted(out, key=lambda p: (p.at, p.id))


def _replies(add: Callable[..., str], ref: str, start: float, replies: tuple) -> None:
    posted: dict[str, str] = {}
    for reply, parent, who, hours, body in replies:
        content = {"ref": ref, "y": "reply", "x": body}
        if parent is not None:
            content["p"] = posted[parent]
        posted[reply] = add("circle", "circle-post", who, start + hours * HOUR_MS, content)


def _project(p: dict, now: int, account: Callable[[int], str], pid: str, salt: str, base: int) -> list[Planned]:
    key, start = p["key"], now - p["days"] * DAY_MS
    lead = next(i for i, role in p["members"].items() if role == "lead")
    out: list[Planned] = []

    def change(author: int, at: float, entity: str, ident: str, fields: dict, file=None) -> None:
        ms = int(min(at, now - HOUR_MS))
        content = {"ref": pid, "e": entity, "id": ident, "f": fields}
        out.append(Planned(key, "project", author, ms, record_id(ms, salt, key, base + len(out)), content, file))

    for index, stage in enumerate(c.STAGES):
        owner, due, notes, done = p["stages"][stage]
        fields = {"owner": account(owner), "due": int(now + due * DAY_MS), "notes": notes, "done": False}
        change(lead, start + index * HOUR_MS, "stage", stage, fields)
        if done:
            change(owner, now + due * DAY_MS, "stage", stage, {"done": True})
    for order, (title, stage, owner, due, state) in enumerate(p["tasks"]):
        task = _hex(salt, key, "task", order)
        fields = {"title": title, "stage": stage, "owner": account(owner), "due": int(now + due * DAY_MS)}
        change(lead, now - (30 - order) * DAY_MS, "task", task, fields | {"state": "todo", "order": order})
        if state != "todo":
            change(owner, now + (due - 3) * DAY_MS, "task", task, {"state": state})
    for index, (by, days, text) in enumerate(p["decisions"]):
        at = now - days * DAY_MS
        fields = {"text": text, "at": int(at), "by": account(by)}
        change(by, at, "decision", _hex(salt, key, "decision", index), fields)
    for person, (roles, confirmed) in p["credit"].items():
        change(person, now - 5 * DAY_MS, "credit", account(person), dict(roles))
        if confirmed:
            change(lead, now - 4 * DAY_MS, "credit", account(person), {"confirmed": credit_fingerprint(roles)})
    for order, (person, corresponding) in enumerate(p["authors"]):
        fields = {"order": order, "person": account(person), "corresponding": corresponding}
        change(lead, now - 9 * DAY_MS, "author", _hex(salt, key, "author", order), fields)
    for name, versions in p["files"]:
        file = _hex(salt, key, "file", name)
        change(versions[0][0], now - versions[0][1] * DAY_MS - HOUR_MS, "file", file, {"name": name})
        for by, days, version in versions:
            at = now - days * DAY_MS
            fields = {"file": file, "name": name, "by": account(by), "at": int(at)}  # "a" added once sealed
            change(by, at, "file-version", _hex(salt, key, version), fields, (name, c.draft_text(version)))
    return out
