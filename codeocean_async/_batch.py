"""Fan-out: launch many runs, and launch-and-wait, with one outcome per spec in input order.

Launches go through the client's one pipeline, so a 429 on any of them holds all of them (the
launch gate) and none is ever sent twice. Waits share one ``WaitScheduler``. A batch is a ledger:
whatever one launch, wait or callback raises, every spec ends with an outcome and nothing tears
the batch down. The batch stops launching (in-flight launches land) on the first 401, which
fails every spec not yet sent, and when ``on_event`` raises. Cancelling a batch from outside
stops it at once; before the cancellation propagates, ``on_event`` receives a
``BatchCancelled`` naming what had started (it keeps running) and what was never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from ._errors import AuthenticationError, CodeOceanError, LaunchUncertainError
from ._guard import EventSink, unexpected
from ._launch import OnUncertain, parent_of
from ._pacing import Pacer
from ._specs import Spec, check_concurrency, read_specs, to_run_params, write_specs
from .models import Computation, Outcome, RunParams
from .models.batch import (
    BatchCancelled,
    Event,
    Launched,
    LaunchFailed,
    LaunchOutcome,
    LaunchRetried,
    Relaunched,
)

if TYPE_CHECKING:
    from ._client import AsyncCodeOcean
    from ._scheduler import WaitScheduler

__all__ = [
    "Launcher",
    "OnEvent",
    "Spec",
    "check_concurrency",
    "launch_and_wait",
    "ledger_note",
    "read_specs",
    "to_run_params",
    "write_specs",
]

logger = logging.getLogger("codeocean_async")

OnEvent = Callable[[Event], object]


class Launcher:
    """Launches specs with bounded concurrency and pacing, recording what became of each."""

    def __init__(
        self,
        client: AsyncCodeOcean,
        specs: list[RunParams],
        *,
        concurrency: int,
        launch_interval: float | None,
        fail_fast: bool,
        sink: EventSink,
        on_uncertain: OnUncertain | None,
    ) -> None:
        self._client = client
        self.specs = specs
        self._concurrency = concurrency
        self._pacer = Pacer(launch_interval)
        self._fail_fast = fail_fast
        self.emit = sink
        self._on_uncertain = on_uncertain
        self.outcomes: list[LaunchOutcome | None] = [None] * len(specs)
        #: Every computation started for each spec, relaunches included.
        self.started: dict[int, list[str]] = {}
        #: Specs whose run request is on its way now.
        self.in_flight: set[int] = set()
        self.stopped = False
        #: The first 401 of any launch: every spec not yet sent fails with it.
        self.refused: AuthenticationError | None = None
        self._pauses: set[anyio.CancelScope] = set()
        sink.on_error(self.stop)

    def stop(self) -> None:
        """Send no further launch (those on their way land); wake every launch waiting its turn."""
        self.stopped = True
        for scope in self._pauses:
            scope.cancel()

    async def pause(self, seconds: float | None = None) -> None:
        """Wait for the next launch's turn (or ``seconds``), returning early once stopped."""
        if self.stopped:
            return
        with anyio.CancelScope() as scope:
            self._pauses.add(scope)
            try:
                if seconds is None:
                    await self._pacer.turn()
                else:
                    await anyio.sleep(seconds)
            finally:
                self._pauses.discard(scope)

    async def launch_one(self, index: int) -> Computation | CodeOceanError:
        """Start spec ``index`` once (retries by policy inside); never raises an Exception."""

        def on_retry(exc: BaseException, delay: float, attempt: int) -> None:
            self.emit(LaunchRetried(index=index, reason=str(exc), delay=delay, attempt=attempt))

        self.in_flight.add(index)
        try:
            computation = await self._client.computations._launch(
                self.specs[index], on_uncertain=self._on_uncertain, on_retry=on_retry
            )
        except Exception as exc:  # a CodeOceanError, or (defence in depth) anything from below
            self.in_flight.discard(index)
            error = unexpected(exc, f"the launch of spec {index}")
            if isinstance(error, AuthenticationError) and self.refused is None:
                logger.warning("the token was refused (401): no further launch is sent")
                self.refused = error
                self.stop()
            uncertain = isinstance(error, LaunchUncertainError)
            self.emit(LaunchFailed(index=index, error=error, uncertain=uncertain))
            return error
        # (Cancelled on its way, it stays in flight: ``cancelled`` says it may have started.)
        self.in_flight.discard(index)
        self.started.setdefault(index, []).append(computation.id)
        return computation

    async def run_all(self, on_launched: Callable[[int, Computation], None] | None = None) -> None:
        """Launch every spec: ``concurrency`` workers take them in input order."""
        indices = iter(range(len(self.specs)))

        async def worker() -> None:
            for index in indices:
                # A transport that answers without suspending (in process) must not keep the
                # caller's deadline or cancellation from being seen.
                await anyio.lowlevel.checkpoint()
                if self.stopped:
                    return
                await self.pause()
                if self.stopped:
                    return
                result = await self.launch_one(index)
                spec = self.specs[index]
                if isinstance(result, Computation):
                    self.outcomes[index] = LaunchOutcome(index=index, spec=spec, computation=result)
                    self.emit(Launched(index=index, computation=result))
                    if on_launched is not None:
                        on_launched(index, result)
                else:
                    self.outcomes[index] = LaunchOutcome(index=index, spec=spec, error=result)
                    if self._fail_fast:
                        self.stop()

        async with anyio.create_task_group() as tg:
            for _ in range(min(self._concurrency, len(self.specs))):
                tg.start_soon(worker)

    def finish(self) -> list[LaunchOutcome]:
        """One outcome per spec, in input order; specs never sent say so (``sent=False``), with
        the 401 that stopped the batch as their error."""
        return [
            o
            if o is not None
            else LaunchOutcome(index=i, spec=self.specs[i], sent=False, error=self.refused)
            for i, o in enumerate(self.outcomes)
        ]

    def cancelled(self) -> None:
        """Report, before a cancellation propagates, what had started and what was never sent."""
        started = {i: tuple(ids) for i, ids in self.started.items()}
        in_flight = tuple(sorted(self.in_flight))
        attempted = {i for i, o in enumerate(self.outcomes) if o is not None}
        attempted |= set(started) | self.in_flight
        not_sent = tuple(i for i in range(len(self.specs)) if i not in attempted)
        logger.warning(
            "batch cancelled: %d specs started (they keep running), %d may or may not have "
            "started (their run request was on its way), %d never sent",
            len(started),
            len(in_flight),
            len(not_sent),
        )
        self.emit(BatchCancelled(started=started, in_flight=in_flight, not_sent=not_sent))


def ledger_note(launcher: Launcher, what: str) -> str:
    """What a batch stopped by its ``on_event`` callback had done, for the callback's error."""
    outcomes = launcher.finish()
    started = [(i, ids) for i, ids in sorted(launcher.started.items())]
    shown = ", ".join(f"spec {i}: {', '.join(ids)}" for i, ids in started[:20])
    uncertain = [o.index for o in outcomes if o.uncertain]
    never = sum(1 for o in outcomes if not o.sent)
    return (
        f"codeocean-async: on_event raised during {what}, which stopped launching: "
        f"{len(started)} specs started ({shown or 'none'}{', ...' if len(started) > 20 else ''}"
        f"; they keep running), {len(uncertain)} may or may not have started "
        f"{uncertain[:20]}, {never} never sent. Its `outcomes` attribute holds one per spec."
    )


async def launch_and_wait(
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
            parent = parent_of(launcher.specs[index])
            scheduler.add(computation, index=index, parent=parent, timeout=timeout)
        except Exception as exc:  # e.g. an ID the scheduler cannot follow: recorded, not raised
            finals[index] = computation
            errors[index] = unexpected(exc, f"following computation {computation.id!r}")
            scheduler.nudge()

    async def launches() -> None:
        nonlocal outstanding
        await launcher.run_all(on_launched=follow)
        for index, outcome in enumerate(launcher.finish()):
            if outcome.computation is None:  # refused, uncertain, or never sent
                outstanding -= 1
                finals[index] = None
                if outcome.error is not None:
                    errors[index] = outcome.error
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
