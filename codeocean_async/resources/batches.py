"""Batch routes of ``client.computations``: many launches, many waits, both in one.

Each method checks nothing and loops over nothing: it hands the helpers (``_batch``,
``_waits``) what they need, as callables bound to this client's parts, in a few lines. The
helpers are imported on a batch's first use, not with the package (they are a tenth of its
import time, and a program that launches one run at a time never needs them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING

from .._config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_REQUESTS_PER_SECOND,
    OnUncertain,
    PollPolicy,
)
from .._retry import OnRetry
from ..models import Computation, RunParams
from ..models.batch import LaunchOutcome, RunOutcome
from ..models.parent import Parent
from ._base import Resource
from ._routes import computations_of, get_computation, start_run

if TYPE_CHECKING:
    from .._batch import OnEvent
    from .._launcher import Launch
    from .._scheduler import Strategy
    from .._specs import Spec
    from .._waits import CompletionStream, Readers, WaitOptions

__all__ = ["Batches"]


class Batches(Resource):
    """``run_many``, ``as_completed``, ``wait_all`` and ``run_and_wait_many``."""

    async def run_many(
        self,
        specs: Iterable[Spec],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        launch_interval: float | None = None,
        fail_fast: bool = False,
        on_event: OnEvent | None = None,
        on_uncertain: OnUncertain | None = None,
    ) -> list[LaunchOutcome]:
        """Launch every spec and return one ``LaunchOutcome`` per spec, in input order.

        Args:
            specs: ``RunParams``, or mappings of ``run``'s keyword arguments. All are checked
                before anything is sent.
            concurrency: launch requests in flight at once.
            launch_interval: at least this many seconds between two launches starting.
            fail_fast: stop launching after the first failure; the specs never sent have
                ``sent=False``.
            on_event: called (synchronously) with each ``Launched``, ``LaunchRetried`` and
                ``LaunchFailed`` event, and ``BatchCancelled`` if the batch is cancelled. If it
                raises, the batch stops launching, lets the launches on their way land, then
                re-raises that exception as it is, with an ``outcomes`` attribute (one
                ``LaunchOutcome`` per spec) and a note naming what started.
            on_uncertain: ``"raise"`` or ``"reconcile"`` (default: the client's).

        A 429 on any launch holds every launch until its ``Retry-After`` has passed. No spec is
        launched twice: an uncertain launch is reported (``outcome.uncertain``), not resent. A
        401 (``AuthenticationError``) on any launch stops the batch (even without
        ``fail_fast``): the launches on their way land, and every spec not yet sent gets that
        error (``sent=False``). Nothing raised by one launch ends the batch.
        """
        from .._batch import run_many  # on first use (see the module's docstring)

        launch = self._launch(on_uncertain)
        return await run_many(
            specs,
            launch=launch,
            concurrency=concurrency,
            launch_interval=launch_interval,
            fail_fast=fail_fast,
            on_event=on_event,
        )

    def as_completed(
        self,
        computations: Iterable[Computation | str],
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        max_requests_per_second: float | None = DEFAULT_MAX_REQUESTS_PER_SECOND,
        strategy: Strategy = "auto",
        capsule_id: str | None = None,
        pipeline_id: str | None = None,
        on_event: OnEvent | None = None,
    ) -> CompletionStream:
        """Iterate over the computations as each is seen finished::

            async for c in client.computations.as_completed(runs, timeout=3600):
                print(c.id, c.outcome)

        One scheduler follows them all, pacing requests to ``max_requests_per_second``. Runs of
        the same capsule or pipeline are followed with one list request per tick (``strategy``:
        ``"auto"`` from 3 such runs, ``"list"`` always, ``"per_run"`` never). The capsule of a
        run this client started is known; for IDs alone, pass ``capsule_id`` or ``pipeline_id``.
        Each run is yielded as soon as it is seen finished, even while requests for others are
        on their way (those are cut short and sent again). An error for one run is raised after
        the completions already seen, with a ``computations`` attribute (the last state seen of
        every input, in input order); iterating on goes on with the others. At the deadline
        ``WaitTimeoutError`` is raised; its ``computations`` hold the last state seen of every
        input. ``timeout=0`` is one look at each. ``on_event`` gets ``StateChanged`` and
        ``Finished`` events; an exception it raises ends the iteration, re-raised as it is with
        ``computations``.
        """
        from .._waits import as_completed

        parent = Parent.given(capsule_id=capsule_id, pipeline_id=pipeline_id)
        waits = self._waits(timeout, poll, max_requests_per_second, strategy, parent)
        return as_completed(computations, readers=self._readers(), waits=waits, on_event=on_event)

    async def wait_all(
        self,
        computations: Iterable[Computation | str],
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        max_requests_per_second: float | None = DEFAULT_MAX_REQUESTS_PER_SECOND,
        strategy: Strategy = "auto",
        capsule_id: str | None = None,
        pipeline_id: str | None = None,
        raise_on_failure: bool = False,
        on_event: OnEvent | None = None,
    ) -> list[Computation]:
        """Wait for every computation; return their final states in input order.

        Takes the arguments of ``as_completed``. With ``raise_on_failure`` it raises
        ``ComputationFailedError`` (``failed`` lists them all) when any did not succeed. An error
        for one run (a 404, say) is raised once every other wait has ended, with a
        ``computations`` attribute: every input's final (or last seen) state, in input order.
        """
        from .._waits import wait_all

        parent = Parent.given(capsule_id=capsule_id, pipeline_id=pipeline_id)
        waits = self._waits(timeout, poll, max_requests_per_second, strategy, parent)
        return await wait_all(
            computations,
            readers=self._readers(),
            waits=waits,
            raise_on_failure=raise_on_failure,
            on_event=on_event,
        )

    async def run_and_wait_many(
        self,
        specs: Iterable[Spec],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        launch_interval: float | None = None,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        max_requests_per_second: float | None = DEFAULT_MAX_REQUESTS_PER_SECOND,
        strategy: Strategy = "auto",
        relaunch_failed_starts: int = 0,
        relaunch_backoff: float = 60.0,
        on_event: OnEvent | None = None,
        on_uncertain: OnUncertain | None = None,
    ) -> list[RunOutcome]:
        """Launch every spec and wait for each run as soon as it lands: one ``RunOutcome`` each.

        Takes the launch arguments of ``run_many`` and the wait arguments of ``as_completed``;
        ``timeout`` bounds each run's wait, from its launch. A run that failed to start
        (``Outcome.FAILED_START``) is launched again up to ``relaunch_failed_starts`` times,
        ``relaunch_backoff`` seconds later (doubling each time); every computation ID tried is
        kept in ``attempts``. Nothing raises for a run: each outcome says what happened. A 401
        stops launching as in ``run_many`` (specs not sent get ``error``, no computation). If
        ``on_event`` raises, launching stops, the launches on their way land, and that
        exception is re-raised as it is, with ``outcomes`` (one ``RunOutcome`` per spec, the
        runs' last states seen) and a note naming what started. ``timeout=0`` is one look.
        """
        from .._batch import run_and_wait_many

        waits = self._waits(timeout, poll, max_requests_per_second, strategy)
        return await run_and_wait_many(
            specs,
            launch=self._launch(on_uncertain),
            readers=self._readers(),
            waits=waits,
            concurrency=concurrency,
            launch_interval=launch_interval,
            relaunch_failed_starts=relaunch_failed_starts,
            relaunch_backoff=relaunch_backoff,
            on_event=on_event,
        )

    # --- what the helpers are handed ------------------------------------------------------------

    def _launch(self, on_uncertain: OnUncertain | None) -> Launch:
        bound = self._bound

        def launch(params: RunParams, on_retry: OnRetry) -> Awaitable[Computation]:
            return start_run(bound, params, on_uncertain, on_retry)

        return launch

    def _readers(self) -> Readers:
        from .._waits import Readers

        http = self._http

        async def get(computation_id: str) -> Computation:
            return await get_computation(http, computation_id)

        async def list_for(parent: Parent) -> list[Computation]:
            return await computations_of(http, parent)

        return Readers(get=get, list_for=list_for, parent_of=self._bound.ledger.parent_of)

    def _waits(
        self,
        timeout: float | None,
        poll: PollPolicy | None,
        max_requests_per_second: float | None,
        strategy: Strategy,
        parent: Parent | None = None,
    ) -> WaitOptions:
        from .._waits import WaitOptions

        return WaitOptions(
            timeout=timeout,
            poll=poll or self._options.poll,
            max_requests_per_second=max_requests_per_second,
            strategy=strategy,
            parent=parent,
        )
