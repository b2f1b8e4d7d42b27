"""The exported portfolio: its CSV, the signature block after the PDF, and ``osler verify-portfolio``.

A signed portfolio is the PDF's bytes, then a block of PDF comment lines after ``%%EOF`` (PDF readers ignore
them)::

    %OSLER-PORTFOLIO-SIGNATURE v1
    %<base64 of the block's JSON, 64 characters a line>
    %OSLER-PORTFOLIO-END

The block's JSON is ``{statement, signature, signer}``: the statement (``type: osler-portfolio``) holds the
SHA-256 of the PDF bytes before the block, the CSV's SHA-256, the facts and each attestation (the mentor's or
lead's own signed statement with their card chain); ``signature`` is the person's device signature over the
statement's canonical bytes (``envelope.sign_statement``), and ``signer`` their card chain (identity key, device
keys, the identity's certificate over the device). Verification needs nothing but the file: one changed byte in
the PDF, the block or the CSV, a counter-signature by anyone but the entry's mentor or lead, or a certificate
that does not verify, and it refuses.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from desktop.domain.portfolio import Portfolio, canonical, check_attestation, check_chain, confirmer_of, signer_chain
from desktop.i18n import _
from sync import envelope
from sync.envelope import DeviceKey

MARK = b"%OSLER-PORTFOLIO-SIGNATURE v1\n"
END = b"%OSLER-PORTFOLIO-END\n"
TYPE = "osler-portfolio"
LINE = 64
MAX_FILE = 64 * 1024 * 1024
CSV_HEADER = ["section", "id", "title", "with", "role", "from", "to", "checkins", "hours", "credit", "confirmed_by"]


class PortfolioInvalid(ValueError):
    """A portfolio that does not verify; the message says why, for the person checking it."""


def day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d") if ms else ""


def entries(facts: dict) -> list[dict]:
    return [*facts.get("mentorships", []), *facts.get("circles", []), *facts.get("projects", [])]


def confirmed_by(facts: dict, attestations: list[dict]) -> dict[str, str]:
    """Entry id -> the account that confirmed it."""
    found = {}
    for attestation in attestations:
        statement = json.loads(bytes.fromhex(attestation["statement"]))
        found[statement["entry"]["id"]] = statement["by"]
    return found


def to_csv(facts: dict, attestations: list[dict]) -> bytes:
    """The record as CSV (UTF-8, one row an entry, ISO dates, names as the person's directory shows them)."""
    names = facts.get("names", {})
    confirmed = confirmed_by(facts, attestations)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for entry in facts.get("mentorships", []):
        role = "mentee" if entry["student"] == facts["person"]["account"] else "mentor"
        writer.writerow(
            [
                "mentorship",
                entry["id"],
                "",
                names.get(entry["with"], entry["with"]),
                role,
                day(entry["from"]),
                day(entry["to"]),
                entry["checkins"],
                f"{entry['hours']:g}",
                "",
                names.get(confirmed.get(entry["id"], ""), confirmed.get(entry["id"], "")),
            ]
        )
    for section in ("circles", "projects"):
        for entry in facts.get(section, []):
            credit = "; ".join(f"{k}={v}" for k, v in sorted(entry.get("credit", {}).items()) if k != "confirmed")
            writer.writerow(
                [
                    section[:-1],
                    entry["id"],
                    entry.get("title", ""),
                    "",
                    entry.get("role", ""),
                    "",
                    "",
                    "",
                    "",
                    credit,
                    confirmed.get(entry["id"], ""),
                ]
            )
    writer.writerow(["total", "", "", "", "", "", "", "", f"{facts.get('hours', 0):g}", "", ""])
    return out.getvalue().encode("utf-8")


def _block(doc: dict) -> bytes:
    text = base64.b64encode(canonical(doc)).decode()
    lines = "".join(f"%{text[i : i + LINE]}\n" for i in range(0, len(text), LINE))
    return MARK + lines.encode() + END


def seal(pdf: bytes, csv_bytes: bytes, facts: dict, attestations: list[dict], key: DeviceKey, signer: dict) -> bytes:
    """The PDF followed by its signature block: what the person attaches to an application."""
    if not pdf.endswith(b"\n"):
        pdf += b"\n"
    statement = {
        "type": TYPE,
        "v": 1,
        "subject": signer["account"],
        "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
        "csv_sha256": hashlib.sha256(csv_bytes).hexdigest(),
        "facts": facts,
        "attestations": attestations,
        "signer": signer,
    }
    signature = key.sign_statement(canonical(statement))
    return pdf + _block({"statement": statement, "signature": signature.hex()})


@dataclass(frozen=True)
class Confirmation:
    by: str  # account
    name: str
    fingerprint: str  # the signer's identity fingerprint (their safety number)
    entry: dict
    at: int


@dataclass(frozen=True)
class Verified:
    subject: str
    name: str
    fingerprint: str
    device: str
    facts: dict
    confirmations: tuple[Confirmation, ...]
    csv_checked: bool


def split(data: bytes) -> tuple[bytes, dict]:
    """(the PDF bytes the signature covers, the block's JSON); PortfolioInvalid when there is no intact block."""
    start = data.rfind(MARK)
    if start < 0:
        raise PortfolioInvalid(_("no Osler signature block: this file was not signed by Osler, or it was cut"))
    if not data.endswith(END):
        raise PortfolioInvalid(_("the signature block is damaged or something was added after it"))
    pdf, body = data[:start], data[start + len(MARK) : -len(END)]
    try:
        lines = body.decode("ascii").split("\n")
        if lines[-1] != "" or any(not line.startswith("%") for line in lines[:-1]):
            raise ValueError("not a comment line")
        doc = json.loads(base64.b64decode("".join(line[1:] for line in lines[:-1]), validate=True))
    except (ValueError, UnicodeDecodeError, binascii.Error) as error:
        raise PortfolioInvalid(_("the signature block is damaged")) from error
    if not isinstance(doc, dict) or _block(doc) != data[start:]:
        raise PortfolioInvalid(_("the signature block is damaged"))
    return pdf, doc


def verify(data: bytes, csv_bytes: bytes | None = None) -> Verified:
    """Check a signed portfolio offline; PortfolioInvalid with the reason on any failure."""
    pdf, doc = split(data)
    statement = doc.get("statement")
    signer = statement.get("signer") if isinstance(statement, dict) else None
    if not isinstance(statement, dict) or not isinstance(signer, dict) or statement.get("type") != TYPE:
        raise PortfolioInvalid(_("the signature block is not an Osler portfolio signature"))
    if not check_chain(signer):
        raise PortfolioInvalid(_("the signing device is not certified by the identity key the file names"))
    try:
        signature = bytes.fromhex(doc.get("signature", ""))
    except (TypeError, ValueError):
        signature = b""
    if not envelope.verify_statement(bytes.fromhex(signer["sign"]), canonical(statement), signature):
        raise PortfolioInvalid(_("the person's signature does not match what the file says"))
    subject = statement.get("subject")
    if subject != signer["account"]:
        raise PortfolioInvalid(_("the portfolio is signed by someone other than the person it is about"))
    if hashlib.sha256(pdf).hexdigest() != statement.get("pdf_sha256"):
        raise PortfolioInvalid(_("the PDF was changed after it was signed"))
    if csv_bytes is not None and hashlib.sha256(csv_bytes).hexdigest() != statement.get("csv_sha256"):
        raise PortfolioInvalid(_("the CSV is not the one signed with this PDF (it was changed, or it is another)"))
    facts = statement.get("facts")
    if not isinstance(facts, dict) or facts.get("person", {}).get("account") != subject:
        raise PortfolioInvalid(_("the signed facts are about someone else"))
    by_id = {e.get("id"): e for e in entries(facts)}
    confirmations = []
    for attestation in statement.get("attestations", []):
        confirmed = check_attestation(attestation, subject) if isinstance(attestation, dict) else None
        if confirmed is None:
            raise PortfolioInvalid(_("a counter-signature does not verify"))
        listed = by_id.get(confirmed["entry"].get("id"))
        if listed is None or confirmer_of(listed, subject) != confirmed["by"]:
            raise PortfolioInvalid(
                _("a counter-signature is by {account}, who is not the mentor or lead of that entry").format(
                    account=confirmed["by"]
                )
            )
        chain = attestation["signer"]
        confirmations.append(
            Confirmation(
                confirmed["by"],
                str(chain.get("name", "")),
                envelope.identity_fingerprint(bytes.fromhex(chain["identity"])),
                confirmed["entry"],
                int(confirmed.get("at", 0)),
            )
        )
    return Verified(
        subject,
        str(facts["person"].get("name", "")),
        envelope.identity_fingerprint(bytes.fromhex(signer["identity"])),
        envelope.fingerprint(bytes.fromhex(signer["sign"]), bytes.fromhex(signer["box"])),
        facts,
        tuple(confirmations),
        csv_bytes is not None,
    )


def describe(entry: dict, names: dict[str, str]) -> str:
    """What a confirmation says, in one line."""
    if entry.get("kind") == "mentorship":
        return _("mentorship of {student} by {mentor}, {start} to {end}, {checkins} check-ins, {hours} hours").format(
            student=names.get(entry["student"], entry["student"]),
            mentor=names.get(entry["mentor"], entry["mentor"]),
            start=day(entry.get("from", 0)) or "?",
            end=day(entry.get("to", 0)) or _("ongoing"),
            checkins=entry.get("checkins", 0),
            hours=f"{entry.get('hours', 0):g}",
        )
    kinds = {"circle": _("Circle"), "project": _("Project")}  # the reader's words, not the record's
    text = _("{kind} “{title}”, role {role}").format(
        kind=kinds.get(entry.get("kind", ""), entry.get("kind", "")),
        title=entry.get("title", ""),
        role=entry.get("role", ""),
    )
    credit = entry.get("credit") or {}
    roles = ", ".join(f"{k} ({v})" for k, v in sorted(credit.items()) if k != "confirmed")
    return text + (_(", CRediT: {roles}").format(roles=roles) if roles else "")


def main(file: Path, csv_file: Path | None = None) -> int:
    """``osler verify-portfolio FILE [CSV]``: 0 when the file (and the CSV) are exactly what was signed."""
    try:
        if file.stat().st_size > MAX_FILE or (csv_file is not None and csv_file.stat().st_size > MAX_FILE):
            print(_("REFUSED: the file is too large to be an Osler portfolio."), file=sys.stderr)
            return 1
        data = file.read_bytes()
        csv_bytes = csv_file.read_bytes() if csv_file is not None else None
    except OSError as error:
        print(_("cannot read {file}: {reason}").format(file=error.filename, reason=error.strerror), file=sys.stderr)
        return 2
    try:
        result = verify(data, csv_bytes)
    except PortfolioInvalid as problem:
        print(_("REFUSED: {reason}.").format(reason=problem), file=sys.stderr)
        return 1
    names = {**result.facts.get("names", {}), result.subject: result.name}
    print(
        _("OK: signed by {name} ({account}), identity {fingerprint}, device {device}.").format(
            name=result.name or "?", account=result.subject, fingerprint=result.fingerprint, device=result.device
        )
    )
    print(
        _("The PDF is unchanged since it was signed.")
        if not result.csv_checked
        else _("The PDF and the CSV are unchanged since they were signed.")
    )
    if not result.confirmations:
        print(_("No entry is counter-signed."))
    for item in result.confirmations:
        print(
            _("Counter-signed by {name} ({account}), identity {fingerprint}, on {date}: confirms {what}.").format(
                name=item.name or names.get(item.by, "?"),
                account=item.by,
                fingerprint=item.fingerprint,
                date=day(item.at),
                what=describe(item.entry, {**names, item.by: item.name or names.get(item.by, item.by)}),
            )
        )
    print(_("Compare the identity fingerprints with the safety numbers the people show in Osler."))
    return 0


def export(
    portfolio: Portfolio,
    pdf_path: Path,
    render: Callable[[dict, list[dict], dict], bytes],
    name: str = "",
    programme: str = "",
) -> tuple[Path, Path, int]:
    """Write the signed PDF at ``pdf_path`` and the CSV beside it (same name, ``.csv``); (pdf, csv, size of the
    signed PDF in bytes). ``render`` draws the PDF (the UI layer's ``portfolio_pdf.render_pdf``)."""
    facts = portfolio.facts(name, programme)
    listed = {e["id"] for e in entries(facts)}
    attestations = [a for entry, a in sorted(portfolio.attestations().items()) if entry in listed]
    signer = signer_chain(portfolio.vault, portfolio.messaging, facts["person"]["name"])
    csv_bytes = to_csv(facts, attestations)
    sealed = seal(
        render(facts, attestations, signer),
        csv_bytes,
        facts,
        attestations,
        portfolio.messaging.program.credentials.key,
        signer,
    )
    pdf_path = pdf_path if pdf_path.suffix.lower() == ".pdf" else pdf_path.with_name(pdf_path.name + ".pdf")
    csv_path = pdf_path.with_suffix(".csv")
    pdf_path.write_bytes(sealed)
    csv_path.write_bytes(csv_bytes)
    return pdf_path, csv_path, len(sealed)
