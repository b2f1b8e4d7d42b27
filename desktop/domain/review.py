"""The mentor's review queue: one inbox across every mentee, for the few hours a week a mentor gives.

A thread is *awaiting my reply* while it holds messages from others written after my last message there and
not marked reviewed. The queue orders threads by how long the other person has waited (oldest first), hides
snoozed ones until their time comes, and keeps flags. Replying, or marking reviewed, takes a thread out.
Reply templates are the mentor's own, kept sealed in the vault.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from desktop.vault import StoredMessage, Vault

TEMPLATES = "reply-templates"
MAX_TEMPLATES = 50


@dataclass(frozen=True)
class QueueItem:
    thread_id: str
    people: tuple[str, ...]  # the others in the thread
    waiting_since: int  # ms: the oldest message awaiting a reply
    unread: int
    flagged: bool
    snoozed_until: int
    latest: StoredMessage


def _awaiting(messages: list[StoredMessage], me: str) -> list[StoredMessage]:
    last_mine = max((m.sent_at for m in messages if m.author == me), default=-1)
    return [m for m in messages if m.author != me and m.sent_at > last_mine and not m.reviewed]


def review_queue(vault: Vault, me: str, now_ms: int, include_snoozed: bool = False) -> list[QueueItem]:
    items = []
    for thread_id, meta, _updated in vault.threads.all():
        waiting = _awaiting(vault.messages.in_thread(thread_id), me)
        if not waiting:
            continue
        snoozed = max(m.snoozed_until for m in waiting)
        if snoozed > now_ms and not include_snoozed:
            continue
        items.append(
            QueueItem(
                thread_id=thread_id,
                people=tuple(a for a in meta["members"] if a != me),
                waiting_since=waiting[0].sent_at,
                unread=sum(1 for m in waiting if m.state == "received"),
                flagged=any(m.flagged for m in waiting),
                snoozed_until=snoozed,
                latest=waiting[-1],
            )
        )
    return sorted(items, key=lambda item: (not item.flagged, item.waiting_since))


def counts_per_person(items: list[QueueItem]) -> Counter[str]:
    """How many threads await a reply, per mentee."""
    return Counter(person for item in items for person in item.people)


def mark_reviewed(vault: Vault, thread_id: str, me: str) -> None:
    with vault.transaction():  # a thread is reviewed whole, never half
        for message in _awaiting(vault.messages.in_thread(thread_id), me):
            vault.messages.mark(message.id, reviewed=True)


def flag(vault: Vault, thread_id: str, me: str, on: bool = True) -> None:
    with vault.transaction():
        for message in _awaiting(vault.messages.in_thread(thread_id), me):
            vault.messages.mark(message.id, flagged=on)


def snooze(vault: Vault, thread_id: str, me: str, until_ms: int) -> None:
    with vault.transaction():
        for message in _awaiting(vault.messages.in_thread(thread_id), me):
            vault.messages.mark(message.id, snoozed_until=until_ms)


def tomorrow_morning(now: datetime, hour: int = 8) -> datetime:
    """When "snooze" brings a thread back: tomorrow at 08:00 in the mentor's own time zone."""
    local = now.astimezone()
    return (local + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)


def templates(vault: Vault) -> list[dict[str, str]]:
    raw = vault.get_secret(TEMPLATES)
    return json.loads(raw) if raw else []


def save_template(vault: Vault, title: str, text: str) -> None:
    title, text = title.strip()[:80], text.strip()[:5000]
    if not title or not text:
        raise ValueError("a template needs a title and a text")
    current = [t for t in templates(vault) if t["title"] != title]
    if len(current) >= MAX_TEMPLATES:
        raise ValueError(f"at most {MAX_TEMPLATES} templates")
    vault.put_secret(TEMPLATES, json.dumps([*current, {"title": title, "text": text}]).encode())


def delete_template(vault: Vault, title: str) -> None:
    vault.put_secret(TEMPLATES, json.dumps([t for t in templates(vault) if t["title"] != title]).encode())
