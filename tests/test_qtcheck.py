"""``desktop.qtcheck`` asks the real dynamic linker what Qt's xcb plugin lacks and names the Debian packages.

A library is made missing without touching the system: a copy of Qt's libQt6XcbQpa with one of its needed
library names changed (same length) to one this machine does not have, beside links to the real Qt libraries.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import qtcheck

REAL_QT = qtcheck.qt_folder()
NEEDED = b"libxcb-cursor.so.0"


def _installed() -> str:
    return subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False).stdout


def fake_qt(tmp_path: Path, replace: bytes | None, drop_xcb_qpa: bool = False) -> Path:
    assert REAL_QT is not None
    qt = tmp_path / "Qt"
    (qt / "plugins" / "platforms").mkdir(parents=True)
    shutil.copy(REAL_QT / "plugins" / "platforms" / "libqxcb.so", qt / "plugins" / "platforms" / "libqxcb.so")
    (qt / "lib").mkdir()
    for lib in (REAL_QT / "lib").iterdir():
        if lib.name.startswith("libQt6XcbQpa"):
            if drop_xcb_qpa:
                continue
            data = lib.read_bytes()
            assert NEEDED in data
            (qt / "lib" / lib.name).write_bytes(data.replace(NEEDED, replace) if replace else data)
        else:
            (qt / "lib" / lib.name).symlink_to(lib)
    return qt


def absent_soname() -> bytes:
    have = _installed()
    for name in qtcheck.PACKAGE_OF:
        if len(name) == len(NEEDED) and name not in have:
            return name.encode()
    pytest.skip("every library name of that length is installed here")


def run_check(qt: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OSLER_QT_DIR": str(qt), "DISPLAY": ":97", "OSLER_NO_DIALOG": "1"}
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "desktop.qtcheck", "run"], env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(not sys.platform.startswith("linux") or REAL_QT is None, reason="Linux with PySide6")
def test_a_missing_system_library_is_named_with_its_package(tmp_path: Path) -> None:
    missing = absent_soname()
    result = run_check(fake_qt(tmp_path, missing))
    assert result.returncode == 1
    package = qtcheck.PACKAGE_OF[missing.decode()]
    assert f"lacks {missing.decode()}" in result.stderr
    assert f"sudo apt-get install {package}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux") or REAL_QT is None, reason="Linux with PySide6")
def test_qts_own_library_missing_says_reinstall(tmp_path: Path) -> None:
    result = run_check(fake_qt(tmp_path, None, drop_xcb_qpa=True))
    assert result.returncode == 1
    assert "libQt6XcbQpa.so.6" in result.stderr
    assert "install Osler again" in result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux") or REAL_QT is None, reason="Linux with PySide6")
def test_a_complete_system_passes(tmp_path: Path) -> None:
    result = run_check(fake_qt(tmp_path, None))
    assert result.returncode == 0, result.stderr


def test_ldd_output_is_read_and_every_package_named_once() -> None:
    ldd = (
        "\tlinux-vdso.so.1 (0x00007ffd)\n"
        "\tlibxcb-cursor.so.0 => not found\n"
        "\tlibxkbcommon-x11.so.0 => not found\n"
        "\tlibxcb-icccm.so.4 => /lib/x86_64-linux-gnu/libxcb-icccm.so.4 (0x00007f)\n"
        "\tlibxcb-cursor.so.0 => not found\n"
        "\tlibfoo.so.3 => not found\n"
    )
    missing = qtcheck.parse_ldd(ldd)
    assert missing == ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libfoo.so.3"]
    text = qtcheck.advice(missing)
    assert "sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0\n" in text + "\n"
    assert "apt-file search libfoo.so.3" in text
