"""``client.custom_metadata``: the deployment's custom metadata schema."""

from __future__ import annotations

from .._operations import operation
from ..models import CustomMetadata
from ._base import Resource

__all__ = ["CustomMetadataRoutes"]


class CustomMetadataRoutes(Resource):
    """``client.custom_metadata``: the fields an admin defined for data assets."""

    async def get(self) -> CustomMetadata:
        """The deployment's custom metadata fields and categories. ``GET /custom_metadata``
        (3.9)."""
        return await self._http.call(operation("custom_metadata.get"), cast_to=CustomMetadata)
