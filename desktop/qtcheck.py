"""``python -m desktop.qtcheck``: tell a person, in plain words, what their system lacks for Qt to start.

PySide6's wheels bring Qt but rely on a few system libraries (EGL, OpenGL, xkbcommon, fontconfig, D-Bus, and the
XCB ones for a real window). Without them the app would die with a linker message; this names the packages.
"""

from __future__ import annotations

import os
import sys

DEBIAN_PACKAGES = (
    "libegl1 libgl1 libopengl0 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0 "
    "libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 "
    "libxcb-shape0 libxcb-xinerama0 libxcb-xkb1"
)


def main() -> int:
    try:
        from PySide6 import QtGui, QtWidgets  # noqa: F401
    except ImportError as exc:
        print(f"Qt cannot start: {exc}", file=sys.stderr)
        print(
            f"On Debian/Ubuntu install its system libraries:\n  sudo apt-get install {DEBIAN_PACKAGES}", file=sys.stderr
        )
        return 1
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if (
        not platform
        and sys.platform.startswith("linux")
        and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    ):
        print(
            "No screen found (DISPLAY and WAYLAND_DISPLAY are unset). To run without one: "
            "xvfb-run make run, or QT_QPA_PLATFORM=offscreen for tests.",
            file=sys.stderr,
        )
        return 1 if "run" in sys.argv[1:] else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
