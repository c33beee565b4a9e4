"""Route tables by area: each method is one call into the pipeline, or a short delegation."""

from .capsules import Capsules, Pipelines
from .computations import Computations
from .custom_metadata import CustomMetadataRoutes
from .data_assets import DataAssets

__all__ = ["Capsules", "Computations", "CustomMetadataRoutes", "DataAssets", "Pipelines"]
