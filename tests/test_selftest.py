"""``osler --self-test`` from source, as a real process: what CI then runs against the built package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], env: dict[str, str], cwd: Path, read_only: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "desktop.app", *args]
    if read_only is not None:
        if os.geteuid() == 0:  # root writes through file modes: mount the folder read-only, like a locked USB stick
            script = 'mount --bind -o ro "$0" "$0" && exec "$@"'
            command = ["unshare", "--mount", "sh", "-c", script, str(read_only), *command]
        else:
            read_only.chmod(0o555)
    return subprocess.run(
        command,
        env={**env, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen"}
    for name in ("home", "tmp", "cwd"):
        (tmp_path / name).mkdir()
    env |= {"HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path / "tmp")}
    return env


def test_self_test_passes_and_leaves_nothing_behind(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    shot = tmp_path / "main.png"
    result = _run(["--self-test", "--screenshot", str(shot)], env, tmp_path / "cwd")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for step in ("create a vault", "unlock it", "start the demo server", "sync once", "draw the main window"):
        assert any(step in line and ": ok" in line for line in lines), result.stdout
    assert lines[-1] == "self-test passed"
    assert shot.stat().st_size > 1000  # the one file asked for
    for name in ("home", "tmp", "cwd"):
        assert list((tmp_path / name).iterdir()) == [], f"the self-test wrote into {name}"


def test_self_test_in_a_read_only_folder_says_so_without_a_traceback(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    result = _run(["--self-test", "--data-dir", str(readonly)], env, tmp_path / "cwd", read_only=readonly)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"cannot write to {readonly}" in result.stdout
    assert "--data-dir" in result.stdout  # and what to do instead
