"""Reconciling an uncertain launch: the ledger of what this client started, and the search.

When a run request may or may not have started a computation (``LaunchUncertainError``), the
client can look for it instead of guessing: it lists the capsule's (or pipeline's) computations
and takes the one created at or after the request whose inputs match and that this client has not
already been given. "Created at or after" is read on the server's clock, which a ``Date`` header
gives only when it is believable (``trusted_offset``), so a proxy with a skewed clock never makes
an old run look like the one just launched.
"""

from __future__ import annotations

import email.utils
import itertools
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import anyio

from ._config import RetryPolicy
from ._errors import LaunchUncertainError
from .models import Computation, RunParams
from .models.parent import Parent

__all__ = [
    "MAX_CLOCK_SKEW",
    "LaunchLedger",
    "Parent",
    "earliest_created",
    "reconcile",
    "server_clock_offset",
    "trusted_offset",
]

logger = logging.getLogger("codeocean_async")

# ``created`` has whole-second resolution and the server's clock is read to the second.
_CLOCK_SLACK = 2.0
#: A ``Date`` header this far from the local clock is believed only as a launch measured it.
MAX_CLOCK_SKEW = 300.0
# ``created`` is read before the answer arrives: a measured offset runs a little low.
_MEASURE_SLACK = 10.0
_LEDGER_SIZE = 100_000
_SETTLE_POLL = 0.05


class LaunchLedger:
    """What this client's launches have taught it: the computations it started (and whose
    capsule or pipeline each belongs to, which a computation's JSON does not say), its owner id.
    """

    def __init__(self) -> None:
        self._claimed: OrderedDict[str, Parent] = OrderedDict()
        # Run requests on their way, by their RunParams (frozen: hashable by value), each with
        # the number it was given when it started.
        self._in_flight: dict[RunParams, set[int]] = {}
        self._numbers = itertools.count()
        self.owner: str | None = None
        #: The data assets this client's captures created (never reconciled to again).
        self.captured: OrderedDict[str, None] = OrderedDict()
        #: The server's clock minus the local one as this client's own launches measured it:
        #: ``created`` of a computation minus the local time its run request was answered.
        self.measured: float | None = None

    def launching(self, params: RunParams) -> _OnItsWay:
        """Count a run request as on its way while the ``with`` block runs."""
        return _OnItsWay(self._in_flight, params, next(self._numbers))

    def in_flight(self, params: RunParams) -> frozenset[int]:
        """The identical run requests of this client on their way now."""
        return frozenset(self._in_flight.get(params, ()))

    async def settled(self, params: RunParams, requests: frozenset[int], *, bound: float) -> bool:
        """Wait (at most ``bound`` seconds) until none of ``requests`` is on its way any more.

        Those requests were on their way when a listing was taken, so one may be about to be
        answered with a computation the listing shows; once answered, its computation is
        claimed and cannot be taken twice. Requests started later cannot be in that listing,
        so they are not waited for: identical specs keep launching. ``False``: still waiting.
        """
        with anyio.move_on_after(bound):
            while requests & self.in_flight(params):  # noqa: ASYNC110 - no event for this
                await anyio.sleep(_SETTLE_POLL)
            return True
        return False

    def claim(self, computation: Computation, parent: Parent) -> None:
        """Remember ``computation`` as started by this client (it is never reconciled to again)."""
        self._claimed[computation.id] = parent
        if len(self._claimed) > _LEDGER_SIZE:
            self._claimed.popitem(last=False)
        if computation.owner:
            self.owner = computation.owner

    def claim_asset(self, data_asset_id: str) -> None:
        """Remember a data asset as created by this client's capture."""
        self.captured[data_asset_id] = None
        if len(self.captured) > _LEDGER_SIZE:
            self.captured.popitem(last=False)

    def parent_of(self, computation_id: str) -> Parent | None:
        """The ``("capsules" | "pipelines", id)`` a computation this client started belongs to."""
        return self._claimed.get(computation_id)

    def __contains__(self, computation_id: object) -> bool:
        return computation_id in self._claimed


class _OnItsWay:
    """One run request counted in a ledger's in-flight record while its block runs (a plain
    context manager: cheaper per launch than a generator-based one)."""

    __slots__ = ("_in_flight", "_number", "_numbers", "_params")
    _numbers: set[int]  # the spec's requests on their way, set on entry

    def __init__(self, in_flight: dict[RunParams, set[int]], params: RunParams, number: int):
        self._in_flight, self._params, self._number = in_flight, params, number

    def __enter__(self) -> None:
        self._numbers = self._in_flight.setdefault(self._params, set())
        self._numbers.add(self._number)

    def __exit__(self, *_: object) -> None:
        numbers = self._numbers  # (kept from the entry: the spec is hashed once less)
        numbers.discard(self._number)
        if not numbers:
            self._in_flight.pop(self._params, None)


def server_clock_offset(last_server_date: tuple[str, float] | None) -> float:
    """Seconds to add to local time to get the server's, from its last ``Date`` header."""
    if last_server_date is None:
        return 0.0
    text, received_at = last_server_date
    try:
        return email.utils.parsedate_to_datetime(text).timestamp() - received_at
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0


class Created(Protocol):
    """Anything a request may have made, with its ``created`` time on the server's clock."""

    @property
    def created(self) -> int: ...


def trusted_offset(
    offset: float, listed: Sequence[Created], *, now: float, measured: float | None
) -> float:
    """The server clock offset to compare ``created`` times with (see ``LaunchLedger.measured``).

    The ``Date`` header's ``offset`` is believed when it is within ``MAX_CLOCK_SKEW`` or agrees
    with ``measured`` (what this client's own launches showed of the clock ``created`` is read
    on), and nothing listed was created after the "now" it gives. Otherwise ``measured`` is
    used, else the local clock (a proxy with a skewed clock must not make an old run look new).
    """
    listed_after_now = any(c.created > now + offset + _CLOCK_SLACK for c in listed)
    agrees = measured is not None and abs(offset - measured) <= _MEASURE_SLACK
    if not listed_after_now and (abs(offset) <= MAX_CLOCK_SKEW or agrees):
        return offset
    fallback = 0.0 if measured is None else measured
    logger.warning(
        "the server's Date header is %.0f s off this machine's clock, which its computations "
        "do not bear out: reconciling with an offset of %.0f s",
        offset,
        fallback,
    )
    return fallback


def earliest_created(
    sent_at: float, listed: Sequence[Created], *, offset: float, measured: float | None
) -> float:
    """The earliest ``created`` (server clock) of what a request sent at ``sent_at`` (local
    clock) can have made, ``offset`` being what the ``Date`` header says (``trusted_offset``)."""
    offset = trusted_offset(offset, listed, now=time.time(), measured=measured)
    return math.floor(sent_at + offset) - _CLOCK_SLACK


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
        try:
            listed = await list_computations(target)
        except Exception as exc:  # a CodeOceanError, or anything else from below
            logger.warning("cannot reconcile the run of %s: listing failed: %s", target, exc)
            raise error from exc
        # An identical request of this client that was on its way while the listing was taken
        # may be about to be answered with a computation it shows: let it be answered (and claim
        # it) first. Requests started after this point cannot be in the listing.
        settled = await ledger.settled(
            params, ledger.in_flight(params), bound=max(policy.timeout, policy.settle)
        )
        # The listing's own Date header gives the server's clock, which `created` is read on.
        earliest = earliest_created(
            error.sent_at, listed, offset=clock_offset(), measured=ledger.measured
        )
        found = [
            c
            for c in listed
            if c.created >= earliest
            and c.id not in ledger
            and (ledger.owner is None or c.owner in (None, ledger.owner))
            and _matches(c, params)
        ]
        if found and not settled:
            ids = ", ".join(c.id for c in found)
            raise LaunchUncertainError(
                f"the run request may have started {ids}, but an identical request still on its "
                "way may have started it instead; it was not resent",
                request=error.request,
                sent_at=error.sent_at,
                candidates=tuple(found),
            ) from error
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
