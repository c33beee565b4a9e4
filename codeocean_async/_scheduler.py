"""The shared scheduler for many waits: due times, a request-rate cap, list polling per capsule.

One scheduler follows any number of computations. It keeps each one's next due time in a heap,
caps the requests it sends per second, and, when several waited runs belong to one capsule or
pipeline, polls that capsule's computation list once per tick instead of each run. It owns no
background task: whoever awaits ``next_done()`` drives it, and every request it starts ends
before that call returns, so cancelling the caller leaves nothing behind. Each request starts as
it falls due, while others are still on their way; once one ends a wait, ``next_done`` returns
it: requests still on their way get ``CUT_GRACE`` to land, then are cut short and asked again at
their normal time, so a slow answer for one run never holds back another's completion, and a
fast server's answers are not thrown away. An error for one run ends that run's wait only (an
error that is not a ``CodeOceanError`` becomes one).
"""

from __future__ import annotations

import heapq
import logging
import math
import random
from collections.abc import Awaitable, Callable
from typing import Literal

import anyio
from anyio.abc import TaskGroup

from ._config import PollPolicy
from ._guard import EventSink, unexpected
from ._ids import check_id
from ._pacing import Pacer
from ._wait_state import Done, Group, OnDone, WaitState, Watch
from .models import Computation
from .models.batch import Event
from .models.parent import Parent

__all__ = ["Done", "ListFor", "Strategy", "WaitScheduler"]

logger = logging.getLogger("codeocean_async")

#: How waits on many runs are polled: ``"per_run"`` GETs each computation; ``"list"`` lists each
#: capsule's (or pipeline's) computations once per tick; ``"auto"`` lists once at least
#: ``LIST_THRESHOLD`` waited runs share a capsule whose identity is known.
Strategy = Literal["auto", "per_run", "list"]
LIST_THRESHOLD = 3
#: List the computations of a capsule or pipeline.
ListFor = Callable[[Parent], Awaitable[list[Computation]]]
_MAX_IN_FLIGHT = 32
#: Seconds the requests still on their way get to land once a wait has ended, before they are cut.
CUT_GRACE = 0.25
_rng = random.Random()


class WaitScheduler(WaitState):
    """Follow many computations to their end on one schedule (see the module docstring)."""

    def __init__(
        self,
        *,
        get: Callable[[str], Awaitable[Computation]],
        list_for: ListFor,
        poll: PollPolicy,
        max_requests_per_second: float | None,
        strategy: Strategy,
        on_event: EventSink | Callable[[Event], object] | None,
        on_done: OnDone | None = None,
        resume_cut: bool = False,
    ) -> None:
        """``on_done`` takes each wait as it ends (``next_done`` then returns only when its
        caller is cancelled or nothing is followed); with ``resume_cut`` a request cut short is
        asked again at once, not at its next time (the shared loop's hand-over, ``_shared_waits``).
        """
        if strategy not in ("auto", "per_run", "list"):
            raise ValueError(f"strategy must be 'auto', 'per_run' or 'list', not {strategy!r}")
        rate = max_requests_per_second
        if rate is not None and (isinstance(rate, bool) or not rate > 0):
            raise ValueError(f"max_requests_per_second must be > 0 or None, not {rate!r}")
        # The caller's callback, guarded: when it raises, ``next_done`` returns what it has and
        # the caller re-raises ``events.error``.
        events = on_event if isinstance(on_event, EventSink) else EventSink(on_event)
        super().__init__(poll=poll, events=events, on_done=on_done)
        self._resume_cut = resume_cut
        self._get = get
        self._list_for = list_for
        self._rate = rate
        # At most `rate` requests a second, evenly spaced: no burst on top of the rate.
        self._pacer = Pacer(None if rate is None else 1 / rate)
        self._strategy = strategy
        self.events.on_error(self._stop_tick)
        self._tick_scope: anyio.CancelScope | None = None
        self._in_flight = 0  # requests on their way
        self._changed = anyio.Event()
        self._closed = False
        #: Requests sent, by kind: for the curious and for tests.
        self.requests = {"get": 0, "list": 0}

    @property
    def pending(self) -> int:
        """How many computations are still being followed."""
        return len(self._watches)

    def add(
        self,
        computation: Computation | str,
        *,
        index: int | None = None,
        parent: Parent | None = None,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        get: Callable[[str], Awaitable[Computation]] | None = None,
    ) -> None:
        """Follow ``computation`` (an ID is fetched first; a Computation counts as seen).

        ``timeout=0`` is one look: a GET (none for a finished Computation), then the wait ends,
        finished or timed out. ``poll`` and ``get``: this run's own schedule and read.
        """
        now = anyio.current_time()
        known = computation if isinstance(computation, Computation) else None
        cid = check_id(known.id if known else computation, "computation_id")
        indices = [] if index is None else [index]
        one_look = timeout == 0
        deadline = math.inf if timeout is None or one_look else now + timeout
        if cid in self._watches:  # the same run twice: one wait, several places in the output
            self._watches[cid].indices.extend(indices)
            self._widen(self._watches[cid], deadline, poll)
            return
        watch = Watch(cid, indices, parent, None, deadline, one_look=one_look, poll=poll, get=get)
        if known is not None:
            self._observe(watch, known)
            if watch.done:  # finished already: report it at once
                self._changed.set()
                return
        self._watches[cid] = watch
        if deadline != math.inf:
            heapq.heappush(self._deadlines, (deadline, next(self._seq), watch))
        first = (poll or self._poll).interval(0, _rng)
        watch.due = now if known is None or one_look else now + first
        grouped = parent is not None and self._strategy != "per_run" and not one_look
        if grouped and parent is not None and parent not in self._no_list:
            self._by_parent[parent] = self._by_parent.get(parent, 0) + 1
            threshold = 1 if self._strategy == "list" else LIST_THRESHOLD
            if parent in self._groups or self._by_parent[parent] >= threshold:
                self._join_group(parent, now, watch)
        if watch.group is None:
            self._push(watch)
        self._changed.set()

    def last_seen(self, computation_id: str) -> Computation | None:
        """The last state seen of a computation still followed (``None``: not followed)."""
        watch = self._watches.get(computation_id)
        return None if watch is None else watch.last

    def close(self) -> None:
        """No more computations will be added: ``next_done`` returns ``[]`` once all ended."""
        self._closed = True
        self._changed.set()

    def nudge(self) -> None:
        """Wake a ``next_done`` that waits for work (it then returns ``[]`` if there is none)."""
        self._changed.set()

    async def next_done(self) -> list[Done]:
        """Poll until at least one wait ends, and return those that did.

        ``[]`` means nothing is being followed: the scheduler is closed, or it was nudged. Once
        the caller's callback has raised (``events.error``), it returns at once.
        """
        if not self._finished and self.events.error is None:
            limiter = anyio.Semaphore(_MAX_IN_FLIGHT)
            async with anyio.create_task_group() as tg:
                self._tick_scope = tg.cancel_scope
                try:
                    await self._drive(tg, limiter)
                    if self._in_flight:  # a wait ended: answers nearly there may land first
                        with anyio.move_on_after(CUT_GRACE):
                            while self._in_flight:  # each poll that ends sets _changed
                                await self._sleep(math.inf)
                finally:
                    self._tick_scope = None
                tg.cancel_scope.cancel()  # the rest is cut short, asked again at its time
        finished, self._finished = self._finished, []
        return finished

    async def _drive(self, tg: TaskGroup, limiter: anyio.Semaphore) -> None:
        """Start each request as it falls due (paced, at most ``_MAX_IN_FLIGHT`` on their way)
        until a wait ends, the caller's callback raises, or there is nothing to follow."""
        while not self._finished and self.events.error is None:
            now = anyio.current_time()
            self._expire(now)
            if self._finished:
                return
            if not self._watches:
                if not self._closed:
                    await self._sleep(math.inf)
                if not self._watches and not self._finished:
                    return  # closed, or nudged with nothing to follow: the caller decides
                continue
            due = self._earliest_due()
            wake = min(due, self._deadlines[0][0] if self._deadlines else math.inf)
            if wake > now:
                await self._sleep(wake - now)
                continue
            item = heapq.heappop(self._heap)[2]
            started = False
            try:
                await self._pacer.turn()
                await limiter.acquire()
                if self._finished or self.events.error is not None:
                    limiter.release()  # a wait ended meanwhile: report it first
                    return
                self._in_flight += 1
                tg.start_soon(self._poll_one, item, limiter)
                started = True
            finally:  # not sent (a wait ended, or the caller cancelled): it stays scheduled
                if not started:
                    self._push(item)

    # --- scheduling ---------------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        with anyio.move_on_after(seconds):
            await self._changed.wait()
        if self._changed.is_set():
            self._changed = anyio.Event()

    def _stop_tick(self) -> None:
        """Stop ``next_done`` now: requests on their way are cut, asked again at their time."""
        if self._tick_scope is not None:
            self._tick_scope.cancel()

    async def _poll_one(self, item: Watch | Group, limiter: anyio.Semaphore) -> None:
        try:
            # What was due may need no look by its turn: a wait that ended, a run that joined
            # a group, a group whose runs all ended.
            if isinstance(item, Group):
                if item.members and self._groups.get(item.parent) is item:
                    await self._poll_group(item)
            elif not item.done and item.group is None:
                await self._poll_watch(item)
        except Exception as exc:  # a fault of ours must not cost the waits their record
            self._fail(item, unexpected(exc, "following the computation"))
        finally:
            limiter.release()
            self._in_flight -= 1
            self._changed.set()  # next_done looks again: a wait may have ended

    async def _poll_watch(self, watch: Watch) -> None:
        self.requests["get"] += 1
        landed = False
        try:
            with anyio.move_on_after(watch.deadline - anyio.current_time()):
                try:
                    computation = await (watch.get or self._get)(watch.id)
                except Exception as exc:  # a CodeOceanError, or anything else from below
                    self._end(watch, None, unexpected(exc, f"GET of computation {watch.id}"))
                    return
                landed = True
                self._observe(watch, computation)
            if not watch.done:
                watch.polls += 1
                if watch.one_look:
                    self._end(watch, watch.last, self._timeout_error(watch, "after one look"))
        finally:  # also when cut short (a wait ended, or the caller cancelled): at its time
            if not watch.done and watch.group is None:
                cut = not landed and self._resume_cut
                watch.due = anyio.current_time() if cut else self._next_due(watch, watch.deadline)
                self._push(watch)

    async def _poll_group(self, group: Group) -> None:
        self.requests["list"] += 1
        deadline = min(w.deadline for w in group.members.values())
        listed: list[Computation] | None = None
        try:
            with anyio.move_on_after(deadline - anyio.current_time()):
                try:
                    listed = await self._list_for(group.parent)
                except Exception as exc:  # a CodeOceanError, or anything else from below
                    logger.warning(
                        "listing %s/%s failed (%s): polling its runs one by one",
                        group.parent.kind,
                        group.parent.id,
                        exc,
                    )
                    self._disband(group)
                    return
            if listed is not None:
                self._apply_listing(group, listed)
                group.polls += 1
        finally:  # also when cut short: a group with runs to follow stays scheduled, at its time
            if group.members and self._groups.get(group.parent) is group:
                deadline = min(w.deadline for w in group.members.values())
                cut = listed is None and self._resume_cut and anyio.current_time() < deadline
                group.due = anyio.current_time() if cut else self._next_due(group, deadline)
                self._push(group)
