""" "Add a device": the link code in large monospace groups (selectable, with a copy button) and as a QR code, a
countdown to its expiry, "Waiting for your other device…", then "Linked <name>" with the fingerprint to compare.
``Session.offer_link`` and ``Session.await_link`` (one held poll each) run on worker threads, in a loop, until
the other device asks, the code expires or the dialog closes; an expired code offers "New code"."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.domain.session import Session
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button, error_label, explain, heading, mono_font, paragraph
from desktop.ui.direction import ltr
from desktop.ui.worker import Task, run_in_background

QR_PIXELS = 6  # per module: a 2.5 cm code at 96 dpi, easy for a phone or laptop camera


def qr_pixmap(text: str) -> QPixmap:
    """``text`` as a QR code image (segno: pure Python, PNG bytes)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=QR_PIXELS, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


def problem_sentence(exc: BaseException) -> str:
    """A link or recovery problem's translated sentence (the domain's own words), else the usual explanation."""
    if hasattr(exc, "reason") and type(exc).__name__ in ("LinkProblem", "RecoveryProblem"):
        return str(exc)
    return explain(exc)


class AddDeviceDialog(QDialog):
    """Emits ``linked(name)`` once the other device is linked."""

    linked = Signal(str)
    POLL_S = 25.0  # one held poll; the loop asks again until the code expires

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.offer = None
        self.result_linked = None
        self._stopped = False
        self._polling = False
        self._tasks: set[Task] = set()
        self.setWindowTitle(_("Add a device"))
        self.setAccessibleName(_("Add a device"))
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Add a device"), 1.2))
        self.intro = paragraph(
            _(
                "On your other computer, install Osler and choose “Link to my account on another device”. Type "
                "this code there, or scan the QR code. Keep this window open until it says linked."
            )
        )
        layout.addWidget(self.intro)
        self.code = QLabel("")
        self.code.setFont(mono_font(1.8))
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code.setAccessibleName(_("Link code"))
        self.code.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.copy_button = button(_("&Copy code"), _("Copy code"), self._copy)
        self.copy_button.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.code, 1)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        self.qr = QLabel()
        self.qr.setAccessibleName(_("QR code of the link"))
        self.qr.setAccessibleDescription(_("The same link as the code, for a camera"))
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.qr)
        self.countdown = QLabel("")
        self.countdown.setAccessibleName(_("Time left"))
        layout.addWidget(self.countdown)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Status"))
        layout.addWidget(self.status)
        self.error = error_label(_("Error"))
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.new_code = button(_("&New code"), _("New code"), self.start)
        buttons.addButton(self.new_code, QDialogButtonBox.ButtonRole.ActionRole)
        self.new_code.hide()  # after addButton, which shows it: only once a code expired or failed
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAccessibleName(_("Close"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        self.finished.connect(lambda _code: self._stop())

    # -- the loop -----------------------------------------------------------------------------------------

    def open(self) -> None:
        super().open()
        self.start()

    def _run(self, fn, on_done, on_failed) -> None:  # type: ignore[no-untyped-def]
        # A held poll may end after the window closed (the app locked or quit): its answer then has no dialog.
        def done(result: object) -> None:
            self._tasks.discard(task)
            if shiboken6.isValid(self):
                on_done(result)

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            if shiboken6.isValid(self):
                on_failed(exc)

        task = run_in_background(fn, done, failed)
        self._tasks.add(task)

    def start(self) -> None:
        """Ask the server for a new code (also "New code" after one expired)."""
        self._stopped = False
        self.offer = None
        self.new_code.hide()
        self._show_error("")
        self.code.setText("")
        self.qr.clear()
        self.copy_button.setEnabled(False)
        self.status.setText(_("Asking the server for a code…"))
        self._run(self.session.offer_link, self._offered, self._failed)

    def _offered(self, offer) -> None:  # type: ignore[no-untyped-def]
        if self._stopped:
            return
        self.display(offer)
        self._tick()
        self.timer.start()
        self._poll()

    def display(self, offer) -> None:  # type: ignore[no-untyped-def]
        """Show ``offer`` (a LinkOffer): the code, its QR image, "Waiting for your other device…"."""
        self.offer = offer
        self.code.setText(ltr(offer.code))
        self.copy_button.setEnabled(True)
        self.qr.setPixmap(qr_pixmap(offer.qr_text))
        self.status.setText(_("Waiting for your other device…"))

    def _poll(self) -> None:
        offer = self.offer
        if self._stopped or offer is None or self._polling:
            return
        self._polling = True
        self._run(lambda: self.session.await_link(offer, self.POLL_S), self._answered, self._poll_failed)

    def _answered(self, result) -> None:  # type: ignore[no-untyped-def]
        self._polling = False
        if self._stopped:
            return
        if result is None:
            if self._seconds_left() <= 0:
                self._expired()
            else:
                self._poll()
            return
        self.result_linked = result
        self._stopped = True
        self.timer.stop()
        self.countdown.setText("")
        self.code.setText("")
        self.qr.clear()
        self.copy_button.setEnabled(False)
        self.status.setText(
            _("Linked {name}. Check it shows this fingerprint: {fingerprint}").format(
                name=result.name, fingerprint=ltr(result.fingerprint)
            )
        )
        self.linked.emit(result.name)

    def _poll_failed(self, exc: Exception) -> None:
        self._polling = False
        reason = getattr(exc, "reason", None)
        if reason == "expired":
            self._expired()
            return
        if reason == "refused":  # the request did not open with this code: a typing mistake over there
            self._stopped = True
            self.timer.stop()
            self.status.setText("")
            self._show_error(
                _(
                    "A device asked to link with a code that does not match this one, so it was not added. Check "
                    "the code typed on your other computer, then choose “New code”."
                )
            )
            self.new_code.show()
            return
        self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        if self._stopped and self.offer is None and not self.isVisible():
            return
        self._stopped = True
        self.timer.stop()
        self.status.setText("")
        self._show_error(problem_sentence(exc))
        self.new_code.show()

    def _expired(self) -> None:
        self._stopped = True
        self.timer.stop()
        self.code.setText("")
        self.qr.clear()
        self.copy_button.setEnabled(False)
        self.countdown.setText("")
        self.status.setText("")
        self._show_error(_("This code expired before your other device used it. Choose “New code” to try again."))
        self.new_code.show()
        self.new_code.setFocus()

    def _stop(self) -> None:
        self._stopped = True
        self.timer.stop()

    # -- display ------------------------------------------------------------------------------------------

    def _seconds_left(self) -> int:
        if self.offer is None:
            return 0
        return max(0, (self.offer.expires_ms - self.session.now_ms() + 999) // 1000)

    def _tick(self) -> None:
        left = self._seconds_left()
        if left <= 0 and self.offer is not None and not self._stopped:
            self._expired()
            return
        self.countdown.setText(
            _("This code works for {minutes}:{seconds:02d} more.").format(minutes=left // 60, seconds=left % 60)
        )

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _copy(self) -> None:
        if self.offer is not None:
            QGuiApplication.clipboard().setText(self.offer.code)
            self.status.setText(_("Code copied. Waiting for your other device…"))
