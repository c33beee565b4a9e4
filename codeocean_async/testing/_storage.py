"""FakeStorage: the second fake host, serving the files the fake's signed URLs point at.

Like S3 behind a presigned URL, it serves an object to a GET (``Range`` honoured) whose query
carries a valid, unexpired signature, and refuses with 403 a request that carries an
``Authorization`` header (S3 refuses a second authentication), a bad signature, or one expired
on the fake's clock. It records every request it receives, headers and all, so a test can show
that Code Ocean's token never reached it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx

from ._clock import Clock

__all__ = ["DEFAULT_STORAGE_URL", "FakeStorage", "StorageRequest"]

#: Where the signed URLs point until a test serves the storage elsewhere (``base_url``).
DEFAULT_STORAGE_URL = "http://storage.codeocean.test"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class StorageRequest:
    """One request the storage received: method, path, query and every header (lower-case
    names, ``authorization`` included when one was sent)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class FakeStorage:
    """The storage host of a :class:`FakeCodeOcean` (``fake.storage``), an ASGI app.

    In process, ``fake.transport()`` sends requests for ``base_url``'s host here. Over sockets,
    serve it on its own and tell it where it is before asking for URLs::

        with serve_in_thread(fake.storage) as storage_url, serve_in_thread(fake) as url:
            fake.storage.base_url = storage_url

    ``lifetime``: seconds a signed URL stays valid on the fake's clock.
    """

    def __init__(self, clock: Clock, *, lifetime: float = 600.0) -> None:
        self.clock = clock
        self.base_url = DEFAULT_STORAGE_URL
        self.lifetime = lifetime
        self._key = secrets.token_bytes(16)
        self._objects: dict[str, bytes] = {}
        self._requests: list[StorageRequest] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FakeStorage(base_url={self.base_url!r}, objects={len(self._objects)})"

    @property
    def requests(self) -> list[StorageRequest]:
        """Every request received, in order (a copy)."""
        with self._lock:
            return list(self._requests)

    def put(self, key: str, content: bytes) -> None:
        """Store ``content`` under ``key`` (a path without a leading ``/``)."""
        with self._lock:
            self._objects[key] = bytes(content)

    def sign(self, key: str, *, disposition: str = "attachment") -> str:
        """A URL to ``key`` valid for ``lifetime`` seconds from now on the fake's clock."""
        expires = f"{self.clock.now() + self.lifetime:.3f}"
        signature = self._signature(key, expires, disposition)
        path = quote(key, safe="/")
        return (
            f"{self.base_url.rstrip('/')}/{path}?X-Fake-Expires={expires}"
            f"&X-Fake-Disposition={disposition}&X-Fake-Signature={signature}"
        )

    def serves(self, url: httpx.URL) -> bool:
        """Whether ``url`` is on this storage's host."""
        base = httpx.URL(self.base_url)
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)

    def _signature(self, key: str, expires: str, disposition: str) -> str:
        signed = f"{key}\n{expires}\n{disposition}".encode()
        return hmac.new(self._key, signed, hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":  # startup
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            raise ValueError(f"FakeStorage serves http only, not {scope['type']!r}")
        while (await receive()).get("more_body", False):
            pass
        headers: dict[str, str] = {}
        for name, value in scope.get("headers", ()):
            headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), True))
        method, key = str(scope["method"]).upper(), str(scope["path"]).lstrip("/")
        with self._lock:
            self._requests.append(StorageRequest(method, scope["path"], query, headers))
            content = self._objects.get(key)
        status, extra, body = self._answer(method, key, query, headers, content)
        await _send(send, status, extra, body if method == "GET" else b"")

    def _answer(
        self,
        method: str,
        key: str,
        query: dict[str, str],
        headers: dict[str, str],
        content: bytes | None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if method not in ("GET", "HEAD"):
            return _error(405, "MethodNotAllowed", "only GET and HEAD are served")
        if "authorization" in headers:
            return _error(
                403, "InvalidArgument", "Only one auth mechanism allowed: the URL is signed"
            )
        expires, signature = query.get("X-Fake-Expires", ""), query.get("X-Fake-Signature", "")
        disposition = query.get("X-Fake-Disposition", "")
        if not hmac.compare_digest(signature, self._signature(key, expires, disposition)):
            return _error(403, "SignatureDoesNotMatch", "The request signature is not valid")
        if float(expires) < self.clock.now():
            return _error(403, "AccessDenied", "Request has expired")
        if content is None:
            return _error(404, "NoSuchKey", "The specified key does not exist.")
        kind = "inline" if disposition == "inline" else "attachment"
        extra = [
            ("content-type", "application/octet-stream"),
            ("content-disposition", f'{kind}; filename="{key.rpartition("/")[2]}"'),
            ("accept-ranges", "bytes"),
        ]
        wanted = _RANGE.fullmatch(headers.get("range", "").strip())
        if wanted is None or not any(wanted.groups()):
            return 200, extra, content
        size = len(content)
        first, last = wanted.groups()
        start = int(first) if first else max(size - int(last), 0)
        end = min(int(last), size - 1) if first and last else size - 1
        if start >= size:
            status, extra, body = _error(416, "InvalidRange", "The range is not satisfiable")
            return status, [*extra, ("content-range", f"bytes */{size}")], body
        extra.append(("content-range", f"bytes {start}-{end}/{size}"))
        return 206, extra, content[start : end + 1]


def _error(status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}"
    return status, [("content-type", "application/xml")], (body + "</Message></Error>").encode()


async def _send(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw: list[tuple[bytes, bytes]] = [(k.encode(), v.encode()) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    start: MutableMapping[str, Any] = {"type": "http.response.start", "status": status}
    start["headers"] = raw
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
