"""An Osler server inside another process: uvicorn on a loopback port in a background thread.

The desktop app runs one for the demo programme; tests run one per test. Same app, same storage, real HTTP.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn

from sync.clock import SYSTEM, Clock
from sync.server.app import BUNDLES_PER_MINUTE, SERVE_OPTIONS, create_app
from sync.server.storage import Storage


def _listen(preferred: int = 0) -> socket.socket:
    """A socket listening on 127.0.0.1: on ``preferred`` when it is free, else on any free port. Bound here and
    handed to uvicorn, so no other program can take the port between choosing it and serving on it."""
    for candidate in (preferred, 0) if preferred else (0,):
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", candidate))
            sock.listen(128)
        except OSError:
            sock.close()
            continue
        return sock
    raise OSError("no free port on 127.0.0.1")


def free_port(preferred: int = 0) -> int:
    """``preferred`` when it is free on 127.0.0.1, else any free port."""
    for candidate in (preferred, 0) if preferred else (0,):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


class EmbeddedServer:
    def __init__(
        self,
        data_dir: Path,
        database: str | None = None,
        *,
        port: int = 0,
        auth_per_minute: int = 10_000,
        device_auth_per_minute: int | None = None,
        clock: Clock = SYSTEM,
        bundles_per_minute: int = BUNDLES_PER_MINUTE,
    ) -> None:
        self.data_dir = data_dir
        self.storage = Storage(database, clock) if database else Storage.for_data_dir(data_dir, clock)
        self.storage.create_schema()
        self._socket = _listen(port)
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        app = self._app = create_app(
            self.storage,
            data_dir,
            auth_per_minute=auth_per_minute,
            device_auth_per_minute=device_auth_per_minute,
            bundles_per_minute=bundles_per_minute,
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            **SERVE_OPTIONS,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="osler-embedded-server", daemon=True
        )

    def start(self, timeout: float = 20.0) -> EmbeddedServer:
        if self._thread.is_alive():
            return self
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the embedded server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._app.state.live.close()  # held waits answer now: the stop does not wait out the grace period
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()
        self.storage.dispose()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def invite(self, role: str = "student") -> str:
        return self.storage.create_invites(role)[0]
