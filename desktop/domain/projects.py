"""Research projects (spec §3): a circle of kind ``project`` whose members share a stage path, a task board,
files with versions, a decisions log, an authorship plan and a CRediT contribution log.

Every change is one sealed, signed ``project`` record posted in the project's circle (``Circles.post``), applied
here at once so it works offline; the project's state is the fold of its change events, last writer per field
by (hlc, device) (``project_state.fold``), so devices that edited offline agree once they have synced. The rules
(a member edits only their own CRediT record, only the lead confirms one) are checked before writing, with a
clear ``ProjectError``, and again by every device when folding, so a record that breaks them changes nothing.

Shared files travel as messaging's attachments do: kept in the vault, sealed under their own key and uploaded at
the next sync (``Messaging.pending_uploads``), fetched by ``Session.download_attachment`` with the version id.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.domain.project_state import (
    CREDIT_ROLES,
    LEVELS,
    STAGES,
    TASK_STATES,
    Change,
    ProjectError,
    ProjectState,
    allowed,
    check_fields,
    credit_fingerprint,
    fold,
)
from sync.clock import now_ms as wall_ms

if TYPE_CHECKING:
    from desktop.domain.circles import Circle, CircleEvent, Circles
    from desktop.domain.messaging import Messaging

__all__ = ["CREDIT_ROLES", "LEVELS", "STAGES", "TASK_STATES", "ProjectError", "ProjectState", "Projects"]

KIND = "project"


def new_id() -> str:
    return secrets.token_hex(16)


class Projects:
    def __init__(self, circles: Circles, messaging: Messaging) -> None:
        self.circles, self.messaging = circles, messaging
        self.me = messaging.me
        self.refused = 0  # arrived changes that broke the rules: dropped, counted, never shown
        circles.on(KIND, self._arrived)

    # -- reading --------------------------------------------------------------------------------------------

    def projects(self) -> list[Circle]:
        """The projects this person is a member of, most recently changed first."""
        return sorted(self.circles.circles(kind=KIND), key=lambda c: c.updated, reverse=True)

    def project(self, project_id: str) -> Circle | None:
        found = self.circles.circle(project_id)
        return found if found is not None and found.kind == KIND else None

    def leads(self, project_id: str) -> set[str]:
        circle = self.circles.circle(project_id)
        return {m.account for m in circle.members if m.role == "lead"} if circle else set()

    def is_lead(self, project_id: str) -> bool:
        return self.circles.role(project_id, self.me) == "lead"

    def state(self, project_id: str) -> ProjectState:
        """The project as its change events leave it: one indexed read of its events, one fold."""
        return fold(self.changes(project_id), self.leads(project_id))

    def changes(self, project_id: str) -> list[Change]:
        out = []
        for event in self.circles.events(project_id, KIND, ref=project_id):
            change = _change_of(event)
            if change is not None:
                out.append(change)
        return out

    # -- writing --------------------------------------------------------------------------------------------

    def create(self, title: str, about: str = "", members: dict[str, str] | None = None) -> str:
        """A new project with this person as its lead; ``members``: account → role."""
        title = title.strip()
        if not title:
            raise ProjectError("bad-field", "a project needs a title")
        return self.circles.create(title[:200], about, kind=KIND, members=dict(members or {}))

    def change(self, project_id: str, entity: str, entity_id: str, fields: dict) -> str:
        """Post one change (offline: it goes out at the next sync); refused with ``ProjectError`` when it breaks
        the project's rules for this person."""
        role = self.circles.role(project_id, self.me)
        if role is None:
            raise ProjectError("not-member", "you are not a member of this project")
        check_fields(entity, entity_id, fields)
        mine = Change(entity, entity_id, fields, self.me, "", 0, role)
        broken = allowed(mine, self.leads(project_id))
        if broken == "not-yours":
            raise ProjectError(broken, "only its owner or the project lead can change a CRediT record")
        if broken == "not-lead":
            raise ProjectError(broken, "only the project lead can confirm contributions")
        if broken is not None:
            raise ProjectError(broken, "this change is not allowed")
        return self.circles.post(project_id, KIND, {"ref": project_id, "e": entity, "id": entity_id, "f": fields})

    def set_stage(self, project_id: str, stage: str, **fields: object) -> None:
        """owner (account or None), due (ms or None), notes, done."""
        self.change(project_id, "stage", stage, fields)

    def add_task(self, project_id: str, title: str, state: str = "todo", **fields: object) -> str:
        title = title.strip()
        if not title:
            raise ProjectError("bad-field", "a task needs a title")
        column = self.state(project_id).column(state)
        order = (column[-1].order + 1.0) if column else 1.0
        task = new_id()
        self.change(project_id, "task", task, {"title": title, "state": state, "order": order, **fields})
        return task

    def update_task(self, project_id: str, task_id: str, **fields: object) -> None:
        self.change(project_id, "task", task_id, fields)

    def move_task(self, project_id: str, task_id: str, state: str, index: int | None = None) -> None:
        """Put a task in a column (todo, doing, done), at ``index`` among the others there (default: last)."""
        board = self.state(project_id)
        column = [t for t in board.column(state) if t.id != task_id]
        index = len(column) if index is None else max(0, min(index, len(column)))
        before = column[index - 1].order if index > 0 else None
        after = column[index].order if index < len(column) else None
        if before is None and after is None:
            order = 1.0
        elif before is None:
            order = after - 1.0
        elif after is None:
            order = before + 1.0
        else:
            order = (before + after) / 2
        self.change(project_id, "task", task_id, {"state": state, "order": order})

    def remove_task(self, project_id: str, task_id: str) -> None:
        self.change(project_id, "task", task_id, {"deleted": True})

    def add_decision(self, project_id: str, text: str) -> str:
        text = text.strip()
        if not text:
            raise ProjectError("bad-field", "a decision needs text")
        decision = new_id()
        at = wall_ms(self.messaging.clock.wall)
        self.change(project_id, "decision", decision, {"text": text, "at": at, "by": self.me})
        return decision

    def set_author(
        self, project_id: str, person: str, order: float, corresponding: bool = False, author_id: str | None = None
    ) -> str:
        """One line of the authorship plan (a new one unless ``author_id``)."""
        author_id = author_id or new_id()
        self.change(
            project_id, "author", author_id, {"person": person.strip(), "order": order, "corresponding": corresponding}
        )
        return author_id

    def remove_author(self, project_id: str, author_id: str) -> None:
        self.change(project_id, "author", author_id, {"deleted": True})

    def set_credit(self, project_id: str, account: str, roles: dict[str, str | None]) -> None:
        """Set levels (lead, equal, supporting; None clears) of CRediT roles in ``account``'s record."""
        self.change(project_id, "credit", account, dict(roles))

    def confirm_credit(self, project_id: str, account: str) -> None:
        """The project lead confirms a member's contributions as they stand now."""
        record = self.state(project_id).credits.get(account)
        if record is None or not record.roles:
            raise ProjectError("bad-field", "there are no contributions to confirm")
        self.change(project_id, "credit", account, {"confirmed": credit_fingerprint(record.roles)})

    # -- files ----------------------------------------------------------------------------------------------

    def add_file(self, project_id: str, path: Path, file_id: str | None = None) -> str:
        """A new version of a shared file (a new file unless ``file_id``): kept in the vault now, sealed and
        uploaded at the next sync. Returns the version id. One vault transaction: the file, its upload and the
        change records land together or not at all."""
        path = Path(path)
        if self.circles.role(project_id, self.me) is None:
            raise ProjectError("not-member", "you are not a member of this project")
        try:
            entry, wire = self.messaging._attach(path)
        except ValueError as error:
            raise ProjectError("file-too-large", str(error)) from error
        version = new_id()
        with self.messaging.vault.transaction():
            self.messaging._set_attachment(version, {**entry, "state": "pending-upload"})
            if file_id is None:
                file_id = new_id()
                self.change(project_id, "file", file_id, {"name": entry["name"]})
            at = wall_ms(self.messaging.clock.wall)
            fields = {"file": file_id, "name": entry["name"], "a": wire, "by": self.me, "at": at}
            self.change(project_id, "file-version", version, fields)
        return version

    def file_state(self, version_id: str) -> str | None:
        """pending-upload, uploaded, remote (on the server, not here yet) or downloaded; None when unknown."""
        entry = self.messaging.attachment(version_id)
        return entry["state"] if entry else None

    def export_file(self, version_id: str, destination: Path) -> bool:
        """Write a version to ``destination``; False when it is not on this computer yet."""
        return self.messaging.export_attachment(version_id, Path(destination))

    # -- arriving -------------------------------------------------------------------------------------------

    def _arrived(self, event: CircleEvent) -> None:
        """A verified change from another device: a file version's attachment becomes known (to download)."""
        change = _change_of(event)
        if change is None:
            self.refused += 1
            return
        if change.entity != "file-version":
            return
        if allowed(change, self.leads(event.circle)) is not None:
            self.refused += 1
            return
        self.messaging._take_attachment(change.id, change.fields.get("a"))


def _change_of(event: CircleEvent) -> Change | None:
    content = event.content
    if not isinstance(content, dict):
        return None
    entity, entity_id, fields = content.get("e"), content.get("id"), content.get("f")
    if not isinstance(entity, str) or not isinstance(entity_id, str) or not isinstance(fields, dict):
        return None
    return Change(entity, entity_id, fields, event.author, event.device, event.hlc, event.role)
