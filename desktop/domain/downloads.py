"""The download manager (``session.downloads``): library files fetched one at a time on a thread of their own while
the person does other things, from a queue sealed in the vault that a restart picks up where it stopped.

The queue is in priority order (``move`` up or down; the first runnable entry is fetched, and an entry moved
above the one in progress takes over at the next chunk's end). ``pause``/``resume`` keep every whole chunk;
``cancel`` drops the entry and its chunks. Progress is in bytes (``Entry.done``). Each file moves as one
streamed ``GET`` with ``Range`` (download_fetch.py): the link stays full, every chunk is checked against the
item's part list as it arrives, and after a cut only the chunk in progress is fetched again.

Two gates hold an entry back, each said in the panel:
- **Data saver**: an entry whose bytes still to fetch would take this month's count past the budget
  (``Settings.may_download``: used + still to fetch > budget; exactly at the budget is within it) waits as
  ``OVER_BUDGET`` ("Waiting: over your data budget") until ``download_anyway``. Checked again whenever the
  manager looks for work, so a raised budget or a new month lets it go by itself.
- **Only on an unmetered connection** (per entry): it waits unless the OS says the connection is not metered
  (``network()`` → "unmetered"); "metered" and "unknown" (the OS backend cannot tell) both hold it, and the
  panel says which.
After a cut or with the server out of reach, the manager tries again after ``retry_s`` or at ``wake()`` (the
session wakes it after every good sync).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from desktop.domain.download_fetch import DamagedCopy, Fetcher, FetchStats, Target, chunk_length, missing_bytes
from desktop.vault.errors import VaultError, VaultLocked
from sync.client.errors import SyncError
from sync.clock import SYSTEM, Clock, utcnow

if TYPE_CHECKING:
    from desktop.domain.settings import SettingsStore
    from desktop.vault.store import Vault

log = logging.getLogger(__name__)
QUEUE_SECRET = "downloads"  # noqa: S105 - the vault entry's name, not a secret

QUEUED, PAUSED, OVER_BUDGET, DONE, FAILED = "queued", "paused", "over-budget", "done", "failed"
# why a queued entry is not moving (not stored: worked out when the manager looks)
WAIT_UNMETERED, WAIT_UNKNOWN_METERED, WAIT_OFFLINE = "unmetered", "unknown-metered", "offline"


@dataclass(frozen=True)
class Entry:
    sha256: str
    size: int
    parts: str
    title: str
    mime: str
    item: str  # the library item's id (a record or message id)
    state: str = QUEUED
    anyway: bool = False  # "Download anyway": past the data budget by the person's choice
    unmetered_only: bool = False
    error: str = ""  # FAILED: "damaged" (the server's copy) or "error"
    done: int = 0  # bytes of the file held (not stored: counted from the vault)
    waiting: str = ""  # WAIT_*: why a queued entry does not move now

    @property
    def target(self) -> Target:
        return Target(self.sha256, self.size, self.parts, self.title, self.mime)


class Downloads:
    def __init__(
        self,
        vault: Vault,
        transport: Any,
        authorized: Callable[[Callable[[Any], Any]], Any],
        settings: SettingsStore,
        *,
        clock: Clock = SYSTEM,
        count_usage: Callable[[], None] = lambda: None,
        network: Callable[[], str] = lambda: "unknown",
        on_change: Callable[[], None] | None = None,
        retry_s: float = 30.0,
    ) -> None:
        self.vault, self.settings, self.clock = vault, settings, clock
        self.count_usage, self.network, self.on_change, self.retry_s = count_usage, network, on_change, retry_s
        self.stats = FetchStats()
        self.fetcher = Fetcher(vault, transport, authorized, self.stats)
        self._cond = threading.Condition(threading.RLock())
        self._entries: list[Entry] | None = None  # loaded lazily: the vault may be locked at construction
        self._current: str | None = None
        self._stop_current = False
        self._offline = False
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._generation = 0  # bumped by every change to the queue
        self._fetch_lock = threading.Lock()  # one fetch at a time, the thread's or fetch_now's

    # -- the queue -------------------------------------------------------------------------------------------

    def _load(self) -> list[Entry]:
        if self._entries is None:
            raw = self.vault.get_secret(QUEUE_SECRET)
            entries = []
            for doc in json.loads(raw) if raw else []:
                try:
                    entries.append(Entry(**{k: v for k, v in doc.items() if k in Entry.__dataclass_fields__}))
                except TypeError:
                    log.warning("a download entry was unreadable and was dropped")
            self._entries = entries
        return self._entries

    def _save(self) -> None:
        docs = [{k: v for k, v in asdict(e).items() if k not in ("done", "waiting")} for e in self._entries or []]
        self.vault.put_secret(QUEUE_SECRET, json.dumps(docs).encode())

    def _changed(self, save: bool = True) -> None:
        self._generation += 1  # the thread looks at the queue again at the next chunk's end
        if save:
            self._save()
        self._cond.notify_all()
        if self.on_change is not None:
            self.on_change()

    def _replace(self, sha: str, **fields: Any) -> Entry | None:
        entries = self._load()
        for i, entry in enumerate(entries):
            if entry.sha256 == sha:
                entries[i] = replace(entry, **fields)
                return entries[i]
        return None

    def entries(self) -> list[Entry]:
        """The queue in priority order, each with its bytes held and why it waits."""
        with self._cond:
            entries = list(self._load())
            current = self._current
        out = []
        for entry in entries:
            done = entry.size if entry.state == DONE else entry.size - self._missing_file_bytes(entry)
            waiting = entry.waiting if entry.state == QUEUED and entry.sha256 != current else ""
            out.append(replace(entry, done=done, waiting=waiting))
        return out

    def current(self) -> str | None:
        """The file moving now (its sha256), if any."""
        return self._current

    def waiting_count(self) -> int:
        """Entries not yet finished (queued, paused, over the budget): "2 downloads waiting"."""
        with self._cond:
            return sum(1 for e in self._load() if e.state in (QUEUED, PAUSED, OVER_BUDGET))

    def _missing_file_bytes(self, entry: Entry) -> int:
        info = self.vault.blobs.info(entry.sha256)
        if info is None:
            return entry.size
        return sum(chunk_length(entry.size, i) for i in self.vault.blobs.missing_chunks(entry.sha256))

    def enqueue(self, item: Any, *, unmetered_only: bool = False, anyway: bool = False, first: bool = False) -> Entry:
        """Queue a library item (anything with the catalogue entry's fields: sha256, size, title; parts, mime
        and id when known). Queued again, it keeps its place; a failed or paused one is queued again."""
        entry = Entry(
            sha256=item.sha256,
            size=item.size,
            parts=getattr(item, "parts", "") or "",
            title=item.title,
            mime=getattr(item, "mime", "") or "",
            item=getattr(item, "id", ""),
            unmetered_only=unmetered_only,
            anyway=anyway,
        )
        with self._cond:
            entries = self._load()
            existing = next((e for e in entries if e.sha256 == entry.sha256), None)
            if existing is not None:
                if existing.state in (FAILED, PAUSED) or (anyway and existing.state == OVER_BUDGET):
                    entry = self._replace(existing.sha256, state=QUEUED, error="", anyway=existing.anyway or anyway)
                else:
                    entry = self._replace(existing.sha256, anyway=existing.anyway or anyway)
            elif first:
                entries.insert(0, entry)
            else:
                entries.append(entry)
            self._changed()
        return entry  # type: ignore[return-value]

    def pause(self, sha: str) -> None:
        self._set_state(sha, PAUSED, stop=True)

    def resume(self, sha: str) -> None:
        self._set_state(sha, QUEUED, error="")

    def download_anyway(self, sha: str) -> None:
        """The person's explicit choice: this entry may pass the month's data budget."""
        with self._cond:
            if self._replace(sha, anyway=True, state=QUEUED, error="") is not None:
                self._changed()

    def set_unmetered_only(self, sha: str, on: bool) -> None:
        with self._cond:
            if self._replace(sha, unmetered_only=on) is not None:
                self._changed()

    def cancel(self, sha: str) -> None:
        """Drop the entry and the chunks it had (a finished file stays in the library)."""
        with self._cond:
            entries = self._load()
            entry = next((e for e in entries if e.sha256 == sha), None)
            if entry is None:
                return
            entries.remove(entry)
            moving = self._current == sha
            if moving:
                self._stop_current = True
            self._changed()
        if entry.state == DONE:
            return
        if moving:
            with self._fetch_lock:  # after the fetch in progress noticed, at its next piece
                self._drop_partial(sha)
        else:
            self._drop_partial(sha)

    def _drop_partial(self, sha: str) -> None:
        if not self._is_complete(sha):
            self.vault.blobs.delete(sha)

    def move(self, sha: str, up: bool) -> None:
        """One place up (earlier) or down in the queue; moved above the one in progress, it takes over."""
        with self._cond:
            entries = self._load()
            i = next((n for n, e in enumerate(entries) if e.sha256 == sha), None)
            j = None if i is None else (i - 1 if up else i + 1)
            if i is None or j is None or not 0 <= j < len(entries):
                return
            entries[i], entries[j] = entries[j], entries[i]
            self._changed()

    def clear_finished(self) -> None:
        with self._cond:
            entries = self._load()
            entries[:] = [e for e in entries if e.state != DONE]
            self._changed()

    def _set_state(self, sha: str, state: str, *, stop: bool = False, error: str = "") -> None:
        with self._cond:
            entry = next((e for e in self._load() if e.sha256 == sha), None)
            if entry is None or entry.state == DONE:
                return
            self._replace(sha, state=state, error=error)
            if stop and self._current == sha:
                self._stop_current = True
            self._changed()

    def _is_complete(self, sha: str) -> bool:
        info = self.vault.blobs.info(sha)
        return info is not None and info.complete

    # -- choosing -------------------------------------------------------------------------------------------

    def would_pass_budget(self, entry: Entry) -> bool:
        """Under data saver: what is still to fetch would take this month's count past the budget."""
        settings = self.settings.load()
        return not settings.may_download(missing_bytes(self.vault, entry.target), utcnow(self.clock))

    def _pick(self, count: bool = True) -> Entry | None:
        """The first entry that may move now; marks the others' reasons to wait (under the lock)."""
        if count:
            self.count_usage()
        network = self.network()
        picked, changed = None, False
        for entry in list(self._load()):
            if entry.state not in (QUEUED, OVER_BUDGET):
                continue
            over = not entry.anyway and self.would_pass_budget(entry)
            state = OVER_BUDGET if over else QUEUED
            waiting = ""
            if not over and entry.unmetered_only and network != "unmetered":
                waiting = WAIT_UNKNOWN_METERED if network == "unknown" else WAIT_UNMETERED
            elif not over and self._offline:
                waiting = WAIT_OFFLINE
            if (state, waiting) != (entry.state, entry.waiting):
                changed = changed or state != entry.state
                entry = self._replace(entry.sha256, state=state, waiting=waiting)  # type: ignore[assignment]
            if picked is None and state == QUEUED and waiting in ("", WAIT_OFFLINE):
                picked = entry
        if changed:
            self._changed()
        return picked

    # -- the thread ------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="osler-downloads", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop after the piece in flight (every whole chunk kept; the queue stays for the next start)."""
        with self._cond:
            self._stopping, self._stop_current = True, True
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def wake(self) -> None:
        """Look for work now (the link came back, a sync succeeded, the network's metered state changed)."""
        with self._cond:
            self._offline = False
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                try:
                    entry = None if self.vault.is_locked else self._pick()
                except VaultError:  # locked meanwhile: looked at again after a while
                    entry = None
                if entry is None:
                    self._cond.wait(self.retry_s if self._offline or self.vault.is_locked else None)
                    continue
                if self._offline:
                    self._offline = False  # the retry: try it
                self._current, self._stop_current = entry.sha256, False
            try:
                self._fetch(entry)
            except VaultLocked:
                pass  # looked at again after unlocking
            except (SyncError, OSError) as exc:
                log.info("download postponed: %s", type(exc).__name__)
                with self._cond:
                    self._offline = True
            finally:
                with self._cond:
                    self._current = None
                    self._changed(save=False)
                self.count_usage()
            with self._cond:
                if self._offline and not self._stopping:
                    self._cond.wait(self.retry_s)

    def _fetch(self, entry: Entry) -> None:
        seen = [self._generation]

        def stop(at_chunk_end: bool) -> bool:
            with self._cond:
                if self._stop_current or self._stopping:
                    return True
                if not at_chunk_end or seen[0] == self._generation:
                    return False
                seen[0] = self._generation
                picked = self._pick(count=False)  # moved down, another moved up, or no longer allowed now
                return picked is None or picked.sha256 != entry.sha256

        def progress(_n: int) -> None:
            if self.on_change is not None:
                self.on_change()

        try:
            with self._fetch_lock:
                complete = self.fetcher.fetch(entry.target, stop, progress)
        except DamagedCopy as exc:
            log.warning("download failed: %s", exc)
            with self._cond:
                self._replace(entry.sha256, state=FAILED, error="damaged")
                self._changed()
            return
        if complete:
            with self._cond:
                self._replace(entry.sha256, state=DONE, error="")
                self._changed()

    def arrived(self, sha: str) -> bool:
        """Chunks of a queued file came another way (an answer bundle, bundles.py, each checked against the
        part list): once the file is whole and reads back verified, the entry is done. True when it is."""
        with self._cond:
            entry = next((e for e in self._load() if e.sha256 == sha), None)
        if entry is None or entry.state == DONE or not self._is_complete(sha):
            return False
        try:
            self.fetcher._verify(entry.target, False)
        except DamagedCopy:
            return False  # dropped by the check: fetched again from the start
        with self._cond:
            self._replace(sha, state=DONE, error="")
            self._changed()
        return True

    def fetch_now(self, item: Any) -> None:
        """Fetch ``item`` on the calling thread (a worker), whatever the gates: the person asked for this one."""
        entry = self.enqueue(item, anyway=True, first=True)
        with self._cond:
            self._stop_current = self._current not in (None, entry.sha256)
        with self._fetch_lock:
            complete = self.fetcher.fetch(entry.target, lambda _end: False, lambda _n: None)
        self.count_usage()
        with self._cond:
            if complete and self._replace(entry.sha256, state=DONE, error="") is not None:
                self._changed()
