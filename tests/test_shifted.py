"""The watch behind the shifted run's selection (tests/shifted.py): it must see every way our code reads the wall
clock, or the shifted run would leave out a test the clock can change. Run in a child process so its patches of
``time`` are its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import time, types, urllib.request
from tests.shifted import WallClockWatch
from sync.clock import SYSTEM
import desktop.domain.settings as settings
watch = WallClockWatch()
watch.install()
watch.watch_datetime(settings)
def seen(step):
    step()
    print(watch.take())
seen(lambda: None)
seen(lambda: SYSTEM.time())
seen(lambda: settings.Settings().bytes_this_month())
seen(lambda: time.time())  # this probe is not our code: a library's read
seen(lambda: __import__("subprocess").run(["true"]))
print(isinstance(settings.datetime.now(), settings.datetime), settings.datetime(2031, 1, 2).year)
"""


def test_the_watch_sees_our_reads_of_the_wall_clock_and_child_processes_but_not_a_librarys():
    lines = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert lines[0] == "None"
    assert lines[1].startswith("time.time() at sync/clock.py:")
    assert lines[2].startswith("datetime.now() at desktop/domain/settings.py:")
    assert lines[3] == "None"
    assert lines[4].startswith("a child process")
    assert lines[5] == "True 2031"  # the stand-in is still the class to everything else
