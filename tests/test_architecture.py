"""Imports point one way (ARCHITECTURE.md): the UI reaches the vault only through the domain."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_ui_module_imports_the_vault():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in _imports(path) if m == "desktop.vault" or m.startswith("desktop.vault.")
        )
        for path in sorted((ROOT / "desktop" / "ui").rglob("*.py"))
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_the_split_views_stay_small():
    views = ROOT / "desktop" / "ui" / "views"
    sizes = {
        name: len((views / name).read_text(encoding="utf-8").splitlines()) for name in ("messages.py", "mentors.py")
    }
    assert all(lines <= 400 for lines in sizes.values()), sizes


def test_sync_never_imports_the_desktop():
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imports(path) if m == "desktop" or m.startswith("desktop."))
        for path in sorted((ROOT / "sync").rglob("*.py"))
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_sync_without_the_internet_takes_the_session_as_a_protocol():
    """bundles, bundle_blobs, carry and lan_relay name OfflineContext, never import session.py (not even for
    types): the session wires them (session_offline.py), as account_context does for devices and linking."""
    domain = ROOT / "desktop" / "domain"
    offenders = {
        name: sorted(m for m in _imports(domain / f"{name}.py") if m == "desktop.domain.session")
        for name in ("bundles", "bundle_blobs", "carry", "lan_relay", "offline_context")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}
