"""The sync engine: drains the outbox, pulls what arrived, moves blobs, reports progress.

One ``sync_once()`` runs until the outbox is empty and the server has nothing more, in as few round trips as
the protocol allows: a small outbox rides in the same request as the pull; a large one is pushed on a second
connection while the pull runs, so a full-duplex link carries both directions at once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from sync import PROTOCOL_VERSION
from sync.client.errors import AuthFailed, ProtocolViolation
from sync.client.signing import RequestSigner
from sync.client.store import SyncStore
from sync.client.transport import (
    Credential,
    Exchange,
    RangeNotSatisfiable,
    RecordsRefused,
    TokenRejected,
    Transport,
)
from sync.clock import SYSTEM, Clock
from sync.envelope import DeviceKey
from sync.protocol import BLOB_CHUNK, MAX_PUSH_RECORDS, SyncRequest

PUSH_BUDGET = 256 * 1024
PARALLEL_THRESHOLD = 8 * 1024  # above this many queued bytes, push on its own connection while pulling
TOKEN_MARGIN_S = 60
T = TypeVar("T")


@dataclass(frozen=True)
class Credentials:
    account: bytes
    device: bytes
    key: DeviceKey


@dataclass(frozen=True)
class SyncProgress:
    phase: str  # "connecting", "syncing", "done"
    records_up: int = 0
    records_down: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    requests: int = 0
    queued: int = 0
    down_waiting: int | None = None  # what the server says still waits for this device; None: not said yet
    blob_done: int = 0  # the attachment moving now, in bytes (upload or download)
    blob_total: int = 0
    sync: int = 0  # which of this engine's syncs the figures are of (1 for the first; 0: none yet)

    @property
    def items_total(self) -> int:
        """Records this sync moves, as far as known: sent, still queued, received and still waiting; 0 while the
        server has not said how many wait (or is older than the ``w`` field)."""
        if self.down_waiting is None:
            return 0
        return self.records_up + self.queued + self.records_down + self.down_waiting

    @property
    def fraction(self) -> float | None:
        """How far along, 0 to 1: an attachment by its bytes, a sync by its records; None when not known."""
        if self.blob_total:
            return min(1.0, self.blob_done / self.blob_total)
        total = self.items_total
        return min(1.0, (self.records_up + self.records_down) / total) if total else None


class SyncEngine:
    def __init__(
        self,
        transport: Transport,
        store: SyncStore,
        credentials: Credentials,
        on_progress: Callable[[SyncProgress], None] | None = None,
        *,
        push_budget: int = PUSH_BUDGET,
        pull_budget: int | None = None,
        parallel_threshold: int = PARALLEL_THRESHOLD,
        clock: Clock = SYSTEM,
        sign_requests: bool = True,
    ) -> None:
        self.clock = clock  # a token's expiry is told against it
        self.transport = transport
        self.store = store
        self.credentials = credentials
        self.on_progress = on_progress
        self.push_budget = push_budget
        self.pull_budget = pull_budget
        self.parallel_threshold = parallel_threshold
        self.before_push: Callable[[], None] | None = None  # e.g. upload attachments before their messages
        self._token: tuple[str, float] | None = None
        self.sign_requests = sign_requests  # False: sign in by challenge and token, as before PROTOCOL.md §6.2
        self._signer = RequestSigner(
            credentials.device, credentials.key, clock, on_token=self._took_token, base_url=transport.base_url
        )
        self._token_lock = threading.Lock()
        self._progress_lock = threading.Lock()
        self._progress = SyncProgress("done")

    # -- tokens --------------------------------------------------------------------------------------------

    def _token_value(self, transport: Transport, renew: bool = False) -> str:
        """A bearer token, signing in by challenge when there is none valid for a while yet (or ``renew``)."""
        with self._token_lock:
            if renew or self._token is None or self._token[1] - TOKEN_MARGIN_S < self.clock.time():
                self._token = transport.sign_in(self.credentials.device, self.credentials.key)
            return self._token[0]

    def _credential(self, transport: Transport) -> Credential:
        """The token while it is valid for a while yet; without one, the signer: the call signs itself and its
        answer brings a token (PROTOCOL.md §6.2), so signing in costs no round trip of its own."""
        with self._token_lock:
            if self._token is not None and self._token[1] - TOKEN_MARGIN_S >= self.clock.time():
                return self._token[0]
        if self.sign_requests:
            return self._signer
        return self._token_value(transport)

    def _took_token(self, token: str, expires: int) -> None:
        with self._token_lock:
            self._token = (token, expires)

    def authorized(self, call: Callable[[Credential], T], transport: Transport | None = None) -> T:
        """``call(credential)`` on ``transport`` (by default this engine's), signing in (again) when needed."""
        return self._authorized(transport or self.transport, call)

    def _authorized(self, transport: Transport, call: Callable[[Credential], T]) -> T:
        """``call`` with the token, or signed without one. Refused (the token expired or was dropped by the
        server), it is tried once more signed; a signed call refused (a server older than signed requests) is
        tried by challenge and token, and this engine signs no more; only that refused too is ``AuthFailed``."""
        credential, challenged = self._credential(transport), False
        while True:
            try:
                return call(credential)
            except TokenRejected as exc:
                if isinstance(credential, RequestSigner):
                    self.sign_requests = False  # signed and refused: fall back to challenge and token
                elif challenged:
                    raise AuthFailed(str(exc)) from None
                else:
                    with self._token_lock:
                        if self._token is not None and self._token[0] == credential:
                            self._token = None  # the server no longer knows it
                if self.sign_requests:
                    credential = self._signer
                else:
                    credential, challenged = self._token_value(transport, renew=True), True

    # -- progress ------------------------------------------------------------------------------------------

    def _report(
        self,
        phase: str,
        exchange: Exchange | None = None,
        up: int = 0,
        down: int = 0,
        waiting: int | None = -1,
        settle: Callable[[], None] | None = None,
    ) -> None:
        """``waiting``: what a pull answer says still waits (None: it did not say); -1 for a push-only answer.
        ``settle`` (marking pushed records sent) runs in the same locked step as counting them up: a report from the
        other connection never sees them gone from the queue and not yet counted as sent."""
        with self._progress_lock:
            if settle is not None:
                settle()
            p = self._progress
            self._progress = replace(
                p,
                down_waiting=p.down_waiting if waiting == -1 else waiting,
                phase=phase,
                records_up=p.records_up + up,
                records_down=p.records_down + down,
                bytes_up=p.bytes_up + (exchange.bytes_up if exchange else 0),
                bytes_down=p.bytes_down + (exchange.bytes_down if exchange else 0),
                requests=p.requests + (1 if exchange else 0),
                queued=self.store.outbox_totals()[0],
            )
            progress = self._progress
        if self.on_progress is not None:
            self.on_progress(progress)

    # -- sync ----------------------------------------------------------------------------------------------

    def sync_once(self) -> SyncProgress:
        """Push everything queued and pull everything waiting; returns the totals. Raises a ``SyncError``."""
        with self._progress_lock:
            serial = self._progress.sync + 1
            self._progress = SyncProgress("connecting", queued=self.store.outbox_totals()[0], sync=serial)
        self._report("connecting")
        # A large outbox is pushed on a second connection while the first pulls. That connection is opened now,
        # so its handshake (2 round trips on a long link) runs while the first connection opens and signs in.
        side = self.transport.fork() if self.store.outbox_totals()[1] > self.parallel_threshold else None
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="osler-push") as pool:
                if side is not None:
                    pool.submit(side.preconnect)
                if not self.sign_requests:
                    self._token_value(self.transport)  # else the first call signs itself: no round trip of its own
                if self.before_push is not None:
                    self.before_push()
                if side is not None and self.store.outbox_totals()[1] > self.parallel_threshold:
                    pushing = pool.submit(self._push_loop, side)
                    self._pull_loop(self.transport, push=False)
                    pushing.result()
        finally:
            if side is not None:
                side.close()
        if self.store.outbox_totals()[0] or self._progress.requests == 0:
            self._pull_loop(self.transport, push=True)
        self._report("done")
        return self._progress

    def _push_loop(self, transport: Transport) -> None:
        while True:
            batch = self.store.outbox(self.push_budget)[:MAX_PUSH_RECORDS]
            if not batch:
                return
            self._exchange(transport, SyncRequest(v=PROTOCOL_VERSION, p=batch), batch)

    def _pull_loop(self, transport: Transport, push: bool) -> None:
        """Pull until the server has nothing more; with ``push``, each request also carries an outbox batch."""
        while True:
            batch = self.store.outbox(self.push_budget)[:MAX_PUSH_RECORDS] if push else []
            request = SyncRequest(
                v=PROTOCOL_VERSION, p=batch or None, c=self.store.cursor(), l=self.pull_budget, g=self._grants_filter()
            )
            answer = self._exchange(transport, request, batch)
            if answer is None:
                continue
            if not answer.m and not (push and self.store.outbox_totals()[0]):
                return

    def _grants_filter(self) -> int | None:
        """``g: 1`` while a new device (linked, restored) catches up: the history's epoch grants that do not name
        it are left out, the account's keyring carrying their keys (PROTOCOL.md §4, §10). A store without
        ``catching_up`` never asks."""
        catching_up = getattr(self.store, "catching_up", None)
        return 1 if callable(catching_up) and catching_up() else None

    def _exchange(self, transport: Transport, request: SyncRequest, batch: list) -> object | None:
        """One request; applies its answer. Returns the answer, or None when refused records were set aside
        and the caller should build its request again."""
        try:
            exchange = self._authorized(transport, lambda token: transport.sync(request, token))
        except ProtocolViolation:
            transport.health()  # an answer we cannot read may come from another protocol version: say so
            raise
        except RecordsRefused as refused:
            if not refused.ids:
                raise
            self.store.mark_rejected(refused.ids, f"{refused.code}: {refused}")
            return None
        answer = exchange.response
        settle = None
        if request.p:
            if answer.n != len(request.p):
                raise ProtocolViolation(f"server accepted {answer.n} of {len(request.p)} records")
            sent = [r.i for r in request.p]
            settle = lambda: self.store.mark_sent(sent)  # noqa: E731 (run by _report, under its lock)
        pulled, waiting = 0, -1
        if request.c is not None:
            waiting = (answer.w if answer.w is not None else None) if answer.m else 0
            if answer.c is None or answer.r is None or answer.c < request.c:
                raise ProtocolViolation("pull answer without records or with a cursor going backwards")
            self.store.apply(answer.r, answer.c)
            pulled = len(answer.r)
            if request.g and not answer.m:
                getattr(self.store, "caught_up", lambda: None)()
        self._report("syncing", exchange, up=len(batch), down=pulled, waiting=waiting, settle=settle)
        return answer

    # -- blobs ---------------------------------------------------------------------------------------------

    def upload_blob(self, data: bytes) -> str:
        """Upload ``data`` (already encrypted) in chunks, skipping what the server has; returns its SHA-256.
        Cut half way, calling it again sends only the missing chunks."""
        sha, size = hashlib.sha256(data).hexdigest(), len(data)
        missing = self._authorized(self.transport, lambda t: self.transport.blob_missing(sha, size, t))
        done = size - sum(len(data[i * BLOB_CHUNK : (i + 1) * BLOB_CHUNK]) for i in missing)
        self._blob(done, size)
        try:
            for index in missing:
                chunk = data[index * BLOB_CHUNK : (index + 1) * BLOB_CHUNK]
                self._authorized(
                    self.transport, lambda t, i=index, c=chunk: self.transport.put_blob_chunk(sha, size, i, c, t)
                )
                done += len(chunk)
                self._blob(done, size)
        finally:
            self._blob(0, 0)
        return sha

    def _blob(self, done: int, total: int) -> None:
        """Progress of the attachment moving now (0, 0: none)."""
        with self._progress_lock:
            self._progress = progress = replace(self._progress, blob_done=done, blob_total=total)
        if self.on_progress is not None:
            self.on_progress(progress)

    def download_blob(self, sha: str, destination: Path, size: int = 0) -> Path:
        """Fetch a blob to ``destination``, resuming from ``destination.part`` after a cut or after the app
        died, and verify its SHA-256 before it takes the final name.

        A ``.part`` that already holds every byte (the app died between the last byte and the rename) makes the
        server answer 416: what is on disk is verified and finished, or, if bad, discarded and fetched again
        from the start. A complete download that does not match its hash is discarded and fetched once more;
        a second mismatch raises ``ProtocolViolation`` (retryable: the next attempt starts from nothing)."""
        if destination.exists() and _sha256(destination) == sha:
            return destination  # the app died after the rename, before the file was used
        partial = destination.with_name(destination.name + ".part")
        try:
            for _attempt in range(2):
                if self._fetch_into(sha, partial, size) and _sha256(partial) == sha:
                    partial.replace(destination)
                    return destination
                partial.unlink(missing_ok=True)
        finally:
            self._blob(0, 0)
        raise ProtocolViolation(f"blob {sha[:12]} does not match its hash; it will be fetched again")

    def _fetch_into(self, sha: str, partial: Path, size: int = 0) -> bool:
        """Append the rest of the blob to ``partial``; False when the server says ``partial`` is already as long
        as the blob or longer (416), so the caller verifies it. A cut raises ``Offline`` and keeps the bytes."""
        offset = partial.stat().st_size if partial.exists() else 0
        try:
            response = self._authorized(self.transport, lambda t: self.transport.get_blob(sha, offset, t))
        except RangeNotSatisfiable as past_end:
            return past_end.size in (None, offset)
        if response.status_code != 206:
            offset = 0  # 200: the whole blob again
        total = size or offset + int(response.headers.get("content-length") or 0)
        with partial.open("ab" if response.status_code == 206 else "wb") as out:
            for piece in self.transport.blob_pieces(response):
                out.write(piece)
                offset += len(piece)
                if total:
                    self._blob(offset, max(total, offset))
        return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()
