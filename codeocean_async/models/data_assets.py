"""Data assets as the API returns them: the asset, where it came from, and a search's page."""

from __future__ import annotations

from typing import Any

import attrs

from ._enums import OpenEnum

__all__ = [
    "AppParameter",
    "ContainedDataAsset",
    "DataAsset",
    "DataAssetOrigin",
    "DataAssetSearchResults",
    "DataAssetState",
    "DataAssetType",
    "Provenance",
    "SourceBucket",
]


class DataAssetState(OpenEnum):
    """Where a data asset is in its life: ``draft`` until its files are in, then ``ready``
    (or ``failed``, with a ``failure_reason``)."""

    DRAFT = "draft"
    READY = "ready"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        """Whether the asset can no longer change state (``ready`` or ``failed``)."""
        return self in _TERMINAL_STATES


_TERMINAL_STATES = frozenset({DataAssetState.READY, DataAssetState.FAILED})


class DataAssetType(OpenEnum):
    """What a data asset holds."""

    DATASET = "dataset"
    RESULT = "result"
    COMBINED = "combined"
    MODEL = "model"


class DataAssetOrigin(OpenEnum):
    """Where a data asset's files are kept: Code Ocean's own storage, S3 or Google Cloud."""

    LOCAL = "local"
    AWS = "aws"
    GCP = "gcp"


@attrs.frozen(kw_only=True)
class Provenance:
    """How a data asset was made: ``capsule`` or ``computation`` is set, per its source."""

    commit: str | None = None
    run_script: str | None = None
    docker_image: str | None = None
    capsule: str | None = None
    data_assets: tuple[str, ...] | None = None
    computation: str | None = None


@attrs.frozen(kw_only=True)
class SourceBucket:
    """The bucket a data asset's files live in (``external``: kept there, not copied in)."""

    origin: DataAssetOrigin
    bucket: str | None = None
    prefix: str | None = None
    external: bool | None = None


@attrs.frozen(kw_only=True)
class AppParameter:
    """A parameter of the run a result data asset came from."""

    name: str | None = None
    value: str | None = None


@attrs.frozen(kw_only=True)
class ContainedDataAsset:
    """One data asset inside a combined one."""

    id: str | None = None
    mount: str | None = None
    size: int | None = None


@attrs.frozen(kw_only=True)
class DataAsset:
    """A data asset: ``GET /data_assets/{id}`` (fields beyond these are ignored; missing
    optional ones are ``None``)."""

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
    provenance: Provenance | None = None
    source_bucket: SourceBucket | None = None
    #: The deployment's custom fields: strings, numbers, dates as epoch seconds.
    custom_metadata: dict[str, Any] | None = attrs.field(default=None, hash=False)
    app_parameters: tuple[AppParameter, ...] | None = None
    nextflow_profile: str | None = None
    contained_data_assets: tuple[ContainedDataAsset, ...] | None = None
    last_transferred: int | None = None
    transfer_error: str | None = None
    failure_reason: str | None = None

    @property
    def ready(self) -> bool:
        """Whether its files are in and it can be used."""
        return self.state == DataAssetState.READY

    @property
    def finished(self) -> bool:
        """Whether the state is terminal (``ready`` or ``failed``)."""
        return self.state.terminal


@attrs.frozen(kw_only=True)
class DataAssetSearchResults:
    """One page of ``POST /data_assets/search``: the next is asked for with ``next_token``."""

    has_more: bool
    results: tuple[DataAsset, ...] = ()
    next_token: str | None = None
