"""Discussions folded from plain circle events: threads, edits by their author only, unread counts, digest order."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.domain import discussion_fold as f
from desktop.domain.discussions import rank

CIRCLE = "c" * 32
T1, T2, T3, ANN, JC = ("1" * 32, "2" * 32, "3" * 32, "a" * 32, "b" * 32)
DAY = 86_400_000


@dataclass(frozen=True)
class Ev:  # the fields of circles.CircleEvent the fold reads
    id: str
    kind: str
    author: str
    hlc: int
    content: dict
    role: str | None = "member"


def at(day: float, n: int = 0) -> int:
    return (int(day * DAY) << 16) + n


def post(id, author, day, content, kind=f.POST, role="member"):
    return Ev(id, kind, author, at(day), content, role)


def test_replies_are_threaded_depth_first_in_time_order() -> None:
    events = [
        post("r2", "bob", 3, {"ref": T1, "y": "reply", "x": "second"}),
        post("t", "ann", 1, {"ref": T1, "y": "topic", "n": "Sepsis", "x": "what do you read?"}),
        post("r1", "bob", 2, {"ref": T1, "y": "reply", "x": "first"}),
        post("r1a", "cy", 4, {"ref": T1, "y": "reply", "x": "answer to first", "p": "r1"}),
        post("lost", "cy", 5, {"ref": T1, "y": "reply", "x": "parent not here yet", "p": "zz"}),
    ]
    posts = f.thread(T1, events)
    assert [(p.id, p.depth) for p in posts] == [(T1, 0), ("r1", 1), ("r1a", 2), ("r2", 1), ("lost", 1)]


def test_edit_and_delete_apply_to_the_authors_own_posts_only() -> None:
    events = [
        post("t", "ann", 1, {"ref": T1, "y": "topic", "n": "Sepsis", "x": "x"}),
        post("r1", "bob", 2, {"ref": T1, "y": "reply", "x": "typo"}),
        post("e1", "bob", 3, {"ref": T1, "y": "edit", "p": "r1", "x": "fixed"}),
        post("e2", "cy", 4, {"ref": T1, "y": "edit", "p": "r1", "x": "cy rewrites bob"}),
        post("d1", "cy", 5, {"ref": T1, "y": "delete", "p": T1}),
        post("d2", "ann", 6, {"ref": T1, "y": "edit", "p": T1, "x": "y", "n": "Sepsis bundles"}),
    ]
    posts = {p.id: p for p in f.thread(T1, events)}
    assert posts["r1"].text == "fixed" and posts["r1"].edited
    assert not posts[T1].deleted and posts[T1].text == "y"
    assert f.topics(CIRCLE, events)[0].title == "Sepsis bundles"


def test_oversized_text_and_a_members_announcement_never_show() -> None:
    events = [
        post("t", "ann", 1, {"ref": T1, "y": "topic", "n": "Long", "x": "x" * (f.MAX_TEXT + 1)}),
        post("a", "bob", 1, {"ref": ANN, "n": "Fake news", "x": "hi"}, kind=f.ANNOUNCE, role="member"),
        post("b", "ann", 2, {"ref": T2, "n": "Real", "x": "hi"}, kind=f.ANNOUNCE, role="lead"),
    ]
    assert [(t.id, t.kind) for t in f.topics(CIRCLE, events)] == [(T2, "announcement")]


def test_unread_counts_others_posts_after_the_read_mark() -> None:
    events = [
        post("t", "ann", 1, {"ref": T1, "y": "topic", "n": "Sepsis", "x": ""}),
        post("r1", "bob", 2, {"ref": T1, "y": "reply", "x": "a"}),
        post("r2", "me", 3, {"ref": T1, "y": "reply", "x": "b"}),
        post("r3", "bob", 4, {"ref": T1, "y": "reply", "x": "c"}),
    ]
    early = post("r0", "bob", 5, {"ref": T2, "y": "reply", "x": "its topic is still on the way"})
    assert f.unread([*events, early], "me", {}) == {T1: 3}
    assert f.unread(events, "me", {T1: at(3)}) == {T1: 1}


def test_digest_puts_announcements_then_replies_to_me_then_journal_clubs_then_busy_topics() -> None:
    events = [
        post("t1", "me", 1, {"ref": T1, "y": "topic", "n": "My question", "x": ""}),
        post("t2", "bob", 1, {"ref": T2, "y": "topic", "n": "Busy", "x": ""}),
        post("t3", "bob", 1, {"ref": T3, "y": "topic", "n": "Quiet", "x": ""}),
        post("old", "bob", 2, {"ref": T2, "y": "reply", "x": "before I left"}),
        *[post(f"b{i}", "cy", 20 + i / 100, {"ref": T2, "y": "reply", "x": f"busy {i}"}) for i in range(5)],
        post("q", "cy", 21, {"ref": T3, "y": "reply", "x": "quiet"}),
        post("r", "bob", 22, {"ref": T1, "y": "reply", "x": "answer to you"}),
        post("r2", "cy", 23, {"ref": T1, "y": "reply", "x": "and another"}),
        post("j", "cy", 15, {"ref": JC, "y": "journal", "n": "RCT club", "x": "", "lib": "m1", "at": 30 * DAY}),
        post("ann", "lead", 16, {"ref": ANN, "n": "Exams", "x": "dates"}, kind=f.ANNOUNCE, role="lead"),
    ]
    items = rank(CIRCLE, "Circle", events, "me", since_ms=14 * DAY, now_ms=25 * DAY)
    assert [(i.reason, i.topic) for i in items] == [
        ("announcement", ANN),
        ("reply", T1),
        ("journal", JC),
        ("busy", T2),
        ("other", T3),
    ]
    assert items[3].count == 5  # the post from before the person left is not news
    assert (items[1].count, items[1].author, items[1].snippet) == (2, "cy", "and another"), "one line a topic"
    muted = rank(CIRCLE, "Circle", events, "me", 14 * DAY, 25 * DAY, muted={T2, T3})
    assert [i.reason for i in muted] == ["announcement", "reply", "journal"]
