"""Reference cycles are freed on the GUI thread only (desktop/ui/collector.py): a collection started on a sync or
download thread could destroy widgets off the GUI thread, and Qt then crashes the app at a random moment."""

from __future__ import annotations

import gc
import threading

from desktop.ui.collector import GuiThreadCollector


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_threads_that_make_garbage_never_collect_it_the_gui_thread_does(make_app):
    page = make_app()  # the app installs the collector as it starts
    threads: list[str] = []

    def seen(phase: str, _info: dict) -> None:
        if phase == "start":
            threads.append(threading.current_thread().name)

    def churn() -> None:  # what a sync thread does all day: allocate, and leave cycles behind
        for _ in range(50_000):
            _Cycle()

    gc.callbacks.append(seen)
    try:
        worker = threading.Thread(target=churn, name="osler-sync-like")
        worker.start()
        worker.join()
        assert gc.get_count()[0] > gc.get_threshold()[0], "the worker left more than a generation's worth behind"
        assert threads == [], "no collection ran on the worker"
        page.qtbot.waitUntil(lambda: bool(threads), timeout=5_000)  # the GUI thread's timer collects it
    finally:
        gc.callbacks.remove(seen)
    assert set(threads) == {threading.main_thread().name}
    assert gc.get_count()[0] <= gc.get_threshold()[0]


def test_collect_due_takes_the_oldest_generation_past_its_threshold(qapp):
    collector = GuiThreadCollector.install()
    gc.collect()
    assert collector.collect_due() == 0, "nothing past a threshold: nothing collected"
    for _ in range(collector.threshold[0] + 10):
        _Cycle()
    assert collector.collect_due() >= collector.threshold[0], "the cycles made are found"
