"""Waits that share one poll loop: every ``wait_for_completion`` and ``watch`` of a client.

A client and its ``with_options`` copies hold one ``SharedWaits`` (``resources._base.Bound``).
Each wait joins it as a waiter, and one ``WaitScheduler`` follows every run waited on: due
times, the request-rate cap, one listing per capsule or pipeline per tick once three waited runs
share it (a GET per run otherwise), each run on its own ``PollPolicy`` (a capsule's listing at
its most eager waiter's). There is no background task: the loop runs inside one waiter's own
task (the runner) while the others sleep until it hands them news (a state change, the end of
their wait). When the runner has news of its own, passes its deadline or is cancelled, it leaves
the loop and hands it to another waiter; the requests it had on their way are cut and asked
again at once by the next runner (``resume_cut``), so no tick is lost. A wait that leaves takes
its run out of the scheduler (``discard``) unless another wait needs it; with no waiter nothing
polls, and the scheduler is dropped (the next wait starts one in whatever event loop it runs).
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections import deque
from typing import TYPE_CHECKING

import anyio

from ._config import DEFAULT_MAX_REQUESTS_PER_SECOND, PollPolicy
from ._errors import WaitTimeoutError
from ._ids import check_id
from ._polling import COMPUTATION, check_timeout, timeout_error
from .models import Computation
from .models.batch import Event, StateChanged
from .models.parent import Parent

if TYPE_CHECKING:
    from ._scheduler import Strategy, WaitScheduler
    from ._wait_state import Done
    from ._waits import Readers

__all__ = ["SharedFollower", "SharedWaits"]


class _Waiter:
    """One wait on the shared loop: what the loop handed it, and how to wake it."""

    __slots__ = (
        "done", "id", "last", "left", "number", "states", "stop", "wake", "wants_states"
    )  # fmt: skip

    def __init__(self, number: int, computation_id: str, wants_states: bool) -> None:
        self.number = number
        self.id = computation_id
        self.wants_states = wants_states  # every state change, or only the final state
        self.states: deque[Computation] = deque()
        self.last: Computation | None = None
        self.done: Done | None = None
        self.wake = anyio.Event()
        self.stop: anyio.CancelScope | None = None  # set while this waiter runs the loop
        self.left = False  # it left the loop (closed from elsewhere while it was served)

    @property
    def has_news(self) -> bool:
        return bool(self.states) or self.done is not None or self.left


class SharedWaits:
    """The poll loop a client and its copies share (see the module docstring)."""

    def __init__(
        self,
        *,
        max_requests_per_second: float | None = DEFAULT_MAX_REQUESTS_PER_SECOND,
        strategy: Strategy = "auto",
    ) -> None:
        self.max_requests_per_second = max_requests_per_second
        self.strategy: Strategy = strategy
        self._scheduler: WaitScheduler | None = None
        self._waiters: dict[int, _Waiter] = {}
        self._idle: dict[_Waiter, None] = {}  # in ``serve``: each may be handed the loop
        self._runner: _Waiter | None = None
        self._numbers = itertools.count()

    @property
    def waiting(self) -> int:
        """How many waits are joined now."""
        return len(self._waiters)

    @property
    def requests(self) -> dict[str, int]:
        """The requests the loop sent since its first waiter joined, by kind (``{}``: idle)."""
        return {} if self._scheduler is None else dict(self._scheduler.requests)

    def join(
        self,
        computation: Computation | str,
        *,
        readers: Readers,
        parent: Parent | None,
        timeout: float | None,
        poll: PollPolicy,
        wants_states: bool,
    ) -> _Waiter:
        """Follow a checked, unfinished ``computation`` for a new waiter."""
        if self._scheduler is None:
            from ._scheduler import WaitScheduler  # on the first wait, not at the package's import

            self._scheduler = WaitScheduler(
                get=readers.get,
                list_for=readers.list_for,
                poll=poll,
                max_requests_per_second=self.max_requests_per_second,
                strategy=self.strategy,
                on_event=self._on_event,
                on_done=self._on_done,
                resume_cut=True,
            )
        cid = computation.id if isinstance(computation, Computation) else computation
        waiter = _Waiter(next(self._numbers), cid, wants_states)
        self._waiters[waiter.number] = waiter
        seen = self._scheduler.last_seen(cid)  # followed for another wait already: the latest
        if seen is not None:  # state polled is this one's first (each change after it follows)
            waiter.last = seen
            if wants_states:
                waiter.states.append(seen)
        try:
            self._scheduler.add(
                computation, index=waiter.number, parent=parent, timeout=timeout, poll=poll,
                get=readers.get,
            )  # fmt: skip
        except BaseException:  # refused (it was checked before): the waiter never joined
            self.leave(waiter)
            raise
        return waiter

    def leave(self, waiter: _Waiter) -> None:
        """The waiter is gone (its wait ended, or it was cancelled): its run may stop. A waiter
        left while it is served (its iterator closed from another task) is woken, so that it
        stops serving (and hands the loop on, if it ran it)."""
        waiter.left = True
        if waiter in self._idle:
            self._notify(waiter)
        if self._waiters.pop(waiter.number, None) is None or self._scheduler is None:
            return
        if waiter.done is None:
            self._scheduler.discard(waiter.id, waiter.number)
        if not self._waiters:
            self._scheduler = None  # nothing polls when no one waits

    def last_seen(self, waiter: _Waiter) -> Computation | None:
        """The latest state polled of the waiter's run (its last change when no longer followed)."""
        followed = None if self._scheduler is None else self._scheduler.last_seen(waiter.id)
        return followed or (waiter.done.computation if waiter.done else None) or waiter.last

    async def serve(self, waiter: _Waiter) -> None:
        """Return once ``waiter`` has news, running the loop meanwhile when no one else does."""
        scheduler = self._scheduler
        assert scheduler is not None
        if waiter.wake.is_set():
            waiter.wake = anyio.Event()
        self._idle[waiter] = None
        try:
            while not waiter.has_news:
                if self._runner is None:
                    self._runner = waiter
                if self._runner is waiter:
                    with anyio.CancelScope() as waiter.stop:  # cancelled by the waiter's news
                        await scheduler.next_done()  # every end goes to _on_done
                    waiter.stop = None
                    if scheduler.events.error is not None:  # a fault of ours: say so
                        raise scheduler.events.error
                else:
                    await waiter.wake.wait()
                    waiter.wake = anyio.Event()
        finally:
            waiter.stop = None
            del self._idle[waiter]
            if self._runner is waiter:
                self._runner = None
                self._hand_over()

    def _hand_over(self) -> None:
        for other in self._idle:
            if not other.has_news:
                self._runner = other
                other.wake.set()
                return

    def _notify(self, waiter: _Waiter) -> None:
        if waiter.stop is not None:  # the runner: it leaves the loop to act on its news
            waiter.stop.cancel()
        waiter.wake.set()

    def _on_event(self, event: Event) -> None:
        if not isinstance(event, StateChanged) or event.index is None:
            return
        waiter = self._waiters.get(event.index)
        if waiter is None:
            return
        waiter.last = event.computation
        if waiter.wants_states:
            waiter.states.append(event.computation)
            self._notify(waiter)

    def _on_done(self, done: Done) -> None:
        for number in done.indices:
            waiter = self._waiters.get(number)
            if waiter is not None:
                waiter.done = done
                if not waiter.wants_states and done.error is None and done.computation:
                    waiter.states.append(done.computation)  # the final state, its only news
                self._notify(waiter)


class SharedFollower:
    """``StateFollower``'s contract for a computation, through the client's shared loop.

    The ID is checked at once; the deadline counts from here; the wait joins the loop on the
    first step and leaves it when it ends, raises, is cancelled, or is dropped unfinished.
    """

    def __init__(
        self,
        hub: SharedWaits,
        computation: Computation | str,
        *,
        readers: Readers,
        parent: Parent | None,
        timeout: float | None,
        poll: PollPolicy,
        wants_states: bool = True,
    ) -> None:
        self._timeout = check_timeout(timeout)
        known = computation if isinstance(computation, Computation) else None
        self._id = check_id(known.id if known else computation, "computation_id")
        self._hub = hub
        self._item: Computation | str = computation
        self._readers = readers
        self._parent = parent or readers.parent_of(self._id)
        self._poll = poll
        self._wants_states = wants_states
        self._deadline = math.inf if timeout is None else anyio.current_time() + timeout
        self._waiter: _Waiter | None = None
        self._leave: weakref.finalize | None = None  # type: ignore[type-arg]
        self._yielded: Computation | None = None
        self._ended = False

    def __aiter__(self) -> SharedFollower:
        return self

    async def aclose(self) -> None:
        """Stop following: the wait leaves the loop at once (dropping the iterator does too)."""
        self._ended = True
        self._part()

    async def __anext__(self) -> Computation:
        if self._ended:
            raise StopAsyncIteration
        waiter = self._waiter or self._join()
        try:
            while not waiter.has_news and anyio.current_time() < self._deadline:
                with anyio.move_on_after(self._deadline - anyio.current_time()):
                    await self._hub.serve(waiter)
            if waiter.left:  # closed (``aclose``) while this step waited
                self._ended = True
                raise StopAsyncIteration
            if waiter.states:
                self._yielded = waiter.states.popleft()
                return self._yielded
            self._ended = True
            done = waiter.done
            if done is None or isinstance(done.error, WaitTimeoutError):  # past the deadline
                last = self._hub.last_seen(waiter)
                raise timeout_error(COMPUTATION, self._id, self._timeout, last)
            if done.error is not None:
                raise done.error
            raise StopAsyncIteration
        except BaseException:
            self._part()
            raise

    def _join(self) -> _Waiter:
        left = self._deadline - anyio.current_time()
        waiter = self._hub.join(
            self._yielded or self._item,
            readers=self._readers,
            parent=self._parent,
            timeout=None if left == math.inf else max(left, 1e-9),  # (0 would be one look)
            poll=self._poll,
            wants_states=self._wants_states,
        )
        yielded = self._yielded  # joining again after a cancellation: no state twice
        if yielded is not None and waiter.states and waiter.states[0].state == yielded.state:
            waiter.states.popleft()
        self._waiter = waiter
        self._leave = weakref.finalize(self, self._hub.leave, waiter)  # dropped unfinished
        return waiter

    def _part(self) -> None:
        if self._leave is not None:
            self._leave()
        self._waiter = self._leave = None
