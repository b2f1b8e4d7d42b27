"""Every script Osler speaks renders on a machine with none of its fonts: a Qt process whose fontconfig knows no
font at all (an empty font folder) draws Amharic, Bengali, Hindi, Arabic, Persian and Urdu sample text with the
fonts the package brings (desktop/assets/fonts), each glyph a real one rather than the missing-glyph box; Urdu in
Nastaliq. Without the bundled fonts the same process draws boxes, so the test shows what the fonts add."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.ui.fonts import BUNDLED, FOLDER

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = {
    "am": ("ሰላም፣ እንኳን ደህና መጡ። የሕክምና ተማሪ", "Noto Sans Ethiopic"),
    "bn": ("স্বাগতম, ডাক্তার। চিকিৎসা শিক্ষার্থী", "Noto Sans Bengali"),
    "hi": ("नमस्ते, डॉक्टर। चिकित्सा छात्र", "Noto Sans Devanagari"),
    "ar": ("مرحبًا بالطبيب، أعطِ المريض الدواء", "Noto Sans Arabic"),
    "fa": ("خوش آمدید، پزشک گرامی", "Noto Sans Arabic"),
    "ur": ("خوش آمدید، ڈاکٹر صاحب۔ طبی طالب علم", "Osler Nastaliq Urdu"),
}

PROBE = """
import json, sys
from babel import Locale
from PySide6.QtGui import QGuiApplication, QTextLayout
app = QGuiApplication([])
if sys.argv[1] == "bundled":
    from desktop.ui.fonts import apply_fonts
shown = {}
for tag, text in json.loads(sys.argv[2]).items():
    if sys.argv[1] == "bundled":
        apply_fonts(app, Locale.parse(tag))
    layout = QTextLayout(text, app.font())
    layout.beginLayout()
    layout.createLine().setLineWidth(4000)
    layout.endLayout()
    runs = [(r.rawFont().familyName(), [int(g) for g in r.glyphIndexes()]) for r in layout.glyphRuns()]
    shown[tag] = runs
print(json.dumps(shown))
"""


def render_without_system_fonts(tmp_path: Path, mode: str) -> dict[str, list[tuple[str, list[int]]]]:
    empty = tmp_path / "no-fonts"
    empty.mkdir(exist_ok=True)
    config = tmp_path / "fonts.conf"
    config.write_text(
        f'<?xml version="1.0"?><fontconfig><dir>{empty}</dir><cachedir>{tmp_path / "cache"}</cachedir></fontconfig>'
    )
    env = dict(os.environ, FONTCONFIG_FILE=str(config), QT_QPA_PLATFORM="offscreen", QT_LOGGING_RULES="*=false")
    env.pop("FONTCONFIG_PATH", None)
    samples = {tag: text for tag, (text, _family) in SAMPLES.items()}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode, json.dumps(samples)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if mode == "system" and done.returncode < 0:  # Qt before 6.12 dies laying out text on a machine with no font
        return {tag: [] for tag in samples}  # at all (a signal, not an answer): nothing could be drawn either
    assert done.returncode == 0, done.stderr[-400:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def boxes(runs: list[tuple[str, list[int]]]) -> int:
    """Glyph 0 is a font's missing-glyph box; a run of no font (Qt's box engine) is all boxes; no run at all means
    nothing could be drawn."""
    return sum(g == 0 or not family for family, glyphs in runs for g in glyphs) if runs else 1


def test_every_script_renders_with_only_the_bundled_fonts(tmp_path) -> None:
    shown = render_without_system_fonts(tmp_path, "bundled")
    problems = []
    for tag, (_text, family) in SAMPLES.items():
        runs = shown[tag]
        if boxes(runs):
            problems.append(f"{tag}: {boxes(runs)} boxes in {runs}")
        families = {f for f, glyphs in runs if glyphs}
        if family not in families:
            problems.append(f"{tag}: drawn in {families}, not {family}")
    assert problems == []


def test_without_the_bundled_fonts_the_same_machine_shows_boxes(tmp_path) -> None:
    """The check above means something: with no font registered, that process cannot draw these scripts."""
    shown = render_without_system_fonts(tmp_path, "system")
    assert all(boxes(shown[tag]) for tag in SAMPLES)


@pytest.mark.parametrize("stem", sorted(BUNDLED))
def test_bundled_fonts_are_small_subsets_with_their_licence(stem) -> None:
    path = FOLDER / f"{stem}.ttf"
    assert path.is_file() and path.stat().st_size < 500_000
    assert "SIL Open Font License" in (FOLDER / "OFL.txt").read_text(encoding="utf-8")


def test_latin_text_keeps_the_system_font(qapp) -> None:
    """The bundled fonts stand behind the OS's UI font: in English (and in Arabic, whose UI font draws Arabic
    where it can) the font Qt resolves, and so every line's height, is still the system's."""
    from PySide6.QtGui import QFontInfo

    from desktop.app import apply_locale

    try:
        for tag in ("en", "ar", "am"):
            apply_locale(tag)
            assert QFontInfo(qapp.font()).family() not in BUNDLED.values(), tag
        apply_locale("ur")
        assert QFontInfo(qapp.font()).family() == "Osler Nastaliq Urdu"
    finally:
        apply_locale("en")
