"""FakeTransport: httpx's ASGI transport, raising as a socket would when the fake drops a link."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import httpx

from ._asgi import Receive, Scope, Send
from ._wire import DROPPED, DROPPED_HEADER

__all__ = ["FakeTransport"]

_DROPPED_MESSAGE = "Server disconnected without sending a complete response"


class _FinishUnfinished:
    """Wraps an ASGI app so that an answer it left unfinished still ends (ASGITransport needs
    that); the ``x-fake-dropped`` header then tells :class:`FakeTransport` to raise."""

    def __init__(self, app: Any) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = finished = False

        async def watch(message: MutableMapping[str, Any]) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        token = DROPPED.set(False)
        try:
            await self._app(scope, receive, watch)
        finally:
            DROPPED.reset(token)  # ASGITransport runs the app in the caller's context
        if started and not finished:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


class FakeTransport(httpx.AsyncBaseTransport):
    """An ``httpx.ASGITransport`` to a fake that raises ``httpx.RemoteProtocolError`` when the
    fake dropped the connection, as httpx does over a socket; requests for the ``storage``
    host (``FakeStorage.serves``) go to that app instead."""

    def __init__(self, app: Any, *, storage: Any = None) -> None:
        self._asgi = httpx.ASGITransport(app=_FinishUnfinished(app))
        self._storage = storage
        self._storage_asgi = None if storage is None else httpx.ASGITransport(app=storage)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._storage_asgi is not None and self._storage.serves(request.url):
            return await self._storage_asgi.handle_async_request(request)
        response = await self._asgi.handle_async_request(request)
        if DROPPED_HEADER.decode() in response.headers:
            await response.aclose()
            raise httpx.RemoteProtocolError(_DROPPED_MESSAGE, request=request)
        return response

    async def aclose(self) -> None:
        await self._asgi.aclose()
        if self._storage_asgi is not None:
            await self._storage_asgi.aclose()
