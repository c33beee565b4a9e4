"""Waiting on one computation: follow its states on a PollPolicy's schedule, within a deadline.

"Not finished yet" is a state, not an error, so nothing here retries: transient request errors
are the request pipeline's business. The caller's own cancellation (a cancelled task, an outer
``anyio.fail_after``) always propagates; only this wait's own deadline becomes
``WaitTimeoutError``.
"""

from __future__ import annotations

import inspect
import logging
import math
import random
from collections.abc import Awaitable, Callable

import anyio

from ._config import PollPolicy
from ._errors import ComputationFailedError, WaitTimeoutError
from ._ids import check_id
from .models import Computation, Outcome

__all__ = ["Fetch", "OnUpdate", "StateFollower", "check_timeout", "wait_until_finished"]

logger = logging.getLogger("codeocean_async")

#: Called with each state change seen by a wait; may be a plain function or a coroutine function.
OnUpdate = Callable[[Computation], Awaitable[object] | object]
#: Read one computation's current state by its ID.
Fetch = Callable[[str], Awaitable[Computation]]

_rng = random.Random()


def check_timeout(timeout: float | None) -> float | None:
    """``timeout`` if it is ``None`` or a number of seconds >= 0; else ``ValueError``.

    ``0`` means one look: the state is fetched once (a ``Computation`` passed in that is finished
    needs none), returned if finished, else ``WaitTimeoutError`` carries it.
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
        raise ValueError(f"timeout must be a number of seconds >= 0 or None, not {timeout!r}")
    return timeout


def _deadline(timeout: float | None) -> float:
    timeout = check_timeout(timeout)
    return math.inf if timeout is None else anyio.current_time() + timeout


class StateFollower:
    """Async iterator over a computation's state changes, ending with the terminal state.

    A ``Computation`` passed in counts as the first state seen (no request for it); an ID is
    fetched at once. Raises ``WaitTimeoutError`` (carrying the last state seen) at the deadline;
    with ``timeout=0``, after one look (``check_timeout``).
    It is a plain iterator, not an async generator, and holds nothing between steps, so leaving
    an ``async for`` early needs no clean-up.
    """

    def __init__(
        self,
        fetch: Fetch,
        computation: Computation | str,
        *,
        timeout: float | None,
        poll: PollPolicy,
    ) -> None:
        self._fetch = fetch
        self._timeout = timeout
        self._deadline = _deadline(timeout)
        self._poll = poll
        self._polls = 0
        self._last: Computation | None = None
        self._pending: Computation | None = None
        self._one_look = timeout == 0
        self._looked = False
        if isinstance(computation, Computation):
            self._id = check_id(computation.id, "computation_id")
            self._pending = computation
        else:
            self._id = check_id(computation, "computation_id")

    def __aiter__(self) -> StateFollower:
        return self

    async def __anext__(self) -> Computation:
        if self._pending is not None:  # the Computation the caller passed in
            self._last, self._pending = self._pending, None
            return self._last
        while True:
            if self._last is not None:
                if self._last.finished:
                    raise StopAsyncIteration
                if self._one_look:
                    if self._looked:
                        raise self._timeout_error()
                else:
                    await self._sleep_until_next_poll()
            if self._one_look:  # the one look is made, bounded by the request's own limits
                current = await self._fetch(self._id)
                self._looked = True
            else:
                current = await self._fetch_before_deadline()
            self._polls += 1
            changed = self._last is None or current.state != self._last.state
            self._last = current
            if changed:
                logger.info("computation %s is %s", self._id, current.state)
                return current

    async def _fetch_before_deadline(self) -> Computation:
        remaining = self._deadline - anyio.current_time()
        if remaining <= 0:
            raise self._timeout_error()
        with anyio.move_on_after(remaining):
            return await self._fetch(self._id)
        raise self._timeout_error()

    async def _sleep_until_next_poll(self) -> None:
        now = anyio.current_time()
        at = self._poll.next_poll(self._polls, now=now, deadline=self._deadline, rng=_rng)
        await anyio.sleep(max(at - now, 0))
        if at >= self._deadline:  # no look fitted before the deadline: give up
            raise self._timeout_error()

    def _timeout_error(self) -> WaitTimeoutError:
        last = self._last
        state = f"; last state seen: {last.state}" if last is not None else "; no state seen"
        return WaitTimeoutError(
            f"computation {self._id} did not finish within {self._timeout} s{state}",
            computation=last,
        )


async def wait_until_finished(
    fetch: Fetch,
    computation: Computation | str,
    *,
    timeout: float | None,
    poll: PollPolicy,
    raise_on_failure: bool,
    on_update: OnUpdate | None,
) -> Computation:
    """Follow the states to the end; see ``Computations.wait_for_completion``."""
    final: Computation | None = None
    async for final in StateFollower(fetch, computation, timeout=timeout, poll=poll):
        if on_update is not None:
            result = on_update(final)
            if inspect.isawaitable(result):
                await result
    assert final is not None  # follow_states always yields, and ends on a terminal state
    if raise_on_failure and final.outcome is not Outcome.SUCCEEDED:
        raise ComputationFailedError(
            f"computation {final.id}{f' ({final.name})' if final.name else ''}"
            f" finished as {final.outcome}"
            f" (state {final.state}, end status {final.end_status}, exit code {final.exit_code})",
            computation=final,
            outcome=final.outcome,
        )
    return final
