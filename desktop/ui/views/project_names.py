"""What the Projects page calls the stages, CRediT roles, levels and board columns, in the person's language, and
the small helpers its panels share (a person's name, a "button row" that wraps)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from desktop.i18n import N_, _
from desktop.ui.layout import FlowLayout

STAGE_NAMES = {
    "question": N_("Question"),
    "protocol": N_("Protocol"),
    "ethics": N_("Ethics approval"),
    "data": N_("Data collection"),
    "analysis": N_("Analysis"),
    "draft": N_("Draft"),
    "submission": N_("Submission"),
    "published": N_("Published"),
}
ROLE_NAMES = {
    "conceptualization": N_("Conceptualization"),
    "data-curation": N_("Data curation"),
    "formal-analysis": N_("Formal analysis"),
    "funding-acquisition": N_("Funding acquisition"),
    "investigation": N_("Investigation"),
    "methodology": N_("Methodology"),
    "project-administration": N_("Project administration"),
    "resources": N_("Resources"),
    "software": N_("Software"),
    "supervision": N_("Supervision"),
    "validation": N_("Validation"),
    "visualization": N_("Visualization"),
    "writing-original-draft": N_("Writing – original draft"),
    "writing-review-editing": N_("Writing – review & editing"),
}
LEVEL_NAMES = {"lead": N_("lead"), "equal": N_("equal"), "supporting": N_("supporting")}
COLUMN_NAMES = {"todo": N_("To do"), "doing": N_("Doing"), "done": N_("Done")}
MEMBER_ROLES = {"lead": N_("project lead"), "mentor": N_("mentor"), "peer": N_("peer mentor"), "member": N_("member")}


def person(names: dict[str, str], account: str | None) -> str:
    if not account:
        return _("nobody yet")
    return names.get(account) or _("someone ({short})").format(short=account[:6])


def button_row(*buttons: QWidget) -> QWidget:
    """Buttons side by side that wrap onto a new line rather than widen the window."""
    row = QWidget()
    flow = FlowLayout(row)
    flow.setContentsMargins(0, 0, 0, 0)
    for widget in buttons:
        flow.addWidget(widget)
    return row
