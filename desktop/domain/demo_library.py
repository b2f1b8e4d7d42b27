"""Real files for the demo library, made here with no dependency: a multi-page PDF (a small hand-written PDF
writer: Helvetica text, one content stream per page, an exact cross-reference table), a PNG (zlib and CRC32),
and a short Ogg Opus audio clip (made once with the voice-note codec, ``heart_sounds``, and stored below). Every
reader in ``make run`` has something true to open: the files a PDF, image or audio reader meets in the wild.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from collections.abc import Iterable
from functools import cache


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


def png(width: int, height: int, rows: Iterable[bytes]) -> bytes:
    """An 8-bit RGB PNG from ``height`` rows of ``width`` × 3 bytes."""
    raw = b"".join(b"\x00" + row for row in rows)  # each row: filter "none", then its pixels
    if len(raw) != height * (1 + 3 * width):
        raise ValueError("rows do not match the image's size")
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )


def heart_diagram(width: int = 320, height: int = 240) -> bytes:
    """A simple diagram: a red heart shape on a pale grid (for the image reader). Built row by row from a few
    fixed pixels, so making it allocates almost no Python objects (it runs while the demo server is seeded)."""
    paper, line = bytes((235, 240, 245)), bytes((200, 210, 225))
    reds = [bytes((200, 30 + shade, 50)) for shade in range(41)]

    def row(y: int) -> bytes:
        out = bytearray()
        v = -(y - height / 2.2) / (height / 3)
        grid = y % 20 == 0
        for x in range(width):
            u = (x - width / 2) / (width / 3)
            if (u * u + v * v - 1) ** 3 - u * u * v * v * v <= 0:
                out += reds[max(0, min(40, int(20 * (1 + v))))]
            else:
                out += line if grid or x % 20 == 0 else paper
        return bytes(out)

    return png(width, height, (row(y) for y in range(height)))


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
    return [(dict(fields), data) for fields, data in _media_items()]


@cache
def _media_items() -> tuple[tuple[dict, bytes], ...]:  # made once a process
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
    sounds = base64.b64decode(HEART_SOUNDS_OGG)
    if sounds:
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
    return tuple(out)


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


# ``heart_sounds()`` as made once (Opus through libsndfile): stored, so seeding the demo server never runs the
# codec (encoding there, on the onboarding worker thread, crashed a later garbage collection under pytest-qt).
HEART_SOUNDS_OGG = (
    "T2dnUwACAAAAAAAAAABkOVZOAAAAAF0DP8ABE09wdXNIZWFkAQE4AYA+AAAAAABPZ2dTAAAAAAAAAAAAAGQ5Vk4BAAAAT5pHNwT///8aT3B1c1Rh"
    "Z3MLAAAAbGlib3B1cyAxLjQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABPZ2dTAADAtwAAAAAAAGQ5Vk4CAAAAWFxmrjEfJRYVGhQOEhQSEhAODAoXExgYGRQUFBAODQoI"
    "CQkKCgkKCQYGBgYGBhwoJB8UFBcJCIMR+Bfulc2nobCFNA9NxmP6UXTpo6S6xMo+zJJoZAixSYzOgLR3zOYxAbhmN0GQdmHr+W0hh2whwTd8IkWo"
    "wiQmr2AIoQOKp5P09nlnb+RBNBl4EsmcdPb6CJz8OioXuAd+xuK0ku0ixm38ZmKQCAU3nEswrnG6MAVklPefChZH155qjzl79lQIBFsPlTJqYbW4"
    "RF8kLMMgJLPivAgFpTChvRyTCQuBSwYuCCqph1/+/tBL+rXTvBMYt12wCA7Dj0oVffLq4LAdMCwgYOws8JAIDOfPuT19HsbCsDuB7R3By2oIC1hk"
    "jKLQ+Mr3WziCUnoOD0AICnJkjZPOK1ruyWBWB/ZACAmMZIyNurxz4F3/kuAICYxkjIFZ/iKwyL4ICKDtD73M8NGACIM+p5qVMvSf+65KjtsAcXWd"
    "nu4twvgIpe7pVYQnB00wCUz5NAcn1hLMCKIGW1TiThnEY3HWoxsfh6zSRN+Lz1gYCJzluAOjnHfVDd0OYYAyLVKa2hGEOW9ACJtysMTx63vPrIJi"
    "JB6zA3cFJjwlWStBwAiZkf3+enTpruwpV8kUPc7AtGgwCAOzcpgtwq28yF7CQVMKc3IkpDgIDDK7OfNqhMzVLRalZKfDvvbHQAgLPBanNfRYHV1D"
    "+/nPQHAICma7Oe3IbKdohx/yJQgJjGSMg2PCeR7ItNAICX9yj3imNCBgCAig7RieQnoICKDrpu5nCBYICKDrsYf93BUICKDrpu1GrchqCAimZI17"
    "UkALTggIac+5L+ViMAgHwGSNe1JAC04IB8BkjqBw/YAIB8azDsYIB8azDsYIB8azDsYIB8azDsYIB8azDsYIB8azDsYIgAKFMLStlr/0GQYdcfp7"
    "LfM2q5GbViFjOaLACK4OLCkh1XdzD8oZy0A9EpJHFqgCw7Wou6Mxg9o4YqCpZuzr2smakAinMG5tI6qwbKbWNrPKSwZhIszNL7aha4zzEIdGYANW"
    "QTO6qAijX/8jYmelV27BkvF11+X6LQZTrXqjBo6gAN0bA2gInAyr8F9RGXw+UyQshsEnn9d0YAibALzvGObEztmdfhKfJ/iIKgmGCJmiMIL7EyZp"
    "BlyKG9bhbPkE71XLuUAIBaiwAA7L+oJPZ2dTAABAcwEAAAAAAGQ5Vk4DAAAAKGIsQTIUExMQDg0GGCMWGBgUHAwVEQ4LCQkJCAgKDAgKBgYGBgYG"
    "GiEhJBQaExIUExEQDggJGAgXThDrJSVriMIa8C1Q1wyh4b3ACA6JT0ex8/+e2mj/d+gDFd+KgAgMMrs586rylafHAR5QDCi9JwIICzwWpzUXluSn"
    "Yc0KOfKwCApyZIyNz3XaULgNDyAICYxkjIuy3/C9TnxgCAmG7bWyCIAEy9m4oLXLBtum/PioJ1QaAUW7e5IQCK+qcEyorB8K7/Z207zEleoEb8uN"
    "Q+IJSPKa7Kn9bLyi40AIpKaTHDNDPrRNnVYA/QnEPcHRzEEwCKC+2AOjnHfVDhxPTpR6wFhuP7Fi76rACJzebXY83qS9MpQALr2kBWzuYyvPoMbo"
    "CJr6vgTIUbIXibFwesfkT7iwWUAIgNp2GhtCl1mKAugszamdKlASj+oJu2pyDwb0CCCOjVDRuPWLL+egCAwiFqeacakRMD/qf6wGW1HoOyBICAs8"
    "Fqc5zcWU665SqQWQyeAICma7OewiT8LfpLOVoAgJjGSMeOWZ0xCvCAlOhryAW0swCAig7RieTrlgCAig66buqC7hCAig67aNBUAICKDrto0awggI"
    "mrs6JZTGI4gIB8BkjXs4wD3Y8oAIB8BkjHR+owgHwGSfeWvTsXcIB8azDsYIB8azDsYIB8azDsYIB8azDsYIB8azDsYIB8azDsYIgALmTvwtyewd"
    "dGQGq7hc0dc5bqHTtA2egAipO8Drjp7m5Ub+RBh858BuE44NrCkUgylefKfLmShIoAik27UhxgRdd7MVnlTmFxU1QqSZQEJAOWPuITKNJFeaYAig"
    "wNK42zv5LRcMwfX25oSAFgK/Zk3oHdbpLHsk6KS/DLE80Aib8X6Rn/TOtnbMvhMuNygwwR60CJogrX0qjgaR270WW3c+aoAEW6zxlIzAc40ImX2V"
    "AZNvjwfLhB/rZR0r5KoQCDJMgEjCFEnSDWT1Bt9dhBe8CBRLEx2+H03aIWMjpvKbO8mF7ZMIDhhXB41XZo21HugshbSBibXgCAwiFqd4gVMjCsUd"
    "RA1C+3AICxvPuXIy2itieHGIrdPICApWFqc0Gd4W7rl8HuQICYbtGKAwUAgJf3KRj251gAiABGZUmiftfJehIO1lA8zfy8iZZ4bWGE9nZ1MAAMAu"
    "AgAAAAAAZDlWTgQAAADhjQqLMiQSGBMXGRESDw4MCQkJCQkJCAoLBgYGBgYGHiEVFR8RDxIUERAODQwIFxIZGBcSFRUTCKqpAaTMcTSp2dEiFakd"
    "3yzzILEBi9wcZ5bxUll1Ayq6FB+ACKNPmAOjnHfVB8dq4G5X8gzVCJ91m1TiThnEY2qzHoXFGYvKmS/X7pSACJvrPgTIUbIXiacpZ+VGWFjOuAia"
    "gjDE8et7z6yCZ14bd2jxcnAOQXFVCICeeMEkMSAnQJk71mcPixXxNUnBFfwZgAgQ7YnIMXUmeLiJ1shqvSbQCAwBz7l53YRF++Kwh8dnomQgCAsb"
    "z7k1fmbFEitjMJrACAo1z7k0HQN34/0bq8AICYxkjIMR4LYFcyAICU6HDsCMhIAICKDrpuyzONsICKDrpuyglsAICKDrpu1GT3YICKZkjXmSrUAI"
    "CIoWq6NP9FAIB8BkjHR+owgHwGSNe1JAC04IB7tPk5iyy1IClggHxrMOxggHxrMOxggHxrMOxggHxrMOxggHxrMOxggHxrMOxgim7D60iuhGJPMr"
    "Q5Q3RpRTsrmYiPJhsauPgeiYgAinRFyPFPN0ZaOAsnB/u2yp4kL/PBxAxr3hPcuC1bfPbQihA4qnk/T2eWeO1s+k1AcpOH0tIAic/DoqF7gHfsbi"
    "tOCRAuU2JIs5oAibfCxoS39SBaaPyd8IalRSBeWJgFtoYt4FYCzm9YwImZhPmOX++qUl/QDdK2oBBAgFpTChvRyTCX90ifwjoAgqqYdf/vZlbriJ"
    "7qENHIh+sAgOw49KFRz2JTTjLbJnNVCFMGSPCAznz7k64gtSRFNZF5p3rD0IC1hkjZUo1KVSqnu8M0hdCApyZI2QyD0Q/F2pZhAICYxkjIult4JO"
    "mF2QCAmMZIyDToBmRMVACAig7Q+l8sAIgz6nmpUy9J/7rkqO2wBxdZ2e7i3C+Ail7ulVhCcHTS/Qkru7dTWTgAiiBltU4k4ZxGNx2Sdg8b9YYd4/"
    "30UEIKAInOW4A6Ocd9UN3bGrhwD3NOCWJWR8J2AIm3KwxPHre8+sf/opu4YC/zTVpWKSxAiZkf3+enTpruqc3sA4WvNttAgDs3KYLcLpsWHRaUDS"
    "M22J2Q/RwAgMMrs583HAWx7Mat3rUraP3TA4YAgLPBanOuTIt0dUifkU8su0cMBPZ2dTAABA6gIAAAAAAGQ5Vk4FAAAAjGQDiDIODQoICQkJCgkM"
    "CQYGBgYGBhwoJB4TExYKFhQTDw4NCBgiExcYEx0NExENCwkJCQgICggKZrs57chsp2iHH/IlCAmMZIyDY8J5Hsi00AgJf3KPeKY0IGAICKDtGJ5C"
    "eggIoOum7mcIFggIoOuxh/3cFQgIoOum7Tv0nggIpmSNe1JAC04ICGnPuS/lYjAIB8BkjXs4wD3Y8oAIB8BkjqBw/YAIB8azDsYIB8azDsYIB8az"
    "DsYIB8azDsYIB8azDsYIB8azDsYIgAKFMLStlr/0GQYdcfp7LfM2q5GbViFjOaLACK4OLCkh1XdzD8mXDqEU8ZpwUvT/iNbomGk4c7uW1Uz/ipe4"
    "zNpKgAinMG5tI6qwbKZfs56uvduhAPIqqqxtFBYgY5OWZTCYDHnrKAijX/8jYmelV1UJp0SSKobhw5HrrRR9HNoRK5g1IAicDKvwX1EZfD4P1TsT"
    "0w3dNywImwC87xjmxM7ZnSoPkEJQB4KMCJmiMIL7EyZpBlxDp1ppyKGImkN0EAgFqLAADsvLUcIIF0qqMfL+nqZHzrbVm93VtfmScoTACA6JT0e4"
    "5S0KMHNskfkVpsKUL3gIDDK7OjHrhrXAuVL02l8YE0HgCAs8Fqc1F2ngcF7+vQE1CApmuznt0DAI1MVYAJgICYxkjIxkjk+XQyjoCAmG7SRzYFQI"
    "gATL2bigthoJrSNY2spCwbsWIJevQzgIr6pwTKisHwrv9mfywHnCQR/sj2qVR1m7AJ91nLHbqDv0CKSmkxwzQz60Tw3NQ2CAwzg28AigvtgDo5x3"
    "1Qs7Hik6nct8aG+KfAs4CJzebXY83qS9MbAtElbMtgh6JXxqRsfQCJr6vgTIUbIXiaZOwvc4XAotIAiA2nYaG0KITlAG3IoKfC9nlZ2yjPQzRxbU"
    "+AqACCCOjVDSpQwRUoOioAgMIhane4/hk2sAIXLXunmMS0AICzwWpzntLoOrNqy2ngrWmggKZrs57Qn4fWtFJ7QICYxkjHjlmdMQrwgJToa8gFtL"
    "MAgIoO0Ynk65YAgIoOum7qgu4QgIoOu2jQVACAig67aNGsIICJq7OiWUxiOIT2dnUwAAwKUDAAAAAABkOVZOBgAAALo6ADkyDAgKBgYGBgYGGiEh"
    "IhUbExMWEhEPDgkJGCIRGBMYGBMSDg0NCwkJCQkJCAoLBgYGBgYIB8BkjXs4wD3Y8oAIB8BkjHR+owgHwGSfeWvTsXcIB8azDsYIB8azDsYIB8az"
    "DsYIB8azDsYIB8azDsYIB8azDsYIgALmTvwtyewddGQGq7hc0dc5bqHTtA2egAipO8Drjp7m5Ub+RBh858BuE44NrCkUgylefKfLmShIoAik27Uh"
    "xgRdd7MVnlTmFxU1QqSZQEJAOWPuITKNJFeaYAigwNK42zv5LRaH2fgDUXM9AIVJPEbZp4qXnln62qfv73gIm/F+kZ/0zrZ2tnOqSVH18qyXOYAI"
    "miCtfSqOBpHbsu9wbiPAzxx776BLqQyHq8wImX2VAZNvjwfLgMA0mPKSBxqgCDJMgEjCBvEw5dBZ3uCSP8n+WAgUSxMd9MOZsZG+3sF81USd0fSO"
    "rqwIDhhXBrAOu2QSmSeA5xSS1PgIDCIWpzrCLf2k8gkLddhwiAgLPBanNc4t9Exewi7A4AgKVhanNc7Kkq6BAoqACAmG7Q/A+J1ACAl/cpGPR9uA"
    "CIAEZlSaJ+2ATSQWAzmgVB2s0ttXX1vICKqpAaTMcTSp2dELegv6Xi0suO9f9di9IBmr1KxD7zjycwijT5gDo5x31Q07CAIbpodgCJ91m1TiThnE"
    "Y2rm8j124/4OnzPQhd2ACJvrPgTIUbIXiaahHS276VIYPAiagjDE8et7z6yCaElF8clGXLOJg33CqgiAnnjBJCv5GfdVXdzdW+x+C8oKC1E+gAgQ"
    "7YnIERsBBgMUsb+B5EKcDIAIDAHPuZiivNIRxJAebF7mAggICxvPuTT/WU0/A5cLEAgKNc+5NP5Ep3AedMAICYxkjIOOvgtGN+zQCAlOhw7DFa4X"
    "UcAICKDrpuyzONsICKDrpuyglsAICKDrpu01X/gICKZkjHSDAeoICIoWq6NP9FAIB8BkjHR+owgHwGSNe1JAC04IB7tPk5iyy1IClggHxrMOxggH"
    "xrMOxggHxrMOxggHxrMOxggHxrMOxk9nZ1MABDhmBAAAAAAAZDlWTgcAAACh3wWyNAYeJBQWHhERFBYUEQ8NDAkXExkYFxQUExIODQoICQkKCgkK"
    "CQYGBgYGBhwoJB4TFBUJFAcIB8azDsYIpuw+tIroRiTzK0OUUa1ziW+JdftyNcxi/zQE8pgIp0RcjxTzdGWjj3VH+ZvWKV6BbFEy9v7419CUUsnn"
    "sjDy+pgIoQOKp5P09nlnrn+X7M8l2sVBwAic/DoqF7gHfsbg2+T/2i0cqrxhjlAIm3wsaEt/UgWlzvpmseALeQqvb6NUWOJ8NCsolaEImZhPmOX+"
    "+qUl/QDGnWYPQAiCAFIIDSetx65YQFf6FFtwCCqph1/+/vMQ2QvYlVtEDnNw+kAIDsOPSiH0L843kBeFHJ4rqVSz5YmACAznz7k7oRp7MRYT+17t"
    "PiWVBKgIC1hkjKO6TWB9IERiO9FxgAgKcmSMjcQ/+EcvkK2GSAgKNc+5NVuw6A45CSwICYxkjIFWnAHA1pQICKDtGJ5OuWAIgz6nmpUy9J/7rkqO"
    "2wBxdZ2e7i3C+Ail7ulVhCcHTTAJTPk0ByfWEswIogZbVOJOGcRkHSZHNgKDlbIcI2joOqbQCJzluAOjnHfVCzp4JFr7N/ig2+99d3RgCJtysMTx"
    "63vPrIIa1zcGoJ/0Ps0BpKwImZH9/np06a7sKVGl7cLbpfsNQAgDs3KYLcP3hLv4KIpttph+IlCgCAwyuznzlmS1zchu93keHIZqLggLPBanOvg+"
    "hKU2B+GKnLtEIAgKZrs57EZpDanyNBB+CAmMZIyDY8J5Hsi00AgJf3KPeKY0IGAICKDtGJ5CeggIoOum7mcIFggIoOuxh/3cFQgIoOum7UatyGoI"
    "CKZkjXtSQAtOCAhpz7kv5WIwCAfAZI17UkALTggHwGSOoHD9gAgHxrMOxggHxrMOxggHxrMOxggHxrMOxggHxrMOxggHxrMOxgiAAoUwtK2Wv/QZ"
    "Bh1x+nst8zarkZtWIWM5osAIrg4sKSHVd3MPyZcOoRTxmnBS9P+I1uiYaThzu5bVTP+Kl7jM2kqACKcwbm0jqrBspl+znq6926EA8iqqrG0UFiBj"
    "k5ZlMJgMeesoCKNf/yNiZ6VXVQmnRJIqhuHDkeutFH0c2hErmDUgCJwMq/BfURl8Pg/VOxPTDd03LAibALzvGObEztmgxv8R9RRPGk1ICJmiMIL7"
    "EyZpBlw+r/Vmd8B5npdHCAWosAAOy/qCCBdKqjHfI+yp5J6EYL9DQeLkIdwAEXzeR4Tg"
)
