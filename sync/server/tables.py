"""The server's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

``records.seq`` is assigned from the single ``counter`` row (see ``storage.py`` for why); ``record_audience``
lists who may pull each record, the author included, so a pull is an index range scan per account.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
Id = sa.LargeBinary(16)

meta = sa.Table("meta", metadata, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text))
accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)
devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("sign_key", sa.LargeBinary(32), nullable=False),
    sa.Column("box_key", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
)
invites = sa.Table(
    "invites",
    metadata,
    sa.Column("code_hash", sa.LargeBinary(32), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("used_at", sa.BigInteger, nullable=True),
    sa.Column("device_id", Id, nullable=True),  # the device that spent it: a retried register is idempotent
)
challenges = sa.Table(
    "challenges",
    metadata,
    sa.Column("challenge", sa.LargeBinary(32), primary_key=True),
    sa.Column("device_id", Id, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)
# Nonces of signed requests (PROTOCOL.md §6.2), kept until their timestamp leaves the freshness window: a copy of
# a signed request is refused by whichever server process it reaches.
request_nonces = sa.Table(
    "request_nonces",
    metadata,
    sa.Column("nonce", sa.LargeBinary(16), primary_key=True),
    sa.Column("device_id", Id, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
)
tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("token_hash", sa.LargeBinary(32), primary_key=True),
    sa.Column("device_id", Id, nullable=False, index=True),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)
counter = sa.Table(
    "counter",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("value", sa.BigInteger, nullable=False),
)
records = sa.Table(
    "records",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("id", Id, nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("author", Id, nullable=False),
    sa.Column("device", Id, nullable=False),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("audience", sa.LargeBinary, nullable=True),
    sa.Column("hlc", sa.BigInteger, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("sig", sa.LargeBinary(64), nullable=True),
    sa.Column("digest", sa.LargeBinary(32), nullable=False),
    sa.Column("received_at", sa.BigInteger, nullable=False),
    # a later record of the same author replaced this one (PROTOCOL.md §4.4): no pull brings it any more
    sa.Column("replaced", sa.Boolean, nullable=False, server_default=sa.false()),
)
sa.Index("records_public", records.c.public, records.c.seq)
records_kind = sa.Index("records_kind", records.c.kind, records.c.seq)
device_seen = sa.Table(
    "device_seen",
    metadata,
    sa.Column("device_id", Id, primary_key=True),
    sa.Column("last_seen", sa.BigInteger, nullable=False),
)
record_audience = sa.Table(
    "record_audience",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
)
# Who each request is between, from its ``request`` status (PROTOCOL.md §3.4): how the server refuses an answer,
# activity or closing from someone who is not a party to it.
status_requests = sa.Table(
    "status_requests",
    metadata,
    sa.Column("request_id", sa.String(32), primary_key=True),
    sa.Column("student", sa.String(32), nullable=False),
    sa.Column("mentor", sa.String(32), nullable=False),
    sa.Column("by", sa.String(8), nullable=False),
)
# Delivery marks (PROTOCOL.md §4.5): the cursor each device last proved it holds records up to, and, per author
# and reader account, the newest of the author's messages a device of the reader holds.
device_cursors = sa.Table(
    "device_cursors",
    metadata,
    sa.Column("device_id", Id, primary_key=True),
    sa.Column("cursor", sa.BigInteger, nullable=False),
)
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("author", Id, primary_key=True),
    sa.Column("reader", Id, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
)
# Links (PROTOCOL.md §10.2): a short-lived slot an account's device opens so a new device can join the account. The
# new device is made at approval but lives here, PENDING, until it picks up its welcome: so it is in no device
# list and cannot sign in before that. Purged a day after the link expired.
links = sa.Table(
    "links",
    metadata,
    sa.Column("slot", sa.String(6), primary_key=True),
    sa.Column("account_id", Id, nullable=False, index=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
    sa.Column("request", sa.LargeBinary, nullable=True),  # sealed with the code: the server cannot open it
    sa.Column("approved_at", sa.BigInteger, nullable=True),
    sa.Column("device_id", Id, nullable=True),
    sa.Column("sign_key", sa.LargeBinary(32), nullable=True),
    sa.Column("box_key", sa.LargeBinary, nullable=True),
    sa.Column("name", sa.String(100), nullable=True),
    sa.Column("welcome", sa.LargeBinary, nullable=True),  # sealed to the new device's box key
)
# Recovery (PROTOCOL.md §10.3): per account, the public half of the recovery key's auth key and the backup sealed to
# its box key. Replaced as a whole when the person makes a new recovery key.
recovery = sa.Table(
    "recovery",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("auth_public", sa.LargeBinary(32), nullable=False, unique=True),
    sa.Column("backup", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)
# Circles (PROTOCOL.md §11): what the server knows of each circle from its newest ``circle-key`` roster, to refuse
# rosters from non-leads, posts from non-members and announcements from non-leads. Accounts packed 16 bytes each.
circles = sa.Table(
    "circles",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("leads", sa.LargeBinary, nullable=False),
    sa.Column("members", sa.LargeBinary, nullable=False),
    sa.Column("told", sa.LargeBinary, nullable=False),  # those who left with this epoch (its other records too)
    sa.Column("epoch", sa.BigInteger, nullable=False),
    sa.Column("hlc", sa.BigInteger, nullable=False),
)
# The server's own keys (PROTOCOL.md §13.2), by name: ``bundle`` is the pair request bundles are sealed to and
# answer bundles are signed with. Made once, by whichever process asks first (insert-if-absent), never replaced.
server_keys = sa.Table(
    "server_keys",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("private", sa.LargeBinary, nullable=False),
    sa.Column("created", sa.BigInteger, nullable=False),
)
