"""The data asset routes: get, create, update, delete, archive, permissions, search, transfer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeVar

import attrs

from .._capture import create_data_asset
from .._operations import operation
from .._pages import Pages
from ..models import (
    DataAsset,
    DataAssetParams,
    DataAssetSearchParams,
    DataAssetSearchResults,
    DataAssetUpdateParams,
    TransferDataParams,
)
from ..models.shared import Permissions
from .files import DataAssetFiles

__all__ = ["DataAssetRoutes", "params_of"]

P = TypeVar("P")


def params_of(cls: type[P], params: P | None, fields: dict[str, Any]) -> P:
    """``params`` (a ``cls``), or one built from ``fields``; both at once is a ``ValueError``."""
    if params is None:
        return cls(**fields)
    if not isinstance(params, cls):
        raise TypeError(f"params must be a {cls.__name__}, not {type(params).__name__}")
    if fields:
        raise ValueError(f"pass either a {cls.__name__} or keyword arguments, not both")
    return params


def _path(data_asset_id: str) -> dict[str, str]:
    return {"data_asset_id": data_asset_id}


class DataAssetRoutes(DataAssetFiles):
    """The plain routes of ``client.data_assets`` (each one request)."""

    async def get(self, data_asset_id: str) -> DataAsset:
        """The data asset's metadata. ``GET /data_assets/{data_asset_id}``."""
        return await self._http.call(
            operation("data_assets.get"), path_params=_path(data_asset_id), cast_to=DataAsset
        )

    async def create(self, params: DataAssetParams) -> DataAsset:
        """Create a data asset from its ``source`` (S3, GCS, a computation's results, a cloud
        workstation) or combine existing ones (``data_asset_ids``); it is returned ``draft``
        (see ``wait_until_ready``). ``POST /data_assets``.

        The request asks for the server version its fields need (3.1 for a combined asset,
        4.1 for an S3 ``endpoint_name`` or ``use_input_bucket``, 4.2 for a cloud workstation).
        It is never resent once it may have reached the server: when it may or may not have
        created the asset, ``LaunchUncertainError`` is raised (``capture`` can reconcile).
        """
        if not isinstance(params, DataAssetParams):
            raise TypeError(f"params must be a DataAssetParams, not {type(params).__name__}")
        return await create_data_asset(self._http, params, ledger=self._bound.ledger)

    async def update_metadata(
        self, data_asset_id: str, params: DataAssetUpdateParams | None = None, **fields: Any
    ) -> DataAsset:
        """Change the name, description, tags, mount or custom metadata (fields not given stay
        as they are). ``PUT /data_assets/{data_asset_id}``."""
        params = params_of(DataAssetUpdateParams, params, fields)
        if params == DataAssetUpdateParams():
            raise ValueError("nothing to update: give at least one field")
        return await self._http.call(
            operation("data_assets.update_metadata"),
            path_params=_path(data_asset_id),
            body=params,
            cast_to=DataAsset,
        )

    async def delete(self, data_asset_id: str) -> None:
        """Delete the data asset. ``DELETE /data_assets/{data_asset_id}``."""
        await self._http.call(operation("data_assets.delete"), path_params=_path(data_asset_id))

    async def archive(self, data_asset_id: str) -> None:
        """Archive the data asset. ``PATCH /data_assets/{data_asset_id}/archive?archive=true``."""
        await self._archive(data_asset_id, archive=True)

    async def unarchive(self, data_asset_id: str) -> None:
        """Take it out of the archive. ``PATCH .../archive?archive=false``."""
        await self._archive(data_asset_id, archive=False)

    async def _archive(self, data_asset_id: str, *, archive: bool) -> None:
        await self._http.call(
            operation("data_assets.archive"),
            path_params=_path(data_asset_id),
            params={"archive": "true" if archive else "false"},
        )

    async def get_permissions(self, data_asset_id: str) -> Permissions:
        """Who may do what with it. ``GET /data_assets/{data_asset_id}/permissions`` (4.3)."""
        return await self._http.call(
            operation("data_assets.get_permissions"),
            path_params=_path(data_asset_id),
            cast_to=Permissions,
        )

    async def update_permissions(self, data_asset_id: str, permissions: Permissions) -> None:
        """Set who may do what with it. ``POST /data_assets/{data_asset_id}/permissions``."""
        if not isinstance(permissions, Permissions):
            raise TypeError(f"permissions must be Permissions, not {type(permissions).__name__}")
        await self._http.call(
            operation("data_assets.update_permissions"),
            path_params=_path(data_asset_id),
            body=permissions,
            idempotent=True,  # setting the same permissions twice is the same
        )

    async def search(
        self, params: DataAssetSearchParams | None = None, **fields: Any
    ) -> DataAssetSearchResults:
        """One page of a data asset search (``limit`` 1 to 1000). ``POST /data_assets/search``."""
        return await self._search(params_of(DataAssetSearchParams, params, fields))

    def iter_search(
        self, params: DataAssetSearchParams | None = None, **fields: Any
    ) -> AsyncIterator[DataAsset]:
        """Every data asset the search finds, page after page (``next_token``)::

        async for asset in client.data_assets.iter_search(query="tag:mouse", limit=1000):
            ...
        """
        first = params_of(DataAssetSearchParams, params, fields)

        async def page(token: str | None) -> DataAssetSearchResults:
            query = first if token is None else attrs.evolve(first, next_token=token)
            return await self._search(query)

        return Pages(page, what="data asset search")

    async def _search(self, params: DataAssetSearchParams) -> DataAssetSearchResults:
        return await self._http.call(
            operation("data_assets.search"),
            body=params,
            cast_to=DataAssetSearchResults,
            idempotent=True,  # a search only reads
        )

    async def transfer(self, data_asset_id: str, params: TransferDataParams) -> None:
        """Move its files to ``params.target`` (admins only; ``force`` when release pipelines
        use it). ``POST /data_assets/{data_asset_id}/transfer``."""
        if not isinstance(params, TransferDataParams):
            raise TypeError(f"params must be TransferDataParams, not {type(params).__name__}")
        await self._http.call(
            operation("data_assets.transfer"), path_params=_path(data_asset_id), body=params
        )
