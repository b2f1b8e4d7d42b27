"""HTTP to one Osler server with ``requests``: URL policy, encodings, and errors mapped to ``sync.client.errors``.

One ``Transport`` is one connection pool; ``fork()`` makes another for a concurrent request (``requests``
sessions are not shared across threads). A transport and its forks share one ``WireCounter``: every byte of
every call each way as HTTP puts it on the wire (request line, headers and body up; status line, headers and
body as sent down), which is what the app counts against a person's monthly data.
"""

from __future__ import annotations

import base64
import ipaddress
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from sync import PROTOCOL_VERSION
from sync.client.accounts_api import AccountsCalls
from sync.client.errors import (
    BY_CODE,
    AuthFailed,
    DeviceRevoked,
    IncompatibleServer,
    InsecureServerURL,
    InviteInvalid,
    Offline,
    ProtocolViolation,
    ServerBusy,
    SyncError,
    TokenRejected,
    WrongServer,
)
from sync.client.signing import RequestSigner
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

Credential = str | RequestSigner  # a bearer token, or a signer when there is no token yet (PROTOCOL.md §6.2)
DEFAULT_TIMEOUT = (15.0, 120.0)  # connect, read: generous, a 2G link is slow, not dead
MAX_ANSWER_BYTES = 64 * 1024 * 1024  # as sent and decompressed; a sync answer is about 1 MiB of records
BUNDLE_MEDIA = "application/vnd.osler.bundle"  # sync.bundle.BUNDLE_MEDIA (PROTOCOL.md §13.1)


class RangeNotSatisfiable(SyncError):
    """416: the server has nothing from that byte offset on (a partial download already holds every byte, or
    more than the blob has). Handled inside the engine: what is on disk is verified, never a fatal error."""

    def __init__(self, message: str, size: int | None) -> None:
        super().__init__(message)
        self.size = size


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


class WireCounter:
    """Bytes up and down on the wire, for a transport and its forks (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.up = self.down = 0

    def add(self, up: int = 0, down: int = 0) -> None:
        with self._lock:
            self.up += up
            self.down += down

    def total(self) -> int:
        with self._lock:
            return self.up + self.down


def _request_bytes(request: requests.PreparedRequest) -> int:
    """The request as http.client writes it: request line, Host, the other headers, the blank line, the body."""
    parts = urlsplit(request.url or "")
    size = len(f"{request.method} {request.path_url} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n")
    size += sum(len(f"{name}: {value}\r\n") for name, value in request.headers.items())
    body = request.body
    return size + (len(body) if isinstance(body, bytes | str) else 0)


def _head_bytes(response: requests.Response) -> int:
    """The status line and headers as the server sent them, and the blank line after them."""
    original = getattr(response.raw, "_original_response", None)
    items = original.msg.raw_items() if original is not None else response.headers.items()
    size = len(f"HTTP/1.1 {response.status_code} {response.reason or ''}\r\n\r\n")
    return size + sum(len(f"{name}: {value}\r\n") for name, value in items)


def _why(exc: requests.RequestException) -> str:
    """Offline.reason for a request that got no answer."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls"
    if isinstance(exc, requests.Timeout):
        return "timeout"
    text = repr(exc)
    if any(s in text for s in ("NameResolutionError", "Name or service not known", "getaddrinfo failed")):
        return "name"
    if "Connection refused" in text or "ConnectionRefusedError" in text:
        return "refused"
    return "unreachable"


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


class Transport(AccountsCalls):
    def __init__(
        self,
        base_url: str,
        *,
        allow_insecure_http: bool = False,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        user_agent: str = "osler-desktop",
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        counter: WireCounter | None = None,
    ) -> None:
        self.counter = counter or WireCounter()
        self.on_answer: Callable[[], None] | None = None  # any answer (below 500): the link is there
        self.base_url = check_server_url(base_url, allow_insecure_http)
        self.max_answer_bytes = max_answer_bytes  # a server (or what poses as one) cannot fill this machine's memory
        self._allow_insecure = allow_insecure_http
        self.timeout = timeout
        self._session = requests.Session()
        # urllib3 never resends by itself: a token request resent with its (spent) challenge is refused, and a
        # register resent to a server that is not idempotent for it burns the invite. ``_request`` resends
        # only the calls that are safe to repeat.
        self._session.mount("http://", HTTPAdapter(max_retries=0))
        self._session.mount("https://", HTTPAdapter(max_retries=0))
        self._session.headers.update({"User-Agent": user_agent, "Accept-Encoding": "gzip"})
        # HTTP/1.1 keeps connections open without being asked; "Accept: */*" says nothing: 36 bytes a request
        self._session.headers.pop("Accept", None)
        self._session.headers.pop("Connection", None)

    def fork(self) -> Transport:
        forked = Transport(
            self.base_url,
            allow_insecure_http=self._allow_insecure,
            timeout=self.timeout,
            max_answer_bytes=self.max_answer_bytes,
            counter=self.counter,
        )
        forked.on_answer = self.on_answer
        return forked

    def wire_bytes(self) -> int:
        """Bytes this transport and its forks put on the wire and read from it, both ways, every call."""
        return self.counter.total()

    def close(self) -> None:
        self._session.close()

    @staticmethod
    def _auth(credential: Credential, **headers: str) -> dict[str, Any]:
        """``requests`` arguments for a call made with ``credential``, plus ``headers``."""
        if isinstance(credential, RequestSigner):
            return {"headers": headers, "auth": credential}
        return {"headers": {"Authorization": f"Bearer {credential}", **headers}}

    def preconnect(self) -> None:
        """Open a connection into this transport's pool now (TCP, and TLS for https), so that the first request
        on it does not wait for the handshake: on a long link that is 2 round trips, paid while something else
        (sign-in on another connection) is under way. Best effort: on any failure the first request opens its
        own connection, and says what is wrong."""
        url = f"{self.base_url}/"
        request = requests.Request("GET", url).prepare()
        adapter = self._session.get_adapter(url)
        try:
            assert isinstance(adapter, HTTPAdapter)
            # the pool ``requests`` will pick for our calls: settings merged as ``Session.request`` merges them
            settings = self._session.merge_environment_settings(url, {}, None, None, None)
            pool = adapter.get_connection_with_tls_context(
                request, settings["verify"], settings["proxies"], cert=settings["cert"]
            )
            conn = pool._get_conn()
            conn.timeout = self.timeout[0]
            try:
                conn.connect()
            except BaseException:
                conn.close()
                raise
            pool._put_conn(conn)
        except (AssertionError, OSError, ValueError, urllib3.exceptions.HTTPError, requests.RequestException):
            return

    # -- plumbing ----------------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, resend: bool = True, **kwargs: Any) -> requests.Response:
        """One call, its whole answer read and checked (``_read_all``). ``resend``: the call is safe to repeat
        (pushes by record id, pulls by cursor, blob chunks by index, fresh challenges), so a connection that
        fails is tried once more on a new one, which turns a keep-alive connection that died while idle into a
        success. Non-idempotent calls (the token request, register, revoke) are never resent here."""
        signer = kwargs.get("auth")
        for attempt in range(2):
            response = self._send(method, path, resend, **kwargs)
            self._read_all(response)
            if response.status_code >= 400:
                if attempt == 0 and isinstance(signer, RequestSigner) and signer.corrected_by(response):
                    continue  # our clock is off: signed again on the server's (a refused request did nothing)
                self._raise_for(response)
            return response
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, resend: bool, **kwargs: Any) -> requests.Response:
        """The request sent and the answer's headers read (the body is left to the caller)."""
        url = f"{self.base_url}{path}"
        for attempt in range(2 if resend else 1):
            try:
                timeout = kwargs.pop("timeout", self.timeout)
                response = self._session.request(method, url, timeout=timeout, stream=True, **kwargs)
            except requests.ConnectionError as exc:
                if attempt == 0 and resend and not isinstance(exc, requests.Timeout):
                    continue
                raise Offline(f"no answer from {self.base_url} ({type(exc).__name__})", _why(exc)) from None
            except requests.RequestException as exc:
                raise Offline(f"no answer from {self.base_url} ({type(exc).__name__})", _why(exc)) from None
            self.counter.add(up=_request_bytes(response.request), down=_head_bytes(response))
            if isinstance(kwargs.get("auth"), RequestSigner):
                kwargs["auth"].took(response)
            if self.on_answer is not None and response.status_code < 500:
                self.on_answer()
            return response
        raise AssertionError("unreachable")

    def _read_all(self, response: requests.Response) -> None:
        """Read the whole answer into ``response.content``; ``Offline`` when it was cut: a body shorter than its
        Content-Length, a broken chunked stream, a gzip stream that stops before its end, or headers cut short
        (``_delimited``). Decoding gzip here, rather than in urllib3, is what notices a gzip stream cut short."""
        try:
            raw = b"".join(self._raw_pieces(response))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()
            raise Offline(f"the answer from {self.base_url} was cut ({type(exc).__name__})") from None
        if response.headers.get("content-encoding", "").strip().lower() == "gzip":
            inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            try:
                body = inflate.decompress(raw, self.max_answer_bytes)
            except zlib.error:
                raise Offline(f"the answer from {self.base_url} was cut (broken gzip)") from None
            if inflate.unconsumed_tail:
                raise ProtocolViolation(f"{self.base_url} answered more than {self.max_answer_bytes} bytes")
            if not inflate.eof:
                raise Offline(f"the answer from {self.base_url} was cut (gzip stream ends early)")
        else:
            body = raw
        response._content, response._content_consumed = body, True  # what requests does after reading
        if not body and not _delimited(response):
            raise Offline(f"the answer from {self.base_url} was cut (no body, no length)")

    def _raw_pieces(self, response: requests.Response) -> Iterator[bytes]:
        """The answer as sent, read until its end (urllib3 raises there when it falls short of its length);
        refused once past ``max_answer_bytes``, before more is held."""
        total = 0
        while piece := response.raw.read(256 * 1024, decode_content=False):
            total += len(piece)
            self.counter.add(down=len(piece))
            if total > self.max_answer_bytes:
                response.close()
                raise ProtocolViolation(f"{self.base_url} answered more than {self.max_answer_bytes} bytes")
            yield piece

    def _not_ours(self, response: requests.Response, message: str) -> SyncError:
        """``WrongServer`` for an answer known to be whole that is not what an Osler server says; ``Offline``
        for one that may be cut (close-delimited: nothing says where it ends)."""
        if _delimited(response) or response.headers.get("content-encoding", "").strip().lower() == "gzip":
            return WrongServer(message)
        return Offline(f"the answer from {self.base_url} was cut (unreadable, no length)")

    def _json(self, response: requests.Response, what: str) -> Any:
        """The JSON of an answer; an unreadable whole answer really is not an Osler server speaking."""
        try:
            return response.json()
        except ValueError:
            raise self._not_ours(response, f"{self.base_url} answered {what} with something unexpected") from None

    def _raise_for(self, response: requests.Response) -> None:
        status = response.status_code
        try:
            error = response.json()
            code, detail = str(error.get("code", "")), str(error.get("detail", ""))
        except (ValueError, AttributeError):
            error, code, detail = {}, "", ""
        if status == 416:
            total = response.headers.get("content-range", "").rpartition("/")[2]
            raise RangeNotSatisfiable("nothing past the end of the blob", int(total) if total.isdigit() else None)
        if status in (429, 503) or status >= 500:
            retry = response.headers.get("Retry-After")
            raise ServerBusy(f"server busy ({status})", float(retry) if retry and retry.isdigit() else None)
        if not code:
            message = f"{self.base_url} answered {status} without an Osler error: is this the right address?"
            raise self._not_ours(response, message)
        if status == 426:
            raise IncompatibleServer(detail, (error.get("supported") or [None])[-1])
        if status == 401:
            if code == "device-revoked":
                raise DeviceRevoked(detail)
            server_time = error.get("server_time")
            raise TokenRejected(detail, code, server_time if isinstance(server_time, int) else None)
        if status in (404, 409, 410) and code in BY_CODE:
            raise BY_CODE[code](detail)
        if status == 403 and code == "invite-invalid":
            raise InviteInvalid(detail)
        if status in (403, 409, 422) and error.get("ids"):
            ids = [bytes.fromhex(i) for i in error["ids"] if isinstance(i, str) and len(i) == 32]
            raise RecordsRefused(detail, code, ids)
        raise ProtocolViolation(f"{status} {code}: {detail}")

    # -- calls -------------------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Check the address is an Osler server speaking our protocol."""
        health = self._json(self._request("GET", "/v1/health"), "the health check")
        try:
            protocol = int(health["protocol"])
        except (KeyError, TypeError, ValueError):
            raise WrongServer(f"{self.base_url} is not an Osler server") from None
        if protocol != PROTOCOL_VERSION:
            raise IncompatibleServer(f"server speaks protocol {protocol}, this app {PROTOCOL_VERSION}", protocol)
        return health

    def register(self, invite: str, name: str, key: DeviceKey, box_key: bytes | None = None) -> Registration:
        """Spend ``invite`` on this device. Not resent here: the caller retries with the same invite and the same
        key, which the server answers with the same account (PROTOCOL.md §6)."""
        body: dict[str, Any] = {
            "invite": invite.strip(),
            "name": name,
            "sign_key": base64.b64encode(key.public_bytes()).decode(),
        }
        if box_key is not None:
            body["box_key"] = base64.b64encode(box_key).decode()
        try:
            answer = self._json(self._request("POST", "/v1/register", json=body, resend=False), "registration")
            return Registration(bytes.fromhex(answer["account"]), bytes.fromhex(answer["device"]), answer["role"])
        except TokenRejected as exc:
            raise AuthFailed(str(exc)) from None
        except (KeyError, TypeError, ValueError):
            raise WrongServer(f"{self.base_url} answered registration with something unexpected") from None

    def sign_in(self, device: bytes, key: DeviceKey) -> tuple[str, int]:
        """Challenge, signature, token: (token, expires as unix seconds).

        The token request spends its challenge, so it is never resent: after a cut, or a 401 that may answer a
        copy of it that got through (or a challenge that expired on a slow link), sign-in starts once more with
        a fresh challenge. Only a refusal of that second, complete attempt is ``AuthFailed``."""
        for attempt in range(2):
            try:
                return self._sign_in_once(device, key)
            except TokenRejected as exc:
                if attempt:
                    raise AuthFailed(str(exc)) from None
            except Offline:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _sign_in_once(self, device: bytes, key: DeviceKey) -> tuple[str, int]:
        challenge = self._json(
            self._request("POST", "/v1/auth/challenge", json={"device": device.hex()}), "the sign-in challenge"
        )
        try:
            raw = base64.b64decode(challenge["challenge"], validate=True)
            body = {
                "device": device.hex(),
                "challenge": challenge["challenge"],
                "sig": base64.b64encode(key.sign_challenge(device, raw)).decode(),
            }
        except (KeyError, TypeError, ValueError):
            raise WrongServer(f"{self.base_url} answered sign-in with something unexpected") from None
        token = self._json(self._request("POST", "/v1/auth/token", json=body, resend=False), "sign-in")
        try:
            return str(token["token"]), int(token["expires"])
        except (KeyError, TypeError, ValueError):
            raise WrongServer(f"{self.base_url} answered sign-in with something unexpected") from None

    def sync(self, request: SyncRequest, token: Credential) -> Exchange:
        body = encode(request, MEDIA_MSGPACK)
        headers = {"Content-Type": MEDIA_MSGPACK}
        if len(body) >= GZIP_MIN_BYTES:
            body = gzip_bytes(body)
            headers["Content-Encoding"] = "gzip"
        response = self._request("POST", "/v1/sync", data=body, **self._auth(token, **headers))
        if response.status_code != 200 or response.headers.get("content-type", "").split(";")[0] != MEDIA_MSGPACK:
            raise self._not_ours(response, f"{self.base_url} did not answer the sync request in the Osler format")
        try:
            answer = decode(SyncResponse, response.content, MEDIA_MSGPACK)
        except ProtocolError as exc:
            raise ProtocolViolation(f"unreadable sync answer: {exc.detail}") from None
        if answer.v != PROTOCOL_VERSION:
            raise IncompatibleServer(f"server answered with protocol {answer.v}", answer.v)
        wire_down = int(response.headers.get("content-length") or len(response.content))
        return Exchange(answer, len(body), wire_down)

    def wait(self, cursor: int, seconds: int, token: Credential) -> bool:
        """``GET /v1/wait`` (PROTOCOL.md §4.3): held up to ``seconds``; True when something new waits after
        ``cursor`` (the caller then syncs), False when the time ran out with nothing new."""
        timeout = (self.timeout[0], seconds + 30.0)  # the server answers at ``seconds``: a slow link, not a dead one
        response = self._request("GET", f"/v1/wait?c={cursor}&t={seconds}", timeout=timeout, **self._auth(token))
        answer = self._json(response, "the wait request")
        if not isinstance(answer, dict) or not isinstance(answer.get("more"), bool):
            raise WrongServer(f"{self.base_url} answered the wait request with something unexpected")
        return answer["more"]

    def list_devices(self, token: Credential) -> list[dict[str, Any]]:
        answer = self._json(self._request("GET", "/v1/devices", **self._auth(token)), "the device list")
        if not isinstance(answer, list):
            raise WrongServer(f"{self.base_url} answered the device list with something unexpected")
        return answer

    def admin_presence(self, token: Credential) -> list[dict[str, Any]]:
        """Every account's role and last sync (admins only, PROTOCOL.md §6.1)."""
        response = self._request("GET", "/v1/admin/presence", **self._auth(token))
        answer = self._json(response, "the presence list")
        if not isinstance(answer, list):
            raise WrongServer(f"{self.base_url} answered the presence list with something unexpected")
        return answer

    def revoke_device(self, device: bytes, token: Credential) -> None:
        self._request("POST", f"/v1/devices/{device.hex()}/revoke", resend=False, **self._auth(token))

    # -- bundles (PROTOCOL.md §13) -------------------------------------------------------------------------------

    def bundle_key(self) -> tuple[bytes, bytes]:
        """The server's public bundle keys (box, sign), ``GET /v1/bundle-key`` (no sign-in)."""
        answer = self._json(self._request("GET", "/v1/bundle-key"), "the bundle key request")
        try:
            box = base64.b64decode(answer["box"], validate=True)
            sign = base64.b64decode(answer["sign"], validate=True)
        except (KeyError, TypeError, ValueError):
            raise WrongServer(f"{self.base_url} answered the bundle key request with something unexpected") from None
        if not 0 < len(box) <= 4096 or len(sign) != 32:  # an HPKE public key (hybrid: ~1.2 KB), an Ed25519 one
            raise WrongServer(f"{self.base_url} answered the bundle key request with something unexpected")
        return box, sign

    def post_bundle(self, data: bytes, base_url: str | None = None) -> bytes:
        """``POST /v1/bundles`` with a request bundle (to ``base_url``: a relay, when given): the answer bundle,
        or b"" when a relay took it and holds no answer yet (202). The bundle authenticates itself; safe to resend
        (a request bundle is idempotent, PROTOCOL.md §13). Refusals raise as any call's (``ProtocolViolation``
        with the code, ``DeviceRevoked``...)."""
        target = self if base_url is None else self._relay(base_url)
        try:
            response = target._request("POST", "/v1/bundles", data=data, headers={"Content-Type": BUNDLE_MEDIA})
            if response.status_code == 202:
                return b""
            if response.status_code != 200 or response.headers.get("content-type", "").split(";")[0] != BUNDLE_MEDIA:
                raise target._not_ours(response, f"{target.base_url} did not answer the bundle with a bundle")
            return response.content
        finally:
            if target is not self:
                target.close()

    def _relay(self, base_url: str) -> Transport:
        """A transport to a relay (a LAN address: plain http allowed), counting on this one's wire counter."""
        relay = Transport(
            base_url, allow_insecure_http=True, timeout=self.timeout, max_answer_bytes=self.max_answer_bytes,
            counter=self.counter,
        )  # fmt: skip
        relay.on_answer = None
        return relay

    # -- blobs -------------------------------------------------------------------------------------------------

    def _missing(self, response: requests.Response) -> list[int]:
        try:
            return [int(i) for i in self._json(response, "a blob request")["missing"]]
        except (KeyError, TypeError, ValueError):
            raise WrongServer(f"{self.base_url} answered a blob request with something unexpected") from None

    def blob_missing(self, sha: str, size: int, token: Credential) -> list[int]:
        path = f"/v1/blobs/{sha}/chunks"
        return self._missing(self._request("GET", path, params={"size": size}, **self._auth(token)))

    def put_blob_chunk(self, sha: str, size: int, index: int, data: bytes, token: Credential) -> list[int]:
        auth = self._auth(token, **{"Osler-Blob-Size": str(size)})
        return self._missing(self._request("PUT", f"/v1/blobs/{sha}/chunks/{index}", data=data, **auth))

    def get_blob(self, sha: str, offset: int, token: Credential, end: int | None = None) -> requests.Response:
        """The blob from ``offset`` on (to byte ``end`` included, when given), streamed: read it with
        ``blob_pieces``, which turns a cut into ``Offline``. The status is 206 when the server honoured the range,
        200 when it sends the whole blob; ``RangeNotSatisfiable`` when it has nothing from ``offset`` on."""
        headers = {"Accept-Encoding": "identity"}
        if offset or end is not None:
            headers["Range"] = f"bytes={offset}-{'' if end is None else end}"
        response = self._send("GET", f"/v1/blobs/{sha}", True, **self._auth(token, **headers))
        if response.status_code >= 400:
            try:
                self._read_all(response)
                self._raise_for(response)
            finally:
                response.close()
        if response.status_code not in (200, 206) or not _delimited(response):
            response.close()
            # headers cut short (no length: a blob always has one), or an answer no Osler server gives
            raise Offline(f"the answer from {self.base_url} was cut (blob {sha[:12]})")
        return response

    def blob_pieces(self, response: requests.Response, size: int = 64 * 1024) -> Iterator[bytes]:
        """The body of a ``get_blob`` answer in pieces; a cut is ``Offline`` (what came before it is good)."""
        try:
            for piece in response.iter_content(chunk_size=size):  # as sent: blobs come without gzip
                self.counter.add(down=len(piece))
                yield piece
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise Offline(f"the download from {self.base_url} was cut ({type(exc).__name__})") from None
        finally:
            response.close()


def _delimited(response: requests.Response) -> bool:
    """Whether the answer says where its body ends, so that urllib3 notices a body cut short.

    A link cut inside the headers leaves http.client with a header block that just stops (it does not notice)
    and an empty body to read until the close. Every answer of an Osler server carries a Content-Length or
    chunked encoding (204 and 304 have no body), so an answer with neither and no byte of body is a cut, not an
    empty answer. Once any body byte arrived, the blank line that ends the headers did too."""
    if response.status_code in (204, 304) or response.request.method == "HEAD":
        return True
    if "chunked" in response.headers.get("transfer-encoding", "").lower():
        return True  # urllib3 raises on a chunked body cut short
    return response.headers.get("content-length", "").strip().isdigit()  # enforced by urllib3 when present
