"""The checks a push passes before it is stored (PROTOCOL.md §3.4, §4): one function, used by ``POST /v1/sync``
and by request bundles (§13.2), so a record carried on a USB stick meets exactly the rules of an online push."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sync.clock import Clock
from sync.envelope import verify_record
from sync.protocol import (
    ADMIN_KINDS,
    DELIVERED_KIND,
    PUBLISHER_KINDS,
    PUBLISHER_ROLES,
    SIGNED_KINDS,
    STATUS_KIND,
    ProtocolError,
    Record,
    StatusBody,
    parse_status,
    request_id,
)
from sync.server.storage import DeviceSession, RequestParties, Storage

log = logging.getLogger("osler.server.sync")
STATUS_AHEAD_S = 24 * 3600  # clocks drift; a status dated further ahead would stay "pending" for ever


def check_kind(record: Record, session: DeviceSession, clock: Clock) -> StatusBody | None:
    """Kinds with rules of their own (§3.4): status records are private metadata of a fixed shape; only admins
    publish introductions. Returns the parsed status of a status record."""
    if record.k == DELIVERED_KIND:
        raise ProtocolError(403, "forbidden", "delivery marks are made by the server alone", ids=[record.i.hex()])
    if record.k in ADMIN_KINDS and session.role != "admin":
        raise ProtocolError(403, "forbidden", f"only programme admins publish {record.k} records", ids=[record.i.hex()])
    if record.k in PUBLISHER_KINDS and session.role not in PUBLISHER_ROLES:
        raise ProtocolError(
            403, "forbidden", f"only mentors and admins publish {record.k} records", ids=[record.i.hex()]
        )
    if record.k != STATUS_KIND:
        return None
    if record.t is None:
        raise ProtocolError(422, "invalid", "status records are never public", ids=[record.i.hex()])
    try:
        status = parse_status(record.b)
    except ProtocolError as invalid:
        raise ProtocolError(422, "invalid", invalid.detail, ids=[record.i.hex()]) from None
    if status.at > (clock.time() + STATUS_AHEAD_S) * 1000:
        raise ProtocolError(422, "invalid", "a status is dated more than a day ahead", ids=[record.i.hex()])
    if status.e == "request":
        student, mentor, by = status.s or "", status.m or "", status.by or ""
        if student == mentor or status.r != request_id(student, mentor, by, status.at):
            raise ProtocolError(
                422, "invalid", "a request's id is derived from who asked whom and when (§3.4)", ids=[record.i.hex()]
            )
        if session.account.hex() != (student if by == "student" else mentor):
            raise ProtocolError(403, "forbidden", "only the asker discloses a request", ids=[record.i.hex()])
    return status


def check_statuses(storage: Storage, session: DeviceSession, statuses: list[tuple[Record, StatusBody]]) -> None:
    """An answer only from the one asked, activity and closing only from a party: refused (403) when the server
    knows the request (from its ``request`` status) and the author is not who may say it (§3.4)."""
    later = [(record, status) for record, status in statuses if status.e != "request"]
    if not later:
        return
    known = storage.request_parties({status.r for _, status in later})
    for _record, status in statuses:
        if status.e == "request":
            known.setdefault(status.r, RequestParties(status.s or "", status.m or "", status.by or ""))
    me, refused = session.account.hex(), []
    for record, status in later:
        parties = known.get(status.r)
        if parties is None:
            continue  # not heard of here (yet): admins' clients check it again against the request
        allowed = (parties.asked,) if status.e == "answer" else (parties.student, parties.mentor)
        if me not in allowed:
            refused.append(record.i.hex())
    if refused:
        raise ProtocolError(403, "forbidden", "a status about a request this account is not party to", ids=refused)


def check_and_push(storage: Storage, session: DeviceSession, batch: Sequence[Record], clock: Clock) -> int:
    """Check ``batch`` as a push from ``session`` and store it whole (or nothing: a ProtocolError, with the
    refused ids where particular records are to blame). Returns the accepted count. Blocking: call it from a
    thread in async code. The caller pulses the live hub when it returns."""
    if not batch:
        return 0
    bad: list[str] = []
    public_key = None
    statuses: list[tuple[Record, StatusBody]] = []
    for record in batch:
        if record.a is not None or record.d is not None:
            raise ProtocolError(422, "invalid", "pushed records carry no author or device", ids=[record.i.hex()])
        status = check_kind(record, session, clock)
        if status is not None:
            statuses.append((record, status))
        if record.s is not None or record.k in SIGNED_KINDS:
            if public_key is None:
                found = storage.device_key(session.device)
                if found is None:
                    raise ProtocolError(404, "not-found", "no such device")
                public_key = found[0]
            if not verify_record(public_key, record, session.account, session.device):
                log.warning(
                    "refused record %s (kind %s) from device %s: bad or missing signature",
                    record.i.hex(),
                    record.k,
                    session.device.hex(),
                )
                bad.append(record.i.hex())
    if bad:
        raise ProtocolError(422, "bad-signature", "records with a bad or missing signature", ids=bad)
    check_statuses(storage, session, statuses)
    result = storage.push(session, batch)
    if result.conflicts:
        raise ProtocolError(
            409, "conflict", "record ids already exist with other content", ids=[i.hex() for i in result.conflicts]
        )
    return result.accepted
