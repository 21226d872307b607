"""A TCP forwarder on 127.0.0.1 that tests re-point, the way a primary endpoint moves.

ElastiCache's primary endpoint is a DNS name that moves to the new primary after a
failover; connections opened before the move stay with the node they reached. Locally
this forwarder plays that name: new connections go to its current target, and
:meth:`Forwarder.repoint` says what becomes of the open ones (kept on the old node, cut,
or frozen as to a host that vanished without a reset).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from typing import Literal

Old = Literal["keep", "cut", "freeze"]


class _Link:
    """One client connection and its upstream socket, pumped by one thread."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.frozen = threading.Event()
        self.parked = threading.Event()  # the pump saw ``frozen``: no byte passes any more
        self.closed = threading.Event()

    def pump(self) -> None:
        pair = {self.client: self.upstream, self.upstream: self.client}
        try:
            while not self.closed.is_set():
                if self.frozen.is_set():  # bytes stay unread: the peer sees silence
                    self.parked.set()
                    self.closed.wait(0.05)
                    continue
                ready, _, _ = select.select(list(pair), [], [], 0.05)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)
        except OSError:
            return
        finally:
            self.close()

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class Forwarder:
    """Listen on a free port of 127.0.0.1 and forward each connection to ``target``."""

    def __init__(self, target: int) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._links: list[_Link] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    @property
    def url(self) -> str:
        return f"valkey://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                target = self.target
            try:
                upstream = socket.create_connection(("127.0.0.1", target), timeout=1.0)
            except OSError:  # nothing listens there: refuse, as a dead address does
                client.close()
                continue
            for sock in (client, upstream):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, upstream)
            thread = threading.Thread(target=link.pump, daemon=True)
            with self._lock:
                self._links.append(link)
                self._threads.append(thread)
            thread.start()

    def repoint(self, target: int, old: Old = "keep") -> int:
        """Send new connections to ``target``; ``old`` connections stay on their node
        (``keep``), are closed (``cut``), or stop passing bytes (``freeze``). Returns how
        many were open."""
        with self._lock:
            self.target = target
            links = [link for link in self._links if not link.closed.is_set()]
            self._links = list(links)
        for link in links:
            if old == "cut":
                link.close()
            elif old == "freeze":
                link.frozen.set()
        for link in links:  # frozen for sure once each pump has finished its last pass
            while old == "freeze" and not (link.parked.is_set() or link.closed.is_set()):
                link.parked.wait(timeout=0.01)
        return len(links)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._accepting.join(timeout=5)
        with self._lock:
            links, threads = list(self._links), list(self._threads)
        for link in links:
            link.close()
        for thread in threads:
            thread.join(timeout=5)

    def __enter__(self) -> Forwarder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
