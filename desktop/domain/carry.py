"""Carrying other people's sync bundles (``session.carry``, PROTOCOL.md §13.4).

A classmate without internet gives this person their request bundle (a file, or over the LAN relay); this Osler
keeps it, posts it to the programme's server after this person's own sync (or to an edge relay when the server
is out of reach), keeps the answer, and hands it back (a file on the stick, or over the LAN). It never opens what
it carries (it cannot: a request is sealed to the server, an answer to the device): ``<profile>/carry/`` holds
only the opaque bundles (``<request>.request``, ``<request>.answer``) and ``index.json``, the clear header's
metadata (device, counts, sizes, state). The person sees for whom they carry and may refuse.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.domain.bundles import BundleRefused, checked_header
from desktop.domain.content_packs import programme_id
from desktop.i18n import _
from sync import bundle
from sync.client.errors import Offline, ServerBusy, SyncError
from sync.client.transport import Transport
from sync.clock import utcnow
from sync.files import write_atomically

if TYPE_CHECKING:
    from desktop.domain.offline_context import OfflineContext

log = logging.getLogger(__name__)
FOLDER = "carry"
INDEX = "index.json"
WAITING, OVER_BUDGET, ANSWERED, HANDED_BACK, REFUSED = "waiting", "over-budget", "answered", "handed-back", "refused"


@dataclass(frozen=True)
class Carried:
    request: str  # 32 hex
    device: str  # 32 hex
    fingerprint: str
    person: str | None  # from the directory cards' device lists, when known
    records: int
    size: int
    blob_bytes: int
    received_ms: int
    state: str  # "waiting" | "over-budget" | "answered" | "handed-back" | "refused" (the person refused the device)
    answer_size: int | None = None
    created_ms: int = 0  # when the request was made (its header)


class Carry:
    def __init__(self, session: OfflineContext) -> None:
        self.session = session
        self.folder = Path(session.data_dir) / FOLDER
        self._lock = threading.RLock()  # the GUI (take, refuse, export) and the sync thread (relay)
        self._relaying = threading.Lock()

    # -- the index -----------------------------------------------------------------------------------------

    def _index(self) -> dict[str, dict]:
        try:
            return json.loads((self.folder / INDEX).read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def _save(self, index: dict[str, dict]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomically(self.folder / INDEX, json.dumps(index, indent=1).encode(), suffix=".part")

    def _person(self, device: str) -> str | None:
        try:
            for card in self.session.cards():
                if any(e.device == device for e in card.devices) or (card.keys and card.keys[0] == device):
                    return card.name
        except Exception:  # a locked vault: the name is shown when known
            return None
        return None

    def _item(self, doc: dict) -> Carried:
        fields = {k: v for k, v in doc.items() if k in Carried.__dataclass_fields__ and k != "person"}
        return Carried(person=self._person(doc["device"]), **fields)

    # -- what the person does ------------------------------------------------------------------------------

    def take(self, data: bytes) -> Carried:
        """Keep a request bundle to carry: of this programme, not this device's own, at most 64 MiB (else
        ``BundleRefused``). The same request twice is one entry."""
        if len(data) > bundle.MAX_BUNDLE_BYTES:
            raise BundleRefused(_("This bundle is too large to be an Osler sync bundle."), "too-large")
        header = checked_header(
            data,
            "request",
            programme_id(self.session.program),
            _("This is an answer for a device, not a request to carry."),
        )
        if header.device == self.session.program.credentials.device:
            raise BundleRefused(_("This is this device's own request: give it to someone who will sync online."))
        if len(data) != header.size:
            raise BundleRefused(_("This bundle is damaged or was cut short. Ask for it to be copied again."), "damaged")
        request = header.request.hex()
        with self._lock:
            index = self._index()
            known = index.get(request)
            if any(d["device"] == header.device.hex() and d["state"] == REFUSED for d in index.values()):
                raise BundleRefused(_("You chose not to carry bundles for this device."), "refused")
            if known is not None:
                return self._item(known)
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(self.folder / f"{request}.request", data, suffix=".part")
            doc = {
                "request": request,
                "device": header.device.hex(),
                "fingerprint": header.fingerprint(),
                "records": header.records,
                "size": len(data),
                "blob_bytes": header.blob_bytes,
                "received_ms": self.session.now_ms(),
                "created_ms": header.created_ms,
                "state": WAITING,
                "answer_size": None,
            }
            index[request] = doc
            self._save(index)
        return self._item(doc)

    def items(self) -> list[Carried]:
        """What this person carries, the newest first."""
        with self._lock:
            docs = list(self._index().values())
        return sorted((self._item(d) for d in docs), key=lambda c: c.received_ms, reverse=True)

    def refuse(self, request: str) -> None:
        """Refuse the device of a carried request: its bundles held here are dropped (request and answer bytes),
        and none of its requests is taken again (the LAN relay answers it 403)."""
        with self._lock:
            index = self._index()
            doc = index.get(request)
            if doc is None:
                return
            for key, other in list(index.items()):
                if other["device"] == doc["device"]:
                    index[key] = {**other, "state": REFUSED, "answer_size": None}
                    for suffix in ("request", "answer"):
                        (self.folder / f"{key}.{suffix}").unlink(missing_ok=True)
            self._save(index)

    # -- relaying ------------------------------------------------------------------------------------------

    def relay(self) -> int:
        """Post each waiting request to the programme's server (or, when it is out of reach, to the edge relay
        in the settings) and keep the answers; returns how many were answered. Under data saver, a request whose
        bytes (and an answer as large) would pass this month's budget waits as "over-budget". The sync thread calls
        it after each good sync, the LAN relay when a request comes in: one relay at a time, on a connection of
        its own."""
        with self._relaying:
            transport = self.session.transport.fork()
            try:
                return self._relay_all(transport)
            finally:
                transport.close()

    def _relay_all(self, transport: Transport) -> int:
        session = self.session
        answered = 0
        with self._lock:
            pending = [d for d in self._index().values() if d["state"] in (WAITING, OVER_BUDGET)]
        for doc in sorted(pending, key=lambda d: d["received_ms"]):
            request = doc["request"]
            settings = session.settings
            state = WAITING if settings.may_download(2 * doc["size"], utcnow(session.wall)) else OVER_BUDGET
            if state != doc["state"]:
                self._update(request, state=state)
            if state == OVER_BUDGET:
                continue
            try:
                data = (self.folder / f"{request}.request").read_bytes()
            except OSError:
                continue
            try:
                answer = self._post(transport, data)
            except (Offline, ServerBusy):
                break  # out of reach: everything waits for the next sync
            except SyncError as exc:  # the server refused it for good (revoked device, damaged): not sent again
                log.info("a carried request was refused by the server: %s", type(exc).__name__)
                self._forget(request)
                continue
            finally:
                session.count_usage()
            if not answer:
                continue  # a relay took it; its answer comes with a later relay
            with self._lock:
                if self._index().get(request, {}).get("state") == REFUSED:
                    continue  # refused while it was on its way
                write_atomically(self.folder / f"{request}.answer", answer, suffix=".part")
                order = 1 + max((d.get("answered", 0) for d in self._index().values()), default=0)
                self._update(request, state=ANSWERED, answer_size=len(answer), answered=order)
            answered += 1
        return answered

    def _post(self, transport: Transport, data: bytes) -> bytes:
        try:
            return transport.post_bundle(data)
        except Offline:
            relay = str(getattr(self.session.settings, "relay_address", "") or "")
            if not relay:
                raise
            return transport.post_bundle(data, base_url=relay)

    def _forget(self, request: str) -> None:
        """A request the server will never answer: dropped, bytes and entry."""
        with self._lock:
            index = self._index()
            index.pop(request, None)
            self._save(index)
            (self.folder / f"{request}.request").unlink(missing_ok=True)

    def _update(self, request: str, **fields: object) -> None:
        with self._lock:
            index = self._index()
            if request in index:
                index[request] = {**index[request], **fields}
                self._save(index)

    # -- handing back --------------------------------------------------------------------------------------

    def _newest_answers(self) -> dict[str, dict]:
        """Device → the entry of the newest answer held for it: a newer answer covers what an older one does
        (records are applied by id, the cursor never moves back), so only it is handed back."""
        newest: dict[str, dict] = {}
        with self._lock:
            docs = [d for d in self._index().values() if d["state"] in (ANSWERED, HANDED_BACK)]
        for doc in sorted(docs, key=lambda d: d.get("answered", 0)):
            if (self.folder / f"{doc['request']}.answer").exists():
                newest[doc["device"]] = doc
        return newest

    def answer_for(self, device: bytes) -> bytes | None:
        """The newest answer held for ``device`` (LAN relay: given back when that device hands over a request)."""
        doc = self._newest_answers().get(device.hex())
        if doc is None:
            return None
        try:
            return (self.folder / f"{doc['request']}.answer").read_bytes()
        except OSError:
            return None

    def mark_handed_back(self, request: str) -> None:
        self._update(request, state=HANDED_BACK)

    def export_answers(self, folder: Path) -> list[Path]:
        """The newest answer held for each device, written to ``folder`` (a stick) atomically under its bundle
        file name; each is marked handed back (and kept, to hand back again, until a newer one replaces it)."""
        written = []
        for doc in self._newest_answers().values():
            try:
                data = (self.folder / f"{doc['request']}.answer").read_bytes()
                header = bundle.read_header(data)
            except (OSError, bundle.BundleError):
                continue  # this answer's file is gone or damaged here: the others still go
            path = Path(folder) / bundle.file_name(header)
            try:
                write_atomically(path, data, suffix=".part")
            except OSError:  # the stick was pulled out, is full or read-only: nothing is marked handed back
                raise BundleRefused(_("The answers could not be written to that folder.")) from None
            self.mark_handed_back(doc["request"])
            written.append(path)
        return written
