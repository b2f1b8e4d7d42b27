"""The server's checks of circle records (PROTOCOL.md §11.4), inside the push's transaction: a roster only from
the circle's creator or one of its leads, naming only active members of the programme, at most 100 of them; posts,
project changes and leaves only from a member, announcements and listing cards only from a lead. The circle of a
sealed kind is the thread id in its envelope's header. Refusals are 403 ``forbidden`` or 422, never a 500."""

from __future__ import annotations

from collections.abc import Sequence

import msgpack
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync.envelope import EnvelopeError, envelope_epoch
from sync.protocol import ProtocolError, Record
from sync.server.tables import accounts, circles, devices

MAX_CIRCLE = 100
MEMBER_KINDS = frozenset({"circle-post", "project", "circle-leave"})
LEAD_KINDS = frozenset({"circle-announce"})


def _split(packed: bytes) -> list[bytes]:
    return [packed[i : i + 16] for i in range(0, len(packed), 16)]


def _ids(values: object) -> list[bytes] | None:
    if not isinstance(values, list) or not all(isinstance(v, bytes) and len(v) == 16 for v in values):
        return None
    return list(dict.fromkeys(values))


class CirclesMixin:
    is_sqlite: bool

    def _check_circles(self, conn: Connection, author: bytes, batch: Sequence[Record]) -> None:
        known: dict[bytes, tuple[list[bytes], list[bytes], int, list[bytes]] | None] = {}

        def circle_of(circle: bytes) -> tuple[list[bytes], list[bytes], int, list[bytes]] | None:
            if circle not in known:
                row = conn.execute(sa.select(circles).where(circles.c.id == circle)).first()
                known[circle] = (
                    None if row is None else (_split(row.leads), _split(row.members), row.epoch, _split(row.told))
                )
            return known[circle]

        for record in batch:
            rid = [record.i.hex()]
            if record.k == "circle-key":
                circle, epoch, members, leads = self._roster(record)
                stored = circle_of(circle)
                told = set(record.t or ()) - set(members)  # those leaving with this epoch are told, no more
                # a rotation's later records (40 grants each) carry the same epoch: the same people are told
                may_tell = (
                    set() if stored is None else set(stored[1]) | (set(stored[3]) if epoch == stored[2] else set())
                )
                if told and not told <= may_tell:
                    raise ProtocolError(422, "invalid", "a roster goes to its members and those leaving", ids=rid)
                if stored is not None and author not in stored[0]:
                    raise ProtocolError(403, "forbidden", "only a lead of the circle changes its roster", ids=rid)
                if stored is None and author not in leads:
                    raise ProtocolError(403, "forbidden", "a new circle's roster names its author a lead", ids=rid)
                if len(members) > MAX_CIRCLE:
                    raise ProtocolError(422, "circle-full", f"a circle has at most {MAX_CIRCLE} members", ids=rid)
                gone = self._not_active(conn, members)
                if gone:
                    raise ProtocolError(
                        422, "member-left", f"{len(gone)} account(s) named are not members of the programme", ids=rid
                    )
                if stored is None or epoch >= stored[2]:
                    if stored is not None and epoch == stored[2]:
                        told |= set(stored[3])
                    values = {
                        "leads": b"".join(leads),
                        "members": b"".join(members),
                        "told": b"".join(sorted(told)),
                        "epoch": epoch,
                        "hlc": record.h,
                    }
                    if stored is None:
                        conn.execute(circles.insert().values(id=circle, **values))
                    else:
                        conn.execute(circles.update().where(circles.c.id == circle).values(**values))
                    known[circle] = (leads, members, epoch, sorted(told))
            elif record.k in MEMBER_KINDS or record.k in LEAD_KINDS:
                try:
                    circle, _epoch = envelope_epoch(record.b)
                except EnvelopeError:
                    raise ProtocolError(
                        422, "invalid", f"a {record.k} record is sealed for a circle", ids=rid
                    ) from None
                stored = circle_of(circle)
                if stored is None:
                    continue  # a circle this server has not seen a roster of (yet): members' clients check it
                if author not in (stored[0] if record.k in LEAD_KINDS else stored[1]):
                    who = "a lead" if record.k in LEAD_KINDS else "a member"
                    raise ProtocolError(403, "forbidden", f"only {who} of the circle pushes {record.k}", ids=rid)
            elif record.k == "circle-card":
                try:
                    card = msgpack.unpackb(record.b, raw=False)
                    circle = card["c"]
                    if not isinstance(circle, bytes) or len(circle) != 16:
                        raise TypeError("not a circle id")
                except (ValueError, KeyError, TypeError, AttributeError, msgpack.UnpackException):
                    raise ProtocolError(422, "invalid", "a circle card names its circle", ids=rid) from None
                stored = circle_of(circle)
                if stored is not None and author not in stored[0]:
                    raise ProtocolError(403, "forbidden", "only a lead of the circle lists it", ids=rid)

    @staticmethod
    def _roster(record: Record) -> tuple[bytes, int, list[bytes], list[bytes]]:
        rid = [record.i.hex()]
        try:
            doc = msgpack.unpackb(record.b, raw=False)
            circle, epoch = doc["t"], doc["e"]
            members, leads = _ids(doc["m"]), _ids(doc["l"])
        except (ValueError, KeyError, TypeError, AttributeError, msgpack.UnpackException):
            raise ProtocolError(422, "invalid", "a circle-key record carries t, e, m and l", ids=rid) from None
        if not isinstance(circle, bytes) or len(circle) != 16 or not isinstance(epoch, int) or not 0 <= epoch < 2**32:
            raise ProtocolError(422, "invalid", "a circle-key names a 16-byte circle and an epoch", ids=rid)
        if members is None or leads is None or not leads or not set(leads) <= set(members):
            raise ProtocolError(422, "invalid", "a roster's leads are among its members", ids=rid)
        if record.t is None or not set(members) <= set(record.t):
            raise ProtocolError(422, "invalid", "a roster goes to its members", ids=rid)
        return circle, epoch, members, leads

    @staticmethod
    def _not_active(conn: Connection, members: list[bytes]) -> list[bytes]:
        """Accounts that are not (or no longer) in the programme: unknown, or every device revoked."""
        active = {
            row.id
            for row in conn.execute(
                sa.select(accounts.c.id)
                .join(devices, devices.c.account_id == accounts.c.id)
                .where(accounts.c.id.in_(members), devices.c.revoked_at.is_(None))
                .distinct()
            )
        }
        return [m for m in members if m not in active]
