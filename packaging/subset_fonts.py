"""Regenerate the bundled fonts under ``desktop/assets/fonts/`` from Debian's ``fonts-noto-core``.

Osler's UI speaks Amharic (Ethiopic script), Bengali, Hindi (Devanagari), Arabic, Persian and Urdu (Nastaliq). A
machine that has none of those fonts would show boxes, so the package brings one Noto font per script, subset to
that script's Unicode blocks plus punctuation and digits, with every OpenType layout feature kept (GSUB/GPOS do
the shaping: conjuncts, joining forms, marks). Latin letters are left out on purpose: the system's UI font keeps
drawing them. Run by hand when the fonts change (the build does not need fontTools)::

    sudo apt-get install fonts-noto-core && pip install fonttools
    python packaging/subset_fonts.py [/usr/share/fonts/truetype/noto]
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "desktop" / "assets" / "fonts"
SOURCE = Path("/usr/share/fonts/truetype/noto")

# ASCII digits and punctuation, Latin-1 punctuation, general punctuation (incl. ZWNJ/ZWJ and the bidi marks), the
# dotted circle shapers show under a lone combining mark
COMMON = [(0x20, 0x40), (0x5B, 0x60), (0x7B, 0x7E), (0xA0, 0xBF), (0xD7, 0xD7), (0x2000, 0x206F), (0x25CC, 0x25CC)]
ARABIC = [(0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)]
INDIC_DANDA = [(0x0964, 0x0965)]  # shared by Bengali and Devanagari
FONTS = {
    "NotoSansEthiopic-Regular.ttf": [(0x1200, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F)],
    "NotoSansBengali-Regular.ttf": [(0x0980, 0x09FF), *INDIC_DANDA],
    "NotoSansDevanagari-Regular.ttf": [(0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x1CD0, 0x1CFF)],
    "NotoSansArabic-Regular.ttf": ARABIC,
    "NotoNastaliqUrdu-Regular.ttf": ARABIC,
}
# Nastaliq comes first in an Urdu UI (desktop/ui/fonts.py): without ASCII, Latin letters and digits keep the
# system's font; its spaces are widened from 0.132 to Noto Sans's 0.26 em, or English words and names between
# Urdu ones would run together
NO_ASCII = {"NotoNastaliqUrdu-Regular.ttf"}
SPACE_EM = 0.26
# A modified font takes a name of its own (Noto reserves none): Qt then always draws Osler's copy, never a system
# copy of the same family with the narrow space
RENAMED = {"NotoNastaliqUrdu-Regular.ttf": ("Noto Nastaliq Urdu", "Osler Nastaliq Urdu")}


def rename(font: subset.TTFont, old: str, new: str) -> None:
    for record in font["name"].names:
        text = record.toUnicode()
        if old in text or old.replace(" ", "") in text:
            record.string = text.replace(old, new).replace(old.replace(" ", ""), new.replace(" ", ""))


def subset_one(
    source: Path,
    target: Path,
    ranges: list[tuple[int, int]],
    common: bool = True,
    renamed: tuple[str, str] | None = None,
) -> int:
    options = subset.Options()
    options.layout_features = ["*"]  # shaping needs every GSUB/GPOS feature
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # Qt renders these unhinted at UI sizes; hinting is a third of the bytes
    options.desubroutinize = True
    shared = COMMON if common else [(0x20, 0x20), (0xA0, 0xA0), (0x200C, 0x200F), (0x25CC, 0x25CC)]
    unicodes = [c for start, end in (*shared, *ranges) for c in range(start, end + 1)]
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    if not common:
        cmap = font.getBestCmap()
        width = round(SPACE_EM * font["head"].unitsPerEm)
        for glyph in {cmap[c] for c in (0x20, 0xA0) if c in cmap}:
            font["hmtx"][glyph] = (max(width, font["hmtx"][glyph][0]), font["hmtx"][glyph][1])
    if renamed:
        rename(font, *renamed)
    partial = target.with_suffix(".partial")
    subset.save_font(font, str(partial), options)
    partial.replace(target)  # a new file, never rewritten in place: a running Osler maps the old one
    return target.stat().st_size


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    OUT.mkdir(parents=True, exist_ok=True)
    for name, ranges in FONTS.items():
        target = OUT / name
        if name in RENAMED:
            target = OUT / name.replace(*(n.replace(" ", "") for n in RENAMED[name]))
        size = subset_one(source / name, target, ranges, common=name not in NO_ASCII, renamed=RENAMED.get(name))
        print(f"{name}: {(source / name).stat().st_size} -> {target.name}: {size} bytes")


if __name__ == "__main__":
    main()
