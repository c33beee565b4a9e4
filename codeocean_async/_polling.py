"""Waiting on one thing: follow its states on a PollPolicy's schedule, within a deadline.

One machinery for every wait on one item: a computation (``COMPUTATION``), and whatever else
has states to follow (a data asset until it is ready, a release job), each described by a
``Followed``: how to read its ID and state, and which states end the wait.

"Not finished yet" is a state, not an error, so nothing here retries: transient request errors
are the request pipeline's business. The caller's own cancellation (a cancelled task, an outer
``anyio.fail_after``) always propagates; only this wait's own deadline becomes
``WaitTimeoutError``.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import random
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

import anyio
import attrs

from ._config import PollPolicy
from ._errors import ComputationFailedError, WaitTimeoutError
from ._ids import check_id
from .models import Computation, Outcome

__all__ = [
    "COMPUTATION",
    "Fetch",
    "Followed",
    "OnUpdate",
    "StateFollower",
    "States",
    "check_timeout",
    "follow_to_end",
    "timeout_error",
    "wait_until_finished",
]

T = TypeVar("T")

logger = logging.getLogger("codeocean_async")

#: Called with each state change seen by a wait; may be a plain function or a coroutine function.
OnUpdate = Callable[[Any], Awaitable[object] | object]
#: Read one item's current state by its ID.
Fetch = Callable[[str], Awaitable[T]]


class States(Protocol):
    """A wait's states as an async iterator that can be closed early (``StateFollower``,
    ``_shared_waits.SharedFollower``)."""

    def __aiter__(self) -> States: ...

    async def __anext__(self) -> Computation: ...

    async def aclose(self) -> None: ...


@attrs.frozen
class Followed(Generic[T]):
    """What a wait follows: ``what`` it is called in messages (``"data asset"``), its class,
    the name of its ID (``"data_asset_id"``, checked before a request), how to read its ID and
    state, and whether a state ends the wait."""

    what: str
    cls: type[T]
    id_name: str
    id_of: Callable[[T], str]
    state_of: Callable[[T], object]
    finished: Callable[[T], bool]
    #: What the wait waits for, in a timeout's message ("did not finish", "become ready").
    goal: str = "finish"


COMPUTATION: Followed[Computation] = Followed(
    what="computation",
    cls=Computation,
    id_name="computation_id",
    id_of=lambda c: c.id,
    state_of=lambda c: c.state,
    finished=lambda c: c.finished,
)

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


class StateFollower(Generic[T]):
    """Async iterator over an item's state changes, ending with a state that ends the wait.

    An item passed in counts as the first state seen (no request for it); an ID is fetched at
    once. Raises ``WaitTimeoutError`` (carrying the last state seen) at the deadline; with
    ``timeout=0``, after one look (``check_timeout``). ``followed`` says what the item is (a
    computation by default).
    It is a plain iterator, not an async generator, and holds nothing between steps, so leaving
    an ``async for`` early needs no clean-up.
    """

    def __init__(
        self,
        fetch: Fetch[T],
        item: T | str,
        *,
        timeout: float | None,
        poll: PollPolicy,
        followed: Followed[T] = COMPUTATION,  # type: ignore[assignment]
    ) -> None:
        self._fetch = fetch
        self._followed = followed
        self._timeout = timeout
        self._deadline = _deadline(timeout)
        self._poll = poll
        self._polls = 0
        self._last: T | None = None
        self._pending: T | None = None
        self._one_look = timeout == 0
        self._looked = False
        if isinstance(item, followed.cls):
            self._id = check_id(followed.id_of(item), followed.id_name)
            self._pending = item
        else:
            self._id = check_id(item, followed.id_name)

    def __aiter__(self) -> StateFollower[T]:
        return self

    async def aclose(self) -> None:
        """Nothing to release (a ``StateFollower`` holds nothing between steps)."""

    async def __anext__(self) -> T:
        if self._pending is not None:  # the item the caller passed in
            self._last, self._pending = self._pending, None
            return self._last
        state_of = self._followed.state_of
        while True:
            if self._last is not None:
                if self._followed.finished(self._last):
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
            changed = self._last is None or state_of(current) != state_of(self._last)
            self._last = current
            if changed:
                logger.info("%s %s is %s", self._followed.what, self._id, state_of(current))
                return current

    async def _fetch_before_deadline(self) -> T:
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
        return timeout_error(self._followed, self._id, self._timeout, self._last)


def timeout_error(
    followed: Followed[T], item_id: str, timeout: float | None, last: T | None
) -> WaitTimeoutError:
    """A wait's ``WaitTimeoutError``: what did not happen within ``timeout``, the last state."""
    state = f"; last state seen: {followed.state_of(last)}" if last is not None else ""
    return WaitTimeoutError(
        f"{followed.what} {item_id} did not {followed.goal} within {timeout} s"
        f"{state or '; no state seen'}",
        computation=last if isinstance(last, Computation) else None,
        last=last,
    )


async def wait_until_finished(
    fetch: Fetch[Computation],
    computation: Computation | str,
    *,
    timeout: float | None,
    poll: PollPolicy,
    raise_on_failure: bool,
    on_update: OnUpdate | None,
) -> Computation:
    """Follow the states to the end; see ``Computations.wait_for_completion``."""
    states = StateFollower(fetch, computation, timeout=timeout, poll=poll)
    return await follow_to_end(states, raise_on_failure=raise_on_failure, on_update=on_update)


async def follow_to_end(
    states: States, *, raise_on_failure: bool, on_update: OnUpdate | None
) -> Computation:
    """The last of ``states`` (each handed to ``on_update``), raising for a failure if asked;
    ``states`` is closed however this ends (an ``on_update`` that raises, say)."""
    final: Computation | None = None
    async with contextlib.aclosing(states):
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
