"""The fault-injecting proxy itself, over real loopback sockets: what other tests' bad-network claims rest on."""

from __future__ import annotations

import contextlib
import http.server
import os
import queue
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.faultproxy import FaultProxy
from tests.waiting import eventually

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")


# Loopback servers


@contextlib.contextmanager
def tcp_server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A threaded server on 127.0.0.1 running ``handle(sock)`` per connection; yields its port."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.settimeout(10)
            with contextlib.suppress(OSError):
                handle(self.request)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Echo:
    """Echoes everything back; on each connection's end, puts all it received in ``received``."""

    def __init__(self) -> None:
        self.received: queue.Queue[bytes] = queue.Queue()

    def __call__(self, sock: socket.socket) -> None:
        got = bytearray()
        try:
            while data := sock.recv(65536):
                got += data
                sock.sendall(data)
        finally:
            self.received.put(bytes(got))


def reply_after_eof(sock: socket.socket) -> None:
    """Reads to the end of the stream, then answers with what it read, reversed: only works if EOF gets through."""
    got = bytearray()
    while data := sock.recv(65536):
        got += data
    sock.sendall(bytes(reversed(got)))


def recv_until_eof(sock: socket.socket, limit: int | None = None) -> bytes:
    """Everything until EOF or a reset (or ``limit`` bytes)."""
    got = bytearray()
    with contextlib.suppress(ConnectionResetError):
        while limit is None or len(got) < limit:
            data = sock.recv(65536 if limit is None else limit - len(got))
            if not data:
                break
            got += data
    return bytes(got)


@pytest.fixture
def echo() -> Iterator[tuple[Echo, int]]:
    handler = Echo()
    with tcp_server(handler) as port:
        yield handler, port


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    yield
    leftover = [t.name for t in threading.enumerate() if t.name.startswith("faultproxy-")]
    assert leftover == []


def connect(proxy: FaultProxy) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


# Plain forwarding


def test_data_passes_intact_both_ways_and_is_counted(echo: tuple[Echo, int]) -> None:
    handler, port = echo
    payload = os.urandom(300_000)
    with FaultProxy("127.0.0.1", port) as proxy, connect(proxy) as sock:
        sender = threading.Thread(target=lambda: (sock.sendall(payload), sock.shutdown(socket.SHUT_WR)))
        sender.start()
        got = recv_until_eof(sock)
        sender.join()
        assert got == payload
        assert handler.received.get(timeout=5) == payload
        assert (proxy.bytes_up, proxy.bytes_down, proxy.connections) == (len(payload), len(payload), 1)
        proxy.reset_counters()
        assert (proxy.bytes_up, proxy.bytes_down, proxy.connections) == (0, 0, 0)


def test_half_close_reaches_the_server() -> None:
    with tcp_server(reply_after_eof) as port, FaultProxy("127.0.0.1", port, latency_s=0.05) as proxy:
        with connect(proxy) as sock:
            sock.sendall(b"abcdef")
            sock.shutdown(socket.SHUT_WR)
            assert recv_until_eof(sock) == b"fedcba"
        assert (proxy.bytes_up, proxy.bytes_down) == (6, 6)
        assert eventually(lambda: not proxy._conns)


def test_http_keep_alive_through_the_proxy_and_a_cut_request() -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = f"hello {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        with FaultProxy("127.0.0.1", server.server_address[1], latency_s=0.01) as proxy, requests.Session() as s:
            for i in range(3):
                response = s.get(f"{proxy.url}/{i}", timeout=5)
                assert response.text == f"hello /{i}"
            assert proxy.connections == 1

            proxy.configure(cut_after_bytes=10, cut_once=True)
            with pytest.raises(requests.ConnectionError):
                requests.get(f"{proxy.url}/cut", timeout=5)
            assert requests.get(f"{proxy.url}/after", timeout=5).text == "hello /after"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# Cuts


def ping_pong(proxy: FaultProxy, rounds: int = 2, size: int = 100) -> tuple[bytes, bytes]:
    """Send ``size`` bytes, wait for their echo, ``rounds`` times, stopping at EOF; return (sent, received)."""
    sent, received = bytearray(), bytearray()
    with connect(proxy) as sock:
        for i in range(rounds):
            message = bytes([i + 1]) * size
            try:
                sock.sendall(message)
            except OSError:
                break
            sent += message
            echoed = recv_until_eof(sock, limit=size)
            received += echoed
            if len(echoed) < size:
                break
    return bytes(sent), bytes(received)


@pytest.mark.parametrize(
    ("n", "server_gets", "client_gets"),
    [
        (1, 1, 0),
        (50, 50, 0),
        (100, 100, 0),  # all of the first message, none of its echo
        (101, 100, 1),
        (150, 100, 50),  # half way through the first echo
        (250, 150, 100),  # into the second message
        (399, 200, 199),
        (400, 200, 200),  # exactly the whole exchange
    ],
)
@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_cut_after_bytes_forwards_exactly_n_bytes(
    echo: tuple[Echo, int], n: int, server_gets: int, client_gets: int, reset: bool
) -> None:
    handler, port = echo
    with FaultProxy("127.0.0.1", port, cut_after_bytes=n, cut_reset=reset) as proxy:
        sent, received = ping_pong(proxy)
        server_received = handler.received.get(timeout=5)
        assert len(server_received) == server_gets
        assert len(received) == client_gets
        assert server_received == sent[:server_gets]
        assert received == server_received[:client_gets]
        # counted by the proxy's threads just after each send: read once they have finished
        assert eventually(lambda: not proxy._conns)
        assert (proxy.bytes_up, proxy.bytes_down) == (server_gets, client_gets)


def test_cut_after_zero_bytes_closes_at_once_without_reaching_the_server(echo: tuple[Echo, int]) -> None:
    handler, port = echo
    with FaultProxy("127.0.0.1", port, cut_after_bytes=0) as proxy, connect(proxy) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(b"hello")
        assert recv_until_eof(sock) == b""
        assert (proxy.connections, proxy.bytes_up, proxy.bytes_down) == (1, 0, 0)
    assert handler.received.empty()


def test_cut_mid_piece_on_a_capped_link(echo: tuple[Echo, int]) -> None:
    handler, port = echo
    payload = os.urandom(10_000)
    with FaultProxy("127.0.0.1", port, bandwidth_bps=2_000_000, cut_after_bytes=3333) as proxy, connect(proxy) as s:
        s.sendall(payload)
        received = recv_until_eof(s)
        server_received = handler.received.get(timeout=5)
        assert len(server_received) + len(received) == 3333
        assert server_received == payload[: len(server_received)]
        assert received == payload[: len(received)]
        assert proxy.bytes_up + proxy.bytes_down == 3333


def test_cut_once_cuts_only_the_next_connection(echo: tuple[Echo, int]) -> None:
    _, port = echo
    with FaultProxy("127.0.0.1", port) as proxy:
        proxy.configure(cut_after_bytes=150, cut_once=True)
        assert ping_pong(proxy)[1] == bytes([1]) * 50
        assert proxy.cut_after_bytes is None
        sent, received = ping_pong(proxy)
        assert received == sent and len(sent) == 200
        assert proxy.connections == 2


# Bandwidth and latency


def test_bandwidth_cap_paces_an_upload() -> None:
    size = 16 * 1024  # 2.05 s at 64 kbit/s
    with tcp_server(reply_after_eof) as port, FaultProxy("127.0.0.1", port, bandwidth_bps=64_000) as proxy:
        with connect(proxy) as sock:
            started = time.monotonic()
            sock.sendall(b"x" * size)
            sock.shutdown(socket.SHUT_WR)
            assert recv_until_eof(sock, limit=1) == b"x"  # the server has had it all
            elapsed = time.monotonic() - started
        assert 1.6 <= elapsed <= 3.5, elapsed
        assert proxy.bytes_up == size


def test_bandwidth_cap_is_shared_by_concurrent_downloads() -> None:
    size = 8 * 1024  # 1.02 s alone at 64 kbit/s

    def send_block(sock: socket.socket) -> None:
        sock.sendall(b"y" * size)

    def download(proxy: FaultProxy, durations: list[float]) -> None:
        started = time.monotonic()
        with connect(proxy) as sock:
            assert len(recv_until_eof(sock)) == size
        durations.append(time.monotonic() - started)

    with tcp_server(send_block) as port, FaultProxy("127.0.0.1", port, bandwidth_bps=64_000) as proxy:
        alone: list[float] = []
        download(proxy, alone)
        together: list[float] = []
        threads = [threading.Thread(target=download, args=(proxy, together)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert 0.8 <= alone[0] <= 1.8, alone
        assert len(together) == 2
        assert 1.6 <= max(together) / alone[0] <= 2.6, (alone, together)
        assert min(together) / alone[0] >= 1.3, (alone, together)  # interleaved, not one after the other
        assert proxy.bytes_down == 3 * size


def test_latency_delays_each_way() -> None:
    with tcp_server(Echo()) as port, FaultProxy("127.0.0.1", port, latency_s=0.2) as proxy, connect(proxy) as sock:
        started = time.monotonic()
        sock.sendall(b"ping")
        assert recv_until_eof(sock, limit=4) == b"ping"
        assert 0.4 <= time.monotonic() - started <= 1.0


def test_connect_delay_holds_only_a_new_connections_first_bytes() -> None:
    """Opening a connection costs ``connect_delay_s`` (a TCP + TLS handshake); its later bytes do not pay again."""
    with (
        tcp_server(Echo()) as port,
        FaultProxy("127.0.0.1", port, connect_delay_s=0.4) as proxy,
        connect(proxy) as sock,
    ):
        started = time.monotonic()
        sock.sendall(b"ping")
        assert recv_until_eof(sock, limit=4) == b"ping"
        first = time.monotonic() - started
        started = time.monotonic()
        sock.sendall(b"pong")
        assert recv_until_eof(sock, limit=4) == b"pong"
        second = time.monotonic() - started
        assert first >= 0.4 and second < 0.4, (first, second)


def test_latency_does_not_serialise_chunks() -> None:
    """Ten messages 20 ms apart arrive ~20 ms apart after one round trip, not one round trip each."""
    with tcp_server(Echo()) as port, FaultProxy("127.0.0.1", port, latency_s=0.2) as proxy, connect(proxy) as sock:

        def send() -> None:
            for i in range(10):
                sock.sendall(bytes([i]) * 10)
                time.sleep(0.02)

        started = time.monotonic()
        sender = threading.Thread(target=send)
        sender.start()
        got = recv_until_eof(sock, limit=100)
        elapsed = time.monotonic() - started
        sender.join()
        assert got == b"".join(bytes([i]) * 10 for i in range(10))
        assert 0.5 <= elapsed <= 1.2, elapsed


# Robustness


def test_a_client_reset_is_passed_on_and_the_proxy_keeps_working(echo: tuple[Echo, int]) -> None:
    handler, port = echo
    with FaultProxy("127.0.0.1", port) as proxy:
        sock = connect(proxy)
        sock.sendall(b"hello")
        assert recv_until_eof(sock, limit=5) == b"hello"
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        assert handler.received.get(timeout=5) == b"hello"
        assert eventually(lambda: not proxy._conns)
        assert ping_pong(proxy)[1] == bytes([1]) * 100 + bytes([2]) * 100


def test_an_unreachable_target_closes_the_client_only() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        dead_port = placeholder.getsockname()[1]
    with FaultProxy("127.0.0.1", dead_port) as proxy:
        try:
            sock = connect(proxy)
        except ConnectionResetError:  # the reset can beat connect() itself
            pass
        else:
            with sock:
                assert recv_until_eof(sock) == b""
        assert eventually(lambda: proxy.connections == 1)
        assert not proxy._conns


def test_stop_closes_live_connections_promptly(echo: tuple[Echo, int]) -> None:
    _, port = echo
    proxy = FaultProxy("127.0.0.1", port, latency_s=0.5).start()
    socks = [connect(proxy) for _ in range(3)]
    for sock in socks:
        sock.sendall(b"in flight")
    assert eventually(lambda: proxy.bytes_up == 0 and len(proxy._conns) == 3)
    started = time.monotonic()
    proxy.stop()
    assert time.monotonic() - started < 1.0
    for sock in socks:
        with sock:
            assert recv_until_eof(sock) == b""
    proxy.stop()  # idempotent


def test_settings_are_validated() -> None:
    proxy = FaultProxy("127.0.0.1", 1)
    with pytest.raises(ValueError, match="latency_s"):
        proxy.configure(latency_s=-1)
    with pytest.raises(ValueError, match="connect_delay_s"):
        proxy.configure(connect_delay_s=-1)
    with pytest.raises(ValueError, match="bandwidth_bps"):
        proxy.configure(bandwidth_bps=0)
    with pytest.raises(ValueError, match="cut_after_bytes"):
        proxy.configure(cut_after_bytes=-1)
    proxy.configure(latency_s=0.1)
    assert (proxy.latency_s, proxy.bandwidth_bps, proxy.cut_after_bytes) == (0.1, None, None)
