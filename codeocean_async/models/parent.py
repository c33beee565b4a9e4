"""Whose computation list a run appears in: a capsule or a pipeline, and its route.

The one place that chooses between the ``capsules`` and ``pipelines`` routes: a run spec, a
caller's ``capsule_id=``/``pipeline_id=`` and the fan-out's list requests all come through here.
"""

from __future__ import annotations

from typing import Literal

import attrs

from .run_params import RunParams

__all__ = ["Parent", "ParentKind"]

#: The two kinds of parent, named as their routes are (``/capsules``, ``/pipelines``).
ParentKind = Literal["capsules", "pipelines"]


@attrs.frozen
class Parent:
    """A capsule or a pipeline, by ``kind`` (its route) and ``id``."""

    kind: ParentKind
    id: str

    @property
    def id_name(self) -> str:
        """The path parameter's name: ``capsule_id`` or ``pipeline_id`` (errors name it)."""
        return "pipeline_id" if self.kind == "pipelines" else "capsule_id"

    @property
    def route(self) -> str:
        """The route template of this parent, e.g. ``capsules/{capsule_id}``."""
        return f"{self.kind}/{{{self.id_name}}}"

    @property
    def path_params(self) -> dict[str, str]:
        """The route's path parameters (the pipeline checks the ID before anything is sent)."""
        return {self.id_name: self.id}

    @classmethod
    def given(cls, *, capsule_id: str | None, pipeline_id: str | None) -> Parent | None:
        """The parent named by at most one of ``capsule_id`` and ``pipeline_id``."""
        if capsule_id is not None and pipeline_id is not None:
            raise ValueError("give capsule_id or pipeline_id, not both")
        if pipeline_id is not None:
            return cls("pipelines", pipeline_id)
        return None if capsule_id is None else cls("capsules", capsule_id)

    @classmethod
    def of(cls, params: RunParams) -> Parent:
        """The capsule or pipeline a run of ``params`` starts."""
        parent = cls.given(capsule_id=params.capsule_id, pipeline_id=params.pipeline_id)
        assert parent is not None  # a RunParams names exactly one
        return parent
