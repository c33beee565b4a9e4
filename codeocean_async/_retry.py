"""Retry decisions: the retry table as a pure function (what a failure costs in waiting)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import anyio
import httpx

from ._config import RETRY_AFTER_MIN, RetryPolicy
from ._errors import (
    APIConnectionError,
    NotFoundError,
    RateLimitError,
    ServerError,
    parse_retry_after,
)

__all__ = [
    "OnRetry",
    "gone_after_resend",
    "next_retry",
    "retry_delay",
]

logger = logging.getLogger("codeocean_async")

_RETRYABLE_STATUSES = frozenset({502, 503, 504})


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


def next_retry(
    exc: BaseException,
    request: httpx.Request,
    attempt: int,
    idempotent: bool,
    deadline: float,
    policy: RetryPolicy,
    rng: random.Random,
) -> float | None:
    """The wait before the attempt after ``attempt`` failed with ``exc`` (logged: the one log
    line of a retry), or ``None``: give up (no retry by the table, no attempt left, or one that
    would end past the request's ``deadline``)."""
    if attempt >= policy.attempts:
        return None  # that was the last attempt
    delay = retry_delay(exc, retry_number=attempt, policy=policy, idempotent=idempotent, rng=rng)
    if delay is None or anyio.current_time() + delay > deadline:
        return None  # no retry, or one that would end past the budget: give up now
    logger.warning(
        "retrying %s %s in %.2f s (attempt %d of %d failed: %s)",
        request.method,
        request.url.path,
        delay,
        attempt,
        policy.attempts,
        exc,
    )
    return delay


def gone_after_resend(exc: BaseException, attempt: int, maybe_sent: bool) -> httpx.Response | None:
    """The 404 answering a DELETE resent after an attempt that may have reached the server:
    that attempt did it (what it deleted is gone), so the request succeeded; else ``None``."""
    if not (isinstance(exc, NotFoundError) and attempt > 1 and maybe_sent):
        return None
    return exc.response if exc.response.request.method == "DELETE" else None
