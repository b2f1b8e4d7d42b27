"""``osler-server serve`` answers on loopback with its health and protocol version."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from sync import PROTOCOL_VERSION


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_health_and_openapi():
    port = _free_port()
    script = shutil.which("osler-server", path=str(Path(sys.executable).parent))
    assert script, "the console script is installed with the package"
    server = subprocess.Popen([script, "serve", "--port", str(port)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert health.status_code == 200
        assert health.json()["protocol"] == PROTOCOL_VERSION
        openapi = requests.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).json()
        assert "/v1/health" in openapi["paths"]
        assert requests.get(f"http://127.0.0.1:{port}/v1/nothing", timeout=2).status_code == 404
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()
