"""Shared fixtures: real vault folders on disk, created at the KDF floor (the floor is still enforced; the
calibration that would raise it is skipped only to keep the suite fast)."""

from __future__ import annotations

import gc
import hashlib
import os
import sys
from pathlib import Path

import pytest

from desktop import i18n
from desktop.vault import KdfParams, Vault
from tests import shifted

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _english():
    i18n.set_locale("en")
    yield
    i18n.set_locale("en")


@pytest.fixture
def vault_dir(tmp_path: Path) -> Path:
    return tmp_path / "vault"


@pytest.fixture
def created(vault_dir: Path) -> tuple[Vault, str]:
    vault, recovery_key = Vault.create(vault_dir, PASSPHRASE, params=KdfParams.floor())
    yield vault, recovery_key
    vault.close()


@pytest.fixture
def vault(created: tuple[Vault, str]) -> Vault:
    return created[0]


def snapshot(folder: Path) -> dict[str, str]:
    """Name → SHA-256 of every file in ``folder``: to prove an operation changed nothing on disk."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _server_clock(request):  # type: ignore[no-untyped-def]
    """A test server's clock. In a module that says ``STEADY_SERVER = True``, one that starts on a fixed day
    (tests/servers.py ``SteadyClock``) and that the test's clients share (``client_factory``, ``card_holder``):
    the test then cannot depend on the day it runs, and the shifted run has nothing to move in it. The system's
    elsewhere, and for a test that drives the app (which runs on the system's clock)."""
    from sync.clock import SYSTEM
    from tests.servers import SteadyClock

    if getattr(request.module, "STEADY_SERVER", False) and "qtbot" not in request.fixturenames:
        return SteadyClock()
    return SYSTEM


@pytest.fixture
def server(request, tmp_path: Path):
    from tests.servers import ThreadServer

    with ThreadServer(tmp_path / "server", clock=_server_clock(request)) as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def any_server(request, tmp_path: Path):
    """A real server on SQLite, then on PostgreSQL (skipped without one, see tests/pg.py)."""
    from tests.servers import ThreadServer

    url = None
    if request.param == "postgresql":
        from tests.pg import require_postgres, reset_database

        url = require_postgres()
        reset_database(url)
    with ThreadServer(tmp_path / "server", url, clock=_server_clock(request)) as running:
        yield running


@pytest.fixture
def client_factory(tmp_path: Path, server):
    from tests.clients import make_client

    made = []

    def make(role: str = "student"):
        client = make_client(tmp_path / f"client{len(made)}", server.url, server.invite(role), clock=server.clock)
        made.append(client)
        return client

    yield make
    for client in made:
        client.vault.close()


@pytest.fixture
def make_app(qtbot, tmp_path: Path):
    """The whole desktop app, offscreen, driven through its page object."""
    from desktop.app import OslerApp
    from tests.pages import AppPage

    made: list = []

    def make(data_dir: Path | None = None, clock=None) -> AppPage:  # type: ignore[no-untyped-def]
        options = {} if clock is None else {"clock": clock}
        app = OslerApp(data_dir or tmp_path / "osler", kdf_params=KdfParams.floor(), **options)
        qtbot.addWidget(app.window)
        app.window.show()
        made.append(app)
        return AppPage(qtbot, app)

    yield make
    for app in made:
        app.shutdown()


@pytest.fixture(autouse=True)
def _gui_thread_collector(request):
    """As in the app (desktop/ui/collector.py): once Qt is in the process, cycles are collected on the GUI thread
    only, by the app's own collector, and whatever a test left is collected when it ends, on this thread."""
    yield
    if "PySide6.QtWidgets" in sys.modules:
        from PySide6.QtWidgets import QApplication

        if QApplication.instance() is not None:
            from desktop.ui.collector import GuiThreadCollector

            GuiThreadCollector.install()
            gc.collect()


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """pytest-qt closes a test's windows and asks Qt to delete them later, but "later" is the next event loop, in
    the next test: the next app's theme (QApplication.setStyleSheet) then re-styles every widget of the windows
    before it too. Deleting them now keeps each test's cost its own."""
    yield
    if "PySide6.QtWidgets" in sys.modules:
        from PySide6.QtCore import QCoreApplication, QEvent

        if QCoreApplication.instance() is not None:
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


# -- the shifted run covers the tests that read the wall clock (tests/shifted.py) ---------------------------------

_watch = None if shifted.shifted_run() else shifted.WallClockWatch()
_fixtures_that_read: set = set()  # wider-scoped FixtureDefs whose setup read the wall clock: every test using one
# reads it too (a function-scoped fixture's read is seen in its own test only: it is set up again for the next)
_clock_free: set[str] = set()  # on the controller: the tests the first run saw read nothing
_clock_reads: dict[str, str] = {}  # on the controller: the others, with the first read seen (why each is shifted)
READS_KEY = "osler/clock-reads"
_datetime_watched: set[str] = set()
_ran = pytest.StashKey[bool]()
_file_seconds: dict[str, float] = {}  # on the controller: what each test file took, setup and teardown included
FILE_SECONDS_KEY = "osler/file-seconds"


def pytest_configure(config: pytest.Config) -> None:
    if _watch is not None:
        _watch.install()


def _watch_new_modules() -> None:
    """Desktop modules that call ``datetime.now()`` themselves (loaded by now) get the watching stand-in."""
    import sys

    for name in [n for n in sys.modules if n.startswith("desktop.") and n not in _datetime_watched]:
        _datetime_watched.add(name)
        source = getattr(sys.modules[name], "__file__", None)
        if source and source.endswith(".py"):
            text = Path(source).read_text(encoding="utf-8")
            if "datetime.now(" in text or "datetime.utcnow(" in text or "datetime.today(" in text:
                _watch.watch_datetime(sys.modules[name])


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    if _watch is None:
        yield
        return
    before = _watch.take()
    yield
    if _watch.reason is not None and fixturedef.scope != "function":
        _fixtures_that_read.add(fixturedef)
    if before is not None:
        _watch.reason = before


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if _watch is not None:
        _watch_new_modules()
        _watch.take()  # whatever ran between tests (a module fixture's teardown) is not this test's
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if _watch is None:
        return
    if call.when == "call" and outcome.get_result().passed:
        item.stash[_ran] = True
    if call.when != "teardown" or not item.stash.get(_ran, False):
        return  # a test that did not run (skipped, failed) has no record: the shifted run includes it
    reason = _watch.take()
    if reason is None:
        defs = [d for defs in item._fixtureinfo.name2fixturedefs.values() for d in defs]
        reason = next((f"its fixture {d.argname}" for d in defs if d in _fixtures_that_read), None)
    outcome.get_result().user_properties.append(("wall_clock", reason or ""))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    _file_seconds[path] = _file_seconds.get(path, 0.0) + report.duration
    if report.when == "teardown":
        reads = dict(report.user_properties).get("wall_clock")
        if reads == "":
            _clock_free.add(report.nodeid)
        elif reads:
            _clock_reads[report.nodeid] = reads


def pytest_sessionfinish(session: pytest.Session) -> None:
    if (
        _watch is not None
        and not hasattr(session.config, "workerinput")
        and getattr(session.config, "cache", None) is not None
    ):
        session.config.cache.set(shifted.CACHE_KEY, sorted(_clock_free))
        session.config.cache.set(READS_KEY, dict(sorted(_clock_reads.items())))
        seconds = session.config.cache.get(FILE_SECONDS_KEY, {})
        seconds.update({path: round(spent, 1) for path, spent in _file_seconds.items()})
        session.config.cache.set(FILE_SECONDS_KEY, seconds)


def _longest_files_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Parallel runs hand out whole files (--dist loadfile) in collection order, and the file handed out last sets
    when the run ends: the files go longest first, by what the last first run of each took (pytest's cache), or by
    how many tests they hold when there is no record yet. Tests keep their order within a file."""
    cache = getattr(config, "cache", None)
    seconds = cache.get(FILE_SECONDS_KEY, {}) if cache is not None else {}
    counts: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        counts[path] = counts.get(path, 0) + 1
    items.sort(key=lambda item: (-seconds.get(p := item.nodeid.split("::", 1)[0], 0.0), -counts[p], p))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _longest_files_first(config, items)
    if not shifted.shifted_run() or os.environ.get(shifted.SHIFTED_ALL_ENV) or getattr(config, "cache", None) is None:
        return
    free = set(config.cache.get(shifted.CACHE_KEY, []))
    left_out = [item for item in items if item.nodeid in free]
    if left_out:
        items[:] = [item for item in items if item.nodeid not in free]
        config.hook.pytest_deselected(items=left_out)
