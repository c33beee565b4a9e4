"""Fan-out: launch many runs, and launch-and-wait, with one outcome per spec in input order.

Launches go through the client's one pipeline, so a 429 on any of them holds all of them (the
launch gate) and none is ever sent twice. Waits share one ``WaitScheduler``. Cancelling a batch
from outside stops it at once; before the cancellation propagates, ``on_event`` receives a
``BatchCancelled`` naming what had started (it keeps running) and what was never sent.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TextIO

import anyio
import anyio.lowlevel

from ._converter import from_json, to_json
from ._errors import CodeOceanError, LaunchUncertainError
from ._launch import OnUncertain, parent_of
from ._pacing import Pacer
from .models import Computation, Outcome, RunParams
from .models.run_params import check_run_ids
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

__all__ = ["Launcher", "read_specs", "to_run_params", "write_specs"]

logger = logging.getLogger("codeocean_async")

#: A run spec: a ``RunParams``, or a mapping of ``computations.run``'s keyword arguments.
Spec = RunParams | Mapping[str, Any]
OnEvent = Callable[[Event], object]


def to_run_params(specs: Iterable[Spec]) -> list[RunParams]:
    """Every spec as a ``RunParams``, checked before anything is sent (errors name the index).

    ``RunParams`` checks its own fields; here each is also hashed (the launch ledger keys on it)
    and serialised, so nothing about a spec can fail once the batch has started.
    """
    result = []
    for index, spec in enumerate(specs):
        try:
            if isinstance(spec, Mapping):
                spec = RunParams(**spec)
            elif not isinstance(spec, RunParams):
                raise TypeError(f"expected a RunParams or a mapping, not {type(spec).__name__}")
            check_run_ids(spec)
            hash(spec)
            to_json(spec)
        except (TypeError, ValueError) as exc:
            error = TypeError if isinstance(exc, TypeError) else ValueError
            raise error(f"spec {index}: {exc}") from exc
        result.append(spec)
    return result


def check_concurrency(concurrency: int, launch_interval: float | None) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number >= 1, not {concurrency!r}")
    if launch_interval is not None and not launch_interval >= 0:
        raise ValueError(f"launch_interval must be seconds >= 0 or None, not {launch_interval!r}")


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
        on_event: OnEvent | None,
        on_uncertain: OnUncertain | None,
    ) -> None:
        self._client = client
        self.specs = specs
        self._concurrency = concurrency
        self._pacer = Pacer(launch_interval)
        self._fail_fast = fail_fast
        self._on_event = on_event
        self._on_uncertain = on_uncertain
        self.outcomes: list[LaunchOutcome | None] = [None] * len(specs)
        #: Every computation started for each spec, relaunches included.
        self.started: dict[int, list[str]] = {}
        #: Specs whose run request is on its way now.
        self.in_flight: set[int] = set()
        self.stopped = False

    def emit(self, event: Event) -> None:
        if self._on_event is not None:
            self._on_event(event)

    async def launch_one(self, index: int) -> Computation | CodeOceanError:
        """Start spec ``index`` once (retries by policy inside); never raises CodeOceanError."""

        def on_retry(exc: BaseException, delay: float, attempt: int) -> None:
            self.emit(LaunchRetried(index=index, reason=str(exc), delay=delay, attempt=attempt))

        self.in_flight.add(index)
        try:
            computation = await self._client.computations._launch(
                self.specs[index], on_uncertain=self._on_uncertain, on_retry=on_retry
            )
        except CodeOceanError as exc:
            self.in_flight.discard(index)
            uncertain = isinstance(exc, LaunchUncertainError)
            self.emit(LaunchFailed(index=index, error=exc, uncertain=uncertain))
            return exc
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
                await self._pacer.turn()
                if self.stopped:
                    return
                result = await self.launch_one(index)
                if isinstance(result, Computation):
                    self.outcomes[index] = LaunchOutcome(
                        index=index, spec=self.specs[index], computation=result
                    )
                    self.emit(Launched(index=index, computation=result))
                    if on_launched is not None:
                        on_launched(index, result)
                else:
                    self.outcomes[index] = LaunchOutcome(
                        index=index, spec=self.specs[index], error=result
                    )
                    if self._fail_fast:
                        self.stopped = True

        async with anyio.create_task_group() as tg:
            for _ in range(min(self._concurrency, len(self.specs))):
                tg.start_soon(worker)

    def finish(self) -> list[LaunchOutcome]:
        """One outcome per spec, in input order; specs never sent say so (``sent=False``)."""
        return [
            o if o is not None else LaunchOutcome(index=i, spec=self.specs[i], sent=False)
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


async def launch_and_wait(
    launcher: Launcher,
    scheduler: WaitScheduler,
    *,
    timeout: float | None,
    relaunch_failed_starts: int,
    relaunch_backoff: float,
) -> tuple[dict[int, Computation | None], dict[int, CodeOceanError]]:
    """Launch every spec and follow each run as soon as it lands; relaunch failed starts."""
    finals: dict[int, Computation | None] = {}
    errors: dict[int, CodeOceanError] = {}
    relaunches: dict[int, int] = {}
    outstanding = len(launcher.specs)  # specs whose latest launch has not resolved yet

    def follow(index: int, computation: Computation) -> None:
        nonlocal outstanding
        outstanding -= 1
        scheduler.add(
            computation, index=index, parent=parent_of(launcher.specs[index]), timeout=timeout
        )

    async def launches() -> None:
        nonlocal outstanding
        await launcher.run_all(on_launched=follow)
        for index, outcome in enumerate(launcher.outcomes):
            if outcome is not None and outcome.error is not None:
                errors[index] = outcome.error
                finals[index] = None
        outstanding -= sum(1 for o in launcher.outcomes if o is not None and o.error is not None)
        scheduler.nudge()

    async def relaunch(index: int, previous: Computation) -> None:
        nonlocal outstanding
        count = relaunches[index]
        await anyio.sleep(relaunch_backoff * 2 ** (count - 1))
        result = await launcher.launch_one(index)
        if isinstance(result, Computation):
            launcher.emit(Relaunched(index=index, previous=previous, computation=result))
            follow(index, result)
        else:
            errors[index] = result
            finals[index] = previous
            outstanding -= 1
            scheduler.nudge()

    async with anyio.create_task_group() as tg:
        tg.start_soon(launches)
        while outstanding or scheduler.pending:
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
    return finals, errors


# --- specs as data -----------------------------------------------------------------------------


def read_specs(
    source: str | os.PathLike[str] | TextIO, *, name: str | None = None
) -> list[RunParams]:
    """Run specs from a JSON lines file or open text stream (one ``RunParams`` a line).

    Blank lines are skipped. Every spec is checked as ``run`` would check it; ``ValueError`` (or
    ``TypeError``) names the line of the first one that does not fit, in ``name`` (default: the
    path, or the stream's name).
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as lines:
            return _read_lines(lines, name or os.fspath(source))
    stream: Iterable[str | bytes] = getattr(source, "buffer", source)  # bytes where there are
    return _read_lines(stream, name or str(getattr(source, "name", "<stream>")))


def _read_lines(lines: Iterable[str | bytes], name: str) -> list[RunParams]:
    specs = []
    for number, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8") if isinstance(line, bytes) else line
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{name}, line {number}: not UTF-8 text (byte {exc.start + 1} of the line)"
            ) from None
        if not text.strip():
            continue
        try:
            spec = from_json(RunParams, text)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}, line {number}: {exc}") from exc
        specs.append(spec)
    return specs


def write_specs(path: str | os.PathLike[str], specs: Iterable[RunParams]) -> None:
    """Write run specs as JSON lines, for ``read_specs`` (or ``codeocean-async run-many``)."""
    with open(path, "w", encoding="utf-8") as out:
        for spec in _iter_checked(specs):
            out.write(to_json(spec) + "\n")


def _iter_checked(specs: Iterable[RunParams]) -> Iterator[RunParams]:
    for index, spec in enumerate(specs):
        if not isinstance(spec, RunParams):
            raise TypeError(f"spec {index}: expected a RunParams, not {type(spec).__name__}")
        yield spec
