"""Launching many specs: bounded concurrency and pacing, and a record of what became of each.

The launcher takes the launch itself as a callable (``Launch``: a ``RunParams`` in, a started
``Computation`` out), so it knows nothing of the client, the pipeline or reconciliation. It
records each spec's result (a computation, or the error) and every computation started; the
outcomes are assembled from that record in ``_outcomes``. It stops launching (those on their way
land) on the first 401, which fails every spec not yet sent, when ``fail_fast`` sees a failure,
and when the caller's ``on_event`` raises.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
import anyio.lowlevel
import sniffio

from ._errors import AuthenticationError, CodeOceanError, LaunchUncertainError
from ._guard import EventSink, unexpected
from ._pacing import Pacer
from ._retry import OnRetry
from .models import Computation, RunParams
from .models.batch import BatchCancelled, Launched, LaunchFailed, LaunchRetried

__all__ = ["Launch", "Launcher"]

logger = logging.getLogger("codeocean_async")

#: A worker passes a checkpoint before every this-many launches (see ``run_all``).
_CHECKPOINT_EVERY = 8

#: Start one run: the spec, and what to call before each retry of its request.
Launch = Callable[[RunParams, OnRetry], Awaitable[Computation]]


class Launcher:
    """Launches specs with bounded concurrency and pacing, recording what became of each."""

    def __init__(
        self,
        launch: Launch,
        specs: list[RunParams],
        *,
        concurrency: int,
        launch_interval: float | None,
        fail_fast: bool,
        sink: EventSink,
    ) -> None:
        self._launch = launch
        self.specs = specs
        self._concurrency = concurrency
        self._pacer = Pacer(launch_interval)
        self._fail_fast = fail_fast
        self.emit = sink
        #: Each spec's first launch: its computation or its error (``None``: never sent).
        self.results: list[Computation | CodeOceanError | None] = [None] * len(specs)
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
        if self.stopped or (seconds is None and not self._pacer.paced):
            return  # no pacing: no scope to arm, no turn to take
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
            computation = await self._launch(self.specs[index], on_retry)
            if not isinstance(computation, Computation):  # a launch callable that misbehaves
                raise TypeError(f"the launch returned {type(computation).__name__}")
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
        # A transport that answers without suspending (in process) must not keep the caller's
        # deadline or cancellation from being seen: a checkpoint every few launches on asyncio
        # (a launch over the wire suspends anyway, and each checkpoint costs a loop turn); on
        # trio one per launch, which its scheduler repays (measured: fewer cost more there).
        every = _CHECKPOINT_EVERY if sniffio.current_async_library() == "asyncio" else 1

        async def worker() -> None:
            for turn, index in enumerate(indices):
                if not turn % every:
                    await anyio.lowlevel.checkpoint()
                if self.stopped:
                    return
                await self.pause()
                if self.stopped:
                    return
                result = self.results[index] = await self.launch_one(index)
                if isinstance(result, Computation):
                    if self.emit.listening:
                        self.emit(Launched(index=index, computation=result))
                    if on_launched is not None:
                        on_launched(index, result)
                elif self._fail_fast:
                    self.stop()

        async with anyio.create_task_group() as tg:
            for _ in range(min(self._concurrency, len(self.specs))):
                tg.start_soon(worker)

    def cancelled(self) -> None:
        """Report, before a cancellation propagates, what had started and what was never sent."""
        started = {i: tuple(ids) for i, ids in self.started.items()}
        in_flight = tuple(sorted(self.in_flight))
        attempted = {i for i, r in enumerate(self.results) if r is not None}
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
