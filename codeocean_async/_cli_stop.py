"""What a CLI command leaves behind when it stops short: a signal, or an uncertain launch."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import attrs

from ._converter import unstructure
from ._errors import LaunchUncertainError
from .models import Computation, Outcome, RunParams

__all__ = [
    "STOP_SIGNALS",
    "Known",
    "check_hint",
    "is_interrupt",
    "stop_summary",
    "uncertain_advice",
    "uncertain_document",
    "uncertain_text",
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
    #: Whether the command's JSON document is printed already.
    documented: bool = False


def check_hint(params: RunParams, prog: str) -> str:
    """The command that shows what a run request started: its capsule's computation list."""
    if params.pipeline_id is not None:
        return f"`{prog} computations list {params.pipeline_id} --pipeline`"
    return f"`{prog} computations list {params.capsule_id}`"


def uncertain_text(exc: LaunchUncertainError, *, reconciled: bool) -> str:
    """What an uncertain launch means, in the command line's words (the library's message
    advises a keyword argument; the command line has its own flag, see ``uncertain_advice``)."""
    candidates = [c.id for c in exc.candidates]
    if candidates:
        what = "may have started one of these computations: " + ", ".join(candidates)
    else:
        what = "may or may not have started a computation"
        what += " (no matching computation found)" if reconciled else ""
    cause = exc.__cause__
    while isinstance(cause, LaunchUncertainError):  # a reconciliation's: the first failure's
        cause = cause.__cause__
    because = f" ({' '.join(str(cause).split())})" if cause is not None else ""
    return f"the run request {what}{because}; it was not resent"


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

    Both are ``None`` when the command had started nothing (a read, or nothing sent yet).
    """
    if known.launching is not None:
        line = (
            "the run request was on its way: it may or may not have started a computation; "
            f"check {check_hint(known.launching, prog)}"
        )
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
