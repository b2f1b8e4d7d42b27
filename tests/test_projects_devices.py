"""A research project edited offline on three devices of two people (Amina's laptop and phone, the lead's
laptop): once synced, every device shows the same project, with concurrent edits of different fields kept."""

from __future__ import annotations

from desktop.domain.session import Session
from tests.devices_helpers import link, person, settle


def settle_all(*sessions: Session, rounds: int = 3) -> None:
    for _ in range(rounds):
        for session in sessions:
            settle(session, rounds=1)
            session.circles.take_in()


def test_two_people_three_devices_edit_offline_and_converge(tmp_path, server):
    lead, _ = person(tmp_path / "lead", server, "Dr Kofi Mensah", role="mentor")
    laptop, _ = person(tmp_path / "amina", server, "Amina Yusuf")
    phone = link(laptop, tmp_path / "amina-phone")
    settle_all(lead, laptop, phone)
    amina = laptop.program.credentials.account.hex()
    project = lead.projects.create("Sepsis audit", members={amina: "member"})
    task = lead.projects.add_task(project, "Write the protocol")
    settle_all(lead, laptop, phone)
    assert [p.id for p in phone.projects.projects()] == [project], "Amina's second device has the project"
    # all three offline at once
    laptop.projects.update_task(project, task, title="Write the study protocol")
    phone.projects.move_task(project, task, "doing")
    lead.projects.update_task(project, task, owner=amina)
    laptop.projects.set_credit(project, amina, {"conceptualization": "lead"})
    phone.projects.set_credit(project, amina, {"investigation": "equal"})
    settle_all(lead, laptop, phone)
    states = [s.projects.state(project) for s in (lead, laptop, phone)]
    assert states[0] == states[1] == states[2]
    [written] = states[0].tasks
    assert (written.title, written.state, written.owner) == ("Write the study protocol", "doing", amina)
    assert states[0].credits[amina].roles == {"conceptualization": "lead", "investigation": "equal"}
    for session in (lead, laptop, phone):
        session.stop()
