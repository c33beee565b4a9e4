"""Data asset routes: get, create, update, delete, archive, permissions, search, transfer, waits
and captures."""

from __future__ import annotations

from .._operations import operation
from ..models.data_assets import DataAsset
from .files import DataAssetFiles

__all__ = ["DataAssets"]


class DataAssets(DataAssetFiles):
    """``client.data_assets``: data assets and their files."""

    async def get(self, data_asset_id: str) -> DataAsset:
        """The data asset's metadata. ``GET /data_assets/{data_asset_id}``."""
        return await self._http.call(
            operation("data_assets.get"),
            path_params={"data_asset_id": data_asset_id},
            cast_to=DataAsset,
        )
