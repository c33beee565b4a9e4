"""A capsule's or pipeline's App Panel as the API returns it: its data assets, parameters,
categories, results and (for a pipeline) each process's own panel."""

from __future__ import annotations

import attrs

from ._enums import OpenEnum

__all__ = [
    "AppPanel",
    "AppPanelCategories",
    "AppPanelDataAsset",
    "AppPanelDataAssetKind",
    "AppPanelGeneral",
    "AppPanelParameterType",
    "AppPanelParameters",
    "AppPanelProcess",
    "AppPanelResult",
]


class AppPanelDataAssetKind(OpenEnum):
    """Where an App Panel data asset's files live."""

    INTERNAL = "internal"
    EXTERNAL = "external"
    COMBINED = "combined"


class AppPanelParameterType(OpenEnum):
    """How an App Panel parameter is entered."""

    TEXT = "text"
    LIST = "list"
    FILE = "file"


@attrs.frozen(kw_only=True)
class AppPanelGeneral:
    """The panel's title and the texts shown with it."""

    title: str | None = None
    instructions: str | None = None
    help_text: str | None = None


@attrs.frozen(kw_only=True)
class AppPanelDataAsset:
    """A data asset the panel offers (the ones attached to the capsule or pipeline)."""

    id: str
    mount: str
    name: str
    kind: AppPanelDataAssetKind | None = None
    accessible: bool | None = None
    description: str | None = None
    help_text: str | None = None


@attrs.frozen(kw_only=True)
class AppPanelCategories:
    """A group of parameters."""

    id: str
    name: str
    description: str | None = None
    help_text: str | None = None


@attrs.frozen(kw_only=True)
class AppPanelParameters:
    """One parameter of the panel (``param_name`` is what a named run parameter uses)."""

    name: str
    type: AppPanelParameterType | None = None
    category: str | None = None
    param_name: str | None = None
    description: str | None = None
    help_text: str | None = None
    value_type: str | None = None
    default_value: str | None = None
    required: bool | None = None
    hidden: bool | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    value_options: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class AppPanelResult:
    """A result file the panel shows."""

    file_name: str


@attrs.frozen(kw_only=True)
class AppPanelProcess:
    """One process of a pipeline and its own categories and parameters (lists, as the docs
    say; the official SDK reads a single object)."""

    name: str
    categories: tuple[AppPanelCategories, ...] | None = None
    parameters: tuple[AppPanelParameters, ...] | None = None


@attrs.frozen(kw_only=True)
class AppPanel:
    """``GET /capsules/{id}/app_panel`` (or ``/pipelines/...``): what the App Panel offers."""

    general: AppPanelGeneral | None = None
    data_assets: tuple[AppPanelDataAsset, ...] | None = None
    categories: tuple[AppPanelCategories, ...] | None = None
    parameters: tuple[AppPanelParameters, ...] | None = None
    results: tuple[AppPanelResult, ...] | None = None
    processes: tuple[AppPanelProcess, ...] | None = None
