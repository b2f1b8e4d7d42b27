"""The portfolio's PDF, drawn by Qt: a QTextDocument (HTML tables) laid out on A4 pages of a QPdfWriter, with a
footer on every page (the person, "page n of m"). The bundled fonts stand behind the UI font, so a name in
Amharic, Bengali, Hindi, Arabic or Urdu renders rather than showing boxes. What goes in is plain data
(``Portfolio.facts()``, the attestations, the signer's chain); the signature block is added after by
``portfolio_file.seal``."""

from __future__ import annotations

import html
import json

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
    QTextOption,
)

from desktop.domain.portfolio_file import day
from desktop.formatting import format_number
from desktop.i18n import _, ngettext
from desktop.ui import fonts
from desktop.ui.views.project_names import LEVEL_NAMES, MEMBER_ROLES, ROLE_NAMES
from sync import envelope

ACCENT = "#1f4e79"
MUTED = "#5f6b76"
RULE = "#c9d3dd"
RESOLUTION = 300


def _e(text: object) -> str:
    return html.escape(str(text))


def _rtl() -> bool:
    return QGuiApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft


def _dir() -> str:
    return "rtl" if _rtl() else "ltr"


def _start() -> str:
    return "right" if _rtl() else "left"


def _h2(text: str) -> str:
    return f'<h2 style="color:{ACCENT}; font-size:13pt; margin-top:16px;">{_e(text)}</h2>'


def _p(text: str, style: str) -> str:
    return f'<p style="{style}">{_e(text)}</p>'


def _muted(text: str, tag: str = "p") -> str:
    return f'<{tag} style="color:{MUTED};">{_e(text)}</{tag}>'


def role_name(role: str, kind: str = "project") -> str:
    """A role in a circle or project, in the reader's language (the names the Projects page uses)."""
    if role == "lead" and kind == "circle":
        return _("lead mentor")
    return _(MEMBER_ROLES[role]) if role in MEMBER_ROLES else role


def _table(headers: list[str], rows: list[list[str]], widths: list[int]) -> str:
    if _rtl():  # Qt lays a table's columns left to right whatever its direction: the first column goes right
        headers, widths, rows = headers[::-1], widths[::-1], [row[::-1] for row in rows]
    head = "".join(
        f'<th width="{w}%" align="{_start()}" style="background:{ACCENT}; color:white; padding:4px;">{_e(h)}</th>'
        for h, w in zip(headers, widths, strict=True)
    )
    body = ""
    for index, row in enumerate(rows):
        shade = "#f3f6f9" if index % 2 else "#ffffff"
        body += "<tr>" + "".join(f'<td style="background:{shade}; padding:4px;">{c}</td>' for c in row) + "</tr>"
    return (
        f'<table dir="{_dir()}" width="100%" cellspacing="0" cellpadding="4" style="border-collapse:collapse; '
        f'border:1px solid {RULE}; margin-top:4px;"><thead><tr>{head}</tr></thead>{body}</table>'
    )


def _confirmations(attestations: list[dict]) -> dict[str, dict]:
    found = {}
    for attestation in attestations:
        statement = json.loads(bytes.fromhex(attestation["statement"]))
        found[statement["entry"]["id"]] = {**statement, "signer": attestation["signer"]}
    return found


def document_html(facts: dict, attestations: list[dict], signer: dict) -> str:
    names = facts.get("names", {})
    person = facts["person"]
    confirmed = _confirmations(attestations)

    def who(account: str) -> str:
        return _e(names.get(account) or account[:8])

    def confirmer(entry_id: str) -> str:
        item = confirmed.get(entry_id)
        if item is None:
            return _muted(_("not confirmed"), "span")
        name = item["signer"].get("name") or names.get(item["by"], item["by"][:8])
        return f"✔ {_e(name)}<br/><span style='color:{MUTED};'>{_e(day(item.get('at', 0)))}</span>"

    period = facts.get("period", {})
    ongoing = _("ongoing")
    span = f"{day(period.get('from', 0)) or '–'} – {day(period.get('to', 0)) or ongoing}"
    mentorships = facts.get("mentorships", [])
    checkins = sum(m.get("checkins", 0) for m in mentorships)
    parts = [
        _p(_("OSLER · MENTORING PORTFOLIO"), f"color:{ACCENT}; font-size:9pt; letter-spacing:2px;"),
        f'<h1 style="color:{ACCENT}; font-size:22pt; margin:0;">{_e(person.get("name") or person["account"][:8])}</h1>',
        f'<table dir="{_dir()}" cellspacing="0" cellpadding="2" style="margin-top:6px;">',
    ]
    for label, value in (
        (_("Programme"), facts.get("programme") or "–"),
        (_("Period"), span),
        (_("Issued"), day(facts.get("generated", 0))),
        (_("Account"), person["account"]),
    ):
        cells = [f'<td style="color:{MUTED}; padding-right:12px;">{_e(label)}</td>', f"<td>{_e(value)}</td>"]
        parts.append("<tr>" + "".join(cells[::-1] if _rtl() else cells) + "</tr>")
    parts.append("</table>")
    summary = " · ".join(
        (
            ngettext("{n} mentorship", "{n} mentorships", len(mentorships)).format(n=len(mentorships)),
            ngettext("{n} check-in", "{n} check-ins", checkins).format(n=checkins),
            _("{hours} hours").format(hours=format_number(facts.get("hours", 0))),
            ngettext("{n} circle", "{n} circles", len(facts.get("circles", []))).format(
                n=len(facts.get("circles", []))
            ),
            ngettext("{n} project", "{n} projects", len(facts.get("projects", []))).format(
                n=len(facts.get("projects", []))
            ),
            ngettext("{n} entry confirmed", "{n} entries confirmed", len(confirmed)).format(n=len(confirmed)),
        )
    )
    parts.append(
        f'<p style="margin-top:10px; padding:6px; background:#eef3f8; color:{ACCENT};"><b>{_e(summary)}</b></p>'
    )

    parts.append(_h2(_("Mentorships")))
    if mentorships:
        rows = []
        for m in mentorships:
            role = _("mentee") if m["student"] == person["account"] else _("mentor")
            rows.append(
                [
                    who(m["with"]),
                    _e(role),
                    _e(day(m.get("from", 0)) or "–"),
                    _e(day(m.get("to", 0)) or _("ongoing")),
                    _e(m.get("checkins", 0)),
                    _e(format_number(m.get("hours", 0))),
                    confirmer(m["id"]),
                ]
            )
        headers = [_("With"), _("Role"), _("From"), _("To"), _("Check-ins"), _("Hours"), _("Confirmed by")]
        parts.append(_table(headers, rows, [18, 12, 12, 12, 11, 9, 26]))
        goals = [(m, g) for m in mentorships for g in m.get("goals", [])]
        if goals:
            reached = _("Goals reached: {goals}").format(goals="; ".join(g for _m, g in goals[:30]))
            parts.append(_p(reached, f"color:{MUTED}; margin-top:6px;"))
    else:
        parts.append(_muted(_("No mentorship recorded.")))

    circles = facts.get("circles", [])
    if circles:
        parts.append(_h2(_("Circles")))
        rows = [
            [_e(c.get("title", "")), _e(role_name(c.get("role", ""), "circle")), confirmer(c["id"])] for c in circles
        ]
        parts.append(_table([_("Circle"), _("Role"), _("Confirmed by")], rows, [50, 20, 30]))
    projects = facts.get("projects", [])
    if projects:
        parts.append(_h2(_("Research projects")))
        rows = []
        for p in projects:
            credit = p.get("credit", {})
            roles = ", ".join(
                f"{_(ROLE_NAMES[k])} ({_(LEVEL_NAMES.get(v, v))})" for k, v in sorted(credit.items()) if k in ROLE_NAMES
            )
            rows.append(
                [_e(p.get("title", "")), _e(role_name(p.get("role", ""))), _e(roles or "–"), confirmer(p["id"])]
            )
        parts.append(_table([_("Project"), _("Role"), _("CRediT roles"), _("Confirmed by")], rows, [28, 12, 36, 24]))

    parts.append(_h2(_("Signatures")))
    own = envelope.identity_fingerprint(bytes.fromhex(signer["identity"]))
    signed = _e(_("This document is signed by the device of {name}. Identity fingerprint: {fingerprint}"))
    parts.append(
        "<p>" + signed.format(name=f"<b>{_e(person.get('name') or '')}</b>", fingerprint=f"<tt>{own}</tt>") + "</p>"
    )
    if confirmed:
        rows = []
        for item in confirmed.values():
            name = item["signer"].get("name") or names.get(item["by"], item["by"][:8])
            what = item["entry"]
            if what.get("kind") == "mentorship":
                text = _("mentorship of {name}: {checkins} check-ins, {hours} hours").format(
                    name=names.get(item["subject"] if what["mentor"] == item["by"] else what["mentor"], "")
                    or person.get("name", ""),
                    checkins=what.get("checkins", 0),
                    hours=format_number(what.get("hours", 0)),
                )
            else:
                kind = "project" if what.get("kind") == "project" else "circle"
                label = _("Project “{title}” ({role})") if kind == "project" else _("Circle “{title}” ({role})")
                text = label.format(title=what.get("title", ""), role=role_name(what.get("role", ""), kind))
            fingerprint = envelope.identity_fingerprint(bytes.fromhex(item["signer"]["identity"]))
            rows.append([f"<b>{_e(name)}</b>", _e(text), _e(day(item.get("at", 0))), f"<tt>{_e(fingerprint)}</tt>"])
        parts.append(
            _table([_("Confirmed by"), _("Confirms"), _("Date"), _("Identity fingerprint")], rows, [20, 36, 12, 32])
        )
    else:
        parts.append(_muted(_("No entry is counter-signed yet.")))
    parts.append(
        f'<p style="color:{MUTED}; font-size:8.5pt; margin-top:12px;">'
        + _e(
            _(
                "The signatures travel inside this PDF file, after its end (PDF readers ignore them). Anyone can "
                "check them offline: osler verify-portfolio portfolio.pdf portfolio.csv. One changed byte and "
                "the check fails. Compare the fingerprints with the safety numbers the people show in Osler."
            )
        )
        + "</p>"
    )
    return "".join(parts)


def render_pdf(facts: dict, attestations: list[dict], signer: dict) -> bytes:
    """The PDF's bytes (A4, tables, signatures, page numbers)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(RESOLUTION)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(18, 16, 18, 14),
            QPageLayout.Unit.Millimeter,
        )
    )
    name = facts["person"].get("name") or facts["person"]["account"][:8]
    writer.setTitle(_("Mentoring portfolio of {name}").format(name=name))
    writer.setCreator("Osler")
    families = fonts.register()
    font = QFont(QGuiApplication.font())
    font.setFamilies([QFont(QGuiApplication.font()).family(), *families])
    font.setPointSizeF(9.5)
    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)
    document.setDefaultFont(font)
    document.setDocumentMargin(0)
    option = QTextOption()
    option.setTextDirection(QGuiApplication.layoutDirection())
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    document.setDefaultTextOption(option)
    document.setHtml(document_html(facts, attestations, signer))
    area = writer.pageLayout().paintRectPixels(RESOLUTION)
    footer = RESOLUTION * 0.35  # inches of footer
    page_height = area.height() - footer
    document.setPageSize(QSizeF(area.width(), page_height))
    pages = document.pageCount()
    painter = QPainter(writer)
    small = QFont(font)
    small.setPointSizeF(7.5)
    for page in range(pages):
        if page:
            writer.newPage()
        painter.save()
        painter.translate(0, -page * page_height)
        document.drawContents(painter, QRectF(0, page * page_height, area.width(), page_height))
        painter.restore()
        painter.setPen(QPen(QColor(RULE), RESOLUTION / 150))
        top = page_height + footer * 0.3
        painter.drawLine(0, int(top), area.width(), int(top))
        painter.setPen(QColor(MUTED))
        painter.setFont(small)
        band = QRectF(0, top, area.width(), footer * 0.7)
        painter.drawText(
            band,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            _("Osler mentoring portfolio · {name}").format(name=name),
        )
        painter.drawText(
            band,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            _("Page {page} of {pages}").format(page=page + 1, pages=pages),
        )
    painter.end()
    buffer.close()
    return bytes(data.data())
