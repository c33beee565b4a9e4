"""Retry decisions: the retry table, what the wire says was sent, and the launch gate."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import anyio
import httpx

from ._config import RETRY_AFTER_MIN, RetryPolicy
from ._errors import (
    APIConnectionError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    parse_retry_after,
)

__all__ = [
    "LaunchGate",
    "OnRetry",
    "may_have_acted",
    "retry_delay",
]

_RETRYABLE_STATUSES = frozenset({502, 503, 504})
# Without trace events (a transport other than httpcore's), only these prove nothing was sent.
_NEVER_SENT = (httpx.ConnectError, httpx.PoolTimeout)


class LaunchGate:
    """One hold for every launch: a 429 on any run request holds them all until it passes.

    Code Ocean rate-limits per user, so when one launch is told to wait, every other launch of
    the client waits too rather than spending its own attempts on more 429s.
    """

    def __init__(self) -> None:
        self._open_at = -math.inf

    def hold(self, seconds: float) -> None:
        """Keep launches from being sent for ``seconds`` from now (a longer hold wins)."""
        self._open_at = max(self._open_at, anyio.current_time() + seconds)

    async def wait(self) -> None:
        """Return once no hold is in force."""
        # A hold may be extended while this one sleeps, so look again after each sleep.
        while (delay := self._open_at - anyio.current_time()) > 0:  # noqa: ASYNC110
            await anyio.sleep(delay)


#: Called with the error, the delay and the attempt number that failed, before each retry.
OnRetry = Callable[[BaseException, float, int], None]


def retry_delay(
    exc: BaseException,
    *,
    retry_number: int,
    policy: RetryPolicy,
    idempotent: bool,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before retry ``retry_number`` after ``exc``, or ``None``: do not retry.

    This is the retry table of ``RetryPolicy`` as a pure function. A ``Retry-After`` hint is
    waited at least ``RETRY_AFTER_MIN`` seconds (a hint of 0 is no reason to hammer).
    """
    if isinstance(exc, RateLimitError):  # the server did not act: safe for any request
        hint = exc.retry_after
        if hint is None:
            return policy.backoff(retry_number, rng)
        return max(hint, RETRY_AFTER_MIN) if hint <= policy.retry_after_max else None
    if isinstance(exc, APIConnectionError):
        if exc.retryable and (not exc.maybe_sent or idempotent):
            return policy.backoff(retry_number, rng)
        return None
    if isinstance(exc, ServerError) and exc.status_code in _RETRYABLE_STATUSES and idempotent:
        hint = parse_retry_after(exc.response.headers.get("retry-after"))
        if hint is not None and hint <= policy.retry_after_max:
            return max(hint, RETRY_AFTER_MIN)
        return policy.backoff(retry_number, rng)
    return None


def may_have_acted(exc: BaseException) -> bool:
    """Whether a failed request may have changed something on the server."""
    if isinstance(exc, APIConnectionError):
        return exc.maybe_sent
    # A 5xx may come after the work was done; a 2xx whose body cannot be read did act.
    return isinstance(exc, (ServerError, ResponseValidationError))
