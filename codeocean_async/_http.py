"""The one request pipeline: build -> send -> retry -> map errors -> structure.

Nothing else in the package talks to httpx. Whether a failed request may have reached the server
is judged by what happened on the wire (httpcore's trace events), not by the exception's name.
Every request ends: the retry budget is a hard deadline on the whole of it, and each attempt has
its own bound (``RetryPolicy.timeout``, ``RetryPolicy.attempt_timeout``). The pipeline knows no
operation: a caller with rules of its own (launching, ``_launch``) brings them as hooks.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar, overload

import anyio
import httpx

from ._attempt import OutOfBudget, Progress, Sender
from ._before_send import BeforeSend, wait_within
from ._body import json_body
from ._config import RetryPolicy
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    ClientClosedError,
)
from ._ids import check_id
from ._operations import Operation
from ._redact import Secrets
from ._retry import OnRetry, gone_after_resend, next_retry
from ._sender import ClientRoute, Route, TransportRoute
from ._status import version_refusal
from ._wire import culprit, decode

__all__ = ["HTTPPipeline"]

T = TypeVar("T")

logger = logging.getLogger("codeocean_async")

_rng = random.Random()


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
        retry: RetryPolicy,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = client
        self._transport = transport
        self._base_url = base_url
        self._headers = dict(headers)
        #: Every spelling of the credentials: cleared from every error and log line.
        self.secrets = Secrets.of_headers(self._headers)
        self._sender = Sender(secrets=self.secrets)
        self.timeout = timeout
        self._route: Route = (
            ClientRoute(client=client, headers=self._headers, timeout=timeout)
            if transport is None
            else TransportRoute(
                client=client,
                transport=transport,
                base_url=base_url,
                headers=self._headers,
                timeout=timeout,
            )
        )
        self.retry = retry
        self._closed = False
        self._original: HTTPPipeline | None = None  # set on copies: closing it closes them too

    def copy(self, *, timeout: httpx.Timeout, retry: RetryPolicy) -> HTTPPipeline:
        """A pipeline over the same httpx client with other settings (``with_options``),
        sharing the secrets and the last ``Date`` header seen (``last_date``)."""
        copy = HTTPPipeline(
            client=self._client,
            base_url=self._base_url,
            headers=self._headers,
            timeout=timeout,
            retry=retry,
            transport=self._transport,
        )
        copy._sender, copy.secrets = self._sender, self.secrets
        copy._original = self
        return copy

    @property
    def last_date(self) -> tuple[str, float] | None:
        """The last ``Date`` header any answer carried, with the local time it arrived."""
        return self._sender.last_date

    @property
    def closed(self) -> bool:
        """Whether this client, or the one it is a copy of, was closed."""
        return self._closed or (self._original is not None and self._original.closed)

    def close(self) -> None:
        """Refuse every further request, here and in every copy made from this one."""
        self._closed = True

    def engine_for(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        """The engine under the httpx client for ``url``, bare: none of its headers or hooks."""
        return self._client._transport_for_url(url)

    async def request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        cast_to: type[T] | None = None,
        idempotent: bool | None = None,
        before_send: BeforeSend | None = None,
        on_retry: OnRetry | None = None,
        min_version: str | None = None,
        operation: str | None = None,
    ) -> Any:
        """Send ``method path``, retrying by policy, and return the body as ``cast_to``.

        ``path`` is a template such as ``"capsules/{capsule_id}"``; each ``path_params`` value is
        checked with ``check_id`` before anything is sent. ``body`` is a model or JSON-shaped data.
        ``idempotent`` (default: every method but POST) says whether the request may be resent
        after it may have reached the server. ``before_send`` is asked before each attempt how
        long the request must still wait (``BeforeSend``); ``on_retry`` is told of each retry
        before it happens. ``min_version`` is sent as ``Min-Server-Version`` (``None``: the
        client's default); a refusal for version reasons raises ``ServerVersionError`` naming
        ``operation``.
        """
        if path_params:
            path = path.format_map({k: check_id(v, k) for k, v in path_params.items()})
        request = self._build(method, path, params=params, body=body, min_version=min_version)
        safe = method != "POST" if idempotent is None else idempotent
        try:
            response = await self._send_within_budget(request, safe, before_send, on_retry)
        except BadRequestError as exc:
            refused = version_refusal(exc, operation or f"{method} {path}", min_version)
            if refused is None:
                raise
            raise refused from exc
        return None if cast_to is None else decode(response, cast_to, self.secrets)

    @overload
    def call(
        self,
        op: Operation,
        *,
        path_params: Mapping[str, str] | None = ...,
        params: Mapping[str, str] | None = ...,
        body: Any = ...,
        cast_to: type[T],
        idempotent: bool | None = ...,
        before_send: BeforeSend | None = ...,
        on_retry: OnRetry | None = ...,
    ) -> Awaitable[T]: ...

    @overload
    def call(
        self,
        op: Operation,
        *,
        path_params: Mapping[str, str] | None = ...,
        params: Mapping[str, str] | None = ...,
        body: Any = ...,
        cast_to: None = ...,
        idempotent: bool | None = ...,
        before_send: BeforeSend | None = ...,
        on_retry: OnRetry | None = ...,
    ) -> Awaitable[None]: ...

    def call(
        self,
        op: Operation,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        cast_to: type[T] | None = None,
        idempotent: bool | None = None,
        before_send: BeforeSend | None = None,
        on_retry: OnRetry | None = None,
    ) -> Awaitable[T | None]:
        """``request`` for the operation ``op`` (``_operations``): its method, path and
        ``Min-Server-Version``, and its name in a refusal for version reasons. It hands back
        ``request``'s own coroutine, no frame of its own around it (each layer of coroutines
        costs again on every resumption)."""
        return self.request(
            op.method,
            op.path,
            path_params=path_params,
            params=params,
            body=body,
            cast_to=cast_to,
            idempotent=idempotent,
            before_send=before_send,
            on_retry=on_retry,
            min_version=op.min_version,
            operation=op.name,
        )

    def _build(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None,
        body: Any,
        min_version: str | None = None,
    ) -> httpx.Request:
        if self.closed:
            raise ClientClosedError("this AsyncCodeOcean client is closed; create a new one")
        if self._client.is_closed:  # a caller's client, or a with_options copy's original
            raise ClientClosedError("the httpx client of this AsyncCodeOcean is closed")
        content = None if body is None else json_body(body)
        try:
            return self._route.build(
                method,
                self._base_url + path,
                params=params,
                content=content,
                min_version=min_version,
            )
        except httpx.InvalidURL as exc:  # nothing was sent
            raise ValueError(
                f"{method} {path}: {culprit(self._base_url + path, params)} makes the request "
                f"URL invalid ({exc})"
            ) from None

    async def _send_within_budget(
        self,
        request: httpx.Request,
        idempotent: bool,
        before_send: BeforeSend | None,
        on_retry: OnRetry | None,
    ) -> httpx.Response:
        """The retry loop under the retry budget, a hard deadline on the whole request: one
        attempt after another, each after its wait (``_before_send``), until one is answered
        with a success or the retry table says stop.

        Only the budget's own deadline becomes an error; a cancellation of the caller's passes.
        """
        policy = self.retry
        progress = Progress()
        started = anyio.current_time()
        deadline = started + policy.timeout
        now: float | None = started  # the clock as last read, while it still holds
        route, send = self._route, self._sender.send
        bound = policy.attempt_timeout
        attempt, delay = 1, 0.0
        try:
            while True:
                if (delay or before_send is not None) and await wait_within(
                    deadline, request, delay, before_send
                ):
                    now = None  # it waited: the attempt reads the clock itself
                try:
                    return await send(
                        route,
                        request,
                        attempt=attempt,
                        bound=bound,
                        budget=deadline,
                        progress=progress,
                        now=now,
                    )
                except (APIConnectionError, APIStatusError) as exc:
                    if (gone := gone_after_resend(exc, attempt, progress.maybe_sent)) is not None:
                        return gone
                    next_delay = next_retry(
                        exc, request, attempt, idempotent, deadline, policy, _rng
                    )
                    if next_delay is None:
                        raise
                    if on_retry is not None:
                        on_retry(exc, next_delay, attempt)
                attempt, delay, now = attempt + 1, next_delay, None
        except OutOfBudget:
            pass
        raise APITimeoutError(
            f"{request.method} {self.secrets.text(str(request.url))}: no answer within the retry "
            f"budget of {policy.timeout:g} s (RetryPolicy.timeout)",
            request=request,
            maybe_sent=progress.maybe_sent,
        )
