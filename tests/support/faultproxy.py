"""A TCP proxy on 127.0.0.1 that injects faults between a client and a server (e.g. Dovecot).

Controls are plain methods and take effect immediately, also on open connections:
``pass_through()`` clears every fault, ``set_latency(s)`` delays each chunk from the server,
``reset_after(n)`` lets n more server bytes through on each connection then resets it (TCP RST),
``refuse()`` closes the listening socket so connections are refused like a server that is down,
and ``accept()`` listens again on the same port.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import struct
import threading
from types import TracebackType

log = logging.getLogger(__name__)

CHUNK = 65536


class _Connection:
    """One proxied client connection and its upstream connection."""

    def __init__(self, proxy: FaultProxy, client: socket.socket, upstream: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.budget: int | None = proxy._reset_budget
        self.closed = False
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._pump_upstream, name="faultproxy-up", daemon=True),
            threading.Thread(target=self._pump_downstream, name="faultproxy-down", daemon=True),
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _pump_upstream(self) -> None:
        """Client to server, unchanged."""
        try:
            while data := self.client.recv(CHUNK):
                self.upstream.sendall(data)
            self.upstream.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()

    def _pump_downstream(self) -> None:
        """Server to client, with latency and the reset budget applied."""
        try:
            while data := self.upstream.recv(CHUNK):
                latency = self.proxy.latency
                if latency > 0 and self.proxy._stopping.wait(latency):
                    break
                with self._lock:
                    budget = self.budget
                    if budget is not None:
                        data = data[:budget]
                        self.budget = budget - len(data)
                if data:
                    self.client.sendall(data)
                    self.proxy._count(len(data))
                if budget is not None and self.budget == 0:
                    self.close(reset=True)
                    return
            self.client.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.close()

    def arm(self, budget: int | None) -> None:
        """Allow budget more server bytes (None: unlimited) before resetting."""
        with self._lock:
            self.budget = budget

    def close(self, reset: bool = False) -> None:
        """Close both sides; with reset the client gets a TCP RST instead of a FIN."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        # Forget it before the client can see the close, so counts are exact when it does.
        self.proxy._forget(self)
        for sock in (self.client, self.upstream):
            if reset:
                # SO_LINGER with a zero timeout makes close() send RST.
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if reset:
            # SHUT_RD sends nothing on the wire but wakes a pump blocked in recv();
            # SHUT_RDWR would send a FIN ahead of the RST.
            for sock in (self.client, self.upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RD)
        for sock in (self.client, self.upstream):
            sock.close()


class FaultProxy:
    """A threaded TCP proxy from 127.0.0.1:port to target_host:target_port with fault controls."""

    host = "127.0.0.1"

    def __init__(self, target_host: str, target_port: int, port: int = 0) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = port
        self.latency = 0.0
        self.accepted = 0
        self.bytes_from_server = 0
        self._reset_budget: int | None = None
        self._connections: set[_Connection] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._accept_thread: threading.Thread | None = None
        self._pump_threads: list[threading.Thread] = []

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        """Start accepting connections."""
        self.accept()
        return self

    def accept(self) -> None:
        """Listen (again, on the same port) after refuse(); no-op when already listening."""
        if self._stopping.is_set():
            raise RuntimeError("proxy is closed")
        if self._accept_thread is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))
            listener.listen(64)
        except OSError:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accept_thread = threading.Thread(
            target=self._accept_loop, args=(listener,), name="faultproxy-accept", daemon=True
        )
        self._accept_thread.start()

    def refuse(self, drop_existing: bool = True) -> None:
        """Stop listening so new connections are refused; by default also drop open ones."""
        self._stop_accepting()
        if drop_existing:
            self.drop_connections()

    def close(self) -> None:
        """Stop listening, close every connection and join every thread."""
        self._stopping.set()
        self._stop_accepting()
        self.drop_connections()
        for thread in self._pump_threads:
            thread.join(5)
        self._pump_threads.clear()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- fault controls ---------------------------------------------------------------------
    def pass_through(self) -> None:
        """Clear latency and reset faults (refusal is undone with accept())."""
        self.latency = 0.0
        self.reset_after(None)

    def set_latency(self, seconds: float) -> None:
        """Delay every chunk the server sends by seconds (a slow server)."""
        self.latency = max(0.0, seconds)

    def reset_after(self, nbytes: int | None) -> None:
        """On every open and new connection, reset after nbytes more from the server (None: off)."""
        with self._lock:
            self._reset_budget = nbytes
            connections = list(self._connections)
        for connection in connections:
            connection.arm(nbytes)

    def drop_connections(self) -> None:
        """Close every open connection and wait for its threads."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.close()
            for thread in connection.threads:
                if thread is not threading.current_thread() and thread.ident is not None:
                    thread.join(5)

    @property
    def open_connections(self) -> int:
        """How many client connections are open now."""
        with self._lock:
            return len(self._connections)

    # -- internals --------------------------------------------------------------------------
    def _stop_accepting(self) -> None:
        thread, self._accept_thread = self._accept_thread, None
        if thread is None:
            return
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        thread.join(5)
        # Drain the wake-up byte so the next accept loop does not stop at once.
        self._wake_r.setblocking(False)
        with contextlib.suppress(OSError):
            self._wake_r.recv(64)
        self._wake_r.setblocking(True)
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def _accept_loop(self, listener: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake_r in ready:
                    return
                try:
                    client, _ = listener.accept()
                except OSError:
                    return
                self._open(client)

    def _open(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection((self.target_host, self.target_port), timeout=10)
            upstream.settimeout(None)
        except OSError as exc:
            log.info("fault proxy: upstream %s:%s unreachable: %s", *self._target, exc)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            return
        connection = _Connection(self, client, upstream)
        with self._lock:
            connection.budget = self._reset_budget
            self._connections.add(connection)
            self._pump_threads = [t for t in self._pump_threads if t.is_alive()]
            self._pump_threads.extend(connection.threads)
            self.accepted += 1
        connection.start()

    @property
    def _target(self) -> tuple[str, int]:
        return self.target_host, self.target_port

    def _forget(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _count(self, nbytes: int) -> None:
        with self._lock:
            self.bytes_from_server += nbytes
