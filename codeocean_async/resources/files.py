"""Results and files: a computation's results and a data asset's files (listings, URLs,
downloads), as mixins of ``Computations`` and ``DataAssets``."""

from __future__ import annotations

from ._base import Resource

__all__ = ["ComputationResults", "DataAssetFiles"]


class ComputationResults(Resource):
    """The results routes of ``client.computations``."""


class DataAssetFiles(Resource):
    """The files routes of ``client.data_assets``."""
