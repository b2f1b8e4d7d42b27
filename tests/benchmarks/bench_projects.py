"""Research projects benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_projects``).

A project board with 200 tasks opens in ≤ 100 ms (issue 16). The project holds 200 tasks, each written and then
changed once (moved or given an owner and a due date), the eight stages with owners and notes, and CRediT
records: about 420 sealed, signed ``project`` events in the vault. Opening it is one indexed read of the events
(each opened by the vault's field cipher), the per-field fold, and the Projects page filling its stepper, the
board's three columns and the other tabs. Prints figures beside the target; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from desktop.domain.project_state import STAGES
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from tests.benchmarks.report import row
from tests.clients import make_client
from tests.servers import ThreadServer

TASKS = 200


def build(session: Session) -> str:
    projects = session.projects
    me = projects.me
    project = projects.create("Neonatal sepsis in district hospitals")
    states = ("todo", "doing", "done")
    tasks = [projects.add_task(project, f"Task {n}: check site {n % 17} records", states[n % 3]) for n in range(TASKS)]
    for n, task in enumerate(tasks):
        if n % 2:
            projects.move_task(project, task, states[(n + 1) % 3], 0)
        else:
            projects.update_task(project, task, owner=me, due=1_800_000_000_000 + n * 86_400_000)
    for n, stage in enumerate(STAGES):
        projects.set_stage(project, stage, owner=me, notes=f"Notes for {stage}", done=n < 3)
    projects.set_credit(project, me, {"conceptualization": "lead", "supervision": "lead", "methodology": "equal"})
    projects.confirm_credit(project, me)
    return project


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from desktop.ui.views.projects import ProjectsView

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with ThreadServer(tmp / "server") as server:
            client = make_client(tmp / "lead", server.url, server.invite("mentor"))
            client.publish_card("Dr Kofi Mensah", role="mentor")
            client.engine().sync_once()
            settings = SettingsStore(tmp / "settings.json")
            settings.update(lambda s: replace(s, live_delivery=False))
            session = Session(client.vault, tmp, settings)
            started = time.perf_counter()
            project = build(session)
            written = time.perf_counter() - started
            events = len(session.projects.changes(project))
            print(f"Projects: a board of {TASKS} tasks ({events} change events)")
            row(f"writing them ({events} sealed, signed, queued changes), per change", written / events * 1000, "ms")

            view = ProjectsView(session)
            view.resize(1024, 600)
            view.show()
            app.processEvents()
            view.refresh()
            started = time.perf_counter()
            view.open_project(project)
            app.processEvents()
            first = time.perf_counter() - started
            assert sum(c.count() for c in view.board.columns.values()) == TASKS
            opens, folds = [], []
            for _ in range(7):
                started = time.perf_counter()
                view.open_project(project)
                app.processEvents()
                opens.append(time.perf_counter() - started)
                started = time.perf_counter()
                session.projects.state(project)
                folds.append(time.perf_counter() - started)
            row("open the project on the Projects page, first time", first * 1000, "ms", 100)
            row("open the project on the Projects page, median of 7", statistics.median(opens) * 1000, "ms", 100)
            row("  of which reading and folding its events, median of 7", statistics.median(folds) * 1000, "ms")
            session.stop()
            client.vault.close()


if __name__ == "__main__":
    main()
