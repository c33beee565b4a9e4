"""Capsule and pipeline routes: one implementation (``_ParentRoutes``) under ``/capsules`` and
``/pipelines``: metadata, computations, delete and archive, the App Panel, permissions,
attached data assets and Git sync; releases and searches come from their mixins."""

from __future__ import annotations

from collections.abc import Iterable

from .._operations import operation
from ..models import Capsule, Computation
from ..models.app_panel import AppPanel
from ..models.parent import Parent
from ..models.releases import GitSyncResults
from ..models.shared import DataAssetAttachParams, DataAssetAttachResults, Permissions
from ._attach import attach, detach
from ._routes import computations_of
from .capsule_search import SearchRoutes
from .releases import ReleaseRoutes

__all__ = ["Capsules", "Pipelines"]


def _version_query(version: int | None) -> dict[str, str] | None:
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int):
        raise TypeError(f"version must be an int, not {type(version).__name__}")
    if version < 0:
        raise ValueError(f"version must be >= 0, not {version}")
    return {"version": str(version)}  # 0 is sent (the official SDK drops it)


class _ParentRoutes(ReleaseRoutes, SearchRoutes):
    """The routes capsules and pipelines share, under ``/capsules`` or ``/pipelines``.

    ``id`` is the capsule's ID on ``client.capsules`` and the pipeline's on
    ``client.pipelines``; every ID is checked before anything is sent.
    """

    def _parent(self, target_id: str) -> Parent:
        return Parent(self._kind, target_id)

    async def _get(self, target_id: str) -> Capsule:
        parent = self._parent(target_id)
        return await self._http.call(
            operation(f"{self._kind}.get"), path_params=parent.path_params, cast_to=Capsule
        )

    async def _list_computations(self, target_id: str) -> list[Computation]:
        return await computations_of(self._http, self._parent(target_id))

    async def delete(self, id: str) -> None:
        """Delete it. The server refuses (``PermissionDeniedError``, 403) one not archived
        first, one released, or one the caller does not own (unless an admin).
        ``DELETE /{capsules|pipelines}/{id}``."""
        await self._http.call(
            operation(f"{self._kind}.delete"), path_params=self._parent(id).path_params
        )

    async def archive(self, id: str) -> None:
        """Archive it. ``PATCH /{capsules|pipelines}/{id}/archive?archive=true``.

        The query's boolean is sent as ``true``/``false`` (the official SDK sends Python's
        ``True``/``False``; the server reads both spellings).
        """
        await self._set_archived(id, True)

    async def unarchive(self, id: str) -> None:
        """Bring it back from the archive. ``PATCH .../archive?archive=false``."""
        await self._set_archived(id, False)

    async def _set_archived(self, target_id: str, archived: bool) -> None:
        await self._http.call(
            operation(f"{self._kind}.archive"),
            path_params=self._parent(target_id).path_params,
            params={"archive": "true" if archived else "false"},
        )

    async def get_app_panel(self, id: str, *, version: int | None = None) -> AppPanel:
        """Its App Panel: data assets, parameters and categories, results, processes.

        ``version``: a released version's panel (``0`` is sent too); the latest without it.
        ``GET /{capsules|pipelines}/{id}/app_panel[?version=N]``.
        """
        return await self._http.call(
            operation(f"{self._kind}.get_app_panel"),
            path_params=self._parent(id).path_params,
            params=_version_query(version),
            cast_to=AppPanel,
        )

    async def get_permissions(self, id: str) -> Permissions:
        """Who may do what with it. ``GET /{capsules|pipelines}/{id}/permissions``."""
        return await self._http.call(
            operation(f"{self._kind}.get_permissions"),
            path_params=self._parent(id).path_params,
            cast_to=Permissions,
        )

    async def update_permissions(self, id: str, permissions: Permissions) -> None:
        """Set who may do what (fields left unset are not sent).
        ``POST /{capsules|pipelines}/{id}/permissions``."""
        if not isinstance(permissions, Permissions):
            raise TypeError(f"permissions must be a Permissions, not {type(permissions).__name__}")
        await self._http.call(
            operation(f"{self._kind}.update_permissions"),
            path_params=self._parent(id).path_params,
            body=permissions,
            idempotent=True,  # it sets the whole state: sending it twice is sending it once
        )

    async def attach_data_assets(
        self, id: str, data_assets: Iterable[DataAssetAttachParams | str]
    ) -> list[DataAssetAttachResults]:
        """Attach data assets (``"ID"``, ``"ID:MOUNT"`` or ``DataAssetAttachParams``); what
        each attach did. ``POST /{capsules|pipelines}/{id}/data_assets``."""
        parent = self._parent(id)
        return await attach(
            self._http,
            operation(f"{self._kind}.attach_data_assets"),
            parent.path_params,
            data_assets,
        )

    async def detach_data_assets(self, id: str, data_asset_ids: Iterable[str]) -> None:
        """Detach data assets by ID (at least one). ``DELETE /{capsules|pipelines}/{id}/
        data_assets/`` with the JSON array of IDs as its body."""
        parent = self._parent(id)
        await detach(
            self._http,
            operation(f"{self._kind}.detach_data_assets"),
            parent.path_params,
            data_asset_ids,
        )

    async def sync(self, id: str) -> GitSyncResults:
        """Sync it with its linked Git repository: what was pushed and pulled.
        ``POST /{capsules|pipelines}/{id}/sync`` (Code Ocean 4.6 or later)."""
        return await self._http.call(
            operation(f"{self._kind}.sync"),
            path_params=self._parent(id).path_params,
            cast_to=GitSyncResults,
        )


class Capsules(_ParentRoutes):
    """``client.capsules``: capsules, their computations, releases and searches."""

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
