"""Starting runs: one request, never resent blindly, and reconciliation when the start is unknown.

When a run request may or may not have started a computation (``LaunchUncertainError``), the
client can look for it instead of guessing: it lists the capsule's (or pipeline's) computations
and takes the one created at or after the request whose inputs match and that this client has not
already been given. It never sends the run request again.
"""

from __future__ import annotations

import email.utils
import logging
import math
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Literal

import anyio

from ._config import RetryPolicy
from ._errors import CodeOceanError, LaunchUncertainError
from ._http import HTTPPipeline
from ._retry import OnRetry
from .models import Computation, RunParams

__all__ = [
    "LaunchLedger",
    "OnUncertain",
    "Parent",
    "check_on_uncertain",
    "launch",
    "parent_of",
    "reconcile",
    "server_clock_offset",
]

logger = logging.getLogger("codeocean_async")

#: ``("capsules" | "pipelines", id)``: whose computation list holds a run.
Parent = tuple[str, str]
#: What ``computations.run`` does when it cannot tell whether a computation started.
OnUncertain = Literal["raise", "reconcile"]

# ``created`` has whole-second resolution and the server's clock is read to the second.
_CLOCK_SLACK = 2.0
_LEDGER_SIZE = 100_000
_SETTLE_POLL = 0.05


class LaunchLedger:
    """What this client's launches have taught it: the computations it started (and whose
    capsule or pipeline each belongs to, which a computation's JSON does not say), its owner id.
    """

    def __init__(self) -> None:
        self._claimed: OrderedDict[str, Parent] = OrderedDict()
        self._in_flight: Counter[RunParams] = Counter()  # frozen: hashable by value
        self.owner: str | None = None

    @contextmanager
    def launching(self, params: RunParams) -> Iterator[None]:
        """Count a run request as on its way while the block runs."""
        self._in_flight[params] += 1
        try:
            yield
        finally:
            self._in_flight[params] -= 1
            if not self._in_flight[params]:
                del self._in_flight[params]

    async def settled(self, params: RunParams) -> None:
        """Wait until no identical run request of this client is on its way.

        Those requests may be about to receive the computation a reconciliation would find;
        once they are answered, their computations are claimed and cannot be taken twice.
        """
        while self._in_flight.get(params):  # noqa: ASYNC110 - counts change without an event
            await anyio.sleep(_SETTLE_POLL)

    def claim(self, computation: Computation, parent: Parent) -> None:
        """Remember ``computation`` as started by this client (it is never reconciled to again)."""
        self._claimed[computation.id] = parent
        if len(self._claimed) > _LEDGER_SIZE:
            self._claimed.popitem(last=False)
        if computation.owner:
            self.owner = computation.owner

    def parent_of(self, computation_id: str) -> Parent | None:
        """The ``("capsules" | "pipelines", id)`` a computation this client started belongs to."""
        return self._claimed.get(computation_id)

    def __contains__(self, computation_id: object) -> bool:
        return computation_id in self._claimed


def server_clock_offset(last_server_date: tuple[str, float] | None) -> float:
    """Seconds to add to local time to get the server's, from its last ``Date`` header."""
    if last_server_date is None:
        return 0.0
    text, received_at = last_server_date
    try:
        return email.utils.parsedate_to_datetime(text).timestamp() - received_at
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0


def _matches(computation: Computation, params: RunParams) -> bool:
    """Whether ``computation`` could be the one ``params`` started (the inputs it reports)."""
    attached = {(a.id, a.mount) for a in computation.data_assets or ()}
    attached_ids = {a.id for a in computation.data_assets or ()}
    for asset in params.data_assets or ():
        seen = (asset.id, asset.mount) in attached if asset.mount else asset.id in attached_ids
        if not seen:
            return False
    reported = computation.parameters or ()
    if params.parameters is not None:
        positional = [p.value for p in reported if not p.param_name]
        if positional != list(params.parameters):
            return False
    named = {(p.param_name, p.value) for p in reported if p.param_name}
    for param in params.named_parameters or ():
        if (param.param_name, param.value) not in named:
            return False
    profile = params.nextflow_profile
    return profile is None or computation.nextflow_profile == profile


async def reconcile(
    error: LaunchUncertainError,
    params: RunParams,
    *,
    list_computations: Callable[[str], Awaitable[list[Computation]]],
    ledger: LaunchLedger,
    policy: RetryPolicy,
    clock_offset: Callable[[], float],
) -> Computation:
    """Find the computation an uncertain run request started, or re-raise ``error``.

    ``clock_offset()`` gives the server's clock minus the local one, as last seen.

    Looks ``policy.reconcile_attempts`` times, ``policy.settle`` seconds apart. Raises ``error``
    when nothing matches, and a new ``LaunchUncertainError`` listing the ``candidates`` when more
    than one does.
    """
    target = params.target_id
    for look in range(policy.reconcile_attempts):
        if look:
            await anyio.sleep(policy.settle)
        # An identical request of this client on its way may be about to receive the computation
        # this look would find: let it be answered (and claim it) first.
        await ledger.settled(params)
        try:
            listed = await list_computations(target)
        except CodeOceanError as exc:
            logger.warning("cannot reconcile the run of %s: listing failed: %s", target, exc)
            raise error from exc
        # The listing's own Date header gives the server's clock, which `created` is read on.
        earliest = math.floor(error.sent_at + clock_offset()) - _CLOCK_SLACK
        found = [
            c
            for c in listed
            if c.created >= earliest
            and c.id not in ledger
            and (ledger.owner is None or c.owner in (None, ledger.owner))
            and _matches(c, params)
        ]
        if len(found) == 1:
            logger.warning(
                "reconciled an uncertain run of %s: computation %s started", target, found[0].id
            )
            return found[0]
        if len(found) > 1:
            ids = ", ".join(c.id for c in found)
            raise LaunchUncertainError(
                f"the run request may have started one of several matching computations ({ids});"
                " it was not resent",
                request=error.request,
                sent_at=error.sent_at,
                candidates=tuple(found),
            ) from error
    logger.warning("no computation of %s matches the uncertain run request", target)
    raise LaunchUncertainError(
        f"the run request may or may not have started a computation; it was not resent, and "
        f"{policy.reconcile_attempts} looks at the computations of {target} found none that "
        f"matches it (cause: {error.__cause__})",
        request=error.request,
        sent_at=error.sent_at,
    ) from error.__cause__


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
