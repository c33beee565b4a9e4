"""What a run request sends: ``RunParams`` and its parts (``POST /computations``).

Each class checks its own fields when it is built, however it is built (keywords, ``from_json``,
a JSON lines file): strings where strings belong, IDs that could go into a URL, a whole-number
version. An error names the field (``data_assets[1].id must not be empty``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import attrs

from .._ids import check_id

__all__ = ["DataAssetsRunParam", "NamedRunParam", "PipelineProcessParams", "RunParams"]

T = TypeVar("T")


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _string(value: object, name: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {_kind(value)}")


def keywords_from(cls: type[Any], value: Mapping[Any, Any], what: str) -> dict[str, Any]:
    """A mapping's items as ``cls``'s keyword arguments; unknown or missing fields refused."""
    names = [f.name for f in attrs.fields(cls)]
    for key in value:
        if key not in names:
            raise ValueError(f"has an unknown field {key!r} ({what} has {', '.join(names)})")
    for field in attrs.fields(cls):
        if field.default is attrs.NOTHING and field.name not in value:
            raise ValueError(f"has no {field.name!r} ({what} has {', '.join(names)})")
    return dict(value)


_FIELD_AT_START = re.compile(r"^(\w+)[ .\[]")


def _each(
    field: str, values: Iterable[Any], make: Callable[[Any], T], cls: type[Any] | None = None
) -> tuple[T, ...]:
    """``make`` applied to each item; an error names the item (``field[i].name ...``)."""
    items = []
    names = set() if cls is None else {f.name for f in attrs.fields(cls)}
    for index, value in enumerate(values):
        try:
            items.append(make(value))
        except (TypeError, ValueError) as exc:
            text = str(exc)
            match = _FIELD_AT_START.match(text)
            joiner = "." if match and match.group(1) in names else " "
            raise type(exc)(f"{field}[{index}]{joiner}{text}") from None
    return tuple(items)


def _a_list(value: object, field: str, what: str) -> Iterable[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"{field} takes a list of {what}, not {_kind(value)}")
    return value


@attrs.frozen
class DataAssetsRunParam:
    """A data asset to attach to a run: ``DataAssetsRunParam("asset-id", mount="input")``.

    Without ``mount`` the asset is mounted where the capsule already expects it. Wherever a run
    takes data assets, ``"ID"``, ``"ID:MOUNT"`` and ``{"id": ..., "mount": ...}`` work too.
    """

    id: str
    mount: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        check_id(self.id, "id")
        _string(self.mount, "mount", optional=True)
        if self.mount is not None and not self.mount.strip():
            raise ValueError("mount must not be empty (leave it out for the capsule's own)")


@attrs.frozen
class NamedRunParam:
    """A named parameter: ``NamedRunParam("threshold", "0.5")``."""

    param_name: str
    value: str

    def __attrs_post_init__(self) -> None:
        _string(self.param_name, "param_name")
        _string(self.value, "value")


def _data_asset(value: object) -> DataAssetsRunParam:
    if isinstance(value, DataAssetsRunParam):
        return value
    if isinstance(value, str):
        asset_id, colon, mount = value.partition(":")
        return DataAssetsRunParam(asset_id, mount=mount if colon else None)
    if isinstance(value, Mapping):
        return DataAssetsRunParam(**keywords_from(DataAssetsRunParam, value, "a data asset"))
    raise TypeError(
        f"must be \"ID\", \"ID:MOUNT\", {{'id': ..., 'mount': ...}} or a DataAssetsRunParam, "
        f"not {_kind(value)}"
    )


def _data_assets(value: object) -> tuple[DataAssetsRunParam, ...] | None:
    if value is None:
        return None
    if isinstance(value, DataAssetsRunParam):
        raise TypeError("data_assets takes a list of data assets, not a single one")
    items = _a_list(value, "data_assets", 'data assets ("ID", "ID:MOUNT" or objects)')
    return _each("data_assets", items, _data_asset, DataAssetsRunParam)


def _one_string(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"must be a string, not {_kind(value)}")
    return value


def _strings(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError("parameters takes a list of strings, not a single string")
    items = _a_list(value, "parameters", "strings")
    return _each("parameters", items, _one_string)


def _named_param(value: object) -> NamedRunParam:
    if isinstance(value, NamedRunParam):
        return value
    if isinstance(value, Mapping):
        return NamedRunParam(**keywords_from(NamedRunParam, value, "a named parameter"))
    raise TypeError(
        f"must be a NamedRunParam or {{'param_name': ..., 'value': ...}}, not {_kind(value)}"
    )


def _named(value: object) -> tuple[NamedRunParam, ...] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):  # {"name": "value"}
        result = []
        for name, text in value.items():
            try:
                result.append(NamedRunParam(name, text))
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"named_parameters[{name!r}]: {exc}") from None
        return tuple(result)
    items = _a_list(value, "named_parameters", "named parameters (or a mapping)")
    return _each("named_parameters", items, _named_param, NamedRunParam)


@attrs.frozen
class PipelineProcessParams:
    """Parameters for one process (capsule) of a pipeline run, by its name in ``main.nf``."""

    name: str
    parameters: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_strings)
    named_parameters: tuple[NamedRunParam, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_named
    )

    def __attrs_post_init__(self) -> None:
        _string(self.name, "name")


def _process(value: object) -> PipelineProcessParams:
    if isinstance(value, PipelineProcessParams):
        return value
    if isinstance(value, Mapping):
        return PipelineProcessParams(**keywords_from(PipelineProcessParams, value, "a process"))
    raise TypeError(f"must be a PipelineProcessParams or an object, not {_kind(value)}")


def _processes(value: object) -> tuple[PipelineProcessParams, ...] | None:
    if value is None:
        return None
    items = _a_list(value, "processes", "processes")
    return _each("processes", items, _process, PipelineProcessParams)


@attrs.frozen(kw_only=True)
class RunParams:
    """A run request: a capsule (optionally a released ``version``) or a pipeline, with inputs.

    Exactly one of ``capsule_id`` and ``pipeline_id`` is required; ``processes`` apply to pipeline
    runs only. Lists may be given as any iterable; ``named_parameters`` also as a mapping
    ``{"name": "value"}``; data assets also as ``"ID"``, ``"ID:MOUNT"`` or ``{"id", "mount"}``.
    Every field is checked here (types, IDs), so a ``RunParams`` that exists can be sent.
    A ``RunParams`` round-trips through JSON with ``to_json`` / ``from_json``, so a batch can be
    prepared by one process and launched by another. Unset fields are left out of the request.

    Example::

        RunParams(capsule_id="4bc9...", data_assets=[DataAssetsRunParam("bf8c...", mount="in")])
    """

    capsule_id: str | None = None
    pipeline_id: str | None = None
    version: int | None = None
    resume_run_id: str | None = None
    nextflow_profile: str | None = None
    data_assets: tuple[DataAssetsRunParam, ...] | None = attrs.field(
        default=None, converter=_data_assets
    )
    parameters: tuple[str, ...] | None = attrs.field(default=None, converter=_strings)
    named_parameters: tuple[NamedRunParam, ...] | None = attrs.field(default=None, converter=_named)
    processes: tuple[PipelineProcessParams, ...] | None = attrs.field(
        default=None, converter=_processes
    )

    def __attrs_post_init__(self) -> None:
        for name in ("capsule_id", "pipeline_id", "resume_run_id"):
            value = getattr(self, name)
            if value is not None:
                check_id(value, name)
        _string(self.nextflow_profile, "nextflow_profile", optional=True)
        if (self.capsule_id is None) == (self.pipeline_id is None):
            raise ValueError("give exactly one of capsule_id and pipeline_id")
        if self.processes is not None and self.pipeline_id is None:
            raise ValueError("processes apply to pipeline runs: use pipeline_id, not capsule_id")
        if self.version is not None and (
            isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1
        ):
            raise ValueError(f"version must be a whole number >= 1, not {self.version!r}")

    @property
    def target_id(self) -> str:
        """The capsule or pipeline this run starts."""
        target = self.capsule_id if self.capsule_id is not None else self.pipeline_id
        assert target is not None  # guaranteed by __attrs_post_init__
        return target


def check_run_ids(params: RunParams) -> None:
    """Check the IDs of ``params`` again (``RunParams`` checks them when it is built)."""
    RunParams.__attrs_post_init__(params)
    for asset in params.data_assets or ():
        DataAssetsRunParam.__attrs_post_init__(asset)
