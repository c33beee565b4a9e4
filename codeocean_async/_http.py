"""The one request pipeline: build -> send -> map errors -> structure. Nothing else uses httpx."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, TypeVar, overload

import anyio
import httpx

from ._converter import structure, unstructure
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    ResponseValidationError,
    error_from_response,
)
from ._ids import check_id

__all__ = ["HTTPPipeline"]

T = TypeVar("T")

logger = logging.getLogger("codeocean_async")

_JSON_HEADERS = {"content-type": "application/json"}


class HTTPPipeline:
    """Sends requests to one Code Ocean deployment through one ``httpx.AsyncClient``.

    ``base_url`` ends in ``/api/v1/``; ``headers`` carry auth and identification on every request.
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        base_url: str,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
    ) -> None:
        self._client = client
        self._base_url = base_url
        self._headers = dict(headers)
        self._timeout = timeout
        self.closed = False

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, str] | None = ...,
        params: Mapping[str, str] | None = ...,
        body: Any = ...,
        cast_to: type[T],
    ) -> T: ...

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, str] | None = ...,
        params: Mapping[str, str] | None = ...,
        body: Any = ...,
        cast_to: None = ...,
    ) -> None: ...

    async def request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        cast_to: type[T] | None = None,
    ) -> T | None:
        """Send ``method path`` and return the body structured as ``cast_to`` (``None``: no body).

        ``path`` is a template such as ``"capsules/{capsule_id}"``; each ``path_params`` value is
        checked with ``check_id`` before anything is sent. ``body`` is a model or JSON-shaped data.
        """
        if path_params:
            path = path.format_map({k: check_id(v, k) for k, v in path_params.items()})
        request = self._build(method, path, params=params, body=body)
        response = await self._send(request)
        if not response.is_success:
            raise error_from_response(response)
        if cast_to is None:
            return None
        return _decode(response, cast_to)

    def _build(
        self, method: str, path: str, *, params: Mapping[str, str] | None, body: Any
    ) -> httpx.Request:
        if self.closed:
            raise ClientClosedError("this AsyncCodeOcean client is closed; create a new one")
        headers = self._headers
        content = None
        if body is not None:
            content = json.dumps(unstructure(body), separators=(",", ":")).encode()
            headers = {**headers, **_JSON_HEADERS}
        return self._client.build_request(
            method,
            self._base_url + path,
            params=params,
            content=content,
            headers=headers,
            timeout=self._timeout,
        )

    async def _send(self, request: httpx.Request) -> httpx.Response:
        started = anyio.current_time()
        try:
            response = await self._client.send(request)
        except httpx.TimeoutException as exc:
            _log_failure(request, started, exc)
            raise APITimeoutError(
                f"{request.method} {request.url} timed out ({type(exc).__name__})",
                request=request,
            ) from exc
        except httpx.TransportError as exc:
            _log_failure(request, started, exc)
            raise APIConnectionError(
                f"{request.method} {request.url} failed: {type(exc).__name__}: {exc}",
                request=request,
            ) from exc
        except RuntimeError as exc:
            if self._client.is_closed:
                raise ClientClosedError(
                    "the httpx client passed to AsyncCodeOcean was closed"
                ) from exc
            raise
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.3f s",
                request.method,
                request.url.path,
                response.status_code,
                anyio.current_time() - started,
            )
        return response


def _log_failure(request: httpx.Request, started: float, exc: BaseException) -> None:
    logger.info(
        "%s %s failed after %.3f s: %s",
        request.method,
        request.url.path,
        anyio.current_time() - started,
        type(exc).__name__,
    )


def _decode(response: httpx.Response, cast_to: type[T]) -> T:
    try:
        data = json.loads(response.content)
    except ValueError as exc:
        excerpt = response.text[:200]
        raise ResponseValidationError(
            f"{response.request.method} {response.request.url} answered {response.status_code} "
            f"with a body that is not JSON: {excerpt!r}",
            errors=("not JSON @ $",),
        ) from exc
    try:
        return structure(data, cast_to)
    except ValueError as exc:
        errors = tuple(getattr(exc, "errors", ()))
        raise ResponseValidationError(
            f"{response.request.method} {response.request.url.path}: {exc}", errors=errors
        ) from exc
