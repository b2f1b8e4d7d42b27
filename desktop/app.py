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
from desktop.domain.profiles import PrivateTemp, Profile, ProfileNameError, Profiles
from desktop.domain.settings import SettingsStore
from desktop.i18n import _, ngettext
from desktop.ui.collector import GuiThreadCollector
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
REMINDER_CHECK_MS = 30_000  # how often the reminder check wakes (what is due reads the session clock)


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
        profiles: Profiles | None = None,
        requested_locale: str | None = None,
    ):
        """``data_dir`` is one person's folder; with ``profiles``, it is the data root and the person picks
        their profile first (``data_dir`` then becomes that profile's folder)."""
        super().__init__()
        GuiThreadCollector.install()  # reference cycles freed on this GUI thread only, never on a sync thread
        self.data_dir = data_dir
        self.profiles, self.profile = profiles, None
        self.requested_locale = requested_locale  # `--locale` wins over the profile's saved language
        self.private_temp: PrivateTemp | None = None
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
        self.window.carry_requested.connect(self.open_carry)
        self.link_watch = LinkWatch()
        self.link_watch.changed.connect(self._link_changed)
        self.vault: Vault | None = None
        self.session: Session | None = None
        self.main: MainScreen | None = None
        self.demo_server: EmbeddedServer | None = None
        self.last_unlock_kdf = 0.0
        self.warm_up_seconds = 0.0
        self.warmed = threading.Event()
        # meeting reminders: the timer only wakes the check; what is due is decided by the session's clock
        self.reminder_timer = QTimer(self)
        self.reminder_timer.setInterval(REMINDER_CHECK_MS)
        self.reminder_timer.timeout.connect(self.remind)
        if profiles is None:
            self.start()
        else:
            self.choose_profile()

    # -- profiles -----------------------------------------------------------------------------------------

    def choose_profile(self) -> None:
        """Straight into the one profile there is, else the picker."""
        assert self.profiles is not None
        try:
            profile = self.profiles.start_with()
        except OSError as problem:  # a data folder Osler may not write to: say where, and what to do
            self.show_picker()
            self.picker.list_page.show_error(
                _("Osler cannot write to {folder} ({reason}). Start it with --data-dir A_WRITABLE_FOLDER.").format(
                    folder=self.profiles.root, reason=problem.strerror or type(problem).__name__
                )
            )
            return
        if profile is not None:
            self.enter_profile(profile)
        else:
            self.show_picker()

    def show_picker(self) -> None:
        from desktop.ui.profile_picker import ProfilePicker

        assert self.profiles is not None
        self.picker = ProfilePicker(self.profiles)
        self.picker.chosen.connect(self.enter_profile)
        self.window.show_screen(self.picker)

    def enter_profile(self, profile: Profile) -> None:
        """Work inside ``profile``'s folder from now on: its settings, its language and theme, its own temporary
        folder and Qt settings, then what start() does."""
        assert self.profiles is not None
        self.profile, self.data_dir = profile, self.profiles.folder(profile)
        self.settings_store = SettingsStore(self.data_dir / "settings.json")
        self.private_temp = PrivateTemp(self.data_dir / "tmp")
        self.private_temp.enter()
        keep_qt_settings_in(self.data_dir / "qt")
        settings = self.settings_store.load()
        tag = choose_locale(self.requested_locale or settings.locale or None, system_language())
        if tag != i18n.chosen_language():
            self._onboarding_language(tag, save=False)
        qt_app = QApplication.instance()
        if isinstance(qt_app, QApplication):
            Theme.of(qt_app).apply(settings.theme)
        self.start()

    def leave_profile(self) -> None:
        """Close the profile's vault and delete its temporary files; back to no profile at all."""
        if self.vault is not None:
            self.vault.close()
            self.vault = None
        if self.private_temp is not None:
            self.private_temp.leave()
            self.private_temp = None
        self.profile = None

    def switch_profile(self) -> None:
        self.leave_profile()
        self.show_picker()

    def _several_profiles(self) -> bool:
        return self.profiles is not None and self.profiles.count() > 1

    def _name_profile(self, name: str) -> None:
        """The picker shows the name a person gave on their card, until they give their profile another."""
        profile = self.profile
        if self.profiles is None or profile is None or profile.name or profile.hidden or not name.strip():
            return
        try:
            self.profile = self.profiles.rename(profile, name)
        except (ProfileNameError, OSError) as problem:  # the picker shows "Unnamed profile" meanwhile
            log.info("profile left unnamed: %s", problem)

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
        screen.clock = self.clock
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
        if self.profiles is not None:  # the way to someone else's profile, or to make one
            from desktop.ui.common import button

            self.switch_button = button(_("Other &profile…"), _("Open or create another profile"), self.switch_profile)
            self.switch_button.setFlat(True)
            page = self.unlock_screen.unlock_page
            page.layout_.insertWidget(page.layout_.indexOf(page.error), self.switch_button)
        self.window.show_screen(self.unlock_screen)
        self.unlock_screen.passphrase.setFocus()

    def _onboarding_language(self, tag: str, save: bool = True) -> None:
        if save:
            self.settings_store.update(lambda s: replace(s, locale=tag))
        apply_locale(tag)
        self.window.setWindowTitle(_("Osler"))
        self.window.show_note(i18n.fallback_note())
        self.window.sync_bar.retranslate()

    def _onboarding_finished(self, vault: Vault, demo_server: EmbeddedServer | None, profile_name: str) -> None:
        self.vault, self.demo_server = vault, demo_server
        self._name_profile(profile_name)
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
        if self.profile is not None and not self.profile.name:  # an older install's profile: named by its card
            card = self.session.my_card() if self.session.program is not None else None
            self._name_profile(card.name if card is not None else "")
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
        self.reminder_timer.start()
        QTimer.singleShot(0, self.remind)

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
        self.reminder_timer.stop()
        session, self.session = self.session, None
        self.window.sync_bar.queued_now = None
        if self.main is not None:
            self.main.clear()
            self.main = None
        session.stop()
        if self.vault is not None:
            self.vault.lock()
        if self._several_profiles():  # whoever comes next chooses their own profile
            self.switch_profile()
        else:
            self.show_unlock()

    def sync_now(self) -> None:
        if self.session is not None:
            self.session.sync_now()

    def open_carry(self) -> None:
        if self.main is not None:
            self.main.open_carry()

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

    def remind(self) -> list[str]:
        """Notify the meeting reminders that became due (a day, an hour before, at the start, and against the
        other person's connectivity window), each once: from the local calendar, so offline too. Returns the
        texts notified."""
        if self.main is None or self.session is None or self.session.vault.is_locked:
            return []
        from desktop.domain.reminders import Fired, describe, my_zone, session_reminders

        session = self.session
        now = session.now_ms()
        fresh = Fired(session.vault).take(session_reminders(session, now), now)
        if not fresh:
            return []
        self.main.home.refresh_meetings()
        names = {c.account: c.name for c in session.cards()}
        zone = my_zone(session)
        texts = [describe(r, names.get(r.other, _("(no card yet)")), zone, now) for r in fresh]
        for text in texts:
            self.window.notify(_("Osler"), text)
        return texts

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
        self.reminder_timer.stop()
        self.main = None
        if self.session is not None:
            self.session.stop()
            self.session = None
        if self.demo_server is not None:
            self.demo_server.stop()
        if self.vault is not None:
            self.vault.close()
        if self.private_temp is not None:
            self.private_temp.leave()


def keep_qt_settings_in(folder: Path) -> None:
    """What Qt itself would keep per user (QSettings: the file dialog's recent folders and history) goes into
    the open profile's folder, never into a file every profile of this computer shares."""
    from PySide6.QtCore import QSettings

    for kind in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(kind, QSettings.Scope.UserScope, str(folder))


def configure_logging() -> None:
    """Osler's own lines on the terminal; the HTTP libraries' retry and pool warnings (every cut while offline)
    are not the person's business: the status bar says "Offline"."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("urllib3", "requests"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="osler", description="Osler: mentorship for medical students.")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="folder holding the profiles (each one's vault and settings)"
    )
    parser.add_argument(
        "--portable",
        action="store_true",
        help="keep everything in osler-data/ next to Osler (a USB stick) and write nothing on this computer; "
        "a file named osler-portable.txt there does the same",
    )
    parser.add_argument("--locale", default=os.environ.get("OSLER_LOCALE"), help="UI language, e.g. fr")
    parser.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation in a temporary folder (under --data-dir when given), then exit",
    )
    parser.add_argument("--screenshot", type=Path, help="with --self-test: also save the main window to this PNG")
    commands = parser.add_subparsers(dest="command", metavar="verify-release | verify-portfolio")
    verify = commands.add_parser("verify-release", help="check a folder of installers against SHA256SUMS.sig")
    verify.add_argument("folder", type=Path)
    verify.add_argument("--key", help="also trust this release public key (base64, or a file holding it)")
    portfolio = commands.add_parser("verify-portfolio", help="check a signed portfolio PDF (and its CSV) offline")
    portfolio.add_argument("file", type=Path)
    portfolio.add_argument("csv", type=Path, nargs="?", default=None)
    return parser.parse_args(argv)


def data_root(args: argparse.Namespace) -> Path:
    """Where the profiles live. In portable mode, also points the host's per-user folders inside it (before Qt
    starts)."""
    from desktop import portable

    root = portable.portable_root(args.portable)
    if root is not None:
        root = args.data_dir or root
        portable.confine(root)
        return root
    return args.data_dir or default_data_dir()


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = parse_args(argv)
    root = data_root(args) if args.command is None else None
    configure_logging()
    if args.command == "verify-release":
        from desktop.release import main as verify_release

        return verify_release(args.folder, args.key)
    if args.command == "verify-portfolio":
        i18n.set_locale(choose_locale(args.locale, system_language()))
        from desktop.domain.portfolio_file import main as verify_portfolio

        return verify_portfolio(args.file, args.csv)
    i18n.set_locale(choose_locale(args.locale, system_language()))  # for the messages before the window
    from desktop import qtcheck

    problem = qtcheck.check()  # a missing system library: name its package rather than let Qt abort
    if problem:
        qtcheck.show(problem)
        return 1
    if args.self_test:
        from desktop import selftest

        logging.getLogger().setLevel(logging.WARNING)
        return selftest.run(args.data_dir or (root if args.portable else None), screenshot=args.screenshot)

    app = QApplication(sys.argv[:1])
    app.setApplicationName("Osler")
    assert root is not None
    apply_locale(choose_locale(args.locale, system_language()))  # the profile's own language once it is open
    profiles = Profiles(root)
    profiles.prepare()  # an older install's vault becomes the first profile
    osler = OslerApp(root, profiles=profiles, requested_locale=args.locale)
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
