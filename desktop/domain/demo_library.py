"""Real files for the demo library, made here with no dependency: a multi-page PDF (a small hand-written PDF
writer: Helvetica text, one content stream per page, an exact cross-reference table), a PNG (zlib and CRC32),
and a short Ogg Opus audio clip (the voice-note codec, when libsndfile is there). Every reader in ``make run``
has something true to open: these are the files a PDF, image or audio reader meets in the wild, not stubs.
"""

from __future__ import annotations

import math
import struct
import zlib


def _pdf_text(text: str) -> str:
    """A PDF string literal in WinAnsi (Latin-1 here): backslash and parentheses escaped."""
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(pages: list[list[str]], title: str = "") -> bytes:
    """A valid PDF 1.4 of ``pages``, each a list of lines (the first one large, as a heading), A4 portrait."""
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the page tree's number is known
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids = []
    for number, lines in enumerate(pages, 1):
        ops = ["BT", "/F2 20 Tf", "56 780 Td", f"({_pdf_text(lines[0] if lines else '')}) Tj", "/F1 11 Tf", "0 -30 Td"]
        for line in lines[1:]:
            ops += [f"({_pdf_text(line)}) Tj", "0 -15 Td"]
        ops += ["ET", "BT", "/F1 9 Tf", "290 30 Td", f"({number} / {len(pages)}) Tj", "ET"]
        stream = zlib.compress("\n".join(ops).encode("latin-1"))
        content = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>" % (tree, content, font, bold)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    info = add(b"<< /Title (%s) /Producer (Osler demo) >>" % _pdf_text(title).encode("latin-1"))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        info,
        xref,
    )
    return bytes(out)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, pixel) -> bytes:  # type: ignore[no-untyped-def]
    """An 8-bit RGB PNG; ``pixel(x, y)`` gives (r, g, b)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += bytes(pixel(x, y))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


def heart_diagram(width: int = 320, height: int = 240) -> bytes:
    """A simple labelled-looking diagram: a red heart shape on a pale grid (for the image reader)."""

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        u, v = (x - width / 2) / (width / 3), -(y - height / 2.2) / (height / 3)
        inside = (u * u + v * v - 1) ** 3 - u * u * v * v * v <= 0
        if inside:
            return (200, 30 + int(40 * (1 + v) / 2), 50)
        return (235, 240, 245) if x % 20 and y % 20 else (200, 210, 225)

    return png(width, height, pixel)


def heart_sounds(seconds: float = 6.0, rate: int = 16_000) -> bytes | None:
    """A short Ogg Opus clip of lub-dub beats at 72 a minute; None without the audio library."""
    from desktop.domain import voice

    if not voice.available():
        return None
    samples = []
    beat = 60 / 72
    for n in range(int(seconds * rate)):
        t = n / rate
        phase = t % beat
        amp = 0.0
        for start, freq in ((0.0, 55.0), (0.3, 75.0)):  # S1 then S2
            dt = phase - start
            if 0 <= dt < 0.12:
                amp += math.sin(2 * math.pi * freq * dt) * math.exp(-dt * 30)
        samples.append(int(max(-1.0, min(1.0, amp * 0.8)) * 32767))
    return voice.encode(struct.pack(f"<{len(samples)}h", *samples), rate)


def lecture_pages(topic: str, count: int = 6) -> list[list[str]]:
    """Readable, clearly fictional lecture notes over ``count`` pages, with words worth searching for."""
    pages = []
    for page in range(1, count + 1):
        lines = [f"{topic}: part {page}", ""]
        lines += [f"Demo lecture notes written for the Osler demo programme (page {page} of {count})."]
        lines += [""]
        lines += [f"{n}. Key point {n} of part {page}: discuss {topic.lower()} with your mentor." for n in range(1, 31)]
        pages.append(lines)
    return pages


def media_items() -> list[tuple[dict, bytes]]:
    """The demo's PDF, image and audio items: (catalogue fields without size, hashes and ids; the file)."""
    out = [
        (
            {
                "title": "Heart failure: lecture notes",
                "specialty": "Cardiology",
                "kind": "lecture-notes",
                "level": "clinical",
                "summary": "Twelve pages of lecture notes on heart failure, to read offline and search.",
            },
            pdf(lecture_pages("Heart failure", 12), "Heart failure: lecture notes"),
        ),
        (
            {
                "title": "Clinical examination: a handbook",
                "specialty": "Internal Medicine",
                "kind": "guide",
                "level": "clinical",
                "summary": "A long handbook (150 pages, two chunks) to page through, search and bookmark.",
            },
            pdf(lecture_pages("Clinical examination", 150), "Clinical examination: a handbook"),
        ),
        (
            {
                "title": "The heart: a diagram",
                "specialty": "Cardiology",
                "kind": "image",
                "level": "preclinical",
                "summary": "A simple diagram to zoom into.",
            },
            heart_diagram(),
        ),
    ]
    sounds = heart_sounds()
    if sounds is not None:
        out.append(
            (
                {
                    "title": "Heart sounds: a normal rhythm",
                    "specialty": "Cardiology",
                    "kind": "audio",
                    "level": "preclinical",
                    "summary": "Six seconds of a synthetic lub-dub at 72 beats a minute.",
                },
                sounds,
            )
        )
    return out


def entry(fields: dict, content: bytes, item: str) -> tuple[dict, bytes]:
    """A full v2 catalogue entry for a demo file (version 1, CC BY 4.0, English) and its part list."""
    from desktop.domain.library_format import PART_SIZE, parts_of, sniff

    parts = parts_of(content)
    doc = {
        "v": 2,
        "item": item,
        "version": 1,
        "replaces": "",
        "language": "en",
        "level": "all",
        "licence": "CC-BY-4.0",
        **fields,
        "mime": sniff(content[:512]) or "text/markdown",
        "size": len(content),
        "sha256": __import__("hashlib").sha256(content).hexdigest(),
        "parts": __import__("hashlib").sha256(parts).hexdigest() if len(content) > PART_SIZE else "",
    }
    return doc, parts
