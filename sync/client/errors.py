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


class TokenRejected(SyncError):
    """401: the bearer token is unknown or expired (sign in again and retry: handled inside the engine), or a
    signed call was refused: ``reason`` is the server's code (``clock-skew`` comes with ``server_time_ms``)."""

    def __init__(self, message: str, reason: str = "unauthenticated", server_time_ms: int | None = None) -> None:
        super().__init__(message)
        self.reason, self.server_time_ms = reason, server_time_ms


class ProtocolViolation(SyncError):
    """The server answered something the protocol does not allow; retried, as it may be a cut answer."""

    code = "protocol"


class InternalError(SyncError):
    """Something failed inside this app (a bug): logged, and retried later like a network problem."""

    code = "internal"


# -- linking a device and restoring an account (PROTOCOL.md §10): a person acts (a new code, another key) --------


class LinkProblem(SyncError):
    """A link the server cannot use: the domain says which, in words, by the subclass."""

    retryable = False


class LinkUnknown(LinkProblem):
    """No such link on this server: a typo in the code, or a code made for another server."""

    code = "link-unknown"


class LinkExpired(LinkProblem):
    """The link's ten minutes (or, once approved, its day to pick up the welcome) are over."""

    code = "link-expired"


class LinkUsed(LinkProblem):
    """Another device asked to use this link first, or it was approved for another device."""

    code = "link-used"


class LinkNotRequested(LinkProblem):
    """An approval before any device asked to use the link."""

    code = "link-not-requested"


class TooManyLinks(LinkProblem):
    """The account has three links open already."""

    code = "too-many-links"


class RecoveryUnknown(SyncError):
    """No account on this server has this recovery key: a typo in the key, another server, or a key replaced by a
    newer one."""

    retryable = False
    code = "recovery-unknown"


class RevokeSelf(SyncError):
    """A device asked the server to revoke itself (refused: another device, or a restore, revokes it)."""

    retryable = False
    code = "revoke-self"


class ClockSkew(SyncError):
    """A signed call refused because this machine's clock is more than ten minutes off the server's, even after
    signing it again on the server's time."""

    retryable = False
    code = "clock"

    def __init__(self, message: str, server_time_ms: int | None = None) -> None:
        super().__init__(message)
        self.server_time_ms = server_time_ms


BY_CODE: dict[str, type[SyncError]] = {
    cls.code: cls
    for cls in (LinkUnknown, LinkExpired, LinkUsed, LinkNotRequested, TooManyLinks, RecoveryUnknown, RevokeSelf)
}
