"""ASGI plumbing for the fake: read a request, record it, apply its fault, check auth, route."""

from __future__ import annotations

import base64
import binascii
import email.utils
import hmac
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

import anyio

from ._drift import drift
from ._fault_plan import FaultPlan
from ._records import RecordedRequest
from ._router import match_route
from ._routes import HTTPError, Reply, Request
from ._store import Store
from ._wire import send_answer, send_refusal

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
    store: Store,
    faults: FaultPlan,
    *,
    token: str,
    server_version: str,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Serve one HTTP request against ``store``, with the fault ``faults`` picks for it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    raw_body = b"".join(chunks)
    method = str(scope["method"]).upper()
    fault = faults.take(method, scope["path"])
    headers: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        name, text = key.decode("latin-1").lower(), value.decode("latin-1")
        headers[name] = f"{headers[name]}, {text}" if name in headers else text
    authorization = headers.pop("authorization", None)
    auth_ok = _auth_ok(token, authorization)
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), True))
    kind = None if fault is None else fault.kind
    with store.lock:
        store.requests.append(
            RecordedRequest(method, scope["path"], query, headers, auth_ok, _parse(raw_body), kind)
        )
    if fault is not None and not fault.acts:
        await send_refusal(send, fault, authorization)
        return
    if fault is not None and fault.kind == "slow":
        await anyio.sleep(fault.seconds)
    reply, extra = _answer(store, server_version, scope, method, headers, auth_ok, query, raw_body)
    # The server's clock, as a real server reports it: the one its `created` times come from.
    extra.append((b"date", email.utils.formatdate(store.epoch(), usegmt=True).encode("latin-1")))
    body = drift(reply.body) if kind == "drift" and reply.body is not None else reply.body
    content = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        extra.insert(0, (b"content-type", b"application/json"))
    await send_answer(send, reply.status, extra, content, fault, authorization)


def _answer(
    store: Store,
    server_version: str,
    scope: Scope,
    method: str,
    headers: dict[str, str],
    auth_ok: bool,
    query: dict[str, str],
    raw_body: bytes,
) -> tuple[Reply, list[tuple[bytes, bytes]]]:
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
