"""The sentences of the "Sync without the internet" screens (desktop/ui/views/carry.py, carry_lan.py): a size
budget, a carried file's state, whose file it is, what an imported answer did, why a file was refused."""

from __future__ import annotations

from typing import Any

from desktop.formatting import format_bytes, format_number
from desktop.i18n import _, ngettext
from desktop.ui.common import explain
from desktop.ui.direction import ltr


def budget_label(size: int) -> str:
    hints = {
        1 << 20: _("{size}: fits a phone transfer"),
        8 << 20: _("{size}: most weeks' messages"),
        25 << 20: _("{size}: with attachments"),
        64 << 20: _("{size}: a USB stick, everything"),
    }
    return hints.get(size, "{size}").format(size=format_bytes(size))


def state_text(state: str) -> str:
    """A carried request's state, in words."""
    return {
        "waiting": _("Waiting for internet"),
        "over-budget": _("Over your data budget"),
        "answered": _("Answer ready to hand back"),
        "handed-back": _("Handed back"),
        "refused": _("Refused"),
    }.get(state, state)


def who(carried: Any) -> str:
    """Person and fingerprint: "Amina Okafor (3F2A 9C1B 77D0 12AE)", or the fingerprint alone."""
    fingerprint = ltr(carried.fingerprint)
    if carried.person:
        return _("{person} (device {fingerprint})").format(person=carried.person, fingerprint=fingerprint)
    return _("an unknown device ({fingerprint})").format(fingerprint=fingerprint)


def refusal_sentence(exc: BaseException) -> str:
    """A bundle's own translated sentence (BundleRefused.message), else the app's sentence for the error."""
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) and message else explain(exc)


def applied_sentence(applied: Any) -> str:
    """What an imported answer did: "12 messages received, 3 sent"."""
    if applied.nothing_new:
        return _("This answer was already imported: nothing new.")
    parts = [
        ngettext("{count} item received", "{count} items received", applied.records_in).format(
            count=format_number(applied.records_in)
        ),
        ngettext("{count} sent", "{count} sent", applied.accepted).format(count=format_number(applied.accepted)),
    ]
    if applied.refused:
        parts.append(
            ngettext(
                "{count} refused by the server (marked not sent)",
                "{count} refused by the server (marked not sent)",
                applied.refused,
            ).format(count=format_number(applied.refused))
        )
    if applied.blobs:
        parts.append(
            ngettext("{count} attachment", "{count} attachments", applied.blobs).format(
                count=format_number(applied.blobs)
            )
        )
    said = _("Imported: {what}.").format(what=_(", ").join(parts))
    if getattr(applied, "more", False):  # the answer was cut to its size: the rest comes with the next round trip
        said += " " + _("More is waiting for you: export again for someone to carry, or choose a larger size.")
    return said
