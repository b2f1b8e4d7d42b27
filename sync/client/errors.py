"""What can go wrong talking to a server, as types the app can turn into plain, translated words.

``retryable`` says whether the scheduler should try again later by itself (offline, busy) or whether a person
must act (wrong address, revoked device, update needed).
"""

from __future__ import annotations


class SyncError(Exception):
    retryable = True
    code = "error"


class Offline(SyncError):
    """No answer: no network, the server is down, or the link dropped mid-request. ``reason`` says which when the
    transport could tell: "name" (the host name is unknown), "refused" (nothing listens on that port), "tls" (no
    secure connection: an http server asked for https, a bad certificate), "timeout", else "unreachable"."""

    code = "offline"

    def __init__(self, message: str, reason: str = "unreachable") -> None:
        super().__init__(message)
        self.reason = reason

    @property
    def reached(self) -> bool:
        """Something answered at the server's address (the connection was refused): the link itself is up."""
        return self.reason == "refused"


class ServerBusy(SyncError):
    code = "busy"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InsecureServerURL(SyncError):
    """Plain http to a host that is not this machine, without the person's explicit permission."""

    retryable = False
    code = "insecure-url"


class WrongServer(SyncError):
    """Something answered, but it is not an Osler server (a typo in the address, a captive portal)."""

    retryable = False
    code = "wrong-server"


class IncompatibleServer(SyncError):
    retryable = False
    code = "incompatible"

    def __init__(self, message: str, server_protocol: int | None = None) -> None:
        super().__init__(message)
        self.server_protocol = server_protocol


class DeviceRevoked(SyncError):
    retryable = False
    code = "device-revoked"


class AuthFailed(SyncError):
    retryable = False
    code = "auth-failed"


class InviteInvalid(SyncError):
    retryable = False
    code = "invite-invalid"


class ProtocolViolation(SyncError):
    """The server answered something the protocol does not allow; retried, as it may be a cut answer."""

    code = "protocol"


class InternalError(SyncError):
    """Something failed inside this app (a bug): logged, and retried later like a network problem."""

    code = "internal"
