"""The Projects page driven as a person drives it (keys and clicks, offscreen) against a real server: start a
project, walk its stage path, move tasks on the board with the keyboard (mirrored right to left), add a shared
file and save it back, and the CRediT table: a member refused on someone else's column, the lead confirming."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from desktop.ui import file_dialogs
from desktop.ui.views.projects import ProjectsView
from tests.test_projects import Person, rounds


class SessionPerson:
    """The person at the keyboard: a full Session (as the app has), synced by hand."""

    def __init__(self, client, folder: Path) -> None:
        settings = SettingsStore(folder / "settings.json")
        settings.update(lambda s: replace(s, live_delivery=False))
        self.session = Session(client.vault, folder, settings)
        self.id = client.account.hex()

    def sync(self) -> None:
        self.session.engine.sync_once()  # uploads pending files first (before_push)
        self.session.messaging.take_in()
        self.session.circles.take_in()


@pytest.fixture
def pair(client_factory, tmp_path, qtbot):
    """Amina at the keyboard (a member) and Dr Mensah (the project lead) on his own device."""
    lead_client, amina_client = client_factory("mentor"), client_factory("student")
    lead_client.publish_card("Dr Kofi Mensah", role="mentor")
    amina_client.publish_card("Amina Yusuf", role="student")
    lead = Person(lead_client, "Dr Kofi Mensah")
    amina = SessionPerson(amina_client, tmp_path)
    rounds(lead, amina)
    view = ProjectsView(amina.session)
    qtbot.addWidget(view)
    view.resize(900, 560)
    view.show()
    yield lead, amina, view
    amina.session.stop()
    file_dialogs.answer = None


def project_with(lead, amina, view) -> str:
    project = lead.projects.create("Sepsis audit", members={amina.id: "member"})
    rounds(lead, amina)
    view.refresh()
    view.list.setCurrentRow(0)
    return project


def test_start_a_project_and_walk_its_path(pair, qtbot):
    _lead, amina, view = pair
    qtbot.keyClicks(view.new_title, "Antibiotic stewardship survey")
    qtbot.keyClick(view.new_title, Qt.Key.Key_Return)
    assert view.list.count() == 1 and "Antibiotic stewardship survey" in view.list.item(0).text()
    assert view.tabs.isEnabled() and view.title.text() == "Antibiotic stewardship survey"
    stepper = view.path.stepper
    stepper.setFocus()
    stepper.setCurrentRow(0)
    qtbot.keyClick(stepper, Qt.Key.Key_Right)
    qtbot.keyClick(stepper, Qt.Key.Key_Right)
    assert view.path.stage() == "ethics"
    view.path.notes.setPlainText("Submit to the hospital's committee")
    view.path.done.setChecked(True)
    qtbot.mouseClick(view.path.save_button, Qt.MouseButton.LeftButton)
    state = amina.session.projects.state(view.current)
    assert state.stages["ethics"].done and state.stages["ethics"].notes == "Submit to the hospital's committee"
    assert stepper.item(2).text().startswith("✓") and view.path.stage() == "ethics"
    assert "next sync" in view.status.text()


@pytest.mark.parametrize("direction", [Qt.LayoutDirection.LeftToRight, Qt.LayoutDirection.RightToLeft])
def test_tasks_move_on_the_board_with_the_keyboard(pair, qtbot, direction):
    lead, amina, view = pair
    view.setLayoutDirection(direction)
    project = project_with(lead, amina, view)
    view.tabs.setCurrentWidget(view.board)
    for title in ("Search the literature", "Draft the form", "Book the room"):
        qtbot.keyClicks(view.board.new_task, title)
        qtbot.keyClick(view.board.new_task, Qt.Key.Key_Return)
    todo, doing = view.board.columns["todo"], view.board.columns["doing"]
    assert [todo.item(r).text() for r in range(todo.count())] == [
        "Search the literature",
        "Draft the form",
        "Book the room",
    ]
    forward = Qt.Key.Key_Left if direction == Qt.LayoutDirection.RightToLeft else Qt.Key.Key_Right
    todo.setFocus()
    todo.setCurrentRow(1)
    qtbot.keyClick(todo, forward, Qt.KeyboardModifier.ControlModifier)
    assert [doing.item(r).text() for r in range(doing.count())] == ["Draft the form"]
    assert doing.hasFocus() and doing.currentItem().text() == "Draft the form", "the task keeps the focus"
    todo.setFocus()
    todo.setCurrentRow(1)
    qtbot.keyClick(todo, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert [todo.item(r).text() for r in range(todo.count())] == ["Book the room", "Search the literature"]
    state = amina.session.projects.state(project)
    assert [t.title for t in state.column("todo")] == ["Book the room", "Search the literature"]
    assert [t.title for t in state.column("doing")] == ["Draft the form"]
    amina.sync()
    lead.sync()
    assert lead.projects.state(project) == state, "the lead's device sees the same board"


def test_a_file_is_added_and_saved_back_and_an_oversized_one_refused(pair, qtbot, tmp_path):
    lead, amina, view = pair
    project = project_with(lead, amina, view)
    view.tabs.setCurrentWidget(view.files)
    source = tmp_path / "data sheet.csv"
    source.write_bytes(b"id,age,culture\n1,3,positive\n")
    file_dialogs.answer = lambda kind, suggested: str(source)
    view.files.findChildren(type(view.files.tree.parent()))
    view.add_file(None)
    top = view.files.tree.topLevelItem(0)
    assert top.text(0) == "data sheet.csv" and top.child(0).text(0).startswith("Version 1")
    view.files.tree.setCurrentItem(top)
    out = tmp_path / "back.csv"
    file_dialogs.answer = lambda kind, suggested: str(out)
    view.files.save()
    assert out.read_bytes() == source.read_bytes()
    amina.sync()
    rounds(lead)
    [shared] = lead.projects.state(project).files
    assert [v.by for v in shared.versions] == [amina.id]
    huge = tmp_path / "scan.tiff"
    with huge.open("wb") as handle:
        handle.truncate(25 * 1024 * 1024 + 1)
    file_dialogs.answer = lambda kind, suggested: str(huge)
    view.add_file(None)
    assert not view.error.isHidden() and "25 MB" in view.error.text()
    assert view.files.tree.topLevelItemCount() == 1


def test_credit_a_member_is_refused_on_someone_elses_column_and_the_lead_confirms(pair, qtbot):
    lead, amina, view = pair
    project = project_with(lead, amina, view)
    view.tabs.setCurrentWidget(view.credit)
    table = view.credit.table
    assert view.credit.confirm_button.isHidden(), "a member has no Confirm"
    columns = {view.credit.members[c]: c for c in range(table.columnCount())}
    table.setCurrentCell(0, columns[lead.id])
    view.credit.level.setCurrentIndex(view.credit.level.findData("lead"))
    qtbot.mouseClick(view.credit.set_button, Qt.MouseButton.LeftButton)
    assert "Only its owner or the project lead" in view.error.text() and not view.error.isHidden()
    assert amina.session.projects.state(project).credits == {}
    table.setCurrentCell(0, columns[amina.id])
    qtbot.mouseClick(view.credit.set_button, Qt.MouseButton.LeftButton)
    assert view.error.isHidden() and table.item(0, columns[amina.id]).text() == "lead"
    confirmed_row = table.rowCount() - 1
    assert table.item(confirmed_row, columns[amina.id]).text() == "not yet"
    amina.sync()
    lead.sync()
    lead.projects.confirm_credit(project, amina.id)
    lead.sync()
    amina.sync()
    view.refresh()
    assert table.item(confirmed_row, columns[amina.id]).text() == "yes"


def test_the_lead_confirms_a_members_contributions_from_the_table(pair, qtbot):
    mentor, amina, view = pair  # here Amina leads her own project, and Dr Mensah contributes to it
    project = amina.session.projects.create("Hand hygiene audit", members={mentor.id: "mentor"})
    amina.sync()
    mentor.sync()
    mentor.projects.set_credit(project, mentor.id, {"supervision": "lead", "methodology": "supporting"})
    mentor.sync()
    amina.sync()
    view.refresh()
    view.list.setCurrentRow(0)
    view.tabs.setCurrentWidget(view.credit)
    assert not view.credit.confirm_button.isHidden()
    column = view.credit.members.index(mentor.id)
    view.credit.table.setCurrentCell(0, column)
    qtbot.mouseClick(view.credit.confirm_button, Qt.MouseButton.LeftButton)
    assert view.credit.table.item(view.credit.table.rowCount() - 1, column).text() == "yes"
    amina.sync()
    mentor.sync()
    assert mentor.projects.state(project).credits[mentor.id].confirmed


def test_a_sync_while_writing_a_stage_note_keeps_the_note(pair, qtbot):
    lead, amina, view = pair
    project = project_with(lead, amina, view)
    view.path.stepper.setCurrentRow(1)
    qtbot.keyClicks(view.path.notes, "Draft sent to Dr Mensah")
    lead.projects.add_task(project, "Book the ethics meeting")  # meanwhile, on the lead's device
    lead.sync()
    amina.sync()
    view.refresh()  # what the main window does when a sync brought records
    assert view.board.columns["todo"].count() == 1, "the page shows what came"
    assert view.path.stage() == "protocol" and view.path.notes.toPlainText() == "Draft sent to Dr Mensah"
    qtbot.mouseClick(view.path.save_button, Qt.MouseButton.LeftButton)
    assert amina.session.projects.state(project).stages["protocol"].notes == "Draft sent to Dr Mensah"
    view.list.setCurrentRow(-1)
    other = amina.session.projects.create("Another project")
    view.refresh()
    view.open_project(other)
    assert view.path.notes.toPlainText() == "" and view.path.stage() == "question"
