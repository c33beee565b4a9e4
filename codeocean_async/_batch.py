"""Fan-out: launch many runs, and launch-and-wait, with one outcome per spec in input order.

The launch and the reads are callables (``Launch``, ``Readers``), so a batch runs on plain
async functions as well as on a client: ``client.computations.run_many`` passes its own. A
batch is a ledger: whatever one launch, wait or callback raises, every spec ends with an
outcome (assembled in ``_outcomes``) and nothing tears the batch down. The batch stops
launching (in-flight launches land) on the first 401, which fails every spec not yet sent, and
when ``on_event`` raises. Cancelling a batch from outside stops it at once; before the
cancellation propagates, ``on_event`` receives a ``BatchCancelled`` naming what had started
(it keeps running) and what was never sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import anyio

from ._config import DEFAULT_CONCURRENCY
from ._errors import CodeOceanError
from ._guard import EventSink, attach, unexpected
from ._launcher import Launch, Launcher
from ._outcomes import launch_outcomes, ledger_note, run_outcomes
from ._scheduler import WaitScheduler
from ._specs import Spec, check_concurrency, to_run_params
from ._waits import Readers, WaitOptions
from .models import Computation, Outcome
from .models.batch import Event, LaunchOutcome, Relaunched, RunOutcome
from .models.parent import Parent

__all__ = ["OnEvent", "run_and_wait_many", "run_many"]

#: Called (synchronously) with each event of a batch.
OnEvent = Callable[[Event], object]


async def run_many(
    specs: Iterable[Spec],
    *,
    launch: Launch,
    concurrency: int = DEFAULT_CONCURRENCY,
    launch_interval: float | None = None,
    fail_fast: bool = False,
    on_event: OnEvent | None = None,
) -> list[LaunchOutcome]:
    """Launch every spec; one ``LaunchOutcome`` per spec. See ``Computations.run_many``."""
    check_concurrency(concurrency, launch_interval)
    sink = EventSink(on_event)
    launcher = Launcher(
        launch,
        to_run_params(specs),
        concurrency=concurrency,
        launch_interval=launch_interval,
        fail_fast=fail_fast,
        sink=sink,
    )
    try:
        await launcher.run_all()
    except anyio.get_cancelled_exc_class():
        launcher.cancelled()
        raise
    outcomes = launch_outcomes(launcher)
    if sink.error is not None:
        raise attach(sink.error, "outcomes", outcomes, ledger_note(launcher, "run_many"))
    return outcomes


async def run_and_wait_many(
    specs: Iterable[Spec],
    *,
    launch: Launch,
    readers: Readers,
    waits: WaitOptions,
    concurrency: int = DEFAULT_CONCURRENCY,
    launch_interval: float | None = None,
    relaunch_failed_starts: int = 0,
    relaunch_backoff: float = 60.0,
    on_event: OnEvent | None = None,
) -> list[RunOutcome]:
    """Launch every spec and wait for each run as it lands. See ``Computations.run_and_wait_many``.

    ``waits.timeout`` bounds each run's wait, from its launch; ``waits.parent`` is not used
    (each run's capsule or pipeline is its spec's).
    """
    check_concurrency(concurrency, launch_interval)
    if isinstance(relaunch_failed_starts, bool) or not relaunch_failed_starts >= 0:
        raise ValueError("relaunch_failed_starts must be a whole number >= 0")
    if not relaunch_backoff >= 0:
        raise ValueError("relaunch_backoff must be seconds >= 0")
    params = to_run_params(specs)
    sink = EventSink(on_event)
    launcher = Launcher(
        launch,
        params,
        concurrency=concurrency,
        launch_interval=launch_interval,
        fail_fast=False,
        sink=sink,
    )
    scheduler = waits.scheduler(readers, sink)
    try:
        finals, errors = await _launch_and_wait(
            launcher,
            scheduler,
            timeout=waits.timeout,
            relaunch_failed_starts=relaunch_failed_starts,
            relaunch_backoff=relaunch_backoff,
        )
    except anyio.get_cancelled_exc_class():
        launcher.cancelled()
        raise
    outcomes = run_outcomes(launcher, finals, errors)
    if sink.error is not None:
        note = ledger_note(launcher, "run_and_wait_many")
        raise attach(sink.error, "outcomes", outcomes, note)
    return outcomes


async def _launch_and_wait(
    launcher: Launcher,
    scheduler: WaitScheduler,
    *,
    timeout: float | None,
    relaunch_failed_starts: int,
    relaunch_backoff: float,
) -> tuple[dict[int, Computation | None], dict[int, CodeOceanError]]:
    """Launch every spec and follow each run as soon as it lands; relaunch failed starts.

    Returns each spec's final computation (the last state seen, if the batch stopped before it
    finished) and the error of those with one. Nothing raised below ends it early: an error is
    recorded for its spec. A callback error (``launcher.emit.error``) stops it once the launches
    on their way have landed.
    """
    finals: dict[int, Computation | None] = {}
    latest: dict[int, Computation] = {}
    errors: dict[int, CodeOceanError] = {}
    relaunches: dict[int, int] = {}
    outstanding = len(launcher.specs)  # specs whose latest launch has not resolved yet

    def follow(index: int, computation: Computation) -> None:
        nonlocal outstanding
        outstanding -= 1
        latest[index] = computation
        try:
            parent = Parent.of(launcher.specs[index])
            scheduler.add(computation, index=index, parent=parent, timeout=timeout)
        except Exception as exc:  # e.g. an ID the scheduler cannot follow: recorded, not raised
            finals[index] = computation
            errors[index] = unexpected(exc, f"following computation {computation.id!r}")
            scheduler.nudge()

    async def launches() -> None:
        nonlocal outstanding
        await launcher.run_all(on_launched=follow)
        for index, result in enumerate(launcher.results):
            if not isinstance(result, Computation):  # refused, uncertain, or never sent
                outstanding -= 1
                finals[index] = None
                error = result if result is not None else launcher.refused
                if error is not None:
                    errors[index] = error
        scheduler.nudge()

    async def relaunch(index: int, previous: Computation) -> None:
        nonlocal outstanding
        await launcher.pause(relaunch_backoff * 2 ** (relaunches[index] - 1))
        result: Computation | CodeOceanError | None = None
        if not launcher.stopped:
            result = await launcher.launch_one(index)
        if isinstance(result, Computation):
            launcher.emit(Relaunched(index=index, previous=previous, computation=result))
            follow(index, result)
            return
        finals[index] = previous
        error = result if result is not None else launcher.refused  # not relaunched: stopped
        if error is not None:
            errors[index] = error
        outstanding -= 1
        scheduler.nudge()

    launcher.emit.on_error(scheduler.nudge)
    async with anyio.create_task_group() as tg:
        tg.start_soon(launches)
        while (outstanding or scheduler.pending) and launcher.emit.error is None:
            for done in await scheduler.next_done():
                computation = done.computation
                for index in done.indices:
                    if (
                        done.error is None
                        and computation is not None
                        and computation.outcome is Outcome.FAILED_START
                        and relaunches.get(index, 0) < relaunch_failed_starts
                    ):
                        relaunches[index] = relaunches.get(index, 0) + 1
                        outstanding += 1
                        tg.start_soon(relaunch, index, computation)
                        continue
                    finals[index] = computation
                    if done.error is not None:
                        errors[index] = done.error
    for index, computation in latest.items():  # stopped early: the last state seen
        if index not in finals:
            finals[index] = scheduler.last_seen(computation.id) or computation
    return finals, errors
