"""Mentorship requests and structured mentorships, as end-to-end sealed records in the pair's own thread.

A student asks with a message and goals; the mentor accepts or declines with a reason; a request left pending
expires after 14 days, with a reminder after 7. An accepted request becomes a mentorship: an agreement (goals,
expectations, cadence, duration, communication mode) that both sign, goals with due dates, check-ins
(progress, blockers, next steps) from either side, mid-point and closing feedback, and an outcome.

Every change is an operation ``set field = value`` stamped with a hybrid logical clock. The value of a field is
the operation with the highest (clock, author): both people, or two devices, editing offline converge once
they sync, and the overwritten values stay in the field's history. Signatures cover the agreement's current
text, so a change after signing asks both to sign again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgpack

from desktop.domain.messaging import Messaging
from desktop.domain.sync_adapter import Program, queue_record
from desktop.i18n import N_
from desktop.vault import Vault
from desktop.vault.faults import crash_point
from sync.clock import now_ms as wall_ms
from sync.protocol import STATUS_KIND, HybridClock, StatusBody, status_body
from sync.protocol import request_id as make_request_id

REQUEST_DAYS, REMINDER_DAYS = 14, 7
DAY_MS = 24 * 3600 * 1000
AGREEMENT_FIELDS = ("goals", "expectations", "cadence", "duration", "mode")
STORE = "mentorships"
_ACTIVITY = "status-activity"
T = TypeVar("T")


@dataclass
class Request:
    id: str
    student: str
    mentor: str
    text: str
    goals: list[str]
    created: int  # ms
    state: str = "pending"  # pending (asked by the student), offered (by the mentor), accepted, declined
    by: str = "student"  # who asked: the other one answers
    reason: str = ""

    @property
    def answerer(self) -> str:
        return self.mentor if self.by == "student" else self.student

    def status(self, now_ms: int) -> str:
        if self.state == "pending" and now_ms - self.created > REQUEST_DAYS * DAY_MS:
            return "expired"
        return self.state

    def needs_reminder(self, now_ms: int) -> bool:
        return self.status(now_ms) == "pending" and now_ms - self.created > REMINDER_DAYS * DAY_MS


@dataclass
class Mentorship:
    id: str
    student: str
    mentor: str
    ops: list[dict] = field(default_factory=list)  # {f: field, v: value, h: hlc, a: author}
    checkins: list[dict] = field(default_factory=list)  # {by, at, progress, blockers, next}

    def value(self, name: str, default: Any = None) -> Any:
        winner = max((op for op in self.ops if op["f"] == name), key=lambda op: (op["h"], op["a"]), default=None)
        return default if winner is None else winner["v"]

    def history(self, name: str) -> list[dict]:
        """Every value the field has had, oldest first, the current one last."""
        return sorted((op for op in self.ops if op["f"] == name), key=lambda op: (op["h"], op["a"]))

    def agreement_digest(self) -> str:
        text = json.dumps({f: self.value(f, "") for f in AGREEMENT_FIELDS}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def signed_by(self, account: str) -> bool:
        return self.value(f"signed:{account}") == self.agreement_digest()

    @property
    def fully_signed(self) -> bool:
        return self.signed_by(self.student) and self.signed_by(self.mentor)

    def goals(self) -> list[dict]:
        """Goals and milestones: {id, title, due (ms or 0), done}."""
        ids = sorted({op["f"].split(":")[1] for op in self.ops if op["f"].startswith("goal:")})
        out = []
        for goal in ids:
            title = self.value(f"goal:{goal}:title", "")
            if title and not self.value(f"goal:{goal}:removed", False):
                out.append(
                    {
                        "id": goal,
                        "title": title,
                        "due": self.value(f"goal:{goal}:due", 0),
                        "done": bool(self.value(f"goal:{goal}:done", False)),
                    }
                )
        return sorted(out, key=lambda g: (g["due"] or 1 << 62, g["title"]))

    def progress(self) -> tuple[int, int]:
        goals = self.goals()
        return sum(1 for g in goals if g["done"]), len(goals)

    def timeline(self, now_ms: int, weeks: int = 12) -> tuple[list[int], list[tuple[int, str]]]:
        """What the progress chart draws: check-ins in each of the last ``weeks`` weeks (oldest first), and each
        dated goal's week (-1 before the window, ``weeks`` and beyond after it) with its state: done, overdue
        or open."""
        start = now_ms - weeks * 7 * DAY_MS
        counts = [0] * weeks
        for checkin in self.checkins:
            at = checkin.get("at", 0)
            if start <= at <= now_ms:
                counts[min(weeks - 1, (at - start) // (7 * DAY_MS))] += 1
        marks = []
        for goal in self.goals():
            if goal["due"]:
                week = (goal["due"] - start) // (7 * DAY_MS)
                state = "done" if goal["done"] else "overdue" if goal["due"] < now_ms else "open"
                marks.append((max(-1, min(weeks, int(week))), state))
        return counts, marks

    def next_steps(self, now_ms: int, me: str) -> list[tuple[str, dict[str, Any]]]:
        """Suggestions derived from the plan (untranslated template, values)."""
        steps: list[tuple[str, dict[str, Any]]] = []
        if not self.signed_by(me):
            steps.append((N_("Read and sign the agreement."), {}))
        for goal in self.goals():
            if not goal["done"] and goal["due"] and goal["due"] < now_ms:
                steps.append((N_("“{title}” is overdue: finish it or agree a new date."), {"title": goal["title"]}))
            elif not goal["done"] and goal["due"] and goal["due"] - now_ms < 7 * DAY_MS:
                steps.append((N_("“{title}” is due within a week."), {"title": goal["title"]}))
        last = max((c["at"] for c in self.checkins), default=0)
        if now_ms - last > 14 * DAY_MS:
            steps.append((N_("No check-in for two weeks: write one (progress, blockers, next steps)."), {}))
        if not self.goals():
            steps.append((N_("Add the first goal with a due date."), {}))
        return steps


def disclose(vault: Vault, program: Program, clock: HybridClock, status: StatusBody) -> None:
    """Queue a status record for the programme's admins (PROTOCOL.md §3.4): metadata about this person's own
    requests and mentorships, never their content. ``activity`` goes at most once a day per mentorship."""
    with vault.transaction():  # the once-a-day mark and the status record together
        if status.e == "activity":
            sent = json.loads(vault.get_secret(_ACTIVITY) or b"{}")
            day = status.at // DAY_MS
            if sent.get(status.r) == day:
                return
            sent[status.r] = day
            vault.put_secret(_ACTIVITY, json.dumps(sent).encode())
        queue_record(vault, program, clock, STATUS_KIND, status_body(status), [])


def _one_transaction(operation: Callable[..., T]) -> Callable[..., T]:
    """A person's operation on a request or mentorship is one local transaction: the sealed record to the other
    person, this device's copy and the status record for the programme land together, or not at all."""

    @functools.wraps(operation)
    def atomic(self: Mentorships, *args: Any, **kwargs: Any) -> T:
        with self.vault.transaction():
            return operation(self, *args, **kwargs)

    return atomic


class Mentorships:
    """Requests and mentorships of this person, kept sealed in the vault and synced through their threads."""

    def __init__(self, vault: Vault, messaging: Messaging) -> None:
        self.vault, self.messaging = vault, messaging
        self.me = messaging.me
        messaging.handlers["mentorship"] = self._take

    def now_ms(self) -> int:
        """The injected clock's time (the one the session was built with), in ms."""
        return wall_ms(self.messaging.clock.wall)

    # -- storage --------------------------------------------------------------------------------------------

    def _load(self) -> dict:
        raw = self.vault.get_secret(STORE)
        return msgpack.unpackb(raw, raw=False) if raw else {"requests": {}, "mentorships": {}}

    def _save(self, data: dict) -> None:
        self.vault.put_secret(STORE, msgpack.packb(data, use_bin_type=True))

    def requests(self) -> list[Request]:
        return sorted((Request(**r) for r in self._load()["requests"].values()), key=lambda r: -r.created)

    def mentorships(self) -> list[Mentorship]:
        return [Mentorship(**m) for m in self._load()["mentorships"].values()]

    def mentorship(self, mentorship_id: str) -> Mentorship | None:
        data = self._load()["mentorships"].get(mentorship_id)
        return Mentorship(**data) if data else None

    # -- operations -----------------------------------------------------------------------------------------

    def _send(self, other: str, content: dict) -> None:
        thread = self.messaging.start_direct(other)
        self.messaging._sealed_record(thread, "mentorship", content)
        crash_point("mentorship:sent")
        self._take(content, self.me)

    @_one_transaction
    def ask(self, mentor: str, text: str, goals: list[str], now_ms: int) -> str:
        """A student asks a mentor; works offline, goes out with the next sync."""
        if not text.strip():
            raise ValueError("a request needs a message")
        request_id = make_request_id(self.me, mentor, "student", now_ms)
        content = {
            "op": "ask",
            "r": request_id,
            "student": self.me,
            "mentor": mentor,
            "text": text.strip()[:4000],
            "goals": [g.strip()[:200] for g in goals if g.strip()][:10],
            "at": now_ms,
        }
        self._send(mentor, content)
        self._disclose("request", request_id, now_ms, s=self.me, m=mentor, by="student")
        return request_id

    @_one_transaction
    def offer(self, student: str, text: str, goals: list[str], now_ms: int) -> str:
        """A mentor invites a student (an admin's cohort assignment, or a mentor reaching out)."""
        request_id = make_request_id(student, self.me, "mentor", now_ms)
        content = {
            "op": "offer",
            "r": request_id,
            "student": student,
            "mentor": self.me,
            "text": text.strip()[:4000],
            "goals": [g.strip()[:200] for g in goals if g.strip()][:10],
            "at": now_ms,
        }
        self._send(student, content)
        self._disclose("request", request_id, now_ms, s=student, m=self.me, by="mentor")
        return request_id

    @_one_transaction
    def answer(self, request_id: str, accept: bool, reason: str = "") -> None:
        request = next((r for r in self.requests() if r.id == request_id), None)
        if request is None or request.answerer != self.me or request.state != "pending":
            raise ValueError("only the person asked answers a pending request")
        if not accept and not reason.strip():
            raise ValueError("a decline says why")
        other = request.student if self.me == request.mentor else request.mentor
        self._send(other, {"op": "accept" if accept else "decline", "r": request_id, "reason": reason[:1000]})
        self._disclose("answer", request_id, self.now_ms(), st="accepted" if accept else "declined")

    @_one_transaction
    def set(self, mentorship_id: str, name: str, value: Any) -> None:
        """Set one field of a mentorship (agreement text, a goal's title, due date or done, feedback…)."""
        mentorship = self.mentorship(mentorship_id)
        if mentorship is None:
            raise KeyError(mentorship_id)
        other = mentorship.mentor if self.me == mentorship.student else mentorship.student
        op = {"f": name, "v": value, "h": self.messaging.clock.now(), "a": self.me}
        self._send(other, {"op": "set", "m": mentorship_id, "set": op})
        closing = name == "outcome" and isinstance(value, str) and value.strip()
        self._disclose("closed" if closing else "activity", mentorship_id, self.now_ms())

    def sign(self, mentorship_id: str) -> None:
        mentorship = self.mentorship(mentorship_id)
        assert mentorship is not None
        self.set(mentorship_id, f"signed:{self.me}", mentorship.agreement_digest())

    @_one_transaction
    def add_goal(self, mentorship_id: str, title: str, due_ms: int = 0) -> str:
        goal = hashlib.sha256(f"{title}{self.messaging.clock.now()}".encode()).hexdigest()[:12]
        self.set(mentorship_id, f"goal:{goal}:title", title.strip()[:200])
        if due_ms:
            self.set(mentorship_id, f"goal:{goal}:due", due_ms)
        return goal

    @_one_transaction
    def check_in(self, mentorship_id: str, progress: str, blockers: str, next_steps: str, now_ms: int) -> None:
        mentorship = self.mentorship(mentorship_id)
        assert mentorship is not None
        other = mentorship.mentor if self.me == mentorship.student else mentorship.student
        entry = {
            "by": self.me,
            "at": now_ms,
            "progress": progress[:2000],
            "blockers": blockers[:2000],
            "next": next_steps[:2000],
        }
        self._send(other, {"op": "checkin", "m": mentorship_id, "checkin": entry})
        self._disclose("activity", mentorship_id, now_ms)

    def _disclose(self, event: str, request_id: str, at_ms: int, **fields: str) -> None:
        """Tell the programme's admins what happened, as metadata only (PROTOCOL.md §3.4)."""
        status = StatusBody(e=event, r=request_id, at=at_ms, **fields)  # type: ignore[arg-type]
        disclose(self.vault, self.messaging.program, self.messaging.clock, status)

    # -- taking in ------------------------------------------------------------------------------------------

    def _take(self, content: dict, author: str) -> None:
        data = self._load()
        op = content.get("op")
        if op in ("ask", "offer") and content.get("student" if op == "ask" else "mentor") == author:
            request = Request(
                content["r"],
                str(content["student"]),
                str(content["mentor"]),
                str(content["text"]),
                [str(g) for g in content.get("goals", [])],
                int(content["at"]),
                by="student" if op == "ask" else "mentor",
            )
            data["requests"].setdefault(request.id, request.__dict__)
        elif op in ("accept", "decline"):
            request = data["requests"].get(content.get("r"))
            if request is None or Request(**request).answerer != author or request["state"] != "pending":
                return
            request["state"] = "accepted" if op == "accept" else "declined"
            request["reason"] = str(content.get("reason", ""))
            if op == "accept":
                mentorship = Mentorship(request["id"], request["student"], request["mentor"])
                mentorship.ops = [
                    {"f": "goals", "v": "\n".join(request["goals"]), "h": 0, "a": request["student"]},
                ]
                mentorship.checkins = data.get("early", {}).pop(request["id"], [])  # a call held before the answer
                data["mentorships"].setdefault(request["id"], mentorship.__dict__)
        elif op == "set":
            mentorship = data["mentorships"].get(content.get("m"))
            change = content.get("set")
            if mentorship is None or not isinstance(change, dict) or change.get("a") != author:
                return
            if author not in (mentorship["student"], mentorship["mentor"]):
                return
            if change not in mentorship["ops"]:
                mentorship["ops"].append({k: change[k] for k in ("f", "v", "h", "a")})
        elif op == "checkin":
            mentorship = data["mentorships"].get(content.get("m"))
            entry = content.get("checkin")
            request = data["requests"].get(content.get("m"))
            if mentorship is None and request is not None and request["state"] == "pending":
                # notes of a meeting held while the request waits (a first call): kept for the plan it may become
                party = author in (request["student"], request["mentor"])
                if party and isinstance(entry, dict) and entry.get("by") == author:
                    early = data.setdefault("early", {}).setdefault(request["id"], [])
                    if entry not in early and len(early) < 20:
                        early.append(entry)
                        self._save(data)
                return
            if mentorship is None or not isinstance(entry, dict) or entry.get("by") != author:
                return
            if entry not in mentorship["checkins"]:
                mentorship["checkins"].append(entry)
        else:
            return
        self._save(data)

    # -- what Home and the admin view need ----------------------------------------------------------------

    def pending_for_me(self, now_ms: int) -> list[Request]:
        return [r for r in self.requests() if r.answerer == self.me and r.status(now_ms) == "pending"]
