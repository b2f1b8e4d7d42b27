"""The portfolio between real clients through a real server: a mentor confirms a mentorship, the student exports
a signed PDF and CSV, and ``osler verify-portfolio`` checks them offline; one changed byte anywhere, or a
counter-signature by someone who is not the mentor, and it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop import app
from desktop.domain import keyring
from desktop.domain.circles import Circles
from desktop.domain.directory import DeviceEntry
from desktop.domain.mentorship import DAY_MS, Mentorships
from desktop.domain.portfolio import STATEMENT_TYPE, Portfolio, PortfolioError, canonical, signer_chain
from desktop.domain.portfolio_file import MARK, PortfolioInvalid, export, seal, split, to_csv, verify
from desktop.domain.projects import Projects
from desktop.ui import file_dialogs
from desktop.ui.portfolio_pdf import render_pdf
from sync import envelope
from tests.screenshots import first_run, plan_a_mentorship

START = 1_780_000_000_000  # a fixed day: nothing here depends on the date the test runs


class Side:
    def __init__(self, client, name: str, role: str) -> None:
        self.client, self.name = client, name
        creds = client.program.credentials
        me = DeviceEntry(creds.device.hex(), creds.key.public_bytes(), client.program.box.public_bytes(), "laptop")
        client.publish_card(name, role=role, **keyring.account_fields(client.vault, client.account, [me]))
        self.messaging = client.messaging()
        self.mentorships = Mentorships(client.vault, self.messaging)
        self.circles = Circles(client.vault, self.messaging)
        self.projects = Projects(self.circles, self.messaging)
        self.portfolio = Portfolio(client.vault, self.messaging, self.mentorships, self.circles, lambda: self.projects)
        self.account = client.account.hex()

    def sync(self) -> None:
        self.client.engine().sync_once()
        self.messaging.take_in()
        self.circles.take_in()


def _sync(*sides: Side) -> None:
    for side in sides:
        side.sync()


@pytest.fixture
def people(client_factory):
    student = Side(client_factory(), "Amina Okafor", "student")
    mentor = Side(client_factory("mentor"), "Dr Kofi Mensah", "mentor")
    other = Side(client_factory("mentor"), "Dr Eve Marlow", "mentor")
    for _ in range(2):
        _sync(student, mentor, other)
    return student, mentor, other


def _confirmed_mentorship(student: Side, mentor: Side) -> str:
    plan = student.mentorships.ask(mentor.account, "Could you guide my first case report?", ["Case report"], START)
    _sync(student, mentor)
    mentor.mentorships.answer(plan, accept=True)
    _sync(mentor, student)
    for week in range(3):
        student.mentorships.check_in(plan, f"week {week}", "", "next", START + (week + 1) * 7 * DAY_MS)
    student.mentorships.set(plan, "hours", 12)
    _sync(student, mentor)
    asked = student.portfolio.ask(plan)
    assert asked == mentor.account
    _sync(student, mentor)
    [request] = mentor.portfolio.requests()
    assert request.subject == student.account and request.entry["id"] == plan
    mentor.portfolio.confirm(request.id)
    _sync(mentor, student)
    assert plan in student.portfolio.attestations()
    return plan


def test_confirmed_mentorship_exports_and_verifies(people, qapp, tmp_path: Path, capsys):
    student, mentor, _other = people
    plan = _confirmed_mentorship(student, mentor)
    pdf, csv_path, size = export(student.portfolio, tmp_path / "portfolio", render_pdf, programme="Osler demo")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and size == len(data) and csv_path.suffix == ".csv"
    result = verify(data, csv_path.read_bytes())
    assert result.subject == student.account and result.name == "Amina Okafor"
    [confirmation] = result.confirmations
    assert confirmation.by == mentor.account and confirmation.entry["id"] == plan
    assert confirmation.entry["checkins"] == 3 and confirmation.entry["hours"] == 12
    assert "Dr Kofi Mensah" in csv_path.read_text() and "mentee" in csv_path.read_text()

    assert app.main(["verify-portfolio", str(pdf), str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert "OK: signed by Amina Okafor" in out
    assert "Counter-signed by Dr Kofi Mensah" in out and "3 check-ins, 12 hours" in out
    fingerprint = envelope.identity_fingerprint(keyring.current(mentor.client.vault).identity_public)
    assert fingerprint in out  # the mentor's safety number, to compare with what Osler shows


def test_one_changed_byte_anywhere_fails(people, qapp, tmp_path: Path, capsys):
    student, mentor, _other = people
    _confirmed_mentorship(student, mentor)
    pdf, csv_path, _size = export(student.portfolio, tmp_path / "portfolio.pdf", render_pdf)
    data, csv_bytes = pdf.read_bytes(), csv_path.read_bytes()
    block = data.rfind(MARK)
    offsets = [
        0,
        9,
        block // 3,
        block // 2,
        block - 2,
        block + 3,
        block + len(MARK) + 5,
        (block + len(data)) // 2,
        len(data) - 30,
        len(data) - 2,
    ]
    for offset in offsets:
        changed = bytearray(data)
        changed[offset] ^= 0x01
        with pytest.raises(PortfolioInvalid):
            verify(bytes(changed), csv_bytes)
        tampered = tmp_path / f"tampered-{offset}.pdf"
        tampered.write_bytes(bytes(changed))
        assert app.main(["verify-portfolio", str(tampered)]) == 1
        assert "REFUSED" in capsys.readouterr().err
    for offset in (0, len(csv_bytes) // 2, len(csv_bytes) - 1):
        changed = bytearray(csv_bytes)
        changed[offset] ^= 0x01
        with pytest.raises(PortfolioInvalid, match="CSV"):
            verify(data, bytes(changed))
    for offset in range(0, len(data), 41):  # and a sweep over the whole file, block included
        changed = bytearray(data)
        changed[offset] = (changed[offset] + 1) % 256
        with pytest.raises(PortfolioInvalid):
            verify(bytes(changed), csv_bytes)
    with pytest.raises(PortfolioInvalid):
        verify(data + b"\n", csv_bytes)  # something added after the block
    with pytest.raises(PortfolioInvalid):
        verify(data[:block], csv_bytes)  # the block cut off
    verify(data, csv_bytes)  # and the untouched pair still passes


def test_attestation_by_someone_not_the_mentor_is_refused(people, qapp, tmp_path: Path):
    student, mentor, other = people
    plan = student.mentorships.ask(mentor.account, "Guide me?", [], START)
    _sync(student, mentor)
    mentor.mentorships.answer(plan, accept=True)
    _sync(mentor, student)
    entry = student.portfolio.entry(plan)
    assert entry is not None

    # another mentor signs a statement claiming to be the mentor of that mentorship, and sends it
    forged_entry = {**entry, "mentor": other.account}
    chain = signer_chain(other.client.vault, other.messaging, "Dr Eve Marlow")
    statement = canonical(
        {
            "type": STATEMENT_TYPE,
            "v": 1,
            "subject": student.account,
            "by": other.account,
            "entry": forged_entry,
            "at": START,
            "signer": chain,
        }
    )
    forged = {
        "statement": statement.hex(),
        "signature": other.client.program.credentials.key.sign_statement(statement).hex(),
        "signer": chain,
    }
    thread = other.messaging.start_direct(student.account)
    other.messaging._sealed_record(thread, "attestation", {"i": "x" * 32, "a": forged})
    _sync(other, student)
    assert student.portfolio.attestations() == {} and student.portfolio.refused == 1

    # a person asked about an entry that is not theirs to confirm cannot sign it
    thread = student.messaging.start_direct(other.account)
    student.messaging._sealed_record(thread, "attest-request", {"i": "r" * 32, "e": entry, "at": START})
    _sync(student, other)
    [request] = other.portfolio.requests()
    with pytest.raises(PortfolioError) as refused:
        other.portfolio.confirm(request.id)
    assert refused.value.code == "not-confirmer"

    # and a portfolio carrying the forged counter-signature (signed by the person themself) does not verify
    facts = student.portfolio.facts()
    signer = signer_chain(student.client.vault, student.messaging, "Amina Okafor")
    csv_bytes = to_csv(facts, [])
    data = seal(
        render_pdf(facts, [], signer), csv_bytes, facts, [forged], student.client.program.credentials.key, signer
    )
    with pytest.raises(PortfolioInvalid, match="not the mentor"):
        verify(data, csv_bytes)
    _pdf, doc = split(data)
    assert json.loads(bytes.fromhex(doc["statement"]["attestations"][0]["statement"]))["by"] == other.account


def test_project_with_credit_roles_confirmed_by_its_lead(people, qapp, tmp_path: Path, capsys):
    student, lead, other = people
    circle = lead.circles.create("Journal club", members={student.account: "member"})
    project = lead.projects.create("Neonatal sepsis audit", members={student.account: "member"})
    _sync(lead, student, lead, student)
    student.projects.set_credit(project, student.account, {"investigation": "lead", "data-curation": "equal"})
    _sync(student, lead)
    lead.projects.confirm_credit(project, student.account)
    _sync(lead, student)
    facts = student.portfolio.facts()
    [listed_circle] = facts["circles"]
    [listed_project] = facts["projects"]
    assert (listed_circle["title"], listed_circle["role"], listed_circle["lead"]) == (
        "Journal club",
        "member",
        lead.account,
    )
    assert listed_project["credit"] == {"investigation": "lead", "data-curation": "equal", "confirmed": True}

    assert student.portfolio.ask(project) == lead.account
    assert student.portfolio.ask(circle) == lead.account
    _sync(student, lead)
    for request in lead.portfolio.requests():
        lead.portfolio.confirm(request.id)
    _sync(lead, student)
    assert set(student.portfolio.attestations()) == {project, circle}
    with pytest.raises(PortfolioError):
        other.portfolio.ask(project)  # not a member: nothing to ask about

    pdf, csv_path, _size = export(student.portfolio, tmp_path / "record.pdf", render_pdf, programme="Osler")
    result = verify(pdf.read_bytes(), csv_path.read_bytes())
    confirmed = {c.entry["id"]: c for c in result.confirmations}
    assert confirmed[project].entry["credit"]["investigation"] == "lead" and confirmed[project].by == lead.account
    assert "investigation=lead" in csv_path.read_text()
    assert app.main(["verify-portfolio", str(pdf), str(csv_path)]) == 0
    assert "Project “Neonatal sepsis audit”, role member" in capsys.readouterr().out


def test_export_from_the_mentorships_page(qapp, tmp_path: Path, capsys):
    """A student in the demo programme exports from the Mentorships page through the save dialog; the files verify,
    and "Ask to confirm" queues the request to the mentor."""
    osler = first_run(qapp, tmp_path / "profile", "en", "student", shots=False)
    try:
        plan_a_mentorship(osler)
        view = osler.main.mentorships
        osler.main.navigate("mentorships")
        panel = view.portfolio
        assert panel.isVisibleTo(osler.window)
        lines = [panel.record.item(row).text() for row in range(panel.record.count())]
        # the mentorship, and the demo's research circle and projects as their syncs bring them
        mentorship = next(row for row, line in enumerate(lines) if line.startswith("Mentorship with"))
        assert sum(line.startswith("Mentorship with") for line in lines) == 1
        assert "not confirmed" in lines[mentorship]
        chosen = tmp_path / "out" / "my record.pdf"
        chosen.parent.mkdir()
        file_dialogs.answer = lambda kind, suggested: str(chosen) if kind == "save" else ""
        panel.export_button.click()
        assert "Saved my record.pdf" in view.status.text()
        assert app.main(["verify-portfolio", str(chosen), str(chosen.with_suffix(".csv"))]) == 0
        assert "No entry is counter-signed." in capsys.readouterr().out
        panel.record.setCurrentRow(mentorship)
        panel.ask_button.click()
        asked = [panel.record.item(row).text() for row in range(panel.record.count())]
        assert "Asked" in view.status.text()
        assert any(line.startswith("Mentorship with") and "asked" in line for line in asked)
    finally:
        file_dialogs.answer = None
        osler.shutdown()
        osler.window.close()


def test_a_statement_signature_is_good_for_statements_only():
    """The statement context is its own: a device's signature over a statement is not a release signature, and a
    release or record signature is not a statement's."""
    key = envelope.DeviceKey.generate()
    statement = canonical({"type": STATEMENT_TYPE, "v": 1})
    signature = envelope.sign_statement(key, statement)
    assert envelope.verify_statement(key.public_bytes(), statement, signature)
    assert not envelope.verify_release(key.public_bytes(), statement, signature)
    assert not envelope.verify_statement(key.public_bytes(), statement, key.sign_release(statement))
    assert not envelope.verify_statement(key.public_bytes(), statement + b" ", signature)


def test_the_mentor_confirms_from_their_page_and_the_export_carries_it(people, qapp, tmp_path: Path, capsys):
    """Both people's apps (sessions and the Portfolio panel, as the Mentorships page shows it): the student asks,
    the mentor sees the request and clicks Confirm and sign, the student's export verifies with the mentor's
    counter-signature."""
    from desktop.domain.session import Session
    from desktop.domain.settings import SettingsStore
    from desktop.ui.views.portfolio_panel import PortfolioPanel

    student, mentor, _other = people
    plan = student.mentorships.ask(mentor.account, "Guide my audit?", ["Audit"], START)
    _sync(student, mentor)
    mentor.mentorships.answer(plan, accept=True)
    _sync(mentor, student)
    sessions = {
        side.account: Session(side.client.vault, tmp_path / side.name, SettingsStore(tmp_path / f"{side.name}.json"))
        for side in (student, mentor)
    }

    def sync(side: Side) -> None:
        session = sessions[side.account]
        session.engine.sync_once()
        session.messaging.take_in()

    panels = {account: PortfolioPanel(session) for account, session in sessions.items()}
    mine, theirs = panels[student.account], panels[mentor.account]
    said: list[tuple[str, bool]] = []
    mine.said.connect(lambda text, error: said.append((text, error)))
    mine.select(plan)
    mine.ask_button.click()
    assert said[-1] == ("Asked Dr Kofi Mensah to confirm: it goes out with the next sync.", False)
    sync(student)
    sync(mentor)
    theirs.refresh()
    assert theirs.asked.isVisibleTo(theirs) and theirs.asked.count() == 1
    assert theirs.asked.item(0).text() == "Amina Okafor asks you to confirm: Mentorship with Amina Okafor"
    theirs.confirm_button.click()
    assert theirs.asked.count() == 0
    sync(mentor)
    sync(student)
    mine.refresh()
    assert mine.record.item(0).text().endswith("· confirmed")
    chosen = tmp_path / "application" / "portfolio.pdf"
    chosen.parent.mkdir()
    file_dialogs.answer = lambda kind, suggested: str(chosen)
    try:
        mine.export_button.click()
    finally:
        file_dialogs.answer = None
    assert said[-1][0].startswith("Saved portfolio.pdf") and not said[-1][1]
    assert app.main(["verify-portfolio", str(chosen), str(chosen.with_suffix(".csv"))]) == 0
    assert "Counter-signed by Dr Kofi Mensah" in capsys.readouterr().out
