"""The attrs data classes of the API, by area; conversion rules live in ``_converter.py``."""

from .capsules import Article, Capsule, CapsuleStatus, OriginalCapsuleInfo, Submission, Version
from .computations import (
    Computation,
    ComputationEndStatus,
    ComputationState,
    InputDataAsset,
    Outcome,
    Param,
    PipelineProcess,
)
from .run_params import DataAssetsRunParam, NamedRunParam, PipelineProcessParams, RunParams

__all__ = [
    "Article",
    "Capsule",
    "CapsuleStatus",
    "Computation",
    "ComputationEndStatus",
    "ComputationState",
    "DataAssetsRunParam",
    "InputDataAsset",
    "NamedRunParam",
    "OriginalCapsuleInfo",
    "Outcome",
    "Param",
    "PipelineProcess",
    "PipelineProcessParams",
    "RunParams",
    "Submission",
    "Version",
]
