"""ASGI plumbing for the fake: read a request, record it, check auth and version, route, answer."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from ._routes import HTTPError, Reply, Request, match_route
from ._store import RecordedRequest, Store

__all__ = ["Message", "Receive", "Scope", "Send", "handle_http", "lifespan", "version_tuple"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_VERSION = re.compile(r"\d+(\.\d+){0,3}")
_PREFIX = ["", "api", "v1"]


def version_tuple(text: str) -> tuple[int, ...] | None:
    """``"4.8.0"`` -> ``(4, 8, 0, 0)``; None when malformed."""
    if not _VERSION.fullmatch(text.strip()):
        return None
    parts = [int(p) for p in text.strip().split(".")]
    return tuple(parts + [0] * (4 - len(parts)))


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer the lifespan protocol: nothing to start or stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def handle_http(
    store: Store, *, token: str, server_version: str, scope: Scope, receive: Receive, send: Send
) -> None:
    """Serve one HTTP request against ``store``."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    reply, extra = _answer(store, token, server_version, scope, b"".join(chunks))
    content = b"" if reply.body is None else json.dumps(reply.body).encode()
    headers = [(b"content-length", str(len(content)).encode())]
    if reply.body is not None:
        headers.append((b"content-type", b"application/json"))
    headers.extend(extra)
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def _answer(
    store: Store, token: str, server_version: str, scope: Scope, raw_body: bytes
) -> tuple[Reply, list[tuple[bytes, bytes]]]:
    headers: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        name, text = key.decode("latin-1").lower(), value.decode("latin-1")
        headers[name] = f"{headers[name]}, {text}" if name in headers else text
    auth_ok = _auth_ok(token, headers.pop("authorization", None))
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), True))
    method = str(scope["method"]).upper()
    with store.lock:
        store.requests.append(
            RecordedRequest(method, scope["path"], query, headers, auth_ok, _parse(raw_body))
        )
    raw_path = scope.get("raw_path") or scope["path"].encode()
    segments = [unquote(s) for s in raw_path.split(b"?")[0].decode("latin-1").split("/")]
    try:
        if not auth_ok:
            raise HTTPError(401, "Unauthorized: a valid access token is required")
        _check_min_version(server_version, headers.get("min-server-version"))
        route = match_route(segments[3:]) if segments[:3] == _PREFIX else None
        if route is None:
            raise HTTPError(404, "Not found")
        handlers, params = route
        handler = handlers.get(method)
        if handler is None:
            allow = ", ".join(sorted(handlers)).encode()
            return Reply(405, {"message": f"Method {method} not allowed"}), [(b"allow", allow)]
        return handler(store, Request(method, params, query, raw_body)), []
    except HTTPError as exc:
        return Reply(exc.status, {"message": exc.message}), []


def _auth_ok(token: str, authorization: str | None) -> bool:
    """HTTP Basic with username = token and an empty password."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        return False
    return hmac.compare_digest(decoded, f"{token}:".encode())


def _check_min_version(server_version: str, header: str | None) -> None:
    if header is None:
        return
    wanted, have = version_tuple(header), version_tuple(server_version)
    if wanted is None:
        raise HTTPError(400, f"malformed Min-Server-Version header {header!r}")
    if have is not None and wanted > have:
        raise HTTPError(
            400, f"server version {server_version} is lower than Min-Server-Version {header}"
        )


def _parse(raw: bytes) -> Any:
    """A recorded body: parsed JSON, the raw text when not JSON, None when empty."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
