"""What the wire did to a request, as the exception tree says it: read, map failures, decode.

A success body is read whole; an error body up to ``ERROR_BODY_MAX`` (the rest is discarded and
the connection closed). Every error httpx raises on the way (the engine's are httpx's by now,
``_aiohttp_engine``) becomes an ``APIConnectionError`` (``maybe_sent`` judged from the wire trace,
a host that does not resolve named and not retried) or, for a body that arrived but cannot be
decoded, a ``ResponseValidationError``. No message shows a secret or runs past a few hundred
characters.
"""

from __future__ import annotations

import json
import socket
import zlib
from collections.abc import Mapping
from typing import TypeVar

import httpx

from ._config import ERROR_BODY_MAX
from ._converter import structure
from ._errors import APIConnectionError, APITimeoutError, ResponseValidationError
from ._redact import REDACTED, Secrets
from ._status import excerpt, shorten
from ._trace import WireTrace

__all__ = ["connection_error", "culprit", "decode", "read_answer", "undecodable"]

T = TypeVar("T")

_CAUSE_CHARS = 200
#: Headers that describe the body as it was on the wire, not as it is once read and decoded.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
#: getaddrinfo's "try again later": the resolver failed, not the name.
_TRANSIENT_RESOLUTION = frozenset(
    code for code in (getattr(socket, "EAI_AGAIN", None),) if code is not None
)


async def read_answer(response: httpx.Response, secrets: Secrets) -> httpx.Response:
    """``response`` read: a success whole; an error up to ``ERROR_BODY_MAX`` bytes, on the wire
    and decoded alike (the rest never read), as a new response cleared of ``secrets`` (body,
    header values, reason phrase, and its request without the ``Authorization`` header).

    A success body that cannot be decoded (bad gzip) raises ``ResponseValidationError``; for an
    error answer the status wins, with what could be decoded of its body.
    """
    if not response.is_success:
        try:
            content = response.content[:ERROR_BODY_MAX]  # an in-process transport hands it read
        except httpx.ResponseNotRead:
            raw = await _read_raw(response, ERROR_BODY_MAX)
            content = _decoded(raw, response.headers.get("content-encoding"), ERROR_BODY_MAX)
        return _cleared(response, content, secrets)
    if hasattr(response, "_content"):
        return response  # read already, and decoded if it had to be (by the engine, in process)
    if response.headers.get("content-encoding", "identity") == "identity":
        # Nothing to decode, so nothing can fail halfway down the chain: the body is read
        # straight off the engine's stream (httpx's chain of decoders and chunkers costs more
        # than the rest of a small answer's reading), and kept where httpx keeps a read body.
        response._content = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
        return response
    raw = await _read_raw(response, None)
    # Decoded here, in one synchronous step: a decoder failing inside httpx's chain of
    # async generators would leave the ones below it suspended (trio warns of them).
    try:
        return _holding(response, raw, response.headers.multi_items())
    except httpx.DecodingError as exc:
        raise undecodable(exc, response, secrets) from exc


def _decoded(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """At most ``limit`` bytes of ``raw`` decoded by its ``Content-Encoding`` (gzip, deflate),
    decompressed no further than that: a small bomb cannot fill memory or hold the event loop.
    ``b""`` when it cannot be decoded (an error's status says enough)."""
    data = raw
    for name in reversed([e.strip().lower() for e in (encoding or "").split(",") if e.strip()]):
        if name == "identity":
            continue
        if name not in ("gzip", "x-gzip", "deflate"):
            return b""  # an encoding the client did not ask for
        # deflate is sent zlib-wrapped or raw; httpx tries both, and so does this.
        tries = (zlib.MAX_WBITS | 16,) if name != "deflate" else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
        for wbits in tries:
            try:
                data = zlib.decompressobj(wbits).decompress(data, limit)
                break
            except zlib.error:
                continue
        else:
            return b""
    return data[:limit]


def _cleared(response: httpx.Response, content: bytes, secrets: Secrets) -> httpx.Response:
    """An error answer holding ``content``, cleared of ``secrets`` wherever a server may have
    echoed them, and without the request's credentials."""
    headers = [
        (k, secrets.text(v)) for k, v in response.headers.multi_items() if k not in _WIRE_HEADERS
    ]
    read = _holding(response, content, headers)
    text = read.text
    cleared = secrets.text(text)
    if cleared != text:
        content = cleared.encode(read.encoding or "utf-8", "replace")
    extensions = dict(response.extensions)
    reason = extensions.get("reason_phrase")
    if isinstance(reason, bytes):
        phrase = secrets.text(reason.decode("ascii", "replace"))
        extensions["reason_phrase"] = phrase.encode("ascii", "replace")
    request = response.request
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=httpx.Request(
            request.method,
            request.url,
            headers=[
                (k, REDACTED if k.lower() == "authorization" else v)
                for k, v in request.headers.multi_items()
            ],
        ),
        extensions=extensions,
    )


def _holding(
    response: httpx.Response, content: bytes, headers: list[tuple[str, str]]
) -> httpx.Response:
    """A response like ``response`` holding ``content`` (decoded now by ``headers``' encoding)."""
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=response.request,
        extensions=response.extensions,
    )


async def _read_raw(response: httpx.Response, limit: int | None) -> bytes:
    """The body as it came off the wire, whole or its first ``limit`` bytes.

    At the limit the response is closed (its connection with it, the rest unread), and the
    stream is then run to its end, which comes at once as a read error: every async generator
    of the chain finishes, none is left suspended.
    """
    kept: list[bytes] = []
    size = 0
    closed = False
    try:
        async for chunk in response.aiter_raw():
            if closed:
                continue
            kept.append(chunk)
            size += len(chunk)
            if limit is not None and size >= limit:
                closed = True
                await response.aclose()
    except httpx.TransportError:
        if not closed:
            raise
    body = b"".join(kept)
    return body if limit is None else body[:limit]


def undecodable(
    exc: httpx.DecodingError, response: httpx.Response, secrets: Secrets
) -> ResponseValidationError:
    """A success body that arrived but cannot be decoded (its ``Content-Encoding`` lies)."""
    request = response.request
    encoding = secrets.text(response.headers.get("content-encoding", "none"))
    secrets.chain(exc)
    # Cleared before they are cut, so no part of a secret survives a cut.
    return ResponseValidationError(
        f"{request.method} {secrets.text(str(request.url))} answered {response.status_code} "
        f"with a body that cannot be decoded (Content-Encoding: {shorten(encoding, 40)}): "
        f"{shorten(secrets.text(str(exc)), _CAUSE_CHARS)}",
        errors=("undecodable body @ $",),
    )


def connection_error(
    exc: httpx.TransportError, request: httpx.Request, trace: WireTrace, secrets: Secrets
) -> APIConnectionError:
    """The tree's error for a transport failure of ``request``.

    ``exc`` and its causes are cleared of the secrets first (they may quote what the server
    sent), and every text is cleared before it is cut, so no part of a secret survives a cut.
    """
    secrets.chain(exc)
    url = secrets.text(str(request.url))
    detail = shorten(" ".join(secrets.text(str(exc)).split()), _CAUSE_CHARS)
    host = unresolved_host(exc, request)
    if host is not None:
        return APIConnectionError(
            f"{request.method} {url} failed: could not resolve host {host} ({detail})",
            request=request,
            maybe_sent=False,
            retryable=_transient_resolution(exc),
        )
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    return cls(
        f"{request.method} {url} failed: {type(exc).__name__}: {detail}",
        request=request,
        maybe_sent=trace.maybe_sent(exc),
    )


def unresolved_host(exc: BaseException, request: httpx.Request) -> str | None:
    """The request's host when ``exc`` comes from a name that did not resolve, else ``None``."""
    if not isinstance(exc, httpx.ConnectError):
        return None
    return request.url.host if _gaierror(exc) is not None else None


def _transient_resolution(exc: BaseException) -> bool:
    error = _gaierror(exc)
    return error is not None and error.errno in _TRANSIENT_RESOLUTION


def _gaierror(exc: BaseException) -> socket.gaierror | None:
    """The resolver's error somewhere in the chain of causes of ``exc``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, socket.gaierror):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def culprit(url: str, params: Mapping[str, str] | None) -> str:
    """Which query parameter makes ``url`` invalid (IDs in the path are checked before)."""
    for name, value in (params or {}).items():
        try:
            httpx.URL(url, params={name: value})
        except httpx.InvalidURL:
            return f"the parameter {name!r}"
    return "a parameter"


_NO_SECRETS = Secrets(())


def decode(response: httpx.Response, cast_to: type[T], secrets: Secrets = _NO_SECRETS) -> T:
    """A 2xx body structured as ``cast_to``, or ``ResponseValidationError`` naming each path."""
    request = response.request
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        # Cleared before it is cut, so no part of a secret survives the cut.
        start = secrets.text(response.content[:4096].decode("utf-8", errors="replace"))
        raise ResponseValidationError(
            f"{request.method} {secrets.text(str(request.url))} answered "
            f"{response.status_code} with a body that is not JSON: {excerpt(start)!r}",
            errors=("not JSON @ $",),
        ) from exc
    try:
        return structure(data, cast_to)
    except ValueError as exc:
        errors = tuple(secrets.text(e) for e in getattr(exc, "errors", ()))
        raise ResponseValidationError(
            secrets.text(f"{request.method} {request.url.path}: {exc}"), errors=errors
        ) from exc
