"""Several people on one computer: one folder per person (a profile), and the short list of names the picker shows.

The data root holds::

    profiles.json            {"version": 1, "salt": hex, "profiles": [{"id", "name"}], "hidden": [{"id", "tag"}]}
    profiles/<id>/           one person's everything: vault/, settings.json, tmp/, demo-server/, downloads/
    profiles/.removing-<id>/ a profile being deleted (finished at the next start if Osler stopped midway)

``profiles.json`` holds names only; nothing else of a profile is readable outside its folder, and its vault has its
own keys. A hidden profile's name is not written down at all: the file keeps a salted scrypt tag of it
(``desktop/vault/names.py``), and the picker opens it only when the person types the name.

An older install kept ``vault/`` and ``settings.json`` directly in the data root; ``prepare`` moves them into the
first profile by renames inside the same folder (each one atomic, the whole step safe to repeat after a crash).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from desktop.vault.fsutil import atomic_write, fsync_dir, make_private_dir
from desktop.vault.names import SALT_BYTES, hidden_name_tag, normalise_name

log = logging.getLogger(__name__)

INDEX = "profiles.json"
FOLDER = "profiles"
REMOVING = ".removing-"
LEGACY_ID = "first"
LEGACY_ITEMS = ("vault", "settings.json", "demo-server", "downloads")  # what a profile-less install kept
MAX_NAME = 64
TEMP_VARIABLES = ("TMPDIR", "TEMP", "TMP")


class ProfileNameError(ValueError):
    """A name the picker cannot take; ``reason`` is "empty", "too-long" or "taken"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Profile:
    id: str
    name: str  # "" for a profile nobody named yet (the first one of an older install)
    hidden: bool = False


class Profiles:
    """The profiles under one data root. Plain files, no Qt; every change of the list is one atomic write."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.index_path = root / INDEX
        self.folders = root / FOLDER

    # -- reading -----------------------------------------------------------------------------------------

    def _load(self) -> dict:
        try:
            doc = json.loads(self.index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            doc = {}
        except (OSError, ValueError) as exc:  # never a reason to drop anyone: the folders are still there
            log.warning("profiles list unreadable (%s); listing the folders instead", exc)
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        visible = [p for p in doc.get("profiles", []) if isinstance(p, dict) and _valid_id(p.get("id"))]
        hidden = [p for p in doc.get("hidden", []) if isinstance(p, dict) and _valid_id(p.get("id"))]
        salt = doc.get("salt") if isinstance(doc.get("salt"), str) else ""
        return {
            "version": 1,
            "salt": salt or secrets.token_hex(SALT_BYTES),
            "profiles": [{"id": p["id"], "name": str(p.get("name", ""))[:MAX_NAME]} for p in visible],
            "hidden": [{"id": p["id"], "tag": str(p.get("tag", ""))} for p in hidden],
        }

    def _save(self, doc: dict) -> None:
        make_private_dir(self.root)
        atomic_write(self.index_path, json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))

    def visible(self) -> list[Profile]:
        """The names the picker shows, in the order the profiles were made."""
        return [Profile(p["id"], p["name"]) for p in self._load()["profiles"]]

    def count(self) -> int:
        doc = self._load()
        return len(doc["profiles"]) + len(doc["hidden"])

    def has_hidden(self) -> bool:
        return bool(self._load()["hidden"])

    def folder(self, profile: Profile) -> Path:
        return self.folders / profile.id

    def name_taken(self, name: str) -> bool:
        doc = self._load()
        wanted = normalise_name(name)
        if any(normalise_name(p["name"]) == wanted for p in doc["profiles"]):
            return True
        return self._hidden_entry(doc, name) is not None

    def _hidden_entry(self, doc: dict, name: str) -> dict | None:
        if not doc["hidden"]:
            return None
        tag = hidden_name_tag(bytes.fromhex(doc["salt"]), name)
        return next((p for p in doc["hidden"] if secrets.compare_digest(p["tag"], tag)), None)

    def open_by_name(self, name: str) -> Profile | None:
        """The profile with this name, hidden or not, as typed in "Open another profile…"; None when there is
        none (the caller says only that, never what exists)."""
        doc = self._load()
        wanted = normalise_name(name)
        if not wanted:
            return None
        for entry in doc["profiles"]:
            if normalise_name(entry["name"]) == wanted:
                return Profile(entry["id"], entry["name"])
        entry = self._hidden_entry(doc, name)
        return None if entry is None else Profile(entry["id"], name.strip(), hidden=True)

    # -- changes -----------------------------------------------------------------------------------------

    def _check_name(self, name: str, doc: dict, keep: str = "") -> str:
        name = " ".join(name.split())
        if not name:
            raise ProfileNameError("empty")
        if len(name) > MAX_NAME:
            raise ProfileNameError("too-long")
        wanted = normalise_name(name)
        if any(normalise_name(p["name"]) == wanted and p["id"] != keep for p in doc["profiles"]):
            raise ProfileNameError("taken")
        entry = self._hidden_entry(doc, name)
        if entry is not None and entry["id"] != keep:
            raise ProfileNameError("taken")
        return name

    def create(self, name: str, *, hidden: bool = False) -> Profile:
        """A new, empty profile folder, then its line in the list (a crash between leaves an empty folder that
        nothing lists, never a listed profile without a folder)."""
        doc = self._load()
        name = self._check_name(name, doc)
        profile = Profile(secrets.token_hex(8), name, hidden)
        make_private_dir(self.folders)
        make_private_dir(self.folder(profile))
        fsync_dir(self.folders)
        if hidden:
            doc["hidden"].append({"id": profile.id, "tag": hidden_name_tag(bytes.fromhex(doc["salt"]), name)})
        else:
            doc["profiles"].append({"id": profile.id, "name": name})
        self._save(doc)
        return profile

    def create_first(self) -> Profile:
        """The profile of a computer's first person, named later (after their first run)."""
        doc = self._load()
        profile = Profile(secrets.token_hex(8), "")
        make_private_dir(self.folder(profile))
        doc["profiles"].append({"id": profile.id, "name": ""})
        self._save(doc)
        return profile

    def rename(self, profile: Profile, name: str) -> Profile:
        doc = self._load()
        name = self._check_name(name, doc, keep=profile.id)
        for entry in doc["profiles"]:
            if entry["id"] == profile.id:
                entry["name"] = name
        for entry in doc["hidden"]:
            if entry["id"] == profile.id:
                entry["tag"] = hidden_name_tag(bytes.fromhex(doc["salt"]), name)
        self._save(doc)
        return Profile(profile.id, name, profile.hidden)

    def remove(self, profile: Profile) -> None:
        """Delete everything of ``profile`` on this computer. First its folder is renamed aside (one atomic step:
        from then on nothing opens it), then its line leaves the list, then the folder is deleted whole. Osler
        stopping midway leaves the profile whole or a ``.removing-`` folder that the next start deletes; no other
        profile's folder is ever touched."""
        if not _valid_id(profile.id):
            raise ValueError("not a profile id")
        folder, doomed = self.folder(profile), self.folders / f"{REMOVING}{profile.id}"
        if folder.exists():
            os.replace(folder, doomed)
            fsync_dir(self.folders)
        doc = self._load()
        doc["profiles"] = [p for p in doc["profiles"] if p["id"] != profile.id]
        doc["hidden"] = [p for p in doc["hidden"] if p["id"] != profile.id]
        self._save(doc)
        shutil.rmtree(doomed, ignore_errors=True)

    # -- start -------------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """At start, before anything opens a profile: finish removals a crash interrupted, move an older
        install's data into the first profile, and forget list lines whose folder is gone."""
        if self.folders.is_dir():
            for leftover in self.folders.glob(f"{REMOVING}*"):
                shutil.rmtree(leftover, ignore_errors=True)
        self._migrate_legacy()
        doc = self._load()
        listed = {p["id"] for p in doc["profiles"]} | {p["id"] for p in doc["hidden"]}
        on_disk = {p.name for p in self.folders.iterdir() if p.is_dir()} if self.folders.is_dir() else set()
        kept_visible = [p for p in doc["profiles"] if p["id"] in on_disk]
        kept_hidden = [p for p in doc["hidden"] if p["id"] in on_disk]
        # a folder holding a vault that the list lost (a damaged list) comes back as an unnamed profile
        adopted = [
            {"id": name, "name": ""}
            for name in sorted(on_disk - listed)
            if _valid_id(name) and (self.folders / name / "vault").exists()
        ]
        if adopted or len(kept_visible) != len(doc["profiles"]) or len(kept_hidden) != len(doc["hidden"]):
            doc["profiles"], doc["hidden"] = kept_visible + adopted, kept_hidden
            self._save(doc)

    def _migrate_legacy(self) -> None:
        target = self.folders / LEGACY_ID
        pending = [item for item in LEGACY_ITEMS if (self.root / item).exists()]
        if not pending or (not (self.root / "vault").exists() and not target.exists()):
            return  # nothing of an older install (a lone settings.json from before any vault stays put)
        make_private_dir(target)
        for item in pending:
            if not (target / item).exists():
                os.replace(self.root / item, target / item)  # same file system: atomic, nothing copied
        fsync_dir(target)
        fsync_dir(self.root)
        doc = self._load()
        if not any(p["id"] == LEGACY_ID for p in doc["profiles"] + doc["hidden"]):
            doc["profiles"].insert(0, {"id": LEGACY_ID, "name": ""})
            self._save(doc)
        log.info("moved the vault of this computer's first person into %s", target)

    def start_with(self) -> Profile | None:
        """The profile to open without a picker: the only one there is (made now on a new computer), unless
        it is hidden; None when the picker must ask."""
        doc = self._load()
        if not doc["profiles"] and not doc["hidden"]:
            return self.create_first()
        if len(doc["profiles"]) == 1 and not doc["hidden"]:
            entry = doc["profiles"][0]
            return Profile(entry["id"], entry["name"])
        return None


def _valid_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 32 and all(c.isalnum() or c in "-_" for c in value)


class PrivateTemp:
    """Osler's own temporary files go into the open profile's ``tmp/`` (Python's tempfile, and TMPDIR/TEMP/TMP
    for child processes), and are deleted when the profile closes, so nothing of one person lands in a folder
    another person's session (or any other program) reads."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._before: tuple[str | None, dict[str, str | None]] | None = None

    def enter(self) -> None:
        make_private_dir(self.folder)
        self._clear()  # what an earlier session killed midway left
        self._before = (tempfile.tempdir, {name: os.environ.get(name) for name in TEMP_VARIABLES})
        tempfile.tempdir = str(self.folder)
        for name in TEMP_VARIABLES:
            os.environ[name] = str(self.folder)

    def leave(self) -> None:
        if self._before is None:
            return
        tempdir, variables = self._before
        self._before = None
        tempfile.tempdir = tempdir
        for name, value in variables.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._clear()

    def _clear(self) -> None:
        if not self.folder.is_dir():
            return
        for entry in self.folder.iterdir():
            with contextlib.suppress(OSError):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()
