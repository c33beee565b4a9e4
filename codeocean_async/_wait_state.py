"""What the wait scheduler knows: each wait's state, the due-time heap, capsule groups, verdicts.

The synchronous half of ``WaitScheduler``: it never sends a request. It records what each poll
saw (state changes, the end of a wait, deadlines passed) and reports it to the caller's callback
through an ``EventSink``, so a callback that raises never tears a poll down.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
from collections.abc import Awaitable, Callable, Iterable

import anyio
import attrs

from ._config import PollPolicy
from ._errors import CodeOceanError, WaitTimeoutError
from ._guard import EventSink
from .models import Computation
from .models.batch import Event, Finished, StateChanged
from .models.parent import Parent

__all__ = ["Done", "Group", "OnDone", "WaitState", "Watch"]

logger = logging.getLogger("codeocean_async")

_MISSES_BEFORE_GET = 2
_rng = random.Random()


@attrs.frozen
class Done:
    """A wait that ended: its final computation, or the error that ended it."""

    indices: tuple[int, ...]
    computation: Computation | None
    error: CodeOceanError | None = None


@attrs.define(eq=False)
class Watch:
    """One computation followed: where its results go (``indices``), what was last seen of it."""

    id: str
    indices: list[int]
    parent: Parent | None
    last: Computation | None
    deadline: float
    polls: int = 0
    due: float = 0.0
    group: Group | None = None
    done: bool = False
    missed: int = 0  # consecutive listings of its capsule that did not show it
    one_look: bool = False  # timeout=0: one GET, then finished or timed out
    poll: PollPolicy | None = None  # its own schedule (None: the scheduler's)
    get: Callable[[str], Awaitable[Computation]] | None = None  # its own read, or the scheduler's


@attrs.define(eq=False)
class Group:
    """Runs of one capsule or pipeline, followed with one listing per tick."""

    parent: Parent
    members: dict[str, Watch] = attrs.field(factory=dict)
    polls: int = 0
    due: float = 0.0


#: Called with each wait that ends, instead of keeping it for ``next_done``.
OnDone = Callable[[Done], None]


class WaitState:
    """The waits, their schedule and their groups; what was seen of each (no requests here)."""

    def __init__(self, *, poll: PollPolicy, events: EventSink, on_done: OnDone | None) -> None:
        self._poll = poll
        self.events = events
        self._on_done = on_done
        self._watches: dict[str, Watch] = {}
        self._groups: dict[Parent, Group] = {}
        self._no_list: set[Parent] = set()  # capsules whose listing failed: polled run by run
        self._by_parent: dict[Parent, int] = {}
        self._heap: list[tuple[float, int, Watch | Group]] = []
        self._deadlines: list[tuple[float, int, Watch]] = []
        self._seq = itertools.count()
        self._finished: list[Done] = []

    # --- the schedule -------------------------------------------------------------------------

    def _push(self, item: Watch | Group) -> None:
        heapq.heappush(self._heap, (item.due, next(self._seq), item))

    def _valid(self, due: float, item: Watch | Group) -> bool:
        if isinstance(item, Group):
            return self._groups.get(item.parent) is item and item.due == due and bool(item.members)
        return not item.done and item.group is None and item.due == due

    def _earliest_due(self) -> float:
        while self._heap and not self._valid(self._heap[0][0], self._heap[0][2]):
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else math.inf

    def _join_group(self, parent: Parent, now: float, newcomer: Watch | None = None) -> None:
        """Group the runs of ``parent``: all of them for a new group, else ``newcomer`` alone
        (so a thousand runs joining one by one cost a thousand steps, not a million)."""
        group = self._groups.get(parent)
        if group is None:
            group = self._groups[parent] = Group(parent)
            newcomer = None
        joined: list[Watch] = []
        for watch in self._watches.values() if newcomer is None else (newcomer,):
            if watch.parent == parent and watch.group is None and not watch.one_look:
                watch.group = group
                group.members[watch.id] = watch
                joined.append(watch)
        if not joined and newcomer is not None:
            return
        group.polls = 0  # a new member may be a short run: look soon
        unseen = any(w.last is None for w in joined)
        soonest = min(
            p.interval(0, _rng) for p in self._policies_of(joined or [*group.members.values()])
        )
        due = now if unseen else now + soonest  # an ID alone: look now
        # Reschedule when no future poll is planned (a new group, or one whose members had all
        # ended, its heap entry gone) or when this one is sooner.
        if group.due <= now or due < group.due:
            group.due = due
            self._push(group)

    def _policies(self, item: Watch | Group) -> list[PollPolicy]:
        """The schedules ``item``'s waits ask for (a group polls at its fastest member's)."""
        return self._policies_of(item.members.values() if isinstance(item, Group) else (item,))

    def _policies_of(self, watches: Iterable[Watch]) -> list[PollPolicy]:
        return list({id(p): p for p in (w.poll or self._poll for w in watches)}.values())

    def _next_due(self, item: Watch | Group, deadline: float) -> float:
        now = anyio.current_time()
        return min(
            p.next_poll(item.polls, now=now, deadline=deadline, rng=_rng)
            for p in self._policies(item)
        )

    def _widen(self, watch: Watch, deadline: float, poll: PollPolicy | None) -> None:
        """A second wait on a followed run: it is followed until the later deadline, as often
        as the more eager of the two schedules asks."""
        if deadline > watch.deadline:
            watch.deadline = deadline
            if deadline != math.inf:
                heapq.heappush(self._deadlines, (deadline, next(self._seq), watch))
        if poll is None or poll is watch.poll:
            return
        mine = watch.poll or self._poll
        if attrs.evolve(poll, jitter=0).interval(watch.polls) < attrs.evolve(
            mine, jitter=0
        ).interval(watch.polls):
            watch.poll = poll
            sooner = anyio.current_time() + poll.interval(watch.polls, _rng)
            if watch.group is None and sooner < watch.due:
                watch.due = sooner
                self._push(watch)

    # --- listings of a capsule ------------------------------------------------------------

    def _apply_listing(self, group: Group, listed: list[Computation]) -> None:
        by_id = {c.id: c for c in listed}
        for watch in list(group.members.values()):
            found = by_id.get(watch.id)
            if found is not None:
                watch.missed = 0
                self._observe(watch, found)
            else:  # a listing may lag a launch; missing twice (deleted?): ask for it directly
                watch.missed += 1
                if watch.missed >= _MISSES_BEFORE_GET:
                    self._leave_group(watch)

    def _leave_group(self, watch: Watch) -> None:
        if watch.group is not None:
            del watch.group.members[watch.id]
            watch.group = None
        watch.due = anyio.current_time()
        self._push(watch)

    def _disband(self, group: Group) -> None:
        for watch in list(group.members.values()):
            self._leave_group(watch)
        self._no_list.add(group.parent)
        del self._groups[group.parent]

    # --- what was seen ------------------------------------------------------------------------

    def _observe(self, watch: Watch, computation: Computation) -> None:
        if watch.done:  # an answer for a wait already ended (a listing and a GET both saw it)
            return
        previous = watch.last
        watch.last = computation
        if previous is None or previous.state != computation.state:
            logger.info("computation %s is %s", watch.id, computation.state)
            self._emit_all(
                watch,
                lambda i: StateChanged(
                    index=i,
                    computation=computation,
                    previous=None if previous is None else str(previous.state),
                ),
            )
        if computation.finished:
            self._emit_all(watch, lambda i: Finished(index=i, computation=computation))
            self._end(watch, computation, None)

    def _emit_all(self, watch: Watch, make: Callable[[int | None], Event]) -> None:
        indices: list[int | None] = [*watch.indices] or [None]
        for index in indices:
            self.events(make(index))

    def _end(
        self, watch: Watch, computation: Computation | None, error: CodeOceanError | None
    ) -> None:
        if watch.done:  # ended once already: it is reported once
            return
        self._drop(watch)
        done = Done(tuple(watch.indices), computation or watch.last, error)
        if self._on_done is not None:
            self._on_done(done)
        else:
            self._finished.append(done)

    def _drop(self, watch: Watch) -> None:
        watch.done = True
        if watch.group is not None:
            watch.group.members.pop(watch.id, None)
        registered = self._watches.pop(watch.id, None) is not None
        counted = registered and not watch.one_look and watch.parent is not None
        if counted and watch.parent in self._by_parent:
            self._by_parent[watch.parent] -= 1

    def discard(self, computation_id: str, index: int) -> None:
        """Stop following ``computation_id`` for ``index`` (a wait that left: cancelled, or past
        its own deadline); the run is no longer polled once no place needs it. No ``Done``."""
        watch = self._watches.get(computation_id)
        if watch is None or index not in watch.indices:
            return
        watch.indices.remove(index)
        if not watch.indices:
            self._drop(watch)

    def _fail(self, item: Watch | Group, error: CodeOceanError) -> None:
        """End every wait ``item`` stands for with ``error``."""
        watches = list(item.members.values()) if isinstance(item, Group) else [item]
        for watch in watches:
            if not watch.done:
                self._end(watch, watch.last, error)

    def _expire(self, now: float) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            deadline, _, watch = heapq.heappop(self._deadlines)
            if not watch.done and deadline == watch.deadline:  # (not one since widened)
                self._end(watch, watch.last, self._timeout_error(watch, "before its deadline"))

    def _timeout_error(self, watch: Watch, when: str) -> WaitTimeoutError:
        state = f"last state seen: {watch.last.state}" if watch.last else "no state seen"
        return WaitTimeoutError(
            f"computation {watch.id} did not finish {when}; {state}", computation=watch.last
        )
