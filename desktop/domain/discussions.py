"""Discussions inside circles: topics with threaded replies, a lead's announcements, pinned library items, journal
clubs, editing and deleting one's own posts, unread counts and mute, and a digest for someone back after a while.

Everything is a ``circle-post`` (or, for announcements, ``circle-announce``) event sent through ``Circles.post``:
sealed under the circle's epoch key and signed, so the server carries them without reading them. What a person
has read and muted stays on this device, sealed in the vault (one secret per circle), and never syncs.
The folding of events into topics and threads is ``discussion_fold`` (plain functions).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from desktop.domain import discussion_fold as f
from desktop.domain.discussion_fold import ANNOUNCE, MAX_TEXT, MAX_TITLE, POST, Pin, Post, Topic
from desktop.i18n import _

__all__ = ["MAX_TEXT", "MAX_TITLE", "DigestItem", "DiscussionError", "Discussions", "Pin", "Post", "Topic", "rank"]
BUSY = 5  # the busiest topics the digest lifts above the rest
SNIPPET = 160


class DiscussionError(ValueError):
    """A refusal a person can read: ``code`` for callers ("too-long", "not-lead", "not-author", "empty", ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class CirclesLike(Protocol):
    """What this module uses of ``desktop.domain.circles.Circles`` (spec §1.4)."""

    def post(self, circle_id: str, kind: str, content: dict) -> str: ...
    def events(self, circle_id: str, kind: str, ref: str | None = None) -> list[Any]: ...
    def role(self, circle_id: str, account: str) -> str | None: ...
    def circles(self, kind: str | None = None) -> list[Any]: ...


class SecretStore(Protocol):
    def put_secret(self, name: str, value: bytes) -> None: ...
    def get_secret(self, name: str) -> bytes | None: ...


@dataclass(frozen=True)
class DigestItem:
    reason: str  # "announcement", "reply", "journal", "busy", "other": the order the digest shows them in
    circle: str
    circle_title: str
    topic: str
    title: str
    author: str
    hlc: int  # the newest post it stands for
    count: int  # new posts it stands for
    snippet: str = ""
    at: int | None = None  # a journal club's date


REASONS = ("announcement", "reply", "journal", "busy", "other")


def _snippet(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SNIPPET else line[: SNIPPET - 1] + "…"


def rank(
    circle: str,
    circle_title: str,
    events: list[Any],
    me: str,
    since_ms: int,
    now_ms: int,
    muted: set[str] | None = None,
) -> list[DigestItem]:
    """One circle's digest since ``since_ms``: announcements, replies to me, upcoming journal clubs, the busiest
    topics, then the rest, each group newest (or soonest) first. Muted topics are left out, except announcements
    and replies to me, which a person asked to hear about by writing there."""
    muted = muted or set()
    state = f.fold(circle, events)
    since = since_ms << 16
    mine = {p.id for p in (*state.roots.values(), *state.posts.values()) if p.author == me}
    items: list[DigestItem] = []
    new: dict[str, list[Post]] = {}
    replies: dict[str, list[Post]] = {}  # replies to me, by topic: one line each, the newest shown
    for post in (*state.roots.values(), *state.posts.values()):
        if post.hlc < since or post.author == me or post.deleted or post.topic not in state.roots:
            continue
        meta = state.meta[post.topic]
        if meta["kind"] == "announcement" and post.parent is None:
            items.append(
                DigestItem(
                    "announcement", circle, circle_title, post.topic, meta["title"], post.author, post.hlc, 1,
                    _snippet(post.text),
                )
            )  # fmt: skip
            continue
        if post.parent is not None and post.parent in mine:
            replies.setdefault(post.topic, []).append(post)
            continue
        if post.topic not in muted:
            new.setdefault(post.topic, []).append(post)
    for ref, posts in replies.items():
        newest = max(posts, key=lambda p: p.hlc)
        items.append(
            DigestItem(
                "reply", circle, circle_title, ref, state.meta[ref]["title"], newest.author, newest.hlc, len(posts),
                _snippet(newest.text),
            )
        )  # fmt: skip
    for ref, meta in state.meta.items():
        if meta["kind"] == "journal" and meta["at"] is not None and meta["at"] >= now_ms and ref not in muted:
            root = state.roots[ref]
            if not root.deleted:
                count = len(new.pop(ref, []))
                items.append(
                    DigestItem(
                        "journal", circle, circle_title, ref, meta["title"], root.author, root.hlc, count,
                        _snippet(root.text), meta["at"],
                    )
                )  # fmt: skip
    busy = sorted(new.items(), key=lambda kv: (-len(kv[1]), -max(p.hlc for p in kv[1]), kv[0]))
    for index, (ref, posts) in enumerate(busy):
        newest = max(posts, key=lambda p: p.hlc)
        items.append(
            DigestItem(
                "busy" if index < BUSY and len(posts) > 1 else "other", circle, circle_title, ref,
                state.meta[ref]["title"], newest.author, newest.hlc, len(posts), _snippet(newest.text),
            )
        )  # fmt: skip
    return sort_digest(items)


def sort_digest(items: list[DigestItem]) -> list[DigestItem]:
    def key(item: DigestItem) -> tuple:
        group = REASONS.index(item.reason)
        if item.reason == "journal":
            return (group, item.at or 0, item.topic)
        if item.reason == "busy":
            return (group, -item.count, -item.hlc, item.topic)
        return (group, -item.hlc, item.topic)

    return sorted(items, key=key)


class Discussions:
    """A person's discussions in every circle they belong to (``session.discussions``)."""

    def __init__(self, circles: CirclesLike, vault: SecretStore, me: str, now_ms: Callable[[], int]) -> None:
        self.circles, self.vault, self.me, self.now_ms = circles, vault, me, now_ms

    # -- reading --------------------------------------------------------------------------------------------

    def _events(self, circle: str, ref: str | None = None) -> list[Any]:
        return [*self.circles.events(circle, POST, ref=ref), *self.circles.events(circle, ANNOUNCE, ref=ref)]

    def topics(self, circle: str) -> list[Topic]:
        """Topics, journal clubs and announcements, the most recently active first."""
        return [t for t in f.topics(circle, self._events(circle)) if not t.deleted]

    def announcements(self, circle: str) -> list[Topic]:
        return [t for t in self.topics(circle) if t.kind == "announcement"]

    def journal_clubs(self, circle: str) -> list[Topic]:
        """Journal clubs, the next one first, then past ones (most recent first)."""
        clubs = [t for t in self.topics(circle) if t.kind == "journal"]
        now = self.now_ms()
        upcoming = sorted((t for t in clubs if (t.at or 0) >= now), key=lambda t: t.at or 0)
        past = sorted((t for t in clubs if (t.at or 0) < now), key=lambda t: -(t.at or 0))
        return upcoming + past

    def thread(self, circle: str, topic: str) -> list[Post]:
        """The topic's opening post and its replies, threaded: one indexed query per kind (``ref`` = topic)."""
        return f.thread(topic, self._events(circle, topic))

    def pins(self, circle: str) -> list[Pin]:
        return f.pins(circle, self.circles.events(circle, POST, ref=circle))

    def unread(self, circle: str) -> dict[str, int]:
        """Posts by others not yet read, per topic (muted topics count 0)."""
        state = self._state(circle)
        counts = f.unread(self._events(circle), self.me, state["read"])
        return {t: n for t, n in counts.items() if t not in state["muted"]}

    # -- writing --------------------------------------------------------------------------------------------

    def _check(self, text: str, title: str | None = None) -> None:
        if len(text) > MAX_TEXT:
            raise DiscussionError(
                "too-long",
                _("A post holds at most {limit} characters; this one has {count}. Shorten it or split it.").format(
                    limit=f"{MAX_TEXT:,}", count=f"{len(text):,}"
                ),
            )
        if title is not None and not title.strip():
            raise DiscussionError("empty", _("Give the topic a title."))
        if title is not None and len(title) > MAX_TITLE:
            raise DiscussionError("too-long", _("A title holds at most {limit} characters.").format(limit=MAX_TITLE))

    def start_topic(self, circle: str, title: str, text: str = "") -> str:
        self._check(text, title)
        ref = uuid.uuid4().hex
        self.circles.post(circle, POST, {"ref": ref, "y": "topic", "n": title.strip(), "x": text})
        self.mark_read(circle, ref)
        return ref

    def reply(self, circle: str, topic: str, text: str, parent: str | None = None) -> str:
        if not text.strip():
            raise DiscussionError("empty", _("Write something to reply."))
        self._check(text)
        content = {"ref": topic, "y": "reply", "x": text}
        if parent is not None and parent != topic:
            content["p"] = parent
        post_id = self.circles.post(circle, POST, content)
        self.mark_read(circle, topic)
        return post_id

    def announce(self, circle: str, title: str, text: str) -> str:
        """An announcement: only a lead of the circle may post one; everyone else is refused here (and by every
        other member's client, and by the server)."""
        if self.circles.role(circle, self.me) != "lead":
            raise DiscussionError("not-lead", _("Only a lead of this circle can post announcements."))
        self._check(text, title)
        ref = uuid.uuid4().hex
        self.circles.post(circle, ANNOUNCE, {"ref": ref, "y": "topic", "n": title.strip(), "x": text})
        self.mark_read(circle, ref)
        return ref

    def journal_club(self, circle: str, title: str, lib: str, at_ms: int, text: str = "") -> str:
        """A journal club: a library item, a date, and a topic to discuss it in."""
        self._check(text, title)
        ref = uuid.uuid4().hex
        content = {"ref": ref, "y": "journal", "n": title.strip(), "x": text, "lib": lib, "at": int(at_ms)}
        self.circles.post(circle, POST, content)
        self.mark_read(circle, ref)
        return ref

    def pin(self, circle: str, lib: str, title: str) -> str:
        self._check("", title)
        return self.circles.post(circle, POST, {"ref": circle, "y": "pin", "lib": lib, "n": title.strip()})

    def unpin(self, circle: str, pin_id: str) -> None:
        pin = next((p for p in self.pins(circle) if p.id == pin_id), None)
        if pin is None:
            return
        if pin.author != self.me:
            raise DiscussionError("not-author", _("Only the person who pinned an item can unpin it."))
        self.circles.post(circle, POST, {"ref": circle, "y": "delete", "p": pin_id})

    def _own(self, circle: str, topic: str, post_id: str) -> Post:
        post = next((p for p in self.thread(circle, topic) if p.id == post_id), None)
        if post is None or post.deleted:
            raise DiscussionError("not-found", _("That post is no longer there."))
        if post.author != self.me:
            raise DiscussionError("not-author", _("You can edit or delete only your own posts."))
        return post

    def _kind_of(self, circle: str, topic: str) -> str:
        return ANNOUNCE if self.circles.events(circle, ANNOUNCE, ref=topic) else POST

    def edit(self, circle: str, topic: str, post_id: str, text: str, title: str | None = None) -> None:
        self._own(circle, topic, post_id)
        self._check(text, title)
        content = {"ref": topic, "y": "edit", "p": post_id, "x": text}
        if title is not None and post_id == topic:
            content["n"] = title.strip()
        self.circles.post(circle, self._kind_of(circle, topic) if post_id == topic else POST, content)

    def delete(self, circle: str, topic: str, post_id: str) -> None:
        self._own(circle, topic, post_id)
        kind = self._kind_of(circle, topic) if post_id == topic else POST
        self.circles.post(circle, kind, {"ref": topic, "y": "delete", "p": post_id})

    # -- local state: read marks and mute, sealed in the vault, never synced ------------------------------------

    def _state(self, circle: str) -> dict:
        raw = self.vault.get_secret(f"discuss:{circle}")
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = {}
        read = doc.get("read") if isinstance(doc.get("read"), dict) else {}
        muted = doc.get("muted") if isinstance(doc.get("muted"), list) else []
        return {"read": {k: v for k, v in read.items() if isinstance(v, int)}, "muted": set(muted)}

    def _save(self, circle: str, state: dict) -> None:
        doc = {"read": state["read"], "muted": sorted(state["muted"])}
        self.vault.put_secret(f"discuss:{circle}", json.dumps(doc).encode())

    def mark_read(self, circle: str, topic: str) -> None:
        """Everything in ``topic`` now on this device counts as read."""
        events = self.circles.events(circle, POST, ref=topic) + self.circles.events(circle, ANNOUNCE, ref=topic)
        newest = max((e.hlc for e in events), default=0)
        state = self._state(circle)
        if newest > state["read"].get(topic, 0):
            state["read"][topic] = newest
            self._save(circle, state)

    def mute(self, circle: str, topic: str, on: bool = True) -> None:
        state = self._state(circle)
        (state["muted"].add if on else state["muted"].discard)(topic)
        self._save(circle, state)

    def muted(self, circle: str) -> set[str]:
        return set(self._state(circle)["muted"])

    # -- digest ---------------------------------------------------------------------------------------------

    def digest(self, since_ms: int) -> list[DigestItem]:
        """What happened in every circle since ``since_ms``, what matters first (see ``rank``)."""
        items: list[DigestItem] = []
        now = self.now_ms()
        for circle in self.circles.circles():
            events = self._events(circle.id)
            items += rank(circle.id, circle.title, events, self.me, since_ms, now, self.muted(circle.id))
        return sort_digest(items)
