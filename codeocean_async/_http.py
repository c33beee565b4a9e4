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

from ._config import RetryPolicy
from ._converter import structure, unstructure
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
from ._retry import LaunchGate, OnRetry, WireTrace, current_trace, may_have_acted, retry_delay
from ._status import error_from_response, excerpt
from ._wire import connection_error, read_answer

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
        #: The transport of an httpx client this SDK created: requests go to it directly,
        #: skipping the client layer (cookies, hooks, redirects) that nothing here uses. A
        #: caller's client is always used through ``send()``, so its hooks and auth apply.
        self._transport = transport
        self._base_url = base_url
        self._headers = dict(headers)
        #: Every spelling of the credentials in ``headers``: cleared from every error and log.
        self.secrets = Secrets.of_headers(self._headers)
        self.timeout = timeout
        self._timeout_extension = timeout.as_dict()
        self.retry = retry
        self._closed = False
        self._original: HTTPPipeline | None = None  # set on copies: closing it closes them too
        self.launch_gate = LaunchGate()
        #: The last ``Date`` header the server sent, with the local time it arrived: the server's
        #: clock, to compare a launch time with the ``created`` times the server reports.
        self.last_server_date: tuple[str, float] | None = None

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
        copy.secrets = self.secrets
        copy._original = self
        return copy

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
            return None if cast_to is None else _decode(response, cast_to, self.secrets)
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
        try:
            if self._transport is not None:
                return httpx.Request(
                    method,
                    self._base_url + path,
                    params=params,
                    content=content,
                    headers=headers,
                    extensions={"timeout": self._timeout_extension},
                )
            return self._client.build_request(
                method,
                self._base_url + path,
                params=params,
                content=content,
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.InvalidURL as exc:  # nothing was sent
            raise ValueError(
                f"{method} {path}: {_culprit(self._base_url + path, params)} makes the request "
                f"URL invalid ({exc})"
            ) from None

    async def _send_within_budget(
        self, request: httpx.Request, idempotent: bool, launch: bool, on_retry: OnRetry | None
    ) -> httpx.Response:
        """``_send_with_retries`` under the retry budget, a hard deadline on the whole request.

        Only this scope's own deadline becomes an error; a cancellation of the caller's passes.
        """
        policy = self.retry
        progress = _Progress()
        with anyio.CancelScope(deadline=anyio.current_time() + policy.timeout):
            return await self._send_with_retries(request, idempotent, launch, on_retry, progress)
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
        progress: _Progress,
    ) -> httpx.Response:
        policy = self.retry
        gate = self.launch_gate if launch else None
        if gate is not None:
            await gate.wait()
        started = time.monotonic()
        # The first attempt goes out directly: most requests succeed, and setting up the retry
        # machinery costs more than the request's own bookkeeping. Only a failure enters stamina,
        # which replays it as attempt 1 and decides (and waits) from there.
        try:
            return await self._send_once(request, 1, progress)
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
            if time.monotonic() - started + delay > policy.timeout:
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
                return await self._send_once(request, attempt.num, progress)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    async def _send_once(
        self, request: httpx.Request, attempt: int, progress: _Progress
    ) -> httpx.Response:
        """One attempt, bounded as a whole by ``RetryPolicy.attempt_timeout``."""
        trace = WireTrace()
        bound = self.retry.attempt_timeout
        with anyio.CancelScope(deadline=anyio.current_time() + bound):
            try:
                return await self._attempt(request, attempt, trace)
            finally:
                progress.maybe_sent |= trace.maybe_sent_so_far()
        logger.info(
            "%s %s got no complete answer within %g s (attempt %d)",
            request.method,
            request.url.path,
            bound,
            attempt,
        )
        raise APITimeoutError(
            f"{request.method} {self.secrets.text(str(request.url))}: no complete answer within "
            f"{bound:g} s (RetryPolicy.attempt_timeout)",
            request=request,
            maybe_sent=trace.maybe_sent_so_far(),
        )

    async def _attempt(
        self, request: httpx.Request, attempt: int, trace: WireTrace
    ) -> httpx.Response:
        request.extensions["trace"] = trace  # httpcore reports here; aiohttp through the var
        token = current_trace.set(trace)
        started = time.monotonic()
        try:
            if self._transport is not None:
                response = await self._transport.handle_async_request(request)
                response.request = request
            else:
                response = await self._client.send(request, stream=True)
            try:
                answer = await read_answer(response, self.secrets)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            error = connection_error(exc, request, trace, self.secrets)
            logger.info(
                "%s %s failed after %.3f s (attempt %d, %s): %s",
                request.method,
                request.url.path,
                time.monotonic() - started,
                attempt,
                "may have reached the server" if error.maybe_sent else "never sent",
                type(exc).__name__,
            )
            raise error from exc
        except RuntimeError as exc:
            if self._client.is_closed:
                raise ClientClosedError(
                    "the httpx client of this AsyncCodeOcean is closed"
                ) from exc
            raise
        finally:
            current_trace.reset(token)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.3f s (attempt %d)",
                request.method,
                request.url.path,
                answer.status_code,
                time.monotonic() - started,
                attempt,
            )
        date = answer.headers.get("date")
        if date is not None:
            self.last_server_date = (date, time.time())
        if not answer.is_success:
            raise error_from_response(answer, self.secrets)
        return answer


class _Progress:
    """What the attempts of one request did so far: whether any may have reached the server."""

    __slots__ = ("maybe_sent",)

    def __init__(self) -> None:
        self.maybe_sent = False


def _culprit(url: str, params: Mapping[str, str] | None) -> str:
    """Which query parameter makes ``url`` invalid (IDs in the path are checked before)."""
    for name, value in (params or {}).items():
        try:
            httpx.URL(url, params={name: value})
        except httpx.InvalidURL:
            return f"the parameter {name!r}"
    return "a parameter"


_NO_SECRETS = Secrets(())


def _decode(response: httpx.Response, cast_to: type[T], secrets: Secrets = _NO_SECRETS) -> T:
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
