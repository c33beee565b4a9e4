"""A small hostile HTTP server on raw loopback sockets, for wire-level tests.

It runs in a thread with blocking sockets, so it serves asyncio and trio tests alike. Each request
is read whole (request line, headers, a ``Content-Length`` body) and recorded; the handler then
says what goes back as a sequence of steps: ``bytes`` are sent, a ``float`` sleeps that many
seconds, ``CLOSE`` closes the connection. A connection that is not closed is kept alive for its
next request. Everything is bounded: the server stops by itself after ``lifetime`` seconds, every
socket has a timeout, and leaving the ``with`` block closes every connection.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import attrs

__all__ = ["CLOSE", "Request", "Step", "WireServer", "response", "serve"]


class _Close:
    def __repr__(self) -> str:
        return "CLOSE"


#: A step that closes the connection.
CLOSE = _Close()

Step = bytes | float | _Close


@attrs.frozen
class Request:
    """One request as it arrived: method, path, headers (lower-case names), body, connection."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int  #: 0 for the first connection accepted, 1 for the next, ...
    number_on_connection: int  #: 0 for the first request on its connection


Handler = Callable[[Request], Iterable[Step]]


def response(
    status: int = 200,
    body: bytes = b"{}",
    *,
    headers: dict[str, str] | None = None,
    reason: str = "OK",
) -> bytes:
    """A well-formed HTTP/1.1 response with a ``Content-Length`` (unless headers set one)."""
    fields = {"content-type": "application/json", **(headers or {})}
    lower = {k.lower() for k in fields}
    if "content-length" not in lower and "transfer-encoding" not in lower:
        fields["content-length"] = str(len(body))
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return head.encode("latin-1") + b"\r\n" + body


class WireServer:
    """The running server: ``url`` to send to, ``requests`` as they arrived."""

    def __init__(self, handler: Handler, *, lifetime: float) -> None:
        self._handler = handler
        self._deadline = time.monotonic() + lifetime
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.requests: list[Request] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def count(self, method: str) -> int:
        """How many requests with ``method`` arrived."""
        with self._lock:
            return sum(r.method == method for r in self.requests)

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _accept_loop(self) -> None:
        number = 0
        try:
            while self._running():
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                conn.settimeout(0.05)
                with self._lock:
                    self._sockets.append(conn)
                thread = threading.Thread(target=self._serve, args=(conn, number), daemon=True)
                number += 1
                self._threads.append(thread)
                thread.start()
        finally:
            self._listener.close()

    def _recv(self, conn: socket.socket) -> bytes:
        while self._running():
            try:
                return conn.recv(65536)
            except TimeoutError:
                continue
        return b""

    def _serve(self, conn: socket.socket, connection: int) -> None:
        buffer = b""
        try:
            for number in range(10_000):
                while b"\r\n\r\n" not in buffer:
                    data = self._recv(conn)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                line, *lines = head.decode("latin-1").split("\r\n")
                method, path, _version = line.split(" ", 2)
                headers = {}
                for field in lines:
                    name, _, value = field.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                while len(buffer) < length:
                    data = self._recv(conn)
                    if not data:
                        return
                    buffer += data
                body, buffer = buffer[:length], buffer[length:]
                request = Request(method, path, headers, body, connection, number)
                with self._lock:
                    self.requests.append(request)
                for step in self._handler(request):
                    if not self._running():
                        return
                    if isinstance(step, _Close):
                        return
                    if isinstance(step, bytes):
                        conn.sendall(step)
                    else:
                        self._stop.wait(step)
        except OSError:
            return
        finally:
            conn.close()

    def start(self) -> None:
        thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:  # wakes a blocked accept() or recv() at once
            for sock in [self._listener, *self._sockets]:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=2)
        with self._lock:
            for conn in self._sockets:
                conn.close()


@contextmanager
def serve(handler: Handler, *, lifetime: float = 15.0) -> Iterator[WireServer]:
    """Serve ``handler`` on a loopback port for at most ``lifetime`` seconds."""
    server = WireServer(handler, lifetime=lifetime)
    server.start()
    try:
        yield server
    finally:
        server.stop()
