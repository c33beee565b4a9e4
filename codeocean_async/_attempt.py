"""One attempt of a request: sent through the engine, bounded as a whole, its answer judged.

``Sender`` is shared by a pipeline and its ``with_options`` copies: the secrets to clear from
what comes back, and the last ``Date`` header an answer carried. The request goes out by the
pipeline's route (``_sender``): the SDK's own transport or a caller's httpx client.
"""

from __future__ import annotations

import logging
import time

import anyio
import httpx

from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    ResponseValidationError,
)
from ._redact import Secrets
from ._sender import Route
from ._status import error_from_response
from ._trace import WireTrace, current_trace
from ._wire import connection_error, read_answer

__all__ = ["OutOfBudget", "Progress", "Sender"]

logger = logging.getLogger("codeocean_async")


class Progress:
    """What the attempts of one request did so far: whether any may have reached the server
    without an answer (so that running out of time may have left it acting)."""

    __slots__ = ("maybe_sent",)

    def __init__(self) -> None:
        self.maybe_sent = False


class OutOfBudget(Exception):
    """The request's retry budget ran out (the pipeline raises its ``APITimeoutError``)."""


class Sender:
    """Sends attempts by a route (``_sender.Route``) and judges what comes back."""

    def __init__(self, *, secrets: Secrets) -> None:
        #: Every spelling of the credentials: cleared from every error and log line.
        self.secrets = secrets
        #: The last ``Date`` header an answer carried, with the local time it arrived (what a
        #: caller comparing clocks with the server needs: ``_launch``).
        self.last_date: tuple[str, float] | None = None

    async def send(
        self,
        route: Route,
        request: httpx.Request,
        *,
        attempt: int,
        bound: float,
        budget: float,
        progress: Progress,
        now: float | None = None,
    ) -> httpx.Response:
        """One attempt, bounded as a whole by ``bound`` seconds (``attempt_timeout``) and by
        the request's ``budget`` (the deadline of the whole request: ``OutOfBudget`` past it).
        ``now``: the clock as the caller just read it (else it is read here).

        Returns a 2xx answer with its body read; raises the tree's error for anything else.
        """
        trace = WireTrace()
        deadline = (anyio.current_time() if now is None else now) + bound
        # One scope for both bounds (a scope per request is one timer less to arm).
        with anyio.CancelScope(deadline=min(deadline, budget)):
            try:
                return await self._attempt(route, request, attempt, trace)
            except (APIStatusError, ResponseValidationError):
                raise  # an answer came: whether it acted is the answer's to say
            except APIConnectionError as exc:
                progress.maybe_sent |= exc.maybe_sent
                raise
            except BaseException:  # cancelled in flight: by a bound, or by the caller
                progress.maybe_sent |= trace.maybe_sent_so_far()
                raise
        progress.maybe_sent |= trace.maybe_sent_so_far()
        if budget <= deadline:
            raise OutOfBudget
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
        self, route: Route, request: httpx.Request, attempt: int, trace: WireTrace
    ) -> httpx.Response:
        request.extensions["trace"] = trace  # httpcore reports here; aiohttp through the var
        token = current_trace.set(trace)
        started = time.monotonic()
        try:
            response = await route.send(request)
            response.request = request
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
            if route.client.is_closed:
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
            self.last_date = (date, time.time())
        if not answer.is_success:
            raise error_from_response(answer, self.secrets)
        return answer
