"""Real Osler servers for tests: uvicorn on 127.0.0.1 and a free port, in a thread or in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from sync.clock import SYSTEM, Clock
from sync.server.embedded import EmbeddedServer, free_port

# The day a test's server and clients start on when the test is not about the date: fixed, so the test cannot
# depend on the day it runs, and `make test`'s shifted run (tests/shifted.py) has nothing to move in it.
TEST_EPOCH = 1_767_225_600.0  # 2026-01-01 00:00 UTC


class SteadyClock:
    """A wall clock that starts on a fixed day (``TEST_EPOCH`` by default) and then runs at the pace of real
    monotonic time, so tokens still expire and timeouts still pass, without ever reading today's date. A server
    and its clients share one, as signed requests and tokens need them to agree (PROTOCOL.md §6.2)."""

    def __init__(self, start: float = TEST_EPOCH) -> None:
        self._start, self._mono = start, time.monotonic()

    def time(self) -> float:
        return self._start + (time.monotonic() - self._mono)

    def monotonic(self) -> float:
        return time.monotonic()


def wait_healthy(url: str, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no server at {url}")
        time.sleep(0.05)


class ThreadServer(EmbeddedServer):
    """uvicorn serving the app in a background thread of the test process (the app's embedded server). ``clock``
    (the system's by default) is the server's, which its clients share (tests/clients.py ``make_client``)."""

    @property
    def clock(self) -> Clock:
        return self.storage.clock

    def __enter__(self) -> ThreadServer:
        self.start()
        return self


class ProcessServer:
    """``osler-server serve`` as a child process, so a test can SIGKILL it (on the system's clock)."""

    clock: Clock = SYSTEM

    def __init__(
        self, data_dir: Path, port: int | None = None, database: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.data_dir, self.database, self.env = data_dir, database, env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def _cli(self, *args: str) -> list[str]:
        base = [sys.executable, "-m", "sync.server.cli", "--data-dir", str(self.data_dir)]
        if self.database:
            base += ["--database", self.database]
        return base + list(args)

    def start(self) -> ProcessServer:
        self.process = subprocess.Popen(
            self._cli("serve", "--port", str(self.port), "--auth-per-minute", "10000"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **self.env} if self.env else None,
        )
        wait_healthy(self.url, process=self.process)
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def invite(self, role: str = "student") -> str:
        return subprocess.run(
            self._cli("invite", "--role", role), check=True, capture_output=True, text=True
        ).stdout.strip()
