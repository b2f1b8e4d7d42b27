"""Composition root: builds the settings store, the vault, the session (sync engine, scheduler, demo server)
and the window, and wires them. Nothing else creates long-lived objects or connects them."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import QLocale, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from desktop import i18n
from desktop.domain.settings import SettingsStore
from desktop.i18n import _, ngettext
from desktop.ui.direction import apply_direction
from desktop.ui.fonts import apply_fonts
from desktop.ui.link_watch import LinkWatch
from desktop.ui.shell import OslerWindow
from desktop.ui.sync_status import SyncBridge
from desktop.ui.theme import Theme
from desktop.ui.unlock import UnlockScreen
from desktop.vault import KdfParams, Vault, VaultError, VaultNotFound
from sync.clock import SYSTEM, Clock

if TYPE_CHECKING:  # the rest loads after the first screen is up: a cold start shows the unlock screen sooner
    from desktop.domain.onboarding import Onboarding
    from desktop.domain.session import Session
    from desktop.ui.main_window import MainScreen
    from sync.server.embedded import EmbeddedServer

log = logging.getLogger("osler")
WARM_UP_DELAY_MS = 250


def default_data_dir() -> Path:
    return Path(os.environ.get("OSLER_DATA_DIR") or platformdirs.user_data_path("Osler", appauthor=False))


def system_language(qt_name: str | None = None) -> str:
    """The operating system's language as Qt reports it ("fr_FR"), or as given (tests inject one)."""
    return qt_name if qt_name is not None else QLocale.system().name()


def choose_locale(requested: str | None, system_name: str) -> str:
    """The requested language, else the system's when Osler offers it, else English. A language Osler offers
    but has no catalog for is still chosen: it shows in English with a note saying so (i18n.fallback_note)."""
    offered = i18n.UI_LANGUAGES
    for candidate in (requested, system_name):
        tag = (candidate or "").replace("-", "_")
        for option in (tag, tag.split("_")[0]):
            if option in offered:
                return option
        if candidate and candidate is requested:
            log.warning("Osler does not offer the language %r; using the system's or English", requested)
    return i18n.SOURCE_LOCALE


def apply_locale(tag: str) -> None:
    """Switch strings, formats and layout direction to ``tag`` (English, with a note, when it has no catalog)."""
    locale = i18n.set_locale(tag)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply_direction(app, locale)  # mirrored in ar, fa, ur
        apply_fonts(app, locale)  # the bundled Noto fonts behind the UI font (Nastaliq first in Urdu)


class OslerApp(QObject):
    """What the person sees when, and the objects behind it."""

    def __init__(
        self,
        data_dir: Path,
        *,
        kdf_params: KdfParams | None = None,
        window: OslerWindow | None = None,
        clock: Clock = SYSTEM,
    ):
        super().__init__()
        self.data_dir = data_dir
        self.clock = clock  # the one clock every decision reads; tests pin it
        self.kdf_params = kdf_params
        self.settings_store = SettingsStore(data_dir / "settings.json")
        qt_app = QApplication.instance()
        if isinstance(qt_app, QApplication):  # light, dark (as the OS says) or high contrast, before any screen
            Theme.of(qt_app).apply(self.settings_store.load().theme)
        self.window = window or OslerWindow()
        self.window.show_note(i18n.fallback_note())  # `--locale sw` without a Swahili catalog says so
        self.window.sync_bar.clock = clock
        self.bridge = SyncBridge()
        self.bridge.status.connect(self.window.sync_bar.show_status)
        self.bridge.changed.connect(self._records_arrived)
        self.bridge.status.connect(self._status_reported)
        self._sent_shown: object = None  # the finished sync whose sending the views have shown
        self.window.lock_requested.connect(self.lock)
        self.window.sync_requested.connect(self.sync_now)
        self.link_watch = LinkWatch()
        self.link_watch.changed.connect(self._link_changed)
        self.vault: Vault | None = None
        self.session: Session | None = None
        self.main: MainScreen | None = None
        self.demo_server: EmbeddedServer | None = None
        self.last_unlock_kdf = 0.0
        self.warm_up_seconds = 0.0
        self.warmed = threading.Event()
        self.start()

    # -- screens ------------------------------------------------------------------------------------------

    def start(self) -> None:
        try:
            self.vault = Vault.open(self.data_dir / "vault")
        except VaultNotFound:
            self.show_onboarding()
        except VaultError as problem:
            self.window.show_screen(UnlockScreen(None, problem))
        else:
            self.show_unlock()
            QTimer.singleShot(WARM_UP_DELAY_MS, self.warm_up)  # after the first screen is drawn

    def show_onboarding(self, flow: Onboarding | None = None) -> None:
        from desktop.ui.onboarding import OnboardingScreen

        screen = OnboardingScreen(self.data_dir, self.kdf_params, flow)
        screen.vault = self.vault
        screen.language_chosen.connect(self._onboarding_language)
        screen.finished.connect(self._onboarding_finished)
        self.onboarding = screen
        self.window.show_screen(screen)

    def warm_up(self) -> None:
        """Load the modules behind the main screen on a background thread while the person types their
        passphrase, so unlocking does not wait for imports; ``warmed`` is set when done."""
        done, demo_folder = self.warmed, self.data_dir

        def load() -> None:
            started = time.perf_counter()
            import desktop.domain.session
            import desktop.ui.main_window

            if (demo_folder / desktop.domain.session.DEMO_FOLDER).exists():
                import desktop.domain.demo  # its embedded server starts at unlock

            self.warm_up_seconds = time.perf_counter() - started
            done.set()

        threading.Thread(target=load, name="osler-warm-up", daemon=True).start()

    def show_unlock(self) -> None:
        self.unlock_screen = UnlockScreen(self.vault)
        self.unlock_screen.unlocked.connect(self._unlocked)
        self.window.show_screen(self.unlock_screen)
        self.unlock_screen.passphrase.setFocus()

    def _onboarding_language(self, tag: str) -> None:
        self.settings_store.update(lambda s: replace(s, locale=tag))
        apply_locale(tag)
        self.window.setWindowTitle(_("Osler"))
        self.window.show_note(i18n.fallback_note())

    def _onboarding_finished(self, vault: Vault, demo_server: EmbeddedServer | None, profile_name: str) -> None:
        self.vault, self.demo_server = vault, demo_server
        self._open_session(profile_name)

    def _unlocked(self, vault: Vault, kdf_seconds: float) -> None:
        from desktop.domain.onboarding import Onboarding, Step
        from desktop.domain.sync_adapter import load_program

        self.vault, self.last_unlock_kdf = vault, kdf_seconds
        if load_program(vault) is None:  # set-up stopped after the vault was made: continue it
            flow = Onboarding(list(i18n.UI_LANGUAGES))
            flow.step = Step.PROGRAM
            self.show_onboarding(flow)
            return
        self._open_session()

    def _open_session(self, profile_name: str = "") -> None:
        """Start the session; a profile from first run is queued before the first sync, so it goes with it."""
        from desktop.domain.session import Session

        assert self.vault is not None
        self.session = Session(
            self.vault,
            self.data_dir,
            self.settings_store,
            demo_server=self.demo_server,
            on_status=self.bridge.on_status,
            on_change=self.bridge.on_change,
            clock=self.clock,
        )
        self.demo_server = None  # the session owns it now
        self.window.sync_bar.queued_now = self.session.queued_now
        if profile_name:  # a first card: the language chosen at the start and this computer's time zone
            from desktop.domain.matching import local_zone

            self.session.publish_profile(profile_name, languages=[i18n.current_locale().language], tz=local_zone())
        self.session.start()
        self._show_main()
        self._arm_auto_lock(self.settings_store.load().auto_lock_minutes * 60_000)

    def _show_main(self, view: str = "home") -> None:
        from desktop.ui.main_window import MainScreen

        assert self.session is not None
        self.main = MainScreen(self.session)
        self.main.language_changed.connect(self._language_changed)
        self.main.auto_lock_changed.connect(lambda minutes: self._arm_auto_lock(minutes * 60_000))
        self.window.show_screen(self.main, with_sync_bar=True)
        self.main.navigate(view)

    def _language_changed(self, tag: str) -> None:
        """Applied at once, without a restart: every string is set when a view is built, so the main screen is
        built again in the new language and given the old one's page, scroll positions and drafts."""
        state = self.main.snapshot() if self.main is not None else {"view": "settings"}
        apply_locale(tag)
        self.window.setWindowTitle(_("Osler"))
        self.window.show_note(i18n.fallback_note())
        self.window.sync_bar.retranslate()
        self._show_main(state["view"])
        if self.main is not None and "scroll" in state:
            self.main.restore(state)

    def _arm_auto_lock(self, interval_ms: int) -> None:
        self.window.idle.set_interval(interval_ms)

    # -- actions ------------------------------------------------------------------------------------------

    def lock(self) -> None:
        """Stop syncing, close the vault (keys and decrypted caches dropped), clear every model."""
        if self.session is None:
            return
        self.window.idle.set_interval(0)
        session, self.session = self.session, None
        self.window.sync_bar.queued_now = None
        if self.main is not None:
            self.main.clear()
            self.main = None
        session.stop()
        if self.vault is not None:
            self.vault.lock()
        self.show_unlock()

    def sync_now(self) -> None:
        if self.session is not None:
            self.session.sync_now()

    def _link_changed(self, online: bool) -> None:
        if self.session is not None:
            self.session.scheduler.connectivity_changed(online)

    def _records_arrived(self, kinds: set[str]) -> None:
        if self.main is None or self.session is None or self.session.vault.is_locked:
            return  # news from a sync that finished as the person locked: shown after unlocking
        self.main.refresh()
        important = kinds & {"message", "request"}
        sender = self.session.newest_sender() if "message" in kinds else None
        if sender is not None:  # who, never what: the notification shows no message content
            self.window.notify(_("Osler"), _("New message from {name}").format(name=sender))
        elif important:
            count = len(important)
            self.window.notify(
                _("Osler"), ngettext("Something new is waiting for you.", "New messages and requests.", count)
            )

    def _status_reported(self, status: object) -> None:
        """A finished sync that sent records: what said "queued" (Home's card line, message states) follows,
        once per sync however often that status is published again."""
        progress = getattr(status, "progress", None)
        if progress is None or progress.phase != "done" or not progress.records_up or progress is self._sent_shown:
            return
        self._sent_shown = progress
        if self.main is not None and self.session is not None and not self.session.vault.is_locked:
            self.main.sent()

    def shutdown(self) -> None:
        self.main = None
        if self.session is not None:
            self.session.stop()
            self.session = None
        if self.demo_server is not None:
            self.demo_server.stop()
        if self.vault is not None:
            self.vault.close()


def configure_logging() -> None:
    """Osler's own lines on the terminal; the HTTP libraries' retry and pool warnings (every cut while offline)
    are not the person's business: the status bar says "Offline"."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("urllib3", "requests"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(prog="osler", description="Osler: mentorship for medical students.")
    parser.add_argument("--data-dir", type=Path, default=None, help="folder holding the vault and settings")
    parser.add_argument("--locale", default=os.environ.get("OSLER_LOCALE"), help="UI language, e.g. fr")
    parser.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation in a temporary folder (under --data-dir when given), then exit",
    )
    parser.add_argument("--screenshot", type=Path, help="with --self-test: also save the main window to this PNG")
    commands = parser.add_subparsers(dest="command", metavar="verify-release")
    verify = commands.add_parser("verify-release", help="check a folder of installers against SHA256SUMS.sig")
    verify.add_argument("folder", type=Path)
    verify.add_argument("--key", help="also trust this release public key (base64, or a file holding it)")
    args = parser.parse_args(argv)
    configure_logging()
    if args.command == "verify-release":
        from desktop.release import main as verify_release

        return verify_release(args.folder, args.key)
    i18n.set_locale(choose_locale(args.locale, system_language()))  # for the messages before the window
    from desktop import qtcheck

    problem = qtcheck.check()  # a missing system library: name its package rather than let Qt abort
    if problem:
        qtcheck.show(problem)
        return 1
    if args.self_test:
        from desktop import selftest

        logging.getLogger().setLevel(logging.WARNING)
        return selftest.run(args.data_dir, screenshot=args.screenshot)

    app = QApplication(sys.argv[:1])
    app.setApplicationName("Osler")
    data_dir = args.data_dir or default_data_dir()
    saved = SettingsStore(data_dir / "settings.json").load().locale
    apply_locale(choose_locale(args.locale or saved or None, system_language()))
    osler = OslerApp(data_dir)
    osler.window.show()
    if args.startup_probe:  # for the benchmark: time to the first screen, then quit
        QTimer.singleShot(
            0, lambda: (print(f"first-screen {time.perf_counter() - started:.4f}", flush=True), app.quit())
        )
    app.aboutToQuit.connect(osler.shutdown)
    # Closing the window ends Osler even while another top-level window shows (on X11 the tray icon is one): the
    # window is deleted on close, and its end quits the app.
    osler.window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    osler.window.destroyed.connect(app.quit)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
