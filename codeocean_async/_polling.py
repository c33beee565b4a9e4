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
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing

import anyio

from ._config import PollPolicy
from ._errors import ComputationFailedError, WaitTimeoutError
from ._ids import check_id
from .models import Computation, Outcome

__all__ = ["OnUpdate", "follow_states", "wait_until_finished"]

logger = logging.getLogger("codeocean_async")

#: Called with each state change seen by a wait; may be a plain function or a coroutine function.
OnUpdate = Callable[[Computation], Awaitable[object] | object]
Fetch = Callable[[str], Awaitable[Computation]]

_rng = random.Random()


def _deadline(timeout: float | None) -> float:
    if timeout is None:
        return math.inf
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValueError(f"timeout must be a number of seconds >= 0 or None, not {timeout!r}")
    return anyio.current_time() + timeout


def _timeout_error(
    computation_id: str, timeout: float | None, last: Computation | None
) -> Exception:
    state = f"; last state seen: {last.state}" if last is not None else "; no state seen"
    return WaitTimeoutError(
        f"computation {computation_id} did not finish within {timeout} s{state}",
        computation=last,
    )


async def follow_states(
    fetch: Fetch,
    computation: Computation | str,
    *,
    timeout: float | None,
    poll: PollPolicy,
) -> AsyncGenerator[Computation, None]:
    """Yield the computation each time its state changes, ending with the terminal state.

    A ``Computation`` passed in counts as the first state seen (no request for it); an ID is
    fetched at once. Raises ``WaitTimeoutError`` (carrying the last state seen) at the deadline.
    No cancel scope is held across a ``yield``, so breaking out of the loop early is safe.
    """
    deadline = _deadline(timeout)
    last: Computation | None = None
    if isinstance(computation, Computation):
        computation_id = check_id(computation.id, "computation_id")
        last = computation
        yield last
        if last.finished:
            return
        polls = 1
        await _sleep(poll.interval(0, _rng), deadline, computation_id, timeout, last)
    else:
        computation_id = check_id(computation, "computation_id")
        polls = 0
    while True:
        current: Computation | None = None
        with anyio.move_on_after(deadline - anyio.current_time()):
            current = await fetch(computation_id)
        if current is None:
            raise _timeout_error(computation_id, timeout, last)
        changed = last is None or current.state != last.state
        last = current
        if changed:
            logger.debug("computation %s is %s", computation_id, current.state)
            yield current
        if current.finished:
            return
        await _sleep(poll.interval(polls, _rng), deadline, computation_id, timeout, last)
        polls += 1


async def _sleep(
    seconds: float, deadline: float, computation_id: str, timeout: float | None, last: Computation
) -> None:
    remaining = deadline - anyio.current_time()
    if seconds >= remaining:
        # The next poll would land past the deadline: wait out the deadline, then give up.
        await anyio.sleep(max(remaining, 0))
        raise _timeout_error(computation_id, timeout, last)
    await anyio.sleep(seconds)


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
    async with aclosing(follow_states(fetch, computation, timeout=timeout, poll=poll)) as states:
        async for final in states:
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
