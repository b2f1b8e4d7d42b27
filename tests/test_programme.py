"""The programme admin's view, from metadata only: status records routed to admins, every account's last sync,
cohort figures that tell "has not synced" from "unresponsive", and introductions published after review."""

from __future__ import annotations

import json
import time

import pytest
import requests

from desktop.domain.meetings import Meetings
from desktop.domain.mentorship import DAY_MS, Mentorships
from desktop.domain.programme import ProgrammeAdmin, introductions
from sync.protocol import MEDIA_MSGPACK, Record, SyncRequest, encode, unpack_record
from tests.test_messaging import _sync
from tests.test_server_api import _sync as _sync_raw

GOAL = "Publish a case series on rheumatic heart disease"


def _side(client):
    messaging = client.messaging()
    return Mentorships(client.vault, messaging)


@pytest.fixture
def programme(client_factory):
    people = {
        "amina": client_factory(),
        "bello": client_factory(),
        "chidi": client_factory(),
        "dr_kofi": client_factory("mentor"),
        "dr_lena": client_factory("mentor"),
        "dr_musa": client_factory("mentor"),
        "admin": client_factory("admin"),
    }
    for name, client in people.items():
        if name != "admin":
            role = "mentor" if name.startswith("dr_") else "student"
            client.publish_card(
                name, role=role, languages=["en"], capacity=2 if role == "mentor" else 0, interests=["cardiology"]
            )
    for _ in range(2):
        _sync(*people.values())
    return people


def _admin_view(admin) -> ProgrammeAdmin:
    engine = admin.engine()
    engine.sync_once()
    view = ProgrammeAdmin(admin.vault, admin.program, admin.clock)
    view.store_presence(engine.authorized(engine.transport.admin_presence))
    return view


def test_cohort_figures_tell_not_synced_from_unresponsive(programme):
    p = programme
    now = int(time.time() * 1000)
    amina, bello, chidi = _side(p["amina"]), _side(p["bello"]), _side(p["chidi"])
    kofi = _side(p["dr_kofi"])
    matched = amina.ask(p["dr_kofi"].account.hex(), "Could you mentor me?", [GOAL], now)
    # Bello asked Dr Lena three days ago; she has synced since and not answered.
    ignored = bello.ask(p["dr_lena"].account.hex(), "Could you mentor me?", ["Poster"], now - 3 * DAY_MS)
    time.sleep(1.1)  # Dr Musa's last sync (seconds) is now strictly before Chidi's request
    unreached = chidi.ask(p["dr_musa"].account.hex(), "Could you mentor me?", ["Thesis"], int(time.time() * 1000))
    _sync(p["amina"], p["bello"], p["chidi"], p["dr_kofi"], p["dr_lena"])  # Dr Musa stays offline
    kofi.messaging.take_in()
    kofi.answer(matched, accept=True)
    _sync(p["dr_kofi"])

    admin = _admin_view(p["admin"])
    later = now + int(7.5 * DAY_MS)
    figures = admin.figures(later)
    accounts = {name: c.account.hex() for name, c in p.items()}
    assert figures.matched == [accounts["amina"]]
    assert sorted(figures.unmatched) == sorted([accounts["bello"], accounts["chidi"]])
    waiting = {c.pairing.id: c for c in figures.waiting}
    assert set(waiting) == {ignored, unreached}
    assert (waiting[ignored].who, waiting[ignored].reason) == (accounts["dr_lena"], "unresponsive")
    assert (waiting[unreached].who, waiting[unreached].reason) == (accounts["dr_musa"], "not-synced")
    assert figures.load == {accounts["dr_kofi"]: 1}
    assert figures.quiet == []
    # Forty days on, with last syncs as of today: quiet, but too old to say why until they are fetched again.
    quiet = admin.figures(now + 40 * DAY_MS).quiet
    assert [(c.pairing.id, c.reason) for c in quiet] == [(matched, "unknown")]
    # Fetched again then, with Dr Kofi last seen today: he has not synced for weeks.
    presence, _at = admin.presence()
    rows = [{**vars(r), "last_sync": (now + 40 * DAY_MS) // 1000} for r in presence.values()]
    rows = [r if r["account"] != accounts["dr_kofi"] else {**r, "last_sync": now // 1000} for r in rows]
    admin.store_presence(rows, fetched_at=(now + 40 * DAY_MS) // 1000)
    [concern] = admin.figures(now + 40 * DAY_MS).quiet
    assert (concern.pairing.id, concern.who, concern.reason) == (matched, accounts["dr_kofi"], "not-synced")

    # Metadata only: nothing anyone wrote reached the admin.
    seen = b"".join(r.wire for r in p["admin"].vault.records.by_kind("status"))
    assert len(p["admin"].vault.records.by_kind("status")) >= 4
    assert b"mentor me" not in seen and GOAL.encode() not in seen and b"Poster" not in seen


def test_quiet_mentorship_of_people_who_sync_is_unresponsive(programme):
    p = programme
    now = int(time.time() * 1000)
    amina, kofi = _side(p["amina"]), _side(p["dr_kofi"])
    request = amina.ask(p["dr_kofi"].account.hex(), "Could you mentor me?", [GOAL], now)
    _sync(p["amina"], p["dr_kofi"])
    kofi.messaging.take_in()
    kofi.answer(request, accept=True)
    _sync(p["dr_kofi"], p["amina"])
    amina.messaging.take_in()
    admin = _admin_view(p["admin"])
    later = now + 40 * DAY_MS
    presence, _at = admin.presence()
    # The server's answer as it would be six weeks on, had both kept syncing daily:
    rows = [{**vars(row), "last_sync": later // 1000 - 3600} for row in presence.values()]
    admin.store_presence(rows, fetched_at=later // 1000)
    [concern] = admin.figures(later).quiet
    assert concern.pairing.id == request and concern.reason == "unresponsive"
    # A check-in is activity, disclosed as a date and nothing else; a second one the same day is not sent.
    checked = int(time.time() * 1000)
    amina.check_in(request, "Read two papers", "", "Draft the question", checked)
    amina.check_in(request, "Read a third", "", "Draft the question", checked + 1)
    _sync(p["amina"])
    p["admin"].engine().sync_once()
    assert admin.pairings()[request].last_activity == checked
    assert admin.figures(checked + 29 * DAY_MS).quiet == []
    activity = [r for r in p["admin"].vault.records.by_kind("status") if b"activity" in unpack_record(r.wire).b]
    assert len(activity) == 1 and b"papers" not in activity[0].wire


def test_status_records_go_to_admins_only_and_presence_is_admin_only(programme, server):
    p = programme
    amina = _side(p["amina"])
    amina.ask(p["dr_kofi"].account.hex(), "Could you mentor me?", [GOAL], int(time.time() * 1000))
    _sync(p["amina"], p["dr_kofi"], p["bello"])
    _sync(p["admin"])
    assert p["admin"].vault.records.by_kind("status")
    for name in ("dr_kofi", "bello"):
        assert not [r for r in p[name].vault.records.by_kind("status") if r.state == "inbound"], name
    engine = p["bello"].engine()
    token = engine._token_value(engine.transport)
    answer = requests.get(f"{server.url}/v1/admin/presence", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"
    rows = _admin_view(p["admin"]).presence()[0]
    assert {row.role for row in rows.values()} == {"student", "mentor", "admin"}
    assert all(row.last_sync for row in rows.values())


def _push(server, client, record: Record) -> requests.Response:
    """Push one record as ``client``'s device, straight through the API (to see what the server answers)."""
    engine = client.engine()
    token = engine._token_value(engine.transport)
    return _sync_raw(server, {"token": token}, encode(SyncRequest(v=1, p=[record]), MEDIA_MSGPACK))


@pytest.mark.parametrize(
    ("body", "audience"),
    [
        (
            {
                "e": "request",
                "r": "ab" * 16,
                "at": 1,
                "s": "cd" * 16,
                "m": "ef" * 16,
                "by": "student",
                "text": "secret words",
            },
            [],
        ),
        ({"e": "answer", "r": "ab" * 16, "at": 1}, []),  # an answer without accepted/declined
        ({"e": "activity", "r": "ab" * 16, "at": 1}, None),  # public
        ({"e": "activity", "r": "xyz", "at": 1}, []),
    ],
)
def test_server_refuses_status_records_that_are_not_plain_metadata(programme, server, body, audience):
    record = Record(i=bytes(range(16)), k="status", t=audience, h=1, b=json.dumps(body).encode())
    answer = _push(server, programme["amina"], record)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid"


def test_admin_assigns_a_cohort_and_people_receive_introductions(programme, server):
    p = programme
    admin = _admin_view(p["admin"])
    proposals = admin.propose()
    accounts = {c.account.hex(): name for name, c in p.items()}
    students = sorted(accounts[x.student.account] for x in proposals)
    assert students == ["amina", "bello", "chidi"]
    assert all(x.mentor.role == "mentor" and x.reasons for x in proposals)
    mentor_load: dict[str, int] = {}
    for x in proposals:
        mentor_load[x.mentor.account] = mentor_load.get(x.mentor.account, 0) + 1
    assert max(mentor_load.values()) <= 2  # each mentor's capacity
    assert admin.publish(proposals[:1]) == 1
    _sync(p["admin"])
    first = proposals[0]
    student, mentor = p[accounts[first.student.account]], p[accounts[first.mentor.account]]
    _sync(student, mentor)
    for client in (student, mentor):
        [intro] = introductions(client.vault)
        assert (intro.student, intro.mentor) == (first.student.account, first.mentor.account)
        assert intro.reasons and intro.score == pytest.approx(first.score, abs=0.01)
    figures = admin.figures()
    assert (figures.introduced, figures.followed) == (1, 0)
    _side(student).ask(first.mentor.account, "The programme introduced us.", [], int(time.time() * 1000))
    _sync(student)
    p["admin"].engine().sync_once()
    figures = admin.figures()
    assert (figures.introduced, figures.followed) == (0, 1)
    # Those introduced are not proposed again.
    assert first.student.account not in {x.student.account for x in admin.propose()}
    # Only admins publish introductions.
    intro = student.vault.records.by_kind("introduction")[0]
    record = unpack_record(intro.wire)
    forged = Record(i=bytes(16), k="introduction", t=record.t, h=1, b=record.b)
    answer = _push(server, student, forged)
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_storage_routes_status_to_admins_and_records_last_syncs(backend, tmp_path):
    """The admin path of the storage on both databases: status records reach every admin (also one who joins
    later) and nobody else; the last sync is upserted, at most once a minute per device."""
    from sync.protocol import StatusBody, new_record_id, status_body
    from sync.server.storage import Storage
    from tests.pg import require_postgres, reset_database

    if backend == "postgresql":
        url = require_postgres()
        reset_database(url)
        storage = Storage(url)
    else:
        storage = Storage.for_data_dir(tmp_path / "server")
    try:
        storage.create_schema()
        storage.create_schema()  # idempotent, the kind index included

        def join(role: str):
            return storage.register(storage.create_invites(role)[0], "device", bytes(32), None)

        student, mentor, admin = join("student"), join("mentor"), join("admin")
        status = StatusBody(
            e="request", r="ab" * 16, at=1, s=student.account.hex(), m=mentor.account.hex(), by="student"
        )
        pushed = Record(i=new_record_id(), k="status", t=[], h=1, b=status_body(status))
        assert storage.push(student, [pushed]).accepted == 1
        late_admin = join("admin")
        for reader, expected in ((admin, 1), (late_admin, 1), (mentor, 0), (student, 0)):
            assert len(storage.pull(reader, 0, 1 << 20).records) == expected
        storage.seen(student.device)
        storage.seen(student.device)  # within the minute: no second write, no conflict
        storage._seen.clear()  # as another server process would
        storage.seen(student.device)
        rows = {r["account"]: r for r in storage.presence()}
        assert rows[student.account.hex()]["last_sync"] and rows[mentor.account.hex()]["last_sync"] is None
        assert {r["role"] for r in rows.values()} == {"student", "mentor", "admin"} and len(rows) == 4
    finally:
        storage.dispose()


def test_a_member_cannot_pass_off_a_request_as_someone_elses(programme):
    """Status records are believed only when their request id derives from who asked whom and when, and offers
    only from mentors: a student cannot fake an offer that blocks another student, or take over a request."""
    from desktop.domain.mentorship import disclose
    from sync.protocol import StatusBody, request_id

    p = programme
    now = int(time.time() * 1000)
    amina, bello, kofi = (p[n].account.hex() for n in ("amina", "bello", "dr_kofi"))
    real = _side(p["amina"]).ask(kofi, "Could you mentor me?", [], now)
    bello_client = p["bello"]
    forged = [
        # Bello claims Dr Kofi's place by an "offer" from himself (not a mentor) to Amina
        StatusBody(e="request", r=request_id(amina, bello, "mentor", now), at=now, s=amina, m=bello, by="mentor"),
        # and restates Amina's real request as his own, with a made-up id
        StatusBody(e="request", r=real, at=now, s=bello, m=kofi, by="student"),
        # and answers it for Dr Kofi
        StatusBody(e="answer", r=real, at=now, st="declined"),
    ]
    for status in forged:
        disclose(bello_client.vault, bello_client.program, bello_client.clock, status)
    _sync(bello_client, p["amina"])
    admin = _admin_view(p["admin"])
    pairings = admin.pairings()
    assert list(pairings) == [real]
    assert (pairings[real].student, pairings[real].mentor, pairings[real].answer) == (amina, kofi, "")


def test_the_server_refuses_a_status_dated_far_ahead(programme, server):
    from sync.protocol import StatusBody, status_body

    ahead = int(time.time() * 1000) + 3 * DAY_MS
    body = status_body(StatusBody(e="activity", r="ab" * 16, at=ahead))
    record = Record(i=bytes(range(16)), k="status", t=[], h=1, b=body)
    answer = _push(server, programme["amina"], record)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid"


def test_an_introduction_from_a_non_admin_is_refused_and_does_not_hold_up_the_outbox(programme):
    amina = programme["amina"]
    refused = amina.send(b'{"v": 1}', [programme["bello"].account], kind="introduction", signed=True)
    after = amina.send(b"later work", [programme["bello"].account], kind="note")
    amina.engine().sync_once()
    states = {r.i.hex(): amina.vault.records.get(r.i.hex()).state for r in (refused, after)}
    assert states == {refused.i.hex(): "rejected", after.i.hex(): "sent"}


def test_malformed_introductions_and_presence_answers_are_ignored_not_fatal(programme):
    """What crosses the network is validated: broken introductions are skipped, the good one shown; a presence
    answer with wrong shapes keeps only the rows that make sense."""
    from desktop.domain.programme import INTRODUCTION
    from desktop.vault.records import StoredRecord
    from sync.protocol import new_record_id, pack_record

    amina = programme["amina"]
    me, mentor = amina.account.hex(), programme["dr_kofi"].account.hex()
    why = [{"t": "<b>anything</b>", "v": {}}, {"t": "Speaks {languages} with you", "v": {"languages": ["en"]}}, "x"]
    bodies = [
        b"not json",
        b'{"student": "x"}',
        json.dumps({"v": 1, "student": me, "mentor": mentor, "score": "high"}).encode(),
        json.dumps({"v": 1, "student": me, "mentor": mentor, "score": 2.5, "why": why}).encode(),
    ]
    stored = []
    for body in bodies:
        record = Record(i=new_record_id(), k=INTRODUCTION, a=bytes(16), d=bytes(16), t=[], h=1, b=body)
        stored.append(StoredRecord(record.i.hex(), INTRODUCTION, "ab" * 16, 1, pack_record(record), "inbound"))
    amina.vault.records.apply_inbound("test", stored, 0)
    [shown] = introductions(amina.vault)
    assert shown.score == 2.5 and [r.text for r in shown.reasons] == ["Speaks {languages} with you"]

    admin = ProgrammeAdmin(amina.vault, amina.program, amina.clock)
    rows = [
        "junk",
        {"account": "short", "role": "student", "joined": 1, "last_sync": 2},
        {"account": "ab" * 16, "role": "student", "joined": "yesterday", "last_sync": 2},
        {"account": "cd" * 16, "role": "mentor", "joined": 1, "last_sync": None},
    ]
    assert admin.store_presence(rows) == 1
    assert list(admin.presence()[0]) == ["cd" * 16]


def _meetings(client, side: Mentorships, later: list[int]) -> Meetings:
    return Meetings(client.vault, side.messaging, side, lambda: int(time.time() * 1000) + later[0])


def _round(*pairs) -> None:
    """Sync each client and take in with the objects that handle meeting and mentorship records."""
    for client, side in pairs:
        client.engine().sync_once()
        side.messaging.take_in()


def test_meetings_held_count_once_per_meeting_from_metadata_only(programme):
    p = programme
    now = int(time.time() * 1000)
    amina, kofi = _side(p["amina"]), _side(p["dr_kofi"])
    request = amina.ask(p["dr_kofi"].account.hex(), "Could you mentor me?", [GOAL], now)
    _round((p["amina"], amina), (p["dr_kofi"], kofi))
    kofi.answer(request, accept=True)
    _round((p["dr_kofi"], kofi), (p["amina"], amina))
    later = [0]  # how far the meetings' clock is ahead of the servers' (notes are written after the meeting)
    hers, his = _meetings(p["amina"], amina, later), _meetings(p["dr_kofi"], kofi, later)
    start = now + 3_600_000
    meeting = hers.propose(p["dr_kofi"].account.hex(), "video", "Journal club", [(start, start + 1_800_000)],
                           mentorship=request)  # fmt: skip
    _round((p["amina"], amina), (p["dr_kofi"], kofi))
    his.accept(meeting, 0)
    _round((p["dr_kofi"], kofi), (p["amina"], amina))
    later[0] = 2 * 3_600_000
    # both write notes on the same meeting: the programme hears "a meeting was held" once, and nothing more
    hers.record_notes(meeting, start, "SECRET-PROGRESS read two papers", "none", "draft the question")
    his.record_notes(meeting, start, "Good discussion", "", "")
    _round((p["amina"], amina), (p["dr_kofi"], kofi))
    admin = _admin_view(p["admin"])
    assert admin.figures(now).meetings_held == 1
    assert len(admin.pairings()[request].held) == 1
    held = [r for r in p["admin"].vault.records.by_kind("status") if b"meeting-held" in unpack_record(r.wire).b]
    assert len(held) == 2 and not any(b"SECRET" in r.wire or b"Journal" in r.wire for r in held)
