"""The aiohttp engine: an httpx transport over aiohttp that never acts on its own, raising httpx's.

Imported only when the aiohttp engine is chosen (it needs the ``aiohttp`` extra). Two things differ
from ``httpx_aiohttp``'s own transport:

- aiohttp's session resends a GET, PUT or DELETE once when the server drops a reused connection.
  That is a retry behind the retry policy's back (a second ``DELETE`` of a computation deletes the
  run the first one stopped), so it is switched off: each request goes out exactly once per
  attempt the policy makes, as on httpx's own pool.
- Every aiohttp error becomes the httpx error httpcore raises for the same thing on the wire: a
  server that disconnects is a ``RemoteProtocolError`` (``httpx_aiohttp`` calls it a connect
  *timeout*), a malformed status line, header, chunk or ``Content-Length`` too (it lets
  ``aiohttp.ClientResponseError`` escape), and a name that does not resolve a ``ConnectError``
  caused by the resolver's ``socket.gaierror``.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import aiohttp
import httpx
from aiohttp.http_exceptions import HttpProcessingError
from httpx_aiohttp import AiohttpTransport
from multidict import CIMultiDict, CIMultiDictProxy

from ._trace import STREAM_BODY, current_trace

__all__ = ["QuietAiohttpTransport", "map_aiohttp_error"]

_CHUNK = 16 * 1024


def map_aiohttp_error(exc: Exception) -> httpx.TransportError:
    """The httpx error httpcore would raise for what ``exc`` says happened on the wire."""
    detail = exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)
    message = " ".join(f"{type(exc).__name__}: {detail}".split())  # aiohttp's span lines
    mapped: type[httpx.TransportError]
    if isinstance(exc, aiohttp.ClientProxyConnectionError | aiohttp.ClientHttpProxyError):
        mapped = httpx.ProxyError
    elif isinstance(exc, aiohttp.ConnectionTimeoutError):
        mapped = httpx.ConnectTimeout  # covers the wait for a pooled connection too
    elif isinstance(exc, aiohttp.ServerTimeoutError):
        mapped = httpx.ReadTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch):
        mapped = httpx.ConnectError  # DNS, refused, TLS: the request was not sent
    elif isinstance(exc, aiohttp.ServerDisconnectedError):
        mapped = httpx.RemoteProtocolError
        message = "Server disconnected without sending a complete response"
    elif isinstance(
        exc, aiohttp.ClientResponseError | aiohttp.ClientPayloadError | HttpProcessingError
    ):
        mapped = httpx.RemoteProtocolError  # a malformed or incomplete answer
    elif isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        mapped = httpx.UnsupportedProtocol
    elif isinstance(exc, TimeoutError):
        mapped = httpx.ReadTimeout
    else:  # any other ClientError or OSError: the connection failed somewhere
        mapped = httpx.ReadError
    return mapped(message)


class _Mapped:
    """Raises aiohttp's errors as the httpx error httpcore would raise (a class, not a
    generator-based context manager: it is entered on every request)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if isinstance(exc, aiohttp.ClientError | HttpProcessingError | OSError):
            _forget_request_headers(exc)
            raise map_aiohttp_error(exc) from exc


_mapped = _Mapped()


def _forget_request_headers(exc: BaseException) -> None:
    """Drop the request's headers from an aiohttp error kept in the chain: its ``repr`` shows
    them, the Authorization header among them."""
    info = getattr(exc, "request_info", None)
    if isinstance(info, aiohttp.RequestInfo):
        bare = aiohttp.RequestInfo(
            info.url, info.method, CIMultiDictProxy(CIMultiDict()), info.real_url
        )
        exc.request_info = bare  # type: ignore[attr-defined]
        exc.args = tuple(bare if arg is info else arg for arg in exc.args)


class _ResponseStream(httpx.AsyncByteStream):
    """The body of an aiohttp response; closing it before the end closes the connection.

    ``body``: the body already read whole (a success with nothing to decode, ``read_first``).
    """

    def __init__(self, response: aiohttp.ClientResponse, body: bytes | None = None) -> None:
        self._response = response
        self._body = body
        self._finished = body is not None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._body is not None:
            yield self._body
            return
        with _mapped:
            async for chunk in self._response.content.iter_chunked(_CHUNK):
                yield chunk
        self._finished = True

    async def aclose(self) -> None:
        if not self._finished:
            self._response.close()  # the rest is discarded: the connection cannot be reused
            return
        with _mapped:
            await self._response.__aexit__(None, None, None)


def _header_items(headers: httpx.Headers) -> list[tuple[str, str]]:
    """The request's headers as aiohttp takes them most cheaply: a list of string pairs."""
    encoding = headers.encoding
    return [(key.decode(encoding), value.decode(encoding)) for key, value in headers.raw]


class QuietAiohttpTransport(AiohttpTransport):
    """``httpx_aiohttp``'s transport with no retry of its own and httpx's exceptions."""

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        """The aiohttp timeout of the request's httpx timeouts (made once per distinct one)."""
        timeout = request.extensions.get("timeout", {})
        key = (timeout.get("connect"), timeout.get("read"), timeout.get("pool"))
        cache: dict[tuple[float | None, float | None, float | None], aiohttp.ClientTimeout]
        cache = self.__dict__.setdefault("_timeouts", {})
        found = cache.get(key)
        if found is None:
            found = cache[key] = aiohttp.ClientTimeout(
                sock_connect=key[0], sock_read=key[1], connect=key[2]
            )
        return found

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        session = self.client
        data = request.content or None
        trace = current_trace.get()
        if trace is not None:
            trace.traced = True  # its sessions report when the request goes out
        with _mapped:
            response = await session.request(
                method=request.method,
                url=str(request.url),
                headers=_header_items(request.headers),
                data=data,
                allow_redirects=False,
                auto_decompress=False,  # httpx decodes, as on its own pool
                compress=False,
                timeout=self._timeout(request),
                proxy=str(self.proxy.url) if self.proxy else None,
            ).__aenter__()
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        body = None
        if _read_first(response) and not request.extensions.get(STREAM_BODY):
            try:
                with _mapped:
                    body = await response.read()
            except BaseException:
                response.close()  # cut off, or cancelled: the connection cannot be reused
                raise
        answer = httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, body),
            request=request,
            extensions=extensions,
        )
        if body is not None:
            answer._content = body  # read, as httpx keeps a read body
        return answer


def _read_first(response: aiohttp.ClientResponse) -> bool:
    """Whether to read the body whole before handing the answer over: a success with nothing
    to decode, which the pipeline reads whole anyway (aiohttp's own ``read``, without httpx's
    chain of async iterators over its chunks). An error's body is read only in part, and an
    encoded one is decoded by the pipeline within bounds: those stay streams."""
    return 200 <= response.status < 300 and "Content-Encoding" not in response.headers


def quiet_transport(
    *, verify: ssl.SSLContext | str | bool, limits: httpx.Limits
) -> QuietAiohttpTransport:
    """The aiohttp engine's transport, its sessions traced and without a retry of their own."""
    transport = QuietAiohttpTransport(verify=verify, limits=limits, trust_env=True)
    transport.client = _traced_session(transport.ssl_context, limits)
    return transport


class _TracedRequest(aiohttp.ClientRequest):
    """An aiohttp request that reports, as httpcore's ``send_request_headers.started`` does, when
    it starts going out: ``send`` runs once a connection is ready, in the task that sends it, so
    it finds that request's ``WireTrace`` in a context variable (cheaper than aiohttp's
    ``TraceConfig``, whose signals cost about a tenth of a request's client CPU)."""

    def send(self, conn: Any) -> Coroutine[Any, Any, aiohttp.ClientResponse]:
        trace = current_trace.get()
        if trace is not None and self.method != "CONNECT":  # not a proxy's tunnel
            trace.sending = True
        return super().send(conn)  # aiohttp's own coroutine: no frame of ours around it


def _traced_session(ssl_context: ssl.SSLContext, limits: httpx.Limits) -> Any:
    """A factory of aiohttp sessions that report, as httpcore does, when a request went out.

    The engine marks each request's ``WireTrace`` as traced before handing it to aiohttp, and
    ``_TracedRequest`` marks it as sending. Without this, a refused connection could not be
    told from a request that arrived.
    """

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=ssl_context,
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry,
        )
        created = aiohttp.ClientSession(connector=connector, request_class=_TracedRequest)
        # aiohttp resends an idempotent request once when a reused connection drops (RFC 9112
        # 9.3.1 allows it); the retry policy alone decides here. There is no public switch.
        if hasattr(created, "_retry_connection"):  # aiohttp 3.10 has no such resend
            created._retry_connection = False
        return created

    return session
