"""What a CLI command leaves behind when it stops short: a signal, or an uncertain launch."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import attrs

from ._cli_format import one_line, plain, uncertain_text
from ._converter import unstructure
from ._errors import CodeOceanError, LaunchUncertainError
from .models import (
    BatchCancelled,
    Computation,
    Event,
    Finished,
    Launched,
    LaunchFailed,
    Outcome,
    Relaunched,
    RunParams,
    StateChanged,
)

__all__ = [
    "STOP_SIGNALS",
    "BatchRecord",
    "Known",
    "check_hint",
    "is_interrupt",
    "on_its_way",
    "stop_summary",
    "uncertain_advice",
    "uncertain_document",
    "until_stopped",
]

T = TypeVar("T")

#: The signals that stop a command, and the exit code of each (128 + the signal's number).
STOP_SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143}


@attrs.define
class Known:
    """What a command has done so far: what to report when a signal stops it."""

    #: A run request on its way (sent, or about to be): it may or may not start a computation.
    launching: RunParams | None = None
    #: The computation the command's run request started.
    started: Computation | None = None
    #: The ID of the computation a wait follows.
    waiting_on: str | None = None
    #: The last state a wait saw.
    last_seen: Computation | None = None
    #: What a batch's events said so far (``run-many``).
    batch: BatchRecord | None = None
    #: Whether the command's JSON document is printed already.
    documented: bool = False


@attrs.define
class BatchRecord:
    """What a batch's events said of each spec so far, for the document a stopped ``run-many``
    leaves: the computation last seen and every one started, the launch error, and (from
    ``BatchCancelled``) which run requests were on their way and which were never sent."""

    specs: list[RunParams]
    prog: str
    reconciled: bool = False
    seen: dict[int, Computation] = attrs.Factory(dict)
    attempts: dict[int, list[str]] = attrs.Factory(dict)
    errors: dict[int, CodeOceanError] = attrs.Factory(dict)
    cancelled: BatchCancelled | None = None

    def add(self, event: Event) -> None:
        """Take in one of the batch's events."""
        if isinstance(event, Launched | Relaunched):
            self.seen[event.index] = event.computation
            self.attempts.setdefault(event.index, []).append(event.computation.id)
        elif isinstance(event, LaunchFailed):
            self.errors[event.index] = event.error
        elif isinstance(event, StateChanged | Finished) and event.index is not None:
            self.seen[event.index] = event.computation
        elif isinstance(event, BatchCancelled):
            self.cancelled = event

    def document(self) -> list[dict[str, Any]]:
        """One object per spec, in input order, as in ``run-many --json`` (``index``, ``spec``,
        ``computation`` as last seen, ``attempts``, ``error``, ``uncertain``), and whether its
        run request was on its way (``in_flight``: it may or may not have started one) or
        never sent (``not_sent``)."""
        cancelled = self.cancelled or BatchCancelled(started={}, in_flight=(), not_sent=())
        docs = []
        for index, spec in enumerate(self.specs):
            attempts = list(self.attempts.get(index, ()))
            attempts += [i for i in cancelled.started.get(index, ()) if i not in attempts]
            seen = self.seen.get(index)
            in_flight, not_sent = index in cancelled.in_flight, index in cancelled.not_sent
            error = self.errors.get(index)
            if not_sent:
                text: str | None = "not sent"
            elif in_flight:
                text = f"interrupted: {on_its_way(spec, self.prog)}"
            elif isinstance(error, LaunchUncertainError):
                text = uncertain_text(error, reconciled=self.reconciled)
            elif error is not None:
                text = one_line(str(error))
            elif seen is None and not attempts:
                text = "not known: the batch was stopped before it said"
            else:
                text = None
            docs.append(
                {
                    "index": index,
                    "spec": unstructure(spec),
                    "computation": plain(seen)
                    if seen is not None
                    else ({"id": attempts[-1], "state": None} if attempts else None),
                    "attempts": attempts,
                    "error": text,
                    "uncertain": in_flight or isinstance(error, LaunchUncertainError),
                    "in_flight": in_flight,
                    "not_sent": not_sent,
                }
            )
        return docs


def on_its_way(params: RunParams, prog: str) -> str:
    """What a run request on its way when a signal came leaves behind."""
    return (
        "the run request was on its way: it may or may not have started a computation; "
        f"check {check_hint(params, prog)}"
    )


def check_hint(params: RunParams, prog: str) -> str:
    """The command that shows what a run request started: its capsule's computation list."""
    if params.pipeline_id is not None:
        return f"`{prog} computations list {params.pipeline_id} --pipeline`"
    return f"`{prog} computations list {params.capsule_id}`"


def uncertain_advice(specs: list[RunParams], prog: str, *, reconciled: bool) -> str:
    """What to do about uncertain launches: check the listings, or let the client reconcile."""
    hints = list(dict.fromkeys(check_hint(spec, prog) for spec in specs))
    where = " and ".join(hints) if len(hints) <= 3 else "the capsules' computations"
    again = "it" if len(specs) == 1 else "those specs"
    advice = f"check {where} before running {again} again"
    return advice + ("" if reconciled else ", or pass --on-uncertain reconcile")


def uncertain_document(params: RunParams, error: str, candidates: list[str]) -> dict[str, Any]:
    """The JSON document of a run request that may or may not have started a computation."""
    return {
        "computation": None,
        "uncertain": True,
        "spec": unstructure(params),
        "candidates": candidates,
        "error": error,
    }


def stop_summary(known: Known, prog: str) -> tuple[str | None, Any]:
    """What a stopped command leaves behind: a line saying it, and the JSON document of it.

    Both are ``None`` when the command had started nothing (a read, or nothing sent yet); a
    batch has no line (its ``BatchCancelled`` event is said as it comes).
    """
    if known.batch is not None:  # the batch says what it leaves (``Output.cancelled``)
        return None, known.batch.document()
    if known.launching is not None:
        line = on_its_way(known.launching, prog)
        return line, uncertain_document(known.launching, f"interrupted: {line}", [])
    computation_id = known.started.id if known.started is not None else known.waiting_on
    if computation_id is None:
        return None, None
    last = known.last_seen or known.started
    what = f"computation {computation_id}" + (" was started and" if known.started else "")
    if last is not None and last.outcome is not Outcome.NOT_FINISHED:
        return f"{what} finished: {last.outcome}", last
    seen = f"last seen {last.state}" if last is not None else "no state seen yet"
    line = f"{what} keeps running ({seen}); follow it with `{prog} wait {computation_id}`"
    return line, last if last is not None else {"id": computation_id, "state": None}


async def until_stopped(fn: Callable[[], Awaitable[T]]) -> tuple[T | None, int | None]:
    """Run ``fn()``; SIGINT or SIGTERM cancels it.

    Returns ``(its result, None)``, or ``(None, exit code)`` when a signal stopped it (130 for
    SIGINT, 143 for SIGTERM). Its exceptions pass through as they are (no exception group).
    Where signals cannot be received (not the main thread, a platform without them), ``fn``
    simply runs.
    """
    stopped: list[int] = []
    results: list[T] = []
    failures: list[Exception] = []
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            await tg.start(_receive, scope, stopped)
            try:
                results.append(await fn())
            except Exception as exc:  # re-raised below, outside the task group
                failures.append(exc)
            tg.cancel_scope.cancel()
    if failures:
        raise failures[0]
    if results:
        return results[0], None
    if stopped:
        return None, stopped[0]
    raise RuntimeError(
        "the command was cancelled by something other than a signal"
    )  # pragma: no cover


async def _receive(
    scope: anyio.CancelScope,
    stopped: list[int],
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    with contextlib.ExitStack() as stack:
        try:
            signals = stack.enter_context(anyio.open_signal_receiver(*STOP_SIGNALS))
        except (NotImplementedError, RuntimeError, ValueError):
            task_status.started()
            return
        task_status.started()
        async for signum in signals:
            stopped.append(STOP_SIGNALS[signal.Signals(signum)])
            scope.cancel()
            return


def is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C, possibly wrapped by a task group with the cancellations it caused."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    leaves = getattr(exc, "exceptions", None)  # an exception group (builtin or backported)
    if not isinstance(leaves, tuple) or not leaves:
        return False
    return any(is_interrupt(e) for e in leaves) and all(
        is_interrupt(e) or isinstance(e, anyio.get_cancelled_exc_class()) for e in leaves
    )
