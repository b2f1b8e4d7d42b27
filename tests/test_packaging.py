"""What each install pulls in: a server install (`osler[server]`) needs no Qt, and the server runs without the
desktop's libraries; the spec bundles every data file Osler reads."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESKTOP_ONLY = ("PySide6", "shiboken6", "sqlite_utils", "babel", "zxcvbn", "scipy", "numpy")


def _requirements(*extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra in extras:
        names += project["optional-dependencies"][extra]
    return {n.split("[")[0].split(">")[0].split("=")[0].strip().lower() for n in names}


def test_a_server_install_pulls_no_qt() -> None:
    server = _requirements("server")
    assert not {"pyside6-essentials", "pyside6", "scipy", "numpy", "sqlite-utils", "babel"} & server
    assert {"fastapi", "uvicorn", "sqlalchemy", "psycopg", "requests", "zeroconf"} <= server  # requests: the relay
    assert "pyside6-essentials" in _requirements("desktop")
    assert "pyinstaller" in _requirements("package")


def test_the_server_runs_without_the_desktop_libraries(tmp_path: Path) -> None:
    """Every server module imports, and init/invite/backup work, with the desktop's libraries unimportable."""
    program = f"""
import builtins, sys
real_import = builtins.__import__
def server_only(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name.split(".")[0] in {DESKTOP_ONLY!r}:
        raise ImportError(f"{{name}} is not installed with osler[server]")
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = server_only
import sync.server.app, sync.server.embedded, sync.server.backup, sync.server.relay, sync.server.relay_advertise
from sync.server.cli import main
data = sys.argv[1]
assert main(["init", "--data-dir", data]) == 0
assert main(["invite", "--role", "mentor", "--data-dir", data]) == 0
assert main(["backup", data + "-backup", "--data-dir", data]) == 0
"""
    result = subprocess.run(
        [sys.executable, "-c", program, str(tmp_path / "data")], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "backed up" in result.stdout


def test_the_spec_bundles_every_data_file_the_code_reads() -> None:
    spec = (ROOT / "packaging" / "osler.spec").read_text()
    for needed in ('"sync" / "dictionary.txt"', "locales/*/LC_MESSAGES/*.mo", '"osler.png"', "release-keys", '"fonts"'):
        assert needed in spec, needed
    data_files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "sync").glob("*.txt")}
    assert data_files == {"sync/dictionary.txt"}, "a new data file: add it to packaging/osler.spec"
