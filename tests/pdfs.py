"""Small PDFs written by hand for the reader's tests and benchmark: good ones, and hostile ones."""

from __future__ import annotations


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[str], *, width: int = 595, height: int = 842) -> bytes:
    """A valid PDF with one page per string (Helvetica, lines split on newlines), with a correct xref table."""
    objects: list[bytes] = []
    n = len(pages)
    font = 3 + 2 * n
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    for i, text in enumerate(pages):
        lines = text.split("\n")
        ops = ["BT", "/F1 14 Tf", "16 TL", f"56 {height - 72} Td"]
        for line in lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        # a few shapes so a page costs something to draw
        ops += [f"0.2 0.4 0.8 RG 4 w 40 40 {width - 80} {height - 80} re S", "0.9 0.9 0.95 rg 56 60 200 120 re f"]
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {4 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _build(objects, header=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")


def broken_xref(pages: list[str]) -> bytes:
    """A PDF whose xref table points at the wrong places and whose startxref is past the end."""
    data = bytearray(make_pdf(pages))
    start = data.rindex(b"xref\n0 ")
    table_end = data.index(b"trailer", start)
    body = data[start:table_end].replace(b" n \n", b" n \n").replace(b"00000 n", b"00000 n")
    body = bytes(b if not (48 <= b <= 57) else (48 + (b * 7) % 10) for b in body)  # scramble the offsets
    data[start:table_end] = body
    tail = data.rindex(b"startxref\n")
    return bytes(data[: tail + 10]) + b"99999999\n%%EOF\n"


def _build(objects: list[bytes], header: bytes = b"%PDF-1.4\n") -> bytes:
    """Objects numbered from 1 in order, then a correct xref table and trailer (object 1 is the catalogue)."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def huge_page_count(pages: int = 5_001) -> bytes:
    """A PDF of ``pages`` empty pages (about 100 bytes each): more than the reader opens."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>"] * pages
    return _build(objects)


def lying_page_count(claimed: int = 10_000_000) -> bytes:
    """One page whose page tree claims ``claimed`` pages."""
    return _build(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [3 0 R] /Count {claimed} >>".encode(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>",
        ]
    )
