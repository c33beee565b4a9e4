"""Capsule and pipeline routes: metadata and computation listings."""

from __future__ import annotations

from .._operations import operation
from ..models import Capsule, Computation
from ..models.parent import Parent, ParentKind
from ._base import Resource
from ._routes import computations_of

__all__ = ["Capsules", "Pipelines"]


class _ParentRoutes(Resource):
    """The routes capsules and pipelines share, under ``/capsules`` or ``/pipelines``."""

    _kind: ParentKind

    async def _get(self, target_id: str) -> Capsule:
        parent = Parent(self._kind, target_id)
        return await self._http.call(
            operation(f"{self._kind}.get"), path_params=parent.path_params, cast_to=Capsule
        )

    async def _list_computations(self, target_id: str) -> list[Computation]:
        return await computations_of(self._http, Parent(self._kind, target_id))


class Capsules(_ParentRoutes):
    """``client.capsules``: capsule metadata and the capsule's computations."""

    _kind = "capsules"

    async def get(self, capsule_id: str) -> Capsule:
        """The capsule's metadata. ``GET /capsules/{capsule_id}``.

        Raises ``NotFoundError`` for an unknown ID, ``ValueError`` for a malformed one.
        """
        return await self._get(capsule_id)

    async def list_computations(self, capsule_id: str) -> list[Computation]:
        """Every computation of the capsule (all users'), in one unpaginated list.

        ``GET /capsules/{capsule_id}/computations``.
        """
        return await self._list_computations(capsule_id)


class Pipelines(_ParentRoutes):
    """``client.pipelines``: pipeline metadata and runs (pipelines use the capsule models)."""

    _kind = "pipelines"

    async def get(self, pipeline_id: str) -> Capsule:
        """The pipeline's metadata. ``GET /pipelines/{pipeline_id}``."""
        return await self._get(pipeline_id)

    async def list_computations(self, pipeline_id: str) -> list[Computation]:
        """Every computation of the pipeline, in one unpaginated list.

        ``GET /pipelines/{pipeline_id}/computations``.
        """
        return await self._list_computations(pipeline_id)
