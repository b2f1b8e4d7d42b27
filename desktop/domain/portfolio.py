"""A person's mentoring record (mentorships, circles, research projects with their CRediT roles, hours) and the
confirmations of its entries by the mentor or lead concerned.

``Portfolio.facts()`` gathers the record from this device's vault. An entry is confirmed in two steps, each a
sealed 1:1 record in the pair's direct thread (through ``messaging.handlers``): the person sends an
``attest-request`` naming the entry; the confirmer's device checks the entry against its own copy (it must be the
mentor of that mentorship, or a lead of that circle or project), and once they confirm it signs the canonical
statement (``envelope.sign_statement``) and sends an ``attestation`` back, with its card chain (identity key and
device certificate) so that anyone can check it offline. The person's device keeps it only if the signer is the
one the entry names. Requests and attestations live in the vault (``portfolio`` secret, msgpack).

The export itself (CSV, the signature block after the PDF) is ``portfolio_file.py``; the PDF is drawn by the UI.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack

from desktop.domain import keyring
from desktop.domain.directory import cards
from desktop.domain.mentorship import Mentorship, Mentorships
from desktop.domain.messaging import Messaging
from desktop.vault import Vault
from sync import envelope
from sync.clock import now_ms as wall_ms

log = logging.getLogger(__name__)
STORE = "portfolio"
STATEMENT_TYPE = "osler-attestation"
MAX_PENDING = 200


class PortfolioError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def canonical(doc: dict) -> bytes:
    """The one byte form a statement is signed in: JSON, keys sorted, no spaces, UTF-8."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signer_chain(vault: Vault, messaging: Messaging, name: str = "") -> dict:
    """What lets anyone check this device's signatures offline: the account's identity key, and this device's
    keys with the identity's certificate over them (PROTOCOL.md §10)."""
    creds = messaging.program.credentials
    keys = keyring.ensure(vault)
    sign, box = creds.key.public_bytes(), messaging.program.box.public_bytes()  # type: ignore[union-attr]
    return {
        "account": creds.account.hex(),
        "name": name,
        "identity": keys.identity_public.hex(),
        "g": keys.generation,
        "device": creds.device.hex(),
        "sign": sign.hex(),
        "box": box.hex(),
        "cert": keys.certify(creds.account, creds.device, sign, box).hex(),
    }


def check_chain(chain: dict) -> bool:
    """The device in ``chain`` is certified by the identity key it names, for the account it names."""
    try:
        return envelope.verify_device(
            bytes.fromhex(chain["identity"]),
            bytes.fromhex(chain["account"]),
            bytes.fromhex(chain["device"]),
            bytes.fromhex(chain["sign"]),
            bytes.fromhex(chain["box"]),
            bytes.fromhex(chain["cert"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return False


def check_attestation(attestation: dict, subject: str) -> dict | None:
    """The statement of a well-formed attestation about ``subject``, signed by a device its chain certifies for
    the account that the statement says confirms; else None. The chain (and the signer's name) is part of the
    signed statement; the attestation's ``signer`` is a copy of it, for readers."""
    try:
        statement_bytes = bytes.fromhex(attestation["statement"])
        signature = bytes.fromhex(attestation["signature"])
        statement = json.loads(statement_bytes)
        chain = statement["signer"]
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(statement, dict) or not isinstance(chain, dict) or canonical(statement) != statement_bytes:
        return None
    if attestation.get("signer") != chain:
        return None
    if statement.get("type") != STATEMENT_TYPE or statement.get("subject") != subject:
        return None
    if statement.get("by") != chain.get("account") or not check_chain(chain):
        return None
    if not envelope.verify_statement(bytes.fromhex(chain["sign"]), statement_bytes, signature):
        return None
    entry = statement.get("entry")
    if not isinstance(entry, dict) or confirmer_of(entry, subject) != statement["by"]:
        return None
    return statement


def confirmer_of(entry: dict, subject: str) -> str | None:
    """Who may confirm an entry of ``subject``'s record: the other person of a mentorship, the lead named in a
    circle or project entry."""
    if entry.get("kind") == "mentorship":
        pair = (entry.get("student"), entry.get("mentor"))
        if subject not in pair:
            return None
        return pair[1] if subject == pair[0] else pair[0]
    if entry.get("kind") in ("circle", "project"):
        lead = entry.get("lead")
        return lead if isinstance(lead, str) and lead != subject else None
    return None


@dataclass(frozen=True)
class AttestRequest:
    id: str
    subject: str  # who asks
    entry: dict
    at: int


def _hours(plan: Mentorship) -> float:
    """Hours recorded on a mentorship: the ``hours`` field, else each check-in's ``hours``, else 0."""
    value = plan.value("hours")
    if isinstance(value, (int, float)) and value >= 0:
        return float(value)
    total = 0.0
    for checkin in plan.checkins:
        hours = checkin.get("hours")
        if isinstance(hours, (int, float)) and 0 <= hours <= 24:
            total += hours
    return total


class Portfolio:
    """This person's record, the confirmations they asked for and hold, and those others ask of them."""

    def __init__(
        self,
        vault: Vault,
        messaging: Messaging,
        mentorships: Mentorships,
        circles: Any = None,
        projects: Callable[[], Any] | None = None,
    ) -> None:
        self.vault, self.messaging, self.mentorships, self.circles = vault, messaging, mentorships, circles
        self._projects = projects or (lambda: None)  # the session's Projects, when research projects are there
        self.me = messaging.me
        self.refused = 0
        messaging.handlers["attest-request"] = self._take_request
        messaging.handlers["attestation"] = self._take_attestation

    def now_ms(self) -> int:
        return wall_ms(self.messaging.clock.wall)

    # -- storage -----------------------------------------------------------------------------------------------

    def _load(self) -> dict:
        raw = self.vault.get_secret(STORE)
        doc = msgpack.unpackb(raw, raw=False) if raw else {}
        doc.setdefault("asked", {})  # entry id -> [confirmer, at]
        doc.setdefault("incoming", {})  # request id -> AttestRequest fields
        doc.setdefault("held", {})  # entry id -> attestation {statement, signature, signer}
        doc.setdefault("done", [])  # request ids answered here
        return doc

    def _save(self, doc: dict) -> None:
        self.vault.put_secret(STORE, msgpack.packb(doc, use_bin_type=True))

    # -- the record --------------------------------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        return {c.account: c.name for c in cards(self.vault)}

    def mentorship_entry(self, plan: Mentorship) -> dict:
        asked = next((r.created for r in self.mentorships.requests() if r.id == plan.id), 0)
        at = sorted(c.get("at", 0) for c in plan.checkins if isinstance(c.get("at"), int))
        first = asked or (at[0] if at else 0)
        outcome = plan.value("outcome")
        return {
            "kind": "mentorship",
            "id": plan.id,
            "student": plan.student,
            "mentor": plan.mentor,
            "from": first,
            "to": max([first, *at]) if isinstance(outcome, str) and outcome.strip() else 0,
            "last": at[-1] if at else 0,
            "checkins": len(plan.checkins),
            "hours": _hours(plan),
            "goals": [g["title"] for g in plan.goals() if g["done"]],
        }

    def _circle_entries(self) -> tuple[list[dict], list[dict]]:
        """Circles and projects this person belongs to, through ``session.circles`` when it is there."""
        circles_api = self.circles
        if circles_api is None:
            return [], []
        found: tuple[list[dict], list[dict]] = ([], [])
        for circle in circles_api.circles():
            if circle.my_role is None:
                continue
            lead = next((m.account for m in circle.members if m.role == "lead"), None)
            entry = {
                "kind": "project" if circle.kind == "project" else "circle",
                "id": circle.id,
                "title": circle.title,
                "role": circle.my_role,
                "lead": lead,
            }
            if circle.kind == "project":
                entry["credit"] = self._credit(circle.id, self.me)
                found[1].append(entry)
            else:
                found[0].append(entry)
        return found

    def _credit(self, project: str, account: str) -> dict:
        """A person's CRediT roles in a project ({role: level}) and whether the lead confirmed them."""
        projects = self._projects()
        if projects is None:
            return {}
        record = projects.state(project).credits.get(account)
        if record is None or not record.roles:
            return {}
        return {**record.roles, "confirmed": record.confirmed}

    def facts(self, name: str = "", programme: str = "") -> dict:
        """The whole record, as plain data (what the CSV lists, the PDF shows and the signature covers)."""
        names = self._names()
        entries = [self.mentorship_entry(p) for p in self.mentorships.mentorships()]
        entries.sort(key=lambda e: (e["from"], e["id"]))
        circles, projects = self._circle_entries()
        for item in circles + projects:  # the lead who confirmed an entry is the one it names
            held = self._load()["held"].get(item["id"])
            if held is not None:
                item["lead"] = json.loads(bytes.fromhex(held["statement"]))["by"]
        dates = [e[k] for e in entries for k in ("from", "to", "last") if e[k]]
        return {
            "person": {"account": self.me, "name": name or names.get(self.me, "")},
            "programme": programme,
            "generated": self.now_ms(),
            "period": {"from": min(dates, default=0), "to": max(dates, default=0)},
            "mentorships": [{**e, "with": e["mentor"] if e["student"] == self.me else e["student"]} for e in entries],
            "names": {a: names[a] for e in entries for a in (e["student"], e["mentor"]) if a in names},
            "circles": circles,
            "projects": projects,
            "hours": round(sum(e["hours"] for e in entries), 2),
        }

    def entry(self, entry_id: str) -> dict | None:
        plan = self.mentorships.mentorship(entry_id)
        if plan is not None:
            return self.mentorship_entry(plan)
        circles, projects = self._circle_entries()
        return next((e for e in circles + projects if e["id"] == entry_id), None)

    # -- asking for a confirmation ----------------------------------------------------------------------------

    def ask(self, entry_id: str) -> str:
        """Ask the mentor (or the lead) to confirm one entry; returns who was asked."""
        entry = self.entry(entry_id)
        if entry is None:
            raise PortfolioError("unknown", "no such entry in your record")
        confirmer = confirmer_of(entry, self.me)
        if confirmer is None:
            raise PortfolioError("no-confirmer", "nobody can confirm this entry")
        request = hashlib.sha256(canonical({"e": entry, "at": self.now_ms(), "s": self.me})).hexdigest()[:32]
        with self.vault.transaction():
            thread = self.messaging.start_direct(confirmer)
            self.messaging._sealed_record(thread, "attest-request", {"i": request, "e": entry, "at": self.now_ms()})
            doc = self._load()
            doc["asked"][entry_id] = [confirmer, self.now_ms()]
            self._save(doc)
        return confirmer

    def asked(self) -> dict[str, str]:
        """Entry id -> the account asked to confirm it, for the entries not confirmed yet."""
        doc = self._load()
        return {e: v[0] for e, v in doc["asked"].items() if e not in doc["held"]}

    def attestations(self) -> dict[str, dict]:
        """Entry id -> the attestation held for it (statement, signature, signer chain)."""
        return dict(self._load()["held"])

    # -- being asked -------------------------------------------------------------------------------------------

    def requests(self) -> list[AttestRequest]:
        doc = self._load()
        return sorted(
            (AttestRequest(**r) for i, r in doc["incoming"].items() if i not in doc["done"]), key=lambda r: r.at
        )

    def _take_request(self, content: dict, author: str) -> None:
        entry, request = content.get("e"), content.get("i")
        if not isinstance(entry, dict) or not isinstance(request, str) or len(request) > 64:
            self.refused += 1
            return
        doc = self._load()
        if request in doc["incoming"] or len(doc["incoming"]) >= MAX_PENDING:
            return
        at = content.get("at")
        doc["incoming"][request] = {
            "id": request,
            "subject": author,
            "entry": entry,
            "at": at if isinstance(at, int) else 0,
        }
        self._save(doc)

    def _own_view(self, entry: dict, subject: str) -> dict | None:
        """This device's copy of the entry another person asks about, if this person is its confirmer: the
        mentor of that mentorship, or a lead of that circle or project of which the person is a member."""
        entry_id = str(entry.get("id", ""))
        plan = self.mentorships.mentorship(entry_id)
        if plan is not None:
            mine = self.mentorship_entry(plan)
            return mine if confirmer_of(mine, subject) == self.me else None
        if self.circles is None or entry.get("kind") not in ("circle", "project"):
            return None
        circle = self.circles.circle(entry_id)
        role = self.circles.role(entry_id, subject) if circle is not None else None
        if circle is None or role is None or self.circles.role(entry_id, self.me) != "lead":
            return None
        kind = "project" if circle.kind == "project" else "circle"
        mine = {"kind": kind, "id": circle.id, "title": circle.title, "role": role, "lead": self.me}
        if kind == "project":
            mine["credit"] = self._credit(circle.id, subject)
        return mine

    def confirm(self, request_id: str, name: str = "") -> dict:
        """Sign what this device knows of the entry asked about and send it back. Refused (PortfolioError) when
        this person is not the mentor or lead of that entry."""
        doc = self._load()
        raw = doc["incoming"].get(request_id)
        if raw is None:
            raise PortfolioError("unknown", "no such request")
        request = AttestRequest(**raw)
        entry = self._own_view(request.entry, request.subject)
        if entry is None:
            raise PortfolioError("not-confirmer", "only the mentor or lead of this entry can confirm it")
        chain = signer_chain(self.vault, self.messaging, name or self._names().get(self.me, ""))
        statement = canonical(
            {
                "type": STATEMENT_TYPE,
                "v": 1,
                "subject": request.subject,
                "by": self.me,
                "entry": entry,
                "at": self.now_ms(),
                "signer": chain,
            }
        )
        signature = self.messaging.program.credentials.key.sign_statement(statement)
        attestation = {"statement": statement.hex(), "signature": signature.hex(), "signer": chain}
        with self.vault.transaction():
            thread = self.messaging.start_direct(request.subject)
            self.messaging._sealed_record(thread, "attestation", {"i": request_id, "a": attestation})
            doc = self._load()
            doc["done"].append(request_id)
            self._save(doc)
        return attestation

    def decline(self, request_id: str) -> None:
        doc = self._load()
        if request_id in doc["incoming"] and request_id not in doc["done"]:
            doc["done"].append(request_id)
            self._save(doc)

    # -- receiving a confirmation ------------------------------------------------------------------------------

    def _take_attestation(self, content: dict, author: str) -> None:
        attestation = content.get("a")
        statement = check_attestation(attestation, self.me) if isinstance(attestation, dict) else None
        if statement is None or statement["by"] != author:
            self.refused += 1
            log.warning("an attestation that does not verify was refused")
            return
        mine = self.entry(str(statement["entry"].get("id", "")))
        if mine is not None and mine["kind"] != "mentorship" and self.circles is not None:
            mine = {**mine, "lead": author} if self.circles.role(mine["id"], author) == "lead" else None
        if mine is None or confirmer_of(mine, self.me) != author:
            self.refused += 1
            log.warning("an attestation by someone who is not the entry's mentor or lead was refused")
            return
        known = {c.account: c for c in cards(self.vault)}.get(author)
        if known is not None and known.identity and known.identity.hex() != attestation["signer"]["identity"]:
            self.refused += 1
            log.warning("an attestation whose identity key differs from the signer's card was refused")
            return
        doc = self._load()
        doc["held"][mine["id"]] = {k: attestation[k] for k in ("statement", "signature", "signer")}
        self._save(doc)
