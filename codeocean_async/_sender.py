"""How a request reaches the engine: one interface over the SDK's own transport and a caller's
httpx client.

``TransportRoute`` serves an httpx client this SDK created: requests are built from a pre-parsed
base URL and prebuilt headers and go straight to its transport, skipping the client layer
(cookies, hooks, redirects) that nothing here uses. ``ClientRoute`` serves a caller's
``httpx.AsyncClient``: requests are built and sent through it, so its hooks, auth, headers and
params apply. Both return the answer as a stream, its body not read yet.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from typing import Any, Protocol

import httpx
from httpx._content import ByteStream

from ._transport import AutoTransport

__all__ = ["ClientRoute", "Route", "TransportRoute"]

#: A path made only of these needs no quoting: httpx would send it exactly as written.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~/]*")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_URLS_KEPT = 1024
_NO_BODY = ByteStream(b"")
_VERSION = "min-server-version"


class Route(Protocol):
    """Where a pipeline's requests go: one of the two routes below."""

    client: httpx.AsyncClient

    def build(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        content: bytes | None,
        min_version: str | None = None,
    ) -> httpx.Request:
        """The request for ``method url`` (``httpx.InvalidURL`` if ``url`` is not one), with
        ``Min-Server-Version: min_version`` (``None``: the headers' own)."""
        ...

    def send(self, request: httpx.Request) -> Awaitable[httpx.Response]:
        """Send ``request``; the answer comes back streaming, its body unread (and its
        ``request`` perhaps not set: the caller sets it)."""
        ...


def _header_list(headers: Mapping[str, str], json_body: bool) -> list[tuple[str, str]]:
    items = list(headers.items())
    return [*items, ("content-type", "application/json")] if json_body else items


def _with_version(headers: Mapping[str, str], version: str | None) -> dict[str, str]:
    """``headers`` asking for ``Min-Server-Version: version`` (``None``: as they are)."""
    if version is None:
        return dict(headers)
    return {**{k: v for k, v in headers.items() if k.lower() != _VERSION}, _VERSION: version}


def _known(headers: httpx.Headers) -> httpx.Headers:
    """``headers`` with their encoding worked out now, not again on every request that
    reads them (httpx tries each header against each encoding until one fits)."""
    headers.encoding = headers.encoding
    return headers


class _HeaderSet:
    """The headers of one ``Min-Server-Version``, laid out as httpx lays them out: Host first,
    then ours, then the body's own (prebuilt ``httpx.Headers``, and plain dicts for requests
    built the ordinary way)."""

    __slots__ = ("empty_body", "json", "json_dict", "plain", "plain_dict")

    def __init__(self, headers: dict[str, str], host: tuple[str, str]) -> None:
        self.plain_dict = headers
        self.json_dict = dict(_header_list(headers, True))
        self.plain = _known(httpx.Headers([host, *_header_list(headers, False)]))
        self.empty_body = _known(httpx.Headers([host, ("Content-Length", "0"), *headers.items()]))
        self.json = _known(httpx.Headers([host, *_header_list(headers, True)]))


class TransportRoute:
    """Requests built here, sent straight to the transport of an httpx client this SDK owns."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        transport: httpx.AsyncBaseTransport,
        base_url: str,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
    ) -> None:
        self.client = client
        self._transport = transport
        self._engine: httpx.AsyncBaseTransport | None = None
        self._base_url = base_url
        self._base = httpx.URL(base_url)
        self._given = dict(headers)
        self._timeout = timeout.as_dict()
        #: The header sets of each ``Min-Server-Version`` asked for, built once.
        self._sets: dict[str | None, _HeaderSet] = {}
        #: Each plain path's URL, built once (httpx URLs are immutable); bounded.
        self._urls: dict[str, httpx.URL] = {}
        self._encoding = self._headers_for(None).json.encoding
        self._fast = self._fast_path_works()

    def _headers_for(self, version: str | None) -> _HeaderSet:
        found = self._sets.get(version)
        if found is None:
            host = ("Host", self._base.netloc.decode("ascii"))
            found = self._sets[version] = _HeaderSet(_with_version(self._given, version), host)
        return found

    def _fast_path_works(self) -> bool:
        """Whether requests built from the pre-parsed base and prebuilt headers equal httpx's
        own (httpx's internals may change: if they do, every request is built the ordinary
        way)."""
        url, body = self._base_url + "capsules/0a-Z_.~/x", b'{"a":1}'
        try:
            headers = self._headers_for(None)
            ours = self._fast_build("POST", "capsules/0a-Z_.~/x", body, {}, headers)
            theirs = httpx.Request("POST", url, headers=headers.json_dict, content=body)
            return (str(ours.url), ours.headers.raw, ours.content) == (
                str(theirs.url),
                theirs.headers.raw,
                theirs.content,
            )
        except Exception:  # pragma: no cover - an httpx whose internals differ
            return False

    def _url(self, path: str) -> httpx.URL:
        """``base_url + path`` without parsing it again: only for a path needing no quoting."""
        url = self._urls.get(path)
        if url is None:
            url = httpx.URL.__new__(httpx.URL)
            reference = self._base._uri_reference
            url._uri_reference = reference._replace(path=reference.path + path)
            if len(self._urls) >= _URLS_KEPT:
                self._urls.clear()  # paths with IDs in them are many: keep the recent ones
            self._urls[path] = url
        return url

    def build(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        content: bytes | None,
        min_version: str | None = None,
    ) -> httpx.Request:
        extensions = {"timeout": self._timeout}
        headers = self._headers_for(min_version)
        path = url[len(self._base_url) :] if url.startswith(self._base_url) else None
        if not self._fast or params or path is None or not _PLAIN_PATH.fullmatch(path):
            return httpx.Request(
                method,
                url,
                params=params,
                content=content,
                headers=headers.plain_dict if content is None else headers.json_dict,
                extensions=extensions,
            )
        return self._fast_build(method, path, content, extensions, headers)

    def _fast_build(
        self,
        method: str,
        path: str,
        content: bytes | None,
        extensions: dict[str, Any],
        headers: _HeaderSet,
    ) -> httpx.Request:
        """The request for a plain ``path``: nothing parsed, the body held as read."""
        if content is None:
            request = httpx.Request(
                method,
                self._url(path),
                headers=headers.empty_body if method in _BODY_METHODS else headers.plain,
                stream=_NO_BODY,
                extensions=extensions,
            )
        else:
            request = httpx.Request(
                method,
                self._url(path),
                headers=headers.json,  # copied by the request: nothing to parse
                stream=ByteStream(content),
                extensions=extensions,
            )
            request.headers["Content-Length"] = str(len(content))
        request.headers.encoding = self._encoding  # known: not worked out again per request
        request._content = content or b""  # held as read (``read()`` would ask typing's ABCs)
        return request

    def send(self, request: httpx.Request) -> Awaitable[httpx.Response]:
        # The engine's own coroutine, no frame of ours around it: each layer of coroutines
        # costs again on every resumption.
        engine = self._engine
        if engine is None:  # resolved on the first request, in the running event loop
            transport = self._transport
            engine = transport.resolve() if isinstance(transport, AutoTransport) else transport
            self._engine = engine
        return engine.handle_async_request(request)


class ClientRoute:
    """Requests built and sent through a caller's ``httpx.AsyncClient`` (its settings apply)."""

    def __init__(
        self, *, client: httpx.AsyncClient, headers: Mapping[str, str], timeout: httpx.Timeout
    ) -> None:
        self.client = client
        self._given = dict(headers)
        self._sets: dict[str | None, tuple[dict[str, str], dict[str, str]]] = {}
        self._timeout = timeout

    def build(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        content: bytes | None,
        min_version: str | None = None,
    ) -> httpx.Request:
        found = self._sets.get(min_version)
        if found is None:
            given = _with_version(self._given, min_version)
            found = self._sets[min_version] = (given, dict(_header_list(given, True)))
        headers = found[0] if content is None else found[1]
        return self.client.build_request(
            method, url, params=params, content=content, headers=headers, timeout=self._timeout
        )

    def send(self, request: httpx.Request) -> Awaitable[httpx.Response]:
        return self.client.send(request, stream=True)
