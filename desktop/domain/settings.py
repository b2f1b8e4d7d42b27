"""App settings a person chooses before and after unlocking: language, auto-lock, data saver.

Kept as a small JSON file beside the vault (written atomically). Nothing here is sensitive: the language must be
readable before the vault is unlocked, and the data budget is a number. Unknown or malformed values fall back to
defaults, so a damaged file never stops the app.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from desktop.vault.fsutil import atomic_write
from sync.client.live import IDLE_KB_PER_HOUR  # noqa: F401 - Settings shows it

log = logging.getLogger(__name__)
AUTO_LOCK_CHOICES = (0, 1, 5, 15, 30, 60)  # minutes; 0 = never
THEME_CHOICES = ("system", "light", "dark", "contrast")  # desktop/ui/theme.py
AUTO_DOWNLOAD_BYTES = 256 * 1024  # under data saver, attachments up to this size still come by themselves


@dataclass(frozen=True)
class Settings:
    locale: str = ""  # "" = follow the system
    auto_lock_minutes: int = 15
    data_saver: bool = True
    live_delivery: bool = True  # one held request while online: messages in seconds, ~19 KB an hour idle
    monthly_budget_mb: int = 100  # large downloads only within this, unless asked for
    usage_month: str = ""  # "2026-11"
    usage_bytes: int = 0
    dismissed: tuple[str, ...] = field(default_factory=tuple)
    theme: str = "system"  # one of THEME_CHOICES
    splitters: dict[str, list[int]] = field(default_factory=dict)  # a side panel's sizes, by name
    lan_relay: bool = False  # carry classmates' bundles on the LAN and find carriers (desktop/domain/lan_relay.py)
    relay_address: str = ""  # an edge relay ("http://clinic-pc:8080"): carried bundles go there when offline

    def with_usage(self, added: int, now: datetime | None = None) -> Settings:
        """Count ``added`` bytes against this month, starting a new count when the month changed."""
        month = (now or datetime.now(UTC)).strftime("%Y-%m")
        used = self.usage_bytes if month == self.usage_month else 0
        return replace(self, usage_month=month, usage_bytes=used + max(0, added))

    def bytes_this_month(self, now: datetime | None = None) -> int:
        month = (now or datetime.now(UTC)).strftime("%Y-%m")
        return self.usage_bytes if month == self.usage_month else 0

    def may_download(self, size: int, now: datetime | None = None) -> bool:
        """Under data saver, a large download happens by itself only while it fits this month's budget."""
        if not self.data_saver:
            return True
        return self.bytes_this_month(now) + size <= self.monthly_budget_mb * 1_000_000

    def auto_downloads(self, attachments: dict[str, dict], now: datetime | None = None) -> list[tuple[str, dict]]:
        """The remote attachments (``Messaging.attachments()``: message id -> entry) that come by themselves, by a
        sync online or in a bundle's answer: under data saver only small ones (``AUTO_DOWNLOAD_BYTES``) and within
        this month's budget; without it, all of them."""
        return [
            (message_id, entry)
            for message_id, entry in attachments.items()
            if entry["state"] == "remote"
            and (entry["size"] <= AUTO_DOWNLOAD_BYTES or not self.data_saver)
            and self.may_download(entry["size"], now)
        ]


class SettingsStore:
    """One file, several writers (the GUI and the sync thread): every change goes through ``update``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def update(self, change: Callable[[Settings], Settings]) -> Settings:
        """Read, change and write under one lock, so no writer loses another's change."""
        with self._lock:
            settings = change(self.load())
            self.save(settings)
            return settings

    def load(self) -> Settings:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Settings()
        except (OSError, ValueError) as exc:
            log.warning("settings unreadable (%s); using defaults", exc)
            return Settings()
        defaults = Settings()
        values = {}
        for name, default in asdict(defaults).items():
            value = doc.get(name, default) if isinstance(doc, dict) else default
            if isinstance(default, tuple):
                value = tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else default
            elif type(value) is not type(default):
                value = default
            values[name] = value
        if values["auto_lock_minutes"] not in AUTO_LOCK_CHOICES:
            values["auto_lock_minutes"] = defaults.auto_lock_minutes
        values["monthly_budget_mb"] = min(max(values["monthly_budget_mb"], 0), 100_000)
        if values["theme"] not in THEME_CHOICES:
            values["theme"] = defaults.theme
        values["splitters"] = {
            str(name): [int(n) for n in sizes]
            for name, sizes in values["splitters"].items()
            if isinstance(sizes, list) and all(isinstance(n, int) and 0 <= n < 100_000 for n in sizes)
        }
        return Settings(**values)

    def save(self, settings: Settings) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = asdict(settings)
        doc["dismissed"] = list(settings.dismissed)
        atomic_write(self.path, json.dumps(doc, indent=2).encode("utf-8"))
