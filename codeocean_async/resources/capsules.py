"""Capsule and pipeline routes: metadata and computation listings."""

from __future__ import annotations

from ..models import Capsule, Computation
from ._base import Resource

__all__ = ["Capsules", "Pipelines"]


class _CapsuleRoutes(Resource):
    """The routes capsules and pipelines share, under ``/capsules`` or ``/pipelines``."""

    _route: str
    _id_name: str

    async def _get(self, target_id: str) -> Capsule:
        return await self._http.request(
            "GET",
            f"{self._route}/{{{self._id_name}}}",
            path_params={self._id_name: target_id},
            cast_to=Capsule,
        )

    async def _list_computations(self, target_id: str) -> list[Computation]:
        return await self._http.request(
            "GET",
            f"{self._route}/{{{self._id_name}}}/computations",
            path_params={self._id_name: target_id},
            cast_to=list[Computation],
        )


class Capsules(_CapsuleRoutes):
    """``client.capsules``: capsule metadata and the capsule's computations."""

    _route = "capsules"
    _id_name = "capsule_id"

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


class Pipelines(_CapsuleRoutes):
    """``client.pipelines``: pipeline metadata and runs (pipelines use the capsule models)."""

    _route = "pipelines"
    _id_name = "pipeline_id"

    async def get(self, pipeline_id: str) -> Capsule:
        """The pipeline's metadata. ``GET /pipelines/{pipeline_id}``."""
        return await self._get(pipeline_id)

    async def list_computations(self, pipeline_id: str) -> list[Computation]:
        """Every computation of the pipeline, in one unpaginated list.

        ``GET /pipelines/{pipeline_id}/computations``.
        """
        return await self._list_computations(pipeline_id)
