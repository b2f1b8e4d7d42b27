"""Run a command with every clock a year ahead: ``python -m tests.shifted [DAYS] -- CMD ARGS…``.

The suite must not depend on the day it runs (a test once failed a week after it was written because it
hard-coded a date). ``make test`` therefore runs it twice: as usual, then once more with the wall clock of this
process and of every server and client process it starts shifted by a year, through libfaketime (the build that
ships with PyPI's ``libfaketime``, which, unlike Debian 12's 0.9.10, sleeps correctly when monotonic time is left
alone). Monotonic time is left alone, so timeouts and back-off still measure real seconds.
"""

from __future__ import annotations

import os
import sys
from importlib.resources import files

DEFAULT_DAYS = 365


def shifted_env(days: int, environ: dict[str, str]) -> dict[str, str]:
    library = files("libfaketime") / "vendor" / "libfaketime" / "src" / "libfaketime.so.1"
    if not library.is_file():
        raise SystemExit(f"libfaketime's library is missing at {library}; reinstall the test extras")
    preload = " ".join(p for p in (str(library), environ.get("LD_PRELOAD", "")) if p)
    return {
        **environ,
        "LD_PRELOAD": preload,
        "FAKETIME": f"{days:+d}d",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "DONT_FAKE_MONOTONIC": "1",
        "OSLER_CLOCK_SHIFT_DAYS": str(days),
    }


def main(argv: list[str]) -> None:
    days = DEFAULT_DAYS
    if argv and argv[0] != "--":
        days = int(argv.pop(0))
    if not argv or argv[0] != "--" or len(argv) < 2:
        raise SystemExit("usage: python -m tests.shifted [DAYS] -- COMMAND [ARGS…]")
    command = argv[1:]
    print(f"shifted: every wall clock {days:+d} days ahead for: {' '.join(command)}", flush=True)
    os.execvpe(command[0], command, shifted_env(days, dict(os.environ)))  # noqa: S606 (the command line given)


if __name__ == "__main__":
    main(sys.argv[1:])
