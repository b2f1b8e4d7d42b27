"""A fault-injecting TCP proxy for tests and benchmarks: a bad 2G link squeezed onto loopback.

Osler is offline-first, so its client has to survive links that are slow, far away and that drop in the middle of a
request. The test suite has no such network, so this stdlib-only proxy sits between an HTTP client and a server on
127.0.0.1 and imposes, per direction, a one-way latency and a bandwidth cap shared by every connection (like one
physical full-duplex link), and can cut a connection after an exact number of payload bytes::

    with FaultProxy("127.0.0.1", server_port, latency_s=0.3, bandwidth_bps=64_000) as proxy:
        requests.get(proxy.url + "/health", timeout=10)

Model, per direction: a chunk read from one peer at time t is eligible at t + latency_s, then waits its turn on that
direction's link, is serialised at bandwidth_bps (in small pieces, so concurrent connections interleave fairly) and is
written to the other peer when its last bit is through. Only payload bytes count: no TCP/IP header overhead, and the
TCP handshake itself is not delayed (the kernel completes it before the proxy sees the connection). What a real
handshake costs (TCP, then TLS: about 2 round trips before the first request byte can leave) is ``connect_delay_s``:
each new connection's client bytes are held until that long after it was accepted, then go through the link as usual.
"""

from __future__ import annotations

import contextlib
import enum
import selectors
import socket
import struct
import threading
import time
from collections import deque
from types import TracebackType

try:  # Linux: lets a cut wait until its last bytes have left the proxy's socket before closing it
    import fcntl
    import termios

    _TIOCOUTQ: int | None = termios.TIOCOUTQ
except (ImportError, AttributeError):  # pragma: no cover - not Linux
    _TIOCOUTQ = None

__all__ = ["FaultProxy"]

_RECV_SIZE = 64 * 1024
_POLL_S = 0.25  # every blocking socket call wakes at least this often to notice a closed connection
_DRAIN_S = 1.0  # at most this long waiting for a cut connection's last bytes to leave before closing
_JOIN_S = 5.0


class _Unset(enum.Enum):
    TOKEN = 0


_UNSET = _Unset.TOKEN


def _piece_size(bps: float) -> int:
    """Bytes serialised in one go on a capped link: about 20 ms worth, so connections sharing it interleave."""
    return int(min(16 * 1024, max(256, bps / 8 * 0.02)))


def _unsent(sock: socket.socket) -> int:
    """Bytes still in the kernel's send queue (sent but unacknowledged included); 0 where that cannot be asked."""
    if _TIOCOUTQ is None:
        return 0
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), _TIOCOUTQ, b"\0\0\0\0"))[0]
    except (OSError, ValueError):
        return 0


def _close(sock: socket.socket, *, reset: bool) -> None:
    """Close ``sock``, with an RST instead of a FIN if ``reset``."""
    if reset:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Link:
    """One direction of the emulated physical link: a virtual clock shared by every connection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free_at = 0.0

    def reserve(self, nbytes: int, bps: float) -> float:
        """Book the link for ``nbytes``; return the monotonic time at which their last bit is through."""
        with self._lock:
            start = max(time.monotonic(), self._free_at)
            self._free_at = start + nbytes * 8 / bps
            return self._free_at


class _Direction:
    """One direction of one connection: chunks read from ``src`` waiting to be written to ``dst``."""

    def __init__(self, name: str, src: socket.socket, dst: socket.socket, link: _Link) -> None:
        self.name = name
        self.src = src
        self.dst = dst
        self.link = link
        self.cond = threading.Condition()
        self.queue: deque[tuple[float, bytes]] = deque()  # (eligible at, data); b"" is the end of the stream
        self.buffered = 0


class _Connection:
    """A client connection and its server connection, pumped by four threads (a reader and a writer each way)."""

    def __init__(
        self,
        proxy: FaultProxy,
        client: socket.socket,
        server: socket.socket,
        cut_limit: int | None,
        cut_reset: bool,
        connect_delay_s: float = 0.0,
    ) -> None:
        self.proxy = proxy
        self.ready_at = time.monotonic() + connect_delay_s  # the client's first byte leaves no earlier (handshake)
        self.client = client
        self.server = server
        self.cut_limit = cut_limit
        self.cut_reset = cut_reset
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.forwarded = 0  # both directions, in the order forwarded: what cut_limit is compared with
        self._reset_on_close = False
        self._drain_on_close = False
        self._live = 0
        self.up = _Direction("up", client, server, proxy._links["up"])
        self.down = _Direction("down", server, client, proxy._links["down"])
        self.threads = [
            threading.Thread(target=target, args=(d,), name=f"faultproxy-{proxy.port}-{d.name}-{role}", daemon=True)
            for d in (self.up, self.down)
            for target, role in ((self._read_loop, "read"), (self._write_loop, "write"))
        ]

    def start(self) -> None:
        self._live = len(self.threads)
        for i, thread in enumerate(self.threads):
            try:
                thread.start()
            except RuntimeError:  # out of threads: give up on this connection, still closing its sockets
                unstarted, self.threads = self.threads[i:], self.threads[:i]
                self.abort(reset=True)
                for _ in unstarted:
                    self._thread_exit()
                return

    def abort(self, *, reset: bool, drain: bool = False) -> None:
        """End the connection now: stop both directions; the sockets close when the last pump thread exits."""
        with self.lock:
            if self.closed.is_set():
                return
            self._reset_on_close = reset
            self._drain_on_close = drain
            self.closed.set()
        for d in (self.up, self.down):
            with d.cond:
                d.cond.notify_all()
        # Wake threads blocked in recv. A FIN goes out behind any data already written; a reset must not send one.
        how = socket.SHUT_RD if reset else socket.SHUT_RDWR
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(how)

    def _thread_exit(self) -> None:
        with self.lock:
            self._live -= 1
            last = self._live == 0
            if last:
                self.closed.set()  # a late abort() is a no-op now
        if not last:
            return
        if self._drain_on_close:
            deadline = time.monotonic() + _DRAIN_S
            while time.monotonic() < deadline and any(_unsent(s) for s in (self.client, self.server)):
                time.sleep(0.005)
        for sock in (self.client, self.server):
            _close(sock, reset=self._reset_on_close)
        self.proxy._forget(self)

    def _sleep_until(self, deadline: float) -> bool:
        """Wait until ``deadline`` (monotonic); False if the connection was closed meanwhile."""
        delay = deadline - time.monotonic()
        if delay > 0:
            return not self.closed.wait(delay)
        return not self.closed.is_set()

    def _read_loop(self, d: _Direction) -> None:
        try:
            while True:
                with d.cond:
                    while d.buffered >= self.proxy.max_buffer_bytes and not self.closed.is_set():
                        d.cond.wait(_POLL_S)
                if self.closed.is_set():
                    return
                try:
                    data = d.src.recv(_RECV_SIZE)
                except TimeoutError:
                    continue
                except OSError:  # the peer reset: pass the reset on to the other side
                    self.abort(reset=True)
                    return
                if self.closed.is_set():
                    return
                read_at = time.monotonic() if d is self.down else max(time.monotonic(), self.ready_at)
                with d.cond:
                    d.queue.append((read_at + self.proxy.latency_s, data))
                    d.buffered += len(data)
                    d.cond.notify_all()
                if not data:
                    return
        finally:
            self._thread_exit()

    def _write_loop(self, d: _Direction) -> None:
        try:
            while True:
                with d.cond:
                    while not d.queue and not self.closed.is_set():
                        d.cond.wait()
                    if self.closed.is_set():
                        return
                    eligible_at, data = d.queue.popleft()
                    d.buffered -= len(data)
                    d.cond.notify_all()
                if not self._sleep_until(eligible_at):
                    return
                if not data:  # half-close: the source will send no more, tell the destination
                    try:
                        d.dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        self.abort(reset=True)
                    return
                if not self._forward(d, memoryview(data)):
                    return
        finally:
            self._thread_exit()

    def _forward(self, d: _Direction, view: memoryview) -> bool:
        """Push ``view`` through the link to ``d.dst``; False once the connection is over."""
        while view:
            bps = self.proxy.bandwidth_bps
            piece = view
            if bps:
                piece = view[: _piece_size(bps)]
                if not self._sleep_until(d.link.reserve(len(piece), bps)):
                    return False
            with self.lock:
                if self.cut_limit is not None:
                    room = self.cut_limit - self.forwarded
                    if room <= 0:  # the other direction spent the budget and is cutting the connection
                        return False
                    piece = piece[:room]
                self.forwarded += len(piece)
                cutting = self.cut_limit is not None and self.forwarded >= self.cut_limit
            if not self._send_all(d, piece):
                return False
            if cutting:
                self.abort(reset=self.cut_reset, drain=True)
                return False
            view = view[len(piece) :]
        return True

    def _send_all(self, d: _Direction, view: memoryview) -> bool:
        while view:
            if self.closed.is_set():
                return False
            try:
                sent = d.dst.send(view)
            except TimeoutError:
                continue
            except OSError:  # the destination went away: the source gets a reset
                self.abort(reset=True)
                return False
            self.proxy._count(d.name, sent)
            view = view[sent:]
        return True


class FaultProxy:
    """A loopback TCP proxy to ``target_host:target_port`` that behaves like a slow, distant, unreliable link.

    Settings may be changed at any time, directly or with :meth:`configure`. ``latency_s`` and ``bandwidth_bps`` act
    on data as it is read; ``cut_after_bytes``, ``cut_once`` and ``cut_reset`` are read when a connection is
    accepted.

    - ``latency_s``: one-way delay, each direction.
    - ``bandwidth_bps``: bits per second per direction, shared by all connections; None for no cap.
    - ``cut_after_bytes``: close each connection once that many payload bytes, both directions together, have been
      forwarded over it (0: close as soon as accepted); None for never.
    - ``cut_once``: apply ``cut_after_bytes`` to the next connection only (it is then set back to None).
    - ``cut_reset``: cut with an RST instead of a FIN. Either way the bytes forwarded before the cut reach the peer.
    - ``connect_delay_s``: what opening a connection costs (e.g. 2 RTT for TCP + TLS): the client's bytes on each
      new connection are held until that long after it was accepted. Read when a connection is accepted.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        latency_s: float = 0.0,
        bandwidth_bps: float | None = None,
        cut_after_bytes: int | None = None,
        cut_once: bool = False,
        cut_reset: bool = False,
        connect_delay_s: float = 0.0,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self._lock = threading.Lock()
        self.latency_s = 0.0
        self.bandwidth_bps: float | None = None
        self.cut_after_bytes: int | None = None
        self.cut_once = False
        self.cut_reset = False
        self.connect_delay_s = 0.0
        self.connect_timeout_s = 5.0
        self.max_buffer_bytes = 1024 * 1024  # per direction per connection; the reader stops reading beyond it
        self.configure(
            latency_s=latency_s,
            bandwidth_bps=bandwidth_bps,
            cut_after_bytes=cut_after_bytes,
            cut_once=cut_once,
            cut_reset=cut_reset,
            connect_delay_s=connect_delay_s,
        )
        self.port = 0
        self._links = {"up": _Link(), "down": _Link()}
        self._conns: set[_Connection] = set()
        self._bytes_up = 0
        self._bytes_down = 0
        self._connections = 0
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # Settings and counters

    def configure(
        self,
        *,
        latency_s: float | _Unset = _UNSET,
        bandwidth_bps: float | _Unset | None = _UNSET,
        cut_after_bytes: int | _Unset | None = _UNSET,
        cut_once: bool | _Unset = _UNSET,
        cut_reset: bool | _Unset = _UNSET,
        connect_delay_s: float | _Unset = _UNSET,
    ) -> None:
        """Change the given settings at once (a connection accepted meanwhile sees all or none); others stay."""
        if not isinstance(latency_s, _Unset) and latency_s < 0:
            raise ValueError(f"latency_s must be >= 0, not {latency_s}")
        if not isinstance(connect_delay_s, _Unset) and connect_delay_s < 0:
            raise ValueError(f"connect_delay_s must be >= 0, not {connect_delay_s}")
        if not isinstance(bandwidth_bps, _Unset) and bandwidth_bps is not None and bandwidth_bps <= 0:
            raise ValueError(f"bandwidth_bps must be > 0 or None, not {bandwidth_bps}")
        if not isinstance(cut_after_bytes, _Unset) and cut_after_bytes is not None and cut_after_bytes < 0:
            raise ValueError(f"cut_after_bytes must be >= 0 or None, not {cut_after_bytes}")
        with self._lock:
            if not isinstance(latency_s, _Unset):
                self.latency_s = latency_s
            if not isinstance(bandwidth_bps, _Unset):
                self.bandwidth_bps = bandwidth_bps
            if not isinstance(cut_after_bytes, _Unset):
                self.cut_after_bytes = cut_after_bytes
            if not isinstance(cut_once, _Unset):
                self.cut_once = cut_once
            if not isinstance(cut_reset, _Unset):
                self.cut_reset = cut_reset
            if not isinstance(connect_delay_s, _Unset):
                self.connect_delay_s = connect_delay_s

    @property
    def bytes_up(self) -> int:
        """Client → server payload bytes forwarded, all connections."""
        return self._bytes_up

    @property
    def bytes_down(self) -> int:
        """Server → client payload bytes forwarded, all connections."""
        return self._bytes_down

    @property
    def connections(self) -> int:
        """Client connections accepted."""
        return self._connections

    def reset_counters(self) -> None:
        with self._lock:
            self._bytes_up = self._bytes_down = self._connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Life cycle

    def start(self) -> FaultProxy:
        if self._listener is not None:
            raise RuntimeError("FaultProxy already started")
        self._stopping.clear()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, args=(self._listener, self._wake_r), name=f"faultproxy-{self.port}-accept"
        )
        self._accept_thread.daemon = True
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every live connection (with a FIN) and wait for all threads to finish."""
        if self._listener is None:
            return
        self._stopping.set()
        assert self._wake_w is not None and self._wake_r is not None and self._accept_thread is not None
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._accept_thread.join(_JOIN_S)
        for sock in (self._listener, self._wake_r, self._wake_w):
            _close(sock, reset=False)
        self._listener = self._wake_r = self._wake_w = self._accept_thread = None
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.abort(reset=False)
        for conn in conns:
            for thread in conn.threads:
                thread.join(_JOIN_S)

    def __enter__(self) -> FaultProxy:
        if self._listener is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Internals

    def _accept_loop(self, listener: socket.socket, wake: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is wake or self._stopping.is_set():
                        return
                    try:
                        client, _ = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:  # e.g. out of file descriptors: back off rather than spin
                        self._stopping.wait(0.05)
                        continue
                    self._admit(client)

    def _admit(self, client: socket.socket) -> None:
        with self._lock:
            self._connections += 1
            cut_limit, cut_reset, connect_delay = self.cut_after_bytes, self.cut_reset, self.connect_delay_s
            if cut_limit is not None and self.cut_once:
                self.cut_after_bytes = None
        if cut_limit == 0:
            _close(client, reset=cut_reset)
            return
        try:
            server = socket.create_connection((self.target_host, self.target_port), timeout=self.connect_timeout_s)
        except OSError:  # nothing listening: the client sees its connection reset
            _close(client, reset=True)
            return
        for sock in (client, server):
            sock.settimeout(_POLL_S)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Connection(self, client, server, cut_limit, cut_reset, connect_delay)
        with self._lock:
            self._conns.add(conn)
        conn.start()

    def _forget(self, conn: _Connection) -> None:
        with self._lock:
            self._conns.discard(conn)

    def _count(self, direction: str, nbytes: int) -> None:
        with self._lock:
            if direction == "up":
                self._bytes_up += nbytes
            else:
                self._bytes_down += nbytes
