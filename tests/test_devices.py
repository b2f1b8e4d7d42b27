"""One person, several devices (issue 15): a linked device reads the history and what comes next, a revoked one
reads nothing new even holding every byte the server has, and bad codes say what is wrong. Real vaults, real
sessions, a real server on loopback; two devices link on two threads like two computers."""

from __future__ import annotations

import threading
import time

import msgpack
import pytest

from desktop.domain import keyring
from desktop.domain.devices import LinkProblem, link_device, parse_link_text
from desktop.domain.sync_adapter import VaultSyncStore, join_program, load_program
from sync import envelope
from sync.client.transport import Transport
from sync.clock import SYSTEM, ManualClock
from sync.protocol import Record
from tests.clients import make_client, synced
from tests.devices_helpers import link, new_vault, person, server_records, session_for, settle, texts
from tests.faultproxy import FaultProxy
from tests.servers import ThreadServer

STEADY_SERVER = True  # its servers and clients share a clock on a fixed day (tests/conftest.py)


@pytest.fixture
def people(tmp_path, server):
    """Amina (student, laptop) and Dr Kofi (mentor), who already talked, with a mentorship plan between them."""
    amina, _key = person(tmp_path / "amina", server, "Amina Student")
    kofi, _key = person(tmp_path / "kofi", server, "Dr Kofi Mensah", role="mentor")
    settle(amina, kofi)
    thread = amina.messaging.start_direct(kofi.program.credentials.account.hex())
    amina.messaging.send(thread, "before the link: hello doctor")
    settle(amina, kofi)
    kofi.messaging.send(thread, "before the link: hello Amina")
    request = amina.mentorships.ask(
        kofi.program.credentials.account.hex(), "please mentor me", ["pass MRCP"], amina.now_ms()
    )
    settle(amina, kofi)
    kofi.mentorships.answer(request, True)
    settle(kofi, amina, kofi, amina)
    yield amina, kofi, thread
    for session in (amina, kofi):
        session.stop()


def grant_devices(session, thread: str) -> set[str]:
    """The devices the newest epoch grant of ``thread`` (made by ``session``'s person) is sealed to."""
    mine = session.program.credentials.account.hex()
    found: set[str] = set()
    for stored in session.vault.records.by_kind("epoch-grant"):
        doc = msgpack.unpackb(_unpack(stored.wire).b, raw=False)
        if doc["t"].hex() == thread and stored.author == mine:
            found = set(doc["g"])
    return found


def _unpack(wire: bytes) -> Record:
    from sync.protocol import unpack_record

    return unpack_record(wire)


def test_a_linked_device_reads_the_history_and_what_comes_next(tmp_path, people):
    amina, kofi, thread = people
    phone = link(amina, tmp_path / "phone")
    settle(phone, amina, phone)
    # the history from before the link: both people's messages, the conversation's title, the mentorship plan
    assert {"before the link: hello doctor", "before the link: hello Amina"} <= texts(phone)
    assert phone.mentorships.mentorships(), "the mentorship plan reached the new device"
    assert phone.account_fingerprint() == amina.account_fingerprint(), "one person, one safety number"
    assert phone.this_device_fingerprint() != amina.this_device_fingerprint()
    card = keyring.my_card(kofi.vault, amina.program.credentials.account.hex())
    settle(kofi)
    card = keyring.my_card(kofi.vault, amina.program.credentials.account.hex())
    assert {e.device for e in card.devices} == {
        amina.program.credentials.device.hex(),
        phone.program.credentials.device.hex(),
    }, "the peer sees both devices, certified by Amina's identity"
    assert kofi.messaging.key_changes() == {}, "a new device of a known person is no key change"
    # new messages from the peer reach both devices: Kofi's next epoch is granted to both
    kofi.messaging.send(thread, "after the link: how is the revision going?")
    settle(kofi, amina, phone)
    both = {amina.program.credentials.device.hex(), phone.program.credentials.device.hex()}
    assert grant_devices(kofi, thread) >= both
    assert "after the link: how is the revision going?" in texts(amina)
    assert "after the link: how is the revision going?" in texts(phone)
    # and what the phone writes reaches the peer and the laptop
    phone.messaging.send(thread, "from my phone: going well")
    settle(phone, kofi, amina)
    assert "from my phone: going well" in texts(kofi)
    assert "from my phone: going well" in texts(amina)
    names = {d.name for d in amina.devices()}
    assert names == {"Amina Student's laptop", "phone"}
    phone.stop()


def test_a_revoked_device_reads_nothing_new_even_with_every_byte_of_the_server(tmp_path, server, people):
    amina, kofi, thread = people
    phone = link(amina, tmp_path / "phone")
    settle(phone, amina, kofi, phone)
    assert "before the link: hello doctor" in texts(phone)
    with pytest.raises(ValueError):
        amina.revoke_device(amina.program.credentials.device.hex())
    amina.revoke_device(phone.program.credentials.device.hex())
    settle(amina, kofi, amina)
    assert [d.revoked for d in amina.devices() if d.device == phone.program.credentials.device.hex()] == [True]
    amina.messaging.send(thread, "after the revoke: from the laptop")
    kofi.messaging.send(thread, "after the revoke: from the mentor")
    settle(amina, kofi, amina)
    assert "after the revoke: from the mentor" in texts(amina)
    assert kofi.messaging.key_changes() == {}, "the new identity follows from the one Kofi knew"
    # the thief holds the phone's vault and every record the server ever had: nothing new opens
    every = server_records(server)
    store = VaultSyncStore(phone.vault, phone.program.server_key, phone.program.credentials.account)
    store.apply(every, 10**9)
    phone.messaging.take_in()
    seen = texts(phone)
    assert not any(text.startswith("after the revoke") for text in seen), seen
    assert "before the link: hello doctor" in seen  # what it had read, it keeps
    newest = keyring.current(phone.vault)
    assert newest is not None and newest.generation == 0, "the new account secret was sealed to no revoked device"
    opened = 0
    for record in every:
        if record.k in ("message", "group-message", "receipt"):
            thread_bytes, epoch = envelope.envelope_epoch(record.b)
            opened += phone.vault.get_secret(f"epoch:{thread_bytes.hex()}:{epoch}") is not None
    assert opened < len([r for r in every if r.k == "message"])
    phone.stop()


def test_bad_link_codes_say_what_is_wrong(tmp_path, server, people):
    amina, _kofi, _thread = people
    with pytest.raises(LinkProblem) as typo:
        parse_link_text("K7Q4-M2XP-9A3F")
    assert typo.value.reason == "wrong-code" and "16 letters" in str(typo.value)
    offer = amina.offer_link()
    # a code for another programme: that server never made this slot
    with ThreadServer(tmp_path / "other") as other:
        vault, _ = new_vault(tmp_path / "elsewhere")
        with pytest.raises(LinkProblem) as unknown:
            link_device(vault, other.url, offer.code, "tablet", sleep=lambda _s: None)
        assert unknown.value.reason == "unknown" and "no such link code" in str(unknown.value)
    # used: the phone links with the code, then a tablet tries the same code
    phone = link(amina, tmp_path / "phone", offer=offer)
    vault, _ = new_vault(tmp_path / "tablet")
    with pytest.raises(LinkProblem) as used:
        link_device(vault, server.url, offer.qr_text, "tablet", sleep=lambda _s: None)
    assert used.value.reason == "used" and "already used" in str(used.value)
    phone.stop()


def test_an_expired_link_code_says_so(tmp_path):
    clock = ManualClock(SYSTEM.time())
    with ThreadServer(tmp_path / "server", clock=clock) as server:
        amina, _key = person(tmp_path / "amina", server, "Amina Student")
        settle(amina)
        offer = amina.offer_link()
        clock.advance(601)
        vault, _ = new_vault(tmp_path / "phone")
        with pytest.raises(LinkProblem) as expired:
            link_device(vault, server.url, offer.qr_text, "phone", sleep=lambda _s: None)
        assert expired.value.reason == "expired" and "expired" in str(expired.value)
        with pytest.raises(LinkProblem) as waited:
            amina.await_link(offer, timeout_s=1)
        assert waited.value.reason == "expired"
        amina.stop()


def test_a_device_from_before_accounts_gets_a_secret_and_seeds_its_keyring(tmp_path, server):
    """A device that joined before accounts had a secret (its card lists its keys only, its vault holds no
    chain) makes one at its first start, writes one keyring record with every epoch key it holds, and publishes
    its card with an identity that certifies the very device its peers knew: no key-change warning."""
    old = make_client(tmp_path / "old", server.url, server.invite("student"))
    old.vault.delete_secret(keyring.SECRETS)  # as a vault from before this issue
    old.publish_card("Old Timer")
    kofi, _key = person(tmp_path / "kofi", server, "Dr Kofi Mensah", role="mentor")
    synced(old)
    settle(kofi)
    synced(old)
    kofi_thread = kofi.messaging.start_direct(old.account.hex())
    kofi.messaging.send(kofi_thread, "hello from before")
    settle(kofi)
    assert kofi.messaging.key_changes() == {}
    old.vault.delete_secret(keyring.SECRETS)
    assert keyring.current(old.vault) is None
    session = session_for(old.vault, tmp_path / "old")  # the first start after the update
    settle(session)
    keys = keyring.current(old.vault)
    assert keys is not None and keys.generation == 0
    carried: set[tuple[str, int]] = set()
    for stored in old.vault.records.by_kind("keyring"):
        record = _unpack(stored.wire)
        content = msgpack.unpackb(keys.open_keyring(record.i, record.b), raw=False)
        carried |= {(t.hex(), e) for t, e, *_rest in content["e"]}
    assert set(keyring.held_epoch_keys(old.vault)) == carried and carried, "one keyring carries every key"
    assert "hello from before" in texts(session)
    settle(kofi)
    card = keyring.my_card(kofi.vault, old.account.hex())
    assert card.identity == keys.identity_public and card.name == "Old Timer"
    assert kofi.messaging.key_changes() == {}, "the new identity certifies the device Kofi knew"
    session.stop()
    kofi.stop()


def _link_through(vault, url: str, offer, name: str) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run() -> None:
        try:
            result["program"] = link_device(vault, url, offer.code, name, sleep=lambda _s: time.sleep(0.05))
        except LinkProblem as problem:
            result["problem"] = problem

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _approve_while(first, offer, thread: threading.Thread) -> None:
    """Device 1 polls (and approves when asked) while device 2's attempt runs; a cut on its side is retried."""
    while thread.is_alive():
        try:
            first.await_link(offer, timeout_s=1)
        except LinkProblem as problem:
            assert problem.reason in ("offline", "used"), problem.reason
    thread.join()


def _active_devices(session) -> set[str]:
    return {d.device for d in session.devices() if not d.revoked}


@pytest.mark.parametrize("step", [pytest.param(401, id="stepped"), pytest.param(37, id="fine", marks=pytest.mark.slow)])
def test_a_link_cut_at_any_byte_is_never_half_done(tmp_path, server, step):
    """Device 2's side of linking (the sealed request, the welcome pickup) cut after every ``step`` bytes: device 2
    is either not linked (and the same code then works) or fully linked; never a vault that half-joined, and in
    the end device 1's device list and device 2's vault agree on one new device per code."""
    folder = tmp_path / "amina"
    folder.mkdir()
    vault, _key = new_vault(folder)
    join_program(vault, Transport(server.url), server.invite("student"), "laptop")
    first = session_for(vault, folder)  # no card: the list of linked devices stays in the vault, not a card
    with FaultProxy("127.0.0.1", int(server.url.rsplit(":", 1)[1])) as proxy:
        probe, _ = new_vault(tmp_path / "probe")
        offer = first.offer_link()
        proxy.reset_counters()
        thread, result = _link_through(probe, proxy.url, offer, "probe")
        _approve_while(first, offer, thread)
        assert "program" in result, result
        size = proxy.bytes_up + proxy.bytes_down
        expected = _active_devices(first)
        outcomes = {"linked at once": 0, "retried": 0}
        for offset in range(0, size + 1, step):
            device_vault, _ = new_vault(tmp_path / f"d{offset}")
            offer = first.offer_link()
            proxy.configure(cut_after_bytes=offset, cut_once=False)  # every connection of this attempt
            thread, result = _link_through(device_vault, proxy.url, offer, f"device {offset}")
            _approve_while(first, offer, thread)
            proxy.configure(cut_after_bytes=None)
            if "problem" in result:
                assert result["problem"].reason == "offline", (offset, result["problem"].reason)
                assert load_program(device_vault) is None and keyring.current(device_vault) is None, offset
                thread, result = _link_through(device_vault, proxy.url, offer, f"device {offset}")
                _approve_while(first, offer, thread)
                outcomes["retried"] += 1
            else:
                outcomes["linked at once"] += 1
            program = load_program(device_vault)
            assert program is not None and "program" in result, (offset, result)
            assert keyring.current(device_vault).identity_public == keyring.current(vault).identity_public
            expected.add(program.credentials.device.hex())
            assert _active_devices(first) == expected, offset
            device_vault.close()
        print(f"\nlink of {size} bytes cut at {len(range(0, size + 1, step))} offsets: {outcomes}")
    first.stop()


def test_a_linked_device_shows_every_conversation_without_the_grants_of_other_devices(tmp_path, people):
    """The phone catches up without the history's epoch grants (they name the laptop and Kofi, not it): the
    keyring carries their keys, members and titles, so every conversation shows with its title and members."""
    amina, kofi, _direct = people
    group = amina.messaging.start_group("Cardiology journal club", [kofi.program.credentials.account.hex()])
    amina.messaging.send(group, "before the link: the paper for Thursday")
    settle(amina, kofi)
    phone = link(amina, tmp_path / "phone")
    settle(phone, amina, phone)
    me = phone.program.credentials.device.hex()
    grants = [msgpack.unpackb(_unpack(r.wire).b, raw=False) for r in phone.vault.records.by_kind("epoch-grant")]
    assert all(me in g["g"] for g in grants), "no grant for other devices crossed the wire"
    shown = {t.id: (t.members, t.title) for t in phone.messaging.threads()}
    assert shown == {t.id: (t.members, t.title) for t in amina.messaging.threads()}
    assert shown[group] == (tuple(sorted({amina.messaging.me, kofi.messaging.me})), "Cardiology journal club")
    assert {"before the link: hello doctor", "before the link: the paper for Thursday"} <= texts(phone)
    phone.messaging.send(group, "from my phone: I will present")  # a new epoch, granted to every device
    settle(phone, kofi, amina)
    assert "from my phone: I will present" in texts(kofi) and "from my phone: I will present" in texts(amina)
    assert {t.title for t in kofi.messaging.threads()} >= {"Cardiology journal club"}
    phone.stop()


def test_a_card_carries_each_device_key_once_and_peers_still_find_it(tmp_path, people):
    """The card lists every device's keys in ``devices``; it no longer repeats the publishing device's in
    ``keys`` (the 1,216-byte box key twice, as base64). Peers still take that device's keys from the card."""
    import base64

    amina, kofi, thread = people
    phone = link(amina, tmp_path / "phone")
    settle(phone, amina, phone, kofi)
    for person_ in (amina, phone):
        newest = [r for r in person_.vault.records.by_kind("card") if r.author == amina.messaging.me][-1]
        body = _unpack(newest.wire).b
        for entry in keyring.my_card(kofi.vault, amina.messaging.me).devices:
            assert body.count(base64.b64encode(entry.box)) == 1, "each box key once"
    card = keyring.my_card(kofi.vault, amina.messaging.me)
    assert card.keys is not None and card.keys[0] in {e.device for e in card.devices}
    kofi.messaging.send(thread, "after the new card: still reaching you")
    settle(kofi, amina, phone)
    assert "after the new card: still reaching you" in texts(
        amina
    ) and "after the new card: still reaching you" in texts(phone)
    phone.stop()
