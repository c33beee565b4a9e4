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
from ._errors import CodeOceanError, ComputationFailedError, WaitTimeoutError
from ._guard import attach
from ._ids import check_id
from ._scheduler import WaitScheduler
from .models import Computation, Outcome

__all__ = [
    "CompletionStream",
    "OnUpdate",
    "StateFollower",
    "check_timeout",
    "wait_for_all",
    "wait_until_finished",
]

logger = logging.getLogger("codeocean_async")

#: Called with each state change seen by a wait; may be a plain function or a coroutine function.
OnUpdate = Callable[[Computation], Awaitable[object] | object]
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


# --- many ----------------------------------------------------------------------------------------


class CompletionStream:
    """Async iterator over computations as each is seen finished (``as_completed``).

    It drives a ``WaitScheduler`` from inside ``__anext__`` and holds no task between steps, so
    leaving the loop early needs no clean-up. Completions already seen are always yielded before
    an error is raised. An error for one run (say a 404) is raised once, with a ``computations``
    attribute: the last state seen of every input, in input order; the stream then goes on with
    the others. At the deadline it raises ``WaitTimeoutError`` whose ``computations`` hold the
    last state seen of every input. An exception from ``on_event`` is re-raised as it is, with
    ``computations`` too; the stream ends there.
    """

    def __init__(self, scheduler: WaitScheduler, count: int) -> None:
        self._scheduler = scheduler
        self._last: list[Computation | None] = [None] * count
        self._ready: list[Computation] = []
        self._errors: list[CodeOceanError] = []
        self._timed_out: list[int] = []

    def __aiter__(self) -> CompletionStream:
        return self

    @property
    def callback_error(self) -> Exception | None:
        """What ``on_event`` raised, if it did (the stream ends with it)."""
        return self._scheduler.events.error

    async def __anext__(self) -> Computation:
        while not self._ready and not self._errors:
            self._raise_callback_error()
            done = await self._scheduler.next_done()
            # Record the whole batch before raising anything, so no outcome in it is lost.
            for item in done:
                for index in item.indices:
                    self._last[index] = item.computation
                if isinstance(item.error, WaitTimeoutError):
                    self._timed_out.extend(item.indices)
                elif item.error is not None:
                    self._errors.append(item.error)
                elif item.computation is not None:
                    self._ready.extend(item.computation for _ in item.indices)
            if not done and not self._ready and not self._errors:
                self._raise_callback_error()
                if self._timed_out:
                    raise self._timeout_error()
                raise StopAsyncIteration
        if self._ready:  # what finished is handed over before any error
            return self._ready.pop(0)
        error = self._errors.pop(0)  # one error a call; the stream goes on after it
        raise attach(error, "computations", tuple(self._last))

    def _raise_callback_error(self) -> None:
        error = self.callback_error
        if error is not None:
            note = "codeocean-async: on_event raised while waiting; `computations` holds the "
            note += "last state seen of every input (the runs keep running)"
            raise attach(error, "computations", tuple(self._last), note)

    @property
    def last_seen(self) -> list[Computation | None]:
        """The last state seen of every input, in input order (``None``: never seen)."""
        return list(self._last)

    def _timeout_error(self) -> WaitTimeoutError:
        count = len(self._timed_out)
        return WaitTimeoutError(
            f"{count} of {len(self._last)} computations did not finish before the deadline",
            computation=self._last[self._timed_out[0]],
            computations=tuple(self._last),
        )


async def wait_for_all(stream: CompletionStream, *, raise_on_failure: bool) -> list[Computation]:
    """Drain ``stream``; the final computations in input order (see ``Computations.wait_all``).

    An error for one run does not stop the others: once every wait has ended, the first such
    error is raised, its ``computations`` holding every input's final (or last) state.
    """
    first: CodeOceanError | None = None
    timed_out: WaitTimeoutError | None = None
    while True:
        try:
            async for _ in stream:
                pass
            break
        except WaitTimeoutError as exc:  # raised at the end: every other wait has ended
            timed_out = exc
            break
        except CodeOceanError as exc:
            if exc is stream.callback_error:
                raise
            first = first or exc
    finals = stream.last_seen
    if first is not None:
        note = None if timed_out is None else f"codeocean-async: also: {timed_out}"
        raise attach(first, "computations", tuple(finals), note)
    if timed_out is not None:
        raise timed_out
    results = [c for c in finals if c is not None]
    assert len(results) == len(finals)  # every wait ended with a computation or raised
    failed = tuple(c for c in results if c.outcome is not Outcome.SUCCEEDED)
    if raise_on_failure and failed:
        first_failed = failed[0]
        raise ComputationFailedError(
            f"{len(failed)} of {len(results)} computations did not succeed; first: "
            f"{first_failed.id} finished as {first_failed.outcome}",
            computation=first_failed,
            outcome=first_failed.outcome,
            failed=failed,
        )
    return results
