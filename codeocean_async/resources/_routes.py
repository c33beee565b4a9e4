"""The routes computations and their batches share: read one, list a parent's, start a run."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from .._errors import ResponseValidationError
from .._launch import launch
from .._operations import operation
from ..models import Computation, RunParams
from ..models.parent import Parent
from ._base import Bound

if TYPE_CHECKING:
    from .._config import OnUncertain
    from .._http import HTTPPipeline
    from .._retry import OnRetry

__all__ = ["computations_of", "get_computation", "start_run"]


async def get_computation(http: HTTPPipeline, computation_id: str) -> Computation:
    """``GET /computations/{computation_id}``; an answer about another run does not fit."""
    computation = await http.call(
        operation("computations.get"),
        path_params={"computation_id": computation_id},
        cast_to=Computation,
    )
    if computation.id != computation_id:
        raise ResponseValidationError(
            f"GET /computations/{computation_id} answered with computation "
            f"{computation.id!r}, not the one asked for",
            errors=(f"expected {computation_id!r} @ $.id",),
        )
    return computation


async def computations_of(http: HTTPPipeline, parent: Parent) -> list[Computation]:
    """Every computation of a capsule or pipeline: ``GET /{capsules|pipelines}/{id}/computations``.

    The listing the waits on many poll and a reconciliation reads, whichever kind of parent.
    """
    return await http.call(
        operation(f"{parent.kind}.list_computations"),
        path_params=parent.path_params,
        cast_to=list[Computation],
    )


def start_run(
    bound: Bound,
    params: RunParams,
    on_uncertain: OnUncertain | None,
    on_retry: OnRetry | None = None,
) -> Awaitable[Computation]:
    """Start a checked ``RunParams`` (``run`` and the batches both come through here).

    It hands back ``launch``'s own coroutine, no frame of its own around it (each layer of
    coroutines costs again on every resumption of a launch).
    """

    async def list_computations(target_id: str) -> list[Computation]:
        # (Only an uncertain launch lists: the parent is worked out then, not on every launch.)
        return await computations_of(bound.http, Parent(Parent.of(params).kind, target_id))

    return launch(
        bound.http,
        params,
        on_uncertain=on_uncertain or bound.options.on_uncertain,
        list_computations=list_computations,
        ledger=bound.ledger,
        on_retry=on_retry,
    )
