"""An unlocked session: the vault, this device's programme, the sync engine and its scheduler, and (for the
demo) the embedded server. Plain Python: the Qt layer listens through ``on_status`` / ``on_change`` callbacks,
which arrive on the sync thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.domain import devices, directory, keyring, recovery
from desktop.domain.availability import Availability
from desktop.domain.circles import Circles
from desktop.domain.directory import Card, Material, card_body
from desktop.domain.discussions import Discussions
from desktop.domain.downloads import Downloads
from desktop.domain.learning_packs import Packs
from desktop.domain.library import Library
from desktop.domain.matching import is_mentor, local_zone
from desktop.domain.meetings import Meetings
from desktop.domain.mentorship import DAY_MS, Mentorships
from desktop.domain.messaging import Messaging
from desktop.domain.portfolio import Portfolio
from desktop.domain.programme import ProgrammeAdmin
from desktop.domain.projects import Projects
from desktop.domain.reading import Reading
from desktop.domain.recommendations import Recommendations
from desktop.domain.repack import repack
from desktop.domain.session_offline import OfflineSync
from desktop.domain.settings import Settings, SettingsStore
from desktop.domain.sync_adapter import (
    Program,
    VaultSyncStore,
    default_device_name,
    join_program,
    load_program,
    queue_record,
)
from desktop.vault import Vault
from desktop.vault.faults import crash_point
from sync import envelope
from sync.client.engine import SyncEngine
from sync.client.errors import SyncError
from sync.client.scheduler import SyncScheduler, SyncStatus
from sync.client.transport import Transport
from sync.clock import SYSTEM, Clock, now_ms, utcnow
from sync.protocol import HybridClock

log = logging.getLogger(__name__)
DEMO_FOLDER = "demo-server"
NOTIFY_KINDS = frozenset({"message", "request"})
PRESENCE_EVERY_S = 300

if TYPE_CHECKING:
    from sync.server.embedded import EmbeddedServer


@dataclass(frozen=True)
class Attention:
    """What Home shows: counts of things waiting for the person."""

    replies_waiting: int
    pending_requests: int
    upcoming_meetings: int
    goals_due: int
    mentors: int
    library: int
    offline_items: int
    students: int = 0  # for a mentor: the programme's students they can browse
    meetings_held: int = 0  # occurrences with notes, or confirmed and over


def start_demo(data_dir: Path) -> EmbeddedServer:
    # imported here: the embedded server (FastAPI, SQLAlchemy) costs ~45 MiB that a real programme never needs
    from desktop.domain.demo import start_demo_server

    return start_demo_server(data_dir / DEMO_FOLDER)


def join_demo(
    vault: Vault,
    data_dir: Path,
    name: str,
    role: str = "student",
    server: EmbeddedServer | None = None,
    now_ms: int | None = None,
) -> tuple[Program, EmbeddedServer]:
    """Join the demo programme as a student, a mentor or a programme admin (the embedded server mints the
    invite; ``server``: one already running). Students and mentors are greeted by two demo mentors; a student
    also receives an offer. Both become members of the demo's research circle and its two projects, with their
    history (``demo_circle``). ``now_ms``: the moment of joining (the injected clock's) that the demo's history
    and meetings are timed from."""
    from desktop.domain.demo import greet
    from desktop.domain.demo_circle import seed_circle
    from sync.server.blobstore import BlobStore

    server = server or start_demo(data_dir)
    program = join_program(vault, Transport(server.url), server.invite(role), default_device_name(), demo=True)
    if program.box is not None and role != "admin":
        creds = program.credentials
        greet(server.storage, creds.account, creds.device, program.box.public_bytes(), offer=role == "student",
              now_ms=now_ms, tz=local_zone())  # fmt: skip
        seed_circle(server.storage, BlobStore(server.data_dir / "blobs"), creds.account, creds.device,
                    program.box.public_bytes(), now_ms, mentor=role == "mentor")  # fmt: skip
    return program, server


class Session(OfflineSync):
    def __init__(
        self,
        vault: Vault,
        data_dir: Path,
        settings: SettingsStore,
        *,
        demo_server: EmbeddedServer | None = None,
        on_status: Callable[[SyncStatus], None] | None = None,
        on_change: Callable[[set[str]], None] | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        program = load_program(vault)
        if program is None:
            raise ValueError("this vault has not joined a programme")
        self.vault, self.data_dir, self.settings_store, self.program = vault, data_dir, settings, program
        self.on_status, self.on_change = on_status, on_change
        self.demo_server = demo_server
        if program.demo and demo_server is None:
            self.demo_server = start_demo(data_dir)
        url = self.demo_server.url if program.demo and self.demo_server else program.server_url
        self.transport = Transport(url)
        self.wall = clock  # the one clock every decision reads (tests inject theirs)
        self.clock = HybridClock(wall=clock)
        self.store = VaultSyncStore(vault, program.server_key, program.credentials.account)
        self.engine = SyncEngine(self.transport, self.store, program.credentials, clock=clock)
        # live delivery (a held request, ~19 KB an hour idle) while online, unless the person turned it off
        live = settings.load().live_delivery
        self.scheduler = SyncScheduler(self.engine, on_status=self._status, clock=clock, live=live)
        self.messaging = Messaging(vault, program, self.clock) if program.box is not None else None
        self.mentorships = Mentorships(vault, self.messaging) if self.messaging is not None else None
        self.circles = Circles(vault, self.messaging) if self.messaging is not None else None
        self.meetings = (
            Meetings(vault, self.messaging, self.mentorships, self.now_ms) if self.messaging is not None else None
        )
        if self.meetings is not None:
            self.meetings.cards, self.meetings.card_changed = self.cards, self.republish_card
        me = program.credentials.account.hex()
        self.discussions = Discussions(self.circles, vault, me, self.now_ms) if self.circles is not None else None
        self.projects = Projects(self.circles, self.messaging) if self.circles is not None else None
        self.portfolio = (
            Portfolio(vault, self.messaging, self.mentorships, self.circles, lambda: self.projects)
            if self.messaging is not None and self.mentorships is not None
            else None
        )
        self.library = Library(vault, program, self.clock, self.messaging, self.circles)
        self.recommendations = (
            Recommendations(vault, self.mentorships, self.circles, self._reading_progress)
            if self.mentorships is not None
            else None
        )
        self.packs = Packs(vault, program, self.clock, self._queue_download)
        self.admin = ProgrammeAdmin(vault, program, self.clock, self.cards) if program.role == "admin" else None
        self.reading = Reading(vault, self.now_ms)  # last page, progress, bookmarks, notes (desktop/domain/reading.py)
        self.reading.listeners.append(self._reading_moved)
        self._presence_fetched = float("-inf")
        self._cards: tuple[tuple[int, int], list[Card]] | None = None
        self._offline_init()  # bundles, carrying, the LAN relay (session_offline.py)
        self.engine.before_push = self._before_push
        # The sync whose end was handled: an attachment's progress after it (a download, maybe by that very
        # handling) republishes its "done" figures, and must not start the handling again.
        self._counted = 0
        self._download_lock = threading.RLock()  # the sync's auto-download and a person's click: one at a time
        self._usage_lock = threading.Lock()
        self._wire_counted = self.transport.wire_bytes()
        self.downloads = Downloads(  # library files, one at a time on a thread of their own (downloads.py)
            vault,
            self.transport,
            lambda call: self.engine._authorized(self.transport, call),
            settings,
            clock=clock,
            count_usage=self.count_usage,
        )

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        self.scheduler.start()
        self.downloads.start()  # the queue a restart left: picked up where it stopped
        if self.settings.lan_relay:
            self.set_lan_relay(True)

    def set_live(self, on: bool) -> None:
        """Live delivery on or off (a setting of its own): messages in seconds, or at the next sync."""
        self.scheduler.set_live(on)

    def newest_sender(self) -> str | None:
        """The name of whoever wrote the newest unread message (for a notification that shows no content)."""
        if self.messaging is None or self.vault.is_locked:
            return None
        me = self.program.credentials.account.hex()
        unread = [t for t in self.messaging.threads() if t.unread and t.last is not None and t.last.author != me]
        if not unread:
            return None
        author = max(unread, key=lambda t: t.updated_at).last.author  # type: ignore[union-attr]
        return next((card.name for card in self.cards() if card.account == author), None)

    def stop(self) -> None:
        """Stop syncing without waiting for a slow link: a sync in flight ends at its next vault access."""
        self.scheduler.stop(timeout=1.0)
        self.downloads.stop(timeout=1.0)
        self.set_lan_relay(False)
        self.count_usage()
        self.transport.close()
        self._cards = None
        if self.demo_server is not None:
            self.demo_server.stop()
            self.demo_server = None

    def queued_now(self) -> int:
        """How many records wait in the outbox at this moment."""
        return self.vault.records.outbox_totals()[0]

    def _status(self, status: SyncStatus) -> None:
        if not status.syncing:
            self.count_usage()  # what the attempt (success or not) and any probe before it cost
            if status.last_success and status.last_error is None:
                self.downloads.wake()  # the server is in reach: a download waiting after a cut goes on
        progress = status.progress
        if progress is not None and progress.phase == "done" and progress.sync != self._counted:
            self._counted = progress.sync  # each finished sync is handled once, however often it is published
            self.after_sync(progress.records_down, online=True)
            if status.last_error is None and not self.vault.is_locked:
                self._after_online_sync()
        if self.on_status is not None:
            self.on_status(status)

    def after_sync(self, records_down: int, *, online: bool = False) -> None:
        """What follows a sync, online or from an imported answer bundle (bundles.py): what arrived taken in
        (messages, circles), library and account upkeep, attachments auto-downloaded (online only: an answer
        brings its own), the presence figures; views told what changed."""
        kinds = self.kinds_received_recently(records_down) if records_down else set()
        if self.messaging is not None and not self.vault.is_locked:
            queued_before = self.vault.records.outbox_totals()[0]
            if self.messaging.take_in():
                kinds.add("message")
            if self.circles is not None and self.circles.take_in():
                kinds.add("circle")
            self.library_upkeep()
            self.account_upkeep()
            if online:
                try:
                    self.auto_download()
                except Exception as exc:  # a failed download is retried after the next sync
                    log.info("attachment download postponed: %s", type(exc).__name__)
            if self.vault.records.outbox_totals()[0] > queued_before:
                self.scheduler.local_change()  # taking in queued something (a grant, a plan's reply)
        if online and self.admin is not None and not self.vault.is_locked and self.refresh_presence():
            kinds.add("presence")
        if kinds and self.on_change is not None:
            self.on_change(kinds)

    def library_upkeep(self) -> None:
        """After a sync: recommendations whose plan now exists become goals, reading progress goes back to the
        recommending mentors (in 10 % steps), and subscribed packs queue what an update changed."""
        try:
            if self.recommendations is not None:
                self.recommendations.settle()
                self.recommendations.report()
            self.packs.refresh()
        except Exception as exc:  # never the reason a sync fails: tried again after the next one
            log.info("library upkeep postponed: %s", type(exc).__name__)

    def _reading_progress(self, item: str) -> float:
        """The reader's progress (0-1) through library item ``item`` (reading.py), 0 when never opened."""
        return float(self.reading.progress(item))

    def _reading_moved(self, _item: str, _progress: float) -> None:
        """The person read further: a recommending mentor hears of it (in 10 % steps) with the next sync."""
        if self.recommendations is None:
            return
        try:
            if self.recommendations.report():
                self.scheduler.local_change()
        except Exception as exc:  # never the reason reading fails: reported again after the next sync
            log.info("reading report postponed: %s", type(exc).__name__)

    def _queue_download(self, item: str, version: int) -> bool:
        """A pack's item into the download manager (the newest version this device knows of, at least
        ``version``; one not yet in the catalogue is queued when its record arrives)."""
        found = self.library.item(item)
        if found is None or found.version < version:
            return False
        if not self.library.is_offline(found):
            self.downloads.enqueue(found)
        return True

    def account_upkeep(self) -> None:
        """After a sync: a new recovery key whose steps a crash interrupted is finished (recovery.resume), then
        the card, the keyring and the server's backup made current (devices.upkeep)."""
        try:
            recovery.resume(self)
        except Exception as exc:  # never the reason a sync fails: tried again after the next one
            log.info("recovery upkeep postponed: %s", type(exc).__name__)
        devices.upkeep(self)

    def count_usage(self) -> None:
        """Add to this month's data what crossed the wire since the last count: every call each way, headers
        included (sync, sign-in, blobs, presence, probes), as the transport counted it; each byte once."""
        with self._usage_lock:
            total = self.transport.wire_bytes()
            added, self._wire_counted = total - self._wire_counted, total
        if added:
            self.settings_store.update(lambda s: s.with_usage(added, utcnow(self.wall)))

    def now_ms(self) -> int:
        """Wall-clock ms from the session's clock: what views show ages and due dates against."""
        return now_ms(self.wall)

    @property
    def settings(self) -> Settings:
        return self.settings_store.load()

    def kinds_received_recently(self, count: int) -> set[str]:
        return self.vault.records.recent_kinds(count)

    # -- what views read -----------------------------------------------------------------------------------

    def cards(self) -> list[Card]:
        """The directory, decrypted again only when its records changed: views ask for it several times per
        refresh. Dropped with the session when the vault locks."""
        mark = self.vault.records.kind_mark("card")
        if self._cards is None or self._cards[0] != mark:
            self._cards = (mark, directory.cards(self.vault))
        return list(self._cards[1])

    def mentors(self) -> list[Card]:
        """Mentors and peer mentors (students offering places), this person left out."""
        return [c for c in self.cards() if is_mentor(c) and c.account != self.program.credentials.account.hex()]

    @property
    def is_mentor(self) -> bool:
        """This person mentors: they browse students and answer requests, rather than look for a mentor."""
        return self.program.role == "mentor"

    def students(self) -> list[Card]:
        """The programme's students (a mentor's directory), this person left out."""
        me = self.program.credentials.account.hex()
        return [c for c in self.cards() if c.role == "student" and c.account != me]

    def materials(self) -> list[Material]:
        """The programme's catalogue, the newest version of each item (``library.items()`` has private ones too)."""
        newest = {i.id for i in self.library.items() if not i.private}
        return [m for m in directory.materials(self.vault) if m.id in newest]

    def read_material(self, material: Material) -> str:
        """A downloaded library item's text (Markdown), from the vault."""
        return self.vault.blobs.read_all(material.sha256).decode("utf-8", "replace")

    def is_offline(self, material: Material) -> bool:
        info = self.vault.blobs.info(material.sha256)
        return info is not None and info.complete

    def attention(self) -> Attention:
        materials = self.materials()
        now = self.now_ms()
        pending, goals_due, upcoming, held = 0, 0, 0, 0
        if self.meetings is not None:
            upcoming, held = len(self.meetings.upcoming(now)), self.meetings.held_count(now)
        if self.mentorships is not None:
            me = self.program.credentials.account.hex()
            pending = sum(1 for r in self.mentorships.requests() if r.status(now) == "pending" and r.answerer == me)
            goals_due = sum(
                1
                for plan in self.mentorships.mentorships()
                for goal in plan.goals()
                if not goal["done"] and goal["due"] and goal["due"] < now + 7 * DAY_MS
            )
        return Attention(
            replies_waiting=len(self.vault.messages.with_state("received")),
            pending_requests=pending,
            upcoming_meetings=upcoming,
            meetings_held=held,
            goals_due=goals_due,
            mentors=len(self.mentors()),
            students=len(self.students()) if self.is_mentor else 0,
            library=len(materials),
            offline_items=sum(1 for m in materials if self.is_offline(m)),
        )

    def availability(self, account: str) -> Availability | None:
        """Someone's availability (mine included): from their card, or what they shared with me."""
        return self.meetings.availability(account) if self.meetings is not None else None

    def my_card_state(self) -> str | None:
        """Where this person's newest card is: ``outbox`` (queued), ``sent`` (the server has it), or None."""
        mine = [r for r in self.vault.records.by_kind("card") if r.state in ("outbox", "sent", "rejected")]
        return mine[-1].state if mine else None

    def my_card(self) -> Card | None:
        mine = self.program.credentials.account.hex()
        return next((c for c in self.cards() if c.account == mine), None)

    # -- what views do -------------------------------------------------------------------------------------

    def publish_profile(self, name: str, **fields: object) -> None:
        """Save the profile in the vault and publish this person's signed directory card. The card carries my
        availability (``avail``, and its online hours as ``windows``) only when I share it with everyone."""
        doc = {"name": name.strip(), "role": self.program.role, **fields}
        if self.meetings is not None:
            for field, value in self.meetings.card_fields().items():
                if value is None:
                    doc.pop(field, None)
                else:
                    doc[field] = value
        if self.program.box is not None:
            creds = self.program.credentials
            doc.pop("keys", None)  # the publishing device's keys are its entry in ``devices`` (PROTOCOL.md §10.1.1)
            me = devices.this_entry(self.program)
            listed = keyring.card_devices(self.vault, creds.account.hex(), me) + devices.remembered_devices(self.vault)
            doc.update(keyring.account_fields(self.vault, creds.account, {e.device: e for e in listed}.values()))
        with self.vault.transaction():  # the saved profile and the card that publishes it, together
            self.vault.put_profile(self.program.credentials.account.hex(), doc, updated_at=self.clock.now())
            crash_point("profile:saved")
            queue_record(self.vault, self.program, self.clock, "card", card_body(**doc), None, signed=True)
        self.scheduler.local_change()

    def republish_card(self) -> None:
        """Publish my card again from the saved profile (my availability changed); nothing before a profile."""
        saved = self.vault.get_profile(self.program.credentials.account.hex())
        if saved and saved.get("name"):
            fields = {k: v for k, v in saved.items() if k not in ("name", "role")}
            self.publish_profile(saved["name"], **fields)

    def download_material(self, material: Material) -> None:
        """Fetch a library file into the vault now, on the calling (worker) thread, whatever the queue's gates:
        the download manager's fetch (downloads.py), every chunk checked, resumable."""
        item = self.library.by_id(material.id) or material  # v2: with its part list
        if getattr(item, "private", False):  # shared privately: a sealed attachment, on its own resumable path
            self.download_attachment(item.id)
            return
        self.downloads.fetch_now(item)

    # -- attachments ----------------------------------------------------------------------------------------

    def _before_push(self) -> None:
        """In the sync, before the outbox goes: what this person sent one by one and nobody has received for a
        while, repacked into one bundle (desktop/domain/repack.py); then attachments, before their messages."""
        self.library.upload_pending(self._upload_from_vault)  # published files before their entries
        if self.messaging is None:
            return
        try:
            repack(self.messaging, self.now_ms())
        except Exception as exc:  # an optimisation: never the reason a sync fails
            log.warning("repacking skipped: %s", type(exc).__name__)
        if self.meetings is not None:
            try:
                self.meetings.share_availability()  # a mentorship that started since gets my availability
            except Exception as exc:  # sent again before the next sync: never the reason this one fails
                log.warning("sharing availability skipped: %s", type(exc).__name__)
        self._upload_attachments()

    def _upload_from_vault(self, sha: str, size: int, chunks: Callable[[], Iterable[bytes]]) -> None:
        """A published file (or part list) up to the server, chunk by chunk from the vault, only the chunks it
        does not hold yet (a cut upload resumes): never the whole file in memory."""
        missing = set(self.engine._authorized(self.transport, lambda t: self.transport.blob_missing(sha, size, t)))
        for index, chunk in enumerate(chunks()):
            if index in missing:
                self.engine._authorized(
                    self.transport, lambda t, i=index, c=chunk: self.transport.put_blob_chunk(sha, size, i, c, t)
                )

    def _upload_attachments(self) -> None:
        """Before messages go out, their attachments: sealed, chunked, resumable (runs in the sync)."""
        if self.messaging is None:
            return
        for message_id, entry in self.messaging.pending_uploads():
            self.engine.upload_blob(self.messaging.sealed_attachment(entry))
            self.messaging.uploaded(message_id)

    def download_attachment(self, message_id: str) -> None:
        """Fetch, verify and open an attachment into the vault; resumes a cut download (worker thread)."""
        assert self.messaging is not None
        with self._download_lock:  # the same file must not be fetched into one partial file twice at once
            entry = self.messaging.attachment(message_id)
            if entry is None or entry["state"] == "downloaded":
                return
            partial_dir = self.data_dir / "downloads"
            partial_dir.mkdir(parents=True, exist_ok=True)
            sealed_file = partial_dir / entry["sha"]  # still sealed: nothing readable touches the disk
            try:
                self.engine.download_blob(entry["sha"], sealed_file)
                self.messaging.store_downloaded(message_id, sealed_file.read_bytes())
            finally:
                sealed_file.unlink(missing_ok=True)
        self.count_usage()

    def auto_download(self) -> int:
        """Under data saver only small attachments come by themselves; without it, all of them."""
        if self.messaging is None:
            return 0
        fetched = 0
        for message_id, _entry in self.settings.auto_downloads(self.messaging.attachments(), utcnow(self.wall)):
            self.download_attachment(message_id)
            fetched += 1
        return fetched

    # -- programme admin ------------------------------------------------------------------------------------

    def refresh_presence(self, force: bool = False) -> bool:
        """Fetch every account's last sync for the admin view (admins only), at most every 5 minutes unless
        ``force``; a failure leaves the figures already kept. Runs after a sync, off the GUI thread."""
        if self.admin is None or (not force and self.wall.monotonic() - self._presence_fetched < PRESENCE_EVERY_S):
            return False
        try:
            rows = self.engine.authorized(self.transport.admin_presence)
        except (SyncError, ValueError) as exc:  # offline, refused, or an answer that is not JSON
            log.info("presence not refreshed: %s", type(exc).__name__)
            return False
        self._presence_fetched = self.wall.monotonic()
        self.admin.store_presence(rows)
        self.count_usage()
        return True

    def request_presence(self) -> None:
        """Fetch last syncs with the next sync, now if online (the admin's "Refresh figures")."""
        self._presence_fetched = float("-inf")
        self.scheduler.sync_now()

    def sync_now(self) -> None:
        self.scheduler.sync_now()

    # -- devices (desktop/domain/devices.py) ------------------------------------------------------------------

    def devices(self) -> list[devices.DeviceInfo]:
        return devices.list_devices(self)

    def is_this_device(self, device: bytes) -> bool:
        return device == self.program.credentials.device

    def offer_link(self) -> devices.LinkOffer:
        return devices.offer_link(self)

    def await_link(self, offer: devices.LinkOffer, timeout_s: float = 50) -> devices.Linked | None:
        return devices.await_link(self, offer, timeout_s)

    def revoke_device(self, device_hex: str) -> None:
        """ValueError for this device; rotates the account secret, re-keys every thread (worker thread)."""
        devices.revoke_device(self, device_hex)

    def account_fingerprint(self) -> str:
        return envelope.identity_fingerprint(keyring.ensure(self.vault).identity_public)

    def this_device_fingerprint(self) -> str:
        return devices.this_entry(self.program).fingerprint

    # -- the recovery key (desktop/domain/recovery.py) ---------------------------------------------------------------

    def new_recovery_key(self) -> recovery.NewRecoveryKey:
        """A new key to show; nothing changes until ``apply_recovery_key``."""
        return recovery.new_key()

    def apply_recovery_key(self, made: recovery.NewRecoveryKey) -> None:
        """Server, then this vault, then the other devices; ``RotationProblem`` (nothing changed) when offline."""
        recovery.apply(self, made)

    def rotate_recovery_key(self) -> str:
        return recovery.rotate(self)

    def check_recovery_key(self, text: str) -> bool:
        """Whether ``text`` is the current key (InvalidRecoveryKey(typo=True) on a typing mistake)."""
        return recovery.check_key(self.vault, text, self.now_ms())

    def recovery_checked_ms(self) -> int | None:
        return recovery.checked_ms(self.vault)

    def mark_recovery_checked(self) -> None:
        recovery.mark_checked(self.vault, self.now_ms())

    def recovery_reminder_due(self) -> bool:
        return recovery.reminder_due(self.vault, self.now_ms())

    def dismiss_recovery_reminder(self) -> None:
        recovery.dismiss_reminder(self.vault, self.now_ms())
