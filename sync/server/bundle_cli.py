"""``osler-server import-bundle FILE [--out DIR]``: a coordinator's laptop answers a request bundle carried from
an offline device, exactly as ``POST /v1/bundles`` would (PROTOCOL.md §13.2). It prints counts and where the
answer went, never content."""

from __future__ import annotations

import sys
from pathlib import Path

from sync.bundle import MAX_BUNDLE_BYTES, file_name, read_header
from sync.clock import SYSTEM, Clock
from sync.files import write_atomically
from sync.protocol import ProtocolError
from sync.server.blobstore import BlobStore
from sync.server.bundles import import_request
from sync.server.storage import Storage


def import_bundle(storage: Storage, data_dir: Path, file: Path, out: Path | None, clock: Clock = SYSTEM) -> int:
    """Answer ``file`` with this server's data; the answer is written into ``out`` (or beside ``file``)."""
    try:
        if file.stat().st_size > MAX_BUNDLE_BYTES:
            print(f"osler-server import-bundle: {file} is larger than a bundle can be", file=sys.stderr)
            return 1
        data = file.read_bytes()
    except OSError as exc:
        print(f"osler-server import-bundle: cannot read {file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        outcome = import_request(storage, BlobStore(data_dir / "blobs", clock), clock, None, data)
    except ProtocolError as refused:
        print(f"osler-server import-bundle: refused ({refused.code}): {refused.detail}", file=sys.stderr)
        return 1
    folder = out or file.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / file_name(read_header(outcome.answer))
        write_atomically(path, outcome.answer)
    except OSError as exc:
        reason = exc.strerror or exc
        print(f"osler-server import-bundle: cannot write the answer into {folder}: {reason}", file=sys.stderr)
        return 1
    print(
        f"device {outcome.device.hex()}: {outcome.accepted} of {outcome.pushed} records stored, "
        f"{outcome.refused} refused, {outcome.uploaded} uploads complete; answer: {outcome.pulled} records"
        f"{' (more waiting)' if outcome.more else ''}, {outcome.blobs} blob pieces, "
        f"{outcome.unavailable} blobs not held"
    )
    print(f"answer: {path}")
    return 0
