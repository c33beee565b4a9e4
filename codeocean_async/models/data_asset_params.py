"""What creating, changing, searching and transferring a data asset sends (request models).

Each checks its own fields when built, so a bad combination (no source, two sources, a target
without a computation source) is refused with ``ValueError`` before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._enums import OpenEnum
from ._request import RequestModel, as_tuple, optional, optional_list
from .computations import Param, PipelineProcess
from .data_assets import DataAssetType
from .shared import Ownership, SearchFilter, SortOrder, search_limit

__all__ = [
    "AWSS3Source",
    "AWSS3Target",
    "CloudWorkstationSource",
    "ComputationSource",
    "DataAssetParams",
    "DataAssetSearchOrigin",
    "DataAssetSearchParams",
    "DataAssetSortBy",
    "DataAssetUpdateParams",
    "GCPCloudStorageSource",
    "ResultsInfo",
    "Source",
    "Target",
    "TransferDataParams",
]

_STR = attrs.validators.instance_of(str)


def _non_empty(what: str) -> Any:
    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{what}.{attribute.name} must be a non-empty string")

    return check


def _metadata(value: Any) -> Any:
    """Custom metadata as a plain dict of strings and numbers (``None`` stays)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"custom_metadata must be a mapping, not {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str) or isinstance(item, bool):
            raise TypeError("custom_metadata maps names to strings or numbers")
        if not isinstance(item, (str, int, float)):
            raise TypeError(f"custom_metadata[{key!r}] must be a string or a number")
    return dict(value)


def _tag_list(value: Any) -> Any:
    """A new data asset's tags: always sent, ``()`` for ``None``."""
    return () if value is None else _tags(value)


def _tags(value: Any) -> Any:
    if isinstance(value, str):
        raise TypeError("tags must be a list of strings, not one string")
    return tuple(value) if isinstance(value, (list, tuple)) else value


@attrs.frozen(kw_only=True)
class AWSS3Source(RequestModel):
    """An S3 bucket to make a data asset from. ``use_input_bucket`` (admins; 4.1): the
    deployment's input bucket, only ``prefix`` counts; ``endpoint_name`` (4.1): a named S3
    endpoint; ``keep_on_external_storage``: an external asset, not copied in."""

    bucket: str = attrs.field(validator=_STR)
    endpoint_name: str | None = attrs.field(default=None, validator=optional(str))
    prefix: str | None = attrs.field(default=None, validator=optional(str))
    keep_on_external_storage: bool | None = attrs.field(default=None, validator=optional(bool))
    public: bool | None = attrs.field(default=None, validator=optional(bool))
    use_input_bucket: bool | None = attrs.field(default=None, validator=optional(bool))


@attrs.frozen(kw_only=True)
class GCPCloudStorageSource(RequestModel):
    """A Google Cloud Storage bucket (the client secret is never shown in a repr)."""

    bucket: str = attrs.field(validator=_STR)
    client_id: str | None = attrs.field(default=None, validator=optional(str))
    client_secret: str | None = attrs.field(default=None, validator=optional(str), repr=False)
    prefix: str | None = attrs.field(default=None, validator=optional(str))


@attrs.frozen(kw_only=True)
class ComputationSource(RequestModel):
    """A computation's results (``path``: one folder of them; unset: all)."""

    id: str = attrs.field(validator=_non_empty("ComputationSource"))
    path: str | None = attrs.field(default=None, validator=optional(str))


@attrs.frozen(kw_only=True)
class CloudWorkstationSource(RequestModel):
    """A folder of a cloud workstation session (4.2); with ``run_script`` the asset is a
    ``result``."""

    id: str = attrs.field(validator=_non_empty("CloudWorkstationSource"))
    path: str = attrs.field(validator=_non_empty("CloudWorkstationSource"))
    run_script: str | None = attrs.field(default=None, validator=optional(str))


@attrs.frozen(kw_only=True)
class Source(RequestModel):
    """Where a new data asset's files come from: exactly one of the four."""

    aws: AWSS3Source | None = attrs.field(default=None, validator=optional(AWSS3Source))
    gcp: GCPCloudStorageSource | None = attrs.field(
        default=None, validator=optional(GCPCloudStorageSource)
    )
    computation: ComputationSource | None = attrs.field(
        default=None, validator=optional(ComputationSource)
    )
    cloud_workstation: CloudWorkstationSource | None = attrs.field(
        default=None, validator=optional(CloudWorkstationSource)
    )

    def __attrs_post_init__(self) -> None:
        given = [x for x in (self.aws, self.gcp, self.computation, self.cloud_workstation) if x]
        if len(given) != 1:
            raise ValueError(
                "a Source takes exactly one of aws, gcp, computation and cloud_workstation"
            )


@attrs.frozen(kw_only=True)
class AWSS3Target(RequestModel):
    """An S3 bucket to keep a data asset in."""

    bucket: str = attrs.field(validator=_STR)
    endpoint_name: str | None = attrs.field(default=None, validator=optional(str))
    prefix: str | None = attrs.field(default=None, validator=optional(str))


@attrs.frozen(kw_only=True)
class Target(RequestModel):
    """Where a data asset is kept (only with a computation source, or for a transfer)."""

    aws: AWSS3Target = attrs.field(validator=attrs.validators.instance_of(AWSS3Target))


@attrs.frozen(kw_only=True)
class ResultsInfo(RequestModel):
    """How the results in a data asset were made, for its provenance."""

    capsule_id: str | None = attrs.field(default=None, validator=optional(str))
    pipeline_id: str | None = attrs.field(default=None, validator=optional(str))
    version: int | None = attrs.field(default=None, validator=optional(int))
    commit: str | None = attrs.field(default=None, validator=optional(str))
    run_script: str | None = attrs.field(default=None, validator=optional(str))
    data_assets: tuple[str, ...] | None = attrs.field(
        default=None, converter=as_tuple, validator=optional_list(str)
    )
    parameters: tuple[Param, ...] | None = attrs.field(
        default=None, converter=as_tuple, validator=optional_list(Param)
    )
    nextflow_profile: str | None = attrs.field(default=None, validator=optional(str))
    processes: tuple[PipelineProcess, ...] | None = attrs.field(
        default=None, converter=as_tuple, validator=optional_list(PipelineProcess)
    )


@attrs.frozen(kw_only=True)
class DataAssetParams(RequestModel):
    """A data asset to create (``POST /data_assets``): a ``source``, or ``data_asset_ids``
    for a combined asset (3.1); ``target`` only with a computation source."""

    name: str = attrs.field(validator=_non_empty("DataAssetParams"))
    mount: str = attrs.field(validator=_non_empty("DataAssetParams"))
    #: Required, as in the API (always sent; ``[]`` for none).
    tags: tuple[str, ...] = attrs.field(converter=_tag_list, validator=optional_list(str))
    description: str | None = attrs.field(default=None, validator=optional(str))
    source: Source | None = attrs.field(default=None, validator=optional(Source))
    target: Target | None = attrs.field(default=None, validator=optional(Target))
    custom_metadata: dict[str, Any] | None = attrs.field(
        default=None, converter=_metadata, hash=False
    )
    data_asset_ids: tuple[str, ...] | None = attrs.field(
        default=None, converter=as_tuple, validator=optional_list(str)
    )
    results_info: ResultsInfo | None = attrs.field(default=None, validator=optional(ResultsInfo))

    def __attrs_post_init__(self) -> None:
        if self.source is None and self.data_asset_ids is None:
            raise ValueError("give a source, or data_asset_ids for a combined data asset")
        if self.source is not None and self.data_asset_ids is not None:
            raise ValueError("give a source or data_asset_ids (a combined asset), not both")
        if self.data_asset_ids is not None and not self.data_asset_ids:
            raise ValueError("data_asset_ids must name at least one data asset")
        if self.target is not None and (self.source is None or self.source.computation is None):
            raise ValueError("a target is only valid with a computation source")


@attrs.frozen(kw_only=True)
class DataAssetUpdateParams(RequestModel):
    """New metadata for a data asset (``PUT /data_assets/{id}``): unset fields stay as they
    are (they are not sent)."""

    name: str | None = attrs.field(default=None, validator=optional(str))
    description: str | None = attrs.field(default=None, validator=optional(str))
    tags: tuple[str, ...] | None = attrs.field(
        default=None, converter=_tags, validator=optional_list(str)
    )
    mount: str | None = attrs.field(default=None, validator=optional(str))
    custom_metadata: dict[str, Any] | None = attrs.field(
        default=None, converter=_metadata, hash=False
    )


class DataAssetSortBy(OpenEnum):
    """What a data asset search sorts by (``created`` by default)."""

    CREATED = "created"
    TYPE = "type"
    NAME = "name"
    SIZE = "size"


class DataAssetSearchOrigin(OpenEnum):
    """Internal (kept by Code Ocean) or external (kept in a bucket) data assets."""

    INTERNAL = "internal"
    EXTERNAL = "external"


@attrs.frozen(kw_only=True)
class DataAssetSearchParams(RequestModel):
    """A data asset search (``POST /data_assets/search``). ``query``: free text, or fields
    ``name:``, ``tag:``, ``run_script:``, ``commit_id:``, ``contained_data_id:``; ``limit``: the
    page size, 1 to 1000 (the server's default is 100)."""

    query: str | None = attrs.field(default=None, validator=optional(str))
    next_token: str | None = attrs.field(default=None, validator=optional(str))
    offset: int | None = attrs.field(default=None, validator=optional(int))
    limit: int | None = attrs.field(default=None, validator=search_limit)
    sort_field: DataAssetSortBy | None = attrs.field(
        default=None, converter=attrs.converters.optional(DataAssetSortBy)
    )
    sort_order: SortOrder | None = attrs.field(
        default=None, converter=attrs.converters.optional(SortOrder)
    )
    type: DataAssetType | None = attrs.field(
        default=None, converter=attrs.converters.optional(DataAssetType)
    )
    ownership: Ownership | None = attrs.field(
        default=None, converter=attrs.converters.optional(Ownership)
    )
    origin: DataAssetSearchOrigin | None = attrs.field(
        default=None, converter=attrs.converters.optional(DataAssetSearchOrigin)
    )
    favorite: bool | None = attrs.field(default=None, validator=optional(bool))
    archived: bool | None = attrs.field(default=None, validator=optional(bool))
    filters: tuple[SearchFilter, ...] | None = attrs.field(
        default=None, converter=as_tuple, validator=optional_list(SearchFilter)
    )


@attrs.frozen(kw_only=True)
class TransferDataParams(RequestModel):
    """Where to move a data asset's files (admins): ``force`` when release pipelines use it."""

    target: Target = attrs.field(validator=attrs.validators.instance_of(Target))
    force: bool | None = attrs.field(default=None, validator=optional(bool))
