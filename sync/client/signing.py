"""Signed requests (PROTOCOL.md §6.2): sign-in that costs no round trip of its own.

A ``RequestSigner`` is a ``requests`` auth: attached to a call in place of a bearer token, it signs the request
as prepared (method, path and query, body as sent, a timestamp and a fresh nonce; a resend is signed afresh), and
the token the answer brings is handed to ``on_token``. A server that says the timestamp is off
(``clock-skew``) gives its time; the signer keeps the difference, so the next signature is on the server's clock.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from sync.clock import SYSTEM, Clock
from sync.envelope import DeviceKey


class RequestSigner(AuthBase):
    def __init__(
        self,
        device: bytes,
        key: DeviceKey,
        clock: Clock = SYSTEM,
        on_token: Callable[[str, int], None] | None = None,
        base_url: str = "",
    ) -> None:
        self.device, self._key, self.clock, self.on_token = device, key, clock, on_token
        self.base_path = urlsplit(base_url).path.rstrip("/")  # a server behind a path: signed from /v1/... on
        self.offset_ms = 0  # the server's clock minus ours, once a server said our timestamps were off
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RequestSigner(device={self.device.hex()})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not isinstance(body, bytes):
            raise TypeError("a signed request needs its body as bytes")
        ts_ms = int(self.clock.time() * 1000) + self.offset_ms
        nonce = secrets.token_bytes(16)
        target = _target(request, self.base_path)
        sig = self._key.sign_request(self.device, ts_ms, nonce, request.method or "GET", target, body)
        request.headers.pop("Authorization", None)
        request.headers["Osler-Signature"] = (
            f"device={self.device.hex()}, ts={ts_ms}, nonce={nonce.hex()}, sig={base64.b64encode(sig).decode()}"
        )
        return request

    def took(self, response: requests.Response) -> None:
        """Hand the token an answer brought (``Osler-Token``) to ``on_token``."""
        token, expires = response.headers.get("osler-token"), response.headers.get("osler-token-expires", "")
        if token and expires.isdigit() and self.on_token is not None:
            self.on_token(token, int(expires))

    def corrected_by(self, response: requests.Response) -> bool:
        """True when ``response`` (whole) says our timestamp was off, and the signer now goes by the server's
        clock: the caller sends the request once more."""
        if response.status_code != 401:
            return False
        try:
            error = response.json()
            code, server_time = error.get("code"), error.get("server_time")
        except (ValueError, AttributeError):
            return False
        if code != "clock-skew" or not isinstance(server_time, int) or isinstance(server_time, bool):
            return False
        with self._lock:
            self.offset_ms = server_time - int(self.clock.time() * 1000)
        return True


def _target(request: requests.PreparedRequest, base_path: str) -> str:
    """The request target after the server's base address (which may have a path of its own)."""
    target = request.path_url
    return target[len(base_path) :] if base_path and target.startswith(base_path + "/") else target
