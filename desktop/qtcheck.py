"""``python -m desktop.qtcheck``: tell a person, in plain words, what their system lacks for Qt to start.

PySide6 (and the packaged app, which bundles most of them) relies on a few system libraries: EGL/OpenGL,
fontconfig, D-Bus, and for a window on X11 the XCB ones. When one is missing Qt aborts with "Could not load the
Qt platform plugin". This module asks the dynamic linker (``ldd``, else loading the plugin with ctypes) what Qt's
platform plugin cannot find, and names the Debian/Ubuntu packages that provide it. ``desktop.app`` runs it before
creating the window; ``make run`` and ``make check-qt`` run it too.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from desktop.i18n import _

DEBIAN_PACKAGES = (
    "libegl1 libgl1 libopengl0 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0 "
    "libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 "
    "libxcb-shape0 libxcb-xinerama0 libxcb-xkb1"
)
# shared library → the Debian/Ubuntu package that installs it
PACKAGE_OF = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libgssapi_krb5.so.2": "libgssapi-krb5-2",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libz.so.1": "zlib1g",
}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
_DLOPEN_ERROR = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")


def qt_folder() -> Path | None:
    """Qt's folder inside PySide6 (in the source tree's venv or the packaged app), without importing Qt."""
    override = os.environ.get("OSLER_QT_DIR")  # for tests and odd layouts
    if override:
        return Path(override)
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Qt"


def platform_plugin(platform: str, qt: Path | None) -> Path | None:
    if qt is None:
        return None
    plugin = qt / "plugins" / "platforms" / f"libq{platform}.so"
    return plugin if plugin.exists() else None


def parse_ldd(text: str) -> list[str]:
    """The libraries ``ldd`` reports as not found, in order, once each."""
    return list(dict.fromkeys(_NOT_FOUND.findall(text)))


def missing_libraries(plugin: Path) -> list[str]:
    """What the plugin (and the Qt libraries it links) cannot find on this system."""
    ldd = shutil.which("ldd")
    if ldd:
        result = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, check=False)  # noqa: S603
        return parse_ldd(result.stdout)
    try:  # no ldd (a minimal system): let the dynamic linker name the first library it lacks
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        found = _DLOPEN_ERROR.search(str(exc))
        return [found.group(1)] if found else [str(exc)]
    return []


def advice(missing: list[str]) -> str:
    """What to tell the person: the libraries, the packages that provide them, the command that installs them."""
    packages = list(dict.fromkeys(PACKAGE_OF[name] for name in missing if name in PACKAGE_OF))
    ours = [name for name in missing if name.startswith(("libQt6", "libpyside6", "libshiboken6"))]
    others = [name for name in missing if name not in PACKAGE_OF and name not in ours]
    lines = [_("Osler cannot open its window: this system lacks {libraries}.").format(libraries=", ".join(missing))]
    if packages:
        lines.append(_("On Debian or Ubuntu, install them with:"))
        lines.append(f"  sudo apt-get install {' '.join(packages)}")
    if ours:
        lines.append(_("Osler's own Qt files are incomplete: install Osler again."))
    if others:
        lines.append(_("To find the package providing {library}: apt-file search {library}").format(library=others[0]))
    return "\n".join(lines)


def chosen_platform() -> str | None:
    """The Qt platform plugin that will be used on Linux: xcb or wayland (None: offscreen, or not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    requested = os.environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0]
    if requested:
        return requested if requested in ("xcb", "wayland") else None
    if os.environ.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb" if os.environ.get("DISPLAY") else None


def check(platform: str | None = None) -> str | None:
    """None when Qt's platform plugin finds every library it needs here, else what to tell the person."""
    platform = platform or chosen_platform()
    if platform is None:
        return None
    plugin = platform_plugin(platform, qt_folder())
    if plugin is None:
        return None  # a layout this check does not know: let Qt speak for itself
    missing = missing_libraries(plugin)
    if missing and platform == "wayland" and platform_plugin("xcb", qt_folder()) is not None:
        return None  # Qt falls back to XWayland through xcb
    return advice(missing) if missing else None


def show(message: str) -> None:
    """On stderr, and in a dialog when started from a menu (no terminal to read stderr)."""
    print(message, file=sys.stderr)
    if sys.stderr.isatty() or os.environ.get("OSLER_NO_DIALOG"):
        return
    for tool in (["zenity", "--error", "--no-wrap", "--text"], ["xmessage", "-center"]):
        if shutil.which(tool[0]):
            subprocess.run([*tool, message], check=False)  # noqa: S603 - a fixed tool and our own text
            return


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    problem = check()
    if problem:
        show(problem)
        return 1
    try:
        from PySide6 import QtGui, QtWidgets  # noqa: F401
    except ImportError as exc:
        print(_("Qt cannot start: {problem}").format(problem=exc), file=sys.stderr)
        print(_("On Debian or Ubuntu, install its system libraries:"), f"\n  sudo apt-get install {DEBIAN_PACKAGES}")
        return 1
    if chosen_platform() is None and sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        print(
            _(
                "No screen found (DISPLAY and WAYLAND_DISPLAY are unset). To run without one: "
                "xvfb-run make run, or QT_QPA_PLATFORM=offscreen for tests."
            ),
            file=sys.stderr,
        )
        return 1 if "run" in argv else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
