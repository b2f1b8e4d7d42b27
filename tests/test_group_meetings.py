"""Group meetings in circles between real clients through a real server: a lead proposes, members in three zones
answer per slot, the counts, the lead fixes one; answers from someone no longer in the circle and hostile events
dropped; availability shared with the circle; the week grid's counts for a 30-member circle across ten zones;
the Meetings tab's grid (Qt offscreen) shows those counts and arrow keys move between its cells."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from desktop.domain import meeting_time
from desktop.domain.availability import Availability, Window
from desktop.domain.discussions import Discussions
from desktop.domain.group_meeting_fold import POST, REF, fold
from desktop.domain.group_meetings import GroupMeetingError, GroupMeetings, week_grid
from tests.circle_people import CirclePerson, rounds
from tests.clients import Client

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


class Person(CirclePerson):
    def __init__(self, client: Client, name: str, known: dict | None = None) -> None:
        super().__init__(client, name)
        known = known if known is not None else {}
        self.group = GroupMeetings(self.circles, self.id, known.get, self.circles.now_ms)
        self.talk = Discussions(self.circles, client.vault, self.id, self.circles.now_ms)


@pytest.fixture
def circle(client_factory):
    """A lead mentor and three members (Nairobi, São Paulo, Kathmandu) in one circle; an outsider who is not."""
    people = []
    for name, role in (
        ("Dr Ama Owusu", "mentor"),
        ("Amina Njeri", "student"),
        ("João Silva", "student"),
        ("Priya Sharma", "student"),
        ("Omar Outsider", "student"),
    ):
        client = client_factory(role)
        client.publish_card(name, role=role)
        people.append(Person(client, name))
    rounds(*people)
    lead, amina, joao, priya, omar = people
    members = {amina.id: "member", joao.id: "member", priya.id: "member"}
    circle_id = lead.circles.create("Paediatric sepsis reading group", members=members)
    rounds(*people)
    assert priya.circles.circle(circle_id).my_role == "member"
    return circle_id, lead, amina, joao, priya, omar


def two_slots(person: Person) -> list[tuple[int, int]]:
    day = (person.circles.now_ms() // DAY_MS + 3) * DAY_MS
    return [(day + 15 * HOUR_MS, day + 16 * HOUR_MS), (day + DAY_MS + 9 * HOUR_MS, day + DAY_MS + 10 * HOUR_MS)]


def test_a_lead_proposes_members_in_three_zones_answer_per_slot_and_the_lead_fixes_one(circle):
    circle_id, lead, amina, joao, priya, _omar = circle
    slots = two_slots(lead)
    meeting_id = lead.group.propose(circle_id, "Journal club: FEAST", "video", slots, "https://meet.example/feast")
    rounds(lead, amina, joao, priya)

    [seen] = priya.group.meetings(circle_id)
    assert (seen.id, seen.title, seen.kind, seen.link, seen.proposer) == (
        meeting_id, "Journal club: FEAST", "video", "https://meet.example/feast", lead.id,
    )  # fmt: skip
    assert seen.slots == tuple(slots) and seen.fixed is None
    amina.group.answer(circle_id, meeting_id, ["yes", "no"])
    joao.group.answer(circle_id, meeting_id, ["maybe", "yes"])
    priya.group.answer(circle_id, meeting_id, ["yes", "yes"])
    priya.group.answer(circle_id, meeting_id, ["no", "yes"])  # she changed her mind: the later answer counts
    rounds(amina, joao, priya, lead)

    meeting = lead.group.meeting(circle_id, meeting_id)
    assert meeting.counts(0) == {"yes": 1, "maybe": 1, "no": 1}
    assert meeting.counts(1) == {"yes": 2, "maybe": 0, "no": 1}
    assert meeting.answers[priya.id] == ("no", "yes")

    with pytest.raises(GroupMeetingError) as refused:
        amina.group.fix(circle_id, meeting_id, 0)
    assert refused.value.code == "not-proposer"
    with pytest.raises(GroupMeetingError) as refused:
        amina.group.propose(circle_id, "My own meeting", "phone", slots)
    assert refused.value.code == "not-allowed"
    with pytest.raises(GroupMeetingError) as refused:
        lead.group.answer(circle_id, meeting_id, ["yes"])  # one answer for two times
    assert refused.value.code == "answers"

    lead.group.fix(circle_id, meeting_id, 1)
    rounds(lead, amina, joao, priya)
    for person in (amina, joao, priya, lead):
        assert person.group.meeting(circle_id, meeting_id).fixed == 1, person.name
    # the discussion keeps ignoring the new post types: no topic, nothing unread
    assert amina.talk.topics(circle_id) == [] and amina.talk.unread(circle_id) == {}


def test_an_answer_from_someone_not_in_the_circle_does_not_count(circle):
    circle_id, lead, amina, joao, priya, omar = circle
    meeting_id = lead.group.propose(circle_id, "Case review", "live-text", two_slots(lead)[:1])
    rounds(lead, amina, joao, priya, omar)
    amina.group.answer(circle_id, meeting_id, ["yes"])
    joao.group.answer(circle_id, meeting_id, ["yes"])
    rounds(amina, joao, lead)
    assert lead.group.meeting(circle_id, meeting_id).counts(0)["yes"] == 2

    with pytest.raises(GroupMeetingError) as refused:
        omar.group.answer(circle_id, meeting_id, ["yes"])
    assert refused.value.code == "not-member"
    lead.circles.remove(circle_id, joao.id)  # João leaves the circle: his answer no longer counts
    rounds(lead, amina, joao)
    assert lead.group.meeting(circle_id, meeting_id).counts(0)["yes"] == 1
    assert amina.group.meeting(circle_id, meeting_id).counts(0)["yes"] == 1


@dataclass(frozen=True)
class Ev:
    id: str
    author: str
    hlc: int
    content: dict
    role: str | None = "member"
    kind: str = POST


def test_the_fold_drops_hostile_and_out_of_place_events():
    m = "ab" * 16
    ok = {"ref": REF, "y": "meet", "m": m, "n": "Check-in", "k": "video", "s": [[10, 20], [30, 40]], "l": ""}
    events = [
        Ev("01", "member1", 1, {**ok, "m": "cd" * 16}),  # a member may not propose
        Ev("02", "lead", 2, ok, role="lead"),
        Ev("03", "lead", 3, {**ok, "n": "Hijacked"}, role="lead"),  # the same id again: the first stays
        Ev("04", "lead", 4, {**ok, "m": "ef" * 16, "s": [[1, 2]] * 4}, role="lead"),  # four slots
        Ev("05", "lead", 5, {**ok, "m": "01" * 16, "s": [[20, 10]]}, role="lead"),  # ends before it starts
        Ev("06", "lead", 6, {**ok, "m": "02" * 16, "n": "x" * 201}, role="lead"),  # title too long
        Ev("07", "lead", 7, {**ok, "m": "03" * 16, "k": "teleport"}, role="lead"),
        Ev("08", "lead", 8, {**ok, "m": "04" * 16, "s": "soon"}, role="lead"),
        Ev("09", "member1", 9, {"ref": REF, "y": "meet-answer", "m": m, "a": ["yes", "no"]}),
        Ev("10", "stranger", 10, {"ref": REF, "y": "meet-answer", "m": m, "a": ["yes", "yes"]}),  # not a member
        Ev("11", "member2", 11, {"ref": REF, "y": "meet-answer", "m": m, "a": ["yes", "perhaps"]}),
        Ev("12", "member2", 12, {"ref": REF, "y": "meet-answer", "m": m, "a": ["yes"]}),  # one of two slots
        Ev("13", "member2", 13, {"ref": REF, "y": "meet-answer", "m": m, "a": "yes"}),
        Ev("14", "member1", 14, {"ref": REF, "y": "meet-fix", "m": m, "s": 0}),  # only the proposer fixes
        Ev("15", "lead", 15, {"ref": REF, "y": "meet-fix", "m": m, "s": 7}, role="lead"),  # no such slot
        Ev("16", "lead", 16, {"ref": REF, "y": "meet-fix", "m": m, "s": 1}, role="lead"),
        Ev("17", "stranger", 17, {"ref": REF, "y": "avail", "av": {"tz": "UTC"}}),
        Ev("18", "member1", 18, ["not", "a", "dict"]),  # type: ignore[arg-type]
    ]
    folded = fold("circle", events, {"lead": "lead", "member1": "member", "member2": "member"})
    assert list(folded.meetings) == [m]
    meeting = folded.meetings[m]
    assert (meeting.title, meeting.slots, meeting.fixed) == ("Check-in", ((10, 20), (30, 40)), 1)
    assert dict(meeting.answers) == {"member1": ("yes", "no")}
    assert folded.shared == {}


def av_in(account: str, tz: str, utc_windows: list[datetime.datetime]) -> Availability:
    """Someone in ``tz`` free for an hour from each UTC instant given, written as their local weekly windows."""
    windows = []
    for at in utc_windows:
        local = at.astimezone(ZoneInfo(tz))
        start = local.hour * 60 + local.minute
        assert start + 60 <= 1440, "the hour stays inside one local day"
        windows.append(Window(local.weekday(), start, start + 60))
    return Availability(account, tz, weekly=tuple(windows))


def test_availability_shared_with_the_circle_is_what_others_see_and_a_broken_share_is_ignored(circle):
    circle_id, lead, amina, joao, _priya, _omar = circle
    mine = av_in(amina.id, "Africa/Nairobi", [datetime.datetime(2026, 6, 2, 17, tzinfo=datetime.UTC)])
    amina.group.share_availability(circle_id, mine)
    joao.circles.post(circle_id, POST, {"ref": REF, "y": "avail", "av": {"tz": "Mars/Olympus", "w": "lots"}})
    rounds(amina, joao, lead)
    shared = lead.group.availabilities(circle_id)
    assert set(shared) == {amina.id}
    assert shared[amina.id].tz == "Africa/Nairobi" and shared[amina.id].weekly == mine.weekly


ZONES = (
    "Africa/Nairobi", "Europe/London", "America/Sao_Paulo", "Asia/Tehran", "Asia/Kathmandu", "Pacific/Chatham",
    "Pacific/Apia", "America/Los_Angeles", "Asia/Kolkata", "Africa/Lagos",
)  # fmt: skip
TUESDAY = datetime.datetime(2026, 6, 2, 17, tzinfo=datetime.UTC)  # 18:00 in London (summer time)
WEDNESDAY = datetime.datetime(2026, 6, 3, 9, tzinfo=datetime.UTC)
THURSDAY = datetime.datetime(2026, 6, 4, 12, tzinfo=datetime.UTC)


def thirty() -> dict[str, Availability]:
    """A lead in London and 29 members across ten zones: 24 of the 30 are free on Tuesday 17:00-18:00 UTC, the
    other 6 on Wednesday 09:00-10:00 UTC, all 30 on Thursday 12:00-13:00 UTC (each written in their own zone)."""
    known = {}
    for index in range(30):
        account = f"{index:032x}"
        tz = "Europe/London" if index == 0 else ZONES[index % len(ZONES)]
        known[account] = av_in(account, tz, [TUESDAY if index < 24 else WEDNESDAY, THURSDAY])
    return known


def monday() -> int:
    return meeting_time.week_start(ms(TUESDAY), "Europe/London")


def ms(at: datetime.datetime) -> int:
    return int(at.timestamp() * 1000)


def test_the_grid_counts_who_can_come_in_a_30_member_circle_across_ten_zones():
    grid = week_grid(thirty(), monday(), "Europe/London", 30)
    assert (grid.members, grid.known, grid.days[0]) == (30, 30, datetime.date(2026, 6, 1))
    counts = {(d, r): len(c.free) for d, column in enumerate(grid.cells) for r, c in enumerate(column) if c.free}
    assert counts == {(1, 36): 24, (1, 37): 24, (2, 20): 6, (2, 21): 6, (3, 26): 30, (3, 27): 30}
    group = GroupMeetings(None, "", thirty().get, monday)  # type: ignore[arg-type]  # best() reads no circle
    assert [(len(o.free), o.start) for o in group.best(grid, minutes=60)] == [
        (30, ms(THURSDAY)), (24, ms(TUESDAY)), (6, ms(WEDNESDAY)),
    ]  # fmt: skip


def test_the_grid_shows_the_counts_with_accessible_text_and_arrow_keys_move_between_cells(qtbot):
    from PySide6.QtCore import Qt

    from desktop.ui.views.circle_meetings import WeekTable

    grid = week_grid(thirty(), monday(), "Europe/London", 30)
    table = WeekTable()
    qtbot.addWidget(table)
    names = [d.strftime("%A %-d %B") for d in grid.days]
    table.show_grid(grid, names, names)
    table.show()
    assert table.text_at(36, 1) == "24"  # Tuesday 18:00 in London
    assert table.accessible_at(36, 1) == "Tuesday 2 June 18:00–18:30: 24 of 30 can come"
    index = table.model().index(36, 1)
    assert index.data(Qt.ItemDataRole.AccessibleTextRole) == "Tuesday 2 June 18:00–18:30: 24 of 30 can come"
    assert table.text_at(26, 3) == "30" and table.text_at(20, 0) == ""
    table.setFocus()
    table.move_to(36, 1)
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert (table.currentIndex().row(), table.currentIndex().column()) == (37, 1)
    qtbot.keyClick(table, Qt.Key.Key_Right)
    assert (table.currentIndex().row(), table.currentIndex().column()) == (37, 2)
    qtbot.keyClick(table, Qt.Key.Key_Up)
    assert table.currentIndex().data(Qt.ItemDataRole.AccessibleTextRole) == (
        "Wednesday 3 June 18:00–18:30: 0 of 30 can come"
    )
    table.select_span(ms(THURSDAY), ms(THURSDAY) + HOUR_MS)
    assert table.chosen_slots() == [(ms(THURSDAY), ms(THURSDAY) + HOUR_MS)]


def test_the_meetings_tab_proposes_the_chosen_cells_and_members_answer_and_see_it_fixed(circle, qtbot):
    from desktop.ui.views.circle_meetings import MeetingsPanel

    circle_id, lead, amina, _joao, _priya, _omar = circle
    now = lead.circles.now_ms
    london, nairobi = (lambda: "Europe/London"), (lambda: "Africa/Nairobi")
    amina.group.share_availability(circle_id, av_in(amina.id, "Africa/Nairobi", [TUESDAY]))
    rounds(amina, lead)
    panels = {}
    for person, zone in ((lead, london), (amina, nairobi)):
        panel = panels[person.name] = MeetingsPanel(person.group, zone, now)
        qtbot.addWidget(panel)
        panel.show_circle(circle_id, person.circles.role(circle_id, person.id), {lead.id: "Dr Ama Owusu"})
    ours = panels[lead.name]
    assert ours.grid.known == 1 and ours.grid.members == 4
    assert ours.propose_box.isVisibleTo(ours) and not panels[amina.name].propose_box.isVisibleTo(ours)
    ours.week = 1  # next week: its Wednesday 10:00-11:00 in London, chosen in the grid
    ours.refresh()
    wednesday = ours.grid.cells[2]
    ours.table.select_span(wednesday[20].start, wednesday[21].end)
    ours.title.setText("Protocol review")
    said = []
    ours.said.connect(lambda text, error: said.append((text, error)))
    ours._propose()
    assert said[-1] == ("Meeting proposed.", False)
    [meeting] = lead.group.meetings(circle_id)
    assert meeting.title == "Protocol review" and len(meeting.slots) == 1
    assert meeting_time.to_local(meeting.slots[0][0], "Europe/London").strftime("%a %H:%M") == "Wed 10:00"
    assert meeting.slots[0][1] - meeting.slots[0][0] == HOUR_MS
    rounds(lead, amina)

    theirs = panels[amina.name]
    theirs.refresh()
    theirs.list.setCurrentRow(0)
    assert theirs.fix_button.isHidden(), "only the proposer fixes"
    theirs.answers[0].setCurrentIndex(theirs.answers[0].findData("maybe"))
    theirs.refresh()  # something arrived while she was choosing: her choice stays
    assert theirs.answers[0].currentData() == "maybe"
    theirs._answer()
    rounds(amina, lead)
    ours.refresh()
    ours.list.setCurrentRow(0)
    assert ours.fix_slot.itemText(0).endswith("0 yes, 1 maybe, 0 no")
    ours._fix()
    rounds(lead, amina)
    theirs.refresh()
    assert "fixed" in theirs.list.item(0).text() and "Protocol review" in theirs.list.item(0).text()
    theirs.clear()  # locked: nothing of the circle left in the widgets
    assert theirs.table.model().rowCount() == 0 and theirs.list.count() == 0


def test_the_grid_mirrors_right_to_left(qtbot):
    from PySide6.QtCore import Qt

    from desktop.ui.views.circle_meetings import WeekTable

    grid = week_grid(thirty(), monday(), "Asia/Tehran", 30)
    table = WeekTable()
    qtbot.addWidget(table)
    table.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    table.show_grid(grid, ["day"] * 7, ["day"] * 7)
    table.resize(600, 400)
    table.show()
    monday_x = table.visualRect(table.model().index(0, 0)).center().x()
    sunday_x = table.visualRect(table.model().index(0, 6)).center().x()
    assert monday_x > sunday_x, "Monday is the rightmost column right to left"
    table.move_to(0, 0)
    qtbot.keyClick(table, Qt.Key.Key_Left)  # towards the end of the week, as it reads right to left
    assert table.currentIndex().column() == 1
