"""A mentorship's progress at a glance: check-ins per week over the last twelve weeks, and goals by due date
(done, open, overdue). Painted with QPainter; mirrored for right-to-left languages; described in words for
screen readers."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.i18n import _, ngettext

WEEKS = 12
COLOURS = {"done": QColor("#2e7d32"), "open": QColor("#1565c0"), "overdue": QColor("#c62828")}


class ProgressChart(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.counts: list[int] = [0] * WEEKS
        self.marks: list[tuple[int, str]] = []
        self.setAccessibleName(_("Progress chart"))
        self.setMinimumHeight(90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_data(self, counts: list[int], marks: list[tuple[int, str]], done: int, total: int) -> None:
        self.counts, self.marks = counts, marks
        checkins = sum(counts)
        overdue = sum(1 for _week, state in marks if state == "overdue")
        checked_in = ngettext(
            "{count} check-in in the last 12 weeks.", "{count} check-ins in the last 12 weeks.", checkins
        ).format(count=checkins)
        goals = _("{done} of {total} goals done, {overdue} overdue.").format(done=done, total=total, overdue=overdue)
        # two whole sentences, in the order the translator chose
        self.setAccessibleDescription(_("{check_ins} {goals}").format(check_ins=checked_in, goals=goals))
        self.setToolTip(f"{self.accessibleDescription()}\n{_('this week · bars: check-ins · dots: goals due')}")
        self.update()

    def axis_labels(self, room: float) -> tuple[str, str]:
        """The two labels under the axis for ``room`` pixels: "12 weeks ago" whole, and the legend elided so the
        two never run into each other (the whole legend is in the tooltip)."""
        metrics = self.fontMetrics()
        oldest = _("12 weeks ago")
        left = int(room - metrics.horizontalAdvance(oldest) - 2 * metrics.averageCharWidth())
        legend = _("this week · bars: check-ins · dots: goals due")
        return oldest, metrics.elidedText(legend, Qt.TextElideMode.ElideRight, max(left, 0))

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        width, height = self.width(), self.height()
        left, right, top, bottom = 8.0, 8.0, 6.0, 22.0
        slot = (width - left - right) / (WEEKS + 2)  # a slot either side for goals before and after the window

        def x_of(week: int) -> float:
            x = left + (week + 1.5) * slot
            return width - x if rtl else x

        peak = max(1, *self.counts)
        chart = height - top - bottom - 14
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
        for week, count in enumerate(self.counts):
            bar = chart * count / peak
            painter.drawRect(QRectF(x_of(week) - slot * 0.3, top + 14 + chart - bar, slot * 0.6, bar))
        painter.setPen(text)
        base = height - bottom
        painter.drawLine(QPointF(left, base), QPointF(width - right, base))
        for week, state in self.marks:
            colour = COLOURS[state]
            painter.setPen(colour)
            painter.setBrush(colour if state != "open" else Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QPointF(x_of(week), top + 6), 5, 5)
        painter.setPen(text)
        # leading and trailing: the painter takes the widget's direction, so in Arabic "12 weeks ago" sits on the
        # right, over the oldest week, and "this week" on the left
        flags = Qt.AlignmentFlag.AlignVCenter
        axis = QRectF(left, base + 2, width - left - right, bottom - 2)
        oldest, legend = self.axis_labels(axis.width())
        painter.drawText(axis, flags | Qt.AlignmentFlag.AlignLeading, oldest)
        painter.drawText(axis, flags | Qt.AlignmentFlag.AlignTrailing, legend)
        painter.end()
