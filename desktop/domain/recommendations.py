"""Recommendations (PROTOCOL.md §9.4, §11.7): a mentor recommends a library item to a mentee, or to a circle.

To a mentee: a sealed ``recommend`` record in the pair's direct thread (op ``rec``: the item, its version and title,
a note, a "by" date). It becomes a goal of their mentorship plan, "Read <title> by <date>", whose id is derived
from the recommendation's id, so the mentor's device and the mentee's (and any of their other devices) all write
the same goal and converge. The goal's progress is the mentee's reading progress: the mentee's device reports it
back to the mentor in a small sealed update (op ``progress``) when it moved by 10 % or more since the last report,
or reached the end, and ticks the goal done at the end. A recommendation that arrives before the plan exists (an
offer not yet accepted) waits, and becomes a goal once the plan does.

To a circle: a sealed ``circle-post`` of type ``recommend`` (ref ``recommend``), shown in the circle and in every
member's Library.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import msgpack

from desktop.domain.mentorship import Mentorships
from desktop.formatting import format_date
from desktop.i18n import _
from desktop.vault import Vault

KIND = "recommend"  # the sealed record kind in a direct thread
CIRCLE_REF = "recommend"  # the ref of every circle recommendation: one indexed query per circle
STORE = "recommendations"
STEP = 0.10  # a reading progress change worth telling the mentor about
MAX_NOTE = 2_000
MAX_TITLE = 200


class RecommendError(ValueError):
    """A refusal a person can read; ``code`` for callers."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ItemLike(Protocol):
    """What a recommendation needs of ``desktop.domain.library.LibraryItem``."""

    item: str
    version: int
    title: str


@dataclass(frozen=True)
class ItemRef:
    item: str
    version: int
    title: str


@dataclass(frozen=True)
class Recommendation:
    id: str
    mentor: str
    mentee: str  # an account, or "" for a circle's
    circle: str  # "" for a mentee's
    item: str
    version: int
    title: str
    note: str
    by: int  # ms, 0 when no date
    at: int  # ms it was made
    goal: str  # the plan goal's id ("" for a circle's)
    mentorship: str  # the plan it is a goal of ("" until one exists, or for a circle's)
    progress: float  # the mentee's reading progress: live on the mentee's device, the last report on the mentor's


def goal_id(recommendation: str) -> str:
    """The plan goal a recommendation becomes: the same on every device that writes it."""
    return hashlib.sha256(f"osler recommend goal\0{recommendation}".encode()).hexdigest()[:12]


def goal_title(title: str, by_ms: int, date_of: Callable[[int], str]) -> str:
    return (
        _("Read {title} by {date}").format(title=title, date=date_of(by_ms))
        if by_ms
        else _("Read {title}").format(title=title)
    )


def _default_date(ms: int) -> str:
    """A date in the person's locale (what the goal's title says)."""
    return format_date(dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date())


def _clean(text: object, limit: int) -> str | None:
    return text.strip() if isinstance(text, str) and len(text.strip()) <= limit else None


def _valid_rec(content: dict) -> dict | None:
    """The fields of a ``rec`` op, or None when it breaks a rule (ignored, never shown)."""
    rid, item, version = content.get("r"), content.get("item"), content.get("v")
    title, note = _clean(content.get("n"), MAX_TITLE), _clean(content.get("x", ""), MAX_NOTE)
    by, at = content.get("by", 0), content.get("at", 0)
    if not (isinstance(rid, str) and 1 <= len(rid) <= 64 and isinstance(item, str) and 1 <= len(item) <= 64):
        return None
    if not isinstance(version, int) or isinstance(version, bool) or version < 0 or not title or note is None:
        return None
    if not isinstance(by, int) or not isinstance(at, int) or by < 0 or at < 0:
        return None
    return {"id": rid, "item": item, "version": version, "title": title, "note": note, "by": by, "at": at}


class Recommendations:
    """This person's recommendations, made and received (``session.recommendations``)."""

    def __init__(
        self,
        vault: Vault,
        mentorships: Mentorships,
        circles: Any = None,
        progress_of: Callable[[str], float] | None = None,
        date_of: Callable[[int], str] = _default_date,
    ) -> None:
        self.vault, self.mentorships, self.circles = vault, mentorships, circles
        self.messaging = mentorships.messaging
        self.me = mentorships.me
        self.progress_of = progress_of or (lambda _item: 0.0)  # the reader's reading.progress, by item id
        self.date_of = date_of
        self.messaging.handlers[KIND] = self._take

    # -- storage: {"made": {id: rec}, "got": {id: rec}, "reported": {id: float}, "seen": {id: float}} -------

    def _load(self) -> dict:
        raw = self.vault.get_secret(STORE)
        data = msgpack.unpackb(raw, raw=False) if raw else {}
        for part in ("made", "got", "reported", "seen"):
            data.setdefault(part, {})
        return data

    def _save(self, data: dict) -> None:
        self.vault.put_secret(STORE, msgpack.packb(data, use_bin_type=True))

    # -- a mentor recommends --------------------------------------------------------------------------------

    def _plan_with(self, mentee: str) -> str:
        plans = [m for m in self.mentorships.mentorships() if m.mentor == self.me and m.student == mentee]
        return plans[0].id if plans else ""

    def recommend(self, mentee: str, item: ItemLike, note: str = "", by_ms: int = 0) -> str:
        """Recommend ``item`` to ``mentee``: sealed in the pair's direct thread; the plan goal "Read … by …" is
        written at once when the two have a mentorship (else once they do). Works offline. Returns the id."""
        note = note.strip()
        if len(note) > MAX_NOTE:
            raise RecommendError(
                "too-long", _("A note holds at most {limit} characters.").format(limit=f"{MAX_NOTE:,}")
            )
        if mentee == self.me:
            raise RecommendError("self", _("Recommend an item to someone else."))
        now = self.mentorships.now_ms()
        if by_ms and by_ms < now:
            raise RecommendError("past", _("Choose a date that is still to come."))
        rid = hashlib.sha256(f"{self.me}\0{mentee}\0{item.item}\0{self.messaging.clock.now()}".encode()).hexdigest()
        rid = rid[:32]
        content = {
            "op": "rec",
            "r": rid,
            "item": item.item,
            "v": int(item.version),
            "n": item.title.strip()[:MAX_TITLE],
            "x": note,
            "by": int(by_ms),
            "at": now,
        }
        with self.vault.transaction():
            thread = self.messaging.start_direct(mentee)
            self.messaging._sealed_record(thread, KIND, content)
            data = self._load()
            rec = _valid_rec(content)
            assert rec is not None
            data["made"][rid] = {**rec, "to": mentee, "p": 0.0}
            self._save(data)
            self._make_goal(data["made"][rid], self._plan_with(mentee))
        return rid

    def _make_goal(self, rec: dict, plan_id: str) -> None:
        """Write the recommendation's goal into the plan unless it is there (idempotent across devices)."""
        if not plan_id:
            return
        plan = self.mentorships.mentorship(plan_id)
        goal = goal_id(rec["id"])
        if plan is None or plan.value(f"goal:{goal}:title"):
            return
        self.mentorships.set(plan_id, f"goal:{goal}:title", goal_title(rec["title"], rec["by"], self.date_of)[:200])
        if rec["by"]:
            self.mentorships.set(plan_id, f"goal:{goal}:due", rec["by"])

    # -- taking in (both sides) -----------------------------------------------------------------------------

    def _take(self, content: dict, author: str) -> None:
        op = content.get("op")
        data = self._load()
        if op == "rec" and author != self.me:
            rec = _valid_rec(content)
            if rec is None or rec["id"] in data["got"]:
                return
            data["got"][rec["id"]] = {**rec, "from": author}
        elif op == "rec":  # my own, from another of my devices
            rec = _valid_rec(content)
            if rec is None or rec["id"] in data["made"]:
                return
            data["made"][rec["id"]] = {**rec, "to": "", "p": 0.0}
        elif op == "progress":
            rid, p = content.get("r"), content.get("p")
            if author == self.me and isinstance(rid, str) and rid in data["got"] and isinstance(p, int | float):
                data["reported"][rid] = max(data["reported"].get(rid, 0.0), float(p))  # my other device told
                self._save(data)
                return
            made = data["made"].get(rid) if isinstance(rid, str) else None
            if made is None or not isinstance(p, int | float) or isinstance(p, bool) or not math.isfinite(p):
                return
            mentee = made.get("to") or ""
            if mentee and author != mentee:
                return  # only the mentee reports their reading
            made["p"] = max(0.0, min(1.0, float(p)))
        else:
            return
        self._save(data)

    def settle(self) -> int:
        """On the mentee's device: recommendations whose plan now exists become its goals (an offer accepted
        after the recommendation came). Returns how many goals were written."""
        data, written = self._load(), 0
        plans = {(m.mentor, m.student): m for m in self.mentorships.mentorships()}
        for rec in data["got"].values():
            plan = plans.get((rec["from"], self.me))
            if plan is not None and not plan.value(f"goal:{goal_id(rec['id'])}:title"):
                with self.vault.transaction():
                    self._make_goal(rec, plan.id)
                written += 1
        return written

    def report(self) -> int:
        """On the mentee's device, after reading or a sync: tell each recommending mentor how far the reading got,
        when it moved by ``STEP`` or more since the last report, or reached the end (then the goal is ticked
        done too). Returns how many updates were queued."""
        data, sent = self._load(), 0
        plans = {(m.mentor, m.student): m for m in self.mentorships.mentorships()}
        for rid, rec in data["got"].items():
            progress = max(0.0, min(1.0, float(self.progress_of(rec["item"]))))
            last = data["reported"].get(rid, 0.0)
            done = progress >= 1.0 and last < 1.0
            if not done and progress - last < STEP - 1e-9:
                continue
            with self.vault.transaction():
                thread = self.messaging.start_direct(rec["from"])
                self.messaging._sealed_record(thread, KIND, {"op": "progress", "r": rid, "p": round(progress, 3)})
                data["reported"][rid] = progress
                self._save(data)
                plan = plans.get((rec["from"], self.me))
                goal = goal_id(rid)
                ticked = plan is not None and plan.value(f"goal:{goal}:done", False)
                if done and plan is not None and plan.value(f"goal:{goal}:title") and not ticked:
                    self.mentorships.set(plan.id, f"goal:{goal}:done", True)
            sent += 1
        return sent

    # -- reading ------------------------------------------------------------------------------------------

    def _as(self, rec: dict, mentor: str, mentee: str, progress: float) -> Recommendation:
        plans = {(m.mentor, m.student): m.id for m in self.mentorships.mentorships()}
        plan = plans.get((mentor, mentee), "")
        return Recommendation(
            rec["id"], mentor, mentee, "", rec["item"], rec["version"], rec["title"], rec["note"], rec["by"],
            rec["at"], goal_id(rec["id"]), plan, progress,
        )  # fmt: skip

    def made(self) -> list[Recommendation]:
        """What this person recommended to mentees, with each mentee's last reported progress; newest first."""
        data = self._load()
        out = [self._as(r, self.me, r.get("to", ""), float(r.get("p", 0.0))) for r in data["made"].values()]
        return sorted(out, key=lambda r: (-r.at, r.id))

    def received(self) -> list[Recommendation]:
        """What mentors recommended to this person, with the reading progress on this device; newest first."""
        data = self._load()
        out = [
            self._as(r, r["from"], self.me, max(0.0, min(1.0, float(self.progress_of(r["item"])))))
            for r in data["got"].values()
        ]
        return sorted(out, key=lambda r: (-r.at, r.id))

    def reading_goals(self, mentorship_id: str) -> dict[str, Recommendation]:
        """The plan's goals that are recommendations, by goal id: what the plan panel draws a progress bar for."""
        return {r.goal: r for r in (*self.made(), *self.received()) if r.mentorship == mentorship_id}

    # -- circles ------------------------------------------------------------------------------------------

    def recommend_to_circle(self, circle: str, item: ItemLike, note: str = "") -> str:
        """A sealed ``circle-post`` of type ``recommend``: every member sees it in the circle and in their Library."""
        if self.circles is None:
            raise RecommendError("no-circles", _("Circles are not available on this device."))
        note = note.strip()
        if len(note) > MAX_NOTE:
            raise RecommendError(
                "too-long", _("A note holds at most {limit} characters.").format(limit=f"{MAX_NOTE:,}")
            )
        if self.circles.role(circle, self.me) not in ("lead", "mentor"):
            raise RecommendError("not-mentor", _("Only a lead or a mentor of this circle can recommend to it."))
        content = {
            "ref": CIRCLE_REF,
            "y": "recommend",
            "lib": item.item,
            "v": int(item.version),
            "n": item.title.strip()[:MAX_TITLE],
            "x": note,
        }
        return self.circles.post(circle, "circle-post", content)

    def in_circle(self, circle: str) -> list[Recommendation]:
        """A circle's recommendations, newest first: from authors who were its leads or mentors when they came."""
        if self.circles is None:
            return []
        out = []
        for event in self.circles.events(circle, "circle-post", ref=CIRCLE_REF):
            c = event.content if isinstance(event.content, dict) else {}
            if c.get("y") != "recommend" or event.role not in ("lead", "mentor"):
                continue
            rec = _valid_rec({"r": event.id, "item": c.get("lib"), "v": c.get("v"), "n": c.get("n"), "x": c.get("x")})
            if rec is None:
                continue
            at = event.hlc >> 16
            out.append(
                Recommendation(
                    event.id, event.author, "", circle, rec["item"], rec["version"], rec["title"], rec["note"], 0,
                    at, "", "", max(0.0, min(1.0, float(self.progress_of(rec["item"])))),
                )
            )  # fmt: skip
        return sorted(out, key=lambda r: (-r.at, r.id))

    def for_library(self) -> list[Recommendation]:
        """Everything recommended to this person, directly or in any of their circles: what the Library shows."""
        out = list(self.received())
        if self.circles is not None:
            for circle in self.circles.circles():
                out += [r for r in self.in_circle(circle.id) if r.mentor != self.me]
        return sorted(out, key=lambda r: (-r.at, r.id))
