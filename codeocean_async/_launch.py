"""Starting runs: one request, never resent blindly, and reconciliation when the start is unknown.

Launching's rules live here, brought to the request pipeline as hooks: the run request is not
idempotent (never resent once it may have reached the server); every launch of a client waits
for its ``LaunchGate``, which a 429 on any launch closes (``before_send``, ``on_retry``); when
the request may or may not have started a computation (``may_have_acted``), the error becomes
a ``LaunchUncertainError`` with its advice, and ``on_uncertain`` decides: raise, or reconcile
(``_reconcile``, against the server's clock as its ``Date`` headers tell it). Any failure from
below is a ``CodeOceanError`` here: one that is not becomes a ``LaunchUncertainError``, since
the request may have been sent.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx

from ._config import OnUncertain, check_on_uncertain
from ._errors import (
    APIConnectionError,
    APIStatusError,
    CodeOceanError,
    LaunchUncertainError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
)
from ._http import HTTPPipeline
from ._operations import Operation, operation
from ._reconcile import (
    MAX_CLOCK_SKEW,
    Parent,
    reconcile,
    server_clock_offset,
    trusted_offset,
)
from ._reconcile import LaunchLedger as _Ledger
from ._retry import OnRetry
from .models import Computation, RunParams

__all__ = [
    "MAX_CLOCK_SKEW",
    "LaunchGate",
    "LaunchLedger",
    "LaunchRequest",
    "OnUncertain",
    "Parent",
    "check_on_uncertain",
    "launch",
    "may_have_acted",
    "parent_of",
    "reconcile",
    "server_clock_offset",
    "trusted_offset",
]

logger = logging.getLogger("codeocean_async")


class LaunchGate:
    """One hold for every launch: a 429 on any run request holds them all until it passes.

    Code Ocean rate-limits per user, so when one launch is told to wait, every other launch of
    the client waits too rather than spending its own attempts on more 429s. The gate does not
    wait itself: it says how long is left (``remaining``), and the pipeline waits.
    """

    def __init__(self) -> None:
        self._open_at = -math.inf

    def hold(self, seconds: float) -> None:
        """Keep launches from being sent for ``seconds`` from now (a longer hold wins)."""
        self._open_at = max(self._open_at, anyio.current_time() + seconds)

    def remaining(self) -> float:
        """Seconds until no hold is in force (0 or less: open now)."""
        if self._open_at == -math.inf:
            return -math.inf  # never held (the usual case): no clock to read
        return self._open_at - anyio.current_time()


class LaunchLedger(_Ledger):
    """What this client's launches have taught it (``_reconcile.LaunchLedger``), and the gate
    every one of its launches passes (shared by its ``with_options`` copies)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = LaunchGate()


def may_have_acted(exc: BaseException) -> bool:
    """Whether a failed request may have changed something on the server."""
    if isinstance(exc, APIConnectionError):
        return exc.maybe_sent
    # A 5xx may come after the work was done; a 2xx whose body cannot be read did act.
    return isinstance(exc, (ServerError, ResponseValidationError))


class LaunchRequest:
    """The hooks one launch request (a run, a capture) brings to the pipeline: the gate before
    each attempt, a 429 closing the gate for every launch, and the request kept for the error
    that may follow. The class attributes say, for that error, what the request is, what it
    may have done, and what to do about it (a capture's subclass says it of data assets)."""

    __slots__ = ("_gate", "_on_retry", "request")
    what = "run"
    acted = "started a computation"
    advice = "Check the capsule's computations before running again"
    route = "computations"

    def __init__(self, gate: LaunchGate, on_retry: OnRetry | None) -> None:
        self._gate = gate
        self._on_retry = on_retry
        self.request: httpx.Request | None = None

    def before_send(self, request: httpx.Request) -> float:
        self.request = request
        return self._gate.remaining()

    def on_retry(self, exc: BaseException, delay: float, attempt: int) -> None:
        if isinstance(exc, RateLimitError):
            self._gate.hold(delay)  # every other launch waits too: the limit is per user
        if self._on_retry is not None:
            self._on_retry(exc, delay, attempt)

    def uncertain(self, exc: Exception, sent_at: float) -> LaunchUncertainError | None:
        """The error, with its advice, for a launch that failed with ``exc`` and may have acted;
        ``None`` when it cannot have (``exc`` is then raised as it is)."""
        request = self.request or httpx.Request("POST", self.route)
        if isinstance(exc, (APIConnectionError, APIStatusError, ResponseValidationError)):
            if not may_have_acted(exc):
                return None
            logger.warning(
                "%s %s may or may not have %s: %s",
                request.method,
                request.url.path,
                self.acted,
                exc,
            )
            return LaunchUncertainError(
                f"the {self.what} request may or may not have {self.acted} ({exc}); "
                f"it was not resent. {self.advice}, or pass on_uncertain='reconcile'.",
                request=request,
                sent_at=sent_at,
            )
        if isinstance(exc, CodeOceanError):
            return None
        # The pipeline maps everything; should it not, stay on the safe side.
        return LaunchUncertainError(
            f"the {self.what} request may or may not have {self.acted} "
            f"({type(exc).__name__}: {exc}); it was not resent",
            request=request,
            sent_at=sent_at,
        )


_RUN = operation("computations.run")
#: A pipeline's run needs the ``pipelines`` era (4.1); a Nextflow profile, 3.6.
_RUN_PIPELINE, _RUN_PROFILE = _RUN.needing("4.1.0"), _RUN.needing("3.6.0")


def _run_operation(params: RunParams) -> Operation:
    """``computations.run`` asking for the server version this run's fields need."""
    if params.pipeline_id is not None:
        return _RUN_PIPELINE
    return _RUN if params.nextflow_profile is None else _RUN_PROFILE


def parent_of(params: RunParams) -> Parent:
    """Whose computation list a run of ``params`` appears in."""
    return Parent.of(params)


async def launch(
    http: HTTPPipeline,
    params: RunParams,
    *,
    on_uncertain: OnUncertain,
    list_computations: Callable[[str], Awaitable[list[Computation]]],
    ledger: LaunchLedger,
    on_retry: OnRetry | None = None,
) -> Computation:
    """``POST /computations`` once; on an uncertain start, raise or reconcile as asked."""
    check_on_uncertain(on_uncertain, ValueError)
    sent_at = time.time()
    run = LaunchRequest(ledger.gate, on_retry)
    try:
        try:
            with ledger.launching(params):
                computation = await http.call(
                    _run_operation(params),
                    body=params,
                    cast_to=Computation,
                    idempotent=False,
                    before_send=run.before_send,
                    on_retry=run.on_retry,
                )
        except Exception as exc:
            uncertain = run.uncertain(exc, sent_at)
            if uncertain is None:
                raise
            raise uncertain from exc
        ledger.measured = computation.created - time.time()
    except LaunchUncertainError as error:
        if on_uncertain == "raise":
            raise
        computation = await reconcile(
            error,
            params,
            list_computations=list_computations,
            ledger=ledger,
            policy=http.retry,
            clock_offset=lambda: server_clock_offset(http.last_date),
        )
    ledger.claim(computation, parent_of(params))
    return computation
