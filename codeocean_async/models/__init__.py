"""The attrs data classes of the API, by area; conversion rules live in ``_converter.py``."""

from .batch import (
    BatchCancelled,
    Event,
    Finished,
    Launched,
    LaunchFailed,
    LaunchOutcome,
    LaunchRetried,
    Relaunched,
    RunOutcome,
    StateChanged,
)
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
from .data_assets import DataAsset, DataAssetState, DataAssetType
from .run_params import DataAssetsRunParam, NamedRunParam, PipelineProcessParams, RunParams
from .shared import DownloadFileURL, FileURLs, Folder, FolderItem

__all__ = [
    "Article",
    "BatchCancelled",
    "Capsule",
    "CapsuleStatus",
    "Computation",
    "ComputationEndStatus",
    "ComputationState",
    "DataAsset",
    "DataAssetState",
    "DataAssetType",
    "DataAssetsRunParam",
    "DownloadFileURL",
    "Event",
    "FileURLs",
    "Finished",
    "Folder",
    "FolderItem",
    "InputDataAsset",
    "LaunchFailed",
    "LaunchOutcome",
    "LaunchRetried",
    "Launched",
    "NamedRunParam",
    "OriginalCapsuleInfo",
    "Outcome",
    "Param",
    "PipelineProcess",
    "PipelineProcessParams",
    "Relaunched",
    "RunOutcome",
    "RunParams",
    "StateChanged",
    "Submission",
    "Version",
]
