"""Meetings benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_meetings``). The overlap finder over
a week for 2 people (issue 17 target ≤ 10 ms) and the coverage of a 30-person circle across ten zones (≤ 100 ms),
median and slowest of 50 runs each; then the circle's whole week grid (coverage + 7 × 48 cells in my zone) and
the Meetings tab's grid widget filled for those 30 people. Prints figures; asserts nothing."""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
from dataclasses import replace
from functools import partial

from desktop.domain import meeting_time, overlap
from desktop.domain.availability import Availability, OnlineWindow, Window
from desktop.domain.group_meetings import week_grid
from tests.benchmarks.report import row as _report_row

row = partial(_report_row, fmt=".2f")
RUNS = 50
ZONES = (
    "Africa/Nairobi", "Europe/London", "America/Sao_Paulo", "Asia/Tehran", "Asia/Kathmandu", "Pacific/Chatham",
    "Pacific/Apia", "America/Los_Angeles", "Asia/Kolkata", "Africa/Lagos",
)  # fmt: skip
START = meeting_time.week_start(1_774_600_000_000, "Europe/London")  # 23 March 2026: London goes forward


def person(index: int, rng: random.Random) -> Availability:
    """Someone with a busy life: 10-20 weekly windows of 1-3 hours, and evening connectivity windows."""
    weekly = []
    for _ in range(rng.randint(10, 20)):
        start = rng.randrange(6 * 60, 20 * 60, 30)
        weekly.append(Window(rng.randrange(7), start, min(1440, start + rng.choice((60, 90, 120, 180)))))
    online = tuple(OnlineWindow(day, 18 * 60, 22 * 60, "3g") for day in range(7))
    return Availability(f"{index:032x}", ZONES[index % len(ZONES)], weekly=tuple(weekly), online=online)


def fresh(people: list[Availability]) -> list[Availability]:
    """The same people as new objects: nothing laid out already (an Availability keeps its laid-out weeks)."""
    return [replace(p) for p in people]


CPU: list[float] = []  # the process's own CPU time of the last timed() runs: what waiting for a core leaves out


def timed(action, runs: int = RUNS) -> list[float]:
    out = []
    CPU.clear()
    for _ in range(runs):
        gc.collect()  # the garbage of the run before is not this run's
        cpu, started = time.process_time(), time.perf_counter()
        action()
        out.append((time.perf_counter() - started) * 1000)
        CPU.append((time.process_time() - cpu) * 1000)
    return out


def main() -> None:
    rng = random.Random(17)
    people = [person(i, rng) for i in range(30)]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"meetings across time zones (load average {load} on {os.cpu_count()} cores: the slowest runs wait for them)")
    pair = people[:2]
    started = time.perf_counter()
    overlap.overlap(fresh(pair), START, days=7)
    first = (time.perf_counter() - started) * 1000
    times = timed(lambda: overlap.overlap(fresh(pair), START, days=7))
    print(f"\n1. overlap finder, 2 people ({pair[0].tz}, {pair[1].tz}), one week, {RUNS} runs")
    row("  the first call in the process (reads the zone files)", first, "ms")
    row("  overlap(), median", statistics.median(times), "ms", 10)
    row("  overlap(), slowest", max(times), "ms", 10)
    row("  overlap(), slowest in CPU time", max(CPU), "ms", 10)
    times = timed(lambda: overlap.suggest(fresh(pair), START, 60, count=3))
    row("  suggest() 3 slots of an hour, median", statistics.median(times), "ms")

    print("  (each run with new Availability objects: none of their weeks laid out yet)")
    print(f"\n2. a 30-person circle across {len(ZONES)} zones, one week in half hours, {RUNS} runs")
    times = timed(lambda: overlap.coverage(fresh(people), START, days=7, step_minutes=30))
    row("  coverage(), median", statistics.median(times), "ms", 100)
    row("  coverage(), slowest", max(times), "ms", 100)
    row("  coverage(), slowest in CPU time", max(CPU), "ms", 100)
    times = timed(lambda: week_grid({p.account: p for p in fresh(people)}, START, "Europe/London", 30))
    row("  the week grid in my zone (coverage + 336 cells), median", statistics.median(times), "ms", 100)
    row("  the week grid in my zone, slowest", max(times), "ms", 100)
    row("  the week grid in my zone, slowest in CPU time", max(CPU), "ms", 100)
    grid = week_grid({p.account: p for p in people}, START, "Europe/London", 30)
    best = max((len(c.free) for column in grid.cells for c in column if c), default=0)
    print(f"  (the best half hour suits {best} of 30)")

    try:
        from PySide6.QtWidgets import QApplication

        from desktop.ui.views.circle_meetings import WeekTable
    except ImportError:
        print("  (no Qt here: the grid widget not measured)")
        return
    app = QApplication.instance() or QApplication([])
    names = [d.strftime("%A") for d in grid.days]

    def build() -> None:
        table = WeekTable()
        table.show_grid(grid, names, names)
        table.deleteLater()

    times = timed(build, 20)
    print("\n3. the Meetings tab's grid widget (7 × 48 cells, text, shade, accessible text), 20 runs")
    row("  build and fill it for 30 people, median", statistics.median(times), "ms")
    row("  the same, slowest", max(times), "ms")
    table = WeekTable()
    times = timed(lambda: table.show_grid(grid, names, names), 20)
    row("  refill it (a week further, an answer arrived), median", statistics.median(times), "ms")
    app.processEvents()


if __name__ == "__main__":
    main()
