"""The Schedule page's calendar actions: export meetings to an .ics file any calendar program opens, import busy
times from another calendar's .ics (kept out of proposals), forget them again.

Self-contained: the Schedule page places ``ScheduleCalendar.for_session(session)`` and calls ``export_one(meeting)``
from a meeting's detail, and listens to ``changed`` to redraw its overlap finder after busy times change.
An import reads the whole file first, off the GUI thread (calendar_ics.import_busy), and stores its busy times only
then: a file that cannot be read shows why and leaves the busy times already imported as they were.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.domain.calendar_ics import MAX_BYTES, IcsError, export_ics, import_busy, too_large
from desktop.domain.matching import local_zone
from desktop.domain.meeting_time import DAY_MS
from desktop.i18n import _, ngettext
from desktop.ui import file_dialogs
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button
from desktop.ui.layout import FlowLayout
from desktop.ui.worker import Task, run_in_background

SOURCE_PREFIX = "ics:"
IMPORT_DAYS = 120  # busy times are read this far ahead (import the file again to refresh them)


class ScheduleCalendar(QWidget):
    changed = Signal()  # busy times were imported or forgotten

    def __init__(
        self,
        meetings: Any,
        now_ms: Callable[[], int],
        name_of: Callable[[str], str],
        zone: Callable[[], str],
        me: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.meetings, self.now_ms, self.name_of, self.zone, self.me = meetings, now_ms, name_of, zone, me
        self._task: Task | None = None  # the file being read, off the GUI thread
        self.importing = False
        self.setAccessibleName(_("Calendar files"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = FlowLayout()  # wraps at 200 % or in a wordy language
        self.export_all_button = button(
            _("&Export all to calendar (.ics)…"), _("Export all meetings to a calendar file"), self.export_all
        )
        self.import_button = button(
            _("&Import busy times (.ics)…"), _("Import busy times from a calendar file"), self.import_busy
        )
        self.forget_button = button(
            _("&Forget imported busy times"), _("Forget the busy times imported from calendar files"), self.forget
        )
        for widget in (self.export_all_button, self.import_button, self.forget_button):
            row.addWidget(widget)
        layout.addLayout(row)
        self.sources = QLabel()
        self.sources.setWordWrap(True)
        self.sources.setAccessibleName(_("Imported calendars"))
        layout.addWidget(self.sources)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Calendar file status"))
        layout.addWidget(self.status)
        self.refresh()

    @classmethod
    def for_session(cls, session: Any, parent: QWidget | None = None) -> ScheduleCalendar:
        def name_of(account: str) -> str:
            card = next((c for c in session.cards() if c.account == account), None)
            return card.name if card is not None and card.name else _("someone")

        def zone() -> str:
            mine = session.meetings.my_availability() if session.meetings is not None else None
            return mine.tz if mine is not None else local_zone()

        me = session.program.credentials.account.hex()
        return cls(session.meetings, session.now_ms, name_of, zone, me, parent)

    # -- state --------------------------------------------------------------------------------------------------

    def imported(self) -> list[str]:
        if self.meetings is None:
            return []
        return [s[len(SOURCE_PREFIX) :] for s in self.meetings.busy_sources() if s.startswith(SOURCE_PREFIX)]

    def refresh(self) -> None:
        names = self.imported()
        enabled = self.meetings is not None
        self.export_all_button.setEnabled(enabled)
        self.import_button.setEnabled(enabled and not self.importing)
        self.forget_button.setEnabled(bool(names))
        self.sources.setText(_("Busy times imported from: {files}").format(files=", ".join(names)) if names else "")
        self.sources.setVisible(bool(names))

    def _say(self, text: str, error: bool = False) -> None:
        self.status.assertive = error
        self.status.setProperty("error", error)
        self.status.setText(text)

    # -- export -------------------------------------------------------------------------------------------------

    def export_all(self) -> None:
        if self.meetings is not None:
            self._export(self.meetings.meetings(), "osler-meetings.ics")

    def export_one(self, meeting: Any) -> None:
        """Export one meeting (the Schedule page's meeting detail calls this)."""
        slug = re.sub(r"[^\w-]+", "-", meeting.title or "meeting", flags=re.UNICODE).strip("-")[:40] or "meeting"
        self._export([meeting], f"{slug}.ics")

    def _export(self, meetings: list, suggested: str) -> None:
        try:
            data = export_ics(meetings, self.name_of, self.now_ms(), me=self.me)
        except IcsError as error:
            self._say(error.message, error=True)
            return
        chosen = file_dialogs.save_file(self, _("Export to a calendar file"), str(Path.home() / suggested))
        if not chosen:
            return
        try:
            Path(chosen).write_bytes(data)
        except OSError as error:
            self._say(_("Could not save the calendar file: {reason}").format(reason=error.strerror or error), True)
            return
        count = len({m.id for m in meetings if m.state == "confirmed" and m.chosen is not None})
        self._say(
            ngettext(
                "Saved {count} meeting to {file}. Open it in your calendar program to add it.",
                "Saved {count} meetings to {file}. Open it in your calendar program to add them.",
                count,
            ).format(count=count, file=Path(chosen).name)
        )

    # -- import -------------------------------------------------------------------------------------------------

    def import_busy(self) -> None:
        if self.meetings is None:
            return
        chosen = file_dialogs.open_file(self, _("Import busy times from a calendar file"))
        if not chosen:
            return
        path = Path(chosen)
        try:
            too_big = os.stat(path).st_size > MAX_BYTES  # refused before reading it whole
            data = b"" if too_big else path.read_bytes()
        except OSError as error:
            self._say(_("Could not read {file}: {reason}").format(file=path.name, reason=error.strerror or error), True)
            return
        now = self.now_ms()
        window, zone = (now - DAY_MS, now + IMPORT_DAYS * DAY_MS), self.zone()

        def read() -> list[tuple[int, int]]:  # pure: parsing a 1 MB file takes a couple of seconds, off the GUI
            if too_big:
                raise too_large()
            return import_busy(data, *window, tz=zone)

        self.importing = True
        self.refresh()
        self._say(_("Reading {file}…").format(file=path.name))
        self._task = run_in_background(read, lambda found: self._imported(path.name, found), self._not_imported(path))

    def _not_imported(self, path: Path) -> Callable[[Exception], None]:
        def failed(error: Exception) -> None:
            self.importing = False
            self.refresh()
            reason = error.message if isinstance(error, IcsError) else _("This file is not a calendar (.ics) file.")
            self._say(
                _("{file} was not imported. {reason} Your busy times are unchanged.").format(
                    file=path.name, reason=reason
                ),
                error=True,
            )

        return failed

    def _imported(self, name: str, intervals: list[tuple[int, int]]) -> None:
        """The whole file was read: only now are its busy times stored (replacing that file's earlier import)."""
        self.meetings.set_busy(SOURCE_PREFIX + name, intervals)
        self.importing = False
        self.refresh()
        count = len(intervals)
        self._say(
            ngettext(
                "Imported {count} busy time from {file}: it is kept out of meeting proposals.",
                "Imported {count} busy times from {file}: they are kept out of meeting proposals.",
                count,
            ).format(count=count, file=name)
        )
        self.changed.emit()

    def forget(self) -> None:
        names = self.imported()
        if not names or self.meetings is None:
            return
        for name in names:
            self.meetings.set_busy(SOURCE_PREFIX + name, [])
        self.refresh()
        self._say(_("Forgot the busy times imported from calendar files."))
        self.changed.emit()
