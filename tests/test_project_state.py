"""The per-field last-writer fold of a research project's changes (spec §3), on plain data."""

from __future__ import annotations

import itertools
import random

import pytest

from desktop.domain.project_state import (
    STAGES,
    Change,
    ProjectError,
    check_fields,
    credit_fingerprint,
    fold,
)

LEAD, ANA, BEN = "a" * 32, "b" * 32, "c" * 32
ROLES = {LEAD: "lead", ANA: "member", BEN: "member"}


def change(author, entity, entity_id, hlc, device=None, **fields):
    return Change(entity, entity_id, fields, author, device or author[:4] + "dev", hlc, ROLES.get(author))


def test_concurrent_edits_of_different_fields_both_survive_in_any_order():
    changes = [
        change(ANA, "task", "t1", 1, title="Draft the protocol", state="todo", order=1.0),
        change(ANA, "task", "t1", 5, title="Draft the study protocol"),
        change(BEN, "task", "t1", 4, state="doing"),
        change(LEAD, "stage", "ethics", 3, owner=BEN, notes="IRB form"),
        change(BEN, "stage", "ethics", 6, notes="IRB form sent"),
    ]
    states = set()
    for order in itertools.permutations(changes):
        state = fold(order)
        task = state.tasks[0]
        states.add((task.title, task.state, state.stages["ethics"].owner, state.stages["ethics"].notes))
    assert states == {("Draft the study protocol", "doing", BEN, "IRB form sent")}


def test_same_field_same_hlc_is_decided_by_device_everywhere():
    a = change(ANA, "task", "t1", 7, device="dev-a", title="A")
    b = change(BEN, "task", "t1", 7, device="dev-b", title="B")
    assert fold([a, b]).tasks[0].title == fold([b, a]).tasks[0].title == "B"


def test_a_member_cannot_change_someone_elses_credit_nor_confirm():
    changes = [
        change(ANA, "credit", ANA, 1, conceptualization="lead", software="supporting"),
        change(BEN, "credit", ANA, 2, conceptualization=None),  # forged edit of Ana's record
        change(BEN, "credit", BEN, 3, confirmed="x" * 32),  # confirming oneself
        change(ANA, "credit", ANA, 4, confirmed=credit_fingerprint({"conceptualization": "lead"})),
    ]
    state = fold(changes)
    assert state.credits[ANA].roles == {"conceptualization": "lead", "software": "supporting"}
    assert not state.credits[ANA].confirmed
    assert BEN not in state.credits or not state.credits[BEN].confirmed
    assert state.refused == 3


def test_the_lead_confirms_and_a_later_change_unconfirms():
    roles = {"conceptualization": "lead", "software": "supporting"}
    changes = [
        change(ANA, "credit", ANA, 1, **roles),
        change(LEAD, "credit", ANA, 2, confirmed=credit_fingerprint(roles)),
    ]
    assert fold(changes).credits[ANA].confirmed
    changes.append(change(ANA, "credit", ANA, 3, validation="equal"))
    assert not fold(changes).credits[ANA].confirmed


def test_file_versions_keep_who_uploaded_which_when():
    blob = {"n": "protocol.docx", "s": 10, "h": "0" * 64, "k": b"k" * 32}
    changes = [
        change(ANA, "file", "f1", 1, name="protocol.docx"),
        change(ANA, "file-version", "v1", 2, file="f1", a=blob, by=ANA, at=1000),
        change(BEN, "file-version", "v2", 5, file="f1", a={**blob, "s": 12}, by=BEN, at=2000),
        change(BEN, "file-version", "v3", 6, file="f1", a=blob, by=ANA, at=3000),  # claims Ana uploaded it
    ]
    for order in (changes, changes[::-1]):
        state = fold(order)
        (shared,) = state.files
        assert [(v.id, v.by, v.at) for v in shared.versions] == [("v1", ANA, 1000), ("v2", BEN, 2000)]
        assert shared.latest.attachment["s"] == 12
        assert state.refused == 1


def test_board_columns_and_orders_and_stage_path():
    rng = random.Random(4)
    changes = [
        change(
            ANA, "task", f"t{i}", i + 1, title=f"task {i}", state=rng.choice(("todo", "doing", "done")), order=float(-i)
        )
        for i in range(30)
    ]
    changes += [change(LEAD, "stage", s, 100 + n, done=True) for n, s in enumerate(STAGES[:3])]
    state = fold(changes)
    for column in ("todo", "doing", "done"):
        orders = [t.order for t in state.column(column)]
        assert orders == sorted(orders)
    assert state.current_stage() == "data"


def test_bad_fields_are_refused_clearly_and_dropped_when_they_arrive():
    with pytest.raises(ProjectError) as too_long:
        check_fields("stage", "ethics", {"notes": "x" * 5000})
    assert too_long.value.code == "too-large"
    with pytest.raises(ProjectError):
        check_fields("stage", "lunch", {"done": True})
    with pytest.raises(ProjectError):
        check_fields("task", "t1", {"state": "someday"})
    state = fold([change(ANA, "task", "t1", 1, state="someday"), change(ANA, "credit", ANA, 2, software="most")])
    assert state.tasks == [] and state.credits == {} and state.refused == 2
