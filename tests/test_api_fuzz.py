"""A bounded schemathesis run against the served OpenAPI document: every operation, generated valid and invalid
inputs, every check except "schema-valid input must be accepted" (an unknown invite or a chunk of the wrong size
is schema-valid and rightly refused). Zero failures, and in particular never a 500."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from sync.client.transport import Transport
from sync.envelope import DeviceKey
from tests.servers import ThreadServer


def test_schemathesis_finds_nothing(tmp_path: Path):
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert cli, "schemathesis is a test dependency"
    with ThreadServer(tmp_path / "server", auth_per_minute=1_000_000) as server:
        key = DeviceKey.generate()
        transport = Transport(server.url)
        token, _expires = transport.sign_in(transport.register(server.invite(), "fuzzer", key).device, key)
        run = subprocess.run(
            [
                cli,
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                "60",
                "--seed",
                "20261122",
                "--workers",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    summary = run.stdout[-4000:]
    assert run.returncode == 0, summary
    assert " passed" in summary and "failure" not in summary.split("SUMMARY")[-1].lower(), summary
