"""``make screenshots``: render every screen a person meets to PNG files under ``screenshots/``, in a real X
window (Xvfb), so a person can look at them. Run it under ``xvfb-run``; the Makefile does."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from desktop.app import OslerApp, apply_locale
from desktop.domain.onboarding import Step
from desktop.vault import KdfParams

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")


def pump(app: QApplication, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def shoot(app: QApplication, osler: OslerApp, name: str) -> None:
    pump(app)
    path = OUT / f"{name}.png"
    osler.window.grab().save(str(path))
    print(path)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    for tag in ("en", "fr"):
        apply_locale(tag)
        with tempfile.TemporaryDirectory() as tmp:
            osler = OslerApp(Path(tmp), kdf_params=KdfParams.floor())
            osler.window.show()
            screen = osler.onboarding
            shoot(app, osler, f"{tag}-01-language")
            screen._choose_language()
            screen.new_passphrase.setText("violet harbour lantern")
            screen.confirm_passphrase.setText("violet harbour lantern")
            shoot(app, osler, f"{tag}-02-passphrase")
            screen._create()
            while screen.flow.step is not Step.RECOVERY:
                pump(app, 0.05)
            shoot(app, osler, f"{tag}-03-recovery-key")
            key = screen.flow.recovery_key or ""
            screen._recovery_written()
            shoot(app, osler, f"{tag}-04-confirm-key")
            first, second = screen.flow.confirm_indices
            screen.group_first.setText(key.split("-")[first])
            screen.group_second.setText(key.split("-")[second])
            screen._confirm()
            shoot(app, osler, f"{tag}-05-programme")
            screen._choose_demo()
            while osler.main is None:
                pump(app, 0.05)
            pump(app, 1.5)
            osler.main.refresh()
            views = ("home", "messages", "mentors", "mentorships", "library", "schedule", "settings", "profile")
            for number, view in enumerate(views, start=10):
                osler.main.navigate(view)
                if view == "mentors":
                    osler.main.mentors.table.selectRow(2)
                if view == "library":
                    osler.main.library.table.selectRow(0)
                if view == "messages":
                    messages = osler.main.messages
                    messages.thread_list.setCurrentIndex(messages.thread_model.index(0))
                    messages.compose.setPlainText("Thank you! I would love to work on neonatal sepsis this term.")
                shoot(app, osler, f"{tag}-{number}-{view}")
                if view == "messages":
                    messages.queue_toggle.click()
                    shoot(app, osler, f"{tag}-{number}b-review-queue")
                    messages.queue_toggle.click()
            osler.lock()
            shoot(app, osler, f"{tag}-20-unlock")
            osler.shutdown()


if __name__ == "__main__":
    main()
