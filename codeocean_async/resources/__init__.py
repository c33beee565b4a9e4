"""Route tables by area: each method maps to one HTTP call through the request pipeline."""

from .capsules import Capsules, Pipelines
from .computations import Computations

__all__ = ["Capsules", "Computations", "Pipelines"]
