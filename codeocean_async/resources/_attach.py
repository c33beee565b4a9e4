"""Attaching and detaching data assets: the one implementation capsules, pipelines and cloud
workstations (computations) share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .._ids import check_id
from .._operations import Operation
from ..models.shared import DataAssetAttachParams, DataAssetAttachResults

if TYPE_CHECKING:
    from .._http import HTTPPipeline

__all__ = ["attach", "attach_params", "detach"]


def _one(value: object, index: int) -> DataAssetAttachParams:
    if isinstance(value, DataAssetAttachParams):
        params = value
    elif isinstance(value, str):
        asset_id, colon, mount = value.partition(":")
        if colon and not mount.strip():
            raise ValueError(f"data_assets[{index}]: {value!r} has an empty mount")
        params = DataAssetAttachParams(asset_id, mount=mount if colon else None)
    else:
        raise TypeError(
            f'data_assets[{index}] must be "ID", "ID:MOUNT" or a DataAssetAttachParams, '
            f"not {type(value).__name__}"
        )
    check_id(params.id, f"data_assets[{index}].id")
    return params


def attach_params(
    data_assets: Iterable[DataAssetAttachParams | str],
) -> list[DataAssetAttachParams]:
    """The data assets to attach, each checked: ``"ID"``, ``"ID:MOUNT"`` or a
    ``DataAssetAttachParams``; an empty list, or a single string, is refused."""
    if isinstance(data_assets, (str, bytes, Mapping, DataAssetAttachParams)):
        raise TypeError("data_assets takes a list of data assets, not a single one")
    items = [_one(value, index) for index, value in enumerate(data_assets)]
    if not items:
        raise ValueError("data_assets is empty: give at least one data asset to attach")
    return items


def _detach_ids(data_asset_ids: Iterable[str]) -> list[str]:
    if isinstance(data_asset_ids, (str, bytes, Mapping)):
        raise TypeError("data_asset_ids takes a list of IDs, not a single string")
    ids = [check_id(value, f"data_asset_ids[{i}]") for i, value in enumerate(data_asset_ids)]
    if not ids:
        raise ValueError("data_asset_ids is empty: give at least one data asset to detach")
    return ids


async def attach(
    http: HTTPPipeline,
    op: Operation,
    path_params: Mapping[str, str],
    data_assets: Iterable[DataAssetAttachParams | str],
) -> list[DataAssetAttachResults]:
    """``POST .../data_assets`` with the array ``[{id, mount}]``; what each attach did."""
    body = attach_params(data_assets)
    return await http.call(
        op, path_params=path_params, body=body, cast_to=list[DataAssetAttachResults]
    )


async def detach(
    http: HTTPPipeline,
    op: Operation,
    path_params: Mapping[str, str],
    data_asset_ids: Iterable[str],
) -> None:
    """``DELETE .../data_assets/`` (the trailing slash is the official SDK's) with a JSON array
    of IDs as its body; every ID is checked before anything is sent."""
    # Not resent once it may have arrived: a second detach of what the first detached fails.
    await http.call(op, path_params=path_params, body=_detach_ids(data_asset_ids), idempotent=False)
