"""Named crash points for kill tests: ``OSLER_FAULT=<name>`` (or ``<name>@<n>``, the n-th time it is reached)
makes the process die on the spot at that point, as a power cut or ``kill -9`` would, so tests can prove that a
write killed between any two of its steps leaves the vault whole.

Unset (always, outside tests), a crash point costs one comparison with an empty string.
"""

from __future__ import annotations

import os
import signal

_ARMED = os.environ.get("OSLER_FAULT", "")
_NAME, _, _AT = _ARMED.partition("@")
_hits = 0


def crash_point(name: str) -> None:
    """Die here, without cleanup, when ``OSLER_FAULT`` names this point."""
    global _hits
    if not _ARMED or name != _NAME:
        return
    _hits += 1
    if _hits < int(_AT or 1):
        return
    if hasattr(signal, "SIGKILL"):
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(137)  # pragma: no cover - Windows has no SIGKILL
