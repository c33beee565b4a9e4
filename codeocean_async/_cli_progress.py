"""The run-many command: specs from JSON lines, live progress from batch events, a row per spec."""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO, cast

import anyio

from ._cli_output import PROG, Exit, Output, UsageError, duration
from ._cli_parser import check_run_many_options
from ._cli_stop import BatchRecord
from ._client import ENV_TOKEN
from ._config import DEFAULT_MAX_REQUESTS_PER_SECOND
from ._errors import AuthenticationError
from ._specs import read_specs
from .models import Finished, Launched, LaunchFailed, LaunchRetried, Relaunched, RunParams
from .models.batch import BatchCancelled, Event, LaunchOutcome, RunOutcome, StateChanged

if TYPE_CHECKING:
    from ._client import AsyncCodeOcean
    from ._scheduler import Strategy

__all__ = ["LiveLine", "PlainLines", "Tally", "load_specs", "run_many"]

#: The live line is redrawn at most this often (seconds), and at least once a second.
REFRESH = 0.1
Clock = Callable[[], float]
_STATES = ("initializing", "running", "finalizing")


def load_specs(source: str) -> list[RunParams]:
    """The run specs of a JSON lines file (``-``: stdin); ``UsageError`` names the bad line."""
    name = "<stdin>" if source == "-" else source
    try:
        return read_specs(sys.stdin if source == "-" else source, name=name)
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None


class Tally:
    """What a batch's events said so far: launches, retries, each spec's state or outcome."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.launched = 0  # computations started, relaunches included
        self.retries = 0
        self.relaunches = 0
        self.failed_launches = 0
        self.states: dict[int, str] = {}  # spec index -> the state of its current computation
        self.outcomes: dict[int, str] = {}  # spec index -> the outcome its run finished with

    def add(self, event: Event) -> None:
        if isinstance(event, Launched | Relaunched):
            self.launched += 1
            if isinstance(event, Relaunched):
                self.relaunches += 1
            self.outcomes.pop(event.index, None)
            self.states[event.index] = str(event.computation.state)
        elif isinstance(event, LaunchRetried):
            self.retries += 1
        elif isinstance(event, LaunchFailed):
            self.failed_launches += 1
            self.states.pop(event.index, None)
        elif isinstance(event, StateChanged) and event.index is not None:
            self.states[event.index] = str(event.computation.state)
        elif isinstance(event, Finished) and event.index is not None:
            self.states.pop(event.index, None)
            self.outcomes[event.index] = str(event.computation.outcome)

    def line(self, elapsed: float, *, waiting: bool) -> str:
        """One line: elapsed, done/total and rate, then counts per state, retries, failures."""
        done = len(self.outcomes) if waiting else self.launched
        not_ok = sum(1 for outcome in self.outcomes.values() if outcome != "succeeded")
        head = f"{duration(int(elapsed))}  {'finished' if waiting else 'launched'} {done}/"
        head += f"{self.total}" + (f" ({not_ok} not succeeded)" if not_ok else "")
        head += f"  {done * 60 / elapsed:.1f}/min" if elapsed >= 1 else "  -/min"
        parts = [head]
        if waiting:
            counts = dict.fromkeys(_STATES, 0)
            for state in self.states.values():
                counts[state] = counts.get(state, 0) + 1
            parts.append(f"launched {self.launched}")
            parts.append(", ".join(f"{state} {n}" for state, n in counts.items()))
        failures = f"retries {self.retries}, failed launches {self.failed_launches}"
        parts.append(failures + (f", relaunched {self.relaunches}" if self.relaunches else ""))
        return " | ".join(parts)


class PlainLines:
    """Progress as lines: each launch, failed launch, relaunch and finished run."""

    def __init__(self, ui: Output, total: int) -> None:
        self.ui = ui
        self.tally = Tally(total)

    def on_event(self, event: Event) -> None:
        self.tally.add(event)
        self.ui.batch_event(event)

    async def refresh(self) -> None:
        """Nothing to redraw."""

    def close(self) -> None:
        """Nothing to finish."""


class LiveLine:
    """Progress on one terminal line, rewritten in place at most every ``REFRESH`` seconds."""

    def __init__(self, stream: TextIO, total: int, *, waiting: bool, clock: Clock = time.monotonic):
        self.stream = stream
        self.tally = Tally(total)
        self.waiting = waiting
        self._clock = clock
        self._started = clock()
        self._drawn_at = -math.inf
        self._dirty = True
        self._open = False

    def draw(self) -> None:
        """Rewrite the line now: ``\\r``, the text (cut to the terminal's width), clear to end."""
        now = self._clock()
        width = shutil.get_terminal_size().columns
        text = self.tally.line(now - self._started, waiting=self.waiting)[: max(width - 1, 20)]
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()
        self._drawn_at, self._dirty, self._open = now, False, True

    def on_event(self, event: Event) -> None:
        self.tally.add(event)
        self._dirty = True
        if self._clock() - self._drawn_at >= REFRESH:
            self.draw()

    async def refresh(self) -> None:
        """Redraw when an event waits to be shown, and every second for the elapsed time."""
        while True:
            if self._dirty or self._clock() - self._drawn_at >= 1:
                self.draw()
            await anyio.sleep(REFRESH)

    def close(self) -> None:
        """Draw the last state and end the line (once)."""
        if self._open:
            self.draw()
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


async def run_many(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    """``run-many``: launch (and with ``--wait``, follow) every spec, then the summary."""
    check_run_many_options(args)
    specs = load_specs(args.specs)
    live = ui.out.isatty() and not ui.json_mode
    progress: PlainLines | LiveLine = (
        LiveLine(ui.out, len(specs), waiting=args.wait) if live else PlainLines(ui, len(specs))
    )

    record = ui.known.batch = BatchRecord(specs, PROG, reconciled=ui.reconciling)

    def on_event(event: Event) -> None:
        record.add(event)  # what a signal leaves: the document of what is known
        if isinstance(event, BatchCancelled):
            progress.close()
            ui.cancelled(event)
            return
        progress.on_event(event)

    fanout = client.computations
    outcomes: list[LaunchOutcome] | list[RunOutcome] = []
    try:
        with anyio.CancelScope():
            async with anyio.create_task_group() as tg:
                tg.start_soon(progress.refresh)
                if not args.wait:
                    outcomes = await fanout.run_many(
                        specs,
                        concurrency=args.concurrency,
                        launch_interval=args.launch_interval,
                        on_event=on_event,
                    )
                else:
                    outcomes = await fanout.run_and_wait_many(
                        specs,
                        concurrency=args.concurrency,
                        launch_interval=args.launch_interval,
                        timeout=args.timeout,
                        relaunch_failed_starts=args.relaunch_failed_starts or 0,
                        strategy=cast("Strategy", args.strategy or "auto"),
                        max_requests_per_second=(
                            args.max_requests_per_second or DEFAULT_MAX_REQUESTS_PER_SECOND
                        ),
                        on_event=on_event,
                    )
                tg.cancel_scope.cancel()
    finally:
        progress.close()
    ui.batch(outcomes)
    # The batch stops at the first 401 and fails every spec not sent with it: with no run
    # started, the token is what is wrong.
    refused = [o.error for o in outcomes if isinstance(o.error, AuthenticationError)]
    started = any(
        o.computation is not None or (isinstance(o, RunOutcome) and o.attempts) for o in outcomes
    )
    if refused and not started:
        ui.error(f"{refused[0]} (check ${ENV_TOKEN})")
        return Exit.API_ERROR
    ok = all(
        o.succeeded and o.error is None if isinstance(o, RunOutcome) else o.ok for o in outcomes
    )
    return Exit.OK if ok else Exit.NOT_SUCCEEDED
