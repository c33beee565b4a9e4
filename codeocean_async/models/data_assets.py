"""Data assets as the API returns them, and what creating or changing one sends."""

from __future__ import annotations

import attrs

from ._enums import OpenEnum

__all__ = ["DataAsset", "DataAssetState", "DataAssetType"]


class DataAssetState(OpenEnum):
    """Where a data asset is in its life: ``draft`` until its files are in, then ``ready``
    (or ``failed``, with a ``failure_reason``)."""

    DRAFT = "draft"
    READY = "ready"
    FAILED = "failed"


class DataAssetType(OpenEnum):
    """What a data asset holds."""

    DATASET = "dataset"
    RESULT = "result"
    COMBINED = "combined"
    MODEL = "model"


@attrs.frozen(kw_only=True)
class DataAsset:
    """A data asset (fields beyond these are ignored; missing optional ones are ``None``)."""

    id: str
    created: int
    name: str
    mount: str
    state: DataAssetState
    type: DataAssetType
    last_used: int | None = None
    owner: str | None = None
    owner_email: str | None = None
    description: str | None = None
    tags: tuple[str, ...] | None = None
    files: int | None = None
    size: int | None = None
    failure_reason: str | None = None

    @property
    def ready(self) -> bool:
        return self.state == DataAssetState.READY
