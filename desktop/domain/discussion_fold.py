"""Discussions folded from a circle's events: plain functions over ``CircleEvent`` data, no vault, no network.

A circle's discussion is a list of signed, sealed events (``circle-post``, and ``circle-announce`` for a lead's
announcements), each a small dict with short keys (spec: ``ref`` the topic, ``y`` the type). Folding them gives
topics, a topic's replies as a tree, the pinned library items and the journal clubs. Edits and deletes apply only
to the author's own post; an event that breaks the rules (too long, wrong type, an announcement from a non-lead
that slipped past the roster check) is ignored here, so a forged or damaged record never shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

MAX_TEXT = 8_000  # characters of a post's text
MAX_TITLE = 200  # characters of a topic's title
MAX_DEPTH = 6  # replies deeper than this are shown at this depth (a narrow screen still reads them)
ROOT_TYPES = ("topic", "journal")  # circle-post types that open a topic
ANNOUNCE = "circle-announce"
POST = "circle-post"


class Event(Protocol):
    """The fields of ``desktop.domain.circles.CircleEvent`` this module reads."""

    id: str
    kind: str
    author: str
    hlc: int
    content: dict
    role: str | None


@dataclass(frozen=True)
class Post:
    id: str  # the event id; a topic's opening post has the topic id
    topic: str
    parent: str | None  # None for the opening post
    author: str
    role: str | None
    hlc: int
    text: str
    edited: bool = False
    deleted: bool = False
    depth: int = 0


@dataclass(frozen=True)
class Topic:
    id: str
    circle: str
    kind: str  # "topic", "journal" or "announcement"
    title: str
    text: str
    author: str
    hlc: int  # when it was opened
    last: int  # the latest post in it
    replies: int
    lib: str | None = None  # a journal club's library item
    at: int | None = None  # a journal club's date (ms)
    deleted: bool = False


@dataclass(frozen=True)
class Pin:
    id: str
    circle: str
    lib: str
    title: str
    author: str
    hlc: int


@dataclass
class _Fold:
    roots: dict[str, Post] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)  # replies by id
    meta: dict[str, dict] = field(default_factory=dict)  # topic id → kind, title, lib, at
    pins: dict[str, Pin] = field(default_factory=dict)


def ms(hlc: int) -> int:
    """The wall-clock milliseconds of a hybrid logical clock value."""
    return hlc >> 16


def _text(value: object, limit: int = MAX_TEXT) -> str | None:
    return value if isinstance(value, str) and len(value) <= limit else None


def _hex32(value: object) -> bool:
    return isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def fold(circle: str, events: Iterable[Event]) -> _Fold:
    """Every valid event of one circle, in hlc order, applied once."""
    state = _Fold()
    later: list[Event] = []
    for event in sorted(events, key=lambda e: (e.hlc, e.id)):
        c = event.content if isinstance(event.content, dict) else {}
        ref, kind = c.get("ref"), c.get("y")
        if event.kind == ANNOUNCE and event.role not in (None, "lead"):
            continue  # only a lead announces; the roster check upstream should already have dropped it
        if event.kind == ANNOUNCE and kind in (None, "topic") and _hex32(ref):
            kind = "announcement"
        if kind in (*ROOT_TYPES, "announcement") and _hex32(ref) and ref not in state.roots:
            title, text = _text(c.get("n", ""), MAX_TITLE), _text(c.get("x", ""))
            if title is None or text is None:
                continue
            state.roots[ref] = Post(ref, ref, None, event.author, event.role, event.hlc, text)
            at = c.get("at")
            lib = c.get("lib")
            state.meta[ref] = {
                "kind": kind,
                "title": title,
                "lib": lib if isinstance(lib, str) else None,
                "at": at if isinstance(at, int) and kind == "journal" else None,
            }
        elif kind == "reply" and isinstance(ref, str):
            text, parent = _text(c.get("x")), c.get("p")
            if text is None:
                continue
            parent = parent if isinstance(parent, str) else ref
            state.posts[event.id] = Post(event.id, ref, parent, event.author, event.role, event.hlc, text)
        elif kind == "pin":
            lib, title = c.get("lib"), _text(c.get("n", ""), MAX_TITLE)
            if isinstance(lib, str) and title is not None:
                state.pins[event.id] = Pin(event.id, circle, lib, title, event.author, event.hlc)
        elif kind in ("edit", "delete"):
            later.append(event)
    for event in later:  # after every post is known: an edit may arrive before the post it edits sorts
        _change(state, event)
    return state


def _change(state: _Fold, event: Event) -> None:
    c = event.content
    target = c.get("p")
    if not isinstance(target, str):
        return
    if target in state.pins and c.get("y") == "delete":
        if state.pins[target].author == event.author:
            del state.pins[target]
        return
    table = state.roots if target in state.roots else state.posts
    post = table.get(target)
    if post is None or post.author != event.author:  # one's own posts only
        return
    if c.get("y") == "delete":
        table[target] = replace(post, text="", deleted=True)
        return
    text = _text(c.get("x"))
    if text is not None and not post.deleted:
        table[target] = replace(post, text=text, edited=True)
        title = _text(c.get("n"), MAX_TITLE)
        if title and target in state.meta:
            state.meta[target]["title"] = title


def topics(circle: str, events: Iterable[Event]) -> list[Topic]:
    """The circle's topics (journal clubs and announcements included), the most recently active first."""
    state = fold(circle, events)
    counts: dict[str, int] = {}
    last: dict[str, int] = {}
    for post in state.posts.values():
        if post.topic in state.roots and not post.deleted:
            counts[post.topic] = counts.get(post.topic, 0) + 1
            last[post.topic] = max(last.get(post.topic, 0), post.hlc)
    found = []
    for ref, root in state.roots.items():
        meta = state.meta[ref]
        found.append(
            Topic(
                ref,
                circle,
                meta["kind"],
                meta["title"],
                root.text,
                root.author,
                root.hlc,
                max(root.hlc, last.get(ref, 0)),
                counts.get(ref, 0),
                meta["lib"],
                meta["at"],
                root.deleted,
            )
        )
    return sorted(found, key=lambda t: (-t.last, t.id))


def pins(circle: str, events: Iterable[Event]) -> list[Pin]:
    return sorted(fold(circle, events).pins.values(), key=lambda p: (-p.hlc, p.id))


def thread(topic: str, events: Iterable[Event]) -> list[Post]:
    """A topic's opening post then its replies depth first, each branch in hlc order, with ``depth`` set. A reply
    whose parent is unknown (not arrived yet, or another topic's) hangs from the opening post."""
    state = fold("", events)
    children: dict[str, list[Post]] = {}
    for post in state.posts.values():
        if post.topic != topic:
            continue
        parent = post.parent if post.parent in state.posts or post.parent == topic else topic
        if parent != topic and state.posts[parent].topic != topic:
            parent = topic
        children.setdefault(parent, []).append(post)
    out: list[Post] = []
    root = state.roots.get(topic)
    if root is not None:
        out.append(root)
    stack = [(p, 1) for p in reversed(sorted(children.get(topic, []), key=lambda p: (p.hlc, p.id)))]
    while stack:
        post, depth = stack.pop()
        out.append(replace(post, depth=min(depth, MAX_DEPTH)))
        stack.extend((p, depth + 1) for p in reversed(sorted(children.get(post.id, []), key=lambda p: (p.hlc, p.id))))
    return out


def unread(events: Iterable[Event], me: str, read: dict[str, int]) -> dict[str, int]:
    """Per topic: posts by others (opening post included) later than the hlc the person last read it at."""
    state = fold("", events)
    counts: dict[str, int] = {}
    for post in (*state.roots.values(), *state.posts.values()):
        if post.topic not in state.roots:  # a reply whose topic has not arrived yet: counted once it has
            continue
        if post.author != me and not post.deleted and post.hlc > read.get(post.topic, 0):
            counts[post.topic] = counts.get(post.topic, 0) + 1
    return counts
