"""The one request pipeline: build -> send -> retry -> map errors -> structure.

Nothing else in the package talks to httpx. Whether a failed request may have reached the server
is judged by what happened on the wire (httpcore's trace events), not by the exception's name.
Every request ends: the retry budget is a hard deadline on the whole of it, and each attempt has
its own bound (``RetryPolicy.timeout``, ``RetryPolicy.attempt_timeout``).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping
from typing import Any, TypeVar, overload

import anyio
import httpx
import stamina

from ._attempt import Progress, Sender
from ._config import RetryPolicy
from ._converter import unstructure
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    LaunchUncertainError,
    RateLimitError,
    ResponseValidationError,
)
from ._ids import check_id
from ._redact import Secrets
from ._retry import LaunchGate, OnRetry, may_have_acted, retry_delay
from ._wire import culprit, decode

__all__ = ["HTTPPipeline"]

T = TypeVar("T")

logger = logging.getLogger("codeocean_async")

_JSON_HEADERS = {"content-type": "application/json"}
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
        self._sender = Sender(client=client, transport=transport, secrets=self.secrets)
        self.timeout = timeout
        self._timeout_extension = timeout.as_dict()
        self.retry = retry
        self._closed = False
        self._original: HTTPPipeline | None = None  # set on copies: closing it closes them too
        self.launch_gate = LaunchGate()

    def copy(self, *, timeout: httpx.Timeout, retry: RetryPolicy) -> HTTPPipeline:
        """A pipeline over the same httpx client with other settings (``with_options``).

        It shares the launch gate and what it learns of the server's clock.
        """
        copy = HTTPPipeline(
            client=self._client,
            base_url=self._base_url,
            headers=self._headers,
            timeout=timeout,
            retry=retry,
            transport=self._transport,
        )
        copy.launch_gate = self.launch_gate
        copy._sender, copy.secrets = self._sender, self.secrets
        copy._original = self
        return copy

    @property
    def last_server_date(self) -> tuple[str, float] | None:
        """The last ``Date`` header the server sent, with the local time it arrived."""
        return self._sender.last_server_date

    @property
    def closed(self) -> bool:
        """Whether this client, or the one it is a copy of, was closed."""
        return self._closed or (self._original is not None and self._original.closed)

    def close(self) -> None:
        """Refuse every further request, here and in every copy made from this one."""
        self._closed = True

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
        idempotent: bool | None = ...,
        launch: bool = ...,
        on_retry: OnRetry | None = ...,
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
        idempotent: bool | None = ...,
        launch: bool = ...,
        on_retry: OnRetry | None = ...,
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
        idempotent: bool | None = None,
        launch: bool = False,
        on_retry: OnRetry | None = None,
    ) -> T | None:
        """Send ``method path``, retrying by policy, and return the body as ``cast_to``.

        ``path`` is a template such as ``"capsules/{capsule_id}"``; each ``path_params`` value is
        checked with ``check_id`` before anything is sent. ``body`` is a model or JSON-shaped data.
        ``idempotent`` (default: every method but POST) says whether the request may be resent
        after it may have reached the server. ``launch`` marks a request that starts work: when it
        may have acted but gave no answer, ``LaunchUncertainError`` is raised; every launch waits
        for the client's launch gate, which a 429 on any launch closes. ``on_retry`` is told of
        each retry before it happens.
        """
        if path_params:
            path = path.format_map({k: check_id(v, k) for k, v in path_params.items()})
        request = self._build(method, path, params=params, body=body)
        safe = (method != "POST" if idempotent is None else idempotent) and not launch
        sent_at = time.time()
        try:
            response = await self._send_within_budget(request, safe, launch, on_retry)
            return None if cast_to is None else decode(response, cast_to, self.secrets)
        except (APIConnectionError, APIStatusError, ResponseValidationError) as exc:
            if launch and may_have_acted(exc):
                logger.warning(
                    "%s %s may or may not have started a computation: %s",
                    method,
                    request.url.path,
                    exc,
                )
                raise LaunchUncertainError(
                    f"the run request may or may not have started a computation ({exc}); "
                    "it was not resent. Check the capsule's computations before running again, "
                    "or pass on_uncertain='reconcile'.",
                    request=request,
                    sent_at=sent_at,
                ) from exc
            raise

    def _build(
        self, method: str, path: str, *, params: Mapping[str, str] | None, body: Any
    ) -> httpx.Request:
        if self.closed:
            raise ClientClosedError("this AsyncCodeOcean client is closed; create a new one")
        if self._client.is_closed:  # a caller's client, or a with_options copy's original
            raise ClientClosedError("the httpx client of this AsyncCodeOcean is closed")
        headers = self._headers
        content = None
        if body is not None:
            content = json.dumps(unstructure(body), separators=(",", ":")).encode()
            headers = {**headers, **_JSON_HEADERS}
        fields: dict[str, Any] = {"params": params, "content": content, "headers": headers}
        try:
            if self._transport is not None:
                timeout = {"timeout": self._timeout_extension}
                return httpx.Request(method, self._base_url + path, **fields, extensions=timeout)
            return self._client.build_request(
                method, self._base_url + path, **fields, timeout=self.timeout
            )
        except httpx.InvalidURL as exc:  # nothing was sent
            raise ValueError(
                f"{method} {path}: {culprit(self._base_url + path, params)} makes the request "
                f"URL invalid ({exc})"
            ) from None

    async def _send_within_budget(
        self, request: httpx.Request, idempotent: bool, launch: bool, on_retry: OnRetry | None
    ) -> httpx.Response:
        """``_send_with_retries`` under the retry budget, a hard deadline on the whole request.

        Only this scope's own deadline becomes an error; a cancellation of the caller's passes.
        """
        policy = self.retry
        progress = Progress()
        deadline = anyio.current_time() + policy.timeout
        with anyio.CancelScope(deadline=deadline):
            return await self._send_with_retries(
                request, idempotent, launch, on_retry, progress, deadline
            )
        raise APITimeoutError(  # the scope caught its own deadline: nothing else gets here
            f"{request.method} {self.secrets.text(str(request.url))}: no answer within the retry "
            f"budget of {policy.timeout:g} s (RetryPolicy.timeout)",
            request=request,
            maybe_sent=progress.maybe_sent,
        )

    async def _send_with_retries(
        self,
        request: httpx.Request,
        idempotent: bool,
        launch: bool,
        on_retry: OnRetry | None,
        progress: Progress,
        deadline: float,
    ) -> httpx.Response:
        policy = self.retry
        gate = self.launch_gate if launch else None
        if gate is not None:
            await gate.wait()
        send = self._sender.send
        bound = policy.attempt_timeout
        # The first attempt goes out directly: most requests succeed, and setting up the retry
        # machinery costs more than the request's own bookkeeping. Only a failure enters stamina,
        # which replays it as attempt 1 and decides (and waits) from there.
        try:
            return await send(request, attempt=1, bound=bound, progress=progress)
        except (APIConnectionError, APIStatusError) as exc:
            if policy.attempts == 1:
                raise
            first_failure: BaseException | None = exc
        attempt_number = 1

        def backoff_hook(exc: Exception) -> bool | float:
            if attempt_number >= policy.attempts:
                return False  # that was the last attempt
            delay = retry_delay(
                exc, retry_number=attempt_number, policy=policy, idempotent=idempotent, rng=_rng
            )
            if delay is None:
                return False
            if anyio.current_time() + delay > deadline:
                return False  # the retry would end past the budget: give up now
            logger.warning(
                "retrying %s %s in %.2f s (attempt %d of %d failed: %s)",
                request.method,
                request.url.path,
                delay,
                attempt_number,
                policy.attempts,
                exc,
            )
            if gate is not None and isinstance(exc, RateLimitError):
                gate.hold(delay)  # every other launch waits too: the limit is per user
            if on_retry is not None:
                on_retry(exc, delay, attempt_number)
            return delay

        async for attempt in stamina.retry_context(
            on=backoff_hook, attempts=policy.attempts, timeout=None
        ):
            with attempt:
                attempt_number = attempt.num
                if first_failure is not None:
                    failure, first_failure = first_failure, None
                    raise failure
                if gate is not None:
                    await gate.wait()
                return await send(request, attempt=attempt.num, bound=bound, progress=progress)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover
