"""HTTP to one Osler server with ``requests``: URL policy, encodings, and errors mapped to ``sync.client.errors``.

One ``Transport`` is one connection pool; ``fork()`` makes another for a concurrent request (``requests``
sessions are not shared across threads).
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sync import PROTOCOL_VERSION
from sync.client.errors import (
    AuthFailed,
    DeviceRevoked,
    IncompatibleServer,
    InsecureServerURL,
    InviteInvalid,
    Offline,
    ProtocolViolation,
    ServerBusy,
    SyncError,
    WrongServer,
)
from sync.envelope import DeviceKey
from sync.protocol import (
    GZIP_MIN_BYTES,
    MEDIA_MSGPACK,
    ProtocolError,
    SyncRequest,
    SyncResponse,
    decode,
    encode,
    gzip_bytes,
)

DEFAULT_TIMEOUT = (15.0, 120.0)  # connect, read: generous, a 2G link is slow, not dead


class TokenRejected(SyncError):
    """The bearer token is unknown or expired: sign in again and retry (handled inside the engine)."""


class RecordsRefused(SyncError):
    """The server refused some pushed records for good (409 conflict, 422 invalid or bad signature)."""

    retryable = False

    def __init__(self, message: str, code: str, ids: list[bytes]) -> None:
        super().__init__(message)
        self.code, self.ids = code, ids


@dataclass(frozen=True)
class Registration:
    account: bytes
    device: bytes
    role: str


@dataclass(frozen=True)
class Exchange:
    """One /v1/sync round trip and what it cost on the wire (bodies, after compression)."""

    response: SyncResponse
    bytes_up: int
    bytes_down: int


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_server_url(url: str, allow_insecure_http: bool = False) -> str:
    """The normalized base URL, or ``InsecureServerURL``/``WrongServer`` before a single byte is sent."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WrongServer(f"not a web address: {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure_http:
        raise InsecureServerURL(f"refusing plain http to {parts.hostname}: use https")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class Transport:
    def __init__(
        self,
        base_url: str,
        *,
        allow_insecure_http: bool = False,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        user_agent: str = "osler-desktop",
    ) -> None:
        self.base_url = check_server_url(base_url, allow_insecure_http)
        self._allow_insecure = allow_insecure_http
        self.timeout = timeout
        self._session = requests.Session()
        # Every call of the protocol is idempotent (pushes by record id, pulls by cursor), so one immediate
        # retry on a fresh connection is safe: it turns a keep-alive connection that died while idle into a
        # success instead of a failed sync.
        retry = Retry(total=1, connect=1, read=1, status=0, other=0, allowed_methods=None, backoff_factor=0)
        self._session.mount("http://", HTTPAdapter(max_retries=retry))
        self._session.mount("https://", HTTPAdapter(max_retries=retry))
        self._session.headers.update({"User-Agent": user_agent, "Accept-Encoding": "gzip"})
        self._session.headers.pop("Accept", None)

    def fork(self) -> Transport:
        return Transport(self.base_url, allow_insecure_http=self._allow_insecure, timeout=self.timeout)

    def close(self) -> None:
        self._session.close()

    # -- plumbing ----------------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self._session.request(method, f"{self.base_url}{path}", timeout=self.timeout, **kwargs)
            response.content  # noqa: B018 - read the whole body here, so a cut mid-body is Offline too
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Offline(f"no answer from {self.base_url} ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise Offline(f"the answer from {self.base_url} was cut ({type(exc).__name__})") from None
        if response.status_code >= 400:
            self._raise_for(response)
        return response

    def _raise_for(self, response: requests.Response) -> None:
        status = response.status_code
        try:
            error = response.json()
            code, detail = str(error.get("code", "")), str(error.get("detail", ""))
        except (ValueError, AttributeError):
            error, code, detail = {}, "", ""
        if status in (429, 503) or status >= 500:
            retry = response.headers.get("Retry-After")
            raise ServerBusy(f"server busy ({status})", float(retry) if retry and retry.isdigit() else None)
        if not code:
            raise WrongServer(f"{self.base_url} answered {status} without an Osler error: is this the right address?")
        if status == 426:
            raise IncompatibleServer(detail, (error.get("supported") or [None])[-1])
        if status == 401:
            if code == "device-revoked":
                raise DeviceRevoked(detail)
            raise TokenRejected(detail)
        if status == 403 and code == "invite-invalid":
            raise InviteInvalid(detail)
        if status in (403, 409, 422) and error.get("ids"):
            ids = [bytes.fromhex(i) for i in error["ids"] if isinstance(i, str) and len(i) == 32]
            raise RecordsRefused(detail, code, ids)
        raise ProtocolViolation(f"{status} {code}: {detail}")

    # -- calls -------------------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Check the address is an Osler server speaking our protocol."""
        response = self._request("GET", "/v1/health")
        try:
            health = response.json()
            protocol = int(health["protocol"])
        except (ValueError, KeyError, TypeError):
            raise WrongServer(f"{self.base_url} is not an Osler server") from None
        if protocol != PROTOCOL_VERSION:
            raise IncompatibleServer(f"server speaks protocol {protocol}, this app {PROTOCOL_VERSION}", protocol)
        return health

    def register(self, invite: str, name: str, key: DeviceKey, box_key: bytes | None = None) -> Registration:
        body: dict[str, Any] = {
            "invite": invite.strip(),
            "name": name,
            "sign_key": base64.b64encode(key.public_bytes()).decode(),
        }
        if box_key is not None:
            body["box_key"] = base64.b64encode(box_key).decode()
        try:
            answer = self._request("POST", "/v1/register", json=body).json()
        except TokenRejected as exc:
            raise AuthFailed(str(exc)) from None
        return Registration(bytes.fromhex(answer["account"]), bytes.fromhex(answer["device"]), answer["role"])

    def sign_in(self, device: bytes, key: DeviceKey) -> tuple[str, int]:
        """Challenge, signature, token: (token, expires as unix seconds)."""
        try:
            challenge = self._request("POST", "/v1/auth/challenge", json={"device": device.hex()}).json()
            raw = base64.b64decode(challenge["challenge"])
            token = self._request(
                "POST",
                "/v1/auth/token",
                json={
                    "device": device.hex(),
                    "challenge": challenge["challenge"],
                    "sig": base64.b64encode(key.sign_challenge(device, raw)).decode(),
                },
            ).json()
        except TokenRejected as exc:
            raise AuthFailed(str(exc)) from None
        except (ValueError, KeyError, TypeError):
            raise WrongServer(f"{self.base_url} answered sign-in with something unexpected") from None
        return str(token["token"]), int(token["expires"])

    def sync(self, request: SyncRequest, token: str) -> Exchange:
        body = encode(request, MEDIA_MSGPACK)
        headers = {"Content-Type": MEDIA_MSGPACK, "Authorization": f"Bearer {token}"}
        if len(body) >= GZIP_MIN_BYTES:
            body = gzip_bytes(body)
            headers["Content-Encoding"] = "gzip"
        response = self._request("POST", "/v1/sync", data=body, headers=headers)
        if response.headers.get("content-type", "").split(";")[0] != MEDIA_MSGPACK:
            raise WrongServer(f"{self.base_url} did not answer the sync request in the Osler format")
        try:
            answer = decode(SyncResponse, response.content, MEDIA_MSGPACK)
        except ProtocolError as exc:
            raise ProtocolViolation(f"unreadable sync answer: {exc.detail}") from None
        if answer.v != PROTOCOL_VERSION:
            raise IncompatibleServer(f"server answered with protocol {answer.v}", answer.v)
        wire_down = int(response.headers.get("content-length") or len(response.content))
        return Exchange(answer, len(body), wire_down)

    def list_devices(self, token: str) -> list[dict[str, Any]]:
        return self._request("GET", "/v1/devices", headers={"Authorization": f"Bearer {token}"}).json()

    def admin_presence(self, token: str) -> list[dict[str, Any]]:
        """Every account's role and last sync (admins only, PROTOCOL.md §6.1)."""
        answer = self._request("GET", "/v1/admin/presence", headers={"Authorization": f"Bearer {token}"}).json()
        if not isinstance(answer, list):
            raise SyncError("the server's presence answer is not a list")
        return answer

    def revoke_device(self, device: bytes, token: str) -> None:
        self._request("POST", f"/v1/devices/{device.hex()}/revoke", headers={"Authorization": f"Bearer {token}"})

    # -- blobs -------------------------------------------------------------------------------------------------

    def blob_missing(self, sha: str, size: int, token: str) -> list[int]:
        answer = self._request(
            "GET", f"/v1/blobs/{sha}/chunks", params={"size": size}, headers={"Authorization": f"Bearer {token}"}
        ).json()
        return [int(i) for i in answer["missing"]]

    def put_blob_chunk(self, sha: str, size: int, index: int, data: bytes, token: str) -> list[int]:
        headers = {"Authorization": f"Bearer {token}", "Osler-Blob-Size": str(size)}
        answer = self._request("PUT", f"/v1/blobs/{sha}/chunks/{index}", data=data, headers=headers).json()
        return [int(i) for i in answer["missing"]]

    def get_blob(self, sha: str, offset: int, token: str) -> requests.Response:
        """The blob from ``offset`` on, streamed (the caller reads it in pieces and may be cut)."""
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            response = self._session.get(
                f"{self.base_url}/v1/blobs/{sha}", headers=headers, timeout=self.timeout, stream=True
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Offline(f"no answer from {self.base_url} ({type(exc).__name__})") from None
        if response.status_code >= 400:
            response.content  # noqa: B018
            self._raise_for(response)
        if offset and response.status_code != 206:
            response.close()
            raise ProtocolViolation("the server ignored the byte range")
        return response
