"""What a run request sends: ``RunParams`` and its parts (``POST /computations``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

__all__ = ["DataAssetsRunParam", "NamedRunParam", "PipelineProcessParams", "RunParams"]


@attrs.frozen
class DataAssetsRunParam:
    """A data asset to attach to a run: ``DataAssetsRunParam("asset-id", mount="input")``.

    Without ``mount`` the asset is mounted where the capsule already expects it.
    """

    id: str
    mount: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class NamedRunParam:
    """A named parameter: ``NamedRunParam("threshold", "0.5")``."""

    param_name: str
    value: str


def _data_assets(
    value: Iterable[DataAssetsRunParam | str] | None,
) -> tuple[DataAssetsRunParam, ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, DataAssetsRunParam)):
        raise TypeError("data_assets takes a list of data assets, not a single one")
    return tuple(DataAssetsRunParam(v) if isinstance(v, str) else v for v in value)


def _strings(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError("parameters takes a list of strings, not a single string")
    return tuple(value)


def _named(
    value: Mapping[str, str] | Iterable[NamedRunParam] | None,
) -> tuple[NamedRunParam, ...] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return tuple(NamedRunParam(k, v) for k, v in value.items())
    return tuple(value)


@attrs.frozen
class PipelineProcessParams:
    """Parameters for one process (capsule) of a pipeline run, by its name in ``main.nf``."""

    name: str
    parameters: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_strings)
    named_parameters: tuple[NamedRunParam, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_named
    )


def _processes(
    value: Iterable[PipelineProcessParams] | None,
) -> tuple[PipelineProcessParams, ...] | None:
    return None if value is None else tuple(value)


@attrs.frozen(kw_only=True)
class RunParams:
    """A run request: a capsule (optionally a released ``version``) or a pipeline, with inputs.

    Exactly one of ``capsule_id`` and ``pipeline_id`` is required; ``processes`` apply to pipeline
    runs only. Lists may be given as any iterable; ``named_parameters`` also as a mapping.
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
