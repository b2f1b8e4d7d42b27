"""``make package``: the PyInstaller one-folder build, then what people download.

Linux: ``dist/osler_<version>_amd64.deb`` (installs to /opt/osler, ``/usr/bin/osler``, a menu entry and an icon)
and ``dist/osler-<version>-linux-x86_64.tar.gz`` (unpack anywhere, run ``osler/osler``). Windows: a portable zip
(the Inno Setup installer is built by the release workflow). macOS: ``Osler.app`` in a ``.dmg``. Every run writes
``dist/SHA256SUMS`` and signs it (``dist/SHA256SUMS.sig``) with the release key from ``$OSLER_RELEASE_KEY``, or,
on a developer's machine, with a development key kept in ``build/dev-release.key``.

Run as ``python packaging/build.py [--skip-freeze]`` from the repository root with the ``package`` extra installed.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD, DIST = ROOT / "build", ROOT / "dist"
FROZEN = BUILD / "dist" / "osler"
sys.path.insert(0, str(ROOT))

from desktop.release import KEY_ENV, sign  # noqa: E402
from sync.envelope import DeviceKey, key_fingerprint  # noqa: E402

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
# Libraries the system must provide (the spec bundles the rest, the XCB ones included): the C library, the
# OpenGL/EGL drivers that match the graphics card, X11, fonts, GLib and D-Bus, which every Linux desktop has.
DEB_DEPENDS = (
    "libc6 (>= 2.34), libgl1, libegl1, libx11-6, libx11-xcb1, libfontconfig1, libfreetype6, "
    "libglib2.0-0 | libglib2.0-0t64, libdbus-1-3, fonts-dejavu-core | fonts-liberation2, "
    "libasound2 | libasound2t64, libjack-jackd2-0 | libjack0"  # PortAudio's links, for voice notes
)
# Found on the desktops that use them: Wayland's client libraries are there whenever a Wayland session is.
SYSTEM_ONLY = ("libwayland-",)
DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=Osler
GenericName=Mentorship
GenericName[fr]=Mentorat
Comment=Offline-first mentorship for medical students
Comment[fr]=Le mentorat des étudiants en médecine, même hors ligne
Exec=/opt/osler/osler
Icon=osler
Terminal=false
Categories=Education;Network;Chat;
Keywords=mentor;student;medicine;
StartupWMClass=osler
"""


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, env=env)  # noqa: S603 - our own build commands


def release_key() -> DeviceKey:
    text = os.environ.get(KEY_ENV, "").strip()
    if text:
        return DeviceKey.from_private_bytes(base64.b64decode(text, validate=True))
    dev = BUILD / "dev-release.key"
    if not dev.exists():
        dev.parent.mkdir(parents=True, exist_ok=True)
        key = DeviceKey.generate()
        fd = os.open(dev, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.b64encode(key.private_bytes()).decode() + "\n")
    print(f"note: ${KEY_ENV} is not set: signing with the development key {dev} (not a release key)")
    return DeviceKey.from_private_bytes(base64.b64decode(dev.read_text().strip(), validate=True))


def freeze(key: DeviceKey) -> None:
    if not list(ROOT.glob("locales/*/LC_MESSAGES/osler.mo")):
        raise SystemExit("no compiled catalogs: run `make catalogs` first")
    keys = BUILD / "release-keys.txt"
    keys.parent.mkdir(parents=True, exist_ok=True)
    keys.write_text(
        (ROOT / "desktop" / "assets" / "release-keys.txt").read_text()
        + f"# the key this build was signed with ({key_fingerprint(key.public_bytes())})\n"
        + base64.b64encode(key.public_bytes()).decode()
        + "\n"
    )
    env = dict(os.environ, OSLER_RELEASE_KEYS_FILE=str(keys))
    run(
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--distpath", BUILD / "dist",
        "--workpath", BUILD / "work", ROOT / "packaging" / "osler.spec", env=env,
    )  # fmt: skip


def check_libraries(folder: Path) -> None:
    """Every bundled library must find what it links to, in the bundle or on any Linux desktop."""
    missing = set()
    for lib in folder.rglob("*.so*"):
        result = subprocess.run(["ldd", str(lib)], capture_output=True, text=True, check=False)  # noqa: S603, S607
        missing |= {line.split()[0] for line in result.stdout.splitlines() if "not found" in line}
    missing = {name for name in missing if not name.startswith(SYSTEM_ONLY)}
    if missing:
        raise SystemExit(f"bundled libraries link to libraries neither bundled nor found: {sorted(missing)}")


def _add_tree(tar: tarfile.TarFile, source: Path, name: str) -> None:
    def reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    tar.add(source, arcname=name, filter=reset)


def linux_tarball() -> Path:
    out = DIST / f"osler-{VERSION}-linux-x86_64.tar.gz"
    stage = BUILD / "tarball" / "osler"
    shutil.rmtree(stage.parent, ignore_errors=True)
    shutil.copytree(FROZEN, stage, symlinks=True)
    shutil.copy(ROOT / "desktop" / "assets" / "osler.png", stage / "osler.png")
    (stage / "osler.desktop").write_text(DESKTOP_ENTRY.replace("/opt/osler/osler", "osler"))
    shutil.copy(ROOT / "packaging" / "INSTALL-linux.txt", stage / "INSTALL.txt")
    with tarfile.open(out, "w:gz", compresslevel=9) as tar:
        _add_tree(tar, stage, "osler")
    return out


def debian_package() -> Path:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()  # noqa: S607
    stage = BUILD / "deb"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(FROZEN, stage / "opt" / "osler", symlinks=True)
    (stage / "usr" / "bin").mkdir(parents=True)
    (stage / "usr" / "bin" / "osler").symlink_to("/opt/osler/osler")
    apps = stage / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    (apps / "osler.desktop").write_text(DESKTOP_ENTRY)
    for size, source in (("256x256", "osler.png"), ("scalable", "osler.svg")):
        icons = stage / "usr" / "share" / "icons" / "hicolor" / size / "apps"
        icons.mkdir(parents=True)
        shutil.copy(ROOT / "desktop" / "assets" / source, icons / source)
    doc = stage / "usr" / "share" / "doc" / "osler"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Osler\nCopyright: Osler contributors\n")
    installed_kib = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    control = stage / "DEBIAN"
    control.mkdir()
    (control / "control").write_text(
        f"Package: osler\nVersion: {VERSION}\nSection: education\nPriority: optional\nArchitecture: {arch}\n"
        f"Maintainer: Osler contributors <osler@localhost>\nInstalled-Size: {installed_kib}\nDepends: {DEB_DEPENDS}\n"
        "Description: offline-first mentorship for medical students\n"
        " Osler connects medical students with mentors; everything lives in an encrypted vault on the\n"
        " computer, works offline and syncs when a link is there.\n"
    )
    (control / "postinst").write_text(
        "#!/bin/sh\nset -e\ncommand -v update-desktop-database >/dev/null && update-desktop-database -q || true\n"
        "command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q /usr/share/icons/hicolor || true\n"
    )
    (control / "postinst").chmod(0o755)
    for path in stage.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    out = DIST / f"osler_{VERSION}_{arch}.deb"
    run("dpkg-deb", "--root-owner-group", "-Zxz", "--build", stage, out)
    return out


def windows_zip() -> Path:
    out = DIST / f"osler-{VERSION}-windows-x64-portable.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for path in sorted(FROZEN.rglob("*")):
            z.write(path, Path("Osler") / path.relative_to(FROZEN))
    return out


def macos_dmg() -> Path:
    out = DIST / f"Osler-{VERSION}-macos.dmg"
    stage = BUILD / "dmg"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copytree(BUILD / "dist" / "Osler.app", stage / "Osler.app", symlinks=True)
    (stage / "Applications").symlink_to("/Applications")
    run("hdiutil", "create", "-volname", "Osler", "-srcfolder", stage, "-ov", "-format", "UDZO", out)
    return out


def report(outputs: list[Path]) -> None:
    def mb(n: int) -> str:
        return f"{n / 1e6:6.1f} MB"

    print("\ndownloads:")
    for out in outputs:
        print(f"  {mb(out.stat().st_size)}  {out.name}")
    files = [p for p in FROZEN.rglob("*") if p.is_file() and not p.is_symlink()]
    print(f"installed: {mb(sum(p.stat().st_size for p in files))} in {len(files)} files; largest parts:")
    parts: dict[str, int] = {}
    for p in files:
        rel = p.relative_to(FROZEN).parts
        key = "/".join(rel[:3]) if rel[:2] == ("_internal", "PySide6") else "/".join(rel[:2])
        parts[key] = parts.get(key, 0) + p.stat().st_size
    for key, size in sorted(parts.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {mb(size)}  {key}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-freeze", action="store_true", help="reuse build/dist/osler")
    args = parser.parse_args()
    key = release_key()
    if not args.skip_freeze:
        freeze(key)
    shutil.rmtree(DIST, ignore_errors=True)
    DIST.mkdir()
    system = platform.system()
    if system == "Linux":
        check_libraries(FROZEN)
        outputs = [linux_tarball(), debian_package()]
    elif system == "Windows":
        outputs = [windows_zip()]  # the release workflow adds the Inno Setup installer, then signs again
    elif system == "Darwin":
        outputs = [macos_dmg()]
    else:
        raise SystemExit(f"no packaging for {system}")
    shutil.copy(ROOT / "packaging" / "USB-KIT.md", DIST / "USB-KIT.md")
    sign(DIST, key)
    report(outputs)
    print(f"signed dist/SHA256SUMS with {key_fingerprint(key.public_bytes())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
