"""The Qt binding must not crash a long session: PySide6-Essentials 6.12.0 on Python 3.11 drops a reference to
None on every Qt call that returns nothing, and after a few thousand calls (an hour of use: every label set,
every button enabled) Python frees None and the app aborts with "none_dealloc". pyproject.toml excludes that
release; this runs the calls a long session makes in a process of its own, where an abort cannot take pytest
down with it."""

from __future__ import annotations

import os
import subprocess
import sys

SESSION = """
import sys
from PySide6.QtWidgets import QApplication, QLabel, QPushButton
app = QApplication([])
label, button = QLabel(), QPushButton()
before = sys.getrefcount(None)
for turn in range(20_000):
    label.setText(str(turn))
    button.setEnabled(turn % 2 == 0)
    app.processEvents()
print(before - sys.getrefcount(None))
"""


def test_twenty_thousand_qt_calls_leave_python_standing() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SESSION],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, f"the session aborted: {done.stderr[-400:]}"
    assert abs(int(done.stdout.strip())) < 100, "the binding leaks or drops references to None"
