"""Waits on many runs: ``as_completed`` and ``wait_all`` over plain callables, on one scheduler.

Nothing here knows the client: a wait reads runs through ``Readers`` (get one computation, list
a capsule's or pipeline's, know the parent of a run this client started) and is shaped by
``WaitOptions`` (the wait arguments ``as_completed``, ``wait_all`` and ``run_and_wait_many``
share). One ``WaitScheduler`` follows them all; ``CompletionStream`` hands each run over as it
is seen finished, and ``wait_for_all`` drains it into one final state per input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs

from ._config import DEFAULT_MAX_REQUESTS_PER_SECOND, PollPolicy
from ._errors import CodeOceanError, ComputationFailedError, WaitTimeoutError
from ._guard import EventSink, attach
from ._polling import Fetch, check_timeout
from ._scheduler import ListFor, Strategy, WaitScheduler
from .models import Computation, Outcome
from .models.batch import Event
from .models.parent import Parent

__all__ = [
    "CompletionStream",
    "Readers",
    "WaitOptions",
    "as_completed",
    "wait_all",
    "wait_for_all",
]

OnEvent = Callable[[Event], object]


def _no_parent(computation_id: str) -> Parent | None:
    return None


def _wait_timeout(instance: object, attribute: object, value: float | None) -> None:
    check_timeout(value)  # a number of seconds >= 0, or None


@attrs.frozen(kw_only=True)
class Readers:
    """How waits read runs: ``get`` one computation, ``list_for`` a parent's computations, and
    ``parent_of`` a run this client started (``None`` when it does not know)."""

    get: Fetch[Computation]
    list_for: ListFor
    parent_of: Callable[[str], Parent | None] = _no_parent


@attrs.frozen(kw_only=True)
class WaitOptions:
    """The wait arguments of ``as_completed``, ``wait_all`` and ``run_and_wait_many``.

    ``timeout`` bounds each wait (``0``: one look); ``parent`` is the capsule or pipeline of
    runs given by ID alone (the caller's ``capsule_id=`` or ``pipeline_id=``).
    """

    poll: PollPolicy
    timeout: float | None = attrs.field(default=None, validator=_wait_timeout)
    max_requests_per_second: float | None = DEFAULT_MAX_REQUESTS_PER_SECOND
    strategy: Strategy = "auto"
    parent: Parent | None = None

    def scheduler(self, readers: Readers, on_event: EventSink | OnEvent | None) -> WaitScheduler:
        """A scheduler that follows runs on this schedule, through ``readers``."""
        return WaitScheduler(
            get=readers.get,
            list_for=readers.list_for,
            poll=self.poll,
            max_requests_per_second=self.max_requests_per_second,
            strategy=self.strategy,
            on_event=on_event,
        )


def as_completed(
    computations: Iterable[Computation | str],
    *,
    readers: Readers,
    waits: WaitOptions,
    on_event: OnEvent | None = None,
) -> CompletionStream:
    """Follow every computation; see ``Computations.as_completed``."""
    scheduler = waits.scheduler(readers, on_event)
    items = list(computations)
    for index, item in enumerate(items):
        cid = item.id if isinstance(item, Computation) else item
        parent = readers.parent_of(cid) if isinstance(cid, str) else None
        scheduler.add(item, index=index, parent=parent or waits.parent, timeout=waits.timeout)
    scheduler.close()
    return CompletionStream(scheduler, len(items))


async def wait_all(
    computations: Iterable[Computation | str],
    *,
    readers: Readers,
    waits: WaitOptions,
    raise_on_failure: bool = False,
    on_event: OnEvent | None = None,
) -> list[Computation]:
    """Wait for every computation; see ``Computations.wait_all``."""
    stream = as_completed(computations, readers=readers, waits=waits, on_event=on_event)
    return await wait_for_all(stream, raise_on_failure=raise_on_failure)


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
