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


# -- which tests the shifted run needs ---------------------------------------------------------------------------
#
# Moving the clock can only change a test that reads it. The first run of `make test` therefore watches every
# test (its fixtures included) for a read of the wall clock by our code (desktop/, sync/, tests/): time.time()
# and its kin, the SYSTEM clock, datetime.now()/date.today() in the desktop modules that call them, and any
# child process started (a server or CLI in its own process reads a clock the watch cannot see). It writes the
# tests that read nothing to pytest's cache; the shifted run leaves those out and runs everything else, including
# every test it has no record of (new, renamed, or not run first). Reads by libraries (uvicorn's Date header,
# logging's timestamps) decide nothing of ours and are not counted.

CACHE_KEY = "osler/clock-free"
SHIFTED_ALL_ENV = "OSLER_SHIFTED_ALL"  # set to 1 to run every test shifted, whatever the first run saw
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CLOCK = os.path.join(_ROOT, "sync", "clock.py")
_OURS = tuple(os.path.join(_ROOT, part) + os.sep for part in ("desktop", "sync", "tests"))


def shifted_run() -> bool:
    return "OSLER_CLOCK_SHIFT_DAYS" in os.environ


def _place(frame) -> str:  # type: ignore[no-untyped-def]
    name = frame.f_code.co_filename
    return f"{os.path.relpath(name, _ROOT) if name.startswith(_ROOT) else name}:{frame.f_lineno}"


class WallClockWatch:
    """Notices whether our code read the wall clock (or started a process) since the last ``take()``."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def note(self, what: str) -> None:
        if self.reason is not None:
            return
        frame = sys._getframe(2)  # whoever called time.time() (not this watch, not a library)
        if frame.f_code.co_filename.startswith(_OURS):
            self.reason = f"{what} at {_place(frame)}"
            asker = frame
            while asker.f_back is not None and asker.f_code.co_filename == _CLOCK:
                asker = asker.f_back
            if asker is not frame:  # the SYSTEM clock read it: whoever asked that clock is what to look at
                self.reason += f" for {_place(asker)}"

    def take(self) -> str | None:
        reason, self.reason = self.reason, None
        return reason

    def install(self) -> None:
        import subprocess
        import time

        watch = self
        for name in ("time", "time_ns"):
            real = getattr(time, name)

            def watched(real=real, name=name):  # type: ignore[no-untyped-def]
                watch.note(f"time.{name}()")
                return real()

            setattr(time, name, watched)
        for name, when in (("localtime", 0), ("gmtime", 0), ("ctime", 0), ("asctime", 0), ("strftime", 1)):
            real = getattr(time, name)

            def watched_now(*args, real=real, name=name, when=when):  # type: ignore[no-untyped-def]
                if len(args) <= when or args[when] is None:  # no time given: it reads the clock
                    watch.note(f"time.{name}()")
                return real(*args)

            setattr(time, name, watched_now)
        real_popen_init = subprocess.Popen.__init__

        def popen_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            if watch.reason is None:  # a server or CLI in its own process: a clock the watch cannot see
                watch.reason = f"a child process ({args[0] if args else kwargs.get('args')!r:.80})"
            real_popen_init(self, *args, **kwargs)

        subprocess.Popen.__init__ = popen_init  # type: ignore[method-assign]

    def watch_datetime(self, module: object) -> None:
        """``datetime.now()`` is C code that no patch of the ``time`` module sees: a module of ours that calls it
        gets, under its own name ``datetime``, a stand-in that notes the call and otherwise is the class."""
        import datetime as dt

        watch = self

        class _Meta(type):
            def __instancecheck__(cls, obj: object) -> bool:
                return isinstance(obj, dt.datetime)

            def __subclasscheck__(cls, sub: type) -> bool:
                return issubclass(sub, dt.datetime)

            def __call__(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
                return dt.datetime(*args, **kwargs)

            def __getattr__(cls, name: str):  # type: ignore[no-untyped-def]
                return getattr(dt.datetime, name)

        class WatchedDatetime(metaclass=_Meta):
            @staticmethod
            def now(tz=None):  # type: ignore[no-untyped-def]
                watch.note("datetime.now()")
                return dt.datetime.now(tz)

            @staticmethod
            def utcnow():  # type: ignore[no-untyped-def]
                watch.note("datetime.utcnow()")
                return dt.datetime.now(dt.UTC).replace(tzinfo=None)

            @staticmethod
            def today():  # type: ignore[no-untyped-def]
                watch.note("datetime.today()")
                return dt.datetime.today()

        if getattr(module, "datetime", None) is dt.datetime:
            module.datetime = WatchedDatetime  # type: ignore[attr-defined]
