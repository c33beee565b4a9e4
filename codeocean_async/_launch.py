"""Starting runs: one request, never resent blindly, and reconciliation when the start is unknown.

The run request is sent once; when it may or may not have started a computation
(``LaunchUncertainError``), ``on_uncertain`` decides: raise, or reconcile (``_reconcile``). Any
failure from below is a ``CodeOceanError`` here: one that is not becomes a
``LaunchUncertainError``, since the request may have been sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Literal

import httpx

from ._errors import CodeOceanError, LaunchUncertainError
from ._http import HTTPPipeline
from ._reconcile import (
    MAX_CLOCK_SKEW,
    LaunchLedger,
    Parent,
    reconcile,
    server_clock_offset,
    trusted_offset,
)
from ._retry import OnRetry
from .models import Computation, RunParams

__all__ = [
    "MAX_CLOCK_SKEW",
    "LaunchLedger",
    "OnUncertain",
    "Parent",
    "check_on_uncertain",
    "launch",
    "parent_of",
    "reconcile",
    "server_clock_offset",
    "trusted_offset",
]

logger = logging.getLogger("codeocean_async")

#: What ``computations.run`` does when it cannot tell whether a computation started.
OnUncertain = Literal["raise", "reconcile"]


def check_on_uncertain(value: object, error: type[ValueError]) -> None:
    """Refuse an ``on_uncertain`` other than ``"raise"`` or ``"reconcile"``."""
    if value not in ("raise", "reconcile"):
        raise error(f"on_uncertain must be 'raise' or 'reconcile', not {value!r}")


def parent_of(params: RunParams) -> Parent:
    """Whose computation list a run of ``params`` appears in."""
    if params.pipeline_id is not None:
        return ("pipelines", params.pipeline_id)
    return ("capsules", params.target_id)


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
    try:
        try:
            with ledger.launching(params):
                computation = await http.request(
                    "POST",
                    "computations",
                    body=params,
                    cast_to=Computation,
                    launch=True,
                    on_retry=on_retry,
                )
        except CodeOceanError:
            raise
        except (
            Exception
        ) as exc:  # the pipeline maps everything; should it not, stay on the safe side
            raise LaunchUncertainError(
                f"the run request may or may not have started a computation ({type(exc).__name__}"
                f": {exc}); it was not resent",
                request=httpx.Request("POST", "computations"),
                sent_at=sent_at,
            ) from exc
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
            clock_offset=lambda: server_clock_offset(http.last_server_date),
        )
    ledger.claim(computation, parent_of(params))
    return computation
