"""The one place a request waits before it is sent: a retry's backoff and a caller's hold.

A retry's delay (``_retry.retry_delay``) and whatever the caller's ``BeforeSend`` hook asks for
(the launch gate, ``_launch``) are waited here and nowhere else, within the request's budget,
and not at all in stamina's testing mode (``stamina.set_testing(True)``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import anyio
import anyio.lowlevel
import httpx

from ._attempt import OutOfBudget

__all__ = ["BeforeSend", "wait_before_send", "wait_within"]

#: Called with the request before each attempt; returns the seconds it must still wait before
#: it may be sent (0: now). Called again after each wait, so a wait it extends is honoured.
BeforeSend = Callable[[httpx.Request], float]


def _testing() -> bool:
    """Whether stamina's testing mode is on. Only a program that imported stamina can have
    switched it on, so stamina is not imported here for the question (it costs a tenth of
    this package's import time)."""
    stamina = sys.modules.get("stamina")
    return stamina is not None and bool(stamina.is_testing())


async def wait_before_send(
    request: httpx.Request, delay: float, before_send: BeforeSend | None
) -> None:
    """The one place a request waits before it is sent: ``delay`` (a retry's backoff) and
    whatever ``before_send`` asks for. In stamina's testing mode (``stamina.set_testing``)
    nothing waits: each wait is one checkpoint."""
    while True:
        wait = max(delay, 0.0 if before_send is None else before_send(request))
        if wait <= 0:
            return
        if _testing():
            await anyio.lowlevel.checkpoint()
            return
        await anyio.sleep(wait)
        delay = 0.0


async def wait_within(
    budget: float, request: httpx.Request, delay: float, before_send: BeforeSend | None
) -> bool:
    """``wait_before_send`` within the request's budget (``OutOfBudget`` when it runs out).

    ``False``: there was nothing to wait for, so it returned at once (the clock as read before
    still holds)."""
    if delay <= 0 and (before_send is None or before_send(request) <= 0):
        return False  # nothing to wait for (the usual case): no scope to set up
    with anyio.CancelScope(deadline=budget) as scope:
        await wait_before_send(request, delay, before_send)
    if scope.cancelled_caught:
        raise OutOfBudget
    return True
