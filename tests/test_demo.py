"""The demo programme: realistic, deterministic, clearly fictional, and served for real on loopback."""

from __future__ import annotations

from desktop.domain import directory
from desktop.domain.availability import Availability
from desktop.domain.demo import (
    ACTIVITY,
    ACTIVITY_VERSION,
    AVAILABILITY_VERSION,
    MEETINGS_HELD,
    people,
    start_demo_server,
)
from desktop.domain.demo_library import media_items
from desktop.domain.mentorship import DAY_MS
from desktop.domain.overlap import intervals
from desktop.domain.session import Session, join_demo
from desktop.domain.settings import SettingsStore
from desktop.vault import KdfParams, Vault
from sync.clock import SYSTEM, ManualClock, now_ms


def test_the_seed_is_deterministic_and_diverse():
    first, second = people(), people()
    assert [p.card for p in first] == [p.card for p in second]
    mentors = [p.card for p in first if p.role == "mentor"]
    assert len(mentors) >= 30
    assert len({s for m in mentors for s in m["specialties"]}) >= 10
    assert len({m["country"] for m in mentors}) >= 8 and len({m["tz"] for m in mentors}) >= 8
    assert len({lang for m in mentors for lang in m["languages"]}) >= 6
    assert all(m["demo"] and m["bio"].startswith("Fictional demo profile.") for m in mentors)
    assert len({p.name for p in first}) == len(first)


def test_demo_mentors_publish_availability_across_zones_consistent_with_their_hours():
    mentors = [p.card for p in people() if p.role == "mentor"]
    found = [Availability.from_doc(m["avail"], m["name"]) for m in mentors]
    zones = {a.tz for a in found}
    assert {"Africa/Nairobi", "Asia/Kathmandu", "Europe/London", "America/Recife"} <= zones and len(zones) >= 10
    assert all(a.weekly and a.online and a.tz == m["tz"] for a, m in zip(found, mentors, strict=True))
    assert len({w.link for a in found for w in a.online}) >= 5  # generator, cybercafé, 2G, campus, Wi-Fi…
    # matching's "same hours" reads the card's windows: they are the connectivity windows' hours
    assert all([tuple(w) for w in m["windows"]] == list(a.online_hours()) for a, m in zip(found, mentors, strict=True))


def test_a_newcomer_joins_the_demo_and_studies_offline(tmp_path):
    vault, _ = Vault.create(tmp_path / "vault", "violet harbour lantern", params=KdfParams.floor())
    program, server = join_demo(vault, tmp_path, "demo")
    session = Session(vault, tmp_path, SettingsStore(tmp_path / "settings.json"), demo_server=server)
    try:
        assert program.demo and program.role == "student"
        session.engine.sync_once()  # the session opens what arrived as soon as a sync is done
        assert len(session.mentors()) == 36
        threads = session.messaging.threads()
        assert len(threads) == 2 and all(len(session.vault.messages.in_thread(t.id)) == 2 for t in threads)
        assert session.attention().replies_waiting == 4
        offers = session.mentorships.pending_for_me(int(__import__("time").time() * 1000))
        assert len(offers) == 1 and offers[0].by == "mentor" and len(offers[0].goals) == 2
        assert session.attention().pending_requests == 1
        session.mentorships.answer(offers[0].id, accept=True)
        plan = session.mentorships.mentorship(offers[0].id)
        assert plan is not None and "Read three key papers" in plan.value("goals")
        assert all(session.messaging.peer(m.account) is not None for m in session.mentors()), "mentors have keys"
        assert all(m.safety_number and len(m.devices) == 1 for m in session.mentors()), "and a certified device"
        items, materials = session.library.items(), session.materials()
        mimes = {i.mime for i in items}
        assert len(items) == len(materials) >= 15 and not any(session.library.is_offline(i) for i in items)
        assert {"text/markdown", "application/pdf", "image/png", "audio/ogg"} <= mimes
        note = next(m for m in materials if m.id == next(i for i in items if i.mime == "text/markdown").id)
        session.download_material(note)
        assert session.is_offline(note)
        text = vault.blobs.read_all(note.sha256).decode()
        assert text.startswith("# ") and "Demo material" in text
        assert session.attention().offline_items == 1
        handbook = next(i for i in items if i.parts)  # the 150-page PDF: two chunks, a part list on the server
        session.download_material(next(m for m in materials if m.id == handbook.id))
        assert session.library.open_bytes(handbook).startswith(b"%PDF-") and handbook.level == "clinical"
        session.publish_profile("Amina Student", languages=["fr"])
        session.engine.sync_once()
        mine = session.my_card()
        assert mine is not None and mine.name == "Amina Student" and mine.role == "student"
    finally:
        session.stop()
        vault.close()


def test_a_newcomer_sees_the_research_circle_its_projects_and_discussion_after_the_first_sync(tmp_path):
    """The demo's research circle reaches a newcomer as a real programme's would: signed, sealed circle records
    their client checks and opens. After one sync they are a member of a ~30-person circle on four levels from
    many countries, with two projects at different stages and a discussion in several languages."""
    from desktop.domain import demo_content
    from desktop.domain.discussions import Discussions
    from desktop.domain.projects import Projects

    vault, _ = Vault.create(tmp_path / "vault", "violet harbour lantern", params=KdfParams.floor())
    program, server = join_demo(vault, tmp_path, "demo")
    session = Session(vault, tmp_path, SettingsStore(tmp_path / "settings.json"), demo_server=server)
    projects = getattr(session, "projects", None) or Projects(session.circles, session.messaging)
    try:
        session.engine.sync_once()
        me = program.credentials.account.hex()
        circles = {c.kind: c for c in session.circles.circles()}
        circle = circles["circle"]
        assert circle.title == demo_content.CIRCLE_TITLE and circle.my_role == "member"
        assert 28 <= len(circle.members) <= 32 and me in {m.account for m in circle.members}
        levels = {}
        for member in circle.members:
            levels[member.role] = levels.get(member.role, 0) + 1
        assert set(levels) == {"lead", "mentor", "peer", "member"} and levels["lead"] >= 2, levels
        cards = {card.account: card for card in session.cards()}
        assert len({cards[m.account].country for m in circle.members if m.account in cards}) >= 8
        assert session.messaging.refused == 0, "every circle record checked out"
        listed = {c.title: c for c in session.circles.listed()}
        assert set(listed) == {demo_content.CIRCLE_TITLE, demo_content.PEER_CIRCLE_TITLE}
        assert listed[demo_content.CIRCLE_TITLE].count == len(circle.members)
        assert session.circles.circle(listed[demo_content.PEER_CIRCLE_TITLE].id) is None, "found, not joined"

        found = projects.projects()
        assert len(found) == 2 and all(p.parent == circle.id and p.my_role == "member" for p in found)
        states = {}
        for project in found:
            state = projects.state(project.id)
            assert state.refused == 0 and state.tasks and state.decisions and state.credits
            states[state.current_stage()] = state
        assert set(states) == {"data", "submission"}
        assert any(t.owner == me for t in states["data"].tasks), "the newcomer has a task of their own"
        assert states["data"].credits and not all(c.confirmed for c in states["data"].credits.values())
        assert all(c.confirmed for c in states["submission"].credits.values())
        draft = states["submission"].files[0]
        assert len(draft.versions) == 3 and len(states["submission"].authors) == 5
        latest = draft.latest.id  # a sealed blob on the server, which opens with the key in its record
        assert projects.file_state(latest) in ("remote", "downloaded")
        session.download_attachment(latest)
        assert projects.export_file(latest, tmp_path / "draft.md")
        text = (tmp_path / "draft.md").read_text()
        assert text.startswith("# Task sharing in surgery") and "draft 3" in text

        discussions = Discussions(session.circles, vault, me, session.now_ms)
        topics = discussions.topics(circle.id)
        kinds = {t.kind for t in topics}
        assert kinds == {"topic", "announcement", "journal"} and len(topics) >= 6
        assert sum(t.replies for t in topics) >= 20
        welcome = next(t for t in topics if t.title.startswith("Welcome"))
        thread = discussions.thread(circle.id, welcome.id)
        assert max(p.depth for p in thread) >= 2, "replies to replies"
        assert any("Bonjour" in p.text for p in thread) and any("Hola" in p.text for p in thread)
        assert [j.at > session.now_ms() for j in discussions.journal_clubs(circle.id)] == [True]
        pins = discussions.pins(circle.id)
        assert len(pins) == 1 and pins[0].lib in {m.id for m in session.materials()}
        assert sum(discussions.unread(circle.id).values()) >= 20
        digest = discussions.digest(session.now_ms() - 14 * 86_400_000)  # back after two weeks away
        assert [d.reason for d in digest[:2]] == ["announcement", "journal"] and len(digest) >= 5
    finally:
        session.stop()
        vault.close()


def test_a_second_newcomer_gets_a_circle_of_their_own_and_finds_the_same_listed_one(tmp_path):
    """Two people join the same demo server (a mentor after a student): each is in their own copy of the research
    circle (a mentor as a mentor), neither sees the other's, and the listed peer mentors' circle exists once."""
    from desktop.domain import demo_content

    sessions, vaults = [], []
    server = start_demo_server(tmp_path / "demo")
    try:
        for n, role in enumerate(("student", "mentor")):
            vault, _ = Vault.create(tmp_path / f"vault{n}", "violet harbour lantern", params=KdfParams.floor())
            join_demo(vault, tmp_path, f"demo{n}", role, server=server)
            vaults.append(vault)
            sessions.append(Session(vault, tmp_path / f"s{n}", SettingsStore(tmp_path / f"settings{n}.json"),
                                    demo_server=server))  # fmt: skip
        for session in sessions:
            session.engine.sync_once()
        mine = [session.circles.circles("circle") for session in sessions]
        assert [len(m) for m in mine] == [1, 1] and mine[0][0].id != mine[1][0].id
        assert [m[0].my_role for m in mine] == ["member", "mentor"]
        peer_cards = [c for c in sessions[1].circles.listed() if c.title == demo_content.PEER_CIRCLE_TITLE]
        assert len(peer_cards) == 1 and peer_cards[0].count == len(demo_content.PEER_CIRCLE)
        assert all(s.messaging.refused == 0 for s in sessions)
    finally:
        for session in sessions:
            session.demo_server = None  # stopped once, below
            session.stop()
        server.stop()
        for vault in vaults:
            vault.close()


def test_the_newcomer_finds_a_meeting_proposed_by_their_mentor_and_a_first_call_held_with_notes(tmp_path):
    clock = ManualClock(SYSTEM.time())  # the server checks signatures' times: start now, then the clock decides
    joined = now_ms(clock)
    vault, _ = Vault.create(tmp_path / "vault", "violet harbour lantern", params=KdfParams.floor())
    _program, server = join_demo(vault, tmp_path, "demo", now_ms=joined)
    session = Session(vault, tmp_path, SettingsStore(tmp_path / "settings.json"), demo_server=server, clock=clock)
    try:
        session.engine.sync_once()
        session.messaging.take_in()
        offer = session.mentorships.pending_for_me(joined)[0]
        mentor = offer.mentor
        meetings = {m.title: m for m in session.meetings.meetings()}
        assert len(meetings) == 2 and all(m.organiser == mentor and m.mentorship == offer.id for m in meetings.values())
        proposed = meetings["Next call: your three papers"]
        assert proposed.state == "proposed" and len(proposed.slots) == 2
        assert all(joined + DAY_MS <= s.start < joined + 15 * DAY_MS for s in proposed.slots)
        theirs = session.meetings.availability(mentor)  # published on their card
        assert theirs is not None and theirs.online
        free = intervals(theirs, joined, 16)
        assert all(any(a <= s.start and s.end <= b for a, b in free) for s in proposed.slots), "inside their week"
        attention = session.attention()
        assert attention.upcoming_meetings == 1 and attention.meetings_held == 1
        held = meetings["First call: getting started"]
        assert held.held(joined) == 1 and "three key papers" in next(iter(held.notes.values()))["next"]
        assert [m.id for m in session.meetings.waiting_for_me()] == [proposed.id]  # not the call already held
        session.mentorships.answer(offer.id, accept=True)  # the first call's notes are the plan's first check-in
        plan = session.mentorships.mentorship(offer.id)
        assert [c["by"] for c in plan.checkins] == [mentor] and "three key papers" in plan.checkins[0]["next"]
        clock.advance(20 * DAY_MS / 1000)  # both slots past: nothing upcoming, still one held
        assert session.attention().upcoming_meetings == 0 and session.attention().meetings_held == 1
    finally:
        session.stop()
        vault.close()


def test_the_demo_server_keeps_its_programme_between_starts(tmp_path):
    with start_demo_server(tmp_path / "demo") as server:
        first = server.storage.reader.connect().exec_driver_sql("SELECT count(*) FROM records").scalar()
    with start_demo_server(tmp_path / "demo") as server:
        again = server.storage.reader.connect().exec_driver_sql("SELECT count(*) FROM records").scalar()
    statuses = sum(1 + bool(row[4]) + (row[6] is not None) for row in ACTIVITY)
    held = sum(len(days) for days in MEETINGS_HELD.values())  # the meetings held, as "meeting-held" statuses
    library = 12 + len(media_items())  # the Markdown notes, the two PDFs, the image and the audio clip
    assert first == again == 48 + library + statuses + held
    assert not (tmp_path / "demo.new").exists()


def test_a_demo_seeded_before_programme_activity_gains_it_and_keeps_its_accounts(tmp_path):
    folder = tmp_path / "demo"
    # as a demo folder from before the activity seed was:
    with start_demo_server(folder) as server, server.storage.writer.begin() as conn:
        conn.exec_driver_sql("DELETE FROM records WHERE kind = 'status'")
        conn.exec_driver_sql("DELETE FROM device_seen")
        accounts = conn.exec_driver_sql("SELECT id FROM accounts ORDER BY id").scalars().all()
    (folder / ACTIVITY_VERSION).unlink()
    with start_demo_server(folder) as server, server.storage.reader.connect() as conn:
        assert conn.exec_driver_sql("SELECT id FROM accounts ORDER BY id").scalars().all() == accounts
        statuses = conn.exec_driver_sql("SELECT count(*) FROM records WHERE kind = 'status'").scalar()
        seen = conn.exec_driver_sql("SELECT count(*) FROM device_seen").scalar()
    assert statuses == sum(1 + bool(row[4]) + (row[6] is not None) for row in ACTIVITY)
    assert seen == len(accounts)


def test_a_demo_seeded_before_availability_republishes_mentors_cards_with_it(tmp_path):
    folder = tmp_path / "demo"
    with start_demo_server(folder) as server, server.storage.reader.connect() as conn:
        cards = conn.exec_driver_sql("SELECT count(*) FROM records WHERE kind = 'card'").scalar()
    (folder / AVAILABILITY_VERSION).unlink()  # as a folder from before mentors published their availability
    with start_demo_server(folder) as server, server.storage.reader.connect() as conn:
        again = conn.exec_driver_sql("SELECT count(*) FROM records WHERE kind = 'card'").scalar()
    assert again == cards + sum(1 for p in people() if p.role == "mentor")  # newer cards: the last one wins
    assert (folder / AVAILABILITY_VERSION).exists()


def test_cards_resolve_to_the_newest_per_account_and_tombstones_remove_them(tmp_path):
    from desktop.vault.records import StoredRecord
    from sync.protocol import Record, new_record_id, pack_record

    vault, _ = Vault.create(tmp_path / "vault", "violet harbour lantern", params=KdfParams.floor())
    author = b"\x07" * 16

    def card(hlc: int, name: str, deleted: bool = False) -> StoredRecord:
        record = Record(
            i=new_record_id(), k="card", a=author, d=author, h=hlc, x=deleted, b=directory.card_body(name=name)
        )
        return StoredRecord(record.i.hex(), "card", author.hex(), hlc, pack_record(record), "inbound")

    vault.records.apply_inbound("s", [card(20, "Newer name"), card(10, "Older name")], 2)
    assert [c.name for c in directory.cards(vault)] == ["Newer name"]
    vault.records.apply_inbound("s", [card(5, "Oldest name")], 3)
    assert [c.name for c in directory.cards(vault)] == ["Newer name"], "an older card never wins"
    vault.records.apply_inbound("s", [card(30, "", deleted=True)], 4)
    assert directory.cards(vault) == []
    vault.close()


def test_the_demo_server_starts_when_its_usual_port_is_taken(tmp_path):
    """Another program (or a second person's Osler on a shared computer) holds port 8471: the demo serves on
    another port, chosen and bound in one step."""
    import socket

    import requests

    from desktop.domain.demo import DEMO_PORT

    squatter = socket.socket()
    try:
        squatter.bind(("127.0.0.1", DEMO_PORT))
        squatter.listen(1)
    except OSError:
        pass  # already taken by someone else: the same situation
    server = start_demo_server(tmp_path / "demo")
    try:
        assert server.port != DEMO_PORT
        assert requests.get(f"{server.url}/v1/health", timeout=10).status_code == 200
    finally:
        server.stop()
        squatter.close()


def test_the_demo_research_circle_folds_to_its_levels_projects_and_discussion():
    """The demo circle's plan, folded by the same rules every client applies: ~30 people on four levels, a project
    collecting data and one at submission, and topics in several languages, with nothing a client would refuse."""
    from types import SimpleNamespace

    from desktop.domain import demo_content, discussion_fold, project_state
    from desktop.domain.demo_plan import plan

    roles = demo_content.circle_roles()
    assert 25 <= len(roles) <= 35 and set(roles.values()) == {"lead", "mentor", "peer", "member"}
    countries = {people()[i].card["country"] for i in roles if i != demo_content.ME}
    assert len(countries) >= 8

    def account(person: int) -> str:
        return f"{person + 1000:032x}"

    now = 1_800_000_000_000
    spaces = {"circle": "c" * 32, "sepsis": "a" * 32, "tasksharing": "b" * 32}
    events = plan(now, account, spaces, [f"{i:032x}" for i in range(12)])
    rosters = {"circle": roles} | {p["key"]: p["members"] for p in demo_content.PROJECTS}
    assert all(e.author in rosters[e.space] for e in events), "every author is a member where they write"
    stages = {}
    for project in demo_content.PROJECTS:
        leads = [account(i) for i, r in project["members"].items() if r == "lead"]
        attachment = {"n": "draft.md", "s": 1, "h": "0" * 64, "k": b"k" * 32}
        changes = [
            project_state.Change(
                e.content["e"], e.content["id"], e.content["f"] | ({"a": attachment} if e.file else {}),
                account(e.author), "device", (e.at << 16) + n, project["members"][e.author],
            )
            for n, e in enumerate(events)
            if e.space == project["key"]
        ]  # fmt: skip
        state = project_state.fold(changes, leads)
        assert state.refused == 0 and state.decisions and state.credits
        stages[project["key"]] = (state.current_stage(), len(state.tasks), len(state.files), len(state.authors))
    assert stages == {"sepsis": ("data", 8, 0, 0), "tasksharing": ("submission", 4, 1, 5)}
    posts = [
        SimpleNamespace(id=e.id, kind=e.kind, author=account(e.author), hlc=e.at << 16, content=e.content,
                        role=roles[e.author])
        for e in events if e.space == "circle"
    ]  # fmt: skip
    topics = discussion_fold.topics("c" * 32, posts)
    assert {t.kind for t in topics} == {"topic", "announcement", "journal"}
    assert sum(t.replies for t in topics) >= 20 and len(topics) >= 6
    assert [t.at > now for t in topics if t.kind == "journal"] == [True], "the journal club is still to come"
    assert len(discussion_fold.pins("c" * 32, posts)) == 1
