"""Cyclic garbage is collected on the GUI thread, between events, never on a sync or download thread.

Python runs its cycle collector on whichever thread happens to allocate past a threshold. Osler's sync, live
delivery, download and worker threads allocate all the time, so a collection could start on one of them and free
widgets caught in a reference cycle (a view holding a lambda that holds the view): Qt widgets destroyed off the
GUI thread, which Qt does not allow, and the app crashes at a random moment. So while Osler runs, automatic
collection is off and a timer on the GUI thread does what the thresholds would have done, generation by
generation, at an idle moment between two events.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1_000


class GuiThreadCollector(QObject):
    """Install once per process, on the GUI thread, after the QApplication exists; ``stop()`` gives collection
    back to Python."""

    _installed: GuiThreadCollector | None = None

    def __init__(self, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__()
        self.threshold = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.collect_due)
        gc.disable()
        self.timer.start()

    @classmethod
    def install(cls, interval_ms: int = INTERVAL_MS) -> GuiThreadCollector:
        if cls._installed is None:
            cls._installed = cls(interval_ms)
        return cls._installed

    def collect_due(self) -> int:
        """Collect the oldest generation whose count passed its threshold, as Python's own collector would;
        returns the number of objects found unreachable."""
        counts = gc.get_count()
        generation = -1
        for index, (count, limit) in enumerate(zip(counts, self.threshold, strict=True)):
            if count > limit:
                generation = index
        return gc.collect(generation) if generation >= 0 else 0

    def stop(self) -> None:
        self.timer.stop()
        gc.enable()
        if GuiThreadCollector._installed is self:
            GuiThreadCollector._installed = None
