"""Research projects between real clients through a real server (spec §3): three people edit the same project
offline and agree once synced, concurrent edits of different fields both kept; a member cannot change someone
else's CRediT record nor confirm one, and a forged record changes nothing on the others' devices; shared files
with versions go up sealed and come back whole; an oversized file is refused and nothing is queued."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop.domain.projects import ProjectError, Projects
from tests.circle_people import CirclePerson, rounds
from tests.clients import Client


class Person(CirclePerson):
    """One person on one device, as the app wires them: messaging, circles and projects over one vault."""

    def __init__(self, client: Client, name: str) -> None:
        super().__init__(client, name)
        self.projects = Projects(self.circles, self.messaging)

    def sync(self) -> None:
        engine = self.client.engine()
        for version, entry in self.messaging.pending_uploads():  # as Session._upload_attachments does
            engine.upload_blob(self.messaging.sealed_attachment(entry))
            self.messaging.uploaded(version)
        super().sync()

    def download(self, version: str, folder: Path) -> None:
        entry = self.messaging.attachment(version)
        sealed = self.client.engine().download_blob(entry["sha"], folder / entry["sha"])
        self.messaging.store_downloaded(version, sealed.read_bytes())


@pytest.fixture
def team(client_factory):
    """A project lead and two members in one project, everyone synced."""
    people = []
    for name, role in (("Dr Kofi Mensah", "mentor"), ("Amina Yusuf", "student"), ("Lucas Silva", "student")):
        client = client_factory(role)
        client.publish_card(name, role=role)
        people.append(Person(client, name))
    rounds(*people)
    lead, amina, lucas = people
    project = lead.projects.create(
        "Neonatal sepsis in district hospitals", members={amina.id: "member", lucas.id: "peer"}
    )
    rounds(*people)
    assert [p.id for p in amina.projects.projects()] == [project] == [p.id for p in lucas.projects.projects()]
    return project, lead, amina, lucas


def test_three_devices_editing_offline_converge_with_concurrent_fields_kept(team):
    project, lead, amina, lucas = team
    task = lead.projects.add_task(project, "Write the protocol")
    rounds(lead, amina, lucas)
    # offline, all three at once: different fields of the same task, the same stage field twice, and more
    lead.projects.update_task(project, task, title="Write the study protocol")
    amina.projects.move_task(project, task, "doing")
    lucas.projects.update_task(project, task, owner=lucas.id, due=1_800_000_000_000)
    lead.projects.set_stage(project, "ethics", owner=lucas.id, notes="Ask the IRB in October")
    lucas.projects.set_stage(project, "ethics", notes="IRB form drafted")
    amina.projects.set_stage(project, "question", done=True)
    amina.projects.set_credit(project, amina.id, {"conceptualization": "lead", "investigation": "equal"})
    lucas.projects.add_decision(project, "We use the WHO definition of neonatal sepsis")
    second = lead.projects.add_task(project, "Pilot the data form")
    assert lead.projects.state(project) != amina.projects.state(project), "offline, each sees only their own"
    rounds(lead, amina, lucas)
    states = [p.projects.state(project) for p in (lead, amina, lucas)]
    assert states[0] == states[1] == states[2]
    state = states[0]
    written = {t.id: t for t in state.tasks}
    assert (written[task].title, written[task].state, written[task].owner, written[task].due) == (
        "Write the study protocol",
        "doing",
        lucas.id,
        1_800_000_000_000,
    )
    assert written[second].state == "todo"
    assert state.stages["ethics"].owner == lucas.id and state.stages["ethics"].notes in (
        "Ask the IRB in October",
        "IRB form drafted",
    )
    assert state.stages["question"].done and state.current_stage() == "protocol"
    assert state.credits[amina.id].roles == {"conceptualization": "lead", "investigation": "equal"}
    assert [d.text for d in state.decisions] == ["We use the WHO definition of neonatal sepsis"]


def test_a_member_cannot_change_someone_elses_credit_nor_confirm_and_forgeries_drop(team):
    project, lead, amina, lucas = team
    amina.projects.set_credit(project, amina.id, {"formal-analysis": "lead", "software": "supporting"})
    with pytest.raises(ProjectError) as other:
        lucas.projects.set_credit(project, amina.id, {"formal-analysis": None})
    assert other.value.code == "not-yours"
    with pytest.raises(ProjectError) as confirm:
        amina.projects.confirm_credit(project, amina.id)
    assert confirm.value.code == "not-lead"
    # a modified client skips its own checks: the record goes out, but every other device drops it
    lucas.circles.post(project, "project", {"ref": project, "e": "credit", "id": amina.id, "f": {"software": None}})
    lucas.circles.post(project, "project", {"ref": project, "e": "credit", "id": lucas.id, "f": {"confirmed": "x"}})
    rounds(amina, lucas, lead)
    for person in (lead, amina):
        state = person.projects.state(project)
        assert state.credits[amina.id].roles == {"formal-analysis": "lead", "software": "supporting"}
        assert lucas.id not in state.credits or not state.credits[lucas.id].confirmed
        assert state.refused == 2
    lead.projects.confirm_credit(project, amina.id)
    rounds(lead, amina)
    assert amina.projects.state(project).credits[amina.id].confirmed
    amina.projects.set_credit(project, amina.id, {"validation": "equal"})
    assert not amina.projects.state(project).credits[amina.id].confirmed, "a change needs the lead again"


def test_files_with_versions_round_trip_and_an_oversized_file_is_refused(team, tmp_path):
    project, lead, amina, lucas = team
    first = tmp_path / "protocol.docx"
    first.write_bytes(os.urandom(300_000))
    v1 = amina.projects.add_file(project, first)
    rounds(amina, lucas)
    [shared] = lucas.projects.state(project).files
    assert (shared.name, [v.by for v in shared.versions]) == ("protocol.docx", [amina.id])
    assert lucas.projects.file_state(v1) == "remote"
    lucas.download(v1, tmp_path)
    assert (
        lucas.projects.export_file(v1, tmp_path / "got-v1") and (tmp_path / "got-v1").read_bytes() == first.read_bytes()
    )
    second = tmp_path / "protocol v2.docx"
    second.write_bytes(os.urandom(120_000))
    v2 = lucas.projects.add_file(project, second, shared.id)
    rounds(lucas, amina, lead)
    for person in (lead, amina, lucas):
        [shared] = person.projects.state(project).files
        assert [(v.id, v.by) for v in shared.versions] == [(v1, amina.id), (v2, lucas.id)]
    amina.download(v2, tmp_path)
    assert (
        amina.projects.export_file(v2, tmp_path / "got-v2")
        and (tmp_path / "got-v2").read_bytes() == second.read_bytes()
    )

    huge = tmp_path / "scan.tiff"
    with huge.open("wb") as out:
        out.truncate(25 * 1024 * 1024 + 1)
    queued = amina.client.vault.records.outbox_totals()[0]
    with pytest.raises(ProjectError) as refused:
        amina.projects.add_file(project, huge)
    assert refused.value.code == "file-too-large" and "25 MB" in str(refused.value)
    assert amina.client.vault.records.outbox_totals()[0] == queued
    assert len(amina.projects.state(project).files[0].versions) == 2
