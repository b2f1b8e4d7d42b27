"""A research project's state folded from its change events (spec §3), as plain data: no vault, no network.

Every change is one ``project`` record ``{ref: project id, e: entity type, id: entity id, f: {field: value}}``.
The state is the last writer per field, by ``(hlc, device)``: two people changing different fields of the same
task offline both keep their change on every device, and the same field ends with the same value everywhere
whatever order the records arrive in.

Each device applies the rules itself, so a record that breaks them (a forged CRediT edit, a confirmation by
someone who is not the lead, a file version claiming another uploader) changes nothing anywhere; ``refused``
counts them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

STAGES = ("question", "protocol", "ethics", "data", "analysis", "draft", "submission", "published")
TASK_STATES = ("todo", "doing", "done")
CREDIT_ROLES = (
    "conceptualization",
    "data-curation",
    "formal-analysis",
    "funding-acquisition",
    "investigation",
    "methodology",
    "project-administration",
    "resources",
    "software",
    "supervision",
    "validation",
    "visualization",
    "writing-original-draft",
    "writing-review-editing",
)
LEVELS = ("lead", "equal", "supporting")
MAX_NOTES = 4_000
MAX_TITLE = 200
MAX_DECISION = 4_000

# entity type → field → what a value must be
_TEXT = "text"
_FIELDS: dict[str, dict[str, object]] = {
    "stage": {"owner": "account?", "due": "int?", "notes": (_TEXT, MAX_NOTES), "done": "bool"},
    "task": {
        "title": (_TEXT, MAX_TITLE),
        "stage": "stage?",
        "owner": "account?",
        "due": "int?",
        "state": "task-state",
        "order": "number",
        "deleted": "bool",
    },
    "file": {"name": (_TEXT, MAX_TITLE), "deleted": "bool"},
    "file-version": {"file": "id", "name": (_TEXT, MAX_TITLE), "a": "attachment", "by": "account", "at": "int"},
    "decision": {"text": (_TEXT, MAX_DECISION), "at": "int", "by": "account", "deleted": "bool"},
    "author": {"order": "number", "person": (_TEXT, MAX_TITLE), "corresponding": "bool", "deleted": "bool"},
    "credit": {**{role: "level?" for role in CREDIT_ROLES}, "confirmed": "text?"},
}
ENTITIES = tuple(_FIELDS)


class ProjectError(ValueError):
    """A change the project's rules refuse; ``code`` names the rule for callers and tests."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Change:
    """One arrived (or written) change: who made it, from which device, when, with their role at the time."""

    entity: str
    id: str
    fields: dict
    author: str
    device: str
    hlc: int
    role: str | None = None


def _valid(kind: object, value: object) -> bool:
    if isinstance(kind, tuple):
        return isinstance(value, str) and len(value) <= kind[1]
    optional = isinstance(kind, str) and kind.endswith("?")
    if optional and value is None:
        return True
    kind = str(kind).rstrip("?")
    if kind in ("account", "id"):
        return isinstance(value, str) and 0 < len(value) <= 64
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "text":
        return isinstance(value, str) and len(value) <= 200
    if kind == "stage":
        return value in STAGES
    if kind == "task-state":
        return value in TASK_STATES
    if kind == "level":
        return value in LEVELS
    if kind == "attachment":
        return isinstance(value, dict) and {"n", "s", "h", "k"} <= set(value)
    return False


def check_fields(entity: str, entity_id: str, fields: dict) -> None:
    """Raise ``ProjectError`` unless every field is known for the entity and has a value of the right shape."""
    spec = _FIELDS.get(entity)
    if spec is None:
        raise ProjectError("bad-field", f"a project has no {entity!r}")
    if entity == "stage" and entity_id not in STAGES:
        raise ProjectError("bad-field", f"a project has no stage {entity_id!r}")
    if not fields:
        raise ProjectError("bad-field", "a change changes at least one field")
    for name, value in fields.items():
        if name not in spec:
            raise ProjectError("bad-field", f"{entity} has no field {name!r}")
        if not _valid(spec[name], value):
            if isinstance(spec[name], tuple):
                raise ProjectError("too-large", f"{name} is limited to {spec[name][1]} characters")
            raise ProjectError("bad-field", f"{entity} {name} cannot be {value!r}")


def credit_fingerprint(roles: dict[str, str]) -> str:
    """What a lead's confirmation names: the member's roles and levels at the time, so a later change of them
    shows as not confirmed until the lead confirms again."""
    text = ";".join(f"{r}={roles[r]}" for r in CREDIT_ROLES if roles.get(r))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def allowed(change: Change, leads: frozenset[str] | set[str]) -> str | None:
    """None when ``change`` keeps the project's rules for its author, else the rule it breaks (a code)."""
    lead = change.role == "lead" or change.author in leads
    if change.entity == "credit":
        if "confirmed" in change.fields and not lead:
            return "not-lead"
        if change.id != change.author and not lead:
            return "not-yours"
    if change.entity == "file-version" and change.fields.get("by", change.author) != change.author:
        return "forged"
    if change.entity == "decision" and change.fields.get("by", change.author) != change.author:
        return "forged"
    if change.role is None and change.author not in leads:
        return "not-member"
    return None


@dataclass
class Stage:
    id: str
    owner: str | None = None
    due: int | None = None
    notes: str = ""
    done: bool = False


@dataclass
class Task:
    id: str
    title: str = ""
    stage: str | None = None
    owner: str | None = None
    due: int | None = None
    state: str = "todo"
    order: float = 0.0


@dataclass
class FileVersion:
    id: str
    file: str
    name: str
    attachment: dict
    by: str
    at: int
    hlc: int


@dataclass
class SharedFile:
    id: str
    name: str = ""
    versions: list[FileVersion] = field(default_factory=list)  # oldest first

    @property
    def latest(self) -> FileVersion | None:
        return self.versions[-1] if self.versions else None


@dataclass
class Decision:
    id: str
    text: str = ""
    at: int = 0
    by: str = ""


@dataclass
class Author:
    id: str
    order: float = 0.0
    person: str = ""
    corresponding: bool = False


@dataclass
class Credit:
    account: str
    roles: dict[str, str] = field(default_factory=dict)  # CRediT role → level
    confirmed_as: str | None = None

    @property
    def confirmed(self) -> bool:
        return bool(self.roles) and self.confirmed_as == credit_fingerprint(self.roles)


@dataclass
class ProjectState:
    stages: dict[str, Stage]
    tasks: list[Task]  # by state column, then order
    files: list[SharedFile]
    decisions: list[Decision]  # oldest first
    authors: list[Author]  # in authorship order
    credits: dict[str, Credit]  # account → their CRediT record
    refused: int = 0

    def column(self, state: str) -> list[Task]:
        return [t for t in self.tasks if t.state == state]

    def current_stage(self) -> str:
        """The first stage not done (``published`` once all are)."""
        return next((s for s in STAGES if not self.stages[s].done), STAGES[-1])


def fold(changes: Iterable[Change], leads: Iterable[str] = ()) -> ProjectState:
    """The project as the last writer per field left it, by (hlc, device); changes that break the rules drop."""
    leads = frozenset(leads)
    winners: dict[tuple[str, str], dict[str, tuple[tuple[int, str], object]]] = {}
    versions: list[FileVersion] = []
    refused = 0
    for change in changes:
        try:
            check_fields(change.entity, change.id, change.fields)
        except ProjectError:
            refused += 1
            continue
        if allowed(change, leads) is not None:
            refused += 1
            continue
        stamp = (change.hlc, change.device)
        if change.entity == "file-version":  # a version is written once: its first arrival is the one
            f = change.fields
            if {"file", "a", "at"} <= set(f) and not any(v.id == change.id for v in versions):
                name = f.get("name") or str(f["a"].get("n", ""))
                versions.append(FileVersion(change.id, f["file"], name, f["a"], change.author, f["at"], change.hlc))
            continue
        entity = winners.setdefault((change.entity, change.id), {})
        for name, value in change.fields.items():
            held = entity.get(name)
            if held is None or stamp > held[0]:
                entity[name] = (stamp, value)
    return _build(winners, versions, refused)


def _values(fields: dict[str, tuple[tuple[int, str], object]]) -> dict:
    return {name: value for name, (_stamp, value) in fields.items()}


def _build(winners: dict, versions: list[FileVersion], refused: int) -> ProjectState:
    stages = {s: Stage(s) for s in STAGES}
    tasks, files, decisions, authors, credits = [], {}, [], [], {}
    for (entity, entity_id), fields in winners.items():
        v = _values(fields)
        if v.get("deleted"):
            continue
        v.pop("deleted", None)
        if entity == "stage":
            stages[entity_id] = Stage(entity_id, **v)
        elif entity == "task":
            tasks.append(Task(entity_id, **v))
        elif entity == "file":
            files[entity_id] = SharedFile(entity_id, **v)
        elif entity == "decision":
            decisions.append(Decision(entity_id, **v))
        elif entity == "author":
            authors.append(Author(entity_id, **v))
        elif entity == "credit":
            confirmed = v.pop("confirmed", None)
            credits[entity_id] = Credit(entity_id, {r: lv for r, lv in v.items() if lv}, confirmed)
    deleted = {eid for (e, eid), f in winners.items() if e == "file" and _values(f).get("deleted")}
    for version in sorted(versions, key=lambda x: (x.hlc, x.id)):
        if version.file in deleted:
            continue
        shared = files.setdefault(version.file, SharedFile(version.file, version.name))
        shared.versions.append(version)
        if not shared.name:
            shared.name = version.name
    tasks.sort(key=lambda t: (TASK_STATES.index(t.state), t.order, t.id))
    decisions.sort(key=lambda d: (d.at, d.id))
    authors.sort(key=lambda a: (a.order, a.id))
    shown = sorted(files.values(), key=lambda f: f.name.casefold())
    return ProjectState(stages, tasks, shown, decisions, authors, credits, refused)
