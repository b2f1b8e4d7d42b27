"""Blob publication under crashes and concurrency (issue 10, defects 3 and 9): a real server process killed at
each step of publishing a blob, and many requests racing to upload the same last chunk, against one server and
against several server processes sharing one PostgreSQL and one data folder."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from sync.client.transport import Transport
from sync.envelope import DeviceKey
from sync.protocol import BLOB_CHUNK
from sync.server.blobstore import FAULT_STEPS
from tests.servers import ProcessServer, ThreadServer

KILLS = 20


def _join(url: str, invite: str) -> str:
    key = DeviceKey.generate()
    transport = Transport(url)
    registration = transport.register(invite, "laptop", key)
    return transport.sign_in(registration.device, key)[0]


def _put(url: str, token: str, sha: str, size: int, index: int, data: bytes, session=requests) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Osler-Blob-Size": str(size)}
    return session.put(f"{url}/v1/blobs/{sha}/chunks/{index}", data=data, headers=headers, timeout=60)


def _blob(chunks: float) -> tuple[bytes, str, list[bytes]]:
    data = os.urandom(int(chunks * BLOB_CHUNK))
    return data, hashlib.sha256(data).hexdigest(), [data[i : i + BLOB_CHUNK] for i in range(0, len(data), BLOB_CHUNK)]


def test_a_server_killed_at_any_step_of_publishing_loses_no_blob(tmp_path: Path):
    """The server SIGKILLs itself at a named step of publishing (a test-only fault file it reads); the client then
    does what it always does: asks which chunks are missing, sends those, downloads. Every blob must come back
    whole with nothing re-sent and nobody stepping in."""
    data_dir, fault = tmp_path / "srv", tmp_path / "fault"
    env = {"OSLER_SERVER_FAULT_FILE": str(fault)}
    server = ProcessServer(data_dir, env=env).start()
    token = _join(server.url, server.invite())
    kills, lost, resent, manual = 0, 0, 0, 0
    try:
        for n in range(KILLS):
            blob, sha, chunks = _blob(2.5)
            for index, chunk in enumerate(chunks[:-1]):
                assert _put(server.url, token, sha, len(blob), index, chunk).status_code == 200
            fault.write_text(FAULT_STEPS[n % len(FAULT_STEPS)])
            with pytest.raises(requests.ConnectionError):
                _put(server.url, token, sha, len(blob), len(chunks) - 1, chunks[-1])
            assert server.process.wait(timeout=30) == -9
            kills += 1
            server = ProcessServer(data_dir, port=server.port, env=env).start()
            headers = {"Authorization": f"Bearer {token}"}
            status = requests.get(f"{server.url}/v1/blobs/{sha}/chunks", params={"size": len(blob)}, headers=headers)
            missing = status.json()["missing"]
            for index in missing:  # what the client's resume does
                resent += 1
                _put(server.url, token, sha, len(blob), index, chunks[index])
            download = requests.get(f"{server.url}/v1/blobs/{sha}", headers=headers)
            if download.status_code == 404 and not missing:
                manual += 1  # "complete" yet not downloadable: only an operator could fix it
            elif download.content != blob:
                lost += 1
    finally:
        server.stop()
    print(f"{kills} server kills mid-blob: {lost} lost, {manual} needing a manual step, {resent} chunks re-sent")
    assert (kills, lost, manual, resent) == (KILLS, 0, 0, 0)
    assert not list((data_dir / "blobs").glob("*/.*.tmp")), "no half-written blob files left behind"


def _race(urls: list[str], tokens: list[str], rounds: int, racers: int) -> list[tuple[int, str]]:
    """Every account uploads the first chunks, then ``racers`` requests upload the same last chunk at once."""
    failures: list[tuple[int, str]] = []
    with ThreadPoolExecutor(max_workers=24) as pool:
        for _ in range(rounds):
            blob, sha, chunks = _blob(1.5)
            for token in tokens:
                assert _put(urls[0], token, sha, len(blob), 0, chunks[0]).status_code == 200

            def last(n: int, sha=sha, blob=blob, chunks=chunks) -> requests.Response:
                return _put(urls[n % len(urls)], tokens[n % len(tokens)], sha, len(blob), 1, chunks[1])

            for answer in pool.map(last, range(racers)):
                if answer.status_code != 200 or answer.json() != {"complete": True, "missing": []}:
                    failures.append((answer.status_code, answer.text[:200]))
            fetched = requests.get(f"{urls[-1]}/v1/blobs/{sha}", headers={"Authorization": f"Bearer {tokens[-1]}"})
            assert fetched.status_code == 200 and fetched.content == blob
    return failures


def test_concurrent_uploads_of_the_same_last_chunk_all_succeed(tmp_path: Path):
    with ThreadServer(tmp_path / "srv") as server:
        tokens = [_join(server.url, server.invite()) for _ in range(4)]
        failures = _race([server.url], tokens, rounds=4, racers=120)
        leftovers = [p for p in (tmp_path / "srv" / "blobs" / "partial").rglob("*") if p.is_file()]
    assert failures == [], f"{len(failures)} of {4 * 120} failed, e.g. {failures[:3]}"
    assert leftovers == [], "published uploads leave no partial chunks behind"


def test_concurrent_uploads_across_server_processes_sharing_postgresql(tmp_path: Path):
    from tests.pg import require_postgres, reset_database

    url = require_postgres()
    reset_database(url)
    shared = tmp_path / "shared"
    servers = [ProcessServer(shared, database=url) for _ in range(3)]
    try:
        for server in servers:
            server.start()
        tokens = [_join(servers[i % 3].url, servers[0].invite()) for i in range(3)]
        failures = _race([s.url for s in servers], tokens, rounds=3, racers=90)
    finally:
        for server in servers:
            server.stop()
    assert failures == [], f"{len(failures)} of {3 * 90} failed, e.g. {failures[:3]}"
