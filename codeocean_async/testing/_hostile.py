"""serve_hostile_in_thread: serve an ASGI app over raw sockets, writing its faults' broken bytes.

uvicorn writes only well-formed HTTP, so a fake served by it cannot send a broken status line or
a bad chunk size. This small HTTP/1.1 server (keep-alive; Content-Length and chunked request
bodies) calls the app, writes each body message as it comes (so a trickle trickles), closes the
connection when the app leaves an answer unfinished (a drop), and writes the broken answer a
``Fault.malformed_http`` asks for. It records how long each exchange held its connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.abc
import anyio.from_thread
from anyio.streams.buffered import BufferedByteReceiveStream

from ._wire import MALFORMED_HEADER

__all__ = ["Exchange", "serve_hostile_in_thread"]

_MAX_HEAD = 64 * 1024
_STOP_TIMEOUT = 10.0
_FAKE_PREFIX = b"x-fake-"


def _status_line(status: int) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return b"HTTP/1.1 %d %s" % (status, reason.encode("ascii"))


@dataclass(frozen=True)
class Exchange:
    """One request the hostile server served.

    ``seconds`` runs from the moment the request was read to the moment the answer was written
    in full, the connection was closed (by either side) or the server stopped; ``finished`` says
    whether the whole answer went out; ``malformed`` is the ``Fault.malformed_http`` variant
    written, if any; ``body`` the request's body (to tell the attempts of one request apart).
    """

    method: str
    path: str
    started: float
    seconds: float
    finished: bool
    malformed: str | None = None
    body: bytes = b""


class _PeerGone(OSError):
    """Raised from the app's ``send`` when the client is gone (the ASGI spec lets send raise)."""


def _malformed(variant: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """An answer whose HTTP/1.1 framing is broken as ``variant`` says (the connection then
    closes)."""
    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length",)]
    lines = [_status_line(status)]
    length = b"%d" % len(body)
    if variant == "status_line":
        lines[0] = b"HTTP/1.1 2OO OK"  # letters, not digits
    lines += [k + b": " + v for k, v in kept]
    if variant == "header_line":
        lines.append(b"X-Broken header line without a colon")
    if variant == "chunk_size":
        lines.append(b"Transfer-Encoding: chunked")
        return b"\r\n".join(lines) + b"\r\n\r\nzz\r\n" + body + b"\r\n0\r\n\r\n"
    if variant == "short_body":
        length = b"%d" % (len(body) + 100)
    elif variant == "content_length":
        length = b"twelve"
    lines.append(b"Content-Length: " + length)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class _Server:
    def __init__(self, app: Any, exchanges: list[Exchange] | None) -> None:
        self._app = app
        self._exchanges = exchanges
        self._scope: anyio.CancelScope | None = None

    async def serve(self, host: str, port: int, *, task_status: Any) -> None:
        with anyio.CancelScope() as self._scope:
            listener = await anyio.create_tcp_listener(local_host=host, local_port=port)
            async with listener:
                task_status.started(listener.extra(anyio.abc.SocketAttribute.local_port))
                await listener.serve(self._connection)

    def stop(self) -> None:
        if self._scope is not None:
            self._scope.cancel()

    async def _connection(self, stream: anyio.abc.SocketStream) -> None:
        reader = BufferedByteReceiveStream(stream)
        async with stream:
            keep_alive = True
            while keep_alive:
                try:
                    head = await reader.receive_until(b"\r\n\r\n", _MAX_HEAD)
                    method, target, headers = _parse_head(head)
                    body = await _read_body(reader, headers)
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.DelimiterNotFound):
                    return
                except (OSError, anyio.BrokenResourceError, ValueError):
                    return
                keep_alive = await self._exchange(stream, method, target, headers, body)

    async def _exchange(
        self,
        stream: anyio.abc.SocketStream,
        method: str,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> bool:
        """Serve one request; whether the connection may carry another."""
        started = time.monotonic()
        raw_path, _, query = target.partition(b"?")
        state: dict[str, Any] = {"started": False, "finished": False, "broken": None}
        held: list[bytes] = []
        received = False

        async def receive() -> MutableMapping[str, Any]:
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": body, "more_body": False}
            await anyio.sleep_forever()
            raise AssertionError("unreachable")  # pragma: no cover

        async def write(data: bytes) -> None:
            try:
                await stream.send(data)
            except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
                raise _PeerGone("the client closed the connection") from exc

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                given = list(message.get("headers", []))
                broken = [v for k, v in given if k.lower() == MALFORMED_HEADER]
                out = [(k, v) for k, v in given if not k.lower().startswith(_FAKE_PREFIX)]
                state.update(started=True, status=message["status"], headers=out)
                if broken:
                    state["broken"] = broken[0].decode()
                    return
                lines = [_status_line(message["status"])]
                lines += [k + b": " + v for k, v in out]
                held.append(b"\r\n".join(lines) + b"\r\n\r\n")
            elif message["type"] == "http.response.body":
                held.append(message.get("body", b""))
                if state["broken"] is not None:
                    return
                data, held[:] = b"".join(held), []
                if data:
                    await write(data)
                if not message.get("more_body", False):
                    state["finished"] = True

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote(raw_path.decode("latin-1")),
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": headers,
            "client": stream.extra(anyio.abc.SocketAttribute.remote_address, None),
            "server": stream.extra(anyio.abc.SocketAttribute.local_address, None),
        }
        keep_alive = not any(k == b"connection" and v.lower() == b"close" for k, v in headers)
        try:
            await self._app(scope, receive, send)
            if state["broken"] is not None:
                content = b"".join(held)
                await write(_malformed(state["broken"], state["status"], state["headers"], content))
                state["finished"] = True  # all of it went out, broken as asked
                keep_alive = False
            elif not state["started"]:
                await write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
                keep_alive = False
            elif not state["finished"]:
                keep_alive = False  # the app dropped the connection on purpose
        except _PeerGone:
            keep_alive = False
        except anyio.get_cancelled_exc_class():
            self._record(method, raw_path, body, started, state)
            raise
        except Exception:  # the app's own bug: close, as a server would after its 500
            keep_alive = False
        self._record(method, raw_path, body, started, state)
        return keep_alive

    def _record(
        self, method: str, raw_path: bytes, body: bytes, started: float, state: dict[str, Any]
    ) -> None:
        if self._exchanges is None:
            return
        exchange = Exchange(
            method=method,
            path=unquote(raw_path.decode("latin-1")),
            started=started,
            seconds=time.monotonic() - started,
            finished=bool(state["finished"]),
            malformed=state["broken"],
            body=body,
        )
        self._exchanges.append(exchange)  # list.append is atomic: readers in other threads


def _parse_head(head: bytes) -> tuple[str, bytes, list[tuple[bytes, bytes]]]:
    request_line, *lines = head.split(b"\r\n")
    method, target, version = request_line.split(b" ")
    if not version.startswith(b"HTTP/1."):
        raise ValueError("not HTTP/1.x")
    headers = []
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise ValueError("bad header line")
        headers.append((name.strip().lower(), value.strip()))
    return method.decode("ascii").upper(), target, headers


async def _read_body(
    reader: BufferedByteReceiveStream, headers: list[tuple[bytes, bytes]]
) -> bytes:
    values = dict(headers)
    if b"chunked" in values.get(b"transfer-encoding", b"").lower():
        chunks: list[bytes] = []
        while True:
            size_line = await reader.receive_until(b"\r\n", 1024)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                await reader.receive_until(b"\r\n", _MAX_HEAD)  # no trailers expected
                return b"".join(chunks)
            chunks.append(await reader.receive_exactly(size))
            await reader.receive_exactly(2)
    length = int(values.get(b"content-length", b"0"))
    if length < 0:
        raise ValueError("negative Content-Length")
    return await reader.receive_exactly(length) if length else b""


@contextmanager
def serve_hostile_in_thread(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    exchanges: list[Exchange] | None = None,
) -> Iterator[str]:
    """Serve ``app`` (usually a FakeCodeOcean) over raw sockets and yield its base URL.

    Unlike :func:`serve_in_thread` it writes every fault kind's bytes, ``Fault.malformed_http``
    and ``Fault.trickle`` included, and needs nothing beyond anyio. When ``exchanges`` is given,
    an :class:`Exchange` is appended for each request served. The server runs on its own event
    loop in a thread and stops, cutting every open connection, when the block exits.
    """
    server = _Server(app, exchanges)
    with anyio.from_thread.start_blocking_portal(backend="asyncio") as portal:
        future, bound = portal.start_task(server.serve, host, port)
        shown_host = f"[{host}]" if ":" in host else host
        try:
            yield f"http://{shown_host}:{bound}"
        finally:
            portal.call(server.stop)
            done = threading.Event()
            future.add_done_callback(lambda _f: done.set())
            done.wait(_STOP_TIMEOUT)
