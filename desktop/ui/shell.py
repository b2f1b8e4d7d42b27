"""The one top-level window: it shows the first-run screen, the unlock screen or the main screen, carries the
sync status bar, locks after idle time, and notifies through the system tray while it is not active."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QStyle,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import _
from desktop.ui.sync_status import SyncStatusBar

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class IdleWatcher(QObject):
    """Emits ``idle`` after ``interval_ms`` without keyboard, mouse or touch input anywhere in the app."""

    idle = Signal()

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.idle)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def set_interval(self, interval_ms: int) -> None:
        self.timer.stop()
        if interval_ms > 0:
            self.timer.setInterval(interval_ms)
            self.timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and self.timer.interval() > 0 and self.timer.isActive():
            self.timer.start()
        return False


class OslerWindow(QMainWindow):
    lock_requested = Signal()
    sync_requested = Signal()
    carry_requested = Signal()  # the sync bar's "Without internet…"

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(_("Osler"))
        self.resize(1000, 680)
        self.screens = QStackedWidget()
        self.note = QLabel()  # a language shown in English for want of a catalog says so here
        self.note.setObjectName("language-note")
        self.note.setAccessibleName(_("Language note"))
        self.note.setWordWrap(True)
        self.note.setContentsMargins(12, 6, 12, 6)
        self.note.hide()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.note)
        column.addWidget(self.screens, 1)
        self.setCentralWidget(central)
        self.sync_bar = SyncStatusBar()
        self.sync_bar.sync_now.connect(self.sync_requested)
        self.sync_bar.carry_wanted.connect(self.carry_requested)
        self.statusBar().addPermanentWidget(self.sync_bar, 1)
        self.statusBar().hide()
        self.idle = IdleWatcher(self)
        self.idle.idle.connect(self.lock_requested)
        QShortcut(QKeySequence("Ctrl+L"), self, activated=self.lock_requested.emit)
        QShortcut(QKeySequence("F5"), self, activated=self.sync_requested.emit)
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation), self)
            self.tray.setToolTip(_("Osler"))
            self.tray.show()

    def show_screen(self, screen: QWidget, with_sync_bar: bool = False) -> None:
        old = self.screens.currentWidget()
        self.screens.addWidget(screen)
        self.screens.setCurrentWidget(screen)
        if old is not None and old is not screen:
            self.screens.removeWidget(old)
            old.deleteLater()
        self.statusBar().setVisible(with_sync_bar)

    def show_note(self, text: str) -> None:
        """A line above every screen (first run, unlock, main), hidden when ``text`` is empty."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def notify(self, title: str, text: str) -> bool:
        """A system notification, only while the window is not the active one. Returns whether it was shown."""
        if self.isActiveWindow() or self.tray is None:
            return False
        self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10_000)
        return True
