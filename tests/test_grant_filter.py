"""A new device catching up asks the server to leave out the history's epoch grants that do not name it
(``g: 1`` in ``POST /v1/sync``, PROTOCOL.md §4): exactly those are left out, on SQLite and on PostgreSQL, and
a pull without it gets everything as before. Real server on loopback, real clients, signed records."""

from __future__ import annotations

import os

import msgpack

from sync import PROTOCOL_VERSION
from sync.client.transport import Transport
from sync.protocol import SyncRequest
from tests.clients import make_client, synced


def _grant(devices: list[str]) -> bytes:
    """An epoch-grant body as the server sees it: thread, epoch, members, and the per-device grant map ``g``."""
    return msgpack.packb(
        {"t": os.urandom(16), "e": 7, "m": [], "g": {d: os.urandom(1200) for d in devices}, "s": b"sealed"},
        use_bin_type=True,
    )


def _pull_all(client, url: str, only_mine: bool) -> list:
    """Every record the server gives ``client`` from the start, in small pages (so skipped records cross pages)."""
    engine = client.engine(url)
    transport = Transport(url)
    cursor, out = 0, []
    while True:
        request = SyncRequest(v=PROTOCOL_VERSION, c=cursor, l=4096, g=1 if only_mine else None)
        answer = engine.authorized(lambda token, r=request: transport.sync(r, token), transport).response
        out += answer.r
        assert answer.c >= cursor
        cursor = answer.c
        if not answer.m:
            return out


def test_a_catching_up_pull_leaves_out_exactly_the_grants_that_do_not_name_the_device(tmp_path, any_server):
    sender = make_client(tmp_path / "sender", any_server.url, any_server.invite("mentor"))
    reader = make_client(tmp_path / "reader", any_server.url, any_server.invite())
    mine, other = reader.program.credentials.device.hex(), os.urandom(16).hex()
    to = [reader.account, sender.account]
    named = sender.send(_grant([mine]), to, kind="epoch-grant", signed=True)
    not_named = sender.send(_grant([other]), to, kind="epoch-grant", signed=True)
    both = sender.send(_grant([other, mine]), to, kind="epoch-grant", signed=True)
    unreadable = sender.send(b"\xc1 not msgpack", to, kind="epoch-grant", signed=True)
    message = sender.send(b"a sealed message", to)
    for _n in range(12):  # more grants for others than one page holds
        sender.send(_grant([other]), to, kind="epoch-grant", signed=True)
    last = sender.send(b"the last word", to)
    synced(sender)

    everything = {r.i for r in _pull_all(reader, any_server.url, only_mine=False)}
    assert {named.i, not_named.i, both.i, unreadable.i, message.i, last.i} <= everything
    filtered = [r for r in _pull_all(reader, any_server.url, only_mine=True) if r.a == sender.account]
    assert [r.i for r in filtered] == [named.i, both.i, unreadable.i, message.i, last.i], (
        "grants naming the device (and any the server cannot read) still come; the others do not"
    )
