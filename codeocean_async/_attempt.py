"""One attempt of a request: sent through the engine, bounded as a whole, its answer judged.

``Sender`` is shared by a pipeline and its ``with_options`` copies: the engine, the secrets to
clear from what comes back, and what the server's ``Date`` header says of its clock.
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
from ._status import error_from_response
from ._trace import WireTrace, current_trace
from ._wire import connection_error, read_answer

__all__ = ["Progress", "Sender"]

logger = logging.getLogger("codeocean_async")


class Progress:
    """What the attempts of one request did so far: whether any may have reached the server
    without an answer (so that running out of time may have left it acting)."""

    __slots__ = ("maybe_sent",)

    def __init__(self) -> None:
        self.maybe_sent = False


class Sender:
    """Sends attempts through one httpx client (or straight to the transport of one we own)."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        transport: httpx.AsyncBaseTransport | None,
        secrets: Secrets,
    ) -> None:
        self.client = client
        #: The transport of an httpx client this SDK created: requests go to it directly,
        #: skipping the client layer (cookies, hooks, redirects) that nothing here uses. A
        #: caller's client is always used through ``send()``, so its hooks and auth apply.
        self.transport = transport
        #: Every spelling of the credentials: cleared from every error and log line.
        self.secrets = secrets
        #: The last ``Date`` header the server sent, with the local time it arrived: the server's
        #: clock, to compare a launch time with the ``created`` times the server reports.
        self.last_server_date: tuple[str, float] | None = None

    async def send(
        self, request: httpx.Request, *, attempt: int, bound: float, progress: Progress
    ) -> httpx.Response:
        """One attempt, bounded as a whole by ``bound`` seconds (``attempt_timeout``).

        Returns a 2xx answer with its body read; raises the tree's error for anything else.
        """
        trace = WireTrace()
        with anyio.CancelScope(deadline=anyio.current_time() + bound):
            try:
                return await self._attempt(request, attempt, trace)
            except (APIStatusError, ResponseValidationError):
                raise  # an answer came: whether it acted is the answer's to say
            except APIConnectionError as exc:
                progress.maybe_sent |= exc.maybe_sent
                raise
            except BaseException:  # cancelled in flight: by a bound, or by the caller
                progress.maybe_sent |= trace.maybe_sent_so_far()
                raise
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
            if self.transport is not None:
                response = await self.transport.handle_async_request(request)
                response.request = request
            else:
                response = await self.client.send(request, stream=True)
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
            if self.client.is_closed:
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
