"""Fan-out methods of ``client.computations``: many launches, many waits, both in one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import anyio

from .._batch import (
    Launcher,
    OnEvent,
    Spec,
    check_concurrency,
    launch_and_wait,
    ledger_note,
    to_run_params,
)
from .._config import PollPolicy
from .._guard import EventSink, attach
from .._launch import OnUncertain, Parent
from .._polling import CompletionStream, check_timeout, wait_for_all
from .._scheduler import Strategy, WaitScheduler
from ..models import Computation
from ..models.batch import LaunchOutcome, RunOutcome
from ._base import Resource

if TYPE_CHECKING:
    from .._client import AsyncCodeOcean

__all__ = ["FanOut"]

#: The default cap on the requests many waits send per second, all waits together.
DEFAULT_MAX_REQUESTS_PER_SECOND = 20.0


class FanOut(Resource):
    """Batches of runs: ``run_many``, ``wait_all``, ``as_completed``, ``run_and_wait_many``."""

    _client: AsyncCodeOcean

    async def run_many(
        self,
        specs: Iterable[Spec],
        *,
        concurrency: int = 8,
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
        check_concurrency(concurrency, launch_interval)
        sink = EventSink(on_event)
        launcher = Launcher(
            self._client,
            to_run_params(specs),
            concurrency=concurrency,
            launch_interval=launch_interval,
            fail_fast=fail_fast,
            sink=sink,
            on_uncertain=on_uncertain,
        )
        try:
            await launcher.run_all()
        except anyio.get_cancelled_exc_class():
            launcher.cancelled()
            raise
        outcomes = launcher.finish()
        if sink.error is not None:
            raise attach(sink.error, "outcomes", outcomes, ledger_note(launcher, "run_many"))
        return outcomes

    def _scheduler(
        self,
        poll: PollPolicy | None,
        max_requests_per_second: float | None,
        strategy: Strategy,
        on_event: EventSink | OnEvent | None,
    ) -> WaitScheduler:
        client = self._client

        async def list_for(parent: Parent) -> list[Computation]:
            kind, target = parent
            resource = client.pipelines if kind == "pipelines" else client.capsules
            return await resource.list_computations(target)

        return WaitScheduler(
            get=client.computations.get,
            list_for=list_for,
            poll=poll or client.poll,
            max_requests_per_second=max_requests_per_second,
            strategy=strategy,
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
        check_timeout(timeout)
        if capsule_id is not None and pipeline_id is not None:
            raise ValueError("give capsule_id or pipeline_id, not both")
        given: Parent | None = None
        if capsule_id is not None:
            given = ("capsules", capsule_id)
        elif pipeline_id is not None:
            given = ("pipelines", pipeline_id)
        scheduler = self._scheduler(poll, max_requests_per_second, strategy, on_event)
        items = list(computations)
        ledger = self._client._launches
        for index, item in enumerate(items):
            cid = item.id if isinstance(item, Computation) else item
            parent = ledger.parent_of(cid) if isinstance(cid, str) else None
            scheduler.add(item, index=index, parent=parent or given, timeout=timeout)
        scheduler.close()
        return CompletionStream(scheduler, len(items))

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
        stream = self.as_completed(
            computations,
            timeout=timeout,
            poll=poll,
            max_requests_per_second=max_requests_per_second,
            strategy=strategy,
            capsule_id=capsule_id,
            pipeline_id=pipeline_id,
            on_event=on_event,
        )
        return await wait_for_all(stream, raise_on_failure=raise_on_failure)

    async def run_and_wait_many(
        self,
        specs: Iterable[Spec],
        *,
        concurrency: int = 8,
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
        check_concurrency(concurrency, launch_interval)
        check_timeout(timeout)
        if isinstance(relaunch_failed_starts, bool) or not relaunch_failed_starts >= 0:
            raise ValueError("relaunch_failed_starts must be a whole number >= 0")
        if not relaunch_backoff >= 0:
            raise ValueError("relaunch_backoff must be seconds >= 0")
        params = to_run_params(specs)
        sink = EventSink(on_event)
        launcher = Launcher(
            self._client,
            params,
            concurrency=concurrency,
            launch_interval=launch_interval,
            fail_fast=False,
            sink=sink,
            on_uncertain=on_uncertain,
        )
        scheduler = self._scheduler(poll, max_requests_per_second, strategy, sink)
        try:
            finals, errors = await launch_and_wait(
                launcher,
                scheduler,
                timeout=timeout,
                relaunch_failed_starts=relaunch_failed_starts,
                relaunch_backoff=relaunch_backoff,
            )
        except anyio.get_cancelled_exc_class():
            launcher.cancelled()
            raise
        outcomes = [
            RunOutcome(
                index=i,
                spec=spec,
                computation=finals.get(i),
                attempts=tuple(launcher.started.get(i, ())),
                error=errors.get(i),
            )
            for i, spec in enumerate(params)
        ]
        if sink.error is not None:
            note = ledger_note(launcher, "run_and_wait_many")
            raise attach(sink.error, "outcomes", outcomes, note)
        return outcomes
